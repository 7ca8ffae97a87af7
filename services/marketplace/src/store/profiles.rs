//! Queries on `freelancer_profiles` and `client_profiles`.

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, ExprTrait, OnConflict};
use sea_orm::{ActiveValue::Set, ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter};

use super::entities::{client_profiles, freelancer_profiles};
use super::to_json;
use crate::domain::profile::{ClientFields, FreelancerFields};
use frevix_platform::ids::AccountId;

pub use client_profiles::Model as ClientRow;
pub use freelancer_profiles::Model as FreelancerRow;

/// Makes the freelancer profile exist; a known display name replaces an
/// empty one (profiles made before the account event arrives).
pub async fn ensure_freelancer(
    db: &impl ConnectionTrait,
    id: AccountId,
    display_name: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let row = freelancer_profiles::ActiveModel {
        account_id: Set(id.0),
        display_name: Set(display_name.to_owned()),
        headline: Set(String::new()),
        bio: Set(String::new()),
        skills: Set("[]".to_owned()),
        hourly_rate_currency: Set(None),
        hourly_rate_minor: Set(None),
        experience_level: Set(0),
        languages: Set("[]".to_owned()),
        country: Set(String::new()),
        availability: Set(1),
        back_on: Set(None),
        portfolio: Set("[]".to_owned()),
        avatar_media_id: Set(None),
        rating_sum: Set(0),
        review_count: Set(0),
        completed_contracts: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
    };
    freelancer_profiles::Entity::insert(row)
        .on_conflict(
            OnConflict::column(freelancer_profiles::Column::AccountId)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    if !display_name.is_empty() {
        freelancer_profiles::Entity::update_many()
            .col_expr(
                freelancer_profiles::Column::DisplayName,
                Expr::value(display_name),
            )
            .filter(freelancer_profiles::Column::AccountId.eq(id))
            .exec(db)
            .await?;
    }
    Ok(())
}

pub async fn ensure_client(
    db: &impl ConnectionTrait,
    id: AccountId,
    display_name: &str,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    let row = client_profiles::ActiveModel {
        account_id: Set(id.0),
        display_name: Set(display_name.to_owned()),
        company_name: Set(String::new()),
        website: Set(String::new()),
        country: Set(String::new()),
        about: Set(String::new()),
        jobs_posted: Set(0),
        hires: Set(0),
        created_at: Set(now),
        updated_at: Set(now),
    };
    client_profiles::Entity::insert(row)
        .on_conflict(
            OnConflict::column(client_profiles::Column::AccountId)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(db)
        .await?;
    if !display_name.is_empty() {
        client_profiles::Entity::update_many()
            .col_expr(
                client_profiles::Column::DisplayName,
                Expr::value(display_name),
            )
            .filter(client_profiles::Column::AccountId.eq(id))
            .exec(db)
            .await?;
    }
    Ok(())
}

pub async fn find_freelancer(
    db: &impl ConnectionTrait,
    id: AccountId,
) -> Result<Option<FreelancerRow>, DbErr> {
    freelancer_profiles::Entity::find_by_id(id.0).one(db).await
}

pub async fn find_freelancers(
    db: &impl ConnectionTrait,
    ids: Vec<AccountId>,
) -> Result<Vec<FreelancerRow>, DbErr> {
    freelancer_profiles::Entity::find()
        .filter(freelancer_profiles::Column::AccountId.is_in(ids.into_iter().map(|id| id.0)))
        .all(db)
        .await
}

pub async fn find_client(
    db: &impl ConnectionTrait,
    id: AccountId,
) -> Result<Option<ClientRow>, DbErr> {
    client_profiles::Entity::find_by_id(id.0).one(db).await
}

pub fn freelancer_fields(row: &FreelancerRow) -> FreelancerFields {
    FreelancerFields {
        headline: row.headline.clone(),
        bio: row.bio.clone(),
        skills: super::from_json(&row.skills),
        hourly_rate: row.hourly_rate_currency.clone().zip(row.hourly_rate_minor),
        experience_level: row.experience_level,
        languages: super::from_json(&row.languages),
        country: row.country.clone(),
        availability: row.availability,
        back_on: row.back_on,
        portfolio: super::from_json(&row.portfolio),
        avatar_media_id: row.avatar_media_id,
    }
}

pub async fn update_freelancer(
    db: &impl ConnectionTrait,
    id: AccountId,
    f: &FreelancerFields,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    use freelancer_profiles::Column as C;
    freelancer_profiles::Entity::update_many()
        .col_expr(C::Headline, Expr::value(f.headline.clone()))
        .col_expr(C::Bio, Expr::value(f.bio.clone()))
        .col_expr(C::Skills, Expr::value(to_json(&f.skills)))
        .col_expr(
            C::HourlyRateCurrency,
            Expr::value(f.hourly_rate.as_ref().map(|r| r.0.clone())),
        )
        .col_expr(
            C::HourlyRateMinor,
            Expr::value(f.hourly_rate.as_ref().map(|r| r.1)),
        )
        .col_expr(C::ExperienceLevel, Expr::value(f.experience_level))
        .col_expr(C::Languages, Expr::value(to_json(&f.languages)))
        .col_expr(C::Country, Expr::value(f.country.clone()))
        .col_expr(C::Availability, Expr::value(f.availability))
        .col_expr(C::BackOn, Expr::value(f.back_on))
        .col_expr(C::Portfolio, Expr::value(to_json(&f.portfolio)))
        .col_expr(C::AvatarMediaId, Expr::value(f.avatar_media_id))
        .col_expr(C::UpdatedAt, Expr::value(now))
        .filter(C::AccountId.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

pub fn client_fields(row: &ClientRow) -> ClientFields {
    ClientFields {
        company_name: row.company_name.clone(),
        website: row.website.clone(),
        country: row.country.clone(),
        about: row.about.clone(),
    }
}

pub async fn update_client(
    db: &impl ConnectionTrait,
    id: AccountId,
    f: &ClientFields,
    now: DateTime<Utc>,
) -> Result<(), DbErr> {
    use client_profiles::Column as C;
    client_profiles::Entity::update_many()
        .col_expr(C::CompanyName, Expr::value(f.company_name.clone()))
        .col_expr(C::Website, Expr::value(f.website.clone()))
        .col_expr(C::Country, Expr::value(f.country.clone()))
        .col_expr(C::About, Expr::value(f.about.clone()))
        .col_expr(C::UpdatedAt, Expr::value(now))
        .filter(C::AccountId.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Adds a review to a freelancer's rating.
pub async fn add_freelancer_review(
    db: &impl ConnectionTrait,
    id: AccountId,
    rating: i32,
) -> Result<(), DbErr> {
    use freelancer_profiles::Column as C;
    freelancer_profiles::Entity::update_many()
        .col_expr(C::RatingSum, Expr::col(C::RatingSum).add(i64::from(rating)))
        .col_expr(C::ReviewCount, Expr::col(C::ReviewCount).add(1))
        .filter(C::AccountId.eq(id))
        .exec(db)
        .await?;
    Ok(())
}

/// Counts a completed contract for both parties.
pub async fn add_completed_contract(
    db: &impl ConnectionTrait,
    freelancer: AccountId,
    client: AccountId,
) -> Result<(), DbErr> {
    freelancer_profiles::Entity::update_many()
        .col_expr(
            freelancer_profiles::Column::CompletedContracts,
            Expr::col(freelancer_profiles::Column::CompletedContracts).add(1),
        )
        .filter(freelancer_profiles::Column::AccountId.eq(freelancer))
        .exec(db)
        .await?;
    client_profiles::Entity::update_many()
        .col_expr(
            client_profiles::Column::Hires,
            Expr::col(client_profiles::Column::Hires).add(1),
        )
        .filter(client_profiles::Column::AccountId.eq(client))
        .exec(db)
        .await?;
    Ok(())
}
