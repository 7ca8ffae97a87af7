//! SearchGigs, SearchFreelancers, SearchJobs: parse the filters, let the
//! store's full-text search find ids in order, load the rows, add facets.

use std::collections::HashMap;

use frevix_platform::auth::deny_feed::account_not_suspended;
use frevix_platform::error::FieldViolations;
use frevix_platform::paging::{PageLimits, fingerprint, finish_page, parse_page};
use frevix_proto::common::v1 as common;
use frevix_proto::marketplace::v1 as pb;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use tonic::Request;
use uuid::Uuid;

use crate::Inner;
use crate::convert;
use crate::error::Result;
use crate::store::catalog::{self};
use crate::store::entities::{freelancer_profiles, gigs, jobs};
use crate::store::search::{Cursor, Order, Search, bands};

mod facets;
mod filters;

use facets::*;
use filters::*;

pub(super) const LIMITS: PageLimits = PageLimits {
    default_size: 20,
    max_size: 100,
};

/// Price and budget bands, in minor units.
pub(super) const PRICE_BANDS: &[i64] = &[0, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000];
pub(super) const DELIVERY_BANDS: &[i64] = &[0, 2, 4, 8, 15];
pub(super) const RATE_BANDS: &[i64] = &[0, 2_500, 5_000, 10_000, 20_000];

/// The fingerprint of a search's filters (the request with its page
/// cleared by `clear_page`) and the page asked for.
fn filters_and_page<M: prost::Message + Clone>(
    request: &M,
    clear_page: impl FnOnce(&mut M),
    page: Option<&common::PageRequest>,
    violations: &mut FieldViolations,
) -> (String, frevix_platform::paging::Page<Cursor>) {
    let mut filters = request.clone();
    clear_page(&mut filters);
    let filters = fingerprint(&filters.encode_to_vec());
    let page = parse_page::<Cursor>(page, LIMITS, &filters, violations);
    (filters, page)
}

/// Finds one page and the facets in one statement.
async fn run(
    search: &Search,
    db: &impl ConnectionTrait,
    order: &Order,
    page: frevix_platform::paging::Page<Cursor>,
    filters: &str,
    facets: &[(&str, String)],
) -> Result<(Vec<Uuid>, common::PageResponse, Vec<(String, String, i64)>)> {
    let (cursors, counts) = search
        .run(db, order, page.after, page.size + 1, facets)
        .await?;
    let (cursors, response) = finish_page(cursors, page.size, filters, |c| *c);
    Ok((
        cursors.into_iter().map(|c| c.id).collect(),
        response,
        counts,
    ))
}

/// `rows` in the order of `ids`.
fn in_order<T>(ids: &[Uuid], rows: Vec<T>, id_of: impl Fn(&T) -> Uuid) -> Vec<T> {
    let mut by_id: HashMap<Uuid, T> = rows.into_iter().map(|row| (id_of(&row), row)).collect();
    ids.iter().filter_map(|id| by_id.remove(id)).collect()
}

