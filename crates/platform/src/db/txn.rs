//! The transaction every change runs in. It is a database transaction that
//! also remembers what must happen once it commits: an outbox that had
//! events published through it wakes its relay, so events leave at once
//! without every handler remembering to say so. Publishing takes a `Txn`,
//! so there is no way to publish outside one.
//!
//! It also saves round trips, which is what a change costs on PostgreSQL
//! (each statement is a trip to the server and back while the connection
//! is held). It begins only when its first statement runs, and writes whose
//! answer nobody needs ([`Txn::defer`]: the timeline entry, the outbox row,
//! the new rows of an order) wait and leave together, as one simple query,
//! just before the next statement or with the commit. A change made only of
//! such writes is one trip: its statements in one query string, which
//! PostgreSQL runs as one transaction. Nothing reads around them: any other
//! statement sends what waits first, so every statement sees the ones
//! before it as if each had run at once. A deferred write that fails makes
//! the statement after it, or the commit, fail, and nothing is kept.

use std::sync::{Arc, Mutex};

use sea_orm::sea_query::{PostgresQueryBuilder, inject_parameters};
use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr, ExecResult,
    QueryResult, QueryTrait, Statement, TransactionTrait,
};
use tokio::sync::{Notify, OnceCell};

/// A database transaction with writes waiting to be sent and actions to run
/// after its commit.
pub struct Txn {
    db: DatabaseConnection,
    inner: OnceCell<DatabaseTransaction>,
    deferred: Mutex<Vec<Statement>>,
    wake_on_commit: Mutex<Vec<Arc<Notify>>>,
}

fn lock<T>(mutex: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    mutex
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl Txn {
    /// A transaction on `db`; it begins with its first statement.
    pub async fn begin(db: &DatabaseConnection) -> Result<Txn, DbErr> {
        Ok(Txn {
            db: db.clone(),
            inner: OnceCell::new(),
            deferred: Mutex::new(Vec::new()),
            wake_on_commit: Mutex::new(Vec::new()),
        })
    }

    /// Queues `query` (an insert, update or delete whose result the change
    /// does not look at) to be sent with the next statement or the commit.
    pub fn defer(&self, query: &impl QueryTrait) {
        self.defer_statement(query.build(self.db.get_database_backend()));
    }

    /// [`Txn::defer`] for a statement built already.
    pub fn defer_statement(&self, statement: Statement) {
        lock(&self.deferred).push(statement);
    }

    /// Commits, then wakes whatever asked to be woken.
    pub async fn commit(self) -> Result<(), DbErr> {
        let waiting = std::mem::take(&mut *lock(&self.deferred));
        match self.inner.into_inner() {
            Some(txn) => {
                send(&txn, waiting).await?;
                txn.commit().await?;
            }
            None if waiting.is_empty() => {}
            None if waiting.len() == 1 || self.db.get_database_backend() == DbBackend::Postgres => {
                // One statement, or one query string, is one implicit
                // transaction: all or nothing.
                send(&self.db, waiting).await?;
            }
            None => {
                let txn = self.db.begin().await?;
                send(&txn, waiting).await?;
                txn.commit().await?;
            }
        }
        let wake = self
            .wake_on_commit
            .into_inner()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for notify in wake {
            notify.notify_one();
        }
        Ok(())
    }

    /// Rolls back: what ran is undone, what waited is dropped.
    pub async fn rollback(self) -> Result<(), DbErr> {
        match self.inner.into_inner() {
            Some(txn) => txn.rollback().await,
            None => Ok(()),
        }
    }

    /// Wakes `notify` once this transaction has committed (never if it
    /// rolls back). Asking twice for the same one wakes it once.
    pub fn wake_on_commit(&self, notify: &Arc<Notify>) {
        let mut wake = lock(&self.wake_on_commit);
        if !wake.iter().any(|known| Arc::ptr_eq(known, notify)) {
            wake.push(notify.clone());
        }
    }

    /// The open transaction, begun now if it was not, with every deferred
    /// write sent: what the next statement may read.
    async fn ready(&self) -> Result<&DatabaseTransaction, DbErr> {
        let txn = self.inner.get_or_try_init(|| self.db.begin()).await?;
        let waiting = std::mem::take(&mut *lock(&self.deferred));
        send(txn, waiting).await?;
        Ok(txn)
    }
}

/// Sends `statements` in order on `db` (a transaction, or the pool when
/// they are all the change has): on PostgreSQL in one round trip.
async fn send(db: &impl ConnectionTrait, statements: Vec<Statement>) -> Result<(), DbErr> {
    if statements.len() > 1 && db.get_database_backend() == DbBackend::Postgres {
        return db.execute_unprepared(&joined(&statements)).await.map(drop);
    }
    for statement in statements {
        db.execute_raw(statement).await?;
    }
    Ok(())
}

/// The statements as one query string, each with its values written into
/// it as literals by sea-query's PostgreSQL writer (strings escaped, bytes
/// as hex), since a query string carries no parameters.
fn joined(statements: &[Statement]) -> String {
    let mut sql = String::new();
    for statement in statements {
        let values = statement.values.as_ref().map_or(&[][..], |v| &v.0[..]);
        sql.push_str(&inject_parameters(
            &statement.sql,
            values,
            &PostgresQueryBuilder,
        ));
        sql.push_str(";\n");
    }
    sql
}

#[async_trait::async_trait]
impl ConnectionTrait for Txn {
    fn get_database_backend(&self) -> DbBackend {
        self.db.get_database_backend()
    }

    async fn execute_raw(&self, stmt: Statement) -> Result<ExecResult, DbErr> {
        self.ready().await?.execute_raw(stmt).await
    }

    async fn execute_unprepared(&self, sql: &str) -> Result<ExecResult, DbErr> {
        self.ready().await?.execute_unprepared(sql).await
    }

    async fn query_one_raw(&self, stmt: Statement) -> Result<Option<QueryResult>, DbErr> {
        self.ready().await?.query_one_raw(stmt).await
    }

    async fn query_all_raw(&self, stmt: Statement) -> Result<Vec<QueryResult>, DbErr> {
        self.ready().await?.query_all_raw(stmt).await
    }
}
