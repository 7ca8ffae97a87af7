//! Ratings from contracts' events order and filter search.

use crate::support::*;
use frevix_proto::contracts::v1 as contracts;
use frevix_proto::marketplace::v1 as pb;
use frevix_testkit::{Backend, TestApp, on_both_backends};

async fn ratings_sort_and_filter_gigs_and_newest_comes_first(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let seller = app.register().await;
    let web = subcategory(&app, "web-development").await;
    let good = publish(
        &app,
        &seller,
        &web,
        "Carefully built websites",
        "A website, built and launched for you.",
        30_000,
        5,
    )
    .await;
    let fair = publish(
        &app,
        &seller,
        &web,
        "Quickly built websites",
        "A website, built and launched for you.",
        20_000,
        5,
    )
    .await;
    for (gig, rating) in [(&good, 5), (&fair, 3)] {
        let review = contracts::ReviewPublished {
            review_id: uuid::Uuid::new_v4().to_string(),
            contract_id: uuid::Uuid::new_v4().to_string(),
            reviewer_id: uuid::Uuid::new_v4().to_string(),
            reviewee_id: seller.account_id.clone(),
            reviewer_role: contracts::ReviewerRole::Client as i32,
            rating,
            comment: String::new(),
            gig_id: gig.clone(),
        };
        app.publish_as("contracts", &review.contract_id, &review)
            .await;
    }
    // Wait until both reviews are in, then search: a search racing the
    // second review could order by one state and show the next.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    loop {
        let all = search(&app, pb::SearchGigsRequest::default()).await;
        if all.gigs.iter().all(|g| g.review_count == 1) {
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the reviews never arrived"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let rated = search(
        &app,
        pb::SearchGigsRequest {
            sort: pb::SearchSort::Rating as i32,
            ..Default::default()
        },
    )
    .await;
    let seen: Vec<(String, i32, f64)> = rated
        .gigs
        .iter()
        .map(|g| (g.title.clone(), g.review_count, g.average_rating))
        .collect();
    assert_eq!(
        titles(&rated),
        ["Carefully built websites", "Quickly built websites"],
        "best rated first; seen {seen:?}"
    );
    let four_up = search(
        &app,
        pb::SearchGigsRequest {
            min_rating: 4.0,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(titles(&four_up), ["Carefully built websites"]);
    let newest = search(
        &app,
        pb::SearchGigsRequest {
            sort: pb::SearchSort::Newest as i32,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(
        titles(&newest),
        ["Quickly built websites", "Carefully built websites"]
    );
}

on_both_backends!(ratings_sort_and_filter_gigs_and_newest_comes_first);
