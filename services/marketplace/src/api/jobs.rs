//! Jobs: post, read, list, close.

use chrono::Utc;
use frevix_platform::auth::{Principal, Role, principal};
use frevix_platform::db::Txn;
use frevix_platform::db::idempotency::{IdempotencyKey, Keyed, Start};
use frevix_platform::error::{ApiError, FieldViolations};
use frevix_platform::mask::{on_masked, update_paths};
use frevix_platform::paging::{PageLimits, fingerprint, finish_page, parse_page};
use frevix_proto::marketplace::v1 as pb;
use tonic::Request;
use uuid::Uuid;

use super::caller_with;
use crate::Inner;
use crate::convert;
use crate::domain::ids::JobId;
use crate::domain::job::{Budget, JobContent, JobStatus};
use crate::error::{MarketplaceError, Result};
use crate::events::publish;
use crate::store::jobs::{self, JobRow, budget_of, job_status};
use crate::store::{catalog, profiles};

const LIMITS: PageLimits = PageLimits {
    default_size: 20,
    max_size: 100,
};

/// The typed id in request field `field`.
pub(crate) fn parse_id<I: From<Uuid>>(field: &str, text: &str) -> Result<I> {
    Ok(frevix_platform::request::parse_id(field, text)?)
}

/// Whether `viewer` may read `job`.
pub(crate) fn can_see(job: &JobRow, viewer: Option<&Principal>) -> bool {
    job.visibility == pb::JobVisibility::Public as i32
        || viewer.is_some_and(|v| v.account_id.0 == job.client_id)
}

/// The job, if `caller` owns it: someone else's job they can see is
/// PERMISSION_DENIED, one they cannot see NOT_FOUND.
pub(crate) async fn owned_job(inner: &Inner, caller: &Principal, id: JobId) -> Result<JobRow> {
    let job = jobs::find_job(&inner.db, id)
        .await?
        .ok_or(ApiError::NotFound("job"))?;
    if job.client_id == caller.account_id.0 {
        Ok(job)
    } else if can_see(&job, Some(caller)) {
        Err(ApiError::permission_denied(
            "NOT_JOB_OWNER",
            "only the client who posted this job may do this",
        )
        .into())
    } else {
        Err(ApiError::NotFound("job").into())
    }
}

pub(crate) fn job_not_open() -> MarketplaceError {
    ApiError::precondition("JOB_NOT_OPEN", "job", "the job is no longer open").into()
}

pub async fn post_job(
    inner: &Inner,
    request: Request<pb::PostJobRequest>,
) -> Result<pb::PostJobResponse> {
    let caller = caller_with(&request, Role::Client)?;
    let mut violations = FieldViolations::new();
    let key = IdempotencyKey::from_metadata(request.metadata(), &mut violations);
    let req = request.into_inner();
    let Some(job) = &req.job else {
        return Err(FieldViolations::single("job", "is required").into());
    };
    let content = JobContent::parse(job, &mut violations);
    if let Some(content) = &content {
        check_catalog(inner, content, &mut violations).await?;
    }
    let content = violations
        .finish(content)?
        .ok_or(ApiError::NotFound("job"))?;
    let keyed = Keyed::new(
        format!("marketplace.PostJob:{}", caller.account_id),
        key,
        &req,
    );
    if let Some(answer) = keyed.replay(&inner.db).await? {
        return Ok(answer);
    }
    let now = Utc::now();
    profiles::ensure_client(&inner.db, caller.account_id, "", now).await?;
    let once = match keyed.begin(&inner.db).await? {
        Start::Replay(answer) => return Ok(answer),
        Start::Run(once) => once,
    };
    let row = jobs::insert_job(&once, JobId::generate(), caller.account_id, &content, now).await?;
    publish::job_posted(&inner.outbox, &once, &row).await?;
    let response = pb::PostJobResponse {
        job: Some(convert::job(&row)),
    };
    once.finish(&response).await?;
    tracing::info!(job_id = %row.id, client_id = %caller.account_id, "job posted");
    Ok(response)
}

pub async fn get_job(
    inner: &Inner,
    request: Request<pb::GetJobRequest>,
) -> Result<pb::GetJobResponse> {
    let viewer = principal(&request).ok();
    let id = parse_id("job_id", &request.get_ref().job_id)?;
    let job = jobs::find_job(&inner.db, id)
        .await?
        .ok_or(ApiError::NotFound("job"))?;
    if !can_see(&job, viewer.as_ref()) {
        return Err(ApiError::NotFound("job").into());
    }
    Ok(pb::GetJobResponse {
        job: Some(convert::job(&job)),
    })
}

pub async fn list_my_jobs(
    inner: &Inner,
    request: Request<pb::ListMyJobsRequest>,
) -> Result<pb::ListMyJobsResponse> {
    let caller = principal(&request).map_err(|_| frevix_platform::auth::AuthError::Missing)?;
    let req = request.into_inner();
    let mut violations = FieldViolations::new();
    let status = match pb::JobStatus::try_from(req.status) {
        Ok(status) => JobStatus::from_proto(status),
        Err(_) => {
            violations.add("status", "is not a known status");
            None
        }
    };
    let filters = fingerprint(&(caller.account_id.0, req.status));
    let page = parse_page::<Uuid>(req.page.as_ref(), LIMITS, &filters, &mut violations);
    violations.finish(())?;
    let rows = jobs::list_client_jobs(
        &inner.db,
        caller.account_id,
        status,
        page.after.map(JobId),
        page.size + 1,
    )
    .await?;
    let (rows, page) = finish_page(rows, page.size, &filters, |row| row.id);
    Ok(pb::ListMyJobsResponse {
        jobs: rows.iter().map(convert::job).collect(),
        page: Some(page),
    })
}

