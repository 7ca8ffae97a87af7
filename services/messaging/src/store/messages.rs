//! Messages: writing them (one statement per batch), edits and deletes,
//! and reading them by position.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use crate::domain::{ConversationId, MediaId, MessageId};

use super::MessageRow;
use super::entities::{self, messages};

/// Messages up to `up_to` changed after change number `after`, in change order.
pub async fn changed_since(
    db: &impl ConnectionTrait,
    conversation: ConversationId,
    after: i64,
    up_to: i64,
) -> Result<Vec<MessageRow>, DbErr> {
    messages::Entity::find()
        .filter(messages::Column::ConversationId.eq(conversation))
        .filter(messages::Column::ChangedSeq.gt(after))
        .filter(messages::Column::Seq.lte(up_to))
        .order_by_asc(messages::Column::ChangedSeq)
        .all(db)
        .await
}

pub async fn insert_message(
    db: &impl ConnectionTrait,
    row: MessageRow,
) -> Result<MessageRow, DbErr> {
    active(row).insert(db).await
}

/// Whether a message of `conversation` other than `except` that is not
/// deleted still carries `media` (forwarded within the conversation).
pub async fn still_attached(
    db: &impl ConnectionTrait,
    conversation: ConversationId,
    except: MessageId,
    media: MediaId,
) -> Result<bool, DbErr> {
    Ok(messages::Entity::find()
        .filter(messages::Column::ConversationId.eq(conversation))
        .filter(messages::Column::Id.ne(except))
        .filter(messages::Column::Deleted.eq(false))
        .filter(messages::Column::Attachments.contains(media.to_string()))
        .one(db)
        .await?
        .is_some())
}

