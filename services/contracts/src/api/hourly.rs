//! An hourly contract's RPCs: the freelancer logs, changes and removes
//! time of the open week within its limits; the client pauses, resumes and
//! sets the weekly limit, and approves or disputes each week's invoice,
//! which the freelancer may lower in answer to a dispute. Each change runs
//! under the contract's lock, so racing entries cannot pass the limit.

use chrono::{Duration, NaiveDate};
use frevix_platform::auth::Principal;
use frevix_platform::error::{ApiError, FieldViolations};
use frevix_platform::ids::parse_uuid;
use frevix_platform::request::{caller, parse_id};
use frevix_proto::contracts::v1 as pb;
use tonic::Request;
use uuid::Uuid;

use super::acting::{Change, begin, finish, party_of, text};
use crate::Inner;
use crate::domain::ending::check_workable;
use crate::domain::hourly::{InvoiceStatus, MINUTES_A_DAY, amount, check_log, week_of};
use crate::domain::{ContractId, ContractStatus, Party};
use crate::error::Result;
use crate::hourly::{self, INVOICE_REVIEW, require_hourly};
use crate::store::{self, InvoiceChange, TimeEntryRow};

const MAX_MEMO: usize = 500;
const MAX_REASON: usize = 2000;

/// A change of an hourly contract by `side`, while it runs.
async fn begin_hourly(
    inner: &Inner,
    caller: &Principal,
    id: ContractId,
    side: Party,
) -> Result<Change> {
    let change = begin(inner, caller, id).await?;
    if party_of(&change.contract, caller)? != side {
        let (reason, message) = match side {
            Party::Client => ("CLIENT_ONLY", "only the client does this"),
            Party::Freelancer => ("FREELANCER_ONLY", "only the freelancer logs time"),
        };
        return Err(ApiError::permission_denied(reason, message).into());
    }
    require_hourly(&change.contract)?;
    let status = ContractStatus::parse(&change.contract.status)
        .ok_or_else(|| ApiError::internal("stored contract status is not readable"))?;
    check_workable(status, false)?;
    Ok(change)
}

fn minutes(field: &str, value: i32, violations: &mut FieldViolations) {
    if !(1..=MINUTES_A_DAY).contains(&value) {
        violations.add(field, format!("must be 1 to {MINUTES_A_DAY}"));
    }
}

fn refusal(refusal: crate::domain::hourly::LogRefusal, limit: i32) -> ApiError {
    ApiError::precondition(
        refusal.reason(),
        "minutes",
        format!("{refusal} (weekly limit: {limit} minutes)"),
    )
}

fn paused(change: &Change) -> Result<()> {
    if change.contract.paused {
        return Err(ApiError::precondition(
            "CONTRACT_PAUSED",
            change.contract.id.to_string(),
            "the client paused the contract; no time may be logged until it resumes",
        )
        .into());
    }
    Ok(())
}

pub async fn log_time(
    inner: &Inner,
    request: Request<pb::LogTimeRequest>,
) -> Result<pb::LogTimeResponse> {
    let caller = caller(&request)?;
    let req = request.get_ref();
    let mut violations = FieldViolations::new();
    let id = ContractId::parse_field("contract_id", &req.contract_id, &mut violations);
    let day = NaiveDate::parse_from_str(&req.work_date, "%Y-%m-%d").ok();
    if day.is_none() {
        violations.add("work_date", "must be a date as YYYY-MM-DD");
    }
    minutes("minutes", req.minutes, &mut violations);
    let memo = text("memo", &req.memo, 0, MAX_MEMO, &mut violations);
    let (id, day) = match violations.finish((id, day))? {
        (Some(id), Some(day)) => (id, day),
        _ => return Err(ApiError::NotFound("contract").into()),
    };
    let change = begin_hourly(inner, &caller, id, Party::Freelancer).await?;
    paused(&change)?;
    let now = inner.clock.now();
    let limit = change.contract.weekly_limit_minutes.unwrap_or(0);
    let logged = store::logged(&change.txn, id, week_of(day), day, None).await?;
    check_log(now, day, req.minutes, logged, limit).map_err(|r| refusal(r, limit))?;
    store::insert_entry(
        &change.txn,
        TimeEntryRow {
            id: Uuid::now_v7(),
            contract_id: id.0,
            work_date: day,
            week_start: week_of(day),
            minutes: req.minutes,
            memo,
            invoice_id: None,
            created_at: now,
            updated_at: now,
        },
    )
    .await?;
    store::touch_contract(&change.txn, id, now).await?;
    Ok(pb::LogTimeResponse {
        contract: Some(finish(inner, change).await?),
    })
}

