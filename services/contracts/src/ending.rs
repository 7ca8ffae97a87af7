//! Ending a contract early, whoever ends it (an accepted or unanswered
//! cancellation request, one party with nothing in escrow, an ADMIN's
//! resolution): the escrow of the milestones in progress divided, the
//! milestones not yet funded dropped, the contract's status, the timeline
//! and the event, in the caller's transaction, under the contract's lock.
//! Pausing and resuming the review windows while a request waits lives
//! here too.

use chrono::Duration;
use frevix_platform::db::Txn;
use frevix_platform::error::ApiError;
use frevix_platform::ids::AccountId;
use frevix_proto::contracts::v1 as pb;

use crate::Inner;
use crate::convert::money;
use crate::domain::settlement::{self, Share, SplitError};
use crate::domain::{
    CancellationId, CancellationStatus, ContractId, ContractStatus, MilestoneCommand, MilestoneId,
    MilestoneStatus,
};
use crate::error::Result;
use crate::steps::{self, AUTO_APPROVE, Note};
use crate::store::{self, CancellationRow, ContractRow, MilestoneRow};

/// The timer that accepts a cancellation request nobody answered.
pub const AUTO_ACCEPT: &str = "cancellation.auto_accept";
/// The timer that marks a dispute as waiting too long.
pub const ESCALATE: &str = "dispute.escalate";

/// Each milestone in progress with what escrow holds for it.
pub fn held(milestones: &[MilestoneRow]) -> Vec<(MilestoneId, i64)> {
    milestones
        .iter()
        .filter(|m| MilestoneStatus::parse(&m.status).is_some_and(MilestoneStatus::is_in_progress))
        .map(|m| {
            (
                MilestoneId(m.id),
                m.funded_minor - m.released_minor - m.refunded_minor,
            )
        })
        .collect()
}

/// Escrow still bound to the work: milestones in progress, approved ones
/// waiting for their release, and those being settled.
pub fn anything_in_escrow(milestones: &[MilestoneRow]) -> bool {
    milestones.iter().any(|m| {
        MilestoneStatus::parse(&m.status).is_some_and(|status| {
            status.is_in_progress()
                || matches!(
                    status,
                    MilestoneStatus::Approved | MilestoneStatus::Settling
                )
        })
    })
}

fn outdated(error: SplitError) -> ApiError {
    ApiError::precondition(
        "SETTLEMENT_OUTDATED",
        "refund",
        format!("escrow changed since the split was proposed: {error}"),
    )
}

/// Ends `contract` as CANCELLED: gives `refund` back to the client out of
/// the escrow of the milestones in progress (the rest to the freelancer),
/// drops the milestones not yet funded, and answers each milestone's
/// share for the event that tells payments.
pub async fn settle(
    inner: &Inner,
    txn: &Txn,
    contract: &ContractRow,
    refund: i64,
    actor: Option<AccountId>,
) -> Result<Vec<pb::MilestoneSettlement>> {
    let id = ContractId(contract.id);
    let now = inner.clock.now();
    store::set_contract_status(txn, id, ContractStatus::Cancelled, now).await?;
    let contract = store::lock_contract(txn, id)
        .await?
        .ok_or(ApiError::NotFound("contract"))?;
    let milestones = store::milestones_of(txn, &[id]).await?;
    let shares = settlement::split(&held(&milestones), refund).map_err(outdated)?;
    let note = Note {
        actor,
        ..Note::default()
    };
    for milestone in &milestones {
        let command = match MilestoneStatus::parse(&milestone.status) {
            Some(status) if status.is_in_progress() => MilestoneCommand::Settle,
            Some(MilestoneStatus::Pending) => MilestoneCommand::Cancel,
            _ => continue,
        };
        steps::apply(inner, txn, &contract, milestone, command, &note).await?;
    }
    for share in &shares {
        store::set_settled_refund(txn, share.milestone, share.refund).await?;
    }
    Ok(shares
        .iter()
        .map(|share: &Share| pb::MilestoneSettlement {
            milestone_id: share.milestone.to_string(),
            refund: money(&contract.currency, share.refund),
            release: money(&contract.currency, share.release),
        })
        .collect())
}

/// Announces a cancellation agreed (or left unanswered) or decided alone.
pub async fn announce_cancelled(
    inner: &Inner,
    txn: &Txn,
    contract: &ContractRow,
    cancelled_by: AccountId,
    reason: &str,
    settlements: Vec<pb::MilestoneSettlement>,
) -> Result<()> {
    let event = pb::ContractCancelled {
        contract_id: contract.id.to_string(),
        client_id: contract.client_id.to_string(),
        freelancer_id: contract.freelancer_id.to_string(),
        cancelled_by: cancelled_by.to_string(),
        reason: reason.to_owned(),
        settlements,
        gig_id: contract.gig_id.map(|id| id.to_string()).unwrap_or_default(),
    };
    inner
        .outbox
        .publish(txn, "contract", &event.contract_id, &event)
        .await?;
    Ok(())
}

/// Stops the review windows of the contract's deliveries (a cancellation
/// request or a dispute waits).
pub async fn pause_review_windows(inner: &Inner, txn: &Txn, contract: ContractId) -> Result<()> {
    for milestone in store::milestones_of(txn, &[contract]).await? {
        inner
            .timers
            .forget(txn, AUTO_APPROVE, &milestone.id.to_string());
    }
    Ok(())
}

/// Gives each delivery still waiting a whole review window again (a
/// cancellation request was declined or withdrawn).
pub async fn resume_review_windows(inner: &Inner, txn: &Txn, contract: &ContractRow) -> Result<()> {
    let due = inner.clock.now() + Duration::days(i64::from(steps::review_days(inner, contract)));
    for milestone in store::milestones_of(txn, &[ContractId(contract.id)]).await? {
        if milestone.status == MilestoneStatus::Submitted.as_str() {
            inner
                .timers
                .schedule(
                    txn,
                    AUTO_APPROVE,
                    &milestone.id.to_string(),
                    due,
                    &contract.id.to_string(),
                )
                .await?;
        }
    }
    Ok(())
}

/// Accepts the open cancellation `request`: by the other party (`by`), or
/// by its answer window passing (`None`). The contract is cancelled and
/// the escrow divided as proposed.
pub async fn accept(
    inner: &Inner,
    txn: &Txn,
    contract: &ContractRow,
    request: &CancellationRow,
    by: Option<AccountId>,
) -> Result<()> {
    let id = CancellationId(request.id);
    let now = inner.clock.now();
    let answered = store::answer_cancellation(
        txn,
        id,
        CancellationStatus::Accepted,
        now,
        by.map(|account| account.0),
        "",
    )
    .await?;
    if !answered {
        return Err(no_request().into());
    }
    inner.timers.forget(txn, AUTO_ACCEPT, &id.to_string());
    let settlements = settle(inner, txn, contract, request.refund_minor, by).await?;
    let details = match by {
        Some(_) => "The cancellation request was accepted",
        None => "The cancellation request was accepted when its answer window passed",
    };
    let contract_id = ContractId(contract.id);
    store::add_timeline(
        txn,
        contract_id,
        now,
        by,
        "CONTRACT_CANCELLED",
        None,
        details.to_owned(),
    )
    .await?;
    announce_cancelled(
        inner,
        txn,
        contract,
        AccountId(request.requested_by),
        &request.reason,
        settlements,
    )
    .await
}

/// No request waits for an answer.
pub fn no_request() -> ApiError {
    ApiError::precondition(
        "NO_CANCELLATION_PENDING",
        "cancellation",
        "no cancellation request waits for an answer",
    )
}
