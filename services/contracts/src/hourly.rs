//! The weeks of an hourly contract, whoever moves them (the week's timer,
//! the invoice's review timer, the client, payments' failed charge): a
//! week closed into an invoice, an invoice approved for charging and
//! announced once (HourlyInvoiceApproved), the contract paused and resumed
//! (ContractPaused/ContractResumed); each in the caller's transaction under
//! the contract's lock.

use chrono::{DateTime, Duration, NaiveDate, Utc};
use frevix_platform::db::Txn;
use frevix_platform::error::ApiError;
use frevix_platform::ids::AccountId;
use frevix_proto::contracts::v1 as pb;
use uuid::Uuid;

use crate::Inner;
use crate::convert::money;
use crate::domain::ContractId;
use crate::domain::hourly::{InvoiceStatus, amount, week_closes};
use crate::error::Result;
use crate::store::{self, ContractRow, InvoiceChange, InvoiceRow};

/// The timer that closes an hourly contract's week.
pub const WEEK_CLOSE: &str = "hourly.week_close";
/// The timer that approves an invoice its client did not dispute.
pub const INVOICE_REVIEW: &str = "hourly.invoice_review";

/// Starts the weekly clock of a new hourly contract.
pub async fn start_weeks(inner: &Inner, txn: &Txn, contract: ContractId) -> Result<()> {
    let subject = contract.to_string();
    let due = week_closes(inner.clock.now());
    inner
        .timers
        .schedule(txn, WEEK_CLOSE, &subject, due, &subject)
        .await?;
    Ok(())
}

fn day(date: NaiveDate) -> String {
    date.format("%Y-%m-%d").to_string()
}

/// Closes the week of `week_start` into an invoice (none if no time was
/// logged, or the week closed already).
pub async fn close_week(
    inner: &Inner,
    txn: &Txn,
    contract: &ContractRow,
    week_start: NaiveDate,
) -> Result<Option<InvoiceRow>> {
    let id = ContractId(contract.id);
    let entries = store::open_entries(txn, id, week_start).await?;
    let minutes: i32 = entries.iter().map(|e| e.minutes).sum();
    if minutes == 0 || store::invoice_of_week(txn, id, week_start).await?.is_some() {
        return Ok(None);
    }
    let now = inner.clock.now();
    let rate = contract.hourly_rate_minor.unwrap_or(0);
    let review_until = now + Duration::days(i64::from(inner.invoice_review_days));
    let invoice = InvoiceRow {
        id: Uuid::now_v7(),
        contract_id: contract.id,
        week_start,
        minutes,
        rate_minor: rate,
        amount_minor: amount(rate, minutes),
        status: InvoiceStatus::PendingReview.as_str().to_owned(),
        review_until: Some(review_until),
        dispute_reason: String::new(),
        created_at: now,
        approved_at: None,
    };
    let ids: Vec<Uuid> = entries.iter().map(|e| e.id).collect();
    store::insert_invoice(txn, invoice.clone(), &ids).await?;
    inner
        .timers
        .schedule(
            txn,
            INVOICE_REVIEW,
            &invoice.id.to_string(),
            review_until,
            &contract.id.to_string(),
        )
        .await?;
    store::add_timeline(
        txn,
        id,
        now,
        None,
        "WEEK_CLOSED",
        None,
        format!(
            "The week of {} closed: {}h{:02} billed",
            day(week_start),
            minutes / 60,
            minutes % 60
        ),
    )
    .await?;
    store::touch_contract(txn, id, now).await?;
    Ok(Some(invoice))
}

/// The week timer fired at `due` (a Monday 00:00): the week before closes,
/// and the next one's timer is set while the contract runs.
pub async fn on_week_timer(
    inner: &Inner,
    txn: &Txn,
    contract: &ContractRow,
    due: DateTime<Utc>,
) -> Result<()> {
    let week_start = (due - Duration::days(7)).date_naive();
    close_week(inner, txn, contract, week_start).await?;
    let ended = crate::domain::ContractStatus::parse(&contract.status)
        .is_none_or(crate::domain::ContractStatus::is_ended);
    if !ended {
        let subject = contract.id.to_string();
        inner
            .timers
            .schedule(txn, WEEK_CLOSE, &subject, due + Duration::days(7), &subject)
            .await?;
    }
    Ok(())
}

