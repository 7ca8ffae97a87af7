//! Gigs: drafting with validation, the status machine, who may see and
//! change what, idempotent creation, and the events contracts prices from.

// Tests are written as plain async fns run by on_both_backends!, which
// clippy does not see as tests: a failed expectation should panic here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support::*;
use frevix_proto::common::v1::PageRequest;
use frevix_proto::contracts::v1 as contracts;
use frevix_proto::marketplace::v1 as pb;
use frevix_testkit::status::{reason, violated_fields};
use frevix_testkit::{Backend, TestApp, TestUser, authed, on_both_backends};
use tonic::Code;

async fn web_development(app: &TestApp) -> String {
    subcategory(app, "web-development").await
}

pub(crate) fn a_gig(category_id: String) -> pb::Gig {
    pb::Gig {
        title: "I will build a fast Rust API for you".into(),
        description: "A documented, tested gRPC service with a Postgres schema.".into(),
        category_id,
        tags: vec!["rust".into(), "api".into()],
        packages: vec![
            pb::GigPackage {
                tier: pb::PackageTier::Basic as i32,
                name: "One endpoint".into(),
                description: "A single RPC with tests".into(),
                price: usd(15_000),
                delivery_days: 3,
                revisions: 1,
                features: vec!["tests".into()],
            },
            pb::GigPackage {
                tier: pb::PackageTier::Premium as i32,
                name: "Whole service".into(),
                description: String::new(),
                price: usd(120_000),
                delivery_days: 14,
                revisions: 3,
                features: vec!["tests".into(), "deployment".into()],
            },
        ],
        extras: vec![pb::GigExtra {
            id: String::new(),
            title: "Express delivery".into(),
            price: usd(5_000),
            extra_days: 0,
        }],
        requirements: vec![pb::RequirementQuestion {
            id: String::new(),
            question: "What should the API do?".into(),
            required: true,
        }],
        ..Default::default()
    }
}

