//! SubmitDelivery, RequestRevision, ApproveMilestone: a party's step on a
//! milestone. The right party only (PERMISSION_DENIED for the other), in
//! the right state (FAILED_PRECONDITION with the milestone's reason), and
//! a step that races another is decided again on what that one left.

use frevix_platform::auth::Principal;
use frevix_platform::db::Txn;
use frevix_platform::error::{ApiError, FieldViolations};
use frevix_platform::request::caller;
use frevix_proto::contracts::v1 as pb;
use tonic::Request;
use uuid::Uuid;

use super::reading::{full, visible};
use crate::Inner;
use crate::domain::contract::party_for;
use crate::domain::{ContractId, MilestoneCommand, MilestoneId, MilestoneStatus, Party};
use crate::error::Result;
use crate::steps::{self, Note};
use crate::store;

const MAX_MESSAGE: usize = 5000;
const MAX_REASON: usize = 2000;
const MAX_ATTACHMENTS: usize = 10;
/// How often a step that lost a race is decided again.
const ATTEMPTS: usize = 3;

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

fn text(field: &str, text: &str, max: usize, violations: &mut FieldViolations) -> String {
    let text = text.trim();
    if text.is_empty() || text.chars().count() > max {
        violations.add(field, format!("must be 1 to {max} characters"));
    }
    text.to_owned()
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
    let contract = visible(&inner.db, caller, contract_id).await?;
    let party = if contract.client_id == caller.account_id.0 {
        Party::Client
    } else if contract.freelancer_id == caller.account_id.0 {
        Party::Freelancer
    } else {
        // An ADMIN sees contracts but takes no party's step.
        return Err(ApiError::permission_denied(
            "NOT_A_PARTY",
            "only the contract's parties take its steps",
        )
        .into());
    };
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
    let mut attempt = 0;
    loop {
        attempt += 1;
        let txn = Txn::begin(&inner.db).await?;
        let contract = store::find_contract(&txn, contract_id)
            .await?
            .ok_or(ApiError::NotFound("contract"))?;
        let milestone = store::find_milestone(&txn, contract_id, milestone_id)
            .await?
            .ok_or(ApiError::NotFound("milestone"))?;
        if command == MilestoneCommand::Submit
            && store::find_order(&txn, contract_id)
                .await?
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
        match steps::apply(inner, &txn, &contract, &milestone, command, &note).await {
            Ok(outcome) => {
                if let (steps::Outcome::Done, Some((message, files))) = (&outcome, &delivery) {
                    store::insert_delivery(
                        &txn,
                        contract_id,
                        milestone_id,
                        message.clone(),
                        files,
                        inner.clock.now(),
                    )
                    .await?;
                }
                txn.commit().await?;
                break;
            }
            Err(crate::error::ContractsError::Api(ApiError::FailedPrecondition {
                reason: "MILESTONE_CHANGED",
                ..
            })) if attempt < ATTEMPTS => {
                txn.rollback().await?;
            }
            Err(error) => return Err(error),
        }
    }
    let snapshot = store::snapshot(&inner.db).await?;
    let contract = store::find_contract(&snapshot, contract_id)
        .await?
        .ok_or(ApiError::NotFound("contract"))?;
    let answer = full(inner, &snapshot, &contract).await?;
    snapshot.commit().await?;
    Ok(answer)
}

pub async fn submit_delivery(
    inner: &Inner,
    request: Request<pb::SubmitDeliveryRequest>,
) -> Result<pb::SubmitDeliveryResponse> {
    let caller = caller(&request)?;
    let req = request.get_ref();
    let mut violations = FieldViolations::new();
    let (contract, milestone) = ids(&req.contract_id, &req.milestone_id, &mut violations);
    let message = text("message", &req.message, MAX_MESSAGE, &mut violations);
    if req.attachment_ids.len() > MAX_ATTACHMENTS {
        violations.add("attachment_ids", "at most 10 files a delivery");
    }
    let mut files = Vec::new();
    for (i, id) in req.attachment_ids.iter().enumerate() {
        if let Some(id) =
            frevix_platform::ids::parse_uuid(&format!("attachment_ids[{i}]"), id, &mut violations)
            && !files.contains(&id)
        {
            files.push(id);
        }
    }
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
    let reason = text("reason", &req.reason, MAX_REASON, &mut violations);
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
