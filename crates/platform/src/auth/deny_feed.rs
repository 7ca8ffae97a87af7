//! Feeds the [`DenyList`] from identity's events (SessionRevoked,
//! AccountSuspended, AccountReinstated) through a durable consumer, and keeps
//! what it learnt in the consuming service's own `access_denials` table, so
//! a restarted process denies the same tokens before its first request. The
//! table is also the service's record of suspended accounts for its own
//! queries: marketplace hides a suspended seller's gigs and profile with
//! [`is_account_suspended`] and [`account_not_suspended`].

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};
use frevix_proto::identity::v1 as identity;
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection, DbErr, EntityTrait,
    QueryFilter,
};
use sea_orm_migration::prelude::*;
use uuid::Uuid;

use super::deny::DenyList;
use crate::db::Txn;
use crate::events::{
    AfterCommit, Background, BusError, EventBus, HandlerError, Handlers, On, ReceivedEvent,
};
use crate::ids::{AccountId, SessionId};

/// How long a revoked session stays denied: the longest access-token
/// lifetime identity may be configured with (one hour), plus the verifier's
/// leeway and a margin.
pub const SESSION_DENIAL: Duration = Duration::minutes(65);

const SESSION: &str = "session";
const ACCOUNT: &str = "account";

pub mod access_denials {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "access_denials")]
    pub struct Model {
        /// `session` or `account`.
        #[sea_orm(primary_key, auto_increment = false)]
        pub kind: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub subject_id: Uuid,
        /// Until when (sessions); none for a suspension, which lasts until
        /// the account is reinstated.
        pub until: Option<ChronoDateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

use access_denials::{Column, Entity as Denials};

/// The `access_denials` table; services that serve authenticated calls
/// include it (after `ConsumerTables`).
pub struct AccessDenialsTable;

impl MigrationName for AccessDenialsTable {
    fn name(&self) -> &str {
        "m20261130_000013_access_denials"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for AccessDenialsTable {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("access_denials"))
                    .col(ColumnDef::new(Alias::new("kind")).string_len(16).not_null())
                    .col(ColumnDef::new(Alias::new("subject_id")).uuid().not_null())
                    .col(
                        ColumnDef::new(Alias::new("until"))
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(Alias::new("kind"))
                            .col(Alias::new("subject_id")),
                    )
                    .to_owned(),
            )
            .await
    }
}

/// Fills `list` from the table, then consumes identity's events into both
/// under the durable consumer `consumer` (e.g. `marketplace-access`).
pub async fn start(
    bus: &EventBus,
    db: DatabaseConnection,
    list: Arc<DenyList>,
    consumer: &str,
) -> Result<Background, BusError> {
    load(&db, &list).await?;
    Handlers::new(consumer, "identity", DenyFeed { list })
        .on::<identity::SessionRevoked>()
        .on::<identity::AccountSuspended>()
        .on::<identity::AccountReinstated>()
        .after_commit()
        .start(bus, db)
        .await
}

/// Whether identity has suspended `account` (as far as this database knows).
pub async fn is_account_suspended(
    db: &impl ConnectionTrait,
    account: AccountId,
) -> Result<bool, DbErr> {
    Ok(Denials::find_by_id((ACCOUNT.to_owned(), account.0))
        .one(db)
        .await?
        .is_some())
}

/// An SQL condition that holds when the account in `column` (a trusted
/// column name, never user input) is not suspended.
pub fn account_not_suspended(column: &str) -> String {
    format!(
        "NOT EXISTS (SELECT 1 FROM access_denials d \
         WHERE d.kind = '{ACCOUNT}' AND d.subject_id = {column})"
    )
}

async fn load(db: &DatabaseConnection, list: &DenyList) -> Result<(), DbErr> {
    let now = Utc::now();
    for row in Denials::find().all(db).await? {
        match (row.kind.as_str(), row.until) {
            (SESSION, Some(until)) if until > now => {
                list.revoke_session(SessionId(row.subject_id), until, now);
            }
            (ACCOUNT, _) => list.suspend(AccountId(row.subject_id)),
            _ => {}
        }
    }
    Ok(())
}

