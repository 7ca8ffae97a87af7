//! Where a service's hottest reads go: the one-row key lookups that every
//! authenticated call makes (identity's live-caller check). Everything else
//! reads through the service's own connection.
//!
//! - **PostgreSQL**: a pool of their own whose statements always run a
//!   generic plan. Left to choose, PostgreSQL plans a prepared statement anew
//!   for each execution while a plan for the given values might pay, and
//!   for a key lookup planning costs about as much as running it.
//! - **SQLite**: read-only rusqlite connections, used in place on the
//!   calling thread. sqlx runs each SQLite connection on a thread of its
//!   own, handing it every statement and taking every row back; for a lookup
//!   of one row by key those hand-offs cost several times the lookup. In WAL
//!   mode a reader sees the last commit without waiting for the writer, so
//!   such a lookup holds the async thread for microseconds, like any other
//!   handler work. Values are read and bound in the forms sea-orm (sqlx)
//!   stores ([`SqliteUuid`], [`SqliteTime`]), so the same rows read alike
//!   through either driver.

use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, TryLockError};
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};
use rusqlite::types::{FromSql, FromSqlError, FromSqlResult, ToSql, ToSqlOutput, ValueRef};
use rusqlite::{Connection, OpenFlags};
use sea_orm::{DatabaseConnection, DbErr};
use uuid::Uuid;

use super::{Engine, connect_pool, sqlite_path};

/// How long an SQLite read waits when the file is busy. In WAL mode a
/// reader is refused only while another connection recovers the log after
/// a crash, which is rare and short.
const BUSY_WAIT: Duration = Duration::from_millis(250);

/// Statements each SQLite reader keeps prepared.
const PREPARED: usize = 32;

/// A service's connections for its hottest reads.
#[derive(Clone)]
pub enum Reads {
    /// A pool whose statements run a generic plan.
    Postgres(DatabaseConnection),
    /// Read-only connections used in place.
    Sqlite(Arc<SqliteReaders>),
}

impl Reads {
    /// Opens up to `connections` for reads of the (migrated) database at
    /// `url`. PostgreSQL's connect when first needed; SQLite's, which run in
    /// place, are no more than the threads that could use them at once.
    pub async fn open(url: &str, connections: u32) -> Result<Self, DbErr> {
        if Engine::of(url) == Some(Engine::Sqlite) {
            let cores = std::thread::available_parallelism().map_or(2, |n| n.get());
            let connections = connections.min(u32::try_from(cores).unwrap_or(u32::MAX));
            let readers = SqliteReaders::open(Path::new(sqlite_path(url)), connections)?;
            return Ok(Self::Sqlite(Arc::new(readers)));
        }
        let generic_plans = [("plan_cache_mode", "force_generic_plan")];
        let pool = connect_pool(url, connections, 0, &generic_plans).await?;
        Ok(Self::Postgres(pool))
    }
}

/// Read-only connections to one SQLite file.
pub struct SqliteReaders {
    connections: Box<[Mutex<Connection>]>,
    /// Where the next read starts looking for a free connection.
    next: AtomicUsize,
}

impl SqliteReaders {
    /// Opens `connections` (at least one) read-only connections to `path`.
    pub fn open(path: &Path, connections: u32) -> Result<Self, DbErr> {
        let connections = (0..connections.max(1))
            .map(|_| open_reader(path).map(Mutex::new))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| sqlite_error(&e))?;
        Ok(Self {
            connections: connections.into_boxed_slice(),
            next: AtomicUsize::new(0),
        })
    }

    /// Runs `read` on a free connection; when every one is busy, waits for
    /// one. Reads take microseconds and `read` cannot await, so a
    /// connection is never held across a suspension.
    pub fn read<T>(
        &self,
        read: impl FnOnce(&Connection) -> rusqlite::Result<T>,
    ) -> Result<T, DbErr> {
        let count = self.connections.len();
        let start = self.next.fetch_add(1, Ordering::Relaxed) % count;
        let free = (0..count).find_map(|step| try_take(&self.connections[(start + step) % count]));
        let connection = match free {
            Some(connection) => connection,
            None => self.connections[start]
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner),
        };
        read(&connection).map_err(|e| sqlite_error(&e))
    }
}

fn open_reader(path: &Path) -> rusqlite::Result<Connection> {
    let connection = Connection::open_with_flags(
        path,
        OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX,
    )?;
    connection.busy_timeout(BUSY_WAIT)?;
    connection.set_prepared_statement_cache_capacity(PREPARED);
    Ok(connection)
}

/// The connection if it is free (a read that panicked left it usable).
fn try_take(connection: &Mutex<Connection>) -> Option<MutexGuard<'_, Connection>> {
    match connection.try_lock() {
        Ok(guard) => Some(guard),
        Err(TryLockError::Poisoned(poisoned)) => Some(poisoned.into_inner()),
        Err(TryLockError::WouldBlock) => None,
    }
}

fn sqlite_error(error: &rusqlite::Error) -> DbErr {
    DbErr::Custom(format!("sqlite read: {error}"))
}

/// A UUID as sea-orm stores it in SQLite: its 16 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SqliteUuid(pub Uuid);

impl ToSql for SqliteUuid {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::Borrowed(ValueRef::Blob(self.0.as_bytes())))
    }
}

impl FromSql for SqliteUuid {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        match value {
            ValueRef::Blob(bytes) => Uuid::from_slice(bytes),
            ValueRef::Text(text) => Uuid::try_parse_ascii(text),
            _ => return Err(FromSqlError::InvalidType),
        }
        .map(Self)
        .map_err(|e| FromSqlError::Other(Box::new(e)))
    }
}

/// A time as sea-orm stores it in SQLite: RFC 3339 text, as sqlx writes it.
/// Bound in the same form, so SQL comparing it with a column compares like
/// with like (the comparison is textual).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SqliteTime(pub DateTime<Utc>);

impl ToSql for SqliteTime {
    fn to_sql(&self) -> rusqlite::Result<ToSqlOutput<'_>> {
        Ok(ToSqlOutput::from(
            self.0.to_rfc3339_opts(SecondsFormat::AutoSi, false),
        ))
    }
}

impl FromSql for SqliteTime {
    fn column_result(value: ValueRef<'_>) -> FromSqlResult<Self> {
        let text = value.as_str()?;
        DateTime::parse_from_rfc3339(text)
            .map(|time| time.with_timezone(&Utc))
            .or_else(|_| {
                NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f").map(|t| t.and_utc())
            })
            .map(Self)
            .map_err(|e| FromSqlError::Other(Box::new(e)))
    }
}
