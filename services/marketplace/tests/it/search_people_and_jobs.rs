//! Public search of freelancers (by headline, skill and rate) and of jobs
//! (by text, budget and kind), with their sorts.

use crate::support::*;
use frevix_proto::common::v1::Money;
use frevix_proto::marketplace::v1 as pb;
use frevix_testkit::{Backend, TestApp, authed, on_both_backends};

async fn freelancers_and_jobs_are_searchable(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let rustacean = app.register().await;
    let designer = app.register().await;
    for (user, headline, skills, rate) in [
        (
            &rustacean,
            "Rust backend engineer",
            vec!["rust", "postgresql"],
            12_000,
        ),
        (
            &designer,
            "Brand and logo designer",
            vec!["logo-design", "figma"],
            6_000,
        ),
    ] {
        app.marketplace
            .clone()
            .update_freelancer_profile(authed(
                &user.access_token,
                pb::UpdateFreelancerProfileRequest {
                    profile: Some(pb::FreelancerProfile {
                        headline: headline.into(),
                        skills: skills.into_iter().map(String::from).collect(),
                        hourly_rate: usd(rate),
                        experience_level: pb::ExperienceLevel::Expert as i32,
                        ..Default::default()
                    }),
                    update_mask: Some(prost_types::FieldMask {
                        paths: ["headline", "skills", "hourly_rate", "experience_level"]
                            .map(String::from)
                            .to_vec(),
                    }),
                },
            ))
            .await
            .unwrap();
    }
    let found = app
        .marketplace
        .clone()
        .search_freelancers(pb::SearchFreelancersRequest {
            query: "engin".into(),
            skills: vec!["rust".into()],
            min_hourly_rate: usd(10_000),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        found
            .freelancers
            .iter()
            .map(|f| f.account_id.as_str())
            .collect::<Vec<_>>(),
        [rustacean.account_id.as_str()]
    );
    let designers = app
        .marketplace
        .clone()
        .search_freelancers(pb::SearchFreelancersRequest {
            skills: vec!["figma".into()],
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(designers.total, 1);

    let web = subcategory(&app, "web-development").await;
    let client = app.register().await;
    for (title, budget) in [
        ("Rust API for a booking platform", 300_000),
        ("Landing page in plain HTML", 40_000),
    ] {
        app.marketplace
            .clone()
            .post_job(authed(
                &client.access_token,
                pb::PostJobRequest {
                    job: Some(pb::Job {
                        title: title.into(),
                        description:
                            "We need this built well, tested, and documented for our small team."
                                .into(),
                        category_id: web.clone(),
                        budget: Some(pb::job::Budget::FixedPrice(Money {
                            currency_code: "USD".into(),
                            minor_units: budget,
                        })),
                        expected_duration: pb::ProjectDuration::OneToFourWeeks as i32,
                        ..Default::default()
                    }),
                },
            ))
            .await
            .unwrap();
    }
    let jobs = app
        .marketplace
        .clone()
        .search_jobs(pb::SearchJobsRequest {
            query: "booking".into(),
            min_budget: usd(100_000),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        jobs.jobs
            .iter()
            .map(|j| j.title.clone())
            .collect::<Vec<_>>(),
        ["Rust API for a booking platform"]
    );
    let cheap_first = app
        .marketplace
        .clone()
        .search_jobs(pb::SearchJobsRequest {
            sort: pb::SearchSort::PriceAscending as i32,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert_eq!(cheap_first.jobs[0].title, "Landing page in plain HTML");

    // Every facet bucket's filter, set on the request, selects its count.
    assert_eq!(
        buckets(&cheap_first.facets, "budget"),
        [
            ("USD:25000-50000".to_owned(), 1),
            ("USD:100000-".to_owned(), 1)
        ]
    );
    each_bucket_selects_its_count(&cheap_first.facets, |filter| {
        let mut marketplace = app.marketplace.clone();
        async move {
            marketplace
                .search_jobs(pb::SearchJobsRequest {
                    category_id: filter.category_id,
                    min_budget: filter.min,
                    max_budget: filter.max,
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner()
                .total
        }
    })
    .await;
    let everyone = app
        .marketplace
        .clone()
        .search_freelancers(pb::SearchFreelancersRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        buckets(&everyone.facets, "hourly_rate"),
        [
            ("USD:5000-10000".to_owned(), 1),
            ("USD:10000-20000".to_owned(), 1)
        ]
    );
    each_bucket_selects_its_count(&everyone.facets, |filter| {
        let mut marketplace = app.marketplace.clone();
        async move {
            marketplace
                .search_freelancers(pb::SearchFreelancersRequest {
                    min_hourly_rate: filter.min,
                    max_hourly_rate: filter.max,
                    experience_level: filter.experience_level,
                    ..Default::default()
                })
                .await
                .unwrap()
                .into_inner()
                .total
        }
    })
    .await;
}

/// Every facet bucket's filter, set on the request by `search` (which
/// answers the search's total), selects exactly the bucket's count.
async fn each_bucket_selects_its_count<F, Fut>(facets: &[pb::Facet], search: F)
where
    F: Fn(pb::FacetFilter) -> Fut,
    Fut: std::future::Future<Output = i64>,
{
    for facet in facets {
        for bucket in &facet.values {
            let total = search(bucket.filter.clone().unwrap()).await;
            assert_eq!(total, bucket.count, "{} {}", facet.name, bucket.value);
        }
    }
}

/// The (key, count) of each bucket of the facet `name`.
fn buckets(facets: &[pb::Facet], name: &str) -> Vec<(String, i64)> {
    facets
        .iter()
        .find(|f| f.name == name)
        .unwrap()
        .values
        .iter()
        .map(|v| (v.value.clone(), v.count))
        .collect()
}

on_both_backends!(freelancers_and_jobs_are_searchable);
