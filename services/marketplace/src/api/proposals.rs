//! Proposals: submit, edit, withdraw, read, list, and the client's
//! shortlist, decline and accept.

use chrono::Utc;
use frevix_platform::auth::{Principal, Role};
use frevix_platform::db::Txn;
use frevix_platform::db::is_unique_violation;
use frevix_platform::error::{ApiError, FieldViolations};
use frevix_platform::ids::{AccountId, contract_id_for_proposal};
use frevix_platform::mask::{on_masked, update_paths};
use frevix_platform::paging::{PageLimits, fingerprint, finish_page, parse_page};
use frevix_proto::marketplace::v1 as pb;
use sea_orm::ConnectionTrait;
use tonic::Request;
use uuid::Uuid;

use super::caller_with;
use super::jobs::{can_see, job_budget, job_not_open, owned_job, parse_id};
use crate::Inner;
use crate::convert;
use crate::domain::ids::{JobId, ProposalId};
use crate::domain::job::{
    JobStatus, PROPOSAL_UPDATABLE, ProposalAction, ProposalContent, ProposalStatus,
    proposal_transition,
};
use crate::error::{MarketplaceError, Result};
use crate::events::publish;
use crate::store::jobs::{self, JobRow, ProposalRow, job_status, proposal_status};
use crate::store::profiles;

const LIMITS: PageLimits = PageLimits {
    default_size: 20,
    max_size: 100,
};

pub(super) fn caller<T>(request: &Request<T>) -> Result<Principal> {
    Ok(frevix_platform::request::caller(request)?)
}

pub(super) async fn name_of(db: &impl ConnectionTrait, freelancer: AccountId) -> Result<String> {
    Ok(profiles::find_freelancer(db, freelancer)
        .await?
        .map(|p| p.display_name)
        .unwrap_or_default())
}

async fn answer(inner: &Inner, row: &ProposalRow) -> Result<pb::Proposal> {
    Ok(convert::proposal(
        row,
        &name_of(&inner.db, AccountId(row.freelancer_id)).await?,
    ))
}

/// The proposal and its job, if `caller` is its freelancer or the job's
/// owner; anyone else gets NOT_FOUND.
pub(super) async fn visible_proposal(
    db: &impl ConnectionTrait,
    caller: &Principal,
    id: ProposalId,
) -> Result<(ProposalRow, JobRow)> {
    let proposal = jobs::find_proposal(db, id)
        .await?
        .ok_or(ApiError::NotFound("proposal"))?;
    let job = jobs::find_job(db, JobId(proposal.job_id))
        .await?
        .ok_or(ApiError::NotFound("proposal"))?;
    let me = caller.account_id.0;
    if proposal.freelancer_id == me || job.client_id == me {
        Ok((proposal, job))
    } else {
        Err(ApiError::NotFound("proposal").into())
    }
}

pub async fn submit(
    inner: &Inner,
    request: Request<pb::SubmitProposalRequest>,
) -> Result<pb::SubmitProposalResponse> {
    let caller = caller_with(&request, Role::Freelancer)?;
    let req = request.into_inner();
    let mut violations = FieldViolations::new();
    let proposal = &req.proposal.clone().unwrap_or_else(|| {
        violations.add("proposal", "is required");
        pb::Proposal::default()
    });
    let job_id = JobId::parse_field("proposal.job_id", &proposal.job_id, &mut violations);
    ProposalContent::check_shape(proposal, &mut violations);
    let Some(job_id) = job_id else {
        return Err(ApiError::from(violations).into());
    };
    let job = jobs::find_job(&inner.db, job_id)
        .await?
        .ok_or(ApiError::NotFound("job"))?;
    if !can_see(&job, Some(&caller)) {
        return Err(ApiError::NotFound("job").into());
    }
    if job.client_id == caller.account_id.0 {
        return Err(ApiError::precondition(
            "OWN_JOB",
            "job",
            "you cannot propose for your own job",
        )
        .into());
    }
    if job_status(&job) != JobStatus::Open {
        return Err(job_not_open());
    }
    // The job's own rules (its currency, fixed or hourly) join the rest.
    let mut whole = FieldViolations::new();
    let content = ProposalContent::parse(proposal, &job_budget(&job)?, &mut whole);
    violations.absorb(whole);
    let content = violations
        .finish(content)?
        .ok_or(ApiError::NotFound("proposal"))?;
    let now = Utc::now();
    profiles::ensure_freelancer(&inner.db, caller.account_id, "", now).await?;
    let inserted: Result<ProposalRow> = async {
        let txn = Txn::begin(&inner.db).await?;
        let row = jobs::insert_proposal(
            &txn,
            ProposalId::generate(),
            job_id,
            caller.account_id,
            &content,
            now,
        )
        .await?;
        publish::proposal_submitted(&inner.outbox, &txn, &job, &row).await?;
        txn.commit().await?;
        Ok(row)
    }
    .await;
    let row = match inserted {
        Err(MarketplaceError::Api(error)) if error.db_error().is_some_and(is_unique_violation) => {
            return Err(ApiError::already_exists(
                "PROPOSAL_EXISTS",
                "you already proposed for this job; edit that proposal instead",
            )
            .into());
        }
        other => other?,
    };
    Ok(pb::SubmitProposalResponse {
        proposal: Some(answer(inner, &row).await?),
    })
}

