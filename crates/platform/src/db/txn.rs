//! The transaction every change runs in. It is a database transaction that
//! also remembers what must happen once it commits: an outbox that had
//! events published through it wakes its relay, so events leave at once
//! without every handler remembering to say so. Publishing takes a `Txn`,
//! so there is no way to publish outside one.

use std::sync::{Arc, Mutex};

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, ExecResult,
    QueryResult, Statement, TransactionTrait,
};
use tokio::sync::Notify;

/// A database transaction with actions to run after its commit.
pub struct Txn {
    inner: DatabaseTransaction,
    wake_on_commit: Mutex<Vec<Arc<Notify>>>,
}

impl Txn {
    /// Begins a transaction on `db`.
    pub async fn begin(db: &DatabaseConnection) -> Result<Txn, DbErr> {
        Ok(Txn {
            inner: db.begin().await?,
            wake_on_commit: Mutex::new(Vec::new()),
        })
    }

    /// Commits, then wakes whatever asked to be woken.
    pub async fn commit(self) -> Result<(), DbErr> {
        self.inner.commit().await?;
        let wake = self
            .wake_on_commit
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for notify in wake {
            notify.notify_one();
        }
        Ok(())
    }

    pub async fn rollback(self) -> Result<(), DbErr> {
        self.inner.rollback().await
    }

    /// Wakes `notify` once this transaction has committed (never if it
    /// rolls back). Asking twice for the same one wakes it once.
    pub fn wake_on_commit(&self, notify: &Arc<Notify>) {
        let mut wake = self
            .wake_on_commit
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if !wake.iter().any(|known| Arc::ptr_eq(known, notify)) {
            wake.push(notify.clone());
        }
    }
}

#[async_trait::async_trait]
impl ConnectionTrait for Txn {
    fn get_database_backend(&self) -> DbBackend {
        self.inner.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.inner.execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.inner.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.inner.query_one_raw(stmt).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.inner.query_all_raw(stmt).await
    }
}
