//! Durable timers on both backends, with a clock the test moves: a timer
//! fires once when due and never before, a cancelled or rolled-back one
//! never, a moved one at its new time; a failing effect is retried later;
//! a dead runner's claim lapses to another, and a lease shorter than the
//! effects fires nothing twice; and two runners racing over hundreds of due
//! timers fire each exactly once.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use frevix_platform::db::Txn;
use frevix_platform::events::HandlerError;
use frevix_platform::timers::{Fired, OnTimer, Timer, Timers};
use frevix_testkit::{Backend, TestClock, TestDatabase, on_both_backends};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use sea_orm_migration::prelude::*;

struct TimerMigrator;

#[async_trait::async_trait]
impl MigratorTrait for TimerMigrator {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![Box::new(frevix_platform::timers::schema::TimersTable)]
    }
}

/// Records each firing in `fired`; fails the first `failures` firings.
struct Recorder {
    failures: AtomicUsize,
}

#[async_trait::async_trait]
impl OnTimer for Recorder {
    async fn fire(&self, txn: &Txn, timer: &Timer) -> Result<(), HandlerError> {
        let backend = txn.get_database_backend();
        txn.execute_raw(Statement::from_sql_and_values(
            backend,
            match backend {
                sea_orm::DatabaseBackend::Postgres => {
                    "INSERT INTO fired (subject, payload) VALUES ($1, $2)"
                }
                _ => "INSERT INTO fired (subject, payload) VALUES (?1, ?2)",
            },
            [timer.subject.clone().into(), timer.payload.clone().into()],
        ))
        .await?;
        if self
            .failures
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| n.checked_sub(1))
            .is_ok()
        {
            return Err(HandlerError("the effect failed".into()));
        }
        Ok(())
    }
}

fn recorder(failures: usize) -> Arc<dyn OnTimer> {
    Arc::new(Recorder {
        failures: AtomicUsize::new(failures),
    })
}

struct Setup {
    _dir: tempfile::TempDir,
    _database: Option<TestDatabase>,
    url: String,
    db: DatabaseConnection,
}

async fn setup(backend: Backend) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let (database, url) = match backend {
        Backend::Postgres => {
            let database = TestDatabase::create::<TimerMigrator>("timers").await;
            let url = database.url.clone();
            (Some(database), url)
        }
        Backend::Sqlite => (
            None,
            frevix_platform::db::sqlite_url(&dir.path().join("timers.db")),
        ),
    };
    let db = connect(&url).await;
    db.execute_unprepared(
        "CREATE TABLE IF NOT EXISTS fired (subject TEXT NOT NULL, payload TEXT NOT NULL)",
    )
    .await
    .unwrap();
    Setup {
        _dir: dir,
        _database: database,
        url,
        db,
    }
}

async fn connect(url: &str) -> DatabaseConnection {
    frevix_platform::db::connect_and_migrate::<TimerMigrator>(url, 4)
        .await
        .unwrap()
}

/// How many times each subject fired, by subject.
async fn fired(db: &DatabaseConnection) -> Vec<(String, i64)> {
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT subject, COUNT(*) AS n FROM fired GROUP BY subject ORDER BY subject",
        ))
        .await
        .unwrap();
    rows.iter()
        .map(|row| {
            (
                row.try_get::<String>("", "subject").unwrap(),
                row.try_get::<i64>("", "n").unwrap(),
            )
        })
        .collect()
}

async fn schedule(timers: &Timers, db: &DatabaseConnection, subject: &str, in_secs: i64) {
    let txn = Txn::begin(db).await.unwrap();
    let due = timers.clock().now() + chrono::Duration::seconds(in_secs);
    timers
        .schedule(&txn, "test.fire", subject, due, subject)
        .await
        .unwrap();
    txn.commit().await.unwrap();
}

fn once(fired: usize) -> Fired {
    Fired {
        fired,
        ..Fired::default()
    }
}