/// Its freelancer's own proposal, still active, on a job still open.
async fn editable(
    inner: &Inner,
    caller: &Principal,
    id: ProposalId,
) -> Result<(ProposalRow, JobRow)> {
    let (proposal, job) = visible_proposal(&inner.db, caller, id).await?;
    if proposal.freelancer_id != caller.account_id.0 {
        return Err(ApiError::permission_denied(
            "NOT_PROPOSAL_OWNER",
            "only the freelancer who wrote this proposal may change it",
        )
        .into());
    }
    if job_status(&job) != JobStatus::Open {
        return Err(job_not_open());
    }
    Ok((proposal, job))
}

pub async fn update(
    inner: &Inner,
    request: Request<pb::UpdateProposalRequest>,
) -> Result<pb::UpdateProposalResponse> {
    let caller = caller(&request)?;
    let req = request.into_inner();
    let mut violations = FieldViolations::new();
    let changes = req.proposal.unwrap_or_else(|| {
        violations.add("proposal", "is required");
        pb::Proposal::default()
    });
    let id = ProposalId::parse_field("proposal.id", &changes.id, &mut violations);
    let paths = update_paths(req.update_mask, PROPOSAL_UPDATABLE, &mut violations);
    // The named fields' own rules, before the proposal is looked up.
    let mut blank = pb::Proposal::default();
    overlay(&mut blank, &changes, &paths, &mut violations);
    let mut alone = FieldViolations::new();
    ProposalContent::check_shape(&blank, &mut alone);
    on_masked(&alone, "proposal", &paths, &mut violations);
    let Some(id) = id else {
        return Err(ApiError::from(violations).into());
    };
    // Who may change it is answered first; then every field at once.
    let (row, job) = editable(inner, &caller, id).await?;
    if !proposal_status(&row).is_active() {
        return Err(ApiError::precondition(
            "PROPOSAL_STATUS",
            "proposal",
            "only a submitted or shortlisted proposal can change",
        )
        .into());
    }
    // Overlay the named fields on the stored proposal, then check it whole.
    let mut merged = convert::proposal(&row, "");
    overlay(&mut merged, &changes, &paths, &mut FieldViolations::new());
    let mut whole = FieldViolations::new();
    let content = ProposalContent::parse(&merged, &job_budget(&job)?, &mut whole);
    violations.absorb(whole);
    let content = violations
        .finish(content)?
        .ok_or(ApiError::NotFound("proposal"))?;
    jobs::update_proposal_content(&inner.db, id, &content, Utc::now()).await?;
    let row = jobs::find_proposal(&inner.db, id)
        .await?
        .ok_or(ApiError::NotFound("proposal"))?;
    Ok(pb::UpdateProposalResponse {
        proposal: Some(answer(inner, &row).await?),
    })
}

/// `proposal` with the fields `paths` name taken from `changes`.
fn overlay(
    proposal: &mut pb::Proposal,
    changes: &pb::Proposal,
    paths: &[String],
    violations: &mut FieldViolations,
) {
    for path in paths {
        match path.as_str() {
            "cover_letter" => proposal.cover_letter = changes.cover_letter.clone(),
            "bid" => proposal.bid = changes.bid.clone(),
            "estimated_days" => proposal.estimated_days = changes.estimated_days,
            "milestones" => proposal.milestones = changes.milestones.clone(),
            other => violations.add(
                "update_mask.paths",
                format!(
                    "`{other}` cannot be updated; use {}",
                    PROPOSAL_UPDATABLE.join(", ")
                ),
            ),
        }
    }
}

