//! `frevix migrate <service>`, as the Kubernetes migration Job runs it:
//! several at once against one empty PostgreSQL database all succeed (the
//! advisory lock serialises them), the schema is there once, and without a
//! database URL it stops naming the key to set.

// A failed expectation should panic in a test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use frevix_testkit::TestDatabase;
use sea_orm::{ConnectionTrait, Database, Statement};

fn migrate(service: &str, url: Option<&str>) -> tokio::process::Command {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_frevix"));
    command
        .args(["migrate", service])
        .env_remove("FREVIX_CONFIG")
        .kill_on_drop(true);
    for name in ["IDENTITY", "MARKETPLACE", "MESSAGING"] {
        command.env_remove(format!("FREVIX_{name}__DATABASE__URL"));
    }
    if let Some(url) = url {
        command.env(
            format!("FREVIX_{}__DATABASE__URL", service.to_uppercase()),
            url,
        );
    }
    command
}

#[tokio::test]
async fn concurrent_migrations_apply_each_migration_once() {
    let database = TestDatabase::empty().await;
    let runs: Vec<_> = (0..4)
        .map(|_| tokio::spawn(migrate("messaging", Some(&database.url)).output()))
        .collect();
    for run in runs {
        let output = run.await.unwrap().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        assert!(
            String::from_utf8_lossy(&output.stdout)
                .contains("messaging.database: migrations applied")
        );
    }
    let db = Database::connect(&database.url).await.unwrap();
    let count = |sql: &'static str| {
        let db = db.clone();
        async move {
            db.query_one_raw(Statement::from_string(db.get_database_backend(), sql))
                .await
                .unwrap()
                .unwrap()
                .try_get_by_index::<i64>(0)
                .unwrap()
        }
    };
    let applied = count("SELECT count(*) FROM seaql_migrations").await;
    let distinct = count("SELECT count(DISTINCT version) FROM seaql_migrations").await;
    assert_eq!(applied, distinct);
    assert_eq!(
        applied as usize,
        <frevix_messaging::Migrator as sea_orm_migration::MigratorTrait>::migrations().len()
    );
    assert_eq!(count("SELECT count(*) FROM messages").await, 0);
    db.close().await.unwrap();
}

#[tokio::test]
async fn migrate_without_a_database_names_the_key() {
    let output = migrate("identity", None).output().await.unwrap();
    assert!(!output.status.success());
    let said = String::from_utf8_lossy(&output.stderr);
    assert!(said.contains("identity.database"), "{said}");
}