struct DenyFeed {
    list: Arc<DenyList>,
}

/// What one event changes in the deny list.
enum Change {
    Revoke(SessionId, DateTime<Utc>),
    Suspend(AccountId),
    Reinstate(AccountId),
}

fn parse(text: &str) -> Result<Uuid, HandlerError> {
    Uuid::parse_str(text).map_err(|_| HandlerError(format!("bad id {text:?}")))
}

fn change_of(event: &ReceivedEvent, now: DateTime<Utc>) -> Result<Option<Change>, HandlerError> {
    if event.is::<identity::SessionRevoked>() {
        let e: identity::SessionRevoked = event.decode()?;
        return Ok(Some(Change::Revoke(
            SessionId(parse(&e.session_id)?),
            now + SESSION_DENIAL,
        )));
    }
    if event.is::<identity::AccountSuspended>() {
        let e: identity::AccountSuspended = event.decode()?;
        return Ok(Some(Change::Suspend(AccountId(parse(&e.account_id)?))));
    }
    if event.is::<identity::AccountReinstated>() {
        let e: identity::AccountReinstated = event.decode()?;
        return Ok(Some(Change::Reinstate(AccountId(parse(&e.account_id)?))));
    }
    Ok(None)
}

async fn upsert(
    db: &impl ConnectionTrait,
    kind: &str,
    id: Uuid,
    until: Option<DateTime<Utc>>,
) -> Result<(), DbErr> {
    Denials::insert(access_denials::ActiveModel {
        kind: Set(kind.to_owned()),
        subject_id: Set(id),
        until: Set(until),
    })
    .on_conflict(
        OnConflict::columns([Column::Kind, Column::SubjectId])
            .update_column(Column::Until)
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(())
}

#[async_trait::async_trait]
impl On<identity::SessionRevoked> for DenyFeed {
    async fn on(
        &self,
        txn: &Txn,
        event: identity::SessionRevoked,
        _: &ReceivedEvent,
    ) -> Result<(), HandlerError> {
        let session = parse(&event.session_id)?;
        let now = Utc::now();
        // Sessions denied long enough are forgotten as new ones come.
        Denials::delete_many()
            .filter(Column::Kind.eq(SESSION))
            .filter(Column::Until.lt(now))
            .exec(txn)
            .await?;
        upsert(txn, SESSION, session, Some(now + SESSION_DENIAL)).await?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl On<identity::AccountSuspended> for DenyFeed {
    async fn on(
        &self,
        txn: &Txn,
        event: identity::AccountSuspended,
        _: &ReceivedEvent,
    ) -> Result<(), HandlerError> {
        upsert(txn, ACCOUNT, parse(&event.account_id)?, None).await?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl On<identity::AccountReinstated> for DenyFeed {
    async fn on(
        &self,
        txn: &Txn,
        event: identity::AccountReinstated,
        _: &ReceivedEvent,
    ) -> Result<(), HandlerError> {
        Denials::delete_many()
            .filter(Column::Kind.eq(ACCOUNT))
            .filter(Column::SubjectId.eq(parse(&event.account_id)?))
            .exec(txn)
            .await?;
        Ok(())
    }
}

/// The process's deny list learns a change once its row is committed, so
/// the list never holds what the table does not.
#[async_trait::async_trait]
impl AfterCommit for DenyFeed {
    async fn committed(&self, event: &ReceivedEvent) {
        let now = Utc::now();
        match change_of(event, now) {
            Ok(Some(Change::Revoke(session, until))) => {
                self.list.revoke_session(session, until, now);
            }
            Ok(Some(Change::Suspend(account))) => self.list.suspend(account),
            Ok(Some(Change::Reinstate(account))) => self.list.reinstate(account),
            Ok(None) | Err(_) => {}
        }
    }
}
