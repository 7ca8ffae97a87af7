//! A suspended seller leaves search (gigs and profile) and comes back on
//! reinstatement; their own token stops working here too.

use frevix_proto::marketplace::v1 as pb;
use frevix_testkit::status::reason;
use frevix_testkit::{Backend, TestApp, authed, on_both_backends};

use crate::support::*;

/// Polls `check` until it holds, for at most ten seconds.
async fn within_seconds<F, Fut>(what: &str, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !check().await {
        assert!(
            std::time::Instant::now() < deadline,
            "not within 10 s: {what}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

async fn a_suspended_seller_leaves_search_and_returns_on_reinstatement(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let seller = app.register().await;
    let buyer = app.register().await;
    let logos = subcategory(&app, "logo-design").await;
    let gig = publish(
        &app,
        &seller,
        &logos,
        "Unmistakable zebra logos",
        "Striped marks for bold brands",
        5000,
        3,
    )
    .await;
    let zebra = || pb::SearchGigsRequest {
        query: "zebra".into(),
        ..Default::default()
    };
    let freelancers = || pb::SearchFreelancersRequest::default();
    let listed = |response: pb::SearchFreelancersResponse| {
        response
            .freelancers
            .iter()
            .any(|f| f.account_id == seller.account_id)
    };
    assert_eq!(
        titles(&search(&app, zebra()).await),
        ["Unmistakable zebra logos"]
    );
    let mut marketplace = app.marketplace.clone();
    assert!(listed(
        marketplace
            .search_freelancers(freelancers())
            .await
            .unwrap()
            .into_inner()
    ));

    app.identity
        .clone()
        .suspend_account(authed(
            &admin.access_token,
            frevix_proto::identity::v1::SuspendAccountRequest {
                account_id: seller.account_id.clone(),
                reason: "fraud report".into(),
            },
        ))
        .await
        .unwrap();

    within_seconds("the gig leaves search", || async {
        search(&app, zebra()).await.gigs.is_empty()
    })
    .await;
    assert!(!listed(
        marketplace
            .search_freelancers(freelancers())
            .await
            .unwrap()
            .into_inner()
    ));
    let gig_page = marketplace
        .get_gig(authed(
            &buyer.access_token,
            pb::GetGigRequest {
                gig_id: gig.clone(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(gig_page.code(), tonic::Code::NotFound);
    let profile = marketplace
        .get_freelancer_profile(pb::GetFreelancerProfileRequest {
            account_id: seller.account_id.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(profile.code(), tonic::Code::NotFound);
    // The seller's own token no longer works here either.
    let own = marketplace
        .list_my_gigs(authed(
            &seller.access_token,
            pb::ListMyGigsRequest::default(),
        ))
        .await
        .unwrap_err();
    assert_eq!(own.code(), tonic::Code::Unauthenticated);
    assert_eq!(reason(&own), "ACCOUNT_SUSPENDED");

    app.identity
        .clone()
        .reinstate_account(authed(
            &admin.access_token,
            frevix_proto::identity::v1::ReinstateAccountRequest {
                account_id: seller.account_id.clone(),
            },
        ))
        .await
        .unwrap();
    within_seconds("the gig returns to search", || async {
        titles(&search(&app, zebra()).await) == ["Unmistakable zebra logos"]
    })
    .await;
    marketplace
        .get_gig(authed(
            &buyer.access_token,
            pb::GetGigRequest { gig_id: gig },
        ))
        .await
        .unwrap();
}

on_both_backends!(a_suspended_seller_leaves_search_and_returns_on_reinstatement);
