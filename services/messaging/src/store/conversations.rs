//! Conversations and their members: making them, who is in, settings,
//! titles and read positions.

use chrono::{DateTime, Utc};
use frevix_platform::ids::conversation_id_for_contract;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect,
};
use uuid::Uuid;

use super::entities::{conversations, members};
use super::{ConversationRow, MemberRow};
use crate::domain::{ConversationId, ConversationKind};

/// A conversation about to be made.
pub struct NewConversation<'a> {
    pub kind: ConversationKind,
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
        // A contract's conversation has the id contracts names it by.
        id: Set(new.contract_id.map_or_else(
            || ConversationId::generate().0,
            conversation_id_for_contract,
        )),
        kind: Set(new.kind.as_str().to_owned()),
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
        add_member(
            db,
            ConversationId(row.id),
            *account,
            new.admins.contains(account),
            0,
            now,
        )
        .await?;
    }
    Ok(row)
}

/// Adds a member who starts reading at `read_from` (a new group member has
/// the history but no unread backlog).
pub async fn add_member(
    db: &impl ConnectionTrait,
    conversation: ConversationId,
    account: Uuid,
    admin: bool,
    read_from: i64,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    members::ActiveModel {
        conversation_id: Set(conversation.0),
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
    conversation: ConversationId,
    account: Uuid,
) -> Result<(), DbErr> {
    members::Entity::delete_by_id((conversation.0, account))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn set_admin(
    db: &impl ConnectionTrait,
    conversation: ConversationId,
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
    conversation: ConversationId,
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
pub async fn unarchive_all(
    db: &impl ConnectionTrait,
    conversation: ConversationId,
) -> Result<(), DbErr> {
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
    id: ConversationId,
) -> Result<Option<ConversationRow>, DbErr> {
    conversations::Entity::find_by_id(id.0).one(db).await
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
    conversation: ConversationId,
    account: Uuid,
) -> Result<Option<MemberRow>, DbErr> {
    members::Entity::find_by_id((conversation.0, account))
        .one(db)
        .await
}

pub async fn members_of(
    db: &impl ConnectionTrait,
    conversations: Vec<ConversationId>,
) -> Result<Vec<MemberRow>, DbErr> {
    members::Entity::find()
        .filter(members::Column::ConversationId.is_in(conversations.into_iter().map(|id| id.0)))
        .all(db)
        .await
}

/// The account ids of a conversation's members.
pub async fn member_ids(
    db: &impl ConnectionTrait,
    conversation: ConversationId,
) -> Result<Vec<Uuid>, DbErr> {
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

/// Moves a member's read position forward (never back).
pub async fn mark_read(
    db: &impl ConnectionTrait,
    conversation: ConversationId,
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
    conversation: ConversationId,
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
