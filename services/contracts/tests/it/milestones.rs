//! The milestone loop through the API and payments' events, on both
//! backends: funded by EscrowFunded, delivered, sent back for changes,
//! delivered again, approved (by the client, or by the review window on a
//! moved clock), released by EscrowReleased, the contract completed. Each
//! step only by its party, in its state; 30 racing approvals make one.

use std::time::{Duration, Instant};

use frevix_proto::contracts::v1 as pb;
use frevix_testkit::status::reason;
use frevix_testkit::{Backend, TestApp, TestClock, authed, on_both_backends};

use crate::hiring::*;
use crate::support::*;

use pb::MilestoneStatus as M;

async fn a_milestone_goes_from_funding_to_release_and_the_contract_completes(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let hire = hire(&app).await;
    let (client, freelancer) = (&hire.client, &hire.freelancer);
    let refused = submit(&app, &hire, freelancer, 0).await.unwrap_err();
    assert_eq!(reason(&refused), "MILESTONE_NOT_FUNDED");

    let contract = escrow(&app, &hire, &funded(&hire, 0), |c| {
        status_of(c, 0) == M::Funded as i32
    })
    .await;
    assert_eq!(contract.status, pb::ContractStatus::Active as i32);

    // Each step by its party only; a stranger sees nothing.
    let wrong = submit(&app, &hire, client, 0).await.unwrap_err();
    assert_eq!(wrong.code(), tonic::Code::PermissionDenied);
    assert_eq!(reason(&wrong), "FREELANCER_ONLY");
    let stranger = app.register().await;
    let hidden = submit(&app, &hire, &stranger, 0).await.unwrap_err();
    assert_eq!(hidden.code(), tonic::Code::NotFound);

    let delivered = submit(&app, &hire, freelancer, 0).await.unwrap();
    let m = &delivered.milestones[0];
    assert_eq!(m.status, M::Submitted as i32);
    assert_eq!(m.deliveries.len(), 1);
    assert!(m.auto_approve_time.is_some(), "the review window runs");
    let next = delivered.next_actions.clone().unwrap();
    assert!(next.client.contains(&format!("ApproveMilestone:{}", m.id)));
    assert!(
        !next
            .freelancer
            .contains(&format!("SubmitDelivery:{}", m.id))
    );
    let wrong = approve(&app, &hire, freelancer, 0).await.unwrap_err();
    assert_eq!(reason(&wrong), "CLIENT_ONLY");

    let revised = revise(&app, &hire, client, 0).await.unwrap();
    assert_eq!(status_of(&revised, 0), M::RevisionRequested as i32);
    assert!(
        revised.milestones[0].auto_approve_time.is_none(),
        "a revision request stops the clock"
    );
    let early = approve(&app, &hire, client, 0).await.unwrap_err();
    assert_eq!(reason(&early), "MILESTONE_NOT_SUBMITTED");

    submit(&app, &hire, freelancer, 0).await.unwrap();
    let approved = approve(&app, &hire, client, 0).await.unwrap();
    assert_eq!(status_of(&approved, 0), M::Approved as i32);
    assert!(approved.milestones[0].auto_approve_time.is_none());
    // Approving again answers the same, and changes nothing.
    assert_eq!(
        status_of(&approve(&app, &hire, client, 0).await.unwrap(), 0),
        M::Approved as i32
    );

    let contract = escrow(&app, &hire, &released(&hire, 0), |c| {
        status_of(c, 0) == M::Released as i32
    })
    .await;
    assert_eq!(
        contract.status,
        pb::ContractStatus::Active as i32,
        "one milestone is still to do"
    );

    escrow(&app, &hire, &funded(&hire, 1), |c| {
        status_of(c, 1) == M::Funded as i32
    })
    .await;
    submit(&app, &hire, freelancer, 1).await.unwrap();
    approve(&app, &hire, client, 1).await.unwrap();
    let done = escrow(&app, &hire, &released(&hire, 1), |c| {
        status_of(c, 1) == M::Released as i32
    })
    .await;
    assert_eq!(done.status, pb::ContractStatus::Completed as i32);
    let actions: Vec<&str> = done.timeline.iter().map(|t| t.action.as_str()).collect();
    assert_eq!(
        actions,
        [
            "CONTRACT_CREATED",
            "MILESTONE_FUNDED",
            "MILESTONE_SUBMITTED",
            "REVISION_REQUESTED",
            "MILESTONE_SUBMITTED",
            "MILESTONE_APPROVED",
            "MILESTONE_RELEASED",
            "MILESTONE_FUNDED",
            "MILESTONE_SUBMITTED",
            "MILESTONE_APPROVED",
            "MILESTONE_RELEASED",
            "CONTRACT_COMPLETED",
        ]
    );
    published::<pb::MilestoneSubmitted>(&app, 3).await;
    published::<pb::MilestoneRevisionRequested>(&app, 1).await;
    published::<pb::MilestoneApproved>(&app, 2).await;
    published::<pb::ContractCompleted>(&app, 1).await;
    // A late repeat of a payments event changes nothing.
    app.publish_as("payments", &hire.contract.id, &released(&hire, 1))
        .await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        get(&app, client, &hire.contract.id)
            .await
            .unwrap()
            .timeline
            .len(),
        actions.len()
    );
}

