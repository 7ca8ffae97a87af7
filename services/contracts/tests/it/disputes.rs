//! Disputes on both backends: opened by a party (replacing a waiting
//! cancellation request and holding every clock and step), statements from
//! both sides, the ADMINs' queue oldest first with escalation on a moved
//! clock, and a resolution dividing the escrow in basis points.

use std::time::{Duration, Instant};

use frevix_proto::contracts::v1 as pb;
use frevix_testkit::status::{reason, violated_fields};
use frevix_testkit::{Backend, TestApp, TestClock, TestUser, authed, on_both_backends};
use uuid::Uuid;

use crate::cancellation::{fund, request_cancellation};
use crate::hiring::*;
use crate::support::*;

use pb::MilestoneStatus as M;

async fn open(app: &TestApp, hire: &Hire, user: &TestUser) -> Result<pb::Contract, tonic::Status> {
    app.contracts
        .clone()
        .open_dispute(authed(
            &user.access_token,
            pb::OpenDisputeRequest {
                contract_id: hire.contract.id.clone(),
                reason: "The client asks for work outside the agreed scope.".into(),
                attachment_ids: vec![Uuid::now_v7().to_string()],
            },
        ))
        .await
        .map(|r| r.into_inner().contract.unwrap())
}

async fn state(
    app: &TestApp,
    hire: &Hire,
    user: &TestUser,
    text: &str,
) -> Result<pb::Contract, tonic::Status> {
    app.contracts
        .clone()
        .add_dispute_statement(authed(
            &user.access_token,
            pb::AddDisputeStatementRequest {
                contract_id: hire.contract.id.clone(),
                text: text.into(),
                attachment_ids: vec![],
            },
        ))
        .await
        .map(|r| r.into_inner().contract.unwrap())
}

async fn queue(app: &TestApp, user: &TestUser) -> Result<Vec<pb::Dispute>, tonic::Status> {
    app.contracts
        .clone()
        .list_disputes(authed(
            &user.access_token,
            pb::ListDisputesRequest::default(),
        ))
        .await
        .map(|r| r.into_inner().disputes)
}

async fn resolve(
    app: &TestApp,
    hire: &Hire,
    user: &TestUser,
    client_share_bps: i32,
) -> Result<pb::Contract, tonic::Status> {
    app.contracts
        .clone()
        .resolve_dispute(authed(
            &user.access_token,
            pb::ResolveDisputeRequest {
                contract_id: hire.contract.id.clone(),
                client_share_bps,
                decision: "The delivery meets most of the brief.".into(),
            },
        ))
        .await
        .map(|r| r.into_inner().contract.unwrap())
}

