//! One step on a milestone, whoever takes it (a party's RPC, payments'
//! events, the review window's timer): the domain's answer, the conditional
//! update, the contract's status that follows, the timeline, the events
//! and the timers, all in the caller's transaction.

use chrono::{Duration, SubsecRound};
use frevix_platform::db::Txn;
use frevix_platform::ids::AccountId;
use frevix_proto::contracts::v1 as pb;

use crate::Inner;
use crate::domain::contract::{Overrides, status_of};
use crate::domain::{
    ContractId, ContractKind, ContractStatus, MilestoneCommand, MilestoneId, MilestoneStatus,
    Refusal,
};
use crate::error::{ContractsError, Result};
use crate::store::{self, ContractRow, MilestoneRow, OrderRow};
use frevix_platform::error::ApiError;

/// The timer that approves a delivery nobody answered.
pub const AUTO_APPROVE: &str = "milestone.auto_approve";
/// The timer that marks a gig order late when its due time passes.
pub const ORDER_LATE: &str = "order.late";

/// What a step says beyond its command.
#[derive(Debug, Default, Clone)]
pub struct Note {
    /// Who took it (`None`: payments, a timer).
    pub actor: Option<AccountId>,
    /// The delivery's files (Submit) or the reason (RequestRevision).
    pub attachments: Vec<String>,
    pub reason: String,
    /// An approval by the review window passing.
    pub automatic: bool,
}

/// What the caller read in this transaction already, which [`apply_seen`]
/// uses instead of reading it again (`None`: it reads it).
#[derive(Debug, Default, Clone, Copy)]
pub struct Seen<'a> {
    /// Every milestone of the contract, as they were before the step.
    pub milestones: Option<&'a [MilestoneRow]>,
    /// The contract's gig order (`Some(None)`: a job contract).
    pub order: Option<Option<&'a OrderRow>>,
}

/// What a step did, and what it left, so an answer need not read it back.
pub struct Left {
    pub outcome: Outcome,
    /// The contract as the step left it (`None`: ask the database, e.g.
    /// once it ended and its reviews opened).
    pub contract: Option<ContractRow>,
    /// Its milestones as the step left them (`None`: ask the database).
    pub milestones: Option<Vec<MilestoneRow>>,
}

/// What a step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// Applied.
    Done,
    /// Nothing to change (the step was already taken).
    Unchanged,
}

fn broken(what: &str) -> ContractsError {
    ApiError::internal(format!("stored {what} is not readable")).into()
}

/// Applies `command` to `milestone` of `contract` in `txn`. A refusal is
/// the domain's (`ContractsError::Milestone`); a milestone changed by a
/// racing step since it was read is `MILESTONE_CHANGED` (ask again).
pub async fn apply(
    inner: &Inner,
    txn: &Txn,
    contract: &ContractRow,
    milestone: &MilestoneRow,
    command: MilestoneCommand,
    note: &Note,
) -> Result<Outcome> {
    let seen = Seen::default();
    let left = apply_seen(inner, txn, contract, milestone, command, note, seen).await?;
    Ok(left.outcome)
}

