//! A job contract to work on, as the milestone, cancellation and dispute
//! tests share it: a client hires a freelancer (marketplace's
//! ProposalAccepted), payments' escrow events arrive, and the parties take
//! their steps through the API.

use std::time::{Duration, Instant};

use frevix_proto::contracts::v1 as pb;
use frevix_proto::payments::v1 as payments;
use frevix_testkit::{TestApp, TestUser, authed};
use uuid::Uuid;

use crate::support::*;

pub struct Hire {
    pub client: TestUser,
    pub freelancer: TestUser,
    pub contract: pb::Contract,
}

pub async fn hire(app: &TestApp) -> Hire {
    let client = app.register().await;
    let freelancer = app.register().await;
    let event = accepted(&client, &freelancer, false);
    app.publish_as("marketplace", &event.proposal_id, &event)
        .await;
    let contract = wait_for(app, &client, &event.contract_id).await;
    Hire {
        client,
        freelancer,
        contract,
    }
}

/// Publishes `event` as payments and waits until `done` holds of the contract.
pub async fn escrow<E: prost::Name>(
    app: &TestApp,
    hire: &Hire,
    event: &E,
    done: impl Fn(&pb::Contract) -> bool,
) -> pb::Contract {
    app.publish_as("payments", &hire.contract.id, event).await;
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let contract = get(app, &hire.client, &hire.contract.id).await.unwrap();
        if done(&contract) {
            return contract;
        }
        assert!(
            Instant::now() < deadline,
            "the escrow event was never applied: {contract:?}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub fn funded(hire: &Hire, milestone: usize) -> payments::EscrowFunded {
    let m = &hire.contract.milestones[milestone];
    payments::EscrowFunded {
        contract_id: hire.contract.id.clone(),
        milestone_id: m.id.clone(),
        client_id: hire.client.account_id.clone(),
        freelancer_id: hire.freelancer.account_id.clone(),
        amount: m.amount.clone(),
        invoice_id: String::new(),
    }
}

pub fn released(hire: &Hire, milestone: usize) -> payments::EscrowReleased {
    let m = &hire.contract.milestones[milestone];
    let amount = m.amount.clone().unwrap().minor_units;
    payments::EscrowReleased {
        contract_id: hire.contract.id.clone(),
        milestone_id: m.id.clone(),
        client_id: hire.client.account_id.clone(),
        freelancer_id: hire.freelancer.account_id.clone(),
        // 10 % fee: the freelancer's share and the fee make the whole.
        amount: usd(amount - amount / 10),
        fee: usd(amount / 10),
        invoice_id: String::new(),
    }
}

pub fn status_of(contract: &pb::Contract, milestone: usize) -> i32 {
    contract.milestones[milestone].status
}

pub async fn submit(
    app: &TestApp,
    hire: &Hire,
    user: &TestUser,
    milestone: usize,
) -> Result<pb::Contract, tonic::Status> {
    app.contracts
        .clone()
        .submit_delivery(authed(
            &user.access_token,
            pb::SubmitDeliveryRequest {
                contract_id: hire.contract.id.clone(),
                milestone_id: hire.contract.milestones[milestone].id.clone(),
                message: "Here it is: the schema, the API and its tests.".into(),
                attachment_ids: vec![Uuid::now_v7().to_string()],
            },
        ))
        .await
        .map(|r| r.into_inner().contract.unwrap())
}

pub async fn revise(
    app: &TestApp,
    hire: &Hire,
    user: &TestUser,
    milestone: usize,
) -> Result<pb::Contract, tonic::Status> {
    app.contracts
        .clone()
        .request_revision(authed(
            &user.access_token,
            pb::RequestRevisionRequest {
                contract_id: hire.contract.id.clone(),
                milestone_id: hire.contract.milestones[milestone].id.clone(),
                reason: "Please add pagination to the list endpoint.".into(),
            },
        ))
        .await
        .map(|r| r.into_inner().contract.unwrap())
}

pub async fn approve(
    app: &TestApp,
    hire: &Hire,
    user: &TestUser,
    milestone: usize,
) -> Result<pb::Contract, tonic::Status> {
    app.contracts
        .clone()
        .approve_milestone(authed(
            &user.access_token,
            pb::ApproveMilestoneRequest {
                contract_id: hire.contract.id.clone(),
                milestone_id: hire.contract.milestones[milestone].id.clone(),
            },
        ))
        .await
        .map(|r| r.into_inner().contract.unwrap())
}
