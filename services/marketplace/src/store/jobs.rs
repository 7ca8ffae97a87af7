//! Queries on `jobs` and `proposals`.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait,
    QueryFilter, QueryOrder, QuerySelect,
};

use super::entities::{client_profiles, jobs, proposals};
use super::{records, to_json};
use crate::domain::ids::{JobId, ProposalId};
use crate::domain::job::{Budget, JobContent, JobStatus, ProposalContent, ProposalStatus};
use frevix_platform::ids::AccountId;
use frevix_platform::money::Money;

pub use jobs::Model as JobRow;
pub use proposals::Model as ProposalRow;

pub async fn insert_job(
    db: &impl ConnectionTrait,
    id: JobId,
    client: AccountId,
    job: &JobContent,
    now: DateTime<Utc>,
) -> Result<JobRow, DbErr> {
    let hourly = job.budget.is_hourly();
    let (min, max) = job.budget.range_minor();
    let row = jobs::ActiveModel {
        id: Set(id.0),
        client_id: Set(client.0),
        title: Set(job.title.clone()),
        description: Set(job.description.clone()),
        category_id: Set(job.category_id.0),
        skills: Set(to_json(&job.skills)),
        hourly: Set(hourly),
        currency: Set(job.budget.currency().code().to_owned()),
        budget_min_minor: Set(min),
        budget_max_minor: Set(max),
        expected_duration: Set(job.expected_duration),
        experience_level: Set(job.experience_level),
        visibility: Set(job.visibility),
        status: Set(JobStatus::Open.as_str().to_owned()),
        proposal_count: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    client_profiles::Entity::update_many()
        .col_expr(
            client_profiles::Column::JobsPosted,
            Expr::col(client_profiles::Column::JobsPosted).add(1),
        )
        .filter(client_profiles::Column::AccountId.eq(client.0))
        .exec(db)
        .await?;
    Ok(row)
}

pub async fn find_job(db: &impl ConnectionTrait, id: JobId) -> Result<Option<JobRow>, DbErr> {
    jobs::Entity::find_by_id(id.0).one(db).await
}

/// The job's budget; `None` if its currency is no longer supported.
pub fn budget_of(row: &JobRow) -> Option<Budget> {
    let amount = |minor| Money::from_stored(&row.currency, minor);
    Some(if row.hourly {
        Budget::Hourly {
            min: amount(row.budget_min_minor)?,
            max: amount(row.budget_max_minor)?,
        }
    } else {
        Budget::Fixed(amount(row.budget_min_minor)?)
    })
}

pub fn job_status(row: &JobRow) -> JobStatus {
    JobStatus::parse(&row.status)
}

/// Moves a job from `from` to `to`; false if it was no longer in `from`.
pub async fn update_job_status(
    db: &impl ConnectionTrait,
    id: JobId,
    from: JobStatus,
    to: JobStatus,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = jobs::Entity::update_many()
        .col_expr(jobs::Column::Status, Expr::value(to.as_str()))
        .col_expr(jobs::Column::UpdatedAt, Expr::value(now))
        .filter(jobs::Column::Id.eq(id.0))
        .filter(jobs::Column::Status.eq(from.as_str()))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

pub async fn list_client_jobs(
    db: &impl ConnectionTrait,
    client: AccountId,
    status: Option<JobStatus>,
    after: Option<JobId>,
    limit: u64,
) -> Result<Vec<JobRow>, DbErr> {
    let mut query = jobs::Entity::find().filter(jobs::Column::ClientId.eq(client.0));
    if let Some(status) = status {
        query = query.filter(jobs::Column::Status.eq(status.as_str()));
    }
    if let Some(after) = after {
        query = query.filter(jobs::Column::Id.lt(after.0));
    }
    query
        .order_by_desc(jobs::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

pub async fn insert_proposal(
    db: &impl ConnectionTrait,
    id: ProposalId,
    job: JobId,
    freelancer: AccountId,
    content: &ProposalContent,
    now: DateTime<Utc>,
) -> Result<ProposalRow, DbErr> {
    let row = proposals::ActiveModel {
        id: Set(id.0),
        job_id: Set(job.0),
        freelancer_id: Set(freelancer.0),
        cover_letter: Set(content.cover_letter.clone()),
        currency: Set(content.bid.currency.code().to_owned()),
        bid_minor: Set(content.bid.minor_units),
        estimated_days: Set(content.estimated_days),
        milestones: Set(records::milestones_json(&content.milestones)),
        status: Set(ProposalStatus::Submitted.as_str().to_owned()),
        created_at: Set(now),
        updated_at: Set(now),
    }
    .insert(db)
    .await?;
    jobs::Entity::update_many()
        .col_expr(
            jobs::Column::ProposalCount,
            Expr::col(jobs::Column::ProposalCount).add(1),
        )
        .filter(jobs::Column::Id.eq(job.0))
        .exec(db)
        .await?;
    Ok(row)
}

pub async fn find_proposal(
    db: &impl ConnectionTrait,
    id: ProposalId,
) -> Result<Option<ProposalRow>, DbErr> {
    proposals::Entity::find_by_id(id.0).one(db).await
}

pub fn proposal_status(row: &ProposalRow) -> ProposalStatus {
    ProposalStatus::parse(&row.status)
}

/// What the freelancer wrote; `None` if its currency is no longer supported.
pub fn proposal_content(row: &ProposalRow) -> Option<ProposalContent> {
    let bid = Money::from_stored(&row.currency, row.bid_minor)?;
    Some(ProposalContent {
        cover_letter: row.cover_letter.clone(),
        bid,
        estimated_days: row.estimated_days,
        milestones: records::milestones_from(&row.milestones, bid.currency),
    })
}

pub async fn update_proposal_content(
    db: &impl ConnectionTrait,
    id: ProposalId,
    content: &ProposalContent,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    use proposals::Column as C;
    proposals::Entity::update_many()
        .col_expr(C::CoverLetter, Expr::value(content.cover_letter.clone()))
        .col_expr(C::BidMinor, Expr::value(content.bid.minor_units))
        .col_expr(C::EstimatedDays, Expr::value(content.estimated_days))
        .col_expr(
            C::Milestones,
            Expr::value(records::milestones_json(&content.milestones)),
        )
        .col_expr(C::UpdatedAt, Expr::value(now))
        .filter(C::Id.eq(id.0))
        .exec(db)
        .await?;
    Ok(())
}

/// Moves a proposal from `from` to `to`; false if it was no longer in `from`.
pub async fn update_proposal_status(
    db: &impl ConnectionTrait,
    id: ProposalId,
    from: ProposalStatus,
    to: ProposalStatus,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = proposals::Entity::update_many()
        .col_expr(proposals::Column::Status, Expr::value(to.as_str()))
        .col_expr(proposals::Column::UpdatedAt, Expr::value(now))
        .filter(proposals::Column::Id.eq(id.0))
        .filter(proposals::Column::Status.eq(from.as_str()))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// A job's proposals, oldest first, after `after`.
pub async fn list_job_proposals(
    db: &impl ConnectionTrait,
    job: JobId,
    status: Option<ProposalStatus>,
    after: Option<ProposalId>,
    limit: u64,
) -> Result<Vec<ProposalRow>, DbErr> {
    let mut query = proposals::Entity::find().filter(proposals::Column::JobId.eq(job.0));
    if let Some(status) = status {
        query = query.filter(proposals::Column::Status.eq(status.as_str()));
    }
    if let Some(after) = after {
        query = query.filter(proposals::Column::Id.gt(after.0));
    }
    query
        .order_by_asc(proposals::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// A freelancer's proposals, newest first, after `after`.
pub async fn list_freelancer_proposals(
    db: &impl ConnectionTrait,
    freelancer: AccountId,
    after: Option<ProposalId>,
    limit: u64,
) -> Result<Vec<ProposalRow>, DbErr> {
    let mut query =
        proposals::Entity::find().filter(proposals::Column::FreelancerId.eq(freelancer.0));
    if let Some(after) = after {
        query = query.filter(proposals::Column::Id.lt(after.0));
    }
    query
        .order_by_desc(proposals::Column::Id)
        .limit(limit)
        .all(db)
        .await
}

/// Replaces what the owner wrote of a job.
pub async fn update_job_content(
    db: &impl ConnectionTrait,
    id: JobId,
    job: &JobContent,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let hourly = job.budget.is_hourly();
    let (min, max) = job.budget.range_minor();
    use jobs::Column as C;
    jobs::Entity::update_many()
        .col_expr(C::Title, Expr::value(job.title.clone()))
        .col_expr(C::Description, Expr::value(job.description.clone()))
        .col_expr(C::CategoryId, Expr::value(job.category_id))
        .col_expr(C::Skills, Expr::value(to_json(&job.skills)))
        .col_expr(C::Hourly, Expr::value(hourly))
        .col_expr(
            C::Currency,
            Expr::value(job.budget.currency().code().to_owned()),
        )
        .col_expr(C::BudgetMinMinor, Expr::value(min))
        .col_expr(C::BudgetMaxMinor, Expr::value(max))
        .col_expr(C::ExpectedDuration, Expr::value(job.expected_duration))
        .col_expr(C::ExperienceLevel, Expr::value(job.experience_level))
        .col_expr(C::Visibility, Expr::value(job.visibility))
        .col_expr(C::UpdatedAt, Expr::value(now))
        .filter(C::Id.eq(id.0))
        .exec(db)
        .await?;
    Ok(())
}