/// [`apply`], reusing what the caller has `seen` in this transaction and
/// answering what the step left: a party's step reads each row once.
pub async fn apply_seen(
    inner: &Inner,
    txn: &Txn,
    contract: &ContractRow,
    milestone: &MilestoneRow,
    command: MilestoneCommand,
    note: &Note,
    seen: Seen<'_>,
) -> Result<Left> {
    let before =
        store::milestone_state(milestone, &contract.currency).ok_or_else(|| broken("milestone"))?;
    let next = before.apply(command)?;
    if next == before {
        return Ok(Left {
            outcome: Outcome::Unchanged,
            contract: Some(contract.clone()),
            milestones: seen.milestones.map(<[MilestoneRow]>::to_vec),
        });
    }
    if !store::update_milestone(txn, milestone, &next).await? {
        return Err(ApiError::precondition(
            "MILESTONE_CHANGED",
            milestone.id.to_string(),
            "the milestone changed meanwhile; reload the contract and try again",
        )
        .into());
    }
    // Stored as the database keeps it (microseconds), so the contract left
    // in memory is the one a later read finds.
    let now = inner.clock.now().trunc_subsecs(6);
    let contract_id = ContractId(contract.id);
    let milestone_id = MilestoneId(milestone.id);
    let changed = MilestoneRow {
        status: next.status.as_str().to_owned(),
        funded_minor: next.funded,
        released_minor: next.released,
        refunded_minor: next.refunded,
        revisions_used: next.revisions_used,
        ..milestone.clone()
    };
    let milestones: Vec<MilestoneRow> = match seen.milestones {
        Some(rows) => rows
            .iter()
            .map(|m| {
                if m.id == changed.id {
                    changed.clone()
                } else {
                    m.clone()
                }
            })
            .collect(),
        None => store::milestones_of(txn, &[contract_id]).await?,
    };
    let (status, statuses) = contract_status(contract, &milestones)?;
    let late = match seen.order {
        Some(order) => order.is_some_and(|order| order.late_at.is_some()),
        None => {
            contract.gig_id.is_some()
                && store::find_order(txn, contract_id)
                    .await?
                    .is_some_and(|order| order.late_at.is_some())
        }
    };
    let stage = crate::domain::stage::stage_of(status, &statuses, late);
    store::set_status_and_stage(txn, contract_id, status, stage, now).await?;
    crate::reviewing::open_if_due(inner, txn, contract_id, status).await?;
    let (action, details) = describe(command, milestone, note);
    store::add_timeline(
        txn,
        contract_id,
        now,
        note.actor,
        action,
        Some(milestone_id),
        details,
    )
    .await?;
    effects(inner, txn, contract, milestone, command, note).await?;
    if matches!(command, MilestoneCommand::Fund { .. }) {
        start_clock_if_nothing_asked(inner, txn, contract_id, milestone_id).await?;
    }
    if status == ContractStatus::Completed && contract.status != status.as_str() {
        // What was paid: milestones dropped before funding do not count.
        let total = milestones
            .iter()
            .filter(|m| m.status != MilestoneStatus::Cancelled.as_str())
            .map(|m| m.amount_minor)
            .sum();
        let completed = pb::ContractCompleted {
            contract_id: contract.id.to_string(),
            client_id: contract.client_id.to_string(),
            freelancer_id: contract.freelancer_id.to_string(),
            gig_id: contract.gig_id.map(|id| id.to_string()).unwrap_or_default(),
            total: crate::convert::money(&contract.currency, total),
        };
        inner
            .outbox
            .publish(txn, "contract", &completed.contract_id, &completed)
            .await?;
        store::add_timeline(
            txn,
            contract_id,
            now,
            None,
            "CONTRACT_COMPLETED",
            None,
            "Every milestone was released".to_owned(),
        )
        .await?;
    }
    // Ending opens the reviews (a changed row): read back then.
    let contract = (!status.is_ended()).then(|| ContractRow {
        status: status.as_str().to_owned(),
        stage: stage.as_str().to_owned(),
        updated_at: now,
        ..contract.clone()
    });
    Ok(Left {
        outcome: Outcome::Done,
        contract,
        milestones: Some(milestones),
    })
}

/// The contract's status with its `milestones` as they now are, and their
/// statuses.
fn contract_status(
    contract: &ContractRow,
    milestones: &[MilestoneRow],
) -> Result<(ContractStatus, Vec<MilestoneStatus>)> {
    let kind = ContractKind::parse(&contract.kind).ok_or_else(|| broken("contract kind"))?;
    let current =
        ContractStatus::parse(&contract.status).ok_or_else(|| broken("contract status"))?;
    let statuses: Vec<MilestoneStatus> = milestones
        .iter()
        .map(|m| MilestoneStatus::parse(&m.status).unwrap_or(MilestoneStatus::Pending))
        .collect();
    let overrides = Overrides {
        disputed: current == ContractStatus::Disputed,
        cancelled: current == ContractStatus::Cancelled,
    };
    Ok((status_of(kind, &statuses, overrides), statuses))
}

fn describe(
    command: MilestoneCommand,
    milestone: &MilestoneRow,
    note: &Note,
) -> (&'static str, String) {
    let title = &milestone.title;
    match command {
        MilestoneCommand::Fund { .. } => ("MILESTONE_FUNDED", format!("“{title}” is funded")),
        MilestoneCommand::Submit => ("MILESTONE_SUBMITTED", format!("“{title}” was delivered")),
        MilestoneCommand::RequestRevision { .. } => (
            "REVISION_REQUESTED",
            format!("Changes asked for “{title}”: {}", note.reason),
        ),
        MilestoneCommand::Approve if note.automatic => (
            "MILESTONE_APPROVED",
            format!("“{title}” was approved when its review window passed"),
        ),
        MilestoneCommand::Approve => ("MILESTONE_APPROVED", format!("“{title}” was approved")),
        MilestoneCommand::Release { .. } => {
            ("MILESTONE_RELEASED", format!("“{title}” was paid out"))
        }
        MilestoneCommand::Refund { .. } => {
            ("MILESTONE_REFUNDED", format!("“{title}” was refunded"))
        }
        MilestoneCommand::Settle => ("MILESTONE_SETTLING", format!("“{title}” is being settled")),
        MilestoneCommand::Cancel => ("MILESTONE_CANCELLED", format!("“{title}” was cancelled")),
    }
}

