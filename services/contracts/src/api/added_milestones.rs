//! AddMilestone, AcceptMilestone, DeclineMilestone: more work on a
//! fixed-price job contract under way. The client proposes a milestone;
//! it joins the contract (PENDING, announced with MilestoneAdded for
//! payments to fund) only when the freelancer accepts it.

use chrono::Duration;
use frevix_platform::error::{ApiError, FieldViolations};
use frevix_platform::ids::parse_uuid;
use frevix_platform::money::Money;
use frevix_platform::request::caller;
use frevix_proto::contracts::v1 as pb;
use tonic::Request;
use uuid::Uuid;

use super::acting::{Change, begin, finish, party_of, text};
use crate::Inner;
use crate::convert;
use crate::domain::contract::{Overrides, status_of};
use crate::domain::ending::check_workable;
use crate::domain::{
    ContractId, ContractKind, ContractStatus, MilestoneId, MilestoneStatus, Party,
};
use crate::error::Result;
use crate::store::{self, MilestoneRow, ProposalRow};

const MAX_TITLE: usize = 200;
const MAX_WAITING: usize = 10;
const MAX_MILESTONES: usize = 50;
/// The most one milestone may be worth, in minor units.
const MAX_AMOUNT: i64 = 100_000_000;

fn kind_and_status(change: &Change) -> Result<(ContractKind, ContractStatus)> {
    let contract = &change.contract;
    match (
        ContractKind::parse(&contract.kind),
        ContractStatus::parse(&contract.status),
    ) {
        (Some(kind), Some(status)) => Ok((kind, status)),
        _ => Err(ApiError::internal("stored contract kind or status is not readable").into()),
    }
}

/// A fixed-price job contract still under way, changed by `side`.
async fn begin_fixed(
    inner: &Inner,
    caller: &frevix_platform::auth::Principal,
    id: ContractId,
    side: Party,
) -> Result<Change> {
    let change = begin(inner, caller, id).await?;
    if party_of(&change.contract, caller)? != side {
        let (reason, message) = match side {
            Party::Client => ("CLIENT_ONLY", "only the client proposes milestones"),
            Party::Freelancer => ("FREELANCER_ONLY", "only the freelancer answers a proposal"),
        };
        return Err(ApiError::permission_denied(reason, message).into());
    }
    let (kind, status) = kind_and_status(&change)?;
    if kind != ContractKind::FixedPrice {
        return Err(ApiError::precondition(
            "NOT_FIXED_PRICE",
            id.to_string(),
            "milestones are added to fixed-price job contracts only",
        )
        .into());
    }
    check_workable(status, false)?;
    Ok(change)
}

pub async fn add(
    inner: &Inner,
    request: Request<pb::AddMilestoneRequest>,
) -> Result<pb::AddMilestoneResponse> {
    let caller = caller(&request)?;
    let req = request.get_ref();
    let mut violations = FieldViolations::new();
    let id = ContractId::parse_field("contract_id", &req.contract_id, &mut violations);
    let title = text("title", &req.title, 1, MAX_TITLE, &mut violations);
    let amount = Money::parse_positive("amount", req.amount.as_ref(), MAX_AMOUNT, &mut violations);
    if !(1..=365).contains(&req.due_in_days) {
        violations.add("due_in_days", "must be 1 to 365");
    }
    let (id, amount) = match violations.finish((id, amount))? {
        (Some(id), Some(amount)) => (id, amount),
        _ => return Err(ApiError::NotFound("contract").into()),
    };
    let change = begin_fixed(inner, &caller, id, Party::Client).await?;
    if amount.currency.code() != change.contract.currency {
        return Err(FieldViolations::single(
            "amount.currency_code",
            format!("must be the contract's, {}", change.contract.currency),
        )
        .into());
    }
    let waiting = store::proposals_of(&change.txn, id).await?.len();
    let milestones = store::milestones_of(&change.txn, &[id]).await?.len();
    if waiting >= MAX_WAITING || milestones + waiting >= MAX_MILESTONES {
        return Err(ApiError::precondition(
            "TOO_MANY_MILESTONES",
            id.to_string(),
            format!(
                "at most {MAX_WAITING} proposals wait at once, {MAX_MILESTONES} milestones a contract"
            ),
        )
        .into());
    }
    let now = inner.clock.now();
    store::insert_proposal(
        &change.txn,
        ProposalRow {
            id: Uuid::now_v7(),
            contract_id: id.0,
            title: title.clone(),
            amount_minor: amount.minor_units,
            due_in_days: req.due_in_days,
            proposed_at: now,
        },
    )
    .await?;
    store::add_timeline(
        &change.txn,
        id,
        now,
        Some(caller.account_id),
        "MILESTONE_PROPOSED",
        None,
        format!("Proposed “{title}” for {amount}"),
    )
    .await?;
    store::touch_contract(&change.txn, id, now).await?;
    Ok(pb::AddMilestoneResponse {
        contract: Some(finish(inner, change).await?),
    })
}

