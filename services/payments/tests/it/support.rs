//! A ledger database of its own per test, on either backend.

use frevix_payments::Migrator;
use frevix_payments::ledger::Escrow;
use frevix_platform::db::{Txn, connect_and_migrate, sqlite_url};
use frevix_platform::money::{Currency, Money};
use frevix_testkit::{Backend, TestDatabase};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

/// A migrated payments database; dropped with the test.
pub struct Books {
    pub db: DatabaseConnection,
    _postgres: Option<TestDatabase>,
    _sqlite: Option<tempfile::TempDir>,
}

impl Books {
    pub async fn open(backend: Backend) -> Books {
        match backend {
            Backend::Postgres => {
                let database = TestDatabase::create::<Migrator>("payments").await;
                let db = connect_and_migrate::<Migrator>(&database.url, 8)
                    .await
                    .unwrap();
                Books {
                    db,
                    _postgres: Some(database),
                    _sqlite: None,
                }
            }
            Backend::Sqlite => {
                let dir = tempfile::tempdir().unwrap();
                let url = sqlite_url(&dir.path().join("payments.db"));
                let db = connect_and_migrate::<Migrator>(&url, 1).await.unwrap();
                Books {
                    db,
                    _postgres: None,
                    _sqlite: Some(dir),
                }
            }
        }
    }

    pub async fn txn(&self) -> Txn {
        Txn::begin(&self.db).await.unwrap()
    }

    /// Every rule of the books holds.
    pub async fn assert_right(&self) {
        let problems = frevix_payments::store::books(&self.db).await.unwrap();
        assert!(problems.is_empty(), "{problems:#?}");
    }
}

pub fn usd(minor_units: i64) -> Money {
    Money::new(Currency::USD, minor_units)
}

/// A milestone's escrow between two new parties.
pub fn escrow() -> Escrow {
    Escrow {
        contract: Uuid::now_v7(),
        milestone: Uuid::now_v7(),
        client: Uuid::now_v7(),
        freelancer: Uuid::now_v7(),
        currency: Currency::USD,
    }
}
