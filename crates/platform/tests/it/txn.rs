//! `Txn`'s deferred writes on both backends. On PostgreSQL several of them
//! leave as one query string with their values written in as literals, so
//! the tests that matter most are that any value (quotes, backslashes,
//! control characters, any byte) is stored exactly as given, that a change
//! is still all or nothing, and that a statement after deferred writes sees
//! them.

use frevix_platform::db::Txn;
use frevix_testkit::{Backend, TestDatabase, on_both_backends};
use proptest::strategy::{Strategy, ValueTree};
use proptest::test_runner::TestRunner;
use sea_orm::sea_query::{Alias, Query};
use sea_orm::{ConnectionTrait, DatabaseConnection, Statement};
use sea_orm_migration::prelude::*;

struct NoTables;

#[async_trait::async_trait]
impl MigratorTrait for NoTables {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        Vec::new()
    }
}

struct Setup {
    _dir: tempfile::TempDir,
    _database: Option<TestDatabase>,
    db: DatabaseConnection,
}

async fn setup(backend: Backend) -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let (database, url) = match backend {
        Backend::Postgres => {
            let database = TestDatabase::create::<NoTables>("txn").await;
            let url = database.url.clone();
            (Some(database), url)
        }
        Backend::Sqlite => (
            None,
            frevix_platform::db::sqlite_url(&dir.path().join("txn.db")),
        ),
    };
    let db = frevix_platform::db::connect_and_migrate::<NoTables>(&url, 2)
        .await
        .unwrap();
    let bytes = match backend {
        Backend::Postgres => "BYTEA",
        Backend::Sqlite => "BLOB",
    };
    db.execute_unprepared(&format!(
        "CREATE TABLE notes (id BIGINT PRIMARY KEY, body TEXT NOT NULL, data {bytes} NOT NULL)"
    ))
    .await
    .unwrap();
    Setup {
        _dir: dir,
        _database: database,
        db,
    }
}

fn note(id: i64, body: &str, data: &[u8]) -> sea_orm::sea_query::InsertStatement {
    Query::insert()
        .into_table(Alias::new("notes"))
        .columns([Alias::new("id"), Alias::new("body"), Alias::new("data")])
        .values_panic([id.into(), body.into(), data.to_vec().into()])
        .to_owned()
}

fn defer(txn: &Txn, statement: &sea_orm::sea_query::InsertStatement) {
    txn.defer_statement(txn.get_database_backend().build(statement));
}

async fn notes(db: &impl ConnectionTrait) -> Vec<(i64, String, Vec<u8>)> {
    db.query_all_raw(Statement::from_string(
        db.get_database_backend(),
        "SELECT id, body, data FROM notes ORDER BY id",
    ))
    .await
    .unwrap()
    .iter()
    .map(|row| {
        (
            row.try_get("", "id").unwrap(),
            row.try_get("", "body").unwrap(),
            row.try_get("", "data").unwrap(),
        )
    })
    .collect()
}

/// Texts a literal could be broken by, then random ones (any character but
/// NUL, which no text column takes however it is sent).
fn hostile_texts() -> Vec<String> {
    let mut texts: Vec<String> = [
        "",
        "'",
        "''",
        "\\",
        "\\'",
        "'); DROP TABLE notes; --",
        "E'\\x41'",
        "$1 $2 ? ?1 :name",
        "line\nbreak\r\ttab\x08\x0c\x1a\x01\x7f",
        "\"double\" `back` $$dollar$$",
        "ünïcødé 漢字 🙂 \u{202e}rtl",
        "/* comment */ -- comment",
        ";",
    ]
    .iter()
    .map(|s| (*s).to_owned())
    .collect();
    let mut runner = TestRunner::deterministic();
    let random = proptest::string::string_regex("[^\\x00]{0,40}").unwrap();
    for _ in 0..300 {
        texts.push(random.new_tree(&mut runner).unwrap().current());
    }
    texts
}

