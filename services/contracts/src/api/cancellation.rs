//! RequestCancellation, AcceptCancellation, DeclineCancellation,
//! WithdrawCancellation and EndContract: ending a contract before its work
//! is done. A request proposes how the escrow of the milestones in
//! progress is divided; the other party answers within a window (after
//! which it is accepted); meanwhile the work is held. With nothing in
//! escrow either party ends the contract alone.

use chrono::Duration;
use frevix_platform::auth::Principal;
use frevix_platform::error::{ApiError, FieldViolations};
use frevix_platform::ids::AccountId;
use frevix_platform::money::Currency;
use frevix_platform::request::{caller, parse_id};
use frevix_proto::contracts::v1 as pb;
use tonic::Request;

use super::acting::{self, Change, begin, finish, party_of, text};
use crate::Inner;
use crate::domain::ending::check_workable;
use crate::domain::hourly::week_of;
use crate::domain::{
    CancellationId, CancellationStatus, ContractId, ContractStatus, MilestoneStatus,
};
use crate::ending::{self, AUTO_ACCEPT};
use crate::error::Result;
use crate::hourly;
use crate::store::{self, CancellationRow, ContractRow};

const MAX_REASON: usize = 2000;

fn status_of(contract: &ContractRow) -> Result<ContractStatus> {
    ContractStatus::parse(&contract.status)
        .ok_or_else(|| ApiError::internal("stored contract status is not readable").into())
}

/// The contract's open request, if any.
async fn open_request(change: &Change) -> Result<Option<CancellationRow>> {
    Ok(
        store::latest_cancellation(&change.txn, ContractId(change.contract.id))
            .await?
            .filter(|request| request.status == CancellationStatus::Open.as_str()),
    )
}

pub async fn request(
    inner: &Inner,
    request: Request<pb::RequestCancellationRequest>,
) -> Result<pb::RequestCancellationResponse> {
    let caller = caller(&request)?;
    let req = request.get_ref();
    let mut violations = FieldViolations::new();
    let id = ContractId::parse_field("contract_id", &req.contract_id, &mut violations);
    let reason = text("reason", &req.reason, 1, MAX_REASON, &mut violations);
    match &req.refund {
        None => violations.add("refund", "is required (0 gives nothing back)"),
        Some(refund) => {
            Currency::parse_field(
                "refund.currency_code",
                &refund.currency_code,
                &mut violations,
            );
        }
    }
    let id = violations
        .finish(id)?
        .ok_or(ApiError::NotFound("contract"))?;
    let change = begin(inner, &caller, id).await?;
    party_of(&change.contract, &caller)?;
    check_workable(
        status_of(&change.contract)?,
        open_request(&change).await?.is_some(),
    )?;
    let milestones = store::milestones_of(&change.txn, &[id]).await?;
    let held: i64 = ending::held(&milestones).iter().map(|(_, held)| held).sum();
    if held == 0 {
        return Err(ApiError::precondition(
            "NOTHING_IN_ESCROW",
            id.to_string(),
            "nothing is in escrow for work in progress; end the contract with EndContract",
        )
        .into());
    }
    let refund = req.refund.clone().unwrap_or_default();
    let currency = &change.contract.currency;
    let mut violations = FieldViolations::new();
    if &refund.currency_code != currency {
        violations.add(
            "refund.currency_code",
            format!("must be the contract's, {currency}"),
        );
    }
    if !(0..=held).contains(&refund.minor_units) {
        violations.add(
            "refund.minor_units",
            format!("must be 0 to {held}, what escrow holds for the work in progress"),
        );
    }
    violations.finish(())?;
    let now = inner.clock.now();
    let cancellation = CancellationId::generate();
    store::insert_cancellation(
        &change.txn,
        CancellationRow {
            id: cancellation.0,
            contract_id: id.0,
            requested_by: caller.account_id.0,
            reason: reason.clone(),
            refund_minor: refund.minor_units,
            status: CancellationStatus::Open.as_str().to_owned(),
            requested_at: now,
            answered_at: None,
            answered_by: None,
            answer_reason: String::new(),
        },
    )
    .await?;
    let answer_by = now + Duration::days(i64::from(inner.cancellation_answer_days));
    inner
        .timers
        .schedule(
            &change.txn,
            AUTO_ACCEPT,
            &cancellation.to_string(),
            answer_by,
            &id.to_string(),
        )
        .await?;
    ending::pause_review_windows(inner, &change.txn, id).await?;
    store::add_timeline(
        &change.txn,
        id,
        now,
        Some(caller.account_id),
        "CANCELLATION_REQUESTED",
        None,
        format!("Asked to cancel: {reason}"),
    )
    .await?;
    store::touch_contract(&change.txn, id, now).await?;
    let event = pb::CancellationRequested {
        contract_id: id.to_string(),
        cancellation_id: cancellation.to_string(),
        client_id: change.contract.client_id.to_string(),
        freelancer_id: change.contract.freelancer_id.to_string(),
        requested_by: caller.account_id.to_string(),
        reason,
        refund: Some(refund),
    };
    inner
        .outbox
        .publish(&change.txn, "contract", &event.contract_id, &event)
        .await?;
    Ok(pb::RequestCancellationResponse {
        contract: Some(finish(inner, change).await?),
    })
}

