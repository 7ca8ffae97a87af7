//! What the parties see of the ledger: balances per currency and the
//! transactions of their contracts. Read from the ledger's own tables (the
//! balances the database keeps as it posts), never recomputed elsewhere.

use chrono::{DateTime, Utc};
use sea_orm::{ConnectionTrait, DatabaseBackend, DbErr, Statement, Value};
use uuid::Uuid;

/// `sql` written with `$n` placeholders, for `backend`.
fn dialect(backend: DatabaseBackend, sql: &str) -> String {
    match backend {
        DatabaseBackend::Postgres => sql.to_owned(),
        _ => sql.replace('$', "?"),
    }
}

async fn rows(
    db: &impl ConnectionTrait,
    sql: &str,
    values: Vec<Value>,
) -> Result<Vec<sea_orm::QueryResult>, DbErr> {
    let backend = db.get_database_backend();
    db.query_all_raw(Statement::from_sql_and_values(
        backend,
        dialect(backend, sql),
        values,
    ))
    .await
}

/// One of the caller's accounts, or the sum of escrow on one side of their
/// contracts (`kind` "escrow_as_client" / "escrow_as_freelancer").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Figure {
    pub kind: String,
    pub currency: String,
    pub minor_units: i64,
}

/// The caller's own accounts and the escrow held on their contracts.
pub async fn figures(db: &impl ConnectionTrait, owner: Uuid) -> Result<Vec<Figure>, DbErr> {
    let sql = "SELECT kind, currency, balance_minor AS minor FROM ledger_accounts \
               WHERE owner = $1 \
               UNION ALL \
               SELECT 'escrow_as_client' AS kind, a.currency, CAST(sum(a.balance_minor) AS BIGINT) AS minor \
               FROM ledger_accounts a JOIN milestones m ON a.owner = m.id \
               JOIN contracts c ON c.id = m.contract_id \
               WHERE a.kind = 'escrow' AND c.client_id = $1 GROUP BY a.currency \
               UNION ALL \
               SELECT 'escrow_as_freelancer' AS kind, a.currency, CAST(sum(a.balance_minor) AS BIGINT) AS minor \
               FROM ledger_accounts a JOIN milestones m ON a.owner = m.id \
               JOIN contracts c ON c.id = m.contract_id \
               WHERE a.kind = 'escrow' AND c.freelancer_id = $1 GROUP BY a.currency \
               UNION ALL \
               SELECT 'disputed_as_client' AS kind, a.currency, CAST(sum(a.balance_minor) AS BIGINT) AS minor \
               FROM ledger_accounts a JOIN contracts c ON c.id = ( \
                 SELECT t.contract_id FROM ledger_transactions t \
                 WHERE t.milestone_id = a.owner AND t.kind = 'fund' LIMIT 1) \
               WHERE a.kind = 'disputed' AND c.client_id = $1 GROUP BY a.currency";
    rows(db, sql, vec![owner.into()])
        .await?
        .into_iter()
        .map(|row| {
            Ok(Figure {
                kind: row.try_get("", "kind")?,
                currency: row.try_get("", "currency")?,
                minor_units: row.try_get("", "minor")?,
            })
        })
        .collect()
}

/// Which transactions to list.
#[derive(Debug, Clone)]
pub struct HistoryFilter {
    pub party: Uuid,
    pub contract: Option<Uuid>,
    pub since: Option<DateTime<Utc>>,
    pub until: Option<DateTime<Utc>>,
    /// The last one of the previous page (time, id).
    pub after: Option<(DateTime<Utc>, String)>,
    pub limit: u64,
}

/// A transaction of the party's contracts, with its entries.
#[derive(Debug, Clone)]
pub struct Moved {
    pub id: String,
    pub kind: String,
    pub currency: String,
    pub contract_id: Uuid,
    pub milestone_id: Option<Uuid>,
    pub client_id: Uuid,
    pub created_at: DateTime<Utc>,
    /// (account key, amount) of each entry.
    pub entries: Vec<(String, i64)>,
}

