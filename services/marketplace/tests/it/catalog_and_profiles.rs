//! The catalog, and profiles that follow accounts and contracts' events.

// Tests are written as plain async fns run by on_both_backends!, which
// clippy does not see as tests: a failed expectation should panic here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use frevix_proto::common::v1::Money;
use frevix_proto::contracts::v1 as contracts;
use frevix_proto::marketplace::v1 as pb;
use frevix_testkit::status::{reason, violated_fields};
use frevix_testkit::{Backend, TestApp, authed, on_both_backends};
use tonic::Code;

/// Waits until the profile made from UserRegistered exists.
async fn profile_of(app: &TestApp, account_id: &str) -> pb::FreelancerProfile {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let found = app
            .marketplace
            .clone()
            .get_freelancer_profile(pb::GetFreelancerProfileRequest {
                account_id: account_id.into(),
            })
            .await;
        match found {
            Ok(response) => return response.into_inner().profile.unwrap(),
            Err(status) if status.code() == Code::NotFound && Instant::now() < deadline => {
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(status) => panic!("no profile: {status:?}"),
        }
    }
}

async fn the_seeded_catalog_is_a_two_level_tree(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut marketplace = app.marketplace.clone();
    let tree = marketplace
        .list_categories(pb::ListCategoriesRequest {})
        .await
        .unwrap()
        .into_inner()
        .categories;
    assert!(tree.len() >= 5);
    let tech = tree.iter().find(|c| c.slug == "programming-tech").unwrap();
    assert!(
        tech.children
            .iter()
            .any(|c| c.slug == "web-development" && c.parent_id == tech.id)
    );

    let skills = marketplace
        .search_skills(pb::SearchSkillsRequest {
            prefix: "Ru".into(),
            limit: 0,
        })
        .await
        .unwrap()
        .into_inner()
        .skills;
    assert_eq!(
        skills.iter().map(|s| s.slug.as_str()).collect::<Vec<_>>(),
        ["rust"]
    );
    let bad = marketplace
        .search_skills(pb::SearchSkillsRequest {
            prefix: " ".into(),
            limit: 99,
        })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&bad), ["prefix", "limit"]);

    let user = app.register().await;
    let denied = marketplace
        .create_category(authed(
            &user.access_token,
            pb::CreateCategoryRequest {
                parent_id: tech.id.clone(),
                name: "Game Development".into(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);

    let admin = app.admin().await;
    let created = marketplace
        .create_category(authed(
            &admin.access_token,
            pb::CreateCategoryRequest {
                parent_id: tech.id.clone(),
                name: "Game Development".into(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .category
        .unwrap();
    assert_eq!(created.slug, "game-development");
    // The tree is served from memory; adding a category renews it at once.
    let tree = marketplace
        .list_categories(pb::ListCategoriesRequest {})
        .await
        .unwrap()
        .into_inner()
        .categories;
    let under_tech = &tree.iter().find(|c| c.id == tech.id).unwrap().children;
    assert!(
        under_tech.iter().any(|c| c.slug == "game-development"),
        "{under_tech:?}"
    );
    let third_level = marketplace
        .create_category(authed(
            &admin.access_token,
            pb::CreateCategoryRequest {
                parent_id: created.id,
                name: "Too Deep".into(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&third_level), ["parent_id"]);
}

async fn a_freelancer_profile_follows_the_account_and_its_owner_edits_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut marketplace = app.marketplace.clone();
    let user = app.register().await;
    let profile = profile_of(&app, &user.account_id).await;
    assert_eq!(profile.display_name, "Test Person");

    let updated = marketplace
        .update_freelancer_profile(authed(
            &user.access_token,
            pb::UpdateFreelancerProfileRequest {
                profile: Some(pb::FreelancerProfile {
                    headline: "Rust services, done right".into(),
                    skills: vec!["rust".into(), "grpc".into()],
                    hourly_rate: Some(Money {
                        currency_code: "EUR".into(),
                        minor_units: 9_500,
                    }),
                    languages: vec!["EN".into(), "de".into()],
                    country: "de".into(),
                    ..Default::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: ["headline", "skills", "hourly_rate", "languages", "country"]
                        .map(String::from)
                        .to_vec(),
                }),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .profile
        .unwrap();
    assert_eq!(updated.headline, "Rust services, done right");
    assert_eq!(updated.languages, ["en", "de"]);
    assert_eq!(updated.country, "DE");
    assert_eq!(updated.hourly_rate.unwrap().minor_units, 9_500);

    let bad = marketplace
        .update_freelancer_profile(authed(
            &user.access_token,
            pb::UpdateFreelancerProfileRequest {
                profile: Some(pb::FreelancerProfile {
                    skills: vec!["cobol-on-mars".into()],
                    availability: pb::Availability::Away as i32,
                    hourly_rate: Some(Money {
                        currency_code: "XYZ".into(),
                        minor_units: 1,
                    }),
                    ..Default::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: ["skills", "availability", "hourly_rate", "email"]
                        .map(String::from)
                        .to_vec(),
                }),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(
        violated_fields(&bad),
        [
            "profile.hourly_rate.currency_code",
            "update_mask.paths",
            "profile.back_on"
        ]
    );

    let public = profile_of(&app, &user.account_id).await;
    assert_eq!(public.skills, ["rust", "grpc"]);
}

async fn ratings_and_completed_contracts_come_from_contract_events(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let freelancer = app.register().await;
    let client = app.register().await;
    profile_of(&app, &freelancer.account_id).await;
    for (rating, review_id) in [(5, "r1"), (4, "r2")] {
        let review = contracts::ReviewPublished {
            review_id: review_id.into(),
            contract_id: uuid::Uuid::new_v4().to_string(),
            reviewer_id: client.account_id.clone(),
            reviewee_id: freelancer.account_id.clone(),
            reviewer_role: contracts::ReviewerRole::Client as i32,
            rating,
            comment: "great".into(),
            gig_id: String::new(),
        };
        app.publish_as("contracts", &review.contract_id, &review)
            .await;
    }
    let completed = contracts::ContractCompleted {
        contract_id: uuid::Uuid::new_v4().to_string(),
        client_id: client.account_id.clone(),
        freelancer_id: freelancer.account_id.clone(),
        gig_id: String::new(),
        total: None,
    };
    app.publish_as("contracts", &completed.contract_id, &completed)
        .await;

    let deadline = Instant::now() + Duration::from_secs(10);
    let profile = loop {
        let profile = profile_of(&app, &freelancer.account_id).await;
        if profile.completed_contracts == 1 || Instant::now() > deadline {
            break profile;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert_eq!(profile.review_count, 2);
    assert!((profile.average_rating - 4.5).abs() < f64::EPSILON);
    assert_eq!(profile.completed_contracts, 1);
    let client_profile = app
        .marketplace
        .clone()
        .get_client_profile(pb::GetClientProfileRequest {
            account_id: client.account_id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .profile
        .unwrap();
    assert_eq!(client_profile.hires, 1);
}

async fn only_freelancers_edit_freelancer_profiles(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let denied = app
        .marketplace
        .clone()
        .update_freelancer_profile(authed(
            &admin.access_token,
            pb::UpdateFreelancerProfileRequest {
                profile: Some(pb::FreelancerProfile::default()),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["headline".into()],
                }),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(reason(&denied), "FREELANCER_ROLE_REQUIRED");
    let anonymous = app
        .marketplace
        .clone()
        .update_client_profile(pb::UpdateClientProfileRequest::default())
        .await
        .unwrap_err();
    assert_eq!(anonymous.code(), Code::Unauthenticated);
}

on_both_backends!(
    the_seeded_catalog_is_a_two_level_tree,
    a_freelancer_profile_follows_the_account_and_its_owner_edits_it,
    ratings_and_completed_contracts_come_from_contract_events,
    only_freelancers_edit_freelancer_profiles,
);
