//! Ending a contract early, on both backends: a cancellation request with
//! a proposed refund, answered by the other party (accepted: the escrow
//! divided as proposed; declined or withdrawn: the work goes on), or
//! accepted when its window passes on a moved clock; racing answers decide
//! once; EndContract with nothing in escrow.

use std::time::{Duration, Instant};

use frevix_proto::common::v1::Money;
use frevix_proto::contracts::v1 as pb;
use frevix_proto::payments::v1 as payments;
use frevix_testkit::status::{reason, violated_fields};
use frevix_testkit::{Backend, TestApp, TestClock, TestUser, authed, on_both_backends};

use crate::hiring::*;
use crate::support::*;

use pb::CancellationStatus as C;
use pb::MilestoneStatus as M;

pub async fn request_cancellation(
    app: &TestApp,
    hire: &Hire,
    user: &TestUser,
    refund: Option<Money>,
) -> Result<pb::Contract, tonic::Status> {
    app.contracts
        .clone()
        .request_cancellation(authed(
            &user.access_token,
            pb::RequestCancellationRequest {
                contract_id: hire.contract.id.clone(),
                reason: "The scope changed; we no longer need the deployment.".into(),
                refund,
            },
        ))
        .await
        .map(|r| r.into_inner().contract.unwrap())
}

async fn accept(
    app: &TestApp,
    hire: &Hire,
    user: &TestUser,
) -> Result<pb::Contract, tonic::Status> {
    app.contracts
        .clone()
        .accept_cancellation(authed(
            &user.access_token,
            pb::AcceptCancellationRequest {
                contract_id: hire.contract.id.clone(),
            },
        ))
        .await
        .map(|r| r.into_inner().contract.unwrap())
}

async fn decline(
    app: &TestApp,
    hire: &Hire,
    user: &TestUser,
) -> Result<pb::Contract, tonic::Status> {
    app.contracts
        .clone()
        .decline_cancellation(authed(
            &user.access_token,
            pb::DeclineCancellationRequest {
                contract_id: hire.contract.id.clone(),
                reason: "The work is nearly done.".into(),
            },
        ))
        .await
        .map(|r| r.into_inner().contract.unwrap())
}

async fn end(app: &TestApp, hire: &Hire, user: &TestUser) -> Result<pb::Contract, tonic::Status> {
    app.contracts
        .clone()
        .end_contract(authed(
            &user.access_token,
            pb::EndContractRequest {
                contract_id: hire.contract.id.clone(),
                reason: String::new(),
            },
        ))
        .await
        .map(|r| r.into_inner().contract.unwrap())
}

/// Funds milestone `i` and waits until it is.
pub async fn fund(app: &TestApp, hire: &Hire, i: usize) {
    escrow(app, hire, &funded(hire, i), |c| {
        status_of(c, i) == M::Funded as i32
    })
    .await;
}

fn cancellation_status(contract: &pb::Contract) -> i32 {
    contract.cancellation.as_ref().unwrap().status
}

