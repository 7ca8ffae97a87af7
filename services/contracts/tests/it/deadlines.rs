//! A gig order's deadline on both backends, on a moved clock: marked late
//! when its due time passes, extended by the buyer's consent (no longer
//! late), cancelled alone by the buyer of a late order with a full refund;
//! the orders pages' tabs (stages) and their counts follow.

use std::time::{Duration, Instant};

use frevix_proto::contracts::v1 as pb;
use frevix_proto::marketplace::v1 as marketplace;
use frevix_testkit::status::reason;
use frevix_testkit::{Backend, TestApp, TestClock, TestUser, authed, on_both_backends};

use crate::shop::*;
use crate::support::*;

use pb::ContractStage as S;

async fn ask_days(
    app: &TestApp,
    user: &TestUser,
    contract: &pb::Contract,
    days: i32,
) -> Result<pb::Contract, tonic::Status> {
    app.contracts
        .clone()
        .request_extension(authed(
            &user.access_token,
            pb::RequestExtensionRequest {
                contract_id: contract.id.clone(),
                days,
                reason: "The client's brand guide arrived late.".into(),
            },
        ))
        .await
        .map(|r| r.into_inner().contract.unwrap())
}

async fn grant(
    app: &TestApp,
    user: &TestUser,
    contract: &pb::Contract,
    yes: bool,
) -> Result<pb::Contract, tonic::Status> {
    let contract_id = contract.id.clone();
    let mut contracts = app.contracts.clone();
    if yes {
        let request = pb::AcceptExtensionRequest { contract_id };
        contracts
            .accept_extension(authed(&user.access_token, request))
            .await
            .map(|r| r.into_inner().contract.unwrap())
    } else {
        let request = pb::DeclineExtensionRequest { contract_id };
        contracts
            .decline_extension(authed(&user.access_token, request))
            .await
            .map(|r| r.into_inner().contract.unwrap())
    }
}

async fn cancel_late(
    app: &TestApp,
    user: &TestUser,
    contract: &pb::Contract,
) -> Result<pb::Contract, tonic::Status> {
    app.contracts
        .clone()
        .cancel_late_order(authed(
            &user.access_token,
            pb::CancelLateOrderRequest {
                contract_id: contract.id.clone(),
                reason: "I needed it for the launch.".into(),
            },
        ))
        .await
        .map(|r| r.into_inner().contract.unwrap())
}