async fn a_timer_fires_once_when_due_and_a_cancelled_one_never(backend: Backend) {
    let setup = setup(backend).await;
    let db = &setup.db;
    let clock = TestClock::new();
    let timers = Timers::new(clock.clock());
    let handler = recorder(0);
    schedule(&timers, db, "a", 60).await;
    schedule(&timers, db, "b", 60).await;
    schedule(&timers, db, "moved", 60).await;
    // Cancelled in a change's transaction; another scheduled and rolled back.
    let txn = Txn::begin(db).await.unwrap();
    assert!(timers.cancel(&txn, "test.fire", "b").await.unwrap());
    assert!(!timers.cancel(&txn, "test.fire", "never").await.unwrap());
    txn.commit().await.unwrap();
    let txn = Txn::begin(db).await.unwrap();
    timers
        .schedule(&txn, "test.fire", "rolled-back", clock.now(), "x")
        .await
        .unwrap();
    txn.rollback().await.unwrap();
    // Scheduling again moves the timer.
    schedule(&timers, db, "moved", 600).await;
    let pending = timers
        .find(db, "test.fire", "moved")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(pending.due_at, clock.now() + chrono::Duration::seconds(600));

    assert_eq!(
        timers.fire_due(db, &handler).await.unwrap(),
        Fired::default(),
        "nothing is due yet"
    );
    clock.advance(chrono::Duration::seconds(61));
    assert_eq!(timers.fire_due(db, &handler).await.unwrap(), once(1));
    assert_eq!(
        timers.fire_due(db, &handler).await.unwrap(),
        Fired::default(),
        "fired once"
    );
    assert_eq!(fired(db).await, [("a".to_owned(), 1)]);
    assert!(timers.find(db, "test.fire", "a").await.unwrap().is_none());
    clock.advance(chrono::Duration::seconds(600));
    assert_eq!(timers.fire_due(db, &handler).await.unwrap(), once(1));
    assert_eq!(
        fired(db).await,
        [("a".to_owned(), 1), ("moved".to_owned(), 1)]
    );
}

async fn a_failed_effect_is_undone_and_tried_again_later(backend: Backend) {
    let setup = setup(backend).await;
    let db = &setup.db;
    let clock = TestClock::new();
    let timers = Timers::new(clock.clock());
    let handler = recorder(1);
    schedule(&timers, db, "flaky", 0).await;
    let pass = timers.fire_due(db, &handler).await.unwrap();
    assert_eq!(pass.failed, 1);
    assert!(fired(db).await.is_empty(), "the failed effect rolled back");
    let waiting = timers
        .find(db, "test.fire", "flaky")
        .await
        .unwrap()
        .unwrap();
    assert!(waiting.due_at > clock.now(), "retried after a backoff");
    assert_eq!(
        timers.fire_due(db, &handler).await.unwrap(),
        Fired::default()
    );
    clock.advance(chrono::Duration::seconds(5));
    assert_eq!(timers.fire_due(db, &handler).await.unwrap(), once(1));
    assert_eq!(fired(db).await, [("flaky".to_owned(), 1)]);
}

async fn a_dead_runners_claim_lapses_to_another(backend: Backend) {
    let setup = setup(backend).await;
    let db = &setup.db;
    let clock = TestClock::new();
    let timers = Timers::new(clock.clock());
    schedule(&timers, db, "orphan", 0).await;
    // A runner claimed it and died before firing.
    db.execute_raw(Statement::from_sql_and_values(
        db.get_database_backend(),
        match db.get_database_backend() {
            sea_orm::DatabaseBackend::Postgres => {
                "UPDATE timers SET lease_until = $1, lease_token = $2"
            }
            _ => "UPDATE timers SET lease_until = ?1, lease_token = ?2",
        },
        [
            (clock.now() + chrono::Duration::minutes(2)).into(),
            uuid::Uuid::now_v7().into(),
        ],
    ))
    .await
    .unwrap();
    let handler = recorder(0);
    assert_eq!(
        timers.fire_due(db, &handler).await.unwrap(),
        Fired::default(),
        "still claimed"
    );
    clock.advance(chrono::Duration::seconds(121));
    assert_eq!(timers.fire_due(db, &handler).await.unwrap(), once(1));
    assert_eq!(fired(db).await, [("orphan".to_owned(), 1)]);
}

