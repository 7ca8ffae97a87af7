//! Messaging persistence: conversations, their members with read
//! positions, and messages numbered per conversation at commit.

pub mod contacts;
pub mod entities;
pub mod feed;
pub mod media;
pub mod migration;
mod migration_features;
mod migration_search_pending;
mod migration_thumbnails;
pub mod notes;
pub mod safety;
pub mod search;
pub mod sending;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

pub use entities::conversations::Model as ConversationRow;
pub use entities::members::Model as MemberRow;
pub use entities::messages::Model as MessageRow;
use entities::{conversations, members, messages};
pub use migration::Migrator;

/// A conversation about to be made.
pub struct NewConversation<'a> {
    pub kind: &'a str,
    pub direct_key: Option<String>,
    pub contract_id: Option<Uuid>,
    pub title: String,
    pub members: &'a [Uuid],
    /// Members who administer a group.
    pub admins: &'a [Uuid],
}

pub async fn insert_conversation(
    db: &impl ConnectionTrait,
    new: NewConversation<'_>,
    now: DateTime<Utc>,
) -> Result<ConversationRow, DbErr> {
    let row = conversations::ActiveModel {
        id: Set(Uuid::now_v7()),
        kind: Set(new.kind.to_owned()),
        direct_key: Set(new.direct_key),
        contract_id: Set(new.contract_id),
        title: Set(new.title),
        last_seq: Set(0),
        created_at: Set(now),
        last_activity_at: Set(now),
        change_seq: Set(0),
    }
    .insert(db)
    .await?;
    for account in new.members {
        add_member(db, row.id, *account, new.admins.contains(account), 0, now).await?;
    }
    Ok(row)
}

/// Adds a member who starts reading at `read_from` (a new group member has
/// the history but no unread backlog).
pub async fn add_member(
    db: &impl ConnectionTrait,
    conversation: Uuid,
    account: Uuid,
    admin: bool,
    read_from: i64,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    members::ActiveModel {
        conversation_id: Set(conversation),
        account_id: Set(account),
        last_read_seq: Set(read_from),
        joined_at: Set(now),
        admin: Set(admin),
        archived: Set(false),
        muted: Set(false),
    }
    .insert(db)
    .await?;
    Ok(())
}

