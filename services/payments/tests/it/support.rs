//! A ledger database of its own per test, on either backend.

use frevix_payments::Migrator;
use frevix_payments::ledger::Escrow;
use frevix_platform::db::Txn;
use frevix_platform::money::{Currency, Money};
use frevix_testkit::{Backend, MigratedDb};
use sea_orm::DatabaseConnection;
use uuid::Uuid;

/// A migrated payments database; dropped with the test.
pub struct Books {
    pub db: DatabaseConnection,
    _database: MigratedDb,
}

impl Books {
    pub async fn open(backend: Backend) -> Books {
        let database = MigratedDb::open::<Migrator>(backend, "payments", 8).await;
        Books {
            db: database.db.clone(),
            _database: database,
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
