//! SubmitDelivery, RequestRevision, ApproveMilestone: a party's step on a
//! milestone. The right party only (PERMISSION_DENIED for the other), in
//! the right state (FAILED_PRECONDITION with the milestone's reason), while
//! no cancellation request or dispute holds the work; steps racing on one
//! contract take its lock in turn, each deciding on what the one before
//! left.

use frevix_platform::auth::Principal;
use frevix_platform::error::{ApiError, FieldViolations};
use frevix_platform::request::caller;
use frevix_proto::contracts::v1 as pb;
use tonic::Request;
use uuid::Uuid;

use super::acting::{attachments, begin, finish, party_of, text};
use crate::Inner;
use crate::domain::contract::party_for;
use crate::domain::ending::check_workable;
use crate::domain::{
    CancellationStatus, ContractId, ContractStatus, MilestoneCommand, MilestoneId, MilestoneStatus,
    Party,
};
use crate::error::Result;
use crate::steps::{self, Note};
use crate::store;

const MAX_MESSAGE: usize = 5000;
const MAX_REASON: usize = 2000;

fn ids(
    contract: &str,
    milestone: &str,
    violations: &mut FieldViolations,
) -> (Option<ContractId>, Option<MilestoneId>) {
    (
        ContractId::parse_field("contract_id", contract, violations),
        MilestoneId::parse_field("milestone_id", milestone, violations),
    )
}

/// Takes `command` on the milestone as `caller`, and answers the contract.
async fn step(
    inner: &Inner,
    caller: &Principal,
    contract_id: ContractId,
    milestone_id: MilestoneId,
    command: MilestoneCommand,
    note: Note,
    delivery: Option<(String, Vec<Uuid>)>,
) -> Result<pb::Contract> {
    let mut change = begin(inner, caller, contract_id).await?;
    let party = party_of(&change.contract, caller)?;
    if party_for(command).is_some_and(|needed| needed != party) {
        let (reason, message) = match party {
            Party::Client => ("FREELANCER_ONLY", "only the freelancer delivers"),
            Party::Freelancer => (
                "CLIENT_ONLY",
                "only the client approves or asks for changes",
            ),
        };
        return Err(ApiError::permission_denied(reason, message).into());
    }
    let txn = &change.txn;
    let contract = &change.contract;
    // A step on a milestone changes neither the cancellation request nor
    // the order: the answer reuses them.
    let cancellation = store::latest_cancellation(txn, contract_id).await?;
    let request_open = cancellation
        .as_ref()
        .is_some_and(|r| r.status == CancellationStatus::Open.as_str());
    if let Some(status) = ContractStatus::parse(&contract.status) {
        check_workable(status, request_open)?;
    }
    // Every milestone once: the step and its answer both use them.
    let milestones = store::milestones_of(txn, &[contract_id]).await?;
    let milestone = milestones
        .iter()
        .find(|m| m.id == milestone_id.0)
        .cloned()
        .ok_or(ApiError::NotFound("milestone"))?;
    let order = match contract.gig_id {
        Some(_) => store::find_order(txn, contract_id).await?,
        None => None,
    };
    if command == MilestoneCommand::Submit
        && order
            .as_ref()
            .is_some_and(|order| order.requirements_at.is_none())
        && milestone.status != MilestoneStatus::Pending.as_str()
    {
        return Err(ApiError::precondition(
            "REQUIREMENTS_PENDING",
            contract_id.to_string(),
            "the buyer has not sent the order's requirements yet",
        )
        .into());
    }
    let seen = steps::Seen {
        milestones: Some(&milestones),
        order: Some(order.as_ref()),
    };
    let left = steps::apply_seen(inner, txn, contract, &milestone, command, &note, seen).await?;
    if let (steps::Outcome::Done, Some((message, files))) = (left.outcome, &delivery) {
        store::insert_delivery(
            txn,
            contract_id,
            milestone_id,
            message.clone(),
            files,
            inner.clock.now(),
        )
        .await?;
    }
    change.known.cancellation = Some(cancellation);
    change.known.order = Some(order);
    change.known.milestones = left.milestones;
    change.known.contract = left.contract;
    finish(inner, change).await
}

pub async fn submit_delivery(
    inner: &Inner,
    request: Request<pb::SubmitDeliveryRequest>,
) -> Result<pb::SubmitDeliveryResponse> {
    let caller = caller(&request)?;
    let req = request.get_ref();
    let mut violations = FieldViolations::new();
    let (contract, milestone) = ids(&req.contract_id, &req.milestone_id, &mut violations);
    let message = text("message", &req.message, 1, MAX_MESSAGE, &mut violations);
    let files = attachments("attachment_ids", &req.attachment_ids, &mut violations);
    let (contract, milestone) = match violations.finish((contract, milestone))? {
        (Some(contract), Some(milestone)) => (contract, milestone),
        _ => return Err(ApiError::NotFound("milestone").into()),
    };
    let note = Note {
        actor: Some(caller.account_id),
        attachments: files.iter().map(ToString::to_string).collect(),
        ..Note::default()
    };
    let contract = step(
        inner,
        &caller,
        contract,
        milestone,
        MilestoneCommand::Submit,
        note,
        Some((message, files)),
    )
    .await?;
    Ok(pb::SubmitDeliveryResponse {
        contract: Some(contract),
    })
}

pub async fn request_revision(
    inner: &Inner,
    request: Request<pb::RequestRevisionRequest>,
) -> Result<pb::RequestRevisionResponse> {
    let caller = caller(&request)?;
    let req = request.get_ref();
    let mut violations = FieldViolations::new();
    let (contract, milestone) = ids(&req.contract_id, &req.milestone_id, &mut violations);
    let reason = text("reason", &req.reason, 1, MAX_REASON, &mut violations);
    let (contract, milestone) = match violations.finish((contract, milestone))? {
        (Some(contract), Some(milestone)) => (contract, milestone),
        _ => return Err(ApiError::NotFound("milestone").into()),
    };
    // A gig order allows its package's revisions; a job contract, any.
    let allowed = store::find_order(&inner.db, contract)
        .await?
        .map(|order| order.revisions_included);
    let note = Note {
        actor: Some(caller.account_id),
        reason,
        ..Note::default()
    };
    let command = MilestoneCommand::RequestRevision { allowed };
    let contract = step(inner, &caller, contract, milestone, command, note, None).await?;
    Ok(pb::RequestRevisionResponse {
        contract: Some(contract),
    })
}

pub async fn approve(
    inner: &Inner,
    request: Request<pb::ApproveMilestoneRequest>,
) -> Result<pb::ApproveMilestoneResponse> {
    let caller = caller(&request)?;
    let req = request.get_ref();
    let mut violations = FieldViolations::new();
    let (contract, milestone) = ids(&req.contract_id, &req.milestone_id, &mut violations);
    let (contract, milestone) = match violations.finish((contract, milestone))? {
        (Some(contract), Some(milestone)) => (contract, milestone),
        _ => return Err(ApiError::NotFound("milestone").into()),
    };
    let note = Note {
        actor: Some(caller.account_id),
        ..Note::default()
    };
    let contract = step(
        inner,
        &caller,
        contract,
        milestone,
        MilestoneCommand::Approve,
        note,
        None,
    )
    .await?;
    Ok(pb::ApproveMilestoneResponse {
        contract: Some(contract),
    })
}