/// The party's transactions, newest first: everything on contracts they
/// pay for, and releases, settlements and payouts of contracts they work
/// on.
pub async fn history(
    db: &impl ConnectionTrait,
    filter: &HistoryFilter,
) -> Result<Vec<Moved>, DbErr> {
    let mut sql = String::from(
        "SELECT t.id, t.kind, t.currency, t.contract_id, t.milestone_id, t.created_at, \
         c.client_id FROM ledger_transactions t JOIN contracts c ON c.id = t.contract_id \
         WHERE ((c.client_id = $1 AND t.kind NOT IN ('chargeback', 'chargeback_won', 'payout')) \
            OR (c.freelancer_id = $1 AND t.kind IN ('release', 'settle', 'payout')))",
    );
    let mut values: Vec<Value> = vec![filter.party.into()];
    let mut bind = |sql: &mut String, clause: &str, value: Value| {
        values.push(value);
        sql.push_str(&clause.replace("$n", &format!("${}", values.len())));
    };
    if let Some(contract) = filter.contract {
        bind(&mut sql, " AND t.contract_id = $n", contract.into());
    }
    if let Some(since) = filter.since {
        bind(&mut sql, " AND t.created_at >= $n", since.into());
    }
    if let Some(until) = filter.until {
        bind(&mut sql, " AND t.created_at < $n", until.into());
    }
    if let Some((at, id)) = &filter.after {
        bind(&mut sql, " AND (t.created_at < $n", (*at).into());
        bind(&mut sql, " OR (t.created_at = $n", (*at).into());
        bind(&mut sql, " AND t.id < $n))", id.clone().into());
    }
    sql.push_str(&format!(
        " ORDER BY t.created_at DESC, t.id DESC LIMIT {}",
        filter.limit
    ));
    let mut moved = Vec::new();
    for row in rows(db, &sql, values).await? {
        moved.push(Moved {
            id: row.try_get("", "id")?,
            kind: row.try_get("", "kind")?,
            currency: row.try_get("", "currency")?,
            contract_id: row.try_get("", "contract_id")?,
            milestone_id: row.try_get("", "milestone_id")?,
            client_id: row.try_get("", "client_id")?,
            created_at: row.try_get("", "created_at")?,
            entries: Vec::new(),
        });
    }
    let ids: Vec<String> = moved.iter().map(|m| m.id.clone()).collect();
    attach_entries(db, &mut moved, ids).await?;
    Ok(moved)
}

/// Reads the entries of `ids` into `moved`.
async fn attach_entries(
    db: &impl ConnectionTrait,
    moved: &mut [Moved],
    ids: Vec<String>,
) -> Result<(), DbErr> {
    if ids.is_empty() {
        return Ok(());
    }
    let marks: Vec<String> = (1..=ids.len()).map(|n| format!("${n}")).collect();
    let sql = format!(
        "SELECT transaction_id, account_key, amount_minor FROM ledger_entries \
         WHERE transaction_id IN ({}) ORDER BY transaction_id, seq",
        marks.join(", ")
    );
    let ids: Vec<Value> = ids.into_iter().map(Value::from).collect();
    for row in rows(db, &sql, ids).await? {
        let id: String = row.try_get("", "transaction_id")?;
        if let Some(one) = moved.iter_mut().find(|m| m.id == id) {
            one.entries.push((
                row.try_get("", "account_key")?,
                row.try_get("", "amount_minor")?,
            ));
        }
    }
    Ok(())
}

/// The transactions of one milestone's (or invoice's) escrow, oldest
/// first, with their entries.
pub async fn of_escrow(db: &impl ConnectionTrait, subject: Uuid) -> Result<Vec<Moved>, DbErr> {
    let sql = "SELECT t.id, t.kind, t.currency, t.contract_id, t.milestone_id, t.created_at, \
               c.client_id FROM ledger_transactions t \
               JOIN contracts c ON c.id = t.contract_id \
               WHERE t.milestone_id = $1 ORDER BY t.created_at, t.id";
    let mut moved = Vec::new();
    for row in rows(db, sql, vec![subject.into()]).await? {
        moved.push(Moved {
            id: row.try_get("", "id")?,
            kind: row.try_get("", "kind")?,
            currency: row.try_get("", "currency")?,
            contract_id: row.try_get("", "contract_id")?,
            milestone_id: row.try_get("", "milestone_id")?,
            client_id: row.try_get("", "client_id")?,
            created_at: row.try_get("", "created_at")?,
            entries: Vec::new(),
        });
    }
    let ids: Vec<String> = moved.iter().map(|m| m.id.clone()).collect();
    attach_entries(db, &mut moved, ids).await?;
    Ok(moved)
}

/// What the books say the provider moved between `from` and `until`:
/// charges (funding), transfers (payouts) and refunds, each with the
/// provider's id, as (kind, id, amount, currency, time).
pub async fn provider_moves(
    db: &impl ConnectionTrait,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Vec<(String, String, i64, String, DateTime<Utc>)>, DbErr> {
    let sql = "SELECT t.kind AS kind, t.provider_ref AS id, e.amount_minor AS amount, \
               t.currency AS currency, t.created_at AS at \
               FROM ledger_transactions t \
               JOIN ledger_entries e ON e.transaction_id = t.id \
               JOIN ledger_accounts a ON a.key = e.account_key \
               WHERE t.provider_ref IS NOT NULL AND t.created_at >= $1 AND t.created_at < $2 \
               AND ((t.kind = 'fund' AND a.kind = 'escrow') \
                 OR (t.kind = 'payout' AND a.kind = 'freelancer_paid_out')) \
               UNION ALL \
               SELECT 'refund' AS kind, refund_id AS id, amount_minor AS amount, \
               currency, refunded_at AS at FROM refunds \
               WHERE refund_id IS NOT NULL AND refunded_at >= $1 AND refunded_at < $2";
    rows(db, sql, vec![from.into(), until.into()])
        .await?
        .into_iter()
        .map(|row| {
            Ok((
                row.try_get("", "kind")?,
                row.try_get("", "id")?,
                row.try_get("", "amount")?,
                row.try_get("", "currency")?,
                row.try_get("", "at")?,
            ))
        })
        .collect()
}