/// The days of review window a delivery of this contract gets.
pub fn review_days(inner: &Inner, contract: &ContractRow) -> i32 {
    if ContractKind::parse(&contract.kind) == Some(ContractKind::GigOrder) {
        inner.review_days.order
    } else {
        inner.review_days.job
    }
}

fn review_window(inner: &Inner, contract: &ContractRow) -> Duration {
    Duration::days(i64::from(review_days(inner, contract)))
}

/// Events and timers of a step.
async fn effects(
    inner: &Inner,
    txn: &Txn,
    contract: &ContractRow,
    milestone: &MilestoneRow,
    command: MilestoneCommand,
    note: &Note,
) -> Result<()> {
    let contract_id = contract.id.to_string();
    let subject = milestone.id.to_string();
    let (milestone_id, client_id, freelancer_id, title) = (
        subject.clone(),
        contract.client_id.to_string(),
        contract.freelancer_id.to_string(),
        milestone.title.clone(),
    );
    match command {
        MilestoneCommand::Submit => {
            let due = inner.clock.now() + review_window(inner, contract);
            inner
                .timers
                .schedule(txn, AUTO_APPROVE, &subject, due, &contract_id)
                .await?;
            let event = pb::MilestoneSubmitted {
                contract_id: contract_id.clone(),
                milestone_id,
                client_id,
                freelancer_id,
                title,
                attachment_ids: note.attachments.clone(),
            };
            inner
                .outbox
                .publish(txn, "contract", &contract_id, &event)
                .await?;
        }
        MilestoneCommand::RequestRevision { .. } => {
            inner.timers.forget(txn, AUTO_APPROVE, &subject);
            let event = pb::MilestoneRevisionRequested {
                contract_id: contract_id.clone(),
                milestone_id,
                client_id,
                freelancer_id,
                title,
                reason: note.reason.clone(),
            };
            inner
                .outbox
                .publish(txn, "contract", &contract_id, &event)
                .await?;
        }
        MilestoneCommand::Approve => {
            inner.timers.forget(txn, AUTO_APPROVE, &subject);
            let event = pb::MilestoneApproved {
                contract_id: contract_id.clone(),
                milestone_id,
                client_id,
                freelancer_id,
                title,
                automatic: note.automatic,
            };
            inner
                .outbox
                .publish(txn, "contract", &contract_id, &event)
                .await?;
        }
        MilestoneCommand::Settle | MilestoneCommand::Cancel => {
            inner.timers.forget(txn, AUTO_APPROVE, &subject);
        }
        MilestoneCommand::Fund { .. }
        | MilestoneCommand::Release { .. }
        | MilestoneCommand::Refund { .. } => {}
    }
    Ok(())
}

/// A refusal that only says the step already happened or no longer
/// applies (an event or a timer that came late).
pub fn is_stale(refusal: Refusal) -> bool {
    matches!(
        refusal,
        Refusal::Closed
            | Refusal::AlreadyFunded
            | Refusal::NotSubmitted
            | Refusal::NotApproved
            | Refusal::NotSettling
    )
}

/// Starts a gig order's delivery clock: the answers are in (or nothing was
/// asked). False if it had started already.
pub async fn start_delivery_clock(
    inner: &Inner,
    txn: &Txn,
    contract: ContractId,
    milestone: MilestoneId,
    delivery_days: i32,
    answers: String,
) -> Result<bool> {
    let now = inner.clock.now();
    let due = crate::domain::order::due_at(now, delivery_days);
    if !store::set_requirements(txn, contract, answers, now, due).await? {
        return Ok(false);
    }
    store::set_milestone_due(txn, milestone, due).await?;
    let subject = contract.to_string();
    inner
        .timers
        .schedule(txn, ORDER_LATE, &subject, due, &subject)
        .await?;
    Ok(true)
}

/// A gig order whose gig asks nothing starts its clock when funded.
async fn start_clock_if_nothing_asked(
    inner: &Inner,
    txn: &Txn,
    contract: ContractId,
    milestone: MilestoneId,
) -> Result<()> {
    let Some(order) = store::find_order(txn, contract).await? else {
        return Ok(());
    };
    let questions: Vec<crate::domain::requirements::Question> =
        serde_json::from_str(&order.questions).unwrap_or_default();
    if questions.is_empty() {
        start_delivery_clock(
            inner,
            txn,
            contract,
            milestone,
            order.delivery_days,
            "[]".to_owned(),
        )
        .await?;
    }
    Ok(())
}
