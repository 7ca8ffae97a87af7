//! The read every authenticated identity call starts with: the caller's
//! account, if the session its token names is still live (not revoked, not
//! expired), and whether it signs in with a confirmed second factor, in one
//! statement, through [`LiveCallers`]:
//! - on PostgreSQL, the checks of concurrent calls are asked together
//!   ([`AskedTogether`]): one statement answers the batch, on a pool whose
//!   plans are generic. A round trip there costs several times the lookup,
//!   so under load a batch costs about what one check did; a lone check
//!   goes at once. A batch that fails is asked again check by check.
//! - on SQLite, the same statement written out for rusqlite, run in place
//!   on a read-only connection ([`frevix_platform::db::Reads`]).
//!
//! Both are tested alike: every identity test runs on both backends.

use chrono::{DateTime, Utc};
use frevix_platform::batch::AskedTogether;
use frevix_platform::db::{Reads, SqliteReaders, SqliteTime, SqliteUuid};
use frevix_platform::ids::{AccountId, SessionId};
use frevix_platform::rusqlite::{self, OptionalExtension as _};
use sea_orm::sea_query::Query;
use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseBackend, DatabaseConnection, DbErr, EntityTrait,
    FromQueryResult as _, JoinType, QueryFilter, QuerySelect, RelationDef, Select, Statement,
    Value,
};
use std::sync::Arc;

use super::accounts::AccountRow;
use super::entities::accounts::{self, Entity as Accounts};
use super::entities::{sessions, two_factor};

/// A live caller's account, and whether it has a confirmed second factor.
pub type LiveCaller = (AccountRow, bool);

/// One check: the account, the session its token names, and the time.
type Check = (AccountId, SessionId, DateTime<Utc>);

type Answer = Result<Option<LiveCaller>, DbErr>;

/// Checks answered by one PostgreSQL statement at most.
const MAX_BATCH: usize = 128;

/// Where identity checks its callers.
pub enum LiveCallers {
    Postgres(AskedTogether<Check, Answer>),
    Sqlite(Arc<SqliteReaders>),
}

impl LiveCallers {
    /// Opens the reads of the (migrated) database at `url`, with up to
    /// `connections` connections (fewer: see below).
    pub async fn open(url: &str, connections: u32) -> Result<Self, DbErr> {
        // One statement in flight per core (at least 2, so one batch is
        // gathered while another runs), each on a connection of its own.
        let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
        let askers = cores.clamp(2, usize::try_from(connections).unwrap_or(2).max(2));
        let pool = u32::try_from(askers).unwrap_or(2);
        Ok(match Reads::open(url, pool).await? {
            Reads::Sqlite(readers) => Self::Sqlite(readers),
            Reads::Postgres(db) => {
                let (asked, _askers) = AskedTogether::start(askers, MAX_BATCH, move |checks| {
                    let db = db.clone();
                    async move { answer(&db, checks).await }
                });
                Self::Postgres(asked)
            }
        })
    }

    /// The account, and whether it has a confirmed second factor, if
    /// `session` is one of its sessions and live at `now`.
    pub async fn find(
        &self,
        account: AccountId,
        session: SessionId,
        now: DateTime<Utc>,
    ) -> Result<Option<LiveCaller>, DbErr> {
        match self {
            Self::Postgres(asked) => asked
                .ask((account, session, now))
                .await
                .unwrap_or_else(|| Err(DbErr::Custom("identity is shutting down".to_owned()))),
            Self::Sqlite(readers) => readers.read(|db| read_sqlite(db, account, session, now)),
        }
    }
}

/// One answer per check, in order: all from one statement, or, if it
/// fails, each from its own.
async fn answer(db: &DatabaseConnection, checks: Vec<Check>) -> Vec<Answer> {
    if let Ok(found) = read_batch(db, &checks).await {
        return found.into_iter().map(Ok).collect();
    }
    let mut answers = Vec::with_capacity(checks.len());
    for (account, session, now) in checks {
        answers.push(with_factor(db, account, session, now).await);
    }
    answers
}

/// `checks` answered by one statement: $1 accounts, $2 sessions, $3 times,
/// row `i` (from 1) answering the i-th check. The `= ANY` conditions keep
/// the generic plan, which guesses ten rows for `unnest`, on indexes
/// (checked on 100,000 accounts: accounts by primary key, sessions by
/// account) rather than hashing `unnest` against a scan.
const BATCH_SQL: &str = "\
SELECT q.i, a.id, a.email, a.display_name, a.password_hash, a.status, a.is_client, \
       a.is_freelancer, a.is_admin, a.failed_logins, a.last_failed_login_at, \
       a.email_verified_at, a.suspension_reason, a.created_at, a.updated_at, \
       EXISTS (SELECT 1 FROM two_factor f \
               WHERE f.account_id = a.id AND f.confirmed_at IS NOT NULL) AS two_factor \
FROM unnest($1::uuid[], $2::uuid[], $3::timestamptz[]) WITH ORDINALITY AS q(account, session, now, i) \
JOIN sessions s ON s.id = q.session AND s.account_id = q.account \
JOIN accounts a ON a.id = q.account \
WHERE s.id = ANY($2) AND a.id = ANY($1) AND s.revoked_at IS NULL AND s.expires_at > q.now";

