//! Public search of gigs: full-text relevance with prefixes, every filter
//! and sort, facets, and pages that stay stable while data changes.

// Tests are written as plain async fns run by on_both_backends!, which
// clippy does not see as tests: a failed expectation should panic here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support::*;
use frevix_proto::common::v1::{Money, PageRequest};
use frevix_proto::marketplace::v1 as pb;
use frevix_testkit::status::violated_fields;
use frevix_testkit::{Backend, TestApp, TestUser, authed, on_both_backends};

struct Shop {
    web: String,
    logos: String,
    seller: TestUser,
}

async fn shop(app: &TestApp) -> Shop {
    let seller = app.register().await;
    let web = subcategory(app, "web-development").await;
    let logos = subcategory(app, "logo-design").await;
    publish(
        app,
        &seller,
        &web,
        "Rust gRPC API development",
        "Production services in Rust with tests and docs.",
        50_000,
        7,
    )
    .await;
    publish(
        app,
        &seller,
        &web,
        "Python scripts and automation",
        "Small scripts; I can port them to Rust later if you like.",
        8_000,
        2,
    )
    .await;
    publish(
        app,
        &seller,
        &logos,
        "Minimal logo design for startups",
        "Three concepts, vector files, brand guide included.",
        20_000,
        3,
    )
    .await;
    // A draft is never found.
    app.marketplace
        .clone()
        .create_gig(authed(
            &seller.access_token,
            pb::CreateGigRequest {
                gig: Some(pb::Gig {
                    title: "Secret Rust consulting draft".into(),
                    description: "Not published yet, so nobody finds it.".into(),
                    category_id: web.clone(),
                    packages: vec![pb::GigPackage {
                        tier: 1,
                        name: "x".into(),
                        description: String::new(),
                        price: usd(1_000),
                        delivery_days: 1,
                        revisions: 0,
                        features: vec![],
                    }],
                    ..Default::default()
                }),
            },
        ))
        .await
        .unwrap();
    Shop { web, logos, seller }
}