/// The freelancer's answer to proposal `proposal` of `contract`.
async fn answer(
    inner: &Inner,
    caller: &frevix_platform::auth::Principal,
    contract: &str,
    proposal: &str,
    accept: bool,
) -> Result<pb::Contract> {
    let mut violations = FieldViolations::new();
    let id = ContractId::parse_field("contract_id", contract, &mut violations);
    let proposal = parse_uuid("proposed_milestone_id", proposal, &mut violations);
    let (id, proposal) = match violations.finish((id, proposal))? {
        (Some(id), Some(proposal)) => (id, proposal),
        _ => return Err(ApiError::NotFound("proposed milestone").into()),
    };
    let change = begin_fixed(inner, caller, id, Party::Freelancer).await?;
    let row = store::take_proposal(&change.txn, id, proposal)
        .await?
        .ok_or(ApiError::NotFound("proposed milestone"))?;
    let now = inner.clock.now();
    let by = Some(caller.account_id);
    if !accept {
        store::add_timeline(
            &change.txn,
            id,
            now,
            by,
            "MILESTONE_DECLINED",
            None,
            format!("“{}” was declined", row.title),
        )
        .await?;
        store::touch_contract(&change.txn, id, now).await?;
        return finish(inner, change).await;
    }
    let existing = store::milestones_of(&change.txn, &[id]).await?;
    let milestone = MilestoneRow {
        id: MilestoneId::generate().0,
        contract_id: id.0,
        position: existing.iter().map(|m| m.position).max().unwrap_or(0) + 1,
        title: row.title.clone(),
        amount_minor: row.amount_minor,
        status: MilestoneStatus::Pending.as_str().to_owned(),
        funded_minor: 0,
        released_minor: 0,
        refunded_minor: 0,
        revisions_used: 0,
        due_at: Some(now + Duration::days(i64::from(row.due_in_days))),
        settled_refund_minor: None,
    };
    store::append_milestone(&change.txn, milestone.clone()).await?;
    let mut statuses: Vec<MilestoneStatus> = existing
        .iter()
        .filter_map(|m| MilestoneStatus::parse(&m.status))
        .collect();
    statuses.push(MilestoneStatus::Pending);
    let (kind, _) = kind_and_status(&change)?;
    let status = status_of(kind, &statuses, Overrides::default());
    store::set_contract_status(&change.txn, id, status, now).await?;
    store::add_timeline(
        &change.txn,
        id,
        now,
        by,
        "MILESTONE_ADDED",
        Some(MilestoneId(milestone.id)),
        format!("“{}” was added to the contract", row.title),
    )
    .await?;
    let contract = &change.contract;
    let event = pb::MilestoneAdded {
        contract_id: id.to_string(),
        client_id: contract.client_id.to_string(),
        freelancer_id: contract.freelancer_id.to_string(),
        milestone: Some(convert::milestone(&milestone, &contract.currency)),
    };
    inner
        .outbox
        .publish(&change.txn, "contract", &event.contract_id, &event)
        .await?;
    finish(inner, change).await
}

pub async fn accept(
    inner: &Inner,
    request: Request<pb::AcceptMilestoneRequest>,
) -> Result<pb::AcceptMilestoneResponse> {
    let caller = caller(&request)?;
    let req = request.get_ref();
    let contract = answer(
        inner,
        &caller,
        &req.contract_id,
        &req.proposed_milestone_id,
        true,
    )
    .await?;
    Ok(pb::AcceptMilestoneResponse {
        contract: Some(contract),
    })
}

pub async fn decline(
    inner: &Inner,
    request: Request<pb::DeclineMilestoneRequest>,
) -> Result<pb::DeclineMilestoneResponse> {
    let caller = caller(&request)?;
    let req = request.get_ref();
    let contract = answer(
        inner,
        &caller,
        &req.contract_id,
        &req.proposed_milestone_id,
        false,
    )
    .await?;
    Ok(pb::DeclineMilestoneResponse {
        contract: Some(contract),
    })
}
