//! Reviews on both backends: open once a gig order is completed, written
//! once per side, hidden from the other side until both have reviewed (or
//! the window closes on a moved clock), then published and announced once
//! each; one public reply; public lists of a seller's and a gig's reviews
//! with their average.

use std::time::{Duration, Instant};

use frevix_proto::contracts::v1 as pb;
use frevix_proto::marketplace::v1 as marketplace;
use frevix_proto::payments::v1 as payments;
use frevix_testkit::status::{reason, violated_fields};
use frevix_testkit::{Backend, TestApp, TestClock, TestUser, authed, on_both_backends};
use tonic::Code;

use crate::shop::*;
use crate::support::*;

struct Done {
    shop: Shop,
    buyer: TestUser,
    contract: pb::Contract,
}

/// A gig order delivered, approved and paid out.
async fn completed_order(app: &TestApp) -> Done {
    let shop = open_quiet_shop(app).await;
    let buyer = app.register().await;
    let placed = place(
        app,
        &buyer,
        order(&shop, marketplace::PackageTier::Basic, 1),
        None,
    )
    .await
    .unwrap();
    let contract = fund(app, &shop, &buyer, &placed).await;
    let milestone = contract.milestones[0].clone();
    let mut contracts = app.contracts.clone();
    contracts
        .submit_delivery(authed(
            &shop.seller.access_token,
            pb::SubmitDeliveryRequest {
                contract_id: contract.id.clone(),
                milestone_id: milestone.id.clone(),
                message: "The logo, in three formats.".into(),
                attachment_ids: vec![],
            },
        ))
        .await
        .unwrap();
    let early = review(app, &buyer, &contract, 5).await.unwrap_err();
    assert_eq!(reason(&early), "REVIEWS_NOT_OPEN");
    contracts
        .approve_milestone(authed(
            &buyer.access_token,
            pb::ApproveMilestoneRequest {
                contract_id: contract.id.clone(),
                milestone_id: milestone.id.clone(),
            },
        ))
        .await
        .unwrap();
    let amount = milestone.amount.unwrap().minor_units;
    let released = payments::EscrowReleased {
        contract_id: contract.id.clone(),
        milestone_id: milestone.id.clone(),
        client_id: buyer.account_id.clone(),
        freelancer_id: shop.seller.account_id.clone(),
        amount: usd(amount - amount / 5),
        fee: usd(amount / 5),
        invoice_id: String::new(),
    };
    app.publish_as("payments", &contract.id, &released).await;
    let deadline = Instant::now() + Duration::from_secs(15);
    let contract = loop {
        let now = get(app, &buyer, &contract.id).await.unwrap();
        if now.status == pb::ContractStatus::Completed as i32 {
            break now;
        }
        assert!(Instant::now() < deadline, "never completed");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    Done {
        shop,
        buyer,
        contract,
    }
}

async fn review(
    app: &TestApp,
    user: &TestUser,
    contract: &pb::Contract,
    rating: i32,
) -> Result<pb::Contract, tonic::Status> {
    review_with(app, user, contract, rating, vec![]).await
}

async fn review_with(
    app: &TestApp,
    user: &TestUser,
    contract: &pb::Contract,
    rating: i32,
    sub_ratings: Vec<pb::SubRating>,
) -> Result<pb::Contract, tonic::Status> {
    app.contracts
        .clone()
        .submit_review(authed(
            &user.access_token,
            pb::SubmitReviewRequest {
                contract_id: contract.id.clone(),
                rating,
                sub_ratings,
                comment: "Clear, quick and friendly.".into(),
            },
        ))
        .await
        .map(|r| r.into_inner().contract.unwrap())
}

fn sub(aspect: pb::ReviewAspect, rating: i32) -> pb::SubRating {
    pb::SubRating {
        aspect: aspect as i32,
        rating,
    }
}

/// Published reviews of a subject, read without signing in.
async fn public_reviews(
    app: &TestApp,
    subject: pb::list_reviews_request::Subject,
) -> pb::ListReviewsResponse {
    app.contracts
        .clone()
        .list_reviews(tonic::Request::new(pb::ListReviewsRequest {
            subject: Some(subject),
            ..Default::default()
        }))
        .await
        .unwrap()
        .into_inner()
}

/// Also: a public review names its contract to that contract's parties
/// only.
async fn reviews_stay_hidden_until_both_sides_have_written(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let done = completed_order(&app).await;
    let (buyer, seller) = (&done.buyer, &done.shop.seller);
    assert!(done.contract.review_close_time.is_some());
    use pb::ReviewAspect as A;
    let wrong = review_with(
        &app,
        buyer,
        &done.contract,
        6,
        vec![sub(A::Quality, 5), sub(A::Clarity, 5)],
    )
    .await
    .unwrap_err();
    assert_eq!(violated_fields(&wrong), ["rating", "sub_ratings[1].aspect"]);
    let mine = review_with(
        &app,
        buyer,
        &done.contract,
        5,
        vec![sub(A::Quality, 5), sub(A::Communication, 4)],
    )
    .await
    .unwrap();
    assert_eq!(mine.reviews.len(), 1, "its author sees it");
    assert!(mine.reviews[0].publish_time.is_none());
    assert_eq!(mine.reviews[0].sub_ratings.len(), 2);
    let theirs = get(&app, seller, &done.contract.id).await.unwrap();
    assert!(theirs.reviews.is_empty(), "double-blind");
    let seller_subject = pb::list_reviews_request::Subject::RevieweeId(seller.account_id.clone());
    assert!(
        public_reviews(&app, seller_subject.clone())
            .await
            .reviews
            .is_empty()
    );
    let twice = review(&app, buyer, &done.contract, 1).await.unwrap_err();
    assert_eq!(
        (twice.code(), reason(&twice).as_str()),
        (Code::AlreadyExists, "ALREADY_REVIEWED")
    );

    let both = review(&app, seller, &done.contract, 4).await.unwrap();
    assert_eq!(both.reviews.len(), 2);
    assert!(both.reviews.iter().all(|r| r.publish_time.is_some()));
    let events = published::<pb::ReviewPublished>(&app, 2).await;
    assert!(events.iter().any(|e| e.reviewer_id == buyer.account_id
        && e.rating == 5
        && e.gig_id == done.shop.gig.id));

    let listed = public_reviews(&app, seller_subject.clone()).await;
    assert_eq!(listed.reviews.len(), 1);
    assert!(
        listed.reviews[0].contract_id.is_empty(),
        "the contract is its parties' business"
    );
    let by_the_seller = app
        .contracts
        .clone()
        .list_reviews(authed(
            &seller.access_token,
            pb::ListReviewsRequest {
                subject: Some(seller_subject),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(by_the_seller.reviews[0].contract_id, done.contract.id);
    let summary = listed.summary.unwrap();
    assert_eq!((summary.count, summary.average_rating), (1, 5.0));
    assert_eq!(summary.star_counts, [0, 0, 0, 0, 1]);
    let gig = pb::list_reviews_request::Subject::GigId(done.shop.gig.id.clone());
    assert_eq!(public_reviews(&app, gig).await.reviews.len(), 1);

    let review_id = listed.reviews[0].id.clone();
    let reply = |user: &TestUser| {
        let mut contracts = app.contracts.clone();
        let request = authed(
            &user.access_token,
            pb::ReplyToReviewRequest {
                review_id: review_id.clone(),
                reply: "Thank you, a pleasure to work with.".into(),
            },
        );
        async move { contracts.reply_to_review(request).await }
    };
    let not_theirs = reply(buyer).await.unwrap_err();
    assert_eq!(reason(&not_theirs), "REVIEWEE_ONLY");
    let answered = reply(seller).await.unwrap().into_inner().review.unwrap();
    assert!(answered.reply_time.is_some());
    let again = reply(seller).await.unwrap_err();
    assert_eq!(reason(&again), "ALREADY_REPLIED");
}

async fn a_closing_window_publishes_the_review_written(backend: Backend) {
    let clock = TestClock::new();
    let app = TestApp::spawn_timed(backend, clock.clock(), |_| {}).await;
    let done = completed_order(&app).await;
    let close = done.contract.review_close_time.unwrap().seconds;
    assert_eq!(
        close,
        (clock.now() + chrono::Duration::days(14)).timestamp()
    );
    review(&app, &done.buyer, &done.contract, 3).await.unwrap();
    clock.advance(chrono::Duration::days(14) + chrono::Duration::seconds(1));
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let seen = get(&app, &done.shop.seller, &done.contract.id)
            .await
            .unwrap();
        if seen.reviews.len() == 1 {
            assert!(seen.reviews[0].publish_time.is_some());
            break;
        }
        assert!(Instant::now() < deadline, "never published");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    published::<pb::ReviewPublished>(&app, 1).await;
    let late = review(&app, &done.shop.seller, &done.contract, 5)
        .await
        .unwrap_err();
    assert_eq!(reason(&late), "REVIEW_WINDOW_CLOSED");
}

async fn racing_reviews_are_written_and_published_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let done = completed_order(&app).await;
    let mut racers = Vec::new();
    for i in 0..30 {
        let user = if i % 2 == 0 {
            done.buyer.clone()
        } else {
            done.shop.seller.clone()
        };
        let mut contracts = app.contracts.clone();
        let request = pb::SubmitReviewRequest {
            contract_id: done.contract.id.clone(),
            rating: 4,
            sub_ratings: vec![],
            comment: String::new(),
        };
        racers.push(tokio::spawn(async move {
            contracts
                .submit_review(authed(&user.access_token, request))
                .await
        }));
    }
    let mut written = 0;
    for racer in racers {
        match racer.await.unwrap() {
            Ok(_) => written += 1,
            Err(status) => assert_eq!(reason(&status), "ALREADY_REVIEWED"),
        }
    }
    assert_eq!(written, 2, "one review per side");
    published::<pb::ReviewPublished>(&app, 2).await;
}

on_both_backends!(
    reviews_stay_hidden_until_both_sides_have_written,
    a_closing_window_publishes_the_review_written,
    racing_reviews_are_written_and_published_once,
);