/// Applies `action` to a proposal inside one transaction with its event.
async fn apply(
    inner: &Inner,
    row: &ProposalRow,
    job: &JobRow,
    action: ProposalAction,
) -> Result<ProposalRow> {
    let txn = Txn::begin(&inner.db).await?;
    let updated = apply_in(inner, &txn, row, job, action).await?;
    txn.commit().await?;
    Ok(updated)
}

/// Applies `action` to a proposal in `txn`, with its events: a
/// conditional update, so of two racing changes one wins and the other is
/// told the proposal changed.
pub(super) async fn apply_in(
    inner: &Inner,
    txn: &Txn,
    row: &ProposalRow,
    job: &JobRow,
    action: ProposalAction,
) -> Result<ProposalRow> {
    let from = proposal_status(row);
    let (to, changed) = proposal_transition(from, action)?;
    if !changed {
        return Ok(row.clone());
    }
    let now = Utc::now();
    if !jobs::update_proposal_status(txn, ProposalId(row.id), from, to, now).await? {
        return Err(ApiError::precondition(
            "PROPOSAL_CHANGED",
            "proposal",
            "the proposal changed meanwhile; read it again",
        )
        .into());
    }
    let updated = jobs::find_proposal(txn, ProposalId(row.id))
        .await?
        .ok_or(ApiError::NotFound("proposal"))?;
    match action {
        ProposalAction::Withdraw => {
            publish::proposal_withdrawn(&inner.outbox, txn, job, &updated).await?
        }
        ProposalAction::Accept => {
            if !jobs::update_job_status(txn, JobId(job.id), JobStatus::Open, JobStatus::Filled, now)
                .await?
            {
                return Err(job_not_open());
            }
            let filled = jobs::find_job(txn, JobId(job.id))
                .await?
                .ok_or(ApiError::NotFound("job"))?;
            let contract_id = contract_id_for_proposal(updated.id);
            publish::proposal_accepted(&inner.outbox, txn, &filled, &updated, contract_id).await?;
            publish::job_closed(&inner.outbox, txn, &filled, pb::JobStatus::Filled).await?;
        }
        ProposalAction::Shortlist | ProposalAction::Decline => {}
    }
    Ok(updated)
}

pub async fn withdraw(
    inner: &Inner,
    request: Request<pb::WithdrawProposalRequest>,
) -> Result<pb::WithdrawProposalResponse> {
    let caller = caller(&request)?;
    let id = parse_id("proposal_id", &request.get_ref().proposal_id)?;
    let (row, job) = editable(inner, &caller, id).await?;
    let row = apply(inner, &row, &job, ProposalAction::Withdraw).await?;
    Ok(pb::WithdrawProposalResponse {
        proposal: Some(answer(inner, &row).await?),
    })
}

pub async fn get(
    inner: &Inner,
    request: Request<pb::GetProposalRequest>,
) -> Result<pb::GetProposalResponse> {
    let caller = caller(&request)?;
    let id = parse_id("proposal_id", &request.get_ref().proposal_id)?;
    let (row, _) = visible_proposal(&inner.db, &caller, id).await?;
    Ok(pb::GetProposalResponse {
        proposal: Some(answer(inner, &row).await?),
    })
}

