//! The database seam: one sea-orm connection over PostgreSQL (the mesh) or
//! SQLite (the all-in-one shape), chosen by the URL, with forward-only
//! migrations applied at start-up.

pub mod idempotency;
mod reads;
pub mod schema;
mod txn;

pub use reads::{Reads, SqliteReaders, SqliteTime, SqliteUuid};
pub use txn::Txn;

use std::path::Path;
use std::time::Duration;

use sea_orm::{
    ConnectOptions, ConnectionTrait, Database, DatabaseConnection, DbErr, SqlErr, TransactionTrait,
};
use sea_orm_migration::MigratorTrait;

/// Which engine a URL points at.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Postgres,
    Sqlite,
}

impl Engine {
    pub fn of(url: &str) -> Option<Engine> {
        if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            Some(Engine::Postgres)
        } else if url.starts_with("sqlite:") {
            Some(Engine::Sqlite)
        } else {
            None
        }
    }
}

/// The URL of an SQLite file, created if missing.
pub fn sqlite_url(path: &Path) -> String {
    format!("sqlite://{}?mode=rwc", path.display())
}

/// The advisory lock PostgreSQL migrations run under (advisory locks are
/// per database, so one key serves every service).
const MIGRATION_LOCK: i64 = 0x4652_4556_4958; // "FREVIX"

/// Connects and applies every pending migration of `M`.
///
/// On PostgreSQL the migrations run in one transaction holding an advisory
/// lock: replicas starting together, or a migration job beside them, would
/// otherwise race over the same pending migration ("relation already
/// exists"). The first applies it; the others wait, then find nothing
/// pending. A failed migration leaves the schema as it was.
///
/// SQLite gets one connection: SQLite allows one writer at a time, and a pool
/// of writers only trades that for "database is locked" errors.
pub async fn connect_and_migrate<M: MigratorTrait>(
    url: &str,
    max_connections: u32,
) -> Result<DatabaseConnection, DbErr> {
    let engine = Engine::of(url).ok_or_else(|| {
        DbErr::Custom("database url must start with postgres:// or sqlite:".to_owned())
    })?;
    if engine == Engine::Sqlite {
        ensure_sqlite_dir(url)?;
    }
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(if engine == Engine::Sqlite {
            1
        } else {
            max_connections
        })
        .min_connections(if engine == Engine::Sqlite { 1 } else { 0 })
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        .test_before_acquire_if_idle_for(PING_IF_IDLE)
        .sqlx_logging(false);
    if engine == Engine::Sqlite {
        // A local file's one connection never goes stale: no idle or
        // lifetime rotation, hence no pool maintenance task. (That task
        // was once caught spinning without yielding in sqlx 0.9's idle
        // loop, starving its runtime: a test hung on SQLite.)
        options
            .idle_timeout(None::<Duration>)
            .max_lifetime(None::<Duration>);
    }
    let db = Database::connect(options).await?;
    if engine == Engine::Sqlite {
        db.execute_unprepared("PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL; PRAGMA foreign_keys = ON; PRAGMA busy_timeout = 5000;")
            .await?;
    }
    match engine {
        Engine::Postgres => {
            let txn = db.begin().await?;
            txn.execute_unprepared(&format!("SELECT pg_advisory_xact_lock({MIGRATION_LOCK})"))
                .await?;
            M::up(&txn, None).await?;
            txn.commit().await?;
        }
        // One connection, one writer: nothing to race.
        Engine::Sqlite => M::up(&db, None).await?,
    }
    Ok(db)
}

/// A pooled connection idle this long is pinged before it is handed out
/// (a server, proxy or firewall may have dropped it). Busy connections are
/// not: a ping on every checkout is one more round trip for every query or
/// transaction (for messaging's batched send lookups, half their round
/// trips).
const PING_IF_IDLE: Duration = Duration::from_secs(30);

/// Another pool on a PostgreSQL database that `connect_and_migrate` has
/// already prepared, whose connections start with `settings` (session
/// parameters). For a hot path with its own statements: the messaging send
/// path runs only key lookups with array parameters, for which PostgreSQL
/// otherwise planned every execution anew (`plan_cache_mode`). It keeps
/// `min_connections` open (opened up front, a hot path's first requests
/// after start-up do not each wait for a connection: TLS, authentication).
pub async fn connect_pool(
    url: &str,
    max_connections: u32,
    min_connections: u32,
    settings: &[(&'static str, &'static str)],
) -> Result<DatabaseConnection, DbErr> {
    let settings = settings.to_vec();
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .max_connections(max_connections)
        .min_connections(min_connections.min(max_connections))
        .connect_timeout(Duration::from_secs(10))
        .acquire_timeout(Duration::from_secs(10))
        .test_before_acquire_if_idle_for(PING_IF_IDLE)
        .sqlx_logging(false)
        .map_sqlx_postgres_opts(move |pg| pg.options(settings.clone()));
    Database::connect(options).await
}

/// The file an SQLite URL names.
fn sqlite_path(url: &str) -> &str {
    url.trim_start_matches("sqlite://")
        .trim_start_matches("sqlite:")
        .split('?')
        .next()
        .unwrap_or_default()
}

fn ensure_sqlite_dir(url: &str) -> Result<(), DbErr> {
    if let Some(parent) = Path::new(sqlite_path(url)).parent()
        && !parent.as_os_str().is_empty()
    {
        std::fs::create_dir_all(parent)
            .map_err(|e| DbErr::Custom(format!("cannot create {}: {e}", parent.display())))?;
    }
    Ok(())
}

/// Whether `err` is a unique-constraint violation (a racing duplicate insert).
pub fn is_unique_violation(err: &DbErr) -> bool {
    matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_)))
}
