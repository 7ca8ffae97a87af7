//! SearchGigs, SearchFreelancers, SearchJobs: parse the filters, let the
//! store's full-text search find ids in order, load the rows, add facets.

use std::collections::HashMap;

use frevix_platform::auth::deny_feed::account_not_suspended;
use frevix_platform::error::FieldViolations;
use frevix_platform::money::Currency;
use frevix_platform::paging::{PageLimits, fingerprint, finish_page, parse_page};
use frevix_proto::common::v1 as common;
use frevix_proto::marketplace::v1 as pb;
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter};
use tonic::Request;
use uuid::Uuid;

use crate::Inner;
use crate::convert;
use crate::error::Result;
use crate::store::catalog::{self, CategoryRow};
use crate::store::entities::{freelancer_profiles, gigs, jobs};
use crate::store::search::{Cursor, Order, Search, bands};

const LIMITS: PageLimits = PageLimits {
    default_size: 20,
    max_size: 50,
};

/// Price and budget bands, in minor units.
const PRICE_BANDS: &[i64] = &[0, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000];
const DELIVERY_BANDS: &[i64] = &[0, 2, 4, 8, 15];
const RATE_BANDS: &[i64] = &[0, 2_500, 5_000, 10_000, 20_000];

fn check_query(query: &str, violations: &mut FieldViolations) {
    if query.chars().count() > 200 {
        violations.add("query", "must be at most 200 characters");
    }
}

/// A price bound: a supported currency and a non-negative amount.
fn bound(
    field: &str,
    value: Option<&common::Money>,
    violations: &mut FieldViolations,
) -> Option<(String, i64)> {
    let value = value?;
    if Currency::from_code(&value.currency_code).is_none() {
        violations.add(
            format!("{field}.currency_code"),
            "must be a supported ISO 4217 code",
        );
        return None;
    }
    if value.minor_units < 0 {
        violations.add(format!("{field}.minor_units"), "must not be negative");
        return None;
    }
    Some((value.currency_code.clone(), value.minor_units))
}

/// Adds currency and range conditions on `column` (in `currency_column`).
fn price_range(
    search: &mut Search,
    fields: (&str, &str),
    min: Option<&common::Money>,
    max: Option<&common::Money>,
    columns: (&str, &str),
    violations: &mut FieldViolations,
) {
    let low = bound(fields.0, min, violations);
    let high = bound(fields.1, max, violations);
    if let (Some((a, _)), Some((b, _))) = (&low, &high)
        && a != b
    {
        violations.add(fields.1, "must be in the currency of the lower bound");
        return;
    }
    if let (Some((_, a)), Some((_, b))) = (&low, &high)
        && a > b
    {
        violations.add(fields.1, "must not be below the lower bound");
        return;
    }
    if let Some(currency) = low.as_ref().or(high.as_ref()).map(|(c, _)| c.clone()) {
        let currency = search.bind(currency);
        search.condition(format!("{} = {currency}", columns.1));
    }
    if let Some((_, minor)) = low {
        let minor = search.bind(minor);
        search.condition(format!("{} >= {minor}", columns.0));
    }
    if let Some((_, minor)) = high {
        let minor = search.bind(minor);
        search.condition(format!("{} <= {minor}", columns.0));
    }
}

fn min_rating(search: &mut Search, rating: f64, violations: &mut FieldViolations) {
    if !(0.0..=5.0).contains(&rating) {
        violations.add("min_rating", "must be 0 to 5");
    } else if rating > 0.0 {
        let rating = search.bind(rating);
        search.condition(format!(
            "t.review_count > 0 AND t.rating_sum >= {rating} * t.review_count"
        ));
    }
}

/// Adds "the category or one of its subcategories".
async fn category(
    search: &mut Search,
    categories: &[CategoryRow],
    text: &str,
    violations: &mut FieldViolations,
) {
    if text.is_empty() {
        return;
    }
    let Some(id) = frevix_platform::ids::parse_uuid("category_id", text, violations) else {
        return;
    };
    let ids: Vec<Uuid> = categories
        .iter()
        .filter(|c| c.id == id || c.parent_id == Some(id))
        .map(|c| c.id)
        .collect();
    if ids.is_empty() {
        violations.add("category_id", "is not a category");
        return;
    }
    let placeholders: Vec<String> = ids.into_iter().map(|id| search.bind(id)).collect();
    search.condition(format!("t.category_id IN ({})", placeholders.join(", ")));
}

fn skills_all_of(search: &mut Search, skills: &[String], violations: &mut FieldViolations) {
    if skills.len() > 15 {
        violations.add("skills", "must be at most 15");
        return;
    }
    for skill in skills {
        let slug = crate::domain::catalog::slugify(skill);
        let pattern = search.bind(format!("%\"{slug}\"%"));
        search.condition(format!("t.skills LIKE {pattern}"));
    }
}