pub async fn search_gigs(
    inner: &Inner,
    request: Request<pb::SearchGigsRequest>,
) -> Result<pb::SearchGigsResponse> {
    let req = request.into_inner();
    let db = &inner.db;
    let categories = catalog::list_categories(db).await?;
    let mut violations = FieldViolations::new();
    let mut search = Search::new(db.get_database_backend(), "gigs", "id");
    if !req.seller_country.is_empty() || !req.seller_language.is_empty() {
        search.join("JOIN freelancer_profiles f ON f.account_id = t.seller_id");
    }
    search.condition("t.status = 'PUBLISHED'".into());
    search.condition(account_not_suspended("t.seller_id"));
    check_query(&req.query, &mut violations);
    search.keyword("gigs", &[10.0, 5.0, 1.0], &req.query);
    category(&mut search, &categories, &req.category_id, &mut violations).await;
    price_range(
        &mut search,
        ("min_price", "max_price"),
        req.min_price.as_ref(),
        req.max_price.as_ref(),
        ("t.min_price_minor", "t.currency"),
        &mut violations,
    );
    match req.max_delivery_days {
        0 => {}
        days if (1..=90).contains(&days) => {
            let days = search.bind(days);
            search.condition(format!("t.min_delivery_days <= {days}"));
        }
        _ => violations.add("max_delivery_days", "must be 0 (any) to 90"),
    }
    min_rating(&mut search, req.min_rating, &mut violations);
    if !req.seller_country.is_empty()
        && let Some(country) =
            crate::domain::text::country("seller_country", &req.seller_country, &mut violations)
    {
        let country = search.bind(country);
        search.condition(format!("f.country = {country}"));
    }
    if !req.seller_language.is_empty()
        && let Some(language) =
            crate::domain::text::language("seller_language", &req.seller_language, &mut violations)
    {
        let pattern = search.bind(format!("%\"{language}\"%"));
        search.condition(format!("f.languages LIKE {pattern}"));
    }
    let order = order(
        &search,
        req.sort,
        "t.min_price_minor",
        Some(RATING),
        &mut violations,
    );
    let (filters, page) =
        filters_and_page(&req, |r| r.page = None, req.page.as_ref(), &mut violations);
    violations.finish(())?;

    let facet_specs = [
        ("category", search.uuid_text("t.category_id")),
        (
            "price",
            money_bands("t.min_price_minor", "t.currency", PRICE_BANDS),
        ),
        (
            "delivery_days",
            bands("t.min_delivery_days", DELIVERY_BANDS),
        ),
    ];
    let (ids, page, counts) = run(&search, db, &order, page, &filters, &facet_specs).await?;
    let rows = gigs::Entity::find()
        .filter(gigs::Column::Id.is_in(ids.clone()))
        .all(db)
        .await?;
    let rows = in_order(&ids, rows, |row| row.id);
    let sellers = crate::store::profiles::find_freelancers(
        db,
        rows.iter()
            .map(|r| frevix_platform::ids::AccountId(r.seller_id))
            .collect(),
    )
    .await?;
    let name = |id: Uuid| {
        sellers
            .iter()
            .find(|s| s.account_id == id)
            .map(|s| s.display_name.clone())
            .unwrap_or_default()
    };
    let by_category = category_facet(&counts, &categories);
    // Every gig has one category: the facet's counts add up to the total.
    let total = by_category.values.iter().map(|v| v.count).sum();
    let facets = vec![
        by_category,
        money_facet("price", counts_of(&counts, "price"), PRICE_BANDS),
        delivery_facet(counts_of(&counts, "delivery_days"), DELIVERY_BANDS),
    ];
    Ok(pb::SearchGigsResponse {
        gigs: rows
            .iter()
            .map(|row| convert::gig(row, &name(row.seller_id)))
            .collect(),
        facets,
        total,
        page: Some(page),
    })
}