pub async fn list_for_job(
    inner: &Inner,
    request: Request<pb::ListJobProposalsRequest>,
) -> Result<pb::ListJobProposalsResponse> {
    let caller = caller(&request)?;
    let req = request.into_inner();
    let mut violations = FieldViolations::new();
    let job_id = JobId::parse_field("job_id", &req.job_id, &mut violations);
    let status = match pb::ProposalStatus::try_from(req.status) {
        Ok(status) => ProposalStatus::from_proto(status),
        Err(_) => {
            violations.add("status", "is not a known status");
            None
        }
    };
    let filters = fingerprint(&(&req.job_id, req.status));
    let page = parse_page::<Uuid>(req.page.as_ref(), LIMITS, &filters, &mut violations);
    let job_id = violations
        .finish(job_id)?
        .ok_or(ApiError::NotFound("job"))?;
    let job = owned_job(inner, &caller, job_id).await?;
    let rows = jobs::list_job_proposals(
        &inner.db,
        JobId(job.id),
        status,
        page.after.map(ProposalId),
        page.size + 1,
    )
    .await?;
    let (rows, page) = finish_page(rows, page.size, &filters, |row| row.id);
    let names = profiles::find_freelancers(
        &inner.db,
        rows.iter().map(|r| AccountId(r.freelancer_id)).collect(),
    )
    .await?;
    let name = |id: Uuid| {
        names
            .iter()
            .find(|p| p.account_id == id)
            .map(|p| p.display_name.clone())
            .unwrap_or_default()
    };
    Ok(pb::ListJobProposalsResponse {
        proposals: rows
            .iter()
            .map(|row| convert::proposal(row, &name(row.freelancer_id)))
            .collect(),
        page: Some(page),
    })
}

pub async fn list_mine(
    inner: &Inner,
    request: Request<pb::ListMyProposalsRequest>,
) -> Result<pb::ListMyProposalsResponse> {
    let caller = caller(&request)?;
    let mut violations = FieldViolations::new();
    let filters = fingerprint(&caller.account_id.0);
    let page = parse_page::<Uuid>(
        request.get_ref().page.as_ref(),
        LIMITS,
        &filters,
        &mut violations,
    );
    violations.finish(())?;
    let rows = jobs::list_freelancer_proposals(
        &inner.db,
        caller.account_id,
        page.after.map(ProposalId),
        page.size + 1,
    )
    .await?;
    let (rows, page) = finish_page(rows, page.size, &filters, |row| row.id);
    let name = name_of(&inner.db, caller.account_id).await?;
    Ok(pb::ListMyProposalsResponse {
        proposals: rows
            .iter()
            .map(|row| convert::proposal(row, &name))
            .collect(),
        page: Some(page),
    })
}

/// The client's decisions: the job's owner only, on an open job.
async fn decide(
    inner: &Inner,
    caller: &Principal,
    id_text: &str,
    action: ProposalAction,
) -> Result<(ProposalRow, JobRow)> {
    let (row, job) = decidable(&inner.db, caller, id_text, action).await?;
    let row = apply(inner, &row, &job, action).await?;
    let job = jobs::find_job(&inner.db, JobId(job.id))
        .await?
        .ok_or(ApiError::NotFound("job"))?;
    Ok((row, job))
}

/// The proposal and its job, if `caller` may take `action` on it now.
pub(super) async fn decidable(
    db: &impl ConnectionTrait,
    caller: &Principal,
    id_text: &str,
    action: ProposalAction,
) -> Result<(ProposalRow, JobRow)> {
    let id = parse_id("proposal_id", id_text)?;
    let (row, job) = visible_proposal(db, caller, id).await?;
    if job.client_id != caller.account_id.0 {
        return Err(ApiError::permission_denied(
            "NOT_JOB_OWNER",
            "only the client who posted the job may decide on its proposals",
        )
        .into());
    }
    let status = job_status(&job);
    let already_accepted =
        action == ProposalAction::Accept && proposal_status(&row) == ProposalStatus::Accepted;
    if status != JobStatus::Open && !already_accepted {
        return Err(job_not_open());
    }
    Ok((row, job))
}

pub async fn shortlist(
    inner: &Inner,
    request: Request<pb::ShortlistProposalRequest>,
) -> Result<pb::ShortlistProposalResponse> {
    let caller = caller(&request)?;
    let (row, _) = decide(
        inner,
        &caller,
        &request.get_ref().proposal_id,
        ProposalAction::Shortlist,
    )
    .await?;
    Ok(pb::ShortlistProposalResponse {
        proposal: Some(answer(inner, &row).await?),
    })
}

pub async fn decline(
    inner: &Inner,
    request: Request<pb::DeclineProposalRequest>,
) -> Result<pb::DeclineProposalResponse> {
    let caller = caller(&request)?;
    let (row, _) = decide(
        inner,
        &caller,
        &request.get_ref().proposal_id,
        ProposalAction::Decline,
    )
    .await?;
    Ok(pb::DeclineProposalResponse {
        proposal: Some(answer(inner, &row).await?),
    })
}
