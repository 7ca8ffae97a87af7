//! Who may reach whom: blocks, the pairs of accounts with a funded contract
//! (contact details are masked between everyone else), and the accounts
//! read model (display names, addresses for notification mail, presence
//! visibility).

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
};
use uuid::Uuid;

use super::entities::{accounts, blocks, funded_pairs};

pub use accounts::Model as AccountRow;

/// The order-free key of two accounts.
pub fn pair_key(a: Uuid, b: Uuid) -> String {
    let (low, high) = if a < b { (a, b) } else { (b, a) };
    format!("{}:{}", low.simple(), high.simple())
}

pub async fn block(
    db: &impl ConnectionTrait,
    blocker: Uuid,
    blocked: Uuid,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    blocks::Entity::insert(blocks::ActiveModel {
        blocker_id: Set(blocker),
        blocked_id: Set(blocked),
        created_at: Set(now),
    })
    .on_conflict_do_nothing()
    .exec(db)
    .await?;
    Ok(())
}

pub async fn unblock(db: &impl ConnectionTrait, blocker: Uuid, blocked: Uuid) -> Result<(), DbErr> {
    blocks::Entity::delete_by_id((blocker, blocked))
        .exec(db)
        .await?;
    Ok(())
}

/// Whom `blocker` blocked, oldest first.
pub async fn blocked_by(db: &impl ConnectionTrait, blocker: Uuid) -> Result<Vec<Uuid>, DbErr> {
    Ok(blocks::Entity::find()
        .filter(blocks::Column::BlockerId.eq(blocker))
        .order_by_asc(blocks::Column::CreatedAt)
        .all(db)
        .await?
        .into_iter()
        .map(|row| row.blocked_id)
        .collect())
}

/// Of `blockers`, those who blocked `account`.
pub async fn who_blocked(
    db: &impl ConnectionTrait,
    blockers: &[Uuid],
    account: Uuid,
) -> Result<Vec<Uuid>, DbErr> {
    Ok(blocks::Entity::find()
        .filter(blocks::Column::BlockerId.is_in(blockers.to_vec()))
        .filter(blocks::Column::BlockedId.eq(account))
        .all(db)
        .await?
        .into_iter()
        .map(|row| row.blocker_id)
        .collect())
}

/// Records that `a` and `b` have a funded contract.
pub async fn record_funded(
    db: &impl ConnectionTrait,
    a: Uuid,
    b: Uuid,
    contract: Uuid,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    funded_pairs::Entity::insert(funded_pairs::ActiveModel {
        pair_key: Set(pair_key(a, b)),
        contract_id: Set(contract),
        funded_at: Set(now),
    })
    .on_conflict_do_nothing()
    .exec(db)
    .await?;
    Ok(())
}

/// Whether `sender` has a funded contract with every one of `others`.
pub async fn funded_with_all(
    db: &impl ConnectionTrait,
    sender: Uuid,
    others: &[Uuid],
) -> Result<bool, DbErr> {
    if others.is_empty() {
        return Ok(true);
    }
    let keys: Vec<String> = others.iter().map(|o| pair_key(sender, *o)).collect();
    let found = funded_pairs::Entity::find()
        .filter(funded_pairs::Column::PairKey.is_in(keys))
        .all(db)
        .await?;
    Ok(found.len() == others.len())
}

/// Creates or updates an account's name and address (from identity's events).
pub async fn upsert_account(
    db: &impl ConnectionTrait,
    account: Uuid,
    display_name: &str,
    email: Option<&str>,
) -> Result<(), DbErr> {
    let mut columns = vec![accounts::Column::DisplayName];
    if email.is_some() {
        columns.push(accounts::Column::Email);
    }
    accounts::Entity::insert(accounts::ActiveModel {
        account_id: Set(account),
        display_name: Set(display_name.chars().take(200).collect()),
        email: Set(email.unwrap_or_default().to_owned()),
        presence_hidden: Set(false),
        last_seen_at: Set(None),
    })
    .on_conflict(
        OnConflict::column(accounts::Column::AccountId)
            .update_columns(columns)
            .to_owned(),
    )
    .exec(db)
    .await?;
    Ok(())
}

pub async fn account(db: &impl ConnectionTrait, id: Uuid) -> Result<Option<AccountRow>, DbErr> {
    accounts::Entity::find_by_id(id).one(db).await
}

pub async fn accounts(db: &impl ConnectionTrait, ids: &[Uuid]) -> Result<Vec<AccountRow>, DbErr> {
    accounts::Entity::find()
        .filter(accounts::Column::AccountId.is_in(ids.to_vec()))
        .all(db)
        .await
}

/// Shows or hides an account's presence (made before identity's event if need be).
pub async fn set_presence_hidden(
    db: &impl ConnectionTrait,
    account: Uuid,
    hidden: bool,
) -> Result<(), DbErr> {
    accounts::Entity::insert(accounts::ActiveModel {
        account_id: Set(account),
        display_name: Set(String::new()),
        email: Set(String::new()),
        presence_hidden: Set(hidden),
        last_seen_at: Set(None),
    })
    .on_conflict(
        OnConflict::column(accounts::Column::AccountId)
            .update_column(accounts::Column::PresenceHidden)
            .to_owned(),
    )
    .exec(db)
    .await?;
    Ok(())
}

pub async fn set_last_seen(
    db: &impl ConnectionTrait,
    account: Uuid,
    at: DateTime<Utc>,
) -> Result<(), DbErr> {
    accounts::Entity::insert(accounts::ActiveModel {
        account_id: Set(account),
        display_name: Set(String::new()),
        email: Set(String::new()),
        presence_hidden: Set(false),
        last_seen_at: Set(Some(at)),
    })
    .on_conflict(
        OnConflict::column(accounts::Column::AccountId)
            .update_column(accounts::Column::LastSeenAt)
            .to_owned(),
    )
    .exec(db)
    .await?;
    Ok(())
}
