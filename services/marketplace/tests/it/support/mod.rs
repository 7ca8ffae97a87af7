//! What several marketplace test files need.

#![allow(dead_code, clippy::unwrap_used)]

use frevix_proto::common::v1::Money;
use frevix_proto::marketplace::v1 as pb;
use frevix_testkit::TestApp;

pub fn usd(minor_units: i64) -> Option<Money> {
    Some(Money {
        currency_code: "USD".into(),
        minor_units,
    })
}

/// The id of the seeded subcategory `slug`.
pub async fn subcategory(app: &TestApp, slug: &str) -> String {
    let tree = app
        .marketplace
        .clone()
        .list_categories(pb::ListCategoriesRequest {})
        .await
        .unwrap()
        .into_inner()
        .categories;
    tree.iter()
        .flat_map(|c| c.children.iter())
        .find(|c| c.slug == slug)
        .unwrap()
        .id
        .clone()
}