async fn keywords_rank_title_matches_first_and_tolerate_prefixes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    shop(&app).await;
    let rust = search(
        &app,
        pb::SearchGigsRequest {
            query: "rust".into(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        titles(&rust),
        ["Rust gRPC API development", "Python scripts and automation"],
        "the title match ranks above the passing mention; the draft never shows"
    );
    assert_eq!(rust.total, 2);
    let prefix = search(
        &app,
        pb::SearchGigsRequest {
            query: "lo".into(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(titles(&prefix), ["Minimal logo design for startups"]);
    let stemmed = search(
        &app,
        pb::SearchGigsRequest {
            query: "developers".into(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(titles(&stemmed), ["Rust gRPC API development"]);
    let both = search(
        &app,
        pb::SearchGigsRequest {
            query: "rust tests".into(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        titles(&both),
        ["Rust gRPC API development"],
        "every word must match"
    );
    let none = search(
        &app,
        pb::SearchGigsRequest {
            query: "kubernetes".into(),
            ..Default::default()
        },
    )
    .await;
    assert!(none.gigs.is_empty());
}

async fn filters_and_sorts_narrow_and_order_results(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = shop(&app).await;
    let by_price = search(
        &app,
        pb::SearchGigsRequest {
            sort: pb::SearchSort::PriceAscending as i32,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        titles(&by_price),
        [
            "Python scripts and automation",
            "Minimal logo design for startups",
            "Rust gRPC API development"
        ]
    );
    let priciest = search(
        &app,
        pb::SearchGigsRequest {
            sort: pb::SearchSort::PriceDescending as i32,
            min_price: usd(10_000),
            max_price: usd(60_000),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        titles(&priciest),
        [
            "Rust gRPC API development",
            "Minimal logo design for startups"
        ]
    );
    let fast = search(
        &app,
        pb::SearchGigsRequest {
            max_delivery_days: 3,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(fast.total, 2);
    let design = search(
        &app,
        pb::SearchGigsRequest {
            category_id: shop.logos.clone(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(titles(&design), ["Minimal logo design for startups"]);
    let top_level = app
        .marketplace
        .clone()
        .list_categories(pb::ListCategoriesRequest {})
        .await
        .unwrap()
        .into_inner()
        .categories
        .into_iter()
        .find(|c| c.children.iter().any(|child| child.id == shop.web))
        .unwrap();
    let tech = search(
        &app,
        pb::SearchGigsRequest {
            category_id: top_level.id,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        tech.total, 2,
        "a top-level category includes its subcategories"
    );

    app.marketplace
        .clone()
        .update_freelancer_profile(authed(
            &shop.seller.access_token,
            pb::UpdateFreelancerProfileRequest {
                profile: Some(pb::FreelancerProfile {
                    country: "PT".into(),
                    languages: vec!["pt".into(), "en".into()],
                    ..Default::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["country".into(), "languages".into()],
                }),
            },
        ))
        .await
        .unwrap();
    let portuguese = search(
        &app,
        pb::SearchGigsRequest {
            seller_country: "pt".into(),
            seller_language: "PT".into(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(portuguese.total, 3);
    let german = search(
        &app,
        pb::SearchGigsRequest {
            seller_language: "de".into(),
            ..Default::default()
        },
    )
    .await;
    assert_eq!(german.total, 0);
    let unrated = search(
        &app,
        pb::SearchGigsRequest {
            min_rating: 4.0,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        unrated.total, 0,
        "gigs without reviews do not meet a minimum rating"
    );

    let bad = app
        .marketplace
        .clone()
        .search_gigs(pb::SearchGigsRequest {
            min_price: usd(9_000),
            max_price: Some(Money {
                currency_code: "EUR".into(),
                minor_units: 1,
            }),
            max_delivery_days: 400,
            min_rating: 7.0,
            sort: 42,
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(
        violated_fields(&bad),
        ["max_price", "max_delivery_days", "min_rating", "sort"]
    );
}

async fn facet_buckets_select_exactly_what_they_count(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = shop(&app).await;
    let all = search(&app, pb::SearchGigsRequest::default()).await;
    let facet = |name: &str| all.facets.iter().find(|f| f.name == name).unwrap().clone();
    let categories = facet("category");
    let web = categories
        .values
        .iter()
        .find(|v| v.value == shop.web)
        .unwrap();
    assert_eq!((web.count, web.label.as_str()), (2, "Web Development"));
    let buckets = |name: &str| -> Vec<(String, String, i64)> {
        facet(name)
            .values
            .into_iter()
            .map(|v| (v.value, v.label, v.count))
            .collect()
    };
    let owned = |rows: &[(&str, &str, i64)]| -> Vec<(String, String, i64)> {
        rows.iter()
            .map(|(v, l, c)| (v.to_string(), l.to_string(), *c))
            .collect()
    };
    // Bands in one currency, labelled with it.
    assert_eq!(
        buckets("price"),
        owned(&[
            ("USD:5000-10000", "USD 50 – 100", 1),
            ("USD:10000-25000", "USD 100 – 250", 1),
            ("USD:50000-100000", "USD 500 – 1000", 1),
        ])
    );
    // Deliveries in 7, 2 and 3 days: "up to" buckets, as the filter is.
    assert_eq!(
        buckets("delivery_days"),
        owned(&[
            ("3", "Up to 3 days", 2),
            ("7", "Up to 7 days", 3),
            ("14", "Up to 14 days", 3),
        ])
    );
    // An app sets each bucket's filter on the request and gets its count.
    for facet in &all.facets {
        for bucket in &facet.values {
            let filter = bucket.filter.clone().expect("every bucket has its filter");
            let narrowed = search(
                &app,
                pb::SearchGigsRequest {
                    category_id: filter.category_id,
                    min_price: filter.min,
                    max_price: filter.max,
                    max_delivery_days: filter.max_delivery_days,
                    ..Default::default()
                },
            )
            .await;
            assert_eq!(
                narrowed.total, bucket.count,
                "{} bucket {}",
                facet.name, bucket.value
            );
        }
    }
}

async fn pages_stay_stable_while_gigs_are_added(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let seller = app.register().await;
    let web = subcategory(&app, "web-development").await;
    for (i, price) in [10_000, 20_000, 30_000, 40_000, 50_000].iter().enumerate() {
        publish(
            &app,
            &seller,
            &web,
            &format!("Website package number {i}"),
            "A website, built and launched for you.",
            *price,
            5,
        )
        .await;
    }
    let request = |token: String| pb::SearchGigsRequest {
        query: "website".into(),
        sort: pb::SearchSort::PriceAscending as i32,
        page: Some(PageRequest {
            page_size: 2,
            page_token: token,
        }),
        ..Default::default()
    };
    let first = search(&app, request(String::new())).await;
    assert_eq!(first.gigs.len(), 2);
    // New gigs arrive before and after the current position.
    publish(
        &app,
        &seller,
        &web,
        "Website package cheap",
        "A website, built and launched for you.",
        5_000,
        5,
    )
    .await;
    publish(
        &app,
        &seller,
        &web,
        "Website package premium",
        "A website, built and launched for you.",
        90_000,
        5,
    )
    .await;
    let mut seen: Vec<i64> = first
        .gigs
        .iter()
        .map(|g| g.packages[0].price.as_ref().unwrap().minor_units)
        .collect();
    let mut token = first.page.unwrap().next_page_token;
    while !token.is_empty() {
        let page = search(&app, request(token)).await;
        seen.extend(
            page.gigs
                .iter()
                .map(|g| g.packages[0].price.as_ref().unwrap().minor_units),
        );
        token = page.page.unwrap().next_page_token;
    }
    assert_eq!(
        seen,
        [10_000, 20_000, 30_000, 40_000, 50_000, 90_000],
        "no repeats, no gaps, order kept"
    );

    let mismatched = app
        .marketplace
        .clone()
        .search_gigs(pb::SearchGigsRequest {
            query: "logo".into(),
            page: Some(PageRequest {
                page_size: 2,
                page_token: search(&app, request(String::new()))
                    .await
                    .page
                    .unwrap()
                    .next_page_token,
            }),
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&mismatched), ["page.page_token"]);
}

on_both_backends!(
    keywords_rank_title_matches_first_and_tolerate_prefixes,
    filters_and_sorts_narrow_and_order_results,
    facet_buckets_select_exactly_what_they_count,
    pages_stay_stable_while_gigs_are_added,
);