/// Approves `invoice` for charging: by the client (`by`), or by its review
/// window passing. False if it was no longer waiting.
pub async fn approve(
    inner: &Inner,
    txn: &Txn,
    contract: &ContractRow,
    invoice: &InvoiceRow,
    by: Option<AccountId>,
) -> Result<bool> {
    let now = inner.clock.now();
    let change = InvoiceChange {
        to: InvoiceStatus::Approved,
        review_until: None,
        approved_at: Some(now),
        dispute_reason: None,
        minutes_and_amount: None,
    };
    let waiting = [InvoiceStatus::PendingReview, InvoiceStatus::Disputed];
    if !store::change_invoice(txn, invoice.id, &waiting, change).await? {
        return Ok(false);
    }
    inner
        .timers
        .forget(txn, INVOICE_REVIEW, &invoice.id.to_string());
    let id = ContractId(contract.id);
    let details = match by {
        Some(_) => format!(
            "The invoice of the week of {} was approved",
            day(invoice.week_start)
        ),
        None => format!(
            "The invoice of the week of {} was approved when its review window passed",
            day(invoice.week_start)
        ),
    };
    store::add_timeline(txn, id, now, by, "INVOICE_APPROVED", None, details).await?;
    store::touch_contract(txn, id, now).await?;
    // Nothing to charge for a week adjusted to nothing.
    if invoice.amount_minor > 0 {
        let event = pb::HourlyInvoiceApproved {
            contract_id: contract.id.to_string(),
            invoice_id: invoice.id.to_string(),
            client_id: contract.client_id.to_string(),
            freelancer_id: contract.freelancer_id.to_string(),
            week_start: day(invoice.week_start),
            minutes: invoice.minutes,
            amount: money(&contract.currency, invoice.amount_minor),
        };
        inner
            .outbox
            .publish(txn, "contract", &event.contract_id, &event)
            .await?;
    }
    Ok(true)
}

/// Pauses or resumes an hourly contract, announced; false if it already
/// was.
pub async fn set_paused(
    inner: &Inner,
    txn: &Txn,
    contract: &ContractRow,
    paused: Option<pb::PauseReason>,
    by: Option<AccountId>,
) -> Result<bool> {
    let id = ContractId(contract.id);
    if !store::set_paused(txn, id, paused.is_some()).await? {
        return Ok(false);
    }
    let now = inner.clock.now();
    let (client_id, freelancer_id) = (
        contract.client_id.to_string(),
        contract.freelancer_id.to_string(),
    );
    let (action, details) = match paused {
        Some(reason) => {
            let event = pb::ContractPaused {
                contract_id: id.to_string(),
                client_id,
                freelancer_id,
                reason: reason as i32,
            };
            inner
                .outbox
                .publish(txn, "contract", &event.contract_id, &event)
                .await?;
            let why = if reason == pb::PauseReason::PaymentFailed {
                "The contract was paused: charging an invoice failed"
            } else {
                "The client paused the contract"
            };
            ("CONTRACT_PAUSED", why)
        }
        None => {
            let event = pb::ContractResumed {
                contract_id: id.to_string(),
                client_id,
                freelancer_id,
            };
            inner
                .outbox
                .publish(txn, "contract", &event.contract_id, &event)
                .await?;
            ("CONTRACT_RESUMED", "The contract was resumed")
        }
    };
    store::add_timeline(txn, id, now, by, action, None, details.to_owned()).await?;
    store::touch_contract(txn, id, now).await?;
    Ok(true)
}

/// An hourly contract only.
pub fn require_hourly(contract: &ContractRow) -> Result<()> {
    if contract.hourly_rate_minor.is_none() {
        return Err(ApiError::precondition(
            "NOT_HOURLY",
            contract.id.to_string(),
            "only hourly contracts log time, pause and bill weekly",
        )
        .into());
    }
    Ok(())
}