/// Writes `rows` with one statement.
pub async fn insert_messages(db: &impl ConnectionTrait, rows: &[MessageRow]) -> Result<(), DbErr> {
    if db.get_database_backend() == sea_orm::DatabaseBackend::Postgres
        && rows.iter().all(|row| row.edited_at.is_none())
    {
        return insert_new_pg(db, rows).await;
    }
    messages::Entity::insert_many(rows.iter().cloned().map(active))
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// PostgreSQL, messages never edited: one array per column, so the
/// statement's text is the same for any batch (prepared once per
/// connection, where a `VALUES` list is parsed and planned again for every
/// batch size). An array cannot hold NULL here, so the original text goes
/// as '' and is kept only for masked messages.
async fn insert_new_pg(db: &impl ConnectionTrait, rows: &[MessageRow]) -> Result<(), DbErr> {
    use sea_orm::{DatabaseBackend, Statement, Value};
    fn column<T>(rows: &[MessageRow], f: impl Fn(&MessageRow) -> T) -> Vec<T> {
        rows.iter().map(f).collect()
    }
    db.execute_raw(Statement::from_sql_and_values(
        DatabaseBackend::Postgres,
        "INSERT INTO messages (id, conversation_id, seq, sender_id, client_message_id, text, \
         created_at, kind, reply_to_seq, attachments, deleted, masked, original_text, \
         system_code, changed_seq) \
         SELECT id, conversation_id, seq, sender_id, client_message_id, text, created_at, kind, \
         reply_to_seq, attachments, deleted, masked, CASE WHEN masked THEN original END, \
         system_code, changed_seq \
         FROM unnest($1::uuid[], $2::uuid[], $3::int8[], $4::uuid[], $5::text[], $6::text[], \
         $7::timestamptz[], $8::text[], $9::int8[], $10::text[], $11::bool[], $12::bool[], \
         $13::text[], $14::text[], $15::int8[]) \
         AS m(id, conversation_id, seq, sender_id, client_message_id, text, created_at, kind, \
         reply_to_seq, attachments, deleted, masked, original, system_code, changed_seq)",
        [
            Value::from(column(rows, |r| r.id)),
            Value::from(column(rows, |r| r.conversation_id)),
            Value::from(column(rows, |r| r.seq)),
            Value::from(column(rows, |r| r.sender_id)),
            Value::from(column(rows, |r| r.client_message_id.clone())),
            Value::from(column(rows, |r| r.text.clone())),
            Value::from(column(rows, |r| r.created_at)),
            Value::from(column(rows, |r| r.kind.clone())),
            Value::from(column(rows, |r| r.reply_to_seq)),
            Value::from(column(rows, |r| r.attachments.clone())),
            Value::from(column(rows, |r| r.deleted)),
            Value::from(column(rows, |r| r.masked)),
            Value::from(column(rows, |r| {
                r.original_text.clone().unwrap_or_default()
            })),
            Value::from(column(rows, |r| r.system_code.clone())),
            Value::from(column(rows, |r| r.changed_seq)),
        ],
    ))
    .await?;
    Ok(())
}

/// Every column of `row`, to be written.
fn active(row: MessageRow) -> messages::ActiveModel {
    messages::ActiveModel {
        id: Set(row.id),
        conversation_id: Set(row.conversation_id),
        seq: Set(row.seq),
        sender_id: Set(row.sender_id),
        client_message_id: Set(row.client_message_id),
        text: Set(row.text),
        created_at: Set(row.created_at),
        kind: Set(row.kind),
        reply_to_seq: Set(row.reply_to_seq),
        attachments: Set(row.attachments),
        edited_at: Set(row.edited_at),
        deleted: Set(row.deleted),
        masked: Set(row.masked),
        original_text: Set(row.original_text),
        system_code: Set(row.system_code),
        changed_seq: Set(row.changed_seq),
    }
}

/// Stores a message's new state (edit or delete).
pub async fn update_message(
    db: &impl ConnectionTrait,
    row: MessageRow,
) -> Result<MessageRow, DbErr> {
    let mut active = active(row);
    active.id = sea_orm::ActiveValue::Unchanged(active.id.take().unwrap_or_default());
    active.update(db).await
}

pub async fn insert_edit(
    db: &impl ConnectionTrait,
    message: MessageId,
    text: String,
    replaced_at: DateTime<Utc>,
) -> Result<(), DbErr> {
    entities::message_edits::ActiveModel {
        id: Set(Uuid::now_v7()),
        message_id: Set(message.0),
        text: Set(text),
        replaced_at: Set(replaced_at),
    }
    .insert(db)
    .await?;
    Ok(())
}

/// The earlier texts of a message, oldest first.
pub async fn edits_of(
    db: &impl ConnectionTrait,
    message: MessageId,
) -> Result<Vec<entities::message_edits::Model>, DbErr> {
    entities::message_edits::Entity::find()
        .filter(entities::message_edits::Column::MessageId.eq(message))
        .order_by_asc(entities::message_edits::Column::Id)
        .all(db)
        .await
}

pub async fn delete_edits(db: &impl ConnectionTrait, message: MessageId) -> Result<(), DbErr> {
    entities::message_edits::Entity::delete_many()
        .filter(entities::message_edits::Column::MessageId.eq(message))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn find_by_client_id(
    db: &impl ConnectionTrait,
    conversation: ConversationId,
    sender: Uuid,
    client_message_id: &str,
) -> Result<Option<MessageRow>, DbErr> {
    messages::Entity::find()
        .filter(messages::Column::ConversationId.eq(conversation))
        .filter(messages::Column::SenderId.eq(sender))
        .filter(messages::Column::ClientMessageId.eq(client_message_id))
        .one(db)
        .await
}

/// Messages of a conversation with `after < seq < before`, oldest first
/// (`newest_first` flips the order and takes the newest `limit`).
pub async fn messages_between(
    db: &impl ConnectionTrait,
    conversation: ConversationId,
    after: i64,
    before: Option<i64>,
    newest_first: bool,
    limit: u64,
) -> Result<Vec<MessageRow>, DbErr> {
    let mut query = messages::Entity::find()
        .filter(messages::Column::ConversationId.eq(conversation))
        .filter(messages::Column::Seq.gt(after));
    if let Some(before) = before {
        query = query.filter(messages::Column::Seq.lt(before));
    }
    let query = if newest_first {
        query.order_by_desc(messages::Column::Seq)
    } else {
        query.order_by_asc(messages::Column::Seq)
    };
    query.limit(limit).all(db).await
}

pub async fn message_at(
    db: &impl ConnectionTrait,
    conversation: ConversationId,
    seq: i64,
) -> Result<Option<MessageRow>, DbErr> {
    messages::Entity::find()
        .filter(messages::Column::ConversationId.eq(conversation))
        .filter(messages::Column::Seq.eq(seq))
        .one(db)
        .await
}
