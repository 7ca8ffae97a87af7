//! Facets: the counts beside a page of results, labelled for display, each
//! bucket carrying the request fields that select exactly it
//! (`FacetFilter`), so an app builds its filter chips from the facets alone
//! and never parses a bucket's key. Money bands are counted per currency
//! (amounts in different currencies share no scale), and delivery buckets
//! are "up to N days", as the `max_delivery_days` filter selects.

use frevix_proto::common::v1 as common;
use frevix_proto::marketplace::v1 as pb;
use uuid::Uuid;

use crate::store::catalog::CategoryRow;
use crate::store::search::bands;

pub(super) const RATING: &str =
    "(CASE WHEN t.review_count = 0 THEN 0 ELSE t.rating_sum * 1.0 / t.review_count END)";

/// The SQL key of a money band: "USD:5000-10000"; empty without an amount.
pub(super) fn money_bands(amount: &str, currency: &str, bounds: &[i64]) -> String {
    format!(
        "CASE WHEN {amount} IS NULL OR {currency} IS NULL THEN '' ELSE {currency} || ':' || {} END",
        bands(amount, bounds)
    )
}

/// One bucket per currency and band, cheapest first within a currency.
pub(super) fn money_facet(name: &str, counts: Vec<(String, i64)>, bounds: &[i64]) -> pb::Facet {
    let mut values: Vec<(String, usize, pb::FacetValue)> = counts
        .into_iter()
        .filter_map(|(value, count)| {
            let (currency, band) = value.split_once(':')?;
            let (low, high) = band.split_once('-')?;
            let low: i64 = low.parse().ok()?;
            let high: Option<i64> = high.parse().ok();
            let money = |minor_units| common::Money {
                currency_code: currency.to_owned(),
                minor_units,
            };
            let label = match high {
                Some(high) => format!("{currency} {} – {}", low / 100, high / 100),
                None => format!("{currency} {}+", low / 100),
            };
            let position = bounds.iter().position(|b| *b == low).unwrap_or(usize::MAX);
            let bucket = pb::FacetValue {
                label,
                count,
                filter: Some(pb::FacetFilter {
                    min: Some(money(low)),
                    // The filter's bound is inclusive, the band's exclusive.
                    max: high.map(|high| money(high - 1)),
                    ..Default::default()
                }),
                value: value.clone(),
            };
            Some((currency.to_owned(), position, bucket))
        })
        .collect();
    values.sort_by(|a, b| (&a.0, a.1).cmp(&(&b.0, b.1)));
    pb::Facet {
        name: name.to_owned(),
        values: values.into_iter().map(|(_, _, bucket)| bucket).collect(),
    }
}

/// "Up to N days" buckets from the disjoint delivery bands counted by SQL
/// (`[bounds[i], bounds[i+1])`): each counts every gig deliverable within
/// N days, N the band's last day. The open last band needs no bucket (it
/// is "any": the total).
pub(super) fn delivery_facet(counts: Vec<(String, i64)>, bounds: &[i64]) -> pb::Facet {
    let count_of = |low: i64| {
        counts
            .iter()
            .find(|(value, _)| value.split('-').next() == Some(low.to_string().as_str()))
            .map_or(0, |(_, count)| *count)
    };
    let mut within = 0;
    let mut values = Vec::new();
    for window in bounds.windows(2) {
        within += count_of(window[0]);
        let days = window[1] - 1;
        if within == 0 {
            continue;
        }
        values.push(pb::FacetValue {
            value: days.to_string(),
            label: if days == 1 {
                "Up to 1 day".to_owned()
            } else {
                format!("Up to {days} days")
            },
            count: within,
            filter: Some(pb::FacetFilter {
                max_delivery_days: i32::try_from(days).unwrap_or(i32::MAX),
                ..Default::default()
            }),
        });
    }
    pb::Facet {
        name: "delivery_days".into(),
        values,
    }
}

/// The counts of one facet, as `(value, count)`.
pub(super) fn counts_of(counts: &[(String, String, i64)], name: &str) -> Vec<(String, i64)> {
    counts
        .iter()
        .filter(|(facet, _, _)| facet == name)
        .map(|(_, value, count)| (value.clone(), *count))
        .collect()
}

pub(super) fn category_facet(
    counts: &[(String, String, i64)],
    categories: &[CategoryRow],
) -> pb::Facet {
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
                    filter: Some(pb::FacetFilter {
                        category_id: id.to_string(),
                        ..Default::default()
                    }),
                })
            })
            .collect(),
    }
}

/// One bucket per experience level; profiles without one are in none (no
/// filter selects "unspecified": it means any).
pub(super) fn experience_facet(levels: Vec<(String, i64)>) -> pb::Facet {
    pb::Facet {
        name: "experience_level".into(),
        values: levels
            .into_iter()
            .filter_map(|(value, count)| {
                let level = pb::ExperienceLevel::try_from(value.parse::<i32>().ok()?).ok()?;
                if level == pb::ExperienceLevel::Unspecified {
                    return None;
                }
                Some(pb::FacetValue {
                    label: level
                        .as_str_name()
                        .trim_start_matches("EXPERIENCE_LEVEL_")
                        .to_lowercase(),
                    value,
                    count,
                    filter: Some(pb::FacetFilter {
                        experience_level: level as i32,
                        ..Default::default()
                    }),
                })
            })
            .collect(),
    }
}
