//! Shared parts of the event backbone tests: databases with the outbox and
//! consumer tables, a recording handler that can be told to fail, and a
//! nats-server of the test's own that it can stop and start.

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use frevix_platform::events::{EventHandler, HandlerError, Outbox, ReceivedEvent};
use frevix_proto::identity::v1::AccountUpdated;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, Statement};
use sea_orm_migration::prelude::*;

/// Outbox, inbox and an `applied` table for the recording handler.
pub struct TestMigrator;

#[async_trait::async_trait]
impl MigratorTrait for TestMigrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(frevix_platform::events::schema::OutboxTable),
            Box::new(frevix_platform::events::schema::ConsumerTables),
            Box::new(AppliedTable),
            Box::new(frevix_platform::events::schema::OutboxPendingIndex),
            Box::new(frevix_platform::events::schema::OutboxStreamSeqIndex),
        ]
    }
}

struct AppliedTable;

impl MigrationName for AppliedTable {
    fn name(&self) -> &str {
        "m20261121_900000_applied"
    }
}

#[async_trait::async_trait]
impl MigrationTrait for AppliedTable {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Alias::new("applied"))
                    .col(
                        ColumnDef::new(Alias::new("n"))
                            .integer()
                            .not_null()
                            .auto_increment()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Alias::new("event_id")).string().not_null())
                    .col(ColumnDef::new(Alias::new("aggregate")).string().not_null())
                    .col(ColumnDef::new(Alias::new("value")).string().not_null())
                    .to_owned(),
            )
            .await
    }
}

/// A fresh SQLite database under `dir`.
pub async fn sqlite(dir: &Path, name: &str) -> DatabaseConnection {
    let url = frevix_platform::db::sqlite_url(&dir.join(format!("{name}.db")));
    frevix_platform::db::connect_and_migrate::<TestMigrator>(&url, 1)
        .await
        .unwrap()
}

/// Another connection pool to an existing database (a second process).
pub async fn reconnect(url: &str) -> DatabaseConnection {
    frevix_platform::db::connect_and_migrate::<TestMigrator>(url, 5)
        .await
        .unwrap()
}

/// Writes `values` as AccountUpdated events of `aggregate`, one transaction each.
pub async fn write_events(
    db: &DatabaseConnection,
    outbox: &Outbox,
    aggregate: &str,
    values: &[String],
) {
    for value in values {
        let txn = frevix_platform::db::Txn::begin(db).await.unwrap();
        let event = AccountUpdated {
            account_id: aggregate.to_owned(),
            display_name: value.clone(),
            roles: vec![],
        };
        outbox
            .publish(&txn, "account", aggregate, &event)
            .await
            .unwrap();
        txn.commit().await.unwrap();
    }
}

pub fn numbered(prefix: &str, range: std::ops::Range<usize>) -> Vec<String> {
    range.map(|i| format!("{prefix}{i:04}")).collect()
}

/// Records every event it applies into `applied`; values starting with
/// `flaky` fail their first two attempts, `poison` fails always.
#[derive(Default)]
pub struct Recorder {
    pub attempts: Mutex<HashMap<String, u32>>,
}

#[async_trait::async_trait]
impl EventHandler for Recorder {
    async fn handle(
        &self,
        txn: &frevix_platform::db::Txn,
        event: &ReceivedEvent,
    ) -> Result<(), HandlerError> {
        let payload: AccountUpdated = event.decode()?;
        let attempt = {
            let mut attempts = self.attempts.lock().unwrap();
            let count = attempts.entry(payload.display_name.clone()).or_default();
            *count += 1;
            *count
        };
        // Write first, fail after: a failure must roll the write back.
        let sql = match txn.get_database_backend() {
            DbBackend::Postgres => {
                "INSERT INTO applied (event_id, aggregate, value) VALUES ($1, $2, $3)"
            }
            _ => "INSERT INTO applied (event_id, aggregate, value) VALUES (?, ?, ?)",
        };
        txn.execute_raw(Statement::from_sql_and_values(
            txn.get_database_backend(),
            sql,
            [
                event.id.to_string().into(),
                payload.account_id.clone().into(),
                payload.display_name.clone().into(),
            ],
        ))
        .await?;
        if payload.display_name.starts_with("poison") {
            return Err(HandlerError(
                "poison: this event can never be applied".into(),
            ));
        }
        if payload.display_name.starts_with("flaky") && attempt <= 2 {
            return Err(HandlerError(format!("flaky: attempt {attempt} fails")));
        }
        Ok(())
    }
}

