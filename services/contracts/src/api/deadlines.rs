//! A gig order's deadline from both sides: the seller asks for more days
//! (RequestExtension), the buyer grants or refuses them, and the buyer of a
//! late order may cancel it alone with a full refund (CancelLateOrder).
//! Marking an order late is the `order.late` timer's (see `timed`).

use chrono::Duration;
use frevix_platform::auth::Principal;
use frevix_platform::error::{ApiError, FieldViolations};
use frevix_platform::request::{caller, parse_id};
use frevix_proto::contracts::v1 as pb;
use tonic::Request;

use super::acting::{Change, begin, finish, party_of, text};
use crate::Inner;
use crate::domain::ending::check_workable;
use crate::domain::stage::owes_work;
use crate::domain::{
    CancellationId, CancellationStatus, ContractId, ContractStatus, MilestoneId, MilestoneStatus,
    Party,
};
use crate::ending::{self, AUTO_ACCEPT};
use crate::error::Result;
use crate::steps::ORDER_LATE;
use crate::store::{self, OrderRow};

const MAX_REASON: usize = 2000;
const MAX_EXTENSION_DAYS: i32 = 30;

/// A change of a gig order by `side`, with its order.
async fn begin_order(
    inner: &Inner,
    caller: &Principal,
    id: ContractId,
    side: Party,
) -> Result<(Change, OrderRow)> {
    let change = begin(inner, caller, id).await?;
    if party_of(&change.contract, caller)? != side {
        let (reason, message) = match side {
            Party::Client => ("CLIENT_ONLY", "only the buyer answers or cancels"),
            Party::Freelancer => ("FREELANCER_ONLY", "only the seller asks for more days"),
        };
        return Err(ApiError::permission_denied(reason, message).into());
    }
    let order = store::find_order(&change.txn, id).await?.ok_or_else(|| {
        ApiError::precondition(
            "NOT_A_GIG_ORDER",
            id.to_string(),
            "only gig orders have a delivery deadline",
        )
    })?;
    Ok((change, order))
}

fn status(change: &Change) -> Result<ContractStatus> {
    ContractStatus::parse(&change.contract.status)
        .ok_or_else(|| ApiError::internal("stored contract status is not readable").into())
}

async fn milestone_statuses(change: &Change) -> Result<Vec<MilestoneStatus>> {
    Ok(
        store::milestones_of(&change.txn, &[ContractId(change.contract.id)])
            .await?
            .iter()
            .filter_map(|m| MilestoneStatus::parse(&m.status))
            .collect(),
    )
}

fn no_extension(id: ContractId) -> ApiError {
    ApiError::precondition(
        "NO_EXTENSION_PENDING",
        id.to_string(),
        "the seller has not asked for more days",
    )
}

pub async fn request_extension(
    inner: &Inner,
    request: Request<pb::RequestExtensionRequest>,
) -> Result<pb::RequestExtensionResponse> {
    let caller = caller(&request)?;
    let req = request.get_ref();
    let mut violations = FieldViolations::new();
    let id = ContractId::parse_field("contract_id", &req.contract_id, &mut violations);
    let reason = text("reason", &req.reason, 1, MAX_REASON, &mut violations);
    if !(1..=MAX_EXTENSION_DAYS).contains(&req.days) {
        violations.add("days", format!("must be 1 to {MAX_EXTENSION_DAYS}"));
    }
    let id = violations
        .finish(id)?
        .ok_or(ApiError::NotFound("contract"))?;
    let (change, order) = begin_order(inner, &caller, id, Party::Freelancer).await?;
    check_workable(status(&change)?, false)?;
    if order.due_at.is_none() {
        return Err(ApiError::precondition(
            "REQUIREMENTS_PENDING",
            id.to_string(),
            "the delivery clock has not started: the buyer has not sent the requirements",
        )
        .into());
    }
    let milestones = milestone_statuses(&change).await?;
    if !owes_work(&milestones) && !milestones.contains(&MilestoneStatus::Submitted) {
        return Err(ApiError::precondition(
            "NOTHING_TO_EXTEND",
            id.to_string(),
            "the order's delivery is approved or closed",
        )
        .into());
    }
    let now = inner.clock.now();
    if !store::ask_extension(&change.txn, id, req.days, &reason, now).await? {
        return Err(ApiError::precondition(
            "EXTENSION_PENDING",
            id.to_string(),
            "an extension already waits for the buyer's answer",
        )
        .into());
    }
    store::add_timeline(
        &change.txn,
        id,
        now,
        Some(caller.account_id),
        "EXTENSION_REQUESTED",
        None,
        format!("Asked for {} more days: {reason}", req.days),
    )
    .await?;
    store::touch_contract(&change.txn, id, now).await?;
    Ok(pb::RequestExtensionResponse {
        contract: Some(finish(inner, change).await?),
    })
}