/// The fields UpdateJob may name.
const UPDATABLE: &[&str] = &[
    "title",
    "description",
    "category_id",
    "skills",
    "budget",
    "expected_duration",
    "experience_level",
    "visibility",
];

/// Checks what only the catalog knows: the category and the skills.
async fn check_catalog(
    inner: &Inner,
    content: &JobContent,
    violations: &mut FieldViolations,
) -> Result<()> {
    match catalog::find_category(&inner.db, content.category_id).await? {
        Some(row) if row.parent_id.is_some() => {}
        _ => violations.add(
            "job.category_id",
            "must be a subcategory from ListCategories",
        ),
    }
    let unknown = catalog::unknown_skills(&inner.db, &content.skills).await?;
    if !unknown.is_empty() {
        violations.add(
            "job.skills",
            format!("not in the catalog: {}", unknown.join(", ")),
        );
    }
    Ok(())
}

pub async fn update_job(
    inner: &Inner,
    request: Request<pb::UpdateJobRequest>,
) -> Result<pb::UpdateJobResponse> {
    let caller = principal(&request).map_err(|_| frevix_platform::auth::AuthError::Missing)?;
    let req = request.into_inner();
    let mut violations = FieldViolations::new();
    let changes = req.job.unwrap_or_else(|| {
        violations.add("job", "is required");
        pb::Job::default()
    });
    let id = JobId::parse_field("job.id", &changes.id, &mut violations);
    let paths = update_paths(req.update_mask, UPDATABLE, &mut violations);
    // The named fields' own rules, before the job is looked up.
    let mut alone = FieldViolations::new();
    let mut blank = pb::Job::default();
    overlay(&mut blank, &changes, &paths, &mut violations);
    JobContent::parse(&blank, &mut alone);
    // `budget` names a oneof; its violations fall on its members.
    let mut masked = paths.clone();
    if paths.iter().any(|path| path == "budget") {
        masked.extend(["fixed_price".to_owned(), "hourly".to_owned()]);
    }
    on_masked(&alone, "job", &masked, &mut violations);
    let Some(id) = id else {
        return Err(ApiError::from(violations).into());
    };
    // Who may change it is answered first; then every field at once.
    let job = owned_job(inner, &caller, id).await?;
    if job_status(&job) != JobStatus::Open {
        return Err(job_not_open());
    }
    // Overlay the named fields on the stored job, then check it whole.
    let mut merged = convert::job(&job);
    overlay(&mut merged, &changes, &paths, &mut FieldViolations::new());
    let mut whole = FieldViolations::new();
    let content = JobContent::parse(&merged, &mut whole);
    if let Some(content) = &content {
        check_catalog(inner, content, &mut whole).await?;
    }
    violations.absorb(whole);
    let content = violations
        .finish(content)?
        .ok_or(ApiError::NotFound("job"))?;
    let txn = Txn::begin(&inner.db).await?;
    jobs::update_job_content(&txn, id, &content, Utc::now()).await?;
    let job = jobs::find_job(&txn, id)
        .await?
        .ok_or(ApiError::NotFound("job"))?;
    publish::job_updated(&inner.outbox, &txn, &job).await?;
    txn.commit().await?;
    Ok(pb::UpdateJobResponse {
        job: Some(convert::job(&job)),
    })
}

/// `job` with the fields `paths` name taken from `changes`.
fn overlay(
    job: &mut pb::Job,
    changes: &pb::Job,
    paths: &[String],
    violations: &mut FieldViolations,
) {
    for path in paths {
        match path.as_str() {
            "title" => job.title = changes.title.clone(),
            "description" => job.description = changes.description.clone(),
            "category_id" => job.category_id = changes.category_id.clone(),
            "skills" => job.skills = changes.skills.clone(),
            "budget" => job.budget = changes.budget.clone(),
            "expected_duration" => job.expected_duration = changes.expected_duration,
            "experience_level" => job.experience_level = changes.experience_level,
            "visibility" => job.visibility = changes.visibility,
            other => violations.add(
                "update_mask.paths",
                format!("`{other}` cannot be updated; use {}", UPDATABLE.join(", ")),
            ),
        }
    }
}

pub async fn close_job(
    inner: &Inner,
    request: Request<pb::CloseJobRequest>,
) -> Result<pb::CloseJobResponse> {
    let caller = principal(&request).map_err(|_| frevix_platform::auth::AuthError::Missing)?;
    let id = parse_id("job_id", &request.get_ref().job_id)?;
    let job = owned_job(inner, &caller, id).await?;
    match job_status(&job) {
        JobStatus::Closed => {
            return Ok(pb::CloseJobResponse {
                job: Some(convert::job(&job)),
            });
        }
        JobStatus::Filled => return Err(job_not_open()),
        JobStatus::Open => {}
    }
    let now = Utc::now();
    let txn = Txn::begin(&inner.db).await?;
    if !jobs::update_job_status(&txn, id, JobStatus::Open, JobStatus::Closed, now).await? {
        return Err(job_not_open());
    }
    let job = jobs::find_job(&txn, id)
        .await?
        .ok_or(ApiError::NotFound("job"))?;
    publish::job_closed(&inner.outbox, &txn, &job, pb::JobStatus::Closed).await?;
    txn.commit().await?;
    Ok(pb::CloseJobResponse {
        job: Some(convert::job(&job)),
    })
}

/// The job's budget, which decides a proposal's currency and kind.
pub(super) fn job_budget(job: &JobRow) -> Result<Budget> {
    budget_of(job).ok_or_else(|| {
        ApiError::precondition(
            "CURRENCY_UNSUPPORTED",
            job.id.to_string(),
            "the job's currency is no longer supported; the client must change its budget",
        )
        .into()
    })
}