fn entry_closed() -> ApiError {
    ApiError::precondition(
        "WEEK_CLOSED",
        "entry_id",
        "the entry's week has closed into an invoice",
    )
}

pub async fn update_entry(
    inner: &Inner,
    request: Request<pb::UpdateTimeEntryRequest>,
) -> Result<pb::UpdateTimeEntryResponse> {
    let caller = caller(&request)?;
    let req = request.get_ref();
    let mut violations = FieldViolations::new();
    let id = ContractId::parse_field("contract_id", &req.contract_id, &mut violations);
    let entry = parse_uuid("entry_id", &req.entry_id, &mut violations);
    minutes("minutes", req.minutes, &mut violations);
    let memo = text("memo", &req.memo, 0, MAX_MEMO, &mut violations);
    let (id, entry) = match violations.finish((id, entry))? {
        (Some(id), Some(entry)) => (id, entry),
        _ => return Err(ApiError::NotFound("time entry").into()),
    };
    let change = begin_hourly(inner, &caller, id, Party::Freelancer).await?;
    let row = store::find_entry(&change.txn, id, entry)
        .await?
        .ok_or(ApiError::NotFound("time entry"))?;
    let now = inner.clock.now();
    if row.invoice_id.is_some() || row.week_start != week_of(now.date_naive()) {
        return Err(entry_closed().into());
    }
    let limit = change.contract.weekly_limit_minutes.unwrap_or(0);
    let logged = store::logged(&change.txn, id, row.week_start, row.work_date, Some(entry)).await?;
    check_log(now, row.work_date, req.minutes, logged, limit).map_err(|r| refusal(r, limit))?;
    if !store::update_entry(&change.txn, entry, req.minutes, &memo, now).await? {
        return Err(entry_closed().into());
    }
    store::touch_contract(&change.txn, id, now).await?;
    Ok(pb::UpdateTimeEntryResponse {
        contract: Some(finish(inner, change).await?),
    })
}

pub async fn delete_entry(
    inner: &Inner,
    request: Request<pb::DeleteTimeEntryRequest>,
) -> Result<pb::DeleteTimeEntryResponse> {
    let caller = caller(&request)?;
    let req = request.get_ref();
    let mut violations = FieldViolations::new();
    let id = ContractId::parse_field("contract_id", &req.contract_id, &mut violations);
    let entry = parse_uuid("entry_id", &req.entry_id, &mut violations);
    let (id, entry) = match violations.finish((id, entry))? {
        (Some(id), Some(entry)) => (id, entry),
        _ => return Err(ApiError::NotFound("time entry").into()),
    };
    let change = begin_hourly(inner, &caller, id, Party::Freelancer).await?;
    let row = store::find_entry(&change.txn, id, entry)
        .await?
        .ok_or(ApiError::NotFound("time entry"))?;
    if week_of(inner.clock.now().date_naive()) != row.week_start
        || !store::delete_entry(&change.txn, entry).await?
    {
        return Err(entry_closed().into());
    }
    Ok(pb::DeleteTimeEntryResponse {
        contract: Some(finish(inner, change).await?),
    })
}

async fn pause_or_resume(
    inner: &Inner,
    caller: &Principal,
    id: ContractId,
    pause: bool,
) -> Result<pb::Contract> {
    let change = begin_hourly(inner, caller, id, Party::Client).await?;
    let reason = pause.then_some(pb::PauseReason::Client);
    // Pausing a paused contract (or resuming a running one) answers it as
    // it is: a retry.
    hourly::set_paused(
        inner,
        &change.txn,
        &change.contract,
        reason,
        Some(caller.account_id),
    )
    .await?;
    finish(inner, change).await
}