pub async fn remove_member(
    db: &impl ConnectionTrait,
    conversation: Uuid,
    account: Uuid,
) -> Result<(), DbErr> {
    members::Entity::delete_by_id((conversation, account))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn set_admin(
    db: &impl ConnectionTrait,
    conversation: Uuid,
    account: Uuid,
    admin: bool,
) -> Result<(), DbErr> {
    members::Entity::update_many()
        .col_expr(members::Column::Admin, Expr::value(admin))
        .filter(members::Column::ConversationId.eq(conversation))
        .filter(members::Column::AccountId.eq(account))
        .exec(db)
        .await?;
    Ok(())
}

/// A member's own archive and mute settings (`None` keeps a setting).
pub async fn set_settings(
    db: &impl ConnectionTrait,
    conversation: Uuid,
    account: Uuid,
    archived: Option<bool>,
    muted: Option<bool>,
) -> Result<(), DbErr> {
    let mut update = members::Entity::update_many()
        .filter(members::Column::ConversationId.eq(conversation))
        .filter(members::Column::AccountId.eq(account));
    if archived.is_none() && muted.is_none() {
        return Ok(());
    }
    if let Some(archived) = archived {
        update = update.col_expr(members::Column::Archived, Expr::value(archived));
    }
    if let Some(muted) = muted {
        update = update.col_expr(members::Column::Muted, Expr::value(muted));
    }
    update.exec(db).await?;
    Ok(())
}

/// A new message brings an archived conversation back for everyone.
pub async fn unarchive_all(db: &impl ConnectionTrait, conversation: Uuid) -> Result<(), DbErr> {
    members::Entity::update_many()
        .col_expr(members::Column::Archived, Expr::value(false))
        .filter(members::Column::ConversationId.eq(conversation))
        .filter(members::Column::Archived.eq(true))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn find_conversation(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<ConversationRow>, DbErr> {
    conversations::Entity::find_by_id(id).one(db).await
}

pub async fn find_by_direct_key(
    db: &impl ConnectionTrait,
    key: &str,
) -> Result<Option<ConversationRow>, DbErr> {
    conversations::Entity::find()
        .filter(conversations::Column::DirectKey.eq(key))
        .one(db)
        .await
}

pub async fn find_by_contract(
    db: &impl ConnectionTrait,
    contract: Uuid,
) -> Result<Option<ConversationRow>, DbErr> {
    conversations::Entity::find()
        .filter(conversations::Column::ContractId.eq(contract))
        .one(db)
        .await
}

pub async fn find_member(
    db: &impl ConnectionTrait,
    conversation: Uuid,
    account: Uuid,
) -> Result<Option<MemberRow>, DbErr> {
    members::Entity::find_by_id((conversation, account))
        .one(db)
        .await
}

pub async fn members_of(
    db: &impl ConnectionTrait,
    conversations: Vec<Uuid>,
) -> Result<Vec<MemberRow>, DbErr> {
    members::Entity::find()
        .filter(members::Column::ConversationId.is_in(conversations))
        .all(db)
        .await
}

/// The account ids of a conversation's members.
pub async fn member_ids(db: &impl ConnectionTrait, conversation: Uuid) -> Result<Vec<Uuid>, DbErr> {
    Ok(members_of(db, vec![conversation])
        .await?
        .into_iter()
        .map(|m| m.account_id)
        .collect())
}

/// The caller's memberships with their conversations, most recent first
/// (archived ones or the others).
pub async fn list_for_member(
    db: &impl ConnectionTrait,
    account: Uuid,
    archived: bool,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: u64,
) -> Result<Vec<ConversationRow>, DbErr> {
    // A subquery, not the memberships as parameters: an account may be in
    // more conversations than a statement may carry.
    let mine = sea_orm::sea_query::Query::select()
        .column(members::Column::ConversationId)
        .from(members::Entity)
        .and_where(members::Column::AccountId.eq(account))
        .and_where(members::Column::Archived.eq(archived))
        .to_owned();
    let mut query =
        conversations::Entity::find().filter(conversations::Column::Id.in_subquery(mine));
    if let Some((at, id)) = after {
        query = query.filter(
            sea_orm::Condition::any()
                .add(conversations::Column::LastActivityAt.lt(at))
                .add(
                    sea_orm::Condition::all()
                        .add(conversations::Column::LastActivityAt.eq(at))
                        .add(conversations::Column::Id.lt(id)),
                ),
        );
    }
    query
        .order_by_desc(conversations::Column::LastActivityAt)
        .order_by_desc(conversations::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// Takes the next sequence number of a conversation (locking its row until
/// the transaction ends, so numbers follow commit order), in one statement.
pub async fn next_seq(
    db: &impl ConnectionTrait,
    conversation: Uuid,
    now: DateTime<Utc>,
) -> Result<i64, DbErr> {
    next_seqs(db, conversation, 1, now).await
}

/// Takes the next sequences of several conversations in one statement
/// (`counts`: conversation, how many) and answers each one's last. On
/// PostgreSQL the rows are locked in id order first, so two transactions
/// taking sequences of the same conversations never wait on each other in a
/// cycle.
pub async fn take_seqs(
    db: &impl ConnectionTrait,
    counts: &[(Uuid, i64)],
    now: DateTime<Utc>,
) -> Result<Vec<(Uuid, i64)>, DbErr> {
    use sea_orm::{DatabaseBackend, Statement, Value};
    let backend = db.get_database_backend();
    if backend == DatabaseBackend::Postgres {
        return take_seqs_pg(db, counts, now).await;
    }
    // SQLite: one UPDATE with a CASE per conversation (a writer there
    // holds the whole database, so no row locks to order).
    let mark = |n: usize| format!("?{n}");
    let mut values: Vec<Value> = vec![now.into()];
    let (mut cases, mut ids) = (String::new(), Vec::new());
    for (conversation, count) in counts {
        values.push((*conversation).into());
        let id = mark(values.len());
        values.push((*count).into());
        cases.push_str(&format!(" WHEN {id} THEN {}", mark(values.len())));
        ids.push(id);
    }
    let ids = ids.join(", ");
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            backend,
            format!(
                "UPDATE conversations SET last_seq = last_seq + CASE id{cases} END, \
                 last_activity_at = {} WHERE id IN ({ids}) RETURNING id, last_seq",
                mark(1)
            ),
            values,
        ))
        .await?;
    rows.iter()
        .map(|row| Ok((row.try_get("", "id")?, row.try_get("", "last_seq")?)))
        .collect()
}

/// `take_seqs` on PostgreSQL, in one statement taking arrays (its text is
/// the same for any batch). The `locked` CTE takes the rows in id order, so
/// two batches (or replicas) never wait on each other in a cycle; the
/// UPDATE only touches rows `locked` has already returned, so it takes no
/// lock of its own in any other order.
async fn take_seqs_pg(
    db: &impl ConnectionTrait,
    counts: &[(Uuid, i64)],
    now: DateTime<Utc>,
) -> Result<Vec<(Uuid, i64)>, DbErr> {
    use sea_orm::{DatabaseBackend, Statement, Value};
    let ids: Vec<Uuid> = counts.iter().map(|(id, _)| *id).collect();
    let adds: Vec<i64> = counts.iter().map(|(_, n)| *n).collect();
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            "WITH locked AS MATERIALIZED \
               (SELECT id FROM conversations WHERE id = ANY($1) ORDER BY id FOR UPDATE) \
             UPDATE conversations c SET last_seq = c.last_seq + t.n, last_activity_at = $3 \
             FROM unnest($1::uuid[], $2::int8[]) AS t(id, n) \
             WHERE c.id = t.id AND c.id IN (SELECT id FROM locked) \
             RETURNING c.id, c.last_seq",
            [Value::from(ids), Value::from(adds), now.into()],
        ))
        .await?;
    rows.iter()
        .map(|row| Ok((row.try_get("", "id")?, row.try_get("", "last_seq")?)))
        .collect()
}

/// Takes the next `count` sequences of a conversation (locking its row until
/// the transaction ends) and answers the last of them.
pub async fn next_seqs(
    db: &impl ConnectionTrait,
    conversation: Uuid,
    count: i64,
    now: DateTime<Utc>,
) -> Result<i64, DbErr> {
    conversations::Entity::update_many()
        .col_expr(
            conversations::Column::LastSeq,
            Expr::col(conversations::Column::LastSeq).add(count),
        )
        .col_expr(conversations::Column::LastActivityAt, Expr::value(now))
        .filter(conversations::Column::Id.eq(conversation))
        .exec_with_returning(db)
        .await?
        .first()
        .map(|row| row.last_seq)
        .ok_or_else(|| DbErr::RecordNotFound("conversation".into()))
}

/// Takes the next change number of a conversation (for an edit or delete).
pub async fn next_change_seq(db: &impl ConnectionTrait, conversation: Uuid) -> Result<i64, DbErr> {
    conversations::Entity::update_many()
        .col_expr(
            conversations::Column::ChangeSeq,
            Expr::col(conversations::Column::ChangeSeq).add(1),
        )
        .filter(conversations::Column::Id.eq(conversation))
        .exec_with_returning(db)
        .await?
        .first()
        .map(|row| row.change_seq)
        .ok_or_else(|| DbErr::RecordNotFound("conversation".into()))
}

/// Messages up to `up_to` changed after change number `after`, in change order.
pub async fn changed_since(
    db: &impl ConnectionTrait,
    conversation: Uuid,
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
    conversation: Uuid,
    except: Uuid,
    media: Uuid,
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
    message: Uuid,
    text: String,
    replaced_at: DateTime<Utc>,
) -> Result<(), DbErr> {
    entities::message_edits::ActiveModel {
        id: Set(Uuid::now_v7()),
        message_id: Set(message),
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
    message: Uuid,
) -> Result<Vec<entities::message_edits::Model>, DbErr> {
    entities::message_edits::Entity::find()
        .filter(entities::message_edits::Column::MessageId.eq(message))
        .order_by_asc(entities::message_edits::Column::Id)
        .all(db)
        .await
}

pub async fn delete_edits(db: &impl ConnectionTrait, message: Uuid) -> Result<(), DbErr> {
    entities::message_edits::Entity::delete_many()
        .filter(entities::message_edits::Column::MessageId.eq(message))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn find_by_client_id(
    db: &impl ConnectionTrait,
    conversation: Uuid,
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
    conversation: Uuid,
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
    conversation: Uuid,
    seq: i64,
) -> Result<Option<MessageRow>, DbErr> {
    messages::Entity::find()
        .filter(messages::Column::ConversationId.eq(conversation))
        .filter(messages::Column::Seq.eq(seq))
        .one(db)
        .await
}

/// Moves a member's read position forward (never back).
pub async fn mark_read(
    db: &impl ConnectionTrait,
    conversation: Uuid,
    account: Uuid,
    up_to: i64,
) -> Result<(), DbErr> {
    members::Entity::update_many()
        .col_expr(members::Column::LastReadSeq, Expr::value(up_to))
        .filter(members::Column::ConversationId.eq(conversation))
        .filter(members::Column::AccountId.eq(account))
        .filter(members::Column::LastReadSeq.lt(up_to))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn set_title(
    db: &impl ConnectionTrait,
    conversation: Uuid,
    title: &str,
) -> Result<(), DbErr> {
    conversations::Entity::update_many()
        .col_expr(
            conversations::Column::Title,
            Expr::value(title.chars().take(200).collect::<String>()),
        )
        .filter(conversations::Column::Id.eq(conversation))
        .exec(db)
        .await?;
    Ok(())
}