async fn read_batch(
    db: &DatabaseConnection,
    checks: &[Check],
) -> Result<Vec<Option<LiveCaller>>, DbErr> {
    let rows = db
        .query_all_raw(Statement::from_sql_and_values(
            DatabaseBackend::Postgres,
            BATCH_SQL,
            [
                Value::from(checks.iter().map(|c| c.0.0).collect::<Vec<_>>()),
                Value::from(checks.iter().map(|c| c.1.0).collect::<Vec<_>>()),
                Value::from(checks.iter().map(|c| c.2).collect::<Vec<_>>()),
            ],
        ))
        .await?;
    let mut found: Vec<Option<LiveCaller>> = checks.iter().map(|_| None).collect();
    for row in rows {
        let i: i64 = row.try_get("", "i")?;
        let account = AccountRow::from_query_result(&row, "")?;
        let two_factor: bool = row.try_get("", "two_factor")?;
        if let Some(slot) = usize::try_from(i - 1).ok().and_then(|i| found.get_mut(i)) {
            *slot = Some((account, two_factor));
        }
    }
    Ok(found)
}

/// One check on its own (sea-orm's query, the same statement as above).
async fn with_factor(
    db: &impl ConnectionTrait,
    account: AccountId,
    session: SessionId,
    now: DateTime<Utc>,
) -> Result<Option<(AccountRow, bool)>, DbErr> {
    let factor_of_account: RelationDef = two_factor::Entity::belongs_to(Accounts)
        .from(two_factor::Column::AccountId)
        .to(accounts::Column::Id)
        .into();
    let found = live_account(account, session, now)
        .join_rev(JoinType::LeftJoin, factor_of_account)
        .select_also(two_factor::Entity)
        .one(db)
        .await?;
    Ok(found.map(|(account, factor)| {
        let confirmed = factor.is_some_and(|f| f.confirmed_at.is_some());
        (account, confirmed)
    }))
}

fn live_account(account: AccountId, session: SessionId, now: DateTime<Utc>) -> Select<Accounts> {
    let live_session = Query::select()
        .column(sessions::Column::AccountId)
        .from(sessions::Entity)
        .and_where(sessions::Column::Id.eq(session.0))
        .and_where(sessions::Column::RevokedAt.is_null())
        .and_where(sessions::Column::ExpiresAt.gt(now))
        .to_owned();
    Accounts::find_by_id(account.0).filter(accounts::Column::Id.in_subquery(live_session))
}

/// The live account and its second factor, as [`with_factor`] reads them
/// (SQLite).
const LIVE_ACCOUNT_SQL: &str = "\
SELECT a.id, a.email, a.display_name, a.password_hash, a.status, a.is_client, \
       a.is_freelancer, a.is_admin, a.failed_logins, a.last_failed_login_at, \
       a.email_verified_at, a.suspension_reason, a.created_at, a.updated_at, \
       EXISTS (SELECT 1 FROM two_factor f \
               WHERE f.account_id = a.id AND f.confirmed_at IS NOT NULL) \
FROM accounts a JOIN sessions s ON s.account_id = a.id \
WHERE a.id = ?1 AND s.id = ?2 AND s.revoked_at IS NULL AND s.expires_at > ?3";

fn read_sqlite(
    db: &rusqlite::Connection,
    account: AccountId,
    session: SessionId,
    now: DateTime<Utc>,
) -> rusqlite::Result<Option<(AccountRow, bool)>> {
    let mut statement = db.prepare_cached(LIVE_ACCOUNT_SQL)?;
    let params = (
        SqliteUuid(account.0),
        SqliteUuid(session.0),
        SqliteTime(now),
    );
    statement
        .query_row(params, |row| {
            let account = AccountRow {
                id: row.get::<_, SqliteUuid>(0)?.0,
                email: row.get(1)?,
                display_name: row.get(2)?,
                password_hash: row.get(3)?,
                status: row.get(4)?,
                is_client: row.get(5)?,
                is_freelancer: row.get(6)?,
                is_admin: row.get(7)?,
                failed_logins: row.get(8)?,
                last_failed_login_at: row.get::<_, Option<SqliteTime>>(9)?.map(|t| t.0),
                email_verified_at: row.get::<_, Option<SqliteTime>>(10)?.map(|t| t.0),
                suspension_reason: row.get(11)?,
                created_at: row.get::<_, SqliteTime>(12)?.0,
                updated_at: row.get::<_, SqliteTime>(13)?.0,
            };
            Ok((account, row.get(14)?))
        })
        .optional()
}