/// `(aggregate, value)` rows in the order they were applied.
pub async fn applied(db: &DatabaseConnection) -> Vec<(String, String, String)> {
    db.query_all_raw(Statement::from_string(
        db.get_database_backend(),
        "SELECT event_id, aggregate, value FROM applied ORDER BY n",
    ))
    .await
    .unwrap()
    .into_iter()
    .map(|row| {
        (
            row.try_get::<String>("", "event_id").unwrap(),
            row.try_get::<String>("", "aggregate").unwrap(),
            row.try_get::<String>("", "value").unwrap(),
        )
    })
    .collect()
}

/// Polls until `applied` has `n` rows (or panics after `limit`).
pub async fn wait_applied(
    db: &DatabaseConnection,
    n: usize,
    limit: Duration,
) -> Vec<(String, String, String)> {
    let deadline = Instant::now() + limit;
    loop {
        let rows = applied(db).await;
        if rows.len() >= n {
            return rows;
        }
        assert!(
            Instant::now() < deadline,
            "only {} of {n} events applied within {limit:?}",
            rows.len()
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Waits for `expected` (the values of one aggregate) to be applied, lets any
/// redelivery arrive, and checks each was applied exactly once, in order.
pub async fn assert_applied_once_in_order(
    db: &DatabaseConnection,
    aggregate: &str,
    expected: &[String],
) {
    wait_applied(db, expected.len(), Duration::from_secs(60)).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let rows = applied(db).await;
    assert_eq!(rows.len(), expected.len(), "each event applied once");
    assert_eq!(values_of(&rows, aggregate), expected, "in order");
}

/// Values of `aggregate` in applied order.
pub fn values_of(rows: &[(String, String, String)], aggregate: &str) -> Vec<String> {
    rows.iter()
        .filter(|(_, a, _)| a == aggregate)
        .map(|(_, _, v)| v.clone())
        .collect()
}

/// A nats-server of the test's own, stopped and started at will.
pub struct OwnNats {
    pub port: u16,
    store: tempfile::TempDir,
    child: Option<std::process::Child>,
}

fn nats_server_bin() -> PathBuf {
    if let Ok(bin) = std::env::var("FREVIX_TEST_NATS_SERVER_BIN") {
        return PathBuf::from(bin);
    }
    let venv = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/nats-server");
    if venv.exists() {
        venv
    } else {
        PathBuf::from("nats-server")
    }
}

impl OwnNats {
    pub async fn start() -> OwnNats {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut nats = OwnNats {
            port,
            store: tempfile::tempdir().unwrap(),
            child: None,
        };
        nats.resume().await;
        nats
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    /// Starts (again) on the same port and store.
    pub async fn resume(&mut self) {
        let child = std::process::Command::new(nats_server_bin())
            .args([
                "-js",
                "-a",
                "127.0.0.1",
                "-p",
                &self.port.to_string(),
                "-sd",
            ])
            .arg(self.store.path())
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("nats-server (run scripts/tools.sh)");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .is_err()
        {
            assert!(Instant::now() < deadline, "nats-server did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Stops it the hard way.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for OwnNats {
    fn drop(&mut self) {
        self.stop();
    }
}

pub fn shared<T>(value: T) -> Arc<T> {
    Arc::new(value)
}

/// Writes 40 events to each of five aggregates from five concurrent tasks.
pub async fn write_concurrently(db: &DatabaseConnection, outbox: &Outbox) {
    let writers: Vec<_> = (0..5)
        .map(|a| {
            let (db, outbox) = (db.clone(), outbox.clone());
            tokio::spawn(async move {
                write_events(&db, &outbox, &format!("agg{a}"), &numbered("v", 0..40)).await
            })
        })
        .collect();
    for writer in writers {
        writer.await.unwrap();
    }
}

/// Waits until `relay`'s outbox has nothing left to publish.
pub async fn wait_drained(relay: &frevix_platform::events::Relay) {
    let deadline = Instant::now() + Duration::from_secs(20);
    while relay.depth().await.unwrap() > 0 {
        assert!(Instant::now() < deadline, "relays did not drain");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// Reads the 200 events of [`write_concurrently`] from `tail`, checks every
/// aggregate came in order, and returns the stream sequences seen.
pub async fn assert_in_order_per_aggregate(tail: &mut frevix_platform::events::Tail) -> Vec<u64> {
    let mut by_aggregate: HashMap<String, Vec<String>> = HashMap::new();
    let mut sequences = Vec::new();
    for _ in 0..200 {
        let event = tail.next().await.unwrap();
        sequences.push(event.stream_seq);
        let event: AccountUpdated = event.decode().unwrap();
        by_aggregate
            .entry(event.account_id)
            .or_default()
            .push(event.display_name);
    }
    for a in 0..5 {
        assert_eq!(
            by_aggregate[&format!("agg{a}")],
            numbered("v", 0..40),
            "agg{a} in order"
        );
    }
    sequences
}
