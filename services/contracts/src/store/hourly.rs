//! Queries on `time_entries` and `invoices`, and an hourly contract's
//! terms (paused, weekly limit).

use chrono::{DateTime, NaiveDate, Utc};
use sea_orm::sea_query::Expr;
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect,
};
use uuid::Uuid;

use super::entities::{contracts, invoices, time_entries};
use super::{InvoiceRow, TimeEntryRow};
use crate::domain::ContractId;
use crate::domain::hourly::{InvoiceStatus, Logged};

/// The most entries and invoices one answer carries (the newest).
pub const MAX_ENTRIES: u64 = 200;
pub const MAX_INVOICES: u64 = 52;

pub async fn insert_entry(db: &impl ConnectionTrait, row: TimeEntryRow) -> Result<(), DbErr> {
    time_entries::ActiveModel::from(row).insert(db).await?;
    Ok(())
}

pub async fn find_entry(
    db: &impl ConnectionTrait,
    contract: ContractId,
    id: Uuid,
) -> Result<Option<TimeEntryRow>, DbErr> {
    time_entries::Entity::find_by_id(id)
        .filter(time_entries::Column::ContractId.eq(contract.0))
        .one(db)
        .await
}

/// Changes an entry not yet invoiced; false if it was.
pub async fn update_entry(
    db: &impl ConnectionTrait,
    id: Uuid,
    minutes: i32,
    memo: &str,
    at: DateTime<Utc>,
) -> Result<bool, DbErr> {
    use time_entries::Column as C;
    let result = time_entries::Entity::update_many()
        .col_expr(C::Minutes, Expr::value(minutes))
        .col_expr(C::Memo, Expr::value(memo))
        .col_expr(C::UpdatedAt, Expr::value(at))
        .filter(C::Id.eq(id))
        .filter(C::InvoiceId.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Removes an entry not yet invoiced; false if it was.
pub async fn delete_entry(db: &impl ConnectionTrait, id: Uuid) -> Result<bool, DbErr> {
    let result = time_entries::Entity::delete_many()
        .filter(time_entries::Column::Id.eq(id))
        .filter(time_entries::Column::InvoiceId.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// The minutes logged in the week of `week_start` and on `day`, leaving
/// out entry `except` (the one being changed).
pub async fn logged(
    db: &impl ConnectionTrait,
    contract: ContractId,
    week_start: NaiveDate,
    day: NaiveDate,
    except: Option<Uuid>,
) -> Result<Logged, DbErr> {
    let mut query = time_entries::Entity::find()
        .filter(time_entries::Column::ContractId.eq(contract.0))
        .filter(time_entries::Column::WeekStart.eq(week_start));
    if let Some(except) = except {
        query = query.filter(time_entries::Column::Id.ne(except));
    }
    let entries = query.all(db).await?;
    Ok(Logged {
        week: entries.iter().map(|e| e.minutes).sum(),
        day: entries
            .iter()
            .filter(|e| e.work_date == day)
            .map(|e| e.minutes)
            .sum(),
    })
}

/// The contract's latest entries, newest first.
pub async fn entries_of(
    db: &impl ConnectionTrait,
    contract: ContractId,
) -> Result<Vec<TimeEntryRow>, DbErr> {
    time_entries::Entity::find()
        .filter(time_entries::Column::ContractId.eq(contract.0))
        .order_by_desc(time_entries::Column::WorkDate)
        .order_by_desc(time_entries::Column::Id)
        .limit(MAX_ENTRIES)
        .all(db)
        .await
}

/// The entries of the week of `week_start` not yet invoiced.
pub async fn open_entries(
    db: &impl ConnectionTrait,
    contract: ContractId,
    week_start: NaiveDate,
) -> Result<Vec<TimeEntryRow>, DbErr> {
    time_entries::Entity::find()
        .filter(time_entries::Column::ContractId.eq(contract.0))
        .filter(time_entries::Column::WeekStart.eq(week_start))
        .filter(time_entries::Column::InvoiceId.is_null())
        .all(db)
        .await
}

/// Bills the week's entries on `invoice` (inserted with them).
pub async fn insert_invoice(
    db: &impl ConnectionTrait,
    invoice: InvoiceRow,
    entries: &[Uuid],
) -> Result<(), DbErr> {
    let id = invoice.id;
    invoices::ActiveModel::from(invoice).insert(db).await?;
    time_entries::Entity::update_many()
        .col_expr(time_entries::Column::InvoiceId, Expr::value(Some(id)))
        .filter(time_entries::Column::Id.is_in(entries.iter().copied()))
        .exec(db)
        .await?;
    Ok(())
}

pub async fn find_invoice(
    db: &impl ConnectionTrait,
    contract: ContractId,
    id: Uuid,
) -> Result<Option<InvoiceRow>, DbErr> {
    invoices::Entity::find_by_id(id)
        .filter(invoices::Column::ContractId.eq(contract.0))
        .one(db)
        .await
}

/// The invoice of the week of `week_start`, if the week closed.
pub async fn invoice_of_week(
    db: &impl ConnectionTrait,
    contract: ContractId,
    week_start: NaiveDate,
) -> Result<Option<InvoiceRow>, DbErr> {
    invoices::Entity::find()
        .filter(invoices::Column::ContractId.eq(contract.0))
        .filter(invoices::Column::WeekStart.eq(week_start))
        .one(db)
        .await
}

/// The contract's latest invoices, newest first.
pub async fn invoices_of(
    db: &impl ConnectionTrait,
    contract: ContractId,
) -> Result<Vec<InvoiceRow>, DbErr> {
    invoices::Entity::find()
        .filter(invoices::Column::ContractId.eq(contract.0))
        .order_by_desc(invoices::Column::WeekStart)
        .limit(MAX_INVOICES)
        .all(db)
        .await
}

/// What changes with an invoice's status.
pub struct InvoiceChange<'a> {
    pub to: InvoiceStatus,
    pub review_until: Option<DateTime<Utc>>,
    pub approved_at: Option<DateTime<Utc>>,
    /// A dispute's reason, or an adjustment's new minutes and amount.
    pub dispute_reason: Option<&'a str>,
    pub minutes_and_amount: Option<(i32, i64)>,
}

/// Moves invoice `id` from one of `from` as `change` says; false if it was
/// in none of them (a racing change won).
pub async fn change_invoice(
    db: &impl ConnectionTrait,
    id: Uuid,
    from: &[InvoiceStatus],
    change: InvoiceChange<'_>,
) -> Result<bool, DbErr> {
    use invoices::Column as C;
    let mut update = invoices::Entity::update_many()
        .col_expr(C::Status, Expr::value(change.to.as_str()))
        .col_expr(C::ReviewUntil, Expr::value(change.review_until))
        .col_expr(C::ApprovedAt, Expr::value(change.approved_at));
    if let Some(reason) = change.dispute_reason {
        update = update.col_expr(C::DisputeReason, Expr::value(reason));
    }
    if let Some((minutes, amount)) = change.minutes_and_amount {
        update = update
            .col_expr(C::Minutes, Expr::value(minutes))
            .col_expr(C::AmountMinor, Expr::value(amount));
    }
    let result = update
        .filter(C::Id.eq(id))
        .filter(C::Status.is_in(from.iter().map(|s| s.as_str())))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Pauses or resumes the contract; false if it already was.
pub async fn set_paused(
    db: &impl ConnectionTrait,
    contract: ContractId,
    paused: bool,
) -> Result<bool, DbErr> {
    let result = contracts::Entity::update_many()
        .col_expr(contracts::Column::Paused, Expr::value(paused))
        .filter(contracts::Column::Id.eq(contract.0))
        .filter(contracts::Column::Paused.eq(!paused))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

pub async fn set_weekly_limit(
    db: &impl ConnectionTrait,
    contract: ContractId,
    minutes: i32,
) -> Result<(), DbErr> {
    contracts::Entity::update_many()
        .col_expr(
            contracts::Column::WeeklyLimitMinutes,
            Expr::value(Some(minutes)),
        )
        .filter(contracts::Column::Id.eq(contract.0))
        .exec(db)
        .await?;
    Ok(())
}