/// The buyer's answer to the waiting extension.
async fn answer(
    inner: &Inner,
    caller: &Principal,
    id: ContractId,
    grant: bool,
) -> Result<pb::Contract> {
    let (change, order) = begin_order(inner, caller, id, Party::Client).await?;
    let Some(days) = order.extension_days else {
        return Err(no_extension(id).into());
    };
    let now = inner.clock.now();
    let new_due = order
        .due_at
        .filter(|_| grant)
        .map(|due| due + Duration::days(i64::from(days)));
    if !store::answer_extension(&change.txn, id, new_due).await? {
        return Err(no_extension(id).into());
    }
    let (action, details) = if let Some(due) = new_due {
        for milestone in store::milestones_of(&change.txn, &[id]).await? {
            store::set_milestone_due(&change.txn, MilestoneId(milestone.id), due).await?;
        }
        let subject = id.to_string();
        inner
            .timers
            .schedule(&change.txn, ORDER_LATE, &subject, due, &subject)
            .await?;
        let status = status(&change)?;
        store::refresh_stage(&change.txn, id, status).await?;
        (
            "EXTENSION_ACCEPTED",
            format!(
                "{days} more days granted; now due {}",
                due.format("%Y-%m-%d %H:%M UTC")
            ),
        )
    } else {
        (
            "EXTENSION_DECLINED",
            format!("The request for {days} more days was declined"),
        )
    };
    store::add_timeline(
        &change.txn,
        id,
        now,
        Some(caller.account_id),
        action,
        None,
        details,
    )
    .await?;
    store::touch_contract(&change.txn, id, now).await?;
    finish(inner, change).await
}

pub async fn accept_extension(
    inner: &Inner,
    request: Request<pb::AcceptExtensionRequest>,
) -> Result<pb::AcceptExtensionResponse> {
    let caller = caller(&request)?;
    let id: ContractId = parse_id("contract_id", &request.get_ref().contract_id)?;
    Ok(pb::AcceptExtensionResponse {
        contract: Some(answer(inner, &caller, id, true).await?),
    })
}

pub async fn decline_extension(
    inner: &Inner,
    request: Request<pb::DeclineExtensionRequest>,
) -> Result<pb::DeclineExtensionResponse> {
    let caller = caller(&request)?;
    let id: ContractId = parse_id("contract_id", &request.get_ref().contract_id)?;
    Ok(pb::DeclineExtensionResponse {
        contract: Some(answer(inner, &caller, id, false).await?),
    })
}

pub async fn cancel_late(
    inner: &Inner,
    request: Request<pb::CancelLateOrderRequest>,
) -> Result<pb::CancelLateOrderResponse> {
    let caller = caller(&request)?;
    let req = request.get_ref();
    let mut violations = FieldViolations::new();
    let id = ContractId::parse_field("contract_id", &req.contract_id, &mut violations);
    let reason = text("reason", &req.reason, 0, MAX_REASON, &mut violations);
    let id = violations
        .finish(id)?
        .ok_or(ApiError::NotFound("contract"))?;
    let (change, order) = begin_order(inner, &caller, id, Party::Client).await?;
    // A waiting cancellation request gives way: this one needs no answer.
    check_workable(status(&change)?, false)?;
    let now = inner.clock.now();
    let late = order.due_at.is_some_and(|due| due <= now);
    if !late || !owes_work(&milestone_statuses(&change).await?) {
        return Err(ApiError::precondition(
            "ORDER_NOT_LATE",
            id.to_string(),
            "the order is not past its due time with the delivery still owed",
        )
        .into());
    }
    if let Some(open) = store::latest_cancellation(&change.txn, id)
        .await?
        .filter(|r| r.status == CancellationStatus::Open.as_str())
    {
        let cancellation = CancellationId(open.id);
        store::answer_cancellation(
            &change.txn,
            cancellation,
            CancellationStatus::Superseded,
            now,
            Some(caller.account_id.0),
            "the buyer cancelled the late order",
        )
        .await?;
        inner
            .timers
            .forget(&change.txn, AUTO_ACCEPT, &cancellation.to_string());
    }
    inner
        .timers
        .forget(&change.txn, ORDER_LATE, &id.to_string());
    let milestones = store::milestones_of(&change.txn, &[id]).await?;
    let everything: i64 = ending::held(&milestones).iter().map(|(_, held)| held).sum();
    let by = Some(caller.account_id);
    let settlements = ending::settle(inner, &change.txn, &change.contract, everything, by).await?;
    let details = if reason.is_empty() {
        "The buyer cancelled the late order".to_owned()
    } else {
        format!("The buyer cancelled the late order: {reason}")
    };
    store::add_timeline(
        &change.txn,
        id,
        now,
        by,
        "CONTRACT_CANCELLED",
        None,
        details,
    )
    .await?;
    ending::announce_cancelled(
        inner,
        &change.txn,
        &change.contract,
        caller.account_id,
        &reason,
        settlements,
    )
    .await?;
    Ok(pb::CancelLateOrderResponse {
        contract: Some(finish(inner, change).await?),
    })
}
