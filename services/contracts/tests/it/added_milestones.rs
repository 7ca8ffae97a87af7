//! More work on a fixed-price job contract, on both backends: the client
//! proposes a milestone, the freelancer accepts it (it joins the contract,
//! announced with MilestoneAdded) or declines it; only those two, only on
//! fixed-price contracts, and within the limits.

use frevix_proto::common::v1::Money;
use frevix_proto::contracts::v1 as pb;
use frevix_testkit::status::{reason, violated_fields};
use frevix_testkit::{Backend, TestApp, TestUser, authed, on_both_backends};

use crate::hiring::*;
use crate::support::*;

async fn propose(
    app: &TestApp,
    contract: &str,
    user: &TestUser,
    amount: Option<Money>,
) -> Result<pb::Contract, tonic::Status> {
    app.contracts
        .clone()
        .add_milestone(authed(
            &user.access_token,
            pb::AddMilestoneRequest {
                contract_id: contract.to_owned(),
                title: "Admin pages".into(),
                amount,
                due_in_days: 10,
            },
        ))
        .await
        .map(|r| r.into_inner().contract.unwrap())
}

async fn answer(
    app: &TestApp,
    hire: &Hire,
    user: &TestUser,
    proposal: &str,
    accept: bool,
) -> Result<pb::Contract, tonic::Status> {
    let mut contracts = app.contracts.clone();
    let (contract_id, proposed_milestone_id) = (hire.contract.id.clone(), proposal.to_owned());
    if accept {
        let request = pb::AcceptMilestoneRequest {
            contract_id,
            proposed_milestone_id,
        };
        contracts
            .accept_milestone(authed(&user.access_token, request))
            .await
            .map(|r| r.into_inner().contract.unwrap())
    } else {
        let request = pb::DeclineMilestoneRequest {
            contract_id,
            proposed_milestone_id,
        };
        contracts
            .decline_milestone(authed(&user.access_token, request))
            .await
            .map(|r| r.into_inner().contract.unwrap())
    }
}

async fn a_proposed_milestone_joins_the_contract_once_accepted(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let hire = hire(&app).await;
    let (client, freelancer) = (&hire.client, &hire.freelancer);
    let id = hire.contract.id.as_str();
    let wrong = propose(&app, id, freelancer, usd(50_000))
        .await
        .unwrap_err();
    assert_eq!(reason(&wrong), "CLIENT_ONLY");
    let euros = Some(Money {
        currency_code: "EUR".into(),
        minor_units: 50_000,
    });
    let bad = propose(&app, id, client, euros).await.unwrap_err();
    assert_eq!(violated_fields(&bad), ["amount.currency_code"]);

    let proposed = propose(&app, id, client, usd(50_000)).await.unwrap();
    assert_eq!(proposed.milestones.len(), 2, "not part of it yet");
    let proposal = proposed.proposed_milestones[0].id.clone();
    let not_theirs = answer(&app, &hire, client, &proposal, true)
        .await
        .unwrap_err();
    assert_eq!(reason(&not_theirs), "FREELANCER_ONLY");
    let accepted = answer(&app, &hire, freelancer, &proposal, true)
        .await
        .unwrap();
    assert!(accepted.proposed_milestones.is_empty());
    assert_eq!(accepted.milestones.len(), 3);
    let added = &accepted.milestones[2];
    assert_eq!((added.position, added.title.as_str()), (3, "Admin pages"));
    assert_eq!(added.status, pb::MilestoneStatus::Pending as i32);
    assert_eq!(accepted.total.unwrap().minor_units, 350_000);
    let events = published::<pb::MilestoneAdded>(&app, 1).await;
    assert_eq!(events[0].milestone.as_ref().unwrap().id, added.id);
    let kind = frevix_proto::messaging::v1::NotificationKind::MilestoneAdded;
    notified(&app, client, kind).await;
    // Accepted once: a repeat finds nothing.
    let gone = answer(&app, &hire, freelancer, &proposal, true)
        .await
        .unwrap_err();
    assert_eq!(gone.code(), tonic::Code::NotFound);

    let second = propose(&app, id, client, usd(10_000)).await.unwrap();
    let proposal = second.proposed_milestones[0].id.clone();
    let declined = answer(&app, &hire, freelancer, &proposal, false)
        .await
        .unwrap();
    assert!(declined.proposed_milestones.is_empty());
    assert_eq!(declined.milestones.len(), 3);
    published::<pb::MilestoneAdded>(&app, 1).await;

    for _ in 0..10 {
        propose(&app, id, client, usd(1_000)).await.unwrap();
    }
    let full = propose(&app, id, client, usd(1_000)).await.unwrap_err();
    assert_eq!(reason(&full), "TOO_MANY_MILESTONES");

    let hourly = accepted_hourly(&app).await;
    let refused = propose(&app, &hourly.0, &hourly.1, usd(1_000))
        .await
        .unwrap_err();
    assert_eq!(reason(&refused), "NOT_FIXED_PRICE");
}

/// An hourly contract's id and client.
async fn accepted_hourly(app: &TestApp) -> (String, TestUser) {
    let client = app.register().await;
    let freelancer = app.register().await;
    let event = accepted(&client, &freelancer, true);
    app.publish_as("marketplace", &event.proposal_id, &event)
        .await;
    let contract = wait_for(app, &client, &event.contract_id).await;
    (contract.id, client)
}

/// 30 proposals at once stop at the limit of waiting proposals; 30
/// answers to one proposal at once add it once.
async fn thirty_racing_proposals_and_answers_keep_the_limits(backend: Backend) {
    let app = std::sync::Arc::new(TestApp::spawn(backend).await);
    let hire = std::sync::Arc::new(hire(&app).await);
    let mut proposers = Vec::new();
    for _ in 0..30 {
        let (app, hire) = (app.clone(), hire.clone());
        proposers.push(tokio::spawn(async move {
            propose(&app, &hire.contract.id, &hire.client, usd(1_000)).await
        }));
    }
    let mut proposed = 0;
    for proposer in proposers {
        match proposer.await.unwrap() {
            Ok(_) => proposed += 1,
            Err(status) => assert_eq!(reason(&status), "TOO_MANY_MILESTONES"),
        }
    }
    let waiting = get(&app, &hire.client, &hire.contract.id)
        .await
        .unwrap()
        .proposed_milestones;
    assert_eq!(proposed, 10, "the limit of waiting proposals");
    assert_eq!(waiting.len(), 10);

    let proposal = waiting[0].id.clone();
    let mut answers = Vec::new();
    for i in 0..30 {
        let (app, hire, proposal) = (app.clone(), hire.clone(), proposal.clone());
        answers.push(tokio::spawn(async move {
            answer(&app, &hire, &hire.freelancer, &proposal, i % 2 == 0).await
        }));
    }
    let mut decided = 0;
    for answer in answers {
        match answer.await.unwrap() {
            Ok(_) => decided += 1,
            Err(status) => assert_eq!(status.code(), tonic::Code::NotFound, "{status:?}"),
        }
    }
    assert_eq!(decided, 1, "one answer decided the proposal");
    let contract = get(&app, &hire.client, &hire.contract.id).await.unwrap();
    assert_eq!(contract.proposed_milestones.len(), 9);
    let added = contract.milestones.len() - hire.contract.milestones.len();
    assert!(added <= 1);
    published::<pb::MilestoneAdded>(&app, added).await;
}

on_both_backends!(
    a_proposed_milestone_joins_the_contract_once_accepted,
    thirty_racing_proposals_and_answers_keep_the_limits,
);