pub async fn pause(
    inner: &Inner,
    request: Request<pb::PauseContractRequest>,
) -> Result<pb::PauseContractResponse> {
    let caller = caller(&request)?;
    let id: ContractId = parse_id("contract_id", &request.get_ref().contract_id)?;
    Ok(pb::PauseContractResponse {
        contract: Some(pause_or_resume(inner, &caller, id, true).await?),
    })
}

pub async fn resume(
    inner: &Inner,
    request: Request<pb::ResumeContractRequest>,
) -> Result<pb::ResumeContractResponse> {
    let caller = caller(&request)?;
    let id: ContractId = parse_id("contract_id", &request.get_ref().contract_id)?;
    Ok(pb::ResumeContractResponse {
        contract: Some(pause_or_resume(inner, &caller, id, false).await?),
    })
}

pub async fn set_weekly_limit(
    inner: &Inner,
    request: Request<pb::SetWeeklyLimitRequest>,
) -> Result<pb::SetWeeklyLimitResponse> {
    let caller = caller(&request)?;
    let req = request.get_ref();
    let mut violations = FieldViolations::new();
    let id = ContractId::parse_field("contract_id", &req.contract_id, &mut violations);
    if !(60..=7 * MINUTES_A_DAY).contains(&req.weekly_limit_minutes) {
        violations.add("weekly_limit_minutes", "must be 60 to 10,080");
    }
    let id = violations
        .finish(id)?
        .ok_or(ApiError::NotFound("contract"))?;
    let change = begin_hourly(inner, &caller, id, Party::Client).await?;
    let now = inner.clock.now();
    store::set_weekly_limit(&change.txn, id, req.weekly_limit_minutes).await?;
    let limit = req.weekly_limit_minutes;
    store::add_timeline(
        &change.txn,
        id,
        now,
        Some(caller.account_id),
        "WEEKLY_LIMIT_SET",
        None,
        format!("The weekly limit is now {}h{:02}", limit / 60, limit % 60),
    )
    .await?;
    store::touch_contract(&change.txn, id, now).await?;
    Ok(pb::SetWeeklyLimitResponse {
        contract: Some(finish(inner, change).await?),
    })
}

/// An invoice of the contract and the change under way, for `side`; the
/// ids' violations join `violations`, the request's other fields'.
async fn begin_invoice(
    inner: &Inner,
    caller: &Principal,
    contract: &str,
    invoice: &str,
    side: Party,
    mut violations: FieldViolations,
) -> Result<(Change, store::InvoiceRow)> {
    let id = ContractId::parse_field("contract_id", contract, &mut violations);
    let invoice = parse_uuid("invoice_id", invoice, &mut violations);
    let (id, invoice) = match violations.finish((id, invoice))? {
        (Some(id), Some(invoice)) => (id, invoice),
        _ => return Err(ApiError::NotFound("invoice").into()),
    };
    let change = begin(inner, caller, id).await?;
    if party_of(&change.contract, caller)? != side {
        let (reason, message) = match side {
            Party::Client => ("CLIENT_ONLY", "only the client approves or disputes"),
            Party::Freelancer => ("FREELANCER_ONLY", "only the freelancer adjusts"),
        };
        return Err(ApiError::permission_denied(reason, message).into());
    }
    let row = store::find_invoice(&change.txn, id, invoice)
        .await?
        .ok_or(ApiError::NotFound("invoice"))?;
    Ok((change, row))
}

fn not_waiting(status: &str) -> ApiError {
    ApiError::precondition(
        "INVOICE_NOT_OPEN",
        "invoice_id",
        format!("the invoice is {status}"),
    )
}

pub async fn approve_invoice(
    inner: &Inner,
    request: Request<pb::ApproveInvoiceRequest>,
) -> Result<pb::ApproveInvoiceResponse> {
    let caller = caller(&request)?;
    let req = request.get_ref();
    let (change, invoice) = begin_invoice(
        inner,
        &caller,
        &req.contract_id,
        &req.invoice_id,
        Party::Client,
        FieldViolations::new(),
    )
    .await?;
    // Approving again is a retry.
    if invoice.status != InvoiceStatus::Approved.as_str()
        && !hourly::approve(
            inner,
            &change.txn,
            &change.contract,
            &invoice,
            Some(caller.account_id),
        )
        .await?
    {
        return Err(not_waiting(&invoice.status).into());
    }
    Ok(pb::ApproveInvoiceResponse {
        contract: Some(finish(inner, change).await?),
    })
}