async fn thirty_racing_approvals_approve_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let hire = hire(&app).await;
    escrow(&app, &hire, &funded(&hire, 0), |c| {
        status_of(c, 0) == M::Funded as i32
    })
    .await;
    submit(&app, &hire, &hire.freelancer, 0).await.unwrap();
    let mut racers = Vec::new();
    for _ in 0..30 {
        let mut client = app.contracts.clone();
        let request = pb::ApproveMilestoneRequest {
            contract_id: hire.contract.id.clone(),
            milestone_id: hire.contract.milestones[0].id.clone(),
        };
        let token = hire.client.access_token.clone();
        racers.push(tokio::spawn(async move {
            client.approve_milestone(authed(&token, request)).await
        }));
    }
    for racer in racers {
        let answer = racer.await.unwrap().unwrap().into_inner().contract.unwrap();
        assert_eq!(status_of(&answer, 0), M::Approved as i32);
    }
    published::<pb::MilestoneApproved>(&app, 1).await;
}

async fn an_unanswered_delivery_is_approved_when_its_window_passes(backend: Backend) {
    let clock = TestClock::new();
    let app = TestApp::spawn_timed(backend, clock.clock(), |_| {}).await;
    let hire = hire(&app).await;
    escrow(&app, &hire, &funded(&hire, 0), |c| {
        status_of(c, 0) == M::Funded as i32
    })
    .await;
    let delivered = submit(&app, &hire, &hire.freelancer, 0).await.unwrap();
    let due = delivered.milestones[0].auto_approve_time.unwrap();
    assert_eq!(
        due.seconds,
        (clock.now() + chrono::Duration::days(14)).timestamp(),
        "job milestones get 14 days"
    );
    // A day before: nothing happens.
    clock.advance(chrono::Duration::days(13));
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert_eq!(
        status_of(
            &get(&app, &hire.client, &hire.contract.id).await.unwrap(),
            0
        ),
        M::Submitted as i32
    );
    clock.advance(chrono::Duration::days(1) + chrono::Duration::seconds(1));
    let deadline = Instant::now() + Duration::from_secs(15);
    let contract = loop {
        let contract = get(&app, &hire.client, &hire.contract.id).await.unwrap();
        if status_of(&contract, 0) == M::Approved as i32 {
            break contract;
        }
        assert!(Instant::now() < deadline, "never approved by the clock");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let last = contract.timeline.last().unwrap();
    assert_eq!(last.action, "MILESTONE_APPROVED");
    assert!(
        last.actor_id.is_empty(),
        "approved by Frevix, not by the client"
    );
    let automatic: Vec<bool> = published::<pb::MilestoneApproved>(&app, 1)
        .await
        .iter()
        .map(|approved| approved.automatic)
        .collect();
    assert_eq!(automatic, [true]);
    // The client's late click answers the approved milestone and adds nothing.
    approve(&app, &hire, &hire.client, 0).await.unwrap();
    published::<pb::MilestoneApproved>(&app, 1).await;
}

/// Payments' events repeated (under new event ids) or early change
/// nothing: one funding, and a release before the approval is ignored.
async fn repeated_and_early_escrow_events_change_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let hire = hire(&app).await;
    escrow(&app, &hire, &funded(&hire, 0), |c| {
        status_of(c, 0) == M::Funded as i32
    })
    .await;
    // The same funding again, and a release nobody approved.
    app.publish_as("payments", &hire.contract.id, &funded(&hire, 0))
        .await;
    app.publish_as("payments", &hire.contract.id, &released(&hire, 0))
        .await;
    // A later event of the same stream shows both were handled.
    let contract = escrow(&app, &hire, &funded(&hire, 1), |c| {
        status_of(c, 1) == M::Funded as i32
    })
    .await;
    assert_eq!(status_of(&contract, 0), M::Funded as i32);
    let fundings = contract
        .timeline
        .iter()
        .filter(|t| t.action == "MILESTONE_FUNDED")
        .count();
    assert_eq!(fundings, 2, "one per milestone");
    assert!(
        !contract
            .timeline
            .iter()
            .any(|t| t.action == "MILESTONE_RELEASED")
    );
    // The work goes on as if nothing had come.
    submit(&app, &hire, &hire.freelancer, 0).await.unwrap();
    approve(&app, &hire, &hire.client, 0).await.unwrap();
    let paid = escrow(&app, &hire, &released(&hire, 0), |c| {
        status_of(c, 0) == M::Released as i32
    })
    .await;
    assert_eq!(paid.status, pb::ContractStatus::Active as i32);
}

on_both_backends!(
    repeated_and_early_escrow_events_change_nothing,
    a_milestone_goes_from_funding_to_release_and_the_contract_completes,
    thirty_racing_approvals_approve_once,
    an_unanswered_delivery_is_approved_when_its_window_passes,
);
