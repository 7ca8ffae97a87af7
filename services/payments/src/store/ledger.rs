//! Writing and reading the ledger. A transaction is written once: posting
//! the same id again answers what the first posting did, and the same id
//! with other content is a conflict. The database checks the books'
//! rules as it writes (see `ledger_schema`); this module turns its refusals
//! back into [`LedgerError`]s.

use chrono::{DateTime, Utc};
use frevix_platform::db::{Txn, is_unique_violation};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ConnectionTrait, DbErr, EntityTrait, Set, Statement};

use super::entities::{ledger_accounts, ledger_entries, ledger_transactions};
use super::ledger_schema::{OVERDRAWN, SEALED};
use crate::ledger::{Account, LedgerError, Transaction, TransactionId};

/// What a posting did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Posted {
    /// Written now.
    Written,
    /// Written before, with the same content: nothing changed.
    Replayed,
}

#[derive(Debug, thiserror::Error)]
pub enum PostError {
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    #[error(transparent)]
    Db(#[from] DbErr),
}

/// Posts `transaction` in `txn`. Two writers posting one id at once: the
/// second waits for the first and then answers as a replay (or a conflict).
pub async fn post(
    txn: &Txn,
    transaction: &Transaction,
    now: DateTime<Utc>,
) -> Result<Posted, PostError> {
    let fingerprint = transaction.fingerprint();
    if let Some(done) = written_before(txn, transaction, &fingerprint).await? {
        return Ok(done);
    }
    // A savepoint: a refused write leaves the caller's transaction usable.
    txn.execute_unprepared("SAVEPOINT ledger_post").await?;
    match write(txn, transaction, &fingerprint, now).await {
        Ok(()) => {
            txn.execute_unprepared("RELEASE SAVEPOINT ledger_post")
                .await?;
            Ok(Posted::Written)
        }
        Err(error) => {
            txn.execute_unprepared("ROLLBACK TO SAVEPOINT ledger_post")
                .await?;
            txn.execute_unprepared("RELEASE SAVEPOINT ledger_post")
                .await?;
            let message = error.to_string();
            // Another writer posted the same id first: its header seals
            // the id (our entries are refused) or its entries hold the keys.
            if is_unique_violation(&error) || message.contains(SEALED) {
                if let Some(done) = written_before(txn, transaction, &fingerprint).await? {
                    return Ok(done);
                }
                if let Some(reference) = &transaction.provider_ref {
                    return Err(LedgerError::ProviderRefTaken(reference.clone()).into());
                }
            }
            if OVERDRAWN.iter().any(|name| message.contains(name)) {
                return Err(LedgerError::Overdrawn(transaction.id().to_string()).into());
            }
            Err(error.into())
        }
    }
}

async fn written_before(
    txn: &Txn,
    transaction: &Transaction,
    fingerprint: &str,
) -> Result<Option<Posted>, PostError> {
    match ledger_transactions::Entity::find_by_id(transaction.id().as_str())
        .one(txn)
        .await?
    {
        None => Ok(None),
        Some(row) if row.fingerprint == fingerprint => Ok(Some(Posted::Replayed)),
        Some(_) => Err(LedgerError::Conflict(transaction.id().to_string()).into()),
    }
}

/// The header of transaction `id`, if it was written.
pub async fn find_transaction(
    db: &impl ConnectionTrait,
    id: &TransactionId,
) -> Result<Option<ledger_transactions::Model>, DbErr> {
    ledger_transactions::Entity::find_by_id(id.as_str())
        .one(db)
        .await
}

/// The transaction that applied the provider's object `reference`.
pub async fn find_transaction_by_provider_ref(
    db: &impl ConnectionTrait,
    reference: &str,
) -> Result<Option<ledger_transactions::Model>, DbErr> {
    use sea_orm::{ColumnTrait, QueryFilter};
    ledger_transactions::Entity::find()
        .filter(ledger_transactions::Column::ProviderRef.eq(reference))
        .one(db)
        .await
}

/// Accounts, entries, then the header that seals them.
async fn write(
    txn: &Txn,
    transaction: &Transaction,
    fingerprint: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let postings = transaction.postings();
    ledger_accounts::Entity::insert_many(postings.iter().map(|p| ledger_accounts::ActiveModel {
        key: Set(p.account.key()),
        kind: Set(p.account.kind.as_str().to_owned()),
        owner: Set(p.account.owner),
        currency: Set(p.account.currency.to_owned()),
        balance_minor: Set(0),
        may_go_negative: Set(p.account.kind.may_go_negative()),
    }))
    .on_conflict(
        OnConflict::column(ledger_accounts::Column::Key)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(txn)
    .await?;
    let id = transaction.id().to_string();
    ledger_entries::Entity::insert_many(postings.iter().zip(1..).map(|(p, seq)| {
        ledger_entries::ActiveModel {
            transaction_id: Set(id.clone()),
            seq: Set(seq),
            account_key: Set(p.account.key()),
            currency: Set(p.account.currency.to_owned()),
            amount_minor: Set(p.amount),
        }
    }))
    .exec_without_returning(txn)
    .await?;
    ledger_transactions::Entity::insert(ledger_transactions::ActiveModel {
        id: Set(id),
        kind: Set(transaction.kind().as_str().to_owned()),
        currency: Set(transaction.currency().code().to_owned()),
        contract_id: Set(transaction.contract_id),
        milestone_id: Set(transaction.milestone_id),
        provider_ref: Set(transaction.provider_ref.clone()),
        fingerprint: Set(fingerprint.to_owned()),
        created_at: Set(now),
    })
    .exec_without_returning(txn)
    .await?;
    Ok(())
}

/// `account`'s balance (0 for an account nothing was posted to).
pub async fn balance(db: &impl ConnectionTrait, account: &Account) -> Result<i64, DbErr> {
    Ok(ledger_accounts::Entity::find_by_id(account.key())
        .one(db)
        .await?
        .map_or(0, |row| row.balance_minor))
}

/// Every way the books could be wrong, each as one sentence; empty when
/// they are right: a balance that is not the sum of its account's
/// entries, a transaction that does not sum to zero or has entries in
/// another currency, an entry without its transaction, an account below
/// zero that may not be.
pub async fn books(db: &impl ConnectionTrait) -> Result<Vec<String>, DbErr> {
    let checks: [(&str, &str); 4] = [
        (
            "balance differs from its entries",
            "SELECT a.key AS what FROM ledger_accounts a \
             WHERE a.balance_minor <> (SELECT coalesce(sum(e.amount_minor), 0) \
                                       FROM ledger_entries e WHERE e.account_key = a.key)",
        ),
        (
            "transaction does not balance",
            "SELECT t.id AS what FROM ledger_transactions t \
             WHERE (SELECT coalesce(sum(e.amount_minor), 0) FROM ledger_entries e \
                    WHERE e.transaction_id = t.id) <> 0 \
                OR EXISTS (SELECT 1 FROM ledger_entries e \
                           WHERE e.transaction_id = t.id AND e.currency <> t.currency)",
        ),
        (
            "entry without its transaction",
            "SELECT e.transaction_id AS what FROM ledger_entries e \
             WHERE NOT EXISTS (SELECT 1 FROM ledger_transactions t \
                               WHERE t.id = e.transaction_id)",
        ),
        (
            "account below zero",
            "SELECT key AS what FROM ledger_accounts \
             WHERE balance_minor < 0 AND kind NOT IN ('client_funding', 'provider_fees')",
        ),
    ];
    let backend = db.get_database_backend();
    let mut problems = Vec::new();
    for (problem, sql) in checks {
        for row in db
            .query_all_raw(Statement::from_string(backend, sql))
            .await?
        {
            let what: String = row.try_get("", "what")?;
            problems.push(format!("{problem}: {what}"));
        }
    }
    Ok(problems)
}