async fn an_accepted_request_divides_the_escrow_and_ends_the_contract(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let hire = hire(&app).await;
    let (client, freelancer) = (&hire.client, &hire.freelancer);
    fund(&app, &hire, 0).await;
    submit(&app, &hire, freelancer, 0).await.unwrap();

    let stranger = app.register().await;
    let hidden = request_cancellation(&app, &hire, &stranger, usd(0))
        .await
        .unwrap_err();
    assert_eq!(hidden.code(), tonic::Code::NotFound);
    let too_much = request_cancellation(&app, &hire, freelancer, usd(100_001))
        .await
        .unwrap_err();
    assert_eq!(too_much.code(), tonic::Code::InvalidArgument);
    assert_eq!(violated_fields(&too_much), ["refund.minor_units"]);
    let euros = Some(Money {
        currency_code: "EUR".into(),
        minor_units: 10,
    });
    let wrong = request_cancellation(&app, &hire, freelancer, euros)
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&wrong), ["refund.currency_code"]);

    let asked = request_cancellation(&app, &hire, freelancer, usd(40_000))
        .await
        .unwrap();
    assert_eq!(cancellation_status(&asked), C::Open as i32);
    assert!(
        asked
            .cancellation
            .as_ref()
            .unwrap()
            .auto_accept_time
            .is_some()
    );
    assert!(
        asked.milestones[0].auto_approve_time.is_none(),
        "a waiting request stops the review window"
    );
    assert_eq!(asked.in_escrow.as_ref().unwrap().minor_units, 100_000);

    // The work is held; one request at a time; the other party answers.
    let held = approve(&app, &hire, client, 0).await.unwrap_err();
    assert_eq!(reason(&held), "CANCELLATION_PENDING");
    let again = request_cancellation(&app, &hire, client, usd(0))
        .await
        .unwrap_err();
    assert_eq!(reason(&again), "CANCELLATION_PENDING");
    let own = accept(&app, &hire, freelancer).await.unwrap_err();
    assert_eq!(own.code(), tonic::Code::PermissionDenied);
    assert_eq!(reason(&own), "OTHER_PARTY_ONLY");

    let cancelled = accept(&app, &hire, client).await.unwrap();
    assert_eq!(cancelled.status, pb::ContractStatus::Cancelled as i32);
    assert_eq!(cancellation_status(&cancelled), C::Accepted as i32);
    assert_eq!(
        cancelled.cancellation.as_ref().unwrap().answered_by,
        client.account_id
    );
    assert_eq!(status_of(&cancelled, 0), M::Settling as i32);
    assert_eq!(
        cancelled.milestones[0]
            .settled_refund
            .as_ref()
            .unwrap()
            .minor_units,
        40_000
    );
    assert_eq!(status_of(&cancelled, 1), M::Cancelled as i32);
    // A retried accept answers the same.
    let retried = accept(&app, &hire, client).await.unwrap();
    assert_eq!(retried.status, pb::ContractStatus::Cancelled as i32);

    let events = published::<pb::ContractCancelled>(&app, 1).await;
    assert_eq!(events[0].cancelled_by, freelancer.account_id);
    // Messaging tells the parties, from these events.
    use frevix_proto::messaging::v1::NotificationKind as N;
    notified(&app, client, N::CancellationRequested).await;
    notified(&app, freelancer, N::ContractCancelled).await;
    let split: Vec<(String, i64, i64)> = events[0]
        .settlements
        .iter()
        .map(|s| {
            (
                s.milestone_id.clone(),
                s.refund.as_ref().unwrap().minor_units,
                s.release.as_ref().unwrap().minor_units,
            )
        })
        .collect();
    assert_eq!(
        split,
        [(hire.contract.milestones[0].id.clone(), 40_000, 60_000)]
    );
    published::<pb::CancellationRequested>(&app, 1).await;

    // Payments moves the money as settled: the milestone ends split.
    let m = &hire.contract.milestones[0];
    let refunded = payments::EscrowRefunded {
        contract_id: hire.contract.id.clone(),
        milestone_id: m.id.clone(),
        client_id: client.account_id.clone(),
        freelancer_id: freelancer.account_id.clone(),
        amount: usd(40_000),
    };
    escrow(&app, &hire, &refunded, |c| {
        c.timeline.iter().any(|t| t.action == "MILESTONE_REFUNDED")
    })
    .await;
    let paid = payments::EscrowReleased {
        contract_id: hire.contract.id.clone(),
        milestone_id: m.id.clone(),
        client_id: client.account_id.clone(),
        freelancer_id: freelancer.account_id.clone(),
        amount: usd(54_000),
        fee: usd(6_000),
        invoice_id: String::new(),
    };
    let done = escrow(&app, &hire, &paid, |c| status_of(c, 0) == M::Split as i32).await;
    assert_eq!(done.status, pb::ContractStatus::Cancelled as i32);
    let actions: Vec<&str> = done.timeline.iter().map(|t| t.action.as_str()).collect();
    for action in [
        "CANCELLATION_REQUESTED",
        "MILESTONE_SETTLING",
        "MILESTONE_CANCELLED",
        "CONTRACT_CANCELLED",
        "MILESTONE_REFUNDED",
        "MILESTONE_RELEASED",
    ] {
        assert!(
            actions.contains(&action),
            "{action} missing from {actions:?}"
        );
    }
}