pub async fn dispute_invoice(
    inner: &Inner,
    request: Request<pb::DisputeInvoiceRequest>,
) -> Result<pb::DisputeInvoiceResponse> {
    let caller = caller(&request)?;
    let req = request.get_ref();
    let mut violations = FieldViolations::new();
    let reason = text("reason", &req.reason, 1, MAX_REASON, &mut violations);
    let (change, invoice) = begin_invoice(
        inner,
        &caller,
        &req.contract_id,
        &req.invoice_id,
        Party::Client,
        violations,
    )
    .await?;
    let now = inner.clock.now();
    if invoice.review_until.is_none_or(|until| until <= now) {
        return Err(not_waiting(&invoice.status).into());
    }
    let disputed = InvoiceChange {
        to: InvoiceStatus::Disputed,
        review_until: None,
        approved_at: None,
        dispute_reason: Some(&reason),
        minutes_and_amount: None,
    };
    if !store::change_invoice(
        &change.txn,
        invoice.id,
        &[InvoiceStatus::PendingReview],
        disputed,
    )
    .await?
    {
        return Err(not_waiting(&invoice.status).into());
    }
    inner
        .timers
        .forget(&change.txn, INVOICE_REVIEW, &invoice.id.to_string());
    let id = ContractId(change.contract.id);
    store::add_timeline(
        &change.txn,
        id,
        now,
        Some(caller.account_id),
        "INVOICE_DISPUTED",
        None,
        format!(
            "The invoice of the week of {} was disputed: {reason}",
            invoice.week_start
        ),
    )
    .await?;
    store::touch_contract(&change.txn, id, now).await?;
    Ok(pb::DisputeInvoiceResponse {
        contract: Some(finish(inner, change).await?),
    })
}

pub async fn adjust_invoice(
    inner: &Inner,
    request: Request<pb::AdjustInvoiceRequest>,
) -> Result<pb::AdjustInvoiceResponse> {
    let caller = caller(&request)?;
    let req = request.get_ref();
    let mut violations = FieldViolations::new();
    violations.check(req.minutes >= 0, "minutes", "must not be negative");
    let (change, invoice) = begin_invoice(
        inner,
        &caller,
        &req.contract_id,
        &req.invoice_id,
        Party::Freelancer,
        violations,
    )
    .await?;
    if !(0..invoice.minutes).contains(&req.minutes) {
        return Err(FieldViolations::single(
            "minutes",
            format!("must be 0 to {}, fewer than billed", invoice.minutes - 1),
        )
        .into());
    }
    let now = inner.clock.now();
    let review_until = now + Duration::days(i64::from(inner.invoice_review_days));
    let adjusted = InvoiceChange {
        to: InvoiceStatus::PendingReview,
        review_until: Some(review_until),
        approved_at: None,
        dispute_reason: None,
        minutes_and_amount: Some((req.minutes, amount(invoice.rate_minor, req.minutes))),
    };
    if !store::change_invoice(
        &change.txn,
        invoice.id,
        &[InvoiceStatus::Disputed],
        adjusted,
    )
    .await?
    {
        return Err(ApiError::precondition(
            "INVOICE_NOT_DISPUTED",
            "invoice_id",
            "only a disputed invoice is adjusted",
        )
        .into());
    }
    inner
        .timers
        .schedule(
            &change.txn,
            INVOICE_REVIEW,
            &invoice.id.to_string(),
            review_until,
            &change.contract.id.to_string(),
        )
        .await?;
    let id = ContractId(change.contract.id);
    store::add_timeline(
        &change.txn,
        id,
        now,
        Some(caller.account_id),
        "INVOICE_ADJUSTED",
        None,
        format!(
            "The invoice of the week of {} was lowered to {}h{:02}",
            invoice.week_start,
            req.minutes / 60,
            req.minutes % 60
        ),
    )
    .await?;
    store::touch_contract(&change.txn, id, now).await?;
    Ok(pb::AdjustInvoiceResponse {
        contract: Some(finish(inner, change).await?),
    })
}