/// How the other party (or the requester, withdrawing) answers.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Answer {
    Accept,
    Decline,
    Withdraw,
}

impl Answer {
    fn status(self) -> CancellationStatus {
        match self {
            Answer::Accept => CancellationStatus::Accepted,
            Answer::Decline => CancellationStatus::Declined,
            Answer::Withdraw => CancellationStatus::Withdrawn,
        }
    }
}

/// Answers the contract's open request as `caller`. Asking again after
/// the same answer went through answers the contract as it is (a retry).
async fn answer(
    inner: &Inner,
    caller: &Principal,
    id: ContractId,
    answer: Answer,
    reason: String,
) -> Result<pb::Contract> {
    let change = begin(inner, caller, id).await?;
    party_of(&change.contract, caller)?;
    let latest = store::latest_cancellation(&change.txn, id).await?;
    let Some(request) = latest.filter(|r| r.status == CancellationStatus::Open.as_str()) else {
        let latest = store::latest_cancellation(&change.txn, id).await?;
        if latest.is_some_and(|r| {
            r.status == answer.status().as_str() && r.answered_by == Some(caller.account_id.0)
        }) {
            change.txn.rollback().await?;
            return acting::read(inner, id, caller).await;
        }
        return Err(ending::no_request().into());
    };
    let own = request.requested_by == caller.account_id.0;
    match (answer, own) {
        (Answer::Withdraw, false) => {
            return Err(ApiError::permission_denied(
                "REQUESTER_ONLY",
                "only the party who asked may withdraw the request",
            )
            .into());
        }
        (Answer::Accept | Answer::Decline, true) => {
            return Err(ApiError::permission_denied(
                "OTHER_PARTY_ONLY",
                "the other party answers a cancellation request",
            )
            .into());
        }
        _ => {}
    }
    let by = Some(caller.account_id);
    if answer == Answer::Accept {
        ending::accept(inner, &change.txn, &change.contract, &request, by).await?;
    } else {
        close(inner, &change, &request, answer, caller.account_id, &reason).await?;
    }
    finish(inner, change).await
}

/// Declines or withdraws `request`: the work goes on, with whole review
/// windows again for the deliveries waiting.
async fn close(
    inner: &Inner,
    change: &Change,
    request: &CancellationRow,
    answer: Answer,
    by: AccountId,
    reason: &str,
) -> Result<()> {
    let id = ContractId(change.contract.id);
    let cancellation = CancellationId(request.id);
    let now = inner.clock.now();
    if !store::answer_cancellation(
        &change.txn,
        cancellation,
        answer.status(),
        now,
        Some(by.0),
        reason,
    )
    .await?
    {
        return Err(ending::no_request().into());
    }
    inner
        .timers
        .forget(&change.txn, AUTO_ACCEPT, &cancellation.to_string());
    ending::resume_review_windows(inner, &change.txn, &change.contract).await?;
    let (action, details) = match answer {
        Answer::Decline if reason.is_empty() => (
            "CANCELLATION_DECLINED",
            "The cancellation request was declined".to_owned(),
        ),
        Answer::Decline => (
            "CANCELLATION_DECLINED",
            format!("The cancellation request was declined: {reason}"),
        ),
        _ => (
            "CANCELLATION_WITHDRAWN",
            "The cancellation request was withdrawn".to_owned(),
        ),
    };
    store::add_timeline(&change.txn, id, now, Some(by), action, None, details).await?;
    store::touch_contract(&change.txn, id, now).await?;
    Ok(())
}

pub async fn accept(
    inner: &Inner,
    request: Request<pb::AcceptCancellationRequest>,
) -> Result<pb::AcceptCancellationResponse> {
    let caller = caller(&request)?;
    let id: ContractId = parse_id("contract_id", &request.get_ref().contract_id)?;
    let contract = answer(inner, &caller, id, Answer::Accept, String::new()).await?;
    Ok(pb::AcceptCancellationResponse {
        contract: Some(contract),
    })
}

pub async fn decline(
    inner: &Inner,
    request: Request<pb::DeclineCancellationRequest>,
) -> Result<pb::DeclineCancellationResponse> {
    let caller = caller(&request)?;
    let req = request.get_ref();
    let mut violations = FieldViolations::new();
    let id = ContractId::parse_field("contract_id", &req.contract_id, &mut violations);
    let reason = text("reason", &req.reason, 0, MAX_REASON, &mut violations);
    let id = violations
        .finish(id)?
        .ok_or(ApiError::NotFound("contract"))?;
    let contract = answer(inner, &caller, id, Answer::Decline, reason).await?;
    Ok(pb::DeclineCancellationResponse {
        contract: Some(contract),
    })
}

pub async fn withdraw(
    inner: &Inner,
    request: Request<pb::WithdrawCancellationRequest>,
) -> Result<pb::WithdrawCancellationResponse> {
    let caller = caller(&request)?;
    let id: ContractId = parse_id("contract_id", &request.get_ref().contract_id)?;
    let contract = answer(inner, &caller, id, Answer::Withdraw, String::new()).await?;
    Ok(pb::WithdrawCancellationResponse {
        contract: Some(contract),
    })
}