async fn draft(app: &TestApp, seller: &TestUser) -> pb::Gig {
    let category = web_development(app).await;
    app.marketplace
        .clone()
        .create_gig(authed(
            &seller.access_token,
            pb::CreateGigRequest {
                gig: Some(a_gig(category)),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .gig
        .unwrap()
}

async fn a_gig_goes_from_draft_to_published_and_contracts_learn_its_prices(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut marketplace = app.marketplace.clone();
    let seller = app.register().await;
    let buyer = app.register().await;
    let gig = draft(&app, &seller).await;
    assert_eq!(gig.status, pb::GigStatus::Draft as i32);
    assert_eq!(gig.seller_id, seller.account_id);
    assert!(!gig.extras[0].id.is_empty(), "extras get ids");

    for viewer in [Some(&buyer), None] {
        let mut request = tonic::Request::new(pb::GetGigRequest {
            gig_id: gig.id.clone(),
        });
        if let Some(viewer) = viewer {
            request = authed(
                &viewer.access_token,
                pb::GetGigRequest {
                    gig_id: gig.id.clone(),
                },
            );
        }
        let hidden = marketplace.get_gig(request).await.unwrap_err();
        assert_eq!(
            hidden.code(),
            Code::NotFound,
            "a draft is the seller's alone"
        );
    }

    let published = marketplace
        .publish_gig(authed(
            &seller.access_token,
            pb::PublishGigRequest {
                gig_id: gig.id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .gig
        .unwrap();
    assert_eq!(published.status, pb::GigStatus::Published as i32);
    let seen = marketplace
        .get_gig(pb::GetGigRequest {
            gig_id: gig.id.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .gig
        .unwrap();
    assert_eq!(seen.packages.len(), 2);

    let event = app
        .wait_for_event::<pb::GigPublished>("marketplace", |e| {
            e.gig.as_ref().is_some_and(|g| g.id == gig.id)
        })
        .await;
    let priced = event.gig.unwrap();
    assert_eq!(priced.seller_id, seller.account_id);
    assert_eq!(
        priced.packages[1].price.as_ref().unwrap().minor_units,
        120_000
    );
    assert_eq!(priced.extras[0].title, "Express delivery");

    // Someone else may look but not touch.
    let mut other_edit = a_gig(String::new());
    other_edit.id = gig.id.clone();
    other_edit.title = "I will take over this gig now".into();
    let denied = marketplace
        .update_gig(authed(
            &buyer.access_token,
            pb::UpdateGigRequest {
                gig: Some(other_edit),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["title".into()],
                }),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(denied.code(), Code::PermissionDenied);
    let pause = marketplace
        .pause_gig(authed(
            &buyer.access_token,
            pb::PauseGigRequest {
                gig_id: gig.id.clone(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(pause.code(), Code::PermissionDenied);
}

async fn the_status_machine_refuses_illegal_moves(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut marketplace = app.marketplace.clone();
    let seller = app.register().await;
    let gig = draft(&app, &seller).await;
    let id = || gig.id.clone();
    let token = &seller.access_token;

    let pause_draft = marketplace
        .pause_gig(authed(token, pb::PauseGigRequest { gig_id: id() }))
        .await
        .unwrap_err();
    assert_eq!(pause_draft.code(), Code::FailedPrecondition);
    assert_eq!(reason(&pause_draft), "GIG_STATUS");

    marketplace
        .publish_gig(authed(token, pb::PublishGigRequest { gig_id: id() }))
        .await
        .unwrap();
    let paused = marketplace
        .pause_gig(authed(token, pb::PauseGigRequest { gig_id: id() }))
        .await
        .unwrap()
        .into_inner()
        .gig
        .unwrap();
    assert_eq!(paused.status, pb::GigStatus::Paused as i32);
    let hidden = marketplace
        .get_gig(pb::GetGigRequest { gig_id: id() })
        .await
        .unwrap_err();
    assert_eq!(
        hidden.code(),
        Code::NotFound,
        "paused gigs are hidden from buyers"
    );
    let again = marketplace
        .pause_gig(authed(token, pb::PauseGigRequest { gig_id: id() }))
        .await
        .unwrap()
        .into_inner()
        .gig
        .unwrap();
    assert_eq!(
        again.status,
        pb::GigStatus::Paused as i32,
        "repeating is harmless"
    );
    marketplace
        .publish_gig(authed(token, pb::PublishGigRequest { gig_id: id() }))
        .await
        .unwrap();
    marketplace
        .archive_gig(authed(token, pb::ArchiveGigRequest { gig_id: id() }))
        .await
        .unwrap();
    let republish = marketplace
        .publish_gig(authed(token, pb::PublishGigRequest { gig_id: id() }))
        .await
        .unwrap_err();
    assert_eq!(reason(&republish), "GIG_STATUS");
    let edit = marketplace
        .update_gig(authed(
            token,
            pb::UpdateGigRequest {
                gig: Some(pb::Gig {
                    id: id(),
                    title: "A title that is long enough".into(),
                    ..Default::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["title".into()],
                }),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(reason(&edit), "GIG_ARCHIVED");

    let archived = app
        .wait_for_event::<pb::GigArchived>("marketplace", |e| e.gig_id == gig.id)
        .await;
    assert_eq!(archived.seller_id, seller.account_id);
}

async fn bad_gigs_are_refused_field_by_field(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let seller = app.register().await;
    let category = web_development(&app).await;
    let mut bad = a_gig(category);
    bad.title = "short".into();
    bad.packages[1].price = usd(10_000);
    bad.packages[0].delivery_days = 0;
    bad.tags = vec!["x".into()];
    let error = app
        .marketplace
        .clone()
        .create_gig(authed(
            &seller.access_token,
            pb::CreateGigRequest { gig: Some(bad) },
        ))
        .await
        .unwrap_err();
    assert_eq!(error.code(), Code::InvalidArgument);
    assert_eq!(
        violated_fields(&error),
        ["gig.title", "gig.tags[0]", "gig.packages[0].delivery_days"]
    );

    let mut falling = a_gig(web_development(&app).await);
    falling.packages[1].price = usd(10_000);
    let error = app
        .marketplace
        .clone()
        .create_gig(authed(
            &seller.access_token,
            pb::CreateGigRequest { gig: Some(falling) },
        ))
        .await
        .unwrap_err();
    assert_eq!(
        violated_fields(&error),
        ["gig.packages"],
        "prices must rise with the tier"
    );

    let top_level = app
        .marketplace
        .clone()
        .list_categories(pb::ListCategoriesRequest {})
        .await
        .unwrap()
        .into_inner()
        .categories[0]
        .id
        .clone();
    let error = app
        .marketplace
        .clone()
        .create_gig(authed(
            &seller.access_token,
            pb::CreateGigRequest {
                gig: Some(a_gig(top_level)),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&error), ["gig.category_id"]);
}

async fn creating_a_gig_is_idempotent_and_my_gigs_are_paged(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let seller = app.register().await;
    let category = web_development(&app).await;
    let keyed = |key: &str| {
        let mut request = authed(
            &seller.access_token,
            pb::CreateGigRequest {
                gig: Some(a_gig(category.clone())),
            },
        );
        request
            .metadata_mut()
            .insert("idempotency-key", key.parse().unwrap());
        request
    };
    let first = app
        .marketplace
        .clone()
        .create_gig(keyed("gig-1"))
        .await
        .unwrap()
        .into_inner();
    let retry = app
        .marketplace
        .clone()
        .create_gig(keyed("gig-1"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first, retry);
    for key in ["gig-2", "gig-3"] {
        app.marketplace
            .clone()
            .create_gig(keyed(key))
            .await
            .unwrap();
    }
    let mut ids = Vec::new();
    let mut token = String::new();
    loop {
        let page = app
            .marketplace
            .clone()
            .list_my_gigs(authed(
                &seller.access_token,
                pb::ListMyGigsRequest {
                    page: Some(PageRequest {
                        page_size: 2,
                        page_token: token.clone(),
                    }),
                    status: pb::GigStatus::Draft as i32,
                },
            ))
            .await
            .unwrap()
            .into_inner();
        ids.extend(page.gigs.into_iter().map(|g| g.id));
        token = page.page.unwrap().next_page_token;
        if token.is_empty() {
            break;
        }
    }
    assert_eq!(ids.len(), 3, "three gigs, the retry made none");
    assert_eq!(ids[2], first.gig.unwrap().id, "newest first");
}

async fn reviews_rate_the_gig(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let seller = app.register().await;
    let gig = draft(&app, &seller).await;
    app.marketplace
        .clone()
        .publish_gig(authed(
            &seller.access_token,
            pb::PublishGigRequest {
                gig_id: gig.id.clone(),
            },
        ))
        .await
        .unwrap();
    let review = contracts::ReviewPublished {
        review_id: "r".into(),
        contract_id: uuid::Uuid::new_v4().to_string(),
        reviewer_id: uuid::Uuid::new_v4().to_string(),
        reviewee_id: seller.account_id.clone(),
        reviewer_role: contracts::ReviewerRole::Client as i32,
        rating: 3,
        comment: String::new(),
        gig_id: gig.id.clone(),
    };
    app.publish_as("contracts", &review.contract_id, &review)
        .await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let seen = app
            .marketplace
            .clone()
            .get_gig(pb::GetGigRequest {
                gig_id: gig.id.clone(),
            })
            .await
            .unwrap()
            .into_inner()
            .gig
            .unwrap();
        if seen.review_count == 1 {
            assert!((seen.average_rating - 3.0).abs() < f64::EPSILON);
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the review never reached the gig"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

on_both_backends!(
    a_gig_goes_from_draft_to_published_and_contracts_learn_its_prices,
    the_status_machine_refuses_illegal_moves,
    bad_gigs_are_refused_field_by_field,
    creating_a_gig_is_idempotent_and_my_gigs_are_paged,
    reviews_rate_the_gig,
);
