//! Contract terms as payments keeps them. Every write is "insert unless
//! already there": contracts' events arrive at least once, and a repeated
//! one must change nothing.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, QueryOrder, Set};
use uuid::Uuid;

use super::entities::{contracts, invoices, milestones};
use crate::terms::{Billing, ContractTerms, InvoiceTerms, MilestoneTerms};

pub type ContractRow = contracts::Model;
pub type MilestoneRow = milestones::Model;
pub type InvoiceRow = invoices::Model;

/// Records a contract and its milestones; false if it was known already
/// (nothing is changed then).
pub async fn record_contract(
    db: &impl ConnectionTrait,
    terms: &ContractTerms,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let (rate, limit) = match terms.billing {
        Billing::Hourly {
            rate,
            weekly_limit_minutes,
        } => (Some(rate.minor_units), Some(weekly_limit_minutes)),
        Billing::Milestones => (None, None),
    };
    let inserted = contracts::Entity::insert(contracts::ActiveModel {
        id: Set(terms.id),
        client_id: Set(terms.client),
        freelancer_id: Set(terms.freelancer),
        currency: Set(terms.currency.code().to_owned()),
        hourly_rate_minor: Set(rate),
        weekly_limit_minutes: Set(limit),
        created_at: Set(now),
        ended_at: Set(None),
    })
    .on_conflict(
        OnConflict::column(contracts::Column::Id)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    if inserted == 0 {
        return Ok(false);
    }
    for milestone in &terms.milestones {
        add_milestone(db, terms.id, milestone).await?;
    }
    Ok(true)
}

/// Records a milestone of `contract`; false if it was known already.
pub async fn add_milestone(
    db: &impl ConnectionTrait,
    contract: Uuid,
    terms: &MilestoneTerms,
) -> Result<bool, DbErr> {
    let inserted = milestones::Entity::insert(milestones::ActiveModel {
        id: Set(terms.id),
        contract_id: Set(contract),
        position: Set(terms.position),
        title: Set(terms.title.clone()),
        amount_minor: Set(terms.amount.minor_units),
    })
    .on_conflict(
        OnConflict::column(milestones::Column::Id)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(inserted == 1)
}

/// Records an approved invoice; false if it was known already.
pub async fn record_invoice(
    db: &impl ConnectionTrait,
    terms: &InvoiceTerms,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let inserted = invoices::Entity::insert(invoices::ActiveModel {
        id: Set(terms.id),
        contract_id: Set(terms.contract),
        week_start: Set(terms.week_start.clone()),
        minutes: Set(terms.minutes),
        amount_minor: Set(terms.amount.minor_units),
        approved_at: Set(now),
    })
    .on_conflict(
        OnConflict::column(invoices::Column::Id)
            .do_nothing()
            .to_owned(),
    )
    .exec_without_returning(db)
    .await?;
    Ok(inserted == 1)
}

pub async fn find_contract(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<ContractRow>, DbErr> {
    contracts::Entity::find_by_id(id).one(db).await
}

pub async fn find_milestone(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<MilestoneRow>, DbErr> {
    milestones::Entity::find_by_id(id).one(db).await
}

/// `contract`'s milestones in their agreed order.
pub async fn milestones_of(
    db: &impl ConnectionTrait,
    contract: Uuid,
) -> Result<Vec<MilestoneRow>, DbErr> {
    milestones::Entity::find()
        .filter(milestones::Column::ContractId.eq(contract))
        .order_by_asc(milestones::Column::Position)
        .all(db)
        .await
}

pub async fn find_invoice(
    db: &impl ConnectionTrait,
    id: Uuid,
) -> Result<Option<InvoiceRow>, DbErr> {
    invoices::Entity::find_by_id(id).one(db).await
}

/// Marks `contract` ended (cancelled, or its dispute resolved); false if it
/// was ended already or is not known.
pub async fn end_contract(
    db: &impl ConnectionTrait,
    contract: Uuid,
    now: DateTime<Utc>,
) -> Result<bool, DbErr> {
    let result = contracts::Entity::update_many()
        .col_expr(
            contracts::Column::EndedAt,
            sea_orm::sea_query::Expr::value(Some(now)),
        )
        .filter(contracts::Column::Id.eq(contract))
        .filter(contracts::Column::EndedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// The invoices of `client`'s contracts, oldest first.
pub async fn invoices_of_client(
    db: &impl ConnectionTrait,
    client: Uuid,
) -> Result<Vec<InvoiceRow>, DbErr> {
    let contracts: Vec<Uuid> = contracts::Entity::find()
        .filter(contracts::Column::ClientId.eq(client))
        .all(db)
        .await?
        .into_iter()
        .map(|c| c.id)
        .collect();
    if contracts.is_empty() {
        return Ok(Vec::new());
    }
    invoices::Entity::find()
        .filter(invoices::Column::ContractId.is_in(contracts))
        .order_by_asc(invoices::Column::ApprovedAt)
        .all(db)
        .await
}
