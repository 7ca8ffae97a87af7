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

on_both_backends!(a_proposed_milestone_joins_the_contract_once_accepted);