async fn every_value_is_stored_exactly(backend: Backend) {
    let setup = setup(backend).await;
    let texts = hostile_texts();
    let all_bytes: Vec<u8> = (0..=255).collect();
    let mut expected = Vec::new();
    // Several writes per change, so they leave as one query string.
    for (chunk, texts) in texts.chunks(7).enumerate() {
        let txn = Txn::begin(&setup.db).await.unwrap();
        for (i, text) in texts.iter().enumerate() {
            let id = (chunk * 7 + i) as i64;
            let data: Vec<u8> = all_bytes.iter().map(|b| b.wrapping_add(id as u8)).collect();
            defer(&txn, &note(id, text, &data));
            expected.push((id, text.clone(), data));
        }
        txn.commit().await.unwrap();
    }
    let stored = notes(&setup.db).await;
    assert_eq!(stored.len(), expected.len());
    for (stored, expected) in stored.iter().zip(&expected) {
        assert_eq!(stored, expected, "stored differently than given");
    }
}

async fn deferred_writes_alone_are_all_or_nothing(backend: Backend) {
    let setup = setup(backend).await;
    let txn = Txn::begin(&setup.db).await.unwrap();
    defer(&txn, &note(1, "kept?", b"a"));
    defer(&txn, &note(2, "kept?", b"b"));
    defer(&txn, &note(1, "the same id again", b"c"));
    assert!(txn.commit().await.is_err(), "a duplicate key must fail");
    assert!(notes(&setup.db).await.is_empty(), "nothing may be kept");
    // The pool's connections are clean: the next change works.
    let txn = Txn::begin(&setup.db).await.unwrap();
    defer(&txn, &note(3, "after", b"d"));
    defer(&txn, &note(4, "after", b"e"));
    txn.commit().await.unwrap();
    assert_eq!(notes(&setup.db).await.len(), 2);
}

async fn a_failed_deferred_write_undoes_what_ran_before_it(backend: Backend) {
    let setup = setup(backend).await;
    let txn = Txn::begin(&setup.db).await.unwrap();
    txn.execute(&note(1, "ran at once", b"a")).await.unwrap();
    defer(&txn, &note(2, "deferred", b"b"));
    defer(&txn, &note(1, "the same id again", b"c"));
    assert!(txn.commit().await.is_err(), "a duplicate key must fail");
    assert!(notes(&setup.db).await.is_empty(), "nothing may be kept");
}

async fn a_statement_after_deferred_writes_sees_them(backend: Backend) {
    let setup = setup(backend).await;
    let txn = Txn::begin(&setup.db).await.unwrap();
    defer(&txn, &note(1, "one", b"a"));
    defer(&txn, &note(2, "two", b"b"));
    assert_eq!(notes(&txn).await.len(), 2, "the read must see both writes");
    // Not visible outside before the commit.
    if backend == Backend::Postgres {
        assert!(notes(&setup.db).await.is_empty());
    }
    txn.commit().await.unwrap();
    assert_eq!(notes(&setup.db).await.len(), 2);
}

async fn a_rollback_drops_deferred_writes(backend: Backend) {
    let setup = setup(backend).await;
    let txn = Txn::begin(&setup.db).await.unwrap();
    defer(&txn, &note(1, "one", b"a"));
    txn.rollback().await.unwrap();
    let txn = Txn::begin(&setup.db).await.unwrap();
    txn.execute(&note(2, "two", b"b")).await.unwrap();
    defer(&txn, &note(3, "three", b"c"));
    txn.rollback().await.unwrap();
    assert!(notes(&setup.db).await.is_empty());
}

on_both_backends!(
    every_value_is_stored_exactly,
    deferred_writes_alone_are_all_or_nothing,
    a_failed_deferred_write_undoes_what_ran_before_it,
    a_statement_after_deferred_writes_sees_them,
    a_rollback_drops_deferred_writes,
);