async fn an_admin_divides_the_disputed_escrow(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let hire = hire(&app).await;
    let (client, freelancer) = (&hire.client, &hire.freelancer);
    fund(&app, &hire, 0).await;
    fund(&app, &hire, 1).await;
    submit(&app, &hire, freelancer, 0).await.unwrap();
    request_cancellation(&app, &hire, client, usd(300_000))
        .await
        .unwrap();

    let disputed = open(&app, &hire, freelancer).await.unwrap();
    assert_eq!(disputed.status, pb::ContractStatus::Disputed as i32);
    assert_eq!(
        disputed.cancellation.as_ref().unwrap().status,
        pb::CancellationStatus::Superseded as i32
    );
    let dispute = disputed.dispute.as_ref().unwrap();
    assert_eq!(dispute.amount.as_ref().unwrap().minor_units, 300_000);
    assert_eq!(dispute.opened_by, freelancer.account_id);
    assert!(disputed.milestones[0].auto_approve_time.is_none());
    // Opening it again is a retry; the other party finds it open.
    open(&app, &hire, freelancer).await.unwrap();
    let twice = open(&app, &hire, client).await.unwrap_err();
    assert_eq!(reason(&twice), "CONTRACT_DISPUTED");
    let held = submit(&app, &hire, freelancer, 1).await.unwrap_err();
    assert_eq!(reason(&held), "CONTRACT_DISPUTED");
    let held = approve(&app, &hire, client, 0).await.unwrap_err();
    assert_eq!(reason(&held), "CONTRACT_DISPUTED");

    state(&app, &hire, client, "The brief listed the admin pages.")
        .await
        .unwrap();
    let said = state(&app, &hire, freelancer, "It did not; see the proposal.")
        .await
        .unwrap();
    let statements = &said.dispute.as_ref().unwrap().statements;
    assert_eq!(statements.len(), 2);
    assert_eq!(statements[0].author_id, client.account_id);
    let stranger = app.register().await;
    let hidden = state(&app, &hire, &stranger, "Hello").await.unwrap_err();
    assert_eq!(hidden.code(), tonic::Code::NotFound);
    let empty = state(&app, &hire, client, "  ").await.unwrap_err();
    assert_eq!(violated_fields(&empty), ["text"]);

    let not_admin = queue(&app, client).await.unwrap_err();
    assert_eq!(not_admin.code(), tonic::Code::PermissionDenied);
    let refused = resolve(&app, &hire, client, 0).await.unwrap_err();
    assert_eq!(reason(&refused), "ADMIN_ONLY");
    let admin = app.admin().await;
    let waiting = queue(&app, &admin).await.unwrap();
    assert_eq!(waiting.len(), 1);
    assert_eq!(waiting[0].contract_id, hire.contract.id);
    assert!(!waiting[0].escalated);
    let bad = resolve(&app, &hire, &admin, 10_001).await.unwrap_err();
    assert_eq!(violated_fields(&bad), ["client_share_bps"]);

    let resolved = resolve(&app, &hire, &admin, 2_500).await.unwrap();
    assert_eq!(resolved.status, pb::ContractStatus::Cancelled as i32);
    assert_eq!(
        resolved.dispute.as_ref().unwrap().status,
        pb::DisputeStatus::Resolved as i32
    );
    let refunds: Vec<i64> = resolved
        .milestones
        .iter()
        .map(|m| {
            assert_eq!(m.status, M::Settling as i32);
            m.settled_refund.as_ref().unwrap().minor_units
        })
        .collect();
    assert_eq!(refunds, [25_000, 50_000], "a quarter of each milestone");
    // The same decision again is a retry; another is refused.
    resolve(&app, &hire, &admin, 2_500).await.unwrap();
    let changed = resolve(&app, &hire, &admin, 5_000).await.unwrap_err();
    assert_eq!(reason(&changed), "NO_OPEN_DISPUTE");
    assert!(queue(&app, &admin).await.unwrap().is_empty());

    let events = published::<pb::DisputeResolved>(&app, 1).await;
    assert_eq!(events[0].client_share_bps, 2_500);
    let split: Vec<(i64, i64)> = events[0]
        .settlements
        .iter()
        .map(|s| {
            (
                s.refund.as_ref().unwrap().minor_units,
                s.release.as_ref().unwrap().minor_units,
            )
        })
        .collect();
    assert_eq!(split, [(25_000, 75_000), (50_000, 150_000)]);
    published::<pb::DisputeOpened>(&app, 1).await;
    published::<pb::ContractCancelled>(&app, 0).await;
}