/// The contract once it is in `stage` (a timer moves it).
async fn in_stage(app: &TestApp, user: &TestUser, id: &str, stage: S) -> pb::Contract {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let contract = get(app, user, id).await.unwrap();
        if contract.stage == stage as i32 {
            return contract;
        }
        assert!(
            Instant::now() < deadline,
            "never {stage:?}: {:?}",
            contract.stage
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn tab_count(app: &TestApp, user: &TestUser, role: pb::ContractRole, stage: S) -> i64 {
    let counts = app
        .contracts
        .clone()
        .count_contracts(authed(
            &user.access_token,
            pb::CountContractsRequest { role: role as i32 },
        ))
        .await
        .unwrap()
        .into_inner()
        .counts;
    assert_eq!(counts.len(), 7, "every stage, zeros included");
    counts
        .iter()
        .find(|c| c.stage == stage as i32)
        .map_or(0, |c| c.count)
}

async fn a_late_order_is_marked_extended_and_cancelled_by_its_buyer(backend: Backend) {
    let clock = TestClock::new();
    let app = TestApp::spawn_timed(backend, clock.clock(), |_| {}).await;
    let shop = open_quiet_shop(&app).await;
    let buyer = app.register().await;
    let seller = &shop.seller;
    let placed = place(
        &app,
        &buyer,
        order(&shop, marketplace::PackageTier::Basic, 1),
        None,
    )
    .await
    .unwrap();
    assert_eq!(placed.stage, S::PendingFunding as i32);
    let contract = fund(&app, &shop, &buyer, &placed).await;
    assert_eq!(contract.stage, S::Active as i32);
    let due = contract.order.as_ref().unwrap().due_time.unwrap().seconds;
    assert_eq!(
        due,
        (clock.now() + chrono::Duration::days(4)).timestamp(),
        "Basic's 3 days and the extra's 1, from funding"
    );
    let seller_role = pb::ContractRole::Freelancer;
    assert_eq!(tab_count(&app, seller, seller_role, S::Active).await, 1);

    // Not late yet: the buyer cannot cancel alone.
    let early = cancel_late(&app, &buyer, &contract).await.unwrap_err();
    assert_eq!(reason(&early), "ORDER_NOT_LATE");
    // Asked and refused: the due time stays.
    let asked = ask_days(&app, seller, &contract, 2).await.unwrap();
    assert_eq!(asked.order.unwrap().pending_extension.unwrap().days, 2);
    let twice = ask_days(&app, seller, &contract, 2).await.unwrap_err();
    assert_eq!(reason(&twice), "EXTENSION_PENDING");
    let not_buyer = grant(&app, seller, &contract, true).await.unwrap_err();
    assert_eq!(reason(&not_buyer), "CLIENT_ONLY");
    let refused = grant(&app, &buyer, &contract, false).await.unwrap();
    let terms = refused.order.unwrap();
    assert!(terms.pending_extension.is_none());
    assert_eq!(terms.due_time.unwrap().seconds, due);
    let none = grant(&app, &buyer, &contract, true).await.unwrap_err();
    assert_eq!(reason(&none), "NO_EXTENSION_PENDING");

    // The due time passes: late.
    clock.advance(chrono::Duration::days(4) + chrono::Duration::seconds(1));
    let late = in_stage(&app, &buyer, &contract.id, S::Late).await;
    assert!(late.order.as_ref().unwrap().late_time.is_some());
    assert_eq!(late.timeline.last().unwrap().action, "ORDER_LATE");
    assert_eq!(tab_count(&app, seller, seller_role, S::Late).await, 1);
    assert_eq!(tab_count(&app, seller, seller_role, S::Active).await, 0);
    let tab = list(
        &app,
        &buyer,
        pb::ListContractsRequest {
            stage: S::Late as i32,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(tab.contracts.len(), 1);

    // Three more days granted: due later, no longer late.
    ask_days(&app, seller, &contract, 3).await.unwrap();
    let extended = grant(&app, &buyer, &contract, true).await.unwrap();
    assert_eq!(extended.stage, S::Active as i32);
    let terms = extended.order.unwrap();
    assert!(terms.late_time.is_none());
    assert_eq!(terms.due_time.unwrap().seconds, due + 3 * 24 * 3600);
    let early = cancel_late(&app, &buyer, &contract).await.unwrap_err();
    assert_eq!(reason(&early), "ORDER_NOT_LATE");

    clock.advance(chrono::Duration::days(3));
    in_stage(&app, &buyer, &contract.id, S::Late).await;
    let not_seller = cancel_late(&app, seller, &contract).await.unwrap_err();
    assert_eq!(reason(&not_seller), "CLIENT_ONLY");
    let cancelled = cancel_late(&app, &buyer, &contract).await.unwrap();
    assert_eq!(cancelled.status, pb::ContractStatus::Cancelled as i32);
    assert_eq!(cancelled.stage, S::Cancelled as i32);
    let events = published::<pb::ContractCancelled>(&app, 1).await;
    let settlement = &events[0].settlements[0];
    assert_eq!(
        settlement.refund.as_ref().unwrap().minor_units,
        contract.milestones[0].amount.as_ref().unwrap().minor_units,
        "a late order's buyer gets everything back"
    );
    assert_eq!(settlement.release.as_ref().unwrap().minor_units, 0);
}

async fn a_delivery_waiting_past_the_due_time_is_not_late(backend: Backend) {
    let clock = TestClock::new();
    let app = TestApp::spawn_timed(backend, clock.clock(), |_| {}).await;
    let shop = open_quiet_shop(&app).await;
    let buyer = app.register().await;
    let placed = place(
        &app,
        &buyer,
        order(&shop, marketplace::PackageTier::Basic, 1),
        None,
    )
    .await
    .unwrap();
    let contract = fund(&app, &shop, &buyer, &placed).await;
    let delivered = app
        .contracts
        .clone()
        .submit_delivery(authed(
            &shop.seller.access_token,
            pb::SubmitDeliveryRequest {
                contract_id: contract.id.clone(),
                milestone_id: contract.milestones[0].id.clone(),
                message: "Three concepts attached.".into(),
                attachment_ids: vec![],
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .contract
        .unwrap();
    assert_eq!(delivered.stage, S::Delivered as i32);
    assert_eq!(
        tab_count(&app, &buyer, pb::ContractRole::Client, S::Delivered).await,
        1
    );
    // The review window (3 days) approves the delivery before the due
    // time (4 days) passes.
    clock.advance(chrono::Duration::days(3) + chrono::Duration::seconds(1));
    let approved = in_stage(&app, &buyer, &contract.id, S::Active).await;
    assert_eq!(
        approved.milestones[0].status,
        pb::MilestoneStatus::Approved as i32
    );
    clock.advance(chrono::Duration::days(1));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let after = get(&app, &buyer, &contract.id).await.unwrap();
    assert!(
        after.order.unwrap().late_time.is_none(),
        "an approved delivery is never late"
    );
    let refused = cancel_late(&app, &buyer, &contract).await.unwrap_err();
    assert_eq!(reason(&refused), "ORDER_NOT_LATE");
}

/// 30 requests for more days at once, then 30 answers at once: one
/// request stands, one answer decides, the due time moves once at most.
async fn thirty_racing_extension_requests_and_answers_count_once(backend: Backend) {
    let app = std::sync::Arc::new(TestApp::spawn(backend).await);
    let shop = open_quiet_shop(&app).await;
    let buyer = app.register().await;
    let placed = place(
        &app,
        &buyer,
        order(&shop, marketplace::PackageTier::Basic, 1),
        None,
    )
    .await
    .unwrap();
    let contract = fund(&app, &shop, &buyer, &placed).await;
    let due = contract.order.as_ref().unwrap().due_time.unwrap().seconds;
    let mut askers = Vec::new();
    for i in 0..30 {
        let (app_contracts, seller, contract) =
            (app.contracts.clone(), shop.seller.clone(), contract.clone());
        askers.push(tokio::spawn(async move {
            let request = pb::RequestExtensionRequest {
                contract_id: contract.id.clone(),
                days: 1 + i % 5,
                reason: "The assets came late.".into(),
            };
            app_contracts
                .clone()
                .request_extension(authed(&seller.access_token, request))
                .await
                .map(|r| r.into_inner().contract.unwrap())
        }));
    }
    let mut granted_days = Vec::new();
    for asker in askers {
        match asker.await.unwrap() {
            Ok(c) => granted_days.push(c.order.unwrap().pending_extension.unwrap().days),
            Err(status) => assert_eq!(reason(&status), "EXTENSION_PENDING"),
        }
    }
    assert_eq!(
        granted_days.len(),
        1,
        "one request stands: {granted_days:?}"
    );
    let days = i64::from(granted_days[0]);

    let mut answers = Vec::new();
    for i in 0..30 {
        let (app, buyer, contract) = (app.clone(), buyer.clone(), contract.clone());
        answers.push(tokio::spawn(async move {
            grant(&app, &buyer, &contract, i % 2 == 0)
                .await
                .map(|_| i % 2 == 0)
        }));
    }
    let mut decided = Vec::new();
    for answer in answers {
        match answer.await.unwrap() {
            Ok(accepted) => decided.push(accepted),
            Err(status) => assert_eq!(reason(&status), "NO_EXTENSION_PENDING"),
        }
    }
    assert_eq!(decided.len(), 1, "one answer decides: {decided:?}");
    let now = get(&app, &buyer, &contract.id).await.unwrap();
    let terms = now.order.unwrap();
    assert!(terms.pending_extension.is_none());
    let expected = if decided[0] {
        due + days * 24 * 3600
    } else {
        due
    };
    assert_eq!(terms.due_time.unwrap().seconds, expected);
}

on_both_backends!(
    a_late_order_is_marked_extended_and_cancelled_by_its_buyer,
    a_delivery_waiting_past_the_due_time_is_not_late,
    thirty_racing_extension_requests_and_answers_count_once,
);
