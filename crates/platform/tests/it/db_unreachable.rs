//! A database out of reach is not a fault of ours: found by `make chaos`,
//! where a PostgreSQL restart made every RPC in flight answer INTERNAL.
//! Real failures — a connection refused, a connection the server ended —
//! are answered UNAVAILABLE with `DATABASE_UNAVAILABLE` and a `RetryInfo`,
//! and a bad statement is still INTERNAL.

use frevix_platform::error::{ApiError, unreachable};
use frevix_testkit::TestDatabase;
use frevix_testkit::status::{reason, retry_after};
use sea_orm::{ConnectOptions, ConnectionTrait, Statement};
use sea_orm_migration::prelude::*;
use tonic::{Code, Status};

struct NoTables;

#[async_trait::async_trait]
impl MigratorTrait for NoTables {
    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        Vec::new()
    }
}

fn answered(error: sea_orm::DbErr) -> Status {
    ApiError::from(error).into()
}

#[tokio::test]
async fn a_refused_connection_is_answered_unavailable() {
    let nowhere = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = nowhere.local_addr().unwrap().port();
    drop(nowhere);
    let mut options = ConnectOptions::new(format!("postgres://postgres@127.0.0.1:{port}/none"));
    options.connect_timeout(std::time::Duration::from_secs(2));
    let error = sea_orm::Database::connect(options).await.unwrap_err();
    assert!(unreachable(&error), "{error:?}");
    let status = answered(error);
    assert_eq!(status.code(), Code::Unavailable, "{status:?}");
    assert_eq!(reason(&status), "DATABASE_UNAVAILABLE");
    assert!(retry_after(&status).is_some());
}

#[tokio::test]
async fn a_connection_the_server_ended_is_answered_unavailable() {
    let database = TestDatabase::create::<NoTables>("unreachable").await;
    let mut options = ConnectOptions::new(database.url.clone());
    // One connection, used as it is: the pool must not quietly replace it.
    options
        .max_connections(1)
        .min_connections(1)
        .test_before_acquire(false);
    let db = sea_orm::Database::connect(options).await.unwrap();
    let backend = db.get_database_backend();
    let pid: i32 = db
        .query_one_raw(Statement::from_string(backend, "SELECT pg_backend_pid()"))
        .await
        .unwrap()
        .unwrap()
        .try_get_by_index(0)
        .unwrap();
    let admin = sea_orm::Database::connect(database.url.clone())
        .await
        .unwrap();
    admin
        .execute_raw(Statement::from_string(
            backend,
            format!("SELECT pg_terminate_backend({pid})"),
        ))
        .await
        .unwrap();
    let error = db
        .execute_raw(Statement::from_string(backend, "SELECT 1"))
        .await
        .unwrap_err();
    assert!(unreachable(&error), "{error:?}");
    assert_eq!(answered(error).code(), Code::Unavailable);

    // A statement of ours that is wrong is still our fault.
    let wrong = admin
        .execute_raw(Statement::from_string(
            backend,
            "SELECT * FROM no_such_table",
        ))
        .await
        .unwrap_err();
    assert!(!unreachable(&wrong));
    assert_eq!(answered(wrong).code(), Code::Internal);
}
