//! SQLite's in-place readers (`Reads::Sqlite`): they read what sea-orm
//! wrote, in its own forms (UUIDs as 16 bytes, times as RFC 3339 text,
//! compared textually in SQL), see every commit of the writer as soon as it
//! returns, even while 40 readers run beside it, and cannot write.

use std::sync::Arc;

use chrono::{DateTime, Duration, TimeZone, Utc};
use frevix_platform::db::{Reads, SqliteReaders, SqliteTime, SqliteUuid};
use sea_orm::sea_query::{Alias, Expr, ExprTrait, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection};
use sea_orm_migration::prelude::*;
use uuid::Uuid;

struct NoTables;

#[async_trait::async_trait]
impl MigratorTrait for NoTables {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        Vec::new()
    }
}

async fn setup(dir: &tempfile::TempDir) -> (DatabaseConnection, Arc<SqliteReaders>) {
    let url = frevix_platform::db::sqlite_url(&dir.path().join("reads.db"));
    let db = frevix_platform::db::connect_and_migrate::<NoTables>(&url, 1)
        .await
        .unwrap();
    db.execute_unprepared(
        "CREATE TABLE things (id BLOB PRIMARY KEY, at TEXT NOT NULL, gone TEXT, n INTEGER NOT NULL)",
    )
    .await
    .unwrap();
    let Reads::Sqlite(readers) = Reads::open(&url, 4).await.unwrap() else {
        panic!("an SQLite URL opens SQLite readers");
    };
    (db, readers)
}

fn things() -> Alias {
    Alias::new("things")
}

async fn insert(db: &DatabaseConnection, id: Uuid, at: DateTime<Utc>, gone: Option<DateTime<Utc>>) {
    let insert = Query::insert()
        .into_table(things())
        .columns([
            Alias::new("id"),
            Alias::new("at"),
            Alias::new("gone"),
            Alias::new("n"),
        ])
        .values_panic([id.into(), at.into(), gone.into(), 0.into()])
        .to_owned();
    db.execute(&insert).await.unwrap();
}

#[tokio::test]
async fn reads_uuids_and_times_as_sea_orm_wrote_them() {
    let dir = tempfile::tempdir().unwrap();
    let (db, readers) = setup(&dir).await;
    let base = Utc.with_ymd_and_hms(2026, 12, 2, 4, 7, 47).unwrap();
    // Whole seconds, milliseconds, microseconds and nanoseconds: sqlx
    // writes each with as many digits as it needs.
    let times: Vec<DateTime<Utc>> = [0, 5_000_000, 123_456_000, 987_654_321]
        .iter()
        .map(|nanos| base + Duration::nanoseconds(*nanos))
        .collect();
    let mut ids = Vec::new();
    for (i, at) in times.iter().enumerate() {
        let id = Uuid::now_v7();
        let gone = (i % 2 == 0).then(|| *at + Duration::days(1));
        insert(&db, id, *at, gone).await;
        ids.push((id, *at, gone));
    }
    for (id, at, gone) in &ids {
        let read = readers
            .read(|db| {
                db.query_row(
                    "SELECT id, at, gone FROM things WHERE id = ?1",
                    [SqliteUuid(*id)],
                    |row| {
                        Ok((
                            row.get::<_, SqliteUuid>(0)?.0,
                            row.get::<_, SqliteTime>(1)?.0,
                            row.get::<_, Option<SqliteTime>>(2)?.map(|t| t.0),
                        ))
                    },
                )
            })
            .unwrap();
        assert_eq!(read, (*id, *at, *gone));
    }
    // A bound time compares as sea-orm's own filter does, at every edge.
    for at in &times {
        let by_sea_orm = db
            .query_all(
                &Query::select()
                    .column(Alias::new("id"))
                    .from(things())
                    .and_where(Expr::col(Alias::new("at")).gt(*at))
                    .to_owned(),
            )
            .await
            .unwrap()
            .len();
        let by_reader: i64 = readers
            .read(|db| {
                db.query_row(
                    "SELECT count(*) FROM things WHERE at > ?1",
                    [SqliteTime(*at)],
                    |row| row.get(0),
                )
            })
            .unwrap();
        assert_eq!(
            usize::try_from(by_reader).unwrap(),
            by_sea_orm,
            "rows after {at}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn readers_see_each_commit_of_the_writer_at_once() {
    let dir = tempfile::tempdir().unwrap();
    let (db, readers) = setup(&dir).await;
    let id = Uuid::now_v7();
    insert(&db, id, Utc::now(), None).await;
    let read_n = move |readers: &SqliteReaders| {
        readers
            .read(|db| {
                db.query_row(
                    "SELECT n FROM things WHERE id = ?1",
                    [SqliteUuid(id)],
                    |row| row.get::<_, i64>(0),
                )
            })
            .unwrap()
    };
    // 40 readers run while the writer commits 200 times: none ever sees
    // the count go back, and a read after a commit returned sees it.
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let crowd: Vec<_> = (0..40)
        .map(|_| {
            let readers = readers.clone();
            let stop = stop.clone();
            tokio::spawn(async move {
                let (mut last, mut reads) = (0, 0);
                while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                    let n = read_n(&readers);
                    assert!(n >= last, "read {n} after {last}");
                    last = n;
                    reads += 1;
                    tokio::task::yield_now().await;
                }
                reads
            })
        })
        .collect();
    for n in 1..=200_i64 {
        let update = Query::update()
            .table(things())
            .value(Alias::new("n"), n)
            .and_where(Expr::col(Alias::new("id")).eq(id))
            .to_owned();
        db.execute(&update).await.unwrap();
        assert_eq!(read_n(&readers), n, "a read right after commit {n}");
    }
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    for reader in crowd {
        assert!(reader.await.unwrap() > 0);
    }
}

#[tokio::test]
async fn readers_cannot_write() {
    let dir = tempfile::tempdir().unwrap();
    let (db, readers) = setup(&dir).await;
    let id = Uuid::now_v7();
    insert(&db, id, Utc::now(), None).await;
    let refused = readers.read(|db| db.execute("UPDATE things SET n = 7", []));
    assert!(refused.is_err(), "a reader wrote: {refused:?}");
    let n: i64 = readers
        .read(|db| db.query_row("SELECT n FROM things", [], |row| row.get(0)))
        .unwrap();
    assert_eq!(n, 0);
}
