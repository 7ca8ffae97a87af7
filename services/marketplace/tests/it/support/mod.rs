//! What several marketplace test files need.

#![allow(dead_code, clippy::unwrap_used)]

pub mod jobs;

use frevix_proto::common::v1::Money;
use frevix_proto::marketplace::v1 as pb;
use frevix_testkit::{TestApp, TestUser, authed};

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

/// Drafts and publishes a one-package gig.
pub async fn publish(
    app: &TestApp,
    seller: &TestUser,
    category: &str,
    title: &str,
    description: &str,
    price: i64,
    days: i32,
) -> String {
    let gig = pb::Gig {
        title: title.into(),
        description: description.into(),
        category_id: category.into(),
        packages: vec![pb::GigPackage {
            tier: pb::PackageTier::Basic as i32,
            name: "Basic".into(),
            description: String::new(),
            price: usd(price),
            delivery_days: days,
            revisions: 1,
            features: vec![],
        }],
        ..Default::default()
    };
    let id = app
        .marketplace
        .clone()
        .create_gig(authed(
            &seller.access_token,
            pb::CreateGigRequest { gig: Some(gig) },
        ))
        .await
        .unwrap()
        .into_inner()
        .gig
        .unwrap()
        .id;
    app.marketplace
        .clone()
        .publish_gig(authed(
            &seller.access_token,
            pb::PublishGigRequest { gig_id: id.clone() },
        ))
        .await
        .unwrap();
    id
}

pub async fn search(app: &TestApp, request: pb::SearchGigsRequest) -> pb::SearchGigsResponse {
    app.marketplace
        .clone()
        .search_gigs(request)
        .await
        .unwrap()
        .into_inner()
}

pub fn titles(response: &pb::SearchGigsResponse) -> Vec<String> {
    response.gigs.iter().map(|g| g.title.clone()).collect()
}