fn order(
    search: &Search,
    sort: i32,
    price: &str,
    rating: Option<&str>,
    violations: &mut FieldViolations,
) -> Order {
    match pb::SearchSort::try_from(sort) {
        Ok(pb::SearchSort::Unspecified | pb::SearchSort::Relevance) => {
            search.relevance().unwrap_or(Order::Newest)
        }
        Ok(pb::SearchSort::PriceAscending) => Order::Key {
            expr: price.to_owned(),
            descending: false,
        },
        Ok(pb::SearchSort::PriceDescending) => Order::Key {
            expr: price.to_owned(),
            descending: true,
        },
        Ok(pb::SearchSort::Rating) => match rating {
            Some(expr) => Order::Key {
                expr: expr.to_owned(),
                descending: true,
            },
            None => {
                violations.add("sort", "rating is not a sort for jobs");
                Order::Newest
            }
        },
        Ok(pb::SearchSort::Newest) => Order::Newest,
        Err(_) => {
            violations.add("sort", "is not a known sort");
            Order::Newest
        }
    }
}

const RATING: &str =
    "(CASE WHEN t.review_count = 0 THEN 0 ELSE t.rating_sum * 1.0 / t.review_count END)";

fn band_facet(
    name: &str,
    counts: Vec<(String, i64)>,
    bounds: &[i64],
    label: impl Fn(i64, Option<i64>) -> String,
) -> pb::Facet {
    let mut values: Vec<pb::FacetValue> = counts
        .into_iter()
        .map(|(value, count)| {
            let mut parts = value.split('-');
            let low = parts.next().and_then(|p| p.parse().ok()).unwrap_or(0);
            let high = parts.next().and_then(|p| p.parse().ok());
            pb::FacetValue {
                label: label(low, high),
                value,
                count,
            }
        })
        .collect();
    values.sort_by_key(|v| {
        bounds
            .iter()
            .position(|b| v.value.starts_with(&format!("{b}-")))
            .unwrap_or(usize::MAX)
    });
    pb::Facet {
        name: name.to_owned(),
        values,
    }
}

fn money_label(low: i64, high: Option<i64>) -> String {
    match high {
        Some(high) => format!("{} – {}", low / 100, high / 100),
        None => format!("{}+", low / 100),
    }
}

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

/// The counts of one facet, as `(value, count)`.
fn counts_of(counts: &[(String, String, i64)], name: &str) -> Vec<(String, i64)> {
    counts
        .iter()
        .filter(|(facet, _, _)| facet == name)
        .map(|(_, value, count)| (value.clone(), *count))
        .collect()
}

fn category_facet(counts: &[(String, String, i64)], categories: &[CategoryRow]) -> pb::Facet {
    pb::Facet {
        name: "category".into(),
        values: counts_of(counts, "category")
            .into_iter()
            .filter_map(|(value, count)| {
                let id = Uuid::parse_str(&value).ok()?;
                Some(pb::FacetValue {
                    value: id.to_string(),
                    label: categories
                        .iter()
                        .find(|c| c.id == id)
                        .map(|c| c.name.clone())
                        .unwrap_or_default(),
                    count,
                })
            })
            .collect(),
    }
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
        ("price", bands("t.min_price_minor", PRICE_BANDS)),
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
    let sellers =
        crate::store::profiles::find_freelancers(db, rows.iter().map(|r| r.seller_id).collect())
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
        band_facet(
            "price",
            counts_of(&counts, "price"),
            PRICE_BANDS,
            money_label,
        ),
        band_facet(
            "delivery_days",
            counts_of(&counts, "delivery_days"),
            DELIVERY_BANDS,
            |low, high| match high {
                Some(high) => format!("{low}–{} days", high - 1),
                None => format!("{low}+ days"),
            },
        ),
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
            bands("COALESCE(t.hourly_rate_minor, 0)", RATE_BANDS),
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
        band_facet(
            "hourly_rate",
            counts_of(&counts, "hourly_rate"),
            RATE_BANDS,
            money_label,
        ),
        pb::Facet {
            name: "experience_level".into(),
            values: levels
                .into_iter()
                .map(|(value, count)| pb::FacetValue {
                    label: value
                        .parse::<i32>()
                        .ok()
                        .and_then(|n| pb::ExperienceLevel::try_from(n).ok())
                        .map(|level| {
                            level
                                .as_str_name()
                                .trim_start_matches("EXPERIENCE_LEVEL_")
                                .to_lowercase()
                        })
                        .unwrap_or_default(),
                    value,
                    count,
                })
                .collect(),
        },
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
        ("budget", bands("t.budget_max_minor", PRICE_BANDS)),
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
        band_facet(
            "budget",
            counts_of(&counts, "budget"),
            PRICE_BANDS,
            money_label,
        ),
    ];
    Ok(pb::SearchJobsResponse {
        jobs: rows.iter().map(convert::job).collect(),
        facets,
        total,
        page: Some(page),
    })
}
