//! A gig order's requirements and revisions on both backends: deliveries
//! wait for the buyer's answers (every required one), the delivery clock
//! starts with them (or at funding when nothing is asked), and the package's
//! revisions are all the buyer may ask for.

use frevix_proto::contracts::v1 as pb;
use frevix_proto::marketplace::v1 as marketplace;
use frevix_testkit::status::{reason, violated_fields};
use frevix_testkit::{Backend, TestApp, authed, on_both_backends};

use crate::shop::*;
use crate::support::get;

async fn a_gig_order_allows_its_packages_revisions(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = open_shop(&app).await;
    let buyer = app.register().await;
    // Basic includes one revision.
    let contract = place(
        &app,
        &buyer,
        order(&shop, marketplace::PackageTier::Basic, 1),
        None,
    )
    .await
    .unwrap();
    let milestone = contract.milestones[0].clone();
    fund(&app, &shop, &buyer, &contract).await;
    let mut contracts = app.contracts.clone();
    let early = contracts
        .submit_delivery(authed(
            &shop.seller.access_token,
            pb::SubmitDeliveryRequest {
                contract_id: contract.id.clone(),
                milestone_id: milestone.id.clone(),
                message: "Too soon.".into(),
                attachment_ids: vec![],
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(reason(&early), "REQUIREMENTS_PENDING");
    let answers = |with_required: bool| pb::SubmitRequirementsRequest {
        contract_id: contract.id.clone(),
        answers: [(0, "Acme", with_required), (1, "Dark blue", true)]
            .into_iter()
            .filter(|(_, _, keep)| *keep)
            .map(|(i, text, _)| pb::RequirementAnswer {
                question_id: shop.gig.requirements[i].id.clone(),
                answer: text.into(),
            })
            .collect(),
    };
    let not_seller = contracts
        .submit_requirements(authed(&shop.seller.access_token, answers(true)))
        .await
        .unwrap_err();
    assert_eq!(reason(&not_seller), "CLIENT_ONLY");
    let missing = contracts
        .submit_requirements(authed(&buyer.access_token, answers(false)))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&missing), ["answers"]);
    let started = contracts
        .submit_requirements(authed(&buyer.access_token, answers(true)))
        .await
        .unwrap()
        .into_inner()
        .contract
        .unwrap();
    let terms = started.order.unwrap();
    let since = terms.requirements_time.unwrap().seconds;
    // Basic's 3 days and the extra's 1.
    assert_eq!(terms.due_time.unwrap().seconds - since, 4 * 24 * 3600);
    assert_eq!(started.milestones[0].due_time, terms.due_time);
    assert_eq!(terms.answers.len(), 2);
    let again = contracts
        .submit_requirements(authed(&buyer.access_token, answers(true)))
        .await
        .unwrap_err();
    assert_eq!(reason(&again), "REQUIREMENTS_ALREADY_SUBMITTED");
    let deliver = || pb::SubmitDeliveryRequest {
        contract_id: contract.id.clone(),
        milestone_id: milestone.id.clone(),
        message: "Three concepts attached.".into(),
        attachment_ids: vec![],
    };
    let revise = || pb::RequestRevisionRequest {
        contract_id: contract.id.clone(),
        milestone_id: milestone.id.clone(),
        reason: "A darker blue, please.".into(),
    };
    let mut contracts = app.contracts.clone();
    contracts
        .submit_delivery(authed(&shop.seller.access_token, deliver()))
        .await
        .unwrap();
    contracts
        .request_revision(authed(&buyer.access_token, revise()))
        .await
        .unwrap();
    let answer = contracts
        .submit_delivery(authed(&shop.seller.access_token, deliver()))
        .await
        .unwrap();
    let delivered = answer.into_inner().contract.unwrap();
    assert_eq!(delivered.milestones[0].deliveries.len(), 2);
    // The order gets a shorter review window than a job milestone.
    let window = delivered.milestones[0].auto_approve_time.unwrap().seconds
        - delivered.timeline.last().unwrap().time.unwrap().seconds;
    assert!((window - 3 * 24 * 3600).abs() <= 1, "{window} s");
    let exhausted = contracts
        .request_revision(authed(&buyer.access_token, revise()))
        .await
        .unwrap_err();
    assert_eq!(exhausted.code(), tonic::Code::FailedPrecondition);
    assert_eq!(reason(&exhausted), "REVISIONS_EXHAUSTED");
}

async fn a_gig_that_asks_nothing_starts_its_clock_when_funded(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = open_quiet_shop(&app).await;
    let buyer = app.register().await;
    let contract = place(
        &app,
        &buyer,
        order(&shop, marketplace::PackageTier::Basic, 1),
        None,
    )
    .await
    .unwrap();
    let milestone = contract.milestones[0].clone();
    let terms = fund(&app, &shop, &buyer, &contract).await.order.unwrap();
    assert!(
        terms.requirements_time.is_some(),
        "nothing asked: the clock runs from funding"
    );
    assert_eq!(
        terms.due_time.unwrap().seconds - terms.requirements_time.unwrap().seconds,
        4 * 24 * 3600
    );
    app.contracts
        .clone()
        .submit_delivery(authed(
            &shop.seller.access_token,
            pb::SubmitDeliveryRequest {
                contract_id: contract.id.clone(),
                milestone_id: milestone.id.clone(),
                message: "Done.".into(),
                attachment_ids: vec![],
            },
        ))
        .await
        .unwrap();
}

async fn thirty_racing_answers_start_the_clock_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let shop = open_shop(&app).await;
    let buyer = app.register().await;
    let contract = place(
        &app,
        &buyer,
        order(&shop, marketplace::PackageTier::Basic, 1),
        None,
    )
    .await
    .unwrap();
    fund(&app, &shop, &buyer, &contract).await;
    let mut racers = Vec::new();
    for i in 0..30 {
        let mut client = app.contracts.clone();
        let request = pb::SubmitRequirementsRequest {
            contract_id: contract.id.clone(),
            answers: vec![pb::RequirementAnswer {
                question_id: shop.gig.requirements[0].id.clone(),
                answer: format!("Acme {i}"),
            }],
        };
        let token = buyer.access_token.clone();
        racers.push(tokio::spawn(async move {
            client.submit_requirements(authed(&token, request)).await
        }));
    }
    let mut accepted = 0;
    for racer in racers {
        match racer.await.unwrap() {
            Ok(_) => accepted += 1,
            Err(status) => assert_eq!(reason(&status), "REQUIREMENTS_ALREADY_SUBMITTED"),
        }
    }
    assert_eq!(accepted, 1, "one set of answers starts the clock");
    let now = get(&app, &buyer, &contract.id).await.unwrap();
    let starts = now
        .timeline
        .iter()
        .filter(|t| t.action == "REQUIREMENTS_SUBMITTED")
        .count();
    assert_eq!(starts, 1);
    assert_eq!(now.order.unwrap().answers.len(), 1);
}

on_both_backends!(
    thirty_racing_answers_start_the_clock_once,
    a_gig_order_allows_its_packages_revisions,
    a_gig_that_asks_nothing_starts_its_clock_when_funded,
);