/// Ends a contract with nothing in escrow: milestones not yet funded are
/// dropped; it is COMPLETED if work was paid for, CANCELLED if not.
pub async fn end(
    inner: &Inner,
    request: Request<pb::EndContractRequest>,
) -> Result<pb::EndContractResponse> {
    let caller = caller(&request)?;
    let req = request.get_ref();
    let mut violations = FieldViolations::new();
    let id = ContractId::parse_field("contract_id", &req.contract_id, &mut violations);
    let reason = text("reason", &req.reason, 0, MAX_REASON, &mut violations);
    let id = violations
        .finish(id)?
        .ok_or(ApiError::NotFound("contract"))?;
    let change = begin(inner, &caller, id).await?;
    party_of(&change.contract, &caller)?;
    check_workable(status_of(&change.contract)?, false)?;
    let milestones = store::milestones_of(&change.txn, &[id]).await?;
    if ending::anything_in_escrow(&milestones) {
        return Err(ApiError::precondition(
            "ESCROW_HELD",
            id.to_string(),
            "money is in escrow; ask the other party to cancel with RequestCancellation",
        )
        .into());
    }
    if let Some(open) = open_request(&change).await? {
        // Escrow was paid out since it was asked: nothing is left to divide.
        let now = inner.clock.now();
        store::answer_cancellation(
            &change.txn,
            CancellationId(open.id),
            CancellationStatus::Superseded,
            now,
            Some(caller.account_id.0),
            "",
        )
        .await?;
        inner
            .timers
            .forget(&change.txn, AUTO_ACCEPT, &open.id.to_string());
    }
    let now = inner.clock.now();
    let by = Some(caller.account_id);
    if change.contract.hourly_rate_minor.is_some() {
        end_hourly(inner, &change, caller.account_id, &reason).await?;
    } else if milestones
        .iter()
        .any(|m| m.status == MilestoneStatus::Released.as_str())
    {
        // Dropping what was never funded completes the contract (and
        // announces it), through the milestones' own steps.
        let note = crate::steps::Note {
            actor: by,
            ..Default::default()
        };
        for milestone in &milestones {
            if milestone.status == MilestoneStatus::Pending.as_str() {
                let contract = store::lock_contract(&change.txn, id)
                    .await?
                    .ok_or(ApiError::NotFound("contract"))?;
                crate::steps::apply(
                    inner,
                    &change.txn,
                    &contract,
                    milestone,
                    crate::domain::MilestoneCommand::Cancel,
                    &note,
                )
                .await?;
            }
        }
        let contract = store::lock_contract(&change.txn, id)
            .await?
            .ok_or(ApiError::NotFound("contract"))?;
        if contract.status != ContractStatus::Completed.as_str() {
            store::set_contract_status(&change.txn, id, ContractStatus::Completed, now).await?;
        }
    } else {
        let settlements = ending::settle(inner, &change.txn, &change.contract, 0, by).await?;
        ending::announce_cancelled(
            inner,
            &change.txn,
            &change.contract,
            caller.account_id,
            &reason,
            settlements,
        )
        .await?;
    }
    let details = if reason.is_empty() {
        "The contract was ended".to_owned()
    } else {
        format!("The contract was ended: {reason}")
    };
    store::add_timeline(&change.txn, id, now, by, "CONTRACT_ENDED", None, details).await?;
    Ok(pb::EndContractResponse {
        contract: Some(finish(inner, change).await?),
    })
}

/// Ends an hourly contract: the weeks not yet closed are billed now, and
/// it is COMPLETED if any week was billed, CANCELLED if none.
async fn end_hourly(inner: &Inner, change: &Change, by: AccountId, reason: &str) -> Result<()> {
    let id = ContractId(change.contract.id);
    let now = inner.clock.now();
    let this_week = week_of(now.date_naive());
    for week in [this_week - chrono::Duration::days(7), this_week] {
        hourly::close_week(inner, &change.txn, &change.contract, week).await?;
    }
    inner
        .timers
        .forget(&change.txn, hourly::WEEK_CLOSE, &id.to_string());
    let billed = !store::invoices_of(&change.txn, id).await?.is_empty();
    if billed {
        store::set_contract_status(&change.txn, id, ContractStatus::Completed, now).await?;
        crate::reviewing::open_if_due(inner, &change.txn, id, ContractStatus::Completed).await?;
        let event = pb::ContractCompleted {
            contract_id: id.to_string(),
            client_id: change.contract.client_id.to_string(),
            freelancer_id: change.contract.freelancer_id.to_string(),
            gig_id: String::new(),
            total: None,
        };
        inner
            .outbox
            .publish(&change.txn, "contract", &event.contract_id, &event)
            .await?;
    } else {
        store::set_contract_status(&change.txn, id, ContractStatus::Cancelled, now).await?;
        ending::announce_cancelled(inner, &change.txn, &change.contract, by, reason, vec![])
            .await?;
    }
    Ok(())
}