async fn disputes_wait_oldest_first_and_escalate_in_time(backend: Backend) {
    let clock = TestClock::new();
    let app = TestApp::spawn_timed(backend, clock.clock(), |_| {}).await;
    let first = hire(&app).await;
    let second = hire(&app).await;
    for hire in [&first, &second] {
        fund(&app, hire, 0).await;
    }
    open(&app, &first, &first.client).await.unwrap();
    clock.advance(chrono::Duration::hours(1));
    open(&app, &second, &second.freelancer).await.unwrap();
    // ADMINs act only after signing in with a second factor.
    let password_only = app.admin_password_only().await;
    let refused = queue(&app, &password_only).await.unwrap_err();
    assert_eq!(reason(&refused), "TWO_FACTOR_REQUIRED");
    let admin = app.admin().await;
    let ids: Vec<String> = queue(&app, &admin)
        .await
        .unwrap()
        .into_iter()
        .map(|d| d.contract_id)
        .collect();
    assert_eq!(ids, [first.contract.id.clone(), second.contract.id.clone()]);

    // 72 hours after the first opened: it is escalated, the second not yet.
    clock.advance(chrono::Duration::hours(71) + chrono::Duration::seconds(1));
    let deadline = Instant::now() + Duration::from_secs(15);
    let waiting = loop {
        let waiting = queue(&app, &admin).await.unwrap();
        if waiting[0].escalated {
            break waiting;
        }
        assert!(Instant::now() < deadline, "never escalated");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(!waiting[1].escalated);
    let contract = get(&app, &first.client, &first.contract.id).await.unwrap();
    assert_eq!(
        contract.timeline.last().unwrap().action,
        "DISPUTE_ESCALATED"
    );
}

/// Both parties open a dispute 30 times at once: one dispute, opened by
/// one of them (the others are that party's retries or refused). Then 30
/// ADMIN decisions at once, with different splits: one decides.
async fn thirty_racing_openings_and_decisions_happen_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let hire = hire(&app).await;
    fund(&app, &hire, 0).await;
    let parties = [hire.client.clone(), hire.freelancer.clone()];
    let mut racers = Vec::new();
    for i in 0..30 {
        let (app_contracts, hire_id) = (app.contracts.clone(), hire.contract.id.clone());
        let user = parties[i % 2].clone();
        racers.push(tokio::spawn(async move {
            let request = pb::OpenDisputeRequest {
                contract_id: hire_id,
                reason: "The work stopped without a word.".into(),
                attachment_ids: vec![],
            };
            let answer = app_contracts
                .clone()
                .open_dispute(authed(&user.access_token, request))
                .await;
            (
                user.account_id,
                answer.map(|r| r.into_inner().contract.unwrap()),
            )
        }));
    }
    let mut openers = Vec::new();
    let mut disputes = Vec::new();
    for racer in racers {
        let (who, answer) = racer.await.unwrap();
        match answer {
            Ok(contract) => {
                openers.push(who);
                disputes.push(contract.dispute.unwrap().id);
            }
            Err(status) => assert_eq!(status.code(), tonic::Code::FailedPrecondition, "{status:?}"),
        }
    }
    openers.dedup();
    disputes.dedup();
    assert_eq!(openers.len(), 1, "one party opened it: {openers:?}");
    assert_eq!(disputes.len(), 1, "one dispute: {disputes:?}");
    assert_eq!(published::<pb::DisputeOpened>(&app, 1).await.len(), 1);

    let admin = app.admin().await;
    let mut deciders = Vec::new();
    for i in 0..30 {
        let contracts = app.contracts.clone();
        let (token, id) = (admin.access_token.clone(), hire.contract.id.clone());
        deciders.push(tokio::spawn(async move {
            let request = pb::ResolveDisputeRequest {
                contract_id: id,
                client_share_bps: 1_000 * (i % 3),
                decision: "Decided on the statements.".into(),
            };
            contracts
                .clone()
                .resolve_dispute(authed(&token, request))
                .await
                .map(|_| 1_000 * (i % 3))
        }));
    }
    let mut splits = Vec::new();
    for decider in deciders {
        match decider.await.unwrap() {
            Ok(bps) => splits.push(bps),
            Err(status) => assert_eq!(reason(&status), "NO_OPEN_DISPUTE"),
        }
    }
    splits.sort_unstable();
    splits.dedup();
    assert_eq!(splits.len(), 1, "one decision stood: {splits:?}");
    let resolved = published::<pb::DisputeResolved>(&app, 1).await;
    assert_eq!(resolved[0].client_share_bps, splits[0]);
}

on_both_backends!(
    an_admin_divides_the_disputed_escrow,
    disputes_wait_oldest_first_and_escalate_in_time,
    thirty_racing_openings_and_decisions_happen_once,
);