async fn a_declined_or_withdrawn_request_lets_the_work_go_on(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let hire = hire(&app).await;
    let (client, freelancer) = (&hire.client, &hire.freelancer);
    fund(&app, &hire, 0).await;
    submit(&app, &hire, freelancer, 0).await.unwrap();
    request_cancellation(&app, &hire, client, usd(100_000))
        .await
        .unwrap();
    let declined = decline(&app, &hire, freelancer).await.unwrap();
    assert_eq!(cancellation_status(&declined), C::Declined as i32);
    assert_eq!(declined.status, pb::ContractStatus::Active as i32);
    assert!(
        declined.milestones[0].auto_approve_time.is_some(),
        "the review window runs again"
    );
    // Declining again is a retry; accepting now finds nothing to accept.
    decline(&app, &hire, freelancer).await.unwrap();
    let late = accept(&app, &hire, freelancer).await.unwrap_err();
    assert_eq!(reason(&late), "NO_CANCELLATION_PENDING");

    request_cancellation(&app, &hire, client, usd(0))
        .await
        .unwrap();
    let not_theirs = app
        .contracts
        .clone()
        .withdraw_cancellation(authed(
            &freelancer.access_token,
            pb::WithdrawCancellationRequest {
                contract_id: hire.contract.id.clone(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(reason(&not_theirs), "REQUESTER_ONLY");
    let withdrawn = app
        .contracts
        .clone()
        .withdraw_cancellation(authed(
            &client.access_token,
            pb::WithdrawCancellationRequest {
                contract_id: hire.contract.id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .contract
        .unwrap();
    assert_eq!(cancellation_status(&withdrawn), C::Withdrawn as i32);
    let approved = approve(&app, &hire, client, 0).await.unwrap();
    assert_eq!(status_of(&approved, 0), M::Approved as i32);
    published::<pb::CancellationRequested>(&app, 2).await;
    published::<pb::ContractCancelled>(&app, 0).await;
}

async fn an_unanswered_request_is_accepted_when_its_window_passes(backend: Backend) {
    let clock = TestClock::new();
    let app = TestApp::spawn_timed(backend, clock.clock(), |_| {}).await;
    let hire = hire(&app).await;
    fund(&app, &hire, 0).await;
    let asked = request_cancellation(&app, &hire, &hire.freelancer, usd(100_000))
        .await
        .unwrap();
    let due = asked.cancellation.unwrap().auto_accept_time.unwrap();
    assert_eq!(
        due.seconds,
        (clock.now() + chrono::Duration::days(2)).timestamp()
    );
    clock.advance(chrono::Duration::days(2) + chrono::Duration::seconds(1));
    let deadline = Instant::now() + Duration::from_secs(15);
    let contract = loop {
        let contract = get(&app, &hire.client, &hire.contract.id).await.unwrap();
        if contract.status == pb::ContractStatus::Cancelled as i32 {
            break contract;
        }
        assert!(Instant::now() < deadline, "never accepted by the clock");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let request = contract.cancellation.unwrap();
    assert_eq!(request.status, C::Accepted as i32);
    assert!(request.answered_by.is_empty(), "accepted by the window");
    let events = published::<pb::ContractCancelled>(&app, 1).await;
    assert_eq!(
        events[0].settlements[0]
            .refund
            .as_ref()
            .unwrap()
            .minor_units,
        100_000
    );
}

async fn thirty_racing_answers_decide_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let hire = hire(&app).await;
    fund(&app, &hire, 0).await;
    fund(&app, &hire, 1).await;
    request_cancellation(&app, &hire, &hire.freelancer, usd(150_000))
        .await
        .unwrap();
    let mut racers = Vec::new();
    for i in 0..30 {
        let mut contracts = app.contracts.clone();
        let token = hire.client.access_token.clone();
        let id = hire.contract.id.clone();
        racers.push(tokio::spawn(async move {
            if i % 2 == 0 {
                let request = pb::AcceptCancellationRequest { contract_id: id };
                contracts
                    .accept_cancellation(authed(&token, request))
                    .await
                    .map(|_| "accepted")
            } else {
                let request = pb::DeclineCancellationRequest {
                    contract_id: id,
                    reason: String::new(),
                };
                contracts
                    .decline_cancellation(authed(&token, request))
                    .await
                    .map(|_| "declined")
            }
        }));
    }
    let mut answers = Vec::new();
    for racer in racers {
        match racer.await.unwrap() {
            Ok(answer) => answers.push(answer),
            Err(status) => assert_eq!(reason(&status), "NO_CANCELLATION_PENDING"),
        }
    }
    answers.dedup();
    assert_eq!(answers.len(), 1, "one answer won: {answers:?}");
    let contract = get(&app, &hire.client, &hire.contract.id).await.unwrap();
    if answers[0] == "accepted" {
        assert_eq!(contract.status, pb::ContractStatus::Cancelled as i32);
        let events = published::<pb::ContractCancelled>(&app, 1).await;
        let refunds: i64 = events[0]
            .settlements
            .iter()
            .map(|s| s.refund.as_ref().unwrap().minor_units)
            .sum();
        assert_eq!(refunds, 150_000);
    } else {
        assert_eq!(contract.status, pb::ContractStatus::Active as i32);
        published::<pb::ContractCancelled>(&app, 0).await;
    }
}

async fn a_contract_with_nothing_in_escrow_ends_at_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let unfunded = hire(&app).await;
    let ended = end(&app, &unfunded, &unfunded.freelancer).await.unwrap();
    assert_eq!(ended.status, pb::ContractStatus::Cancelled as i32);
    assert!(
        ended
            .milestones
            .iter()
            .all(|m| m.status == M::Cancelled as i32)
    );
    let events = published::<pb::ContractCancelled>(&app, 1).await;
    assert!(events[0].settlements.is_empty());
    let again = end(&app, &unfunded, &unfunded.client).await.unwrap_err();
    assert_eq!(reason(&again), "CONTRACT_ENDED");
    let none = request_cancellation(&app, &unfunded, &unfunded.client, usd(0))
        .await
        .unwrap_err();
    assert_eq!(reason(&none), "CONTRACT_ENDED");

    let hire = hire(&app).await;
    let (client, freelancer) = (&hire.client, &hire.freelancer);
    let nothing = request_cancellation(&app, &hire, client, usd(0))
        .await
        .unwrap_err();
    assert_eq!(reason(&nothing), "NOTHING_IN_ESCROW");
    fund(&app, &hire, 0).await;
    let held = end(&app, &hire, client).await.unwrap_err();
    assert_eq!(reason(&held), "ESCROW_HELD");
    submit(&app, &hire, freelancer, 0).await.unwrap();
    approve(&app, &hire, client, 0).await.unwrap();
    let held = end(&app, &hire, client).await.unwrap_err();
    assert_eq!(reason(&held), "ESCROW_HELD", "approved, not yet paid out");
    escrow(&app, &hire, &released(&hire, 0), |c| {
        status_of(c, 0) == M::Released as i32
    })
    .await;
    let completed = end(&app, &hire, client).await.unwrap();
    assert_eq!(completed.status, pb::ContractStatus::Completed as i32);
    assert_eq!(status_of(&completed, 1), M::Cancelled as i32);
    let events = published::<pb::ContractCompleted>(&app, 1).await;
    assert_eq!(events[0].total.as_ref().unwrap().minor_units, 100_000);
    let completed_kind = frevix_proto::messaging::v1::NotificationKind::ContractCompleted;
    notified(&app, freelancer, completed_kind).await;
}

on_both_backends!(
    an_accepted_request_divides_the_escrow_and_ends_the_contract,
    a_declined_or_withdrawn_request_lets_the_work_go_on,
    an_unanswered_request_is_accepted_when_its_window_passes,
    thirty_racing_answers_decide_once,
    a_contract_with_nothing_in_escrow_ends_at_once,
);