/// Sleeps, then records: an effect slower than the claim's lease.
struct Slow(Arc<dyn OnTimer>);

#[async_trait::async_trait]
impl OnTimer for Slow {
    async fn fire(&self, txn: &Txn, timer: &Timer) -> Result<(), HandlerError> {
        tokio::time::sleep(Duration::from_millis(600)).await;
        self.0.fire(txn, timer).await
    }
}

/// A lease shorter than the effects fires nothing twice: a firing timer is
/// held by its transaction, and timers still waiting in the slow pass may
/// go to another runner, the first then skipping them. (PostgreSQL, where
/// replicas share the timers; the all-in-one SQLite has one runner.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_lease_shorter_than_the_effects_fires_nothing_twice() {
    let setup = setup(Backend::Postgres).await;
    let db = &setup.db;
    let clock = frevix_platform::clock::Clock::system();
    let lease = chrono::Duration::milliseconds(200);
    let timers = Timers::new(clock.clone()).with_lease(lease);
    for i in 0..12 {
        schedule(&timers, db, &format!("slow{i:02}"), 0).await;
    }
    let slow: Arc<dyn OnTimer> = Arc::new(Slow(recorder(0)));
    let first = {
        let (timers, db, slow) = (timers.clone(), connect(&setup.url).await, slow.clone());
        tokio::spawn(async move { timers.fire_due(&db, &slow).await.unwrap() })
    };
    // Past the lease, while the first runner's effects still run.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let other = Timers::new(clock).with_lease(lease);
    let second = other
        .fire_due(&connect(&setup.url).await, &slow)
        .await
        .unwrap();
    let first = first.await.unwrap();
    assert!(
        second.fired > 0,
        "the waiting timers went to the other runner"
    );
    assert_eq!(
        first.skipped, second.fired,
        "the first skipped what it lost"
    );
    assert_eq!(first.fired + second.fired, 12, "{first:?} {second:?}");
    assert_eq!(first.failed + second.failed, 0);
    let counts = fired(db).await;
    assert_eq!(counts.len(), 12);
    assert!(
        counts.iter().all(|(_, n)| *n == 1),
        "fired twice: {counts:?}"
    );
}

const RACED: usize = 600;

async fn two_runners_fire_each_due_timer_exactly_once(backend: Backend) {
    let setup = setup(backend).await;
    let db = &setup.db;
    let clock = TestClock::new();
    let timers = Timers::new(clock.clock());
    for i in 0..RACED {
        schedule(&timers, db, &format!("t{i:04}"), 10).await;
    }
    clock.advance(chrono::Duration::seconds(11));
    // Two replicas: their own pools, runners and handlers, one clock.
    let handler = recorder(0);
    let replicas = [
        Timers::new(clock.clock()).runner(connect(&setup.url).await, handler.clone()),
        Timers::new(clock.clock()).runner(connect(&setup.url).await, handler.clone()),
    ];
    let deadline = std::time::Instant::now() + Duration::from_secs(60);
    while fired(db).await.len() < RACED && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    for replica in replicas {
        replica.shutdown(Duration::from_secs(5)).await;
    }
    let counts = fired(db).await;
    assert_eq!(counts.len(), RACED, "every timer fired");
    let doubled: Vec<_> = counts.iter().filter(|(_, n)| *n != 1).collect();
    assert!(doubled.is_empty(), "fired more than once: {doubled:?}");
}

on_both_backends!(
    a_timer_fires_once_when_due_and_a_cancelled_one_never,
    a_failed_effect_is_undone_and_tried_again_later,
    a_dead_runners_claim_lapses_to_another,
    two_runners_fire_each_due_timer_exactly_once,
);
