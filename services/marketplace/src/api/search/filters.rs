//! The filters of the searches: each checks its request field and adds
//! its condition to the store's [`Search`].

use frevix_platform::error::FieldViolations;
use frevix_platform::money::Currency;
use frevix_proto::common::v1 as common;
use frevix_proto::marketplace::v1 as pb;
use uuid::Uuid;

use crate::store::catalog::CategoryRow;
use crate::store::search::{Order, Search};

pub(super) fn check_query(query: &str, violations: &mut FieldViolations) {
    if query.chars().count() > 200 {
        violations.add("query", "must be at most 200 characters");
    }
}

/// A price bound: a supported currency and a non-negative amount.
pub(super) fn bound(
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
pub(super) fn price_range(
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

pub(super) fn min_rating(search: &mut Search, rating: f64, violations: &mut FieldViolations) {
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
pub(super) async fn category(
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

pub(super) fn skills_all_of(
    search: &mut Search,
    skills: &[String],
    violations: &mut FieldViolations,
) {
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

pub(super) fn order(
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
