//! AcceptProposal: the client hires a freelancer. One accept fills the
//! job and announces the hire; a racing accept of the same proposal (a
//! retry without the key, a second tab) answers the same hire rather than
//! a refusal, while an accept of another proposal of the filled job is
//! refused `JOB_NOT_OPEN`.

use frevix_platform::db::idempotency::{IdempotencyKey, Keyed, Start};
use frevix_platform::error::{ApiError, FieldViolations};
use frevix_platform::ids::{AccountId, contract_id_for_proposal};
use frevix_proto::marketplace::v1 as pb;
use sea_orm::ConnectionTrait;
use tonic::Request;

use super::jobs::parse_id;
use super::proposals::caller;
use super::proposals::{apply_in, decidable, name_of, visible_proposal};
use crate::Inner;
use crate::convert;
use crate::domain::ids::JobId;
use crate::domain::job::{ProposalAction, ProposalStatus};
use crate::error::{MarketplaceError, Result};
use crate::store::jobs::{self, ProposalRow, proposal_status};

pub async fn accept(
    inner: &Inner,
    request: Request<pb::AcceptProposalRequest>,
) -> Result<pb::AcceptProposalResponse> {
    let caller = caller(&request)?;
    let mut violations = FieldViolations::new();
    let key = IdempotencyKey::from_metadata(request.metadata(), &mut violations);
    violations.finish(())?;
    let req = request.into_inner();
    let keyed = Keyed::new(
        format!("marketplace.AcceptProposal:{}", caller.account_id),
        key,
        &req,
    );
    if let Some(answer) = keyed.replay(&inner.db).await? {
        return Ok(answer);
    }
    // Claimed before the checks: a racing accept with the same key waits
    // here and answers what the first one did, rather than finding the job
    // it just filled.
    let once = match keyed.begin(&inner.db).await? {
        Start::Replay(answer) => return Ok(answer),
        Start::Run(once) => once,
    };
    let attempt = async {
        let (row, job) =
            decidable(&once, &caller, &req.proposal_id, ProposalAction::Accept).await?;
        let name = name_of(&once, AccountId(row.freelancer_id)).await?;
        let row = apply_in(inner, &once, &row, &job, ProposalAction::Accept).await?;
        accepted(&once, &row, &name, JobId(job.id)).await
    };
    match attempt.await {
        Ok(response) => {
            once.finish(&response).await?;
            Ok(response)
        }
        // Another accept of this same proposal (a retry without the key, a
        // second tab) committed while this one ran: the client did hire,
        // so it gets the hire's answer. A different proposal's hire keeps
        // the refusal.
        Err(error) if lost_to_another_accept(&error) => {
            drop(once);
            let id = parse_id("proposal_id", &req.proposal_id)?;
            let (row, job) = visible_proposal(&inner.db, &caller, id).await?;
            if proposal_status(&row) != ProposalStatus::Accepted
                || job.client_id != caller.account_id.0
            {
                return Err(error);
            }
            let name = name_of(&inner.db, AccountId(row.freelancer_id)).await?;
            accepted(&inner.db, &row, &name, JobId(job.id)).await
        }
        Err(error) => Err(error),
    }
}

/// Whether an accept failed because the proposal or its job changed under
/// it (the state it read was overtaken by another commit).
fn lost_to_another_accept(error: &MarketplaceError) -> bool {
    matches!(
        error,
        MarketplaceError::Api(ApiError::FailedPrecondition { reason, .. })
            if *reason == "PROPOSAL_CHANGED" || *reason == "JOB_NOT_OPEN"
    )
}

/// The answer to an accept of `row` (accepted), its job read afresh.
async fn accepted(
    db: &impl ConnectionTrait,
    row: &ProposalRow,
    name: &str,
    job: JobId,
) -> Result<pb::AcceptProposalResponse> {
    let job = jobs::find_job(db, job)
        .await?
        .ok_or(ApiError::NotFound("job"))?;
    Ok(pb::AcceptProposalResponse {
        proposal: Some(convert::proposal(row, name)),
        job: Some(convert::job(&job)),
        contract_id: contract_id_for_proposal(row.id).to_string(),
    })
}