pub async fn search_freelancers(
    inner: &Inner,
    request: Request<pb::SearchFreelancersRequest>,
) -> Result<pb::SearchFreelancersResponse> {
    let req = request.into_inner();
    let db = &inner.db;
    let mut violations = FieldViolations::new();
    let mut search = Search::new(
        db.get_database_backend(),
        "freelancer_profiles",
        "account_id",
    );
    search.condition(account_not_suspended("t.account_id"));
    check_query(&req.query, &mut violations);
    search.keyword("freelancer_profiles", &[10.0, 8.0, 5.0, 1.0], &req.query);
    skills_all_of(&mut search, &req.skills, &mut violations);
    price_range(
        &mut search,
        ("min_hourly_rate", "max_hourly_rate"),
        req.min_hourly_rate.as_ref(),
        req.max_hourly_rate.as_ref(),
        ("t.hourly_rate_minor", "t.hourly_rate_currency"),
        &mut violations,
    );
    match pb::ExperienceLevel::try_from(req.experience_level) {
        Ok(pb::ExperienceLevel::Unspecified) => {}
        Ok(level) => {
            let level = search.bind(level as i32);
            search.condition(format!("t.experience_level = {level}"));
        }
        Err(_) => violations.add("experience_level", "is not a known level"),
    }
    min_rating(&mut search, req.min_rating, &mut violations);
    if !req.country.is_empty()
        && let Some(country) =
            crate::domain::text::country("country", &req.country, &mut violations)
    {
        let country = search.bind(country);
        search.condition(format!("t.country = {country}"));
    }
    match pb::Availability::try_from(req.availability) {
        Ok(pb::Availability::Unspecified) => {}
        Ok(availability) => {
            let availability = search.bind(availability as i32);
            search.condition(format!("t.availability = {availability}"));
        }
        Err(_) => violations.add("availability", "is not a known availability"),
    }
    let order = order(
        &search,
        req.sort,
        "COALESCE(t.hourly_rate_minor, 0)",
        Some(RATING),
        &mut violations,
    );
    let (filters, page) =
        filters_and_page(&req, |r| r.page = None, req.page.as_ref(), &mut violations);
    violations.finish(())?;

    let facet_specs = [
        (
            "hourly_rate",
            money_bands("t.hourly_rate_minor", "t.hourly_rate_currency", RATE_BANDS),
        ),
        (
            "experience_level",
            "CAST(t.experience_level AS TEXT)".to_owned(),
        ),
    ];
    let (ids, page, counts) = run(&search, db, &order, page, &filters, &facet_specs).await?;
    let rows = freelancer_profiles::Entity::find()
        .filter(freelancer_profiles::Column::AccountId.is_in(ids.clone()))
        .all(db)
        .await?;
    let rows = in_order(&ids, rows, |row| row.account_id);
    let levels = counts_of(&counts, "experience_level");
    // Every profile has one level: the facet's counts add up to the total.
    let total = levels.iter().map(|(_, n)| n).sum();
    let facets = vec![
        money_facet("hourly_rate", counts_of(&counts, "hourly_rate"), RATE_BANDS),
        experience_facet(levels),
    ];
    Ok(pb::SearchFreelancersResponse {
        freelancers: rows.iter().map(convert::freelancer).collect(),
        facets,
        total,
        page: Some(page),
    })
}

pub async fn search_jobs(
    inner: &Inner,
    request: Request<pb::SearchJobsRequest>,
) -> Result<pb::SearchJobsResponse> {
    let req = request.into_inner();
    let db = &inner.db;
    let categories = catalog::list_categories(db).await?;
    let mut violations = FieldViolations::new();
    let mut search = Search::new(db.get_database_backend(), "jobs", "id");
    search.condition("t.status = 'OPEN'".into());
    search.condition(account_not_suspended("t.client_id"));
    let public = search.bind(pb::JobVisibility::Public as i32);
    search.condition(format!("t.visibility = {public}"));
    check_query(&req.query, &mut violations);
    search.keyword("jobs", &[10.0, 5.0, 1.0], &req.query);
    category(&mut search, &categories, &req.category_id, &mut violations).await;
    skills_all_of(&mut search, &req.skills, &mut violations);
    price_range(
        &mut search,
        ("min_budget", "max_budget"),
        req.min_budget.as_ref(),
        req.max_budget.as_ref(),
        ("t.budget_max_minor", "t.currency"),
        &mut violations,
    );
    let order = order(
        &search,
        req.sort,
        "t.budget_max_minor",
        None,
        &mut violations,
    );
    let (filters, page) =
        filters_and_page(&req, |r| r.page = None, req.page.as_ref(), &mut violations);
    violations.finish(())?;

    let facet_specs = [
        ("category", search.uuid_text("t.category_id")),
        (
            "budget",
            money_bands("t.budget_max_minor", "t.currency", PRICE_BANDS),
        ),
    ];
    let (ids, page, counts) = run(&search, db, &order, page, &filters, &facet_specs).await?;
    let rows = jobs::Entity::find()
        .filter(jobs::Column::Id.is_in(ids.clone()))
        .all(db)
        .await?;
    let rows = in_order(&ids, rows, |row| row.id);
    let by_category = category_facet(&counts, &categories);
    let total = by_category.values.iter().map(|v| v.count).sum();
    let facets = vec![
        by_category,
        money_facet("budget", counts_of(&counts, "budget"), PRICE_BANDS),
    ];
    Ok(pb::SearchJobsResponse {
        jobs: rows.iter().map(convert::job).collect(),
        facets,
        total,
        page: Some(page),
    })
}
