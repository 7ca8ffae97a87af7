//! The events identity publishes, written to its outbox in the transaction of
//! the change they describe.

use frevix_platform::db::Txn;
use frevix_platform::events::Outbox;
use frevix_platform::ids::{AccountId, SessionId};
use frevix_proto::identity::v1 as pb;
use sea_orm::DbErr;

use crate::domain::account::role_to_proto;
use crate::store::accounts::{AccountRow, roles_of};

const AGGREGATE: &str = "account";

async fn emit<E: prost::Name>(
    outbox: &Outbox,
    db: &Txn,
    row: &AccountRow,
    event: &E,
) -> Result<(), DbErr> {
    outbox
        .publish(db, AGGREGATE, &row.id.to_string(), event)
        .await
        .map(|_| ())
}

fn roles(row: &AccountRow) -> Vec<i32> {
    roles_of(row)
        .to_vec()
        .into_iter()
        .map(|role| role_to_proto(role) as i32)
        .collect()
}

pub async fn user_registered(outbox: &Outbox, db: &Txn, row: &AccountRow) -> Result<(), DbErr> {
    let event = pb::UserRegistered {
        account_id: row.id.to_string(),
        email: row.email.clone(),
        display_name: row.display_name.clone(),
        roles: roles(row),
    };
    emit(outbox, db, row, &event).await
}

pub async fn email_verified(outbox: &Outbox, db: &Txn, row: &AccountRow) -> Result<(), DbErr> {
    let event = pb::EmailVerified {
        account_id: row.id.to_string(),
        email: row.email.clone(),
    };
    emit(outbox, db, row, &event).await
}

pub async fn account_updated(outbox: &Outbox, db: &Txn, row: &AccountRow) -> Result<(), DbErr> {
    let event = pb::AccountUpdated {
        account_id: row.id.to_string(),
        display_name: row.display_name.clone(),
        roles: roles(row),
    };
    emit(outbox, db, row, &event).await
}

pub async fn account_suspended(
    outbox: &Outbox,
    db: &Txn,
    row: &AccountRow,
    reason: &str,
) -> Result<(), DbErr> {
    let event = pb::AccountSuspended {
        account_id: row.id.to_string(),
        reason: reason.to_owned(),
    };
    emit(outbox, db, row, &event).await
}

pub async fn session_revoked(
    outbox: &Outbox,
    db: &Txn,
    account: AccountId,
    session: SessionId,
    reason: &str,
) -> Result<(), DbErr> {
    let event = pb::SessionRevoked {
        account_id: account.to_string(),
        session_id: session.to_string(),
        reason: reason.to_owned(),
    };
    outbox
        .publish(db, AGGREGATE, &account.to_string(), &event)
        .await
        .map(|_| ())
}

pub async fn account_reinstated(outbox: &Outbox, db: &Txn, row: &AccountRow) -> Result<(), DbErr> {
    let event = pb::AccountReinstated {
        account_id: row.id.to_string(),
    };
    emit(outbox, db, row, &event).await
}
