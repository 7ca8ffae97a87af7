//! Messaging persistence: conversations, their members with read
//! positions, and messages numbered per conversation at commit.

pub mod entities;
pub mod migration;

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
    }
    .insert(db)
    .await?;
    for account in new.members {
        members::ActiveModel {
            conversation_id: Set(row.id),
            account_id: Set(*account),
            last_read_seq: Set(0),
            joined_at: Set(now),
        }
        .insert(db)
        .await?;
    }
    Ok(row)
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

/// The caller's memberships with their conversations, most recent first.
pub async fn list_for_member(
    db: &impl ConnectionTrait,
    account: Uuid,
    after: Option<(DateTime<Utc>, Uuid)>,
    limit: u64,
) -> Result<Vec<ConversationRow>, DbErr> {
    let ids: Vec<Uuid> = members::Entity::find()
        .filter(members::Column::AccountId.eq(account))
        .all(db)
        .await?
        .into_iter()
        .map(|m| m.conversation_id)
        .collect();
    let mut query = conversations::Entity::find().filter(conversations::Column::Id.is_in(ids));
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
/// the transaction ends, so numbers follow commit order).
pub async fn next_seq(
    db: &impl ConnectionTrait,
    conversation: Uuid,
    now: DateTime<Utc>,
) -> Result<i64, DbErr> {
    conversations::Entity::update_many()
        .col_expr(
            conversations::Column::LastSeq,
            Expr::col(conversations::Column::LastSeq).add(1),
        )
        .col_expr(conversations::Column::LastActivityAt, Expr::value(now))
        .filter(conversations::Column::Id.eq(conversation))
        .exec(db)
        .await?;
    let row = find_conversation(db, conversation)
        .await?
        .ok_or_else(|| DbErr::RecordNotFound("conversation".into()))?;
    Ok(row.last_seq)
}

pub async fn insert_message(
    db: &impl ConnectionTrait,
    row: MessageRow,
) -> Result<MessageRow, DbErr> {
    messages::ActiveModel {
        id: Set(row.id),
        conversation_id: Set(row.conversation_id),
        seq: Set(row.seq),
        sender_id: Set(row.sender_id),
        client_message_id: Set(row.client_message_id),
        text: Set(row.text),
        created_at: Set(row.created_at),
    }
    .insert(db)
    .await
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

/// Every membership of `account`.
pub async fn memberships(
    db: &impl ConnectionTrait,
    account: Uuid,
) -> Result<Vec<MemberRow>, DbErr> {
    members::Entity::find()
        .filter(members::Column::AccountId.eq(account))
        .all(db)
        .await
}
