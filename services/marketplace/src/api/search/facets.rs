//! Facets: the counts beside a page of results, labelled for display.

use frevix_proto::marketplace::v1 as pb;
use uuid::Uuid;

use crate::store::catalog::CategoryRow;

pub(super) const RATING: &str =
    "(CASE WHEN t.review_count = 0 THEN 0 ELSE t.rating_sum * 1.0 / t.review_count END)";

pub(super) fn band_facet(
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

pub(super) fn money_label(low: i64, high: Option<i64>) -> String {
    match high {
        Some(high) => format!("{} – {}", low / 100, high / 100),
        None => format!("{}+", low / 100),
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
                })
            })
            .collect(),
    }
}
