//! Release latency on PostgreSQL, through the real services: from a
//! client's ApproveMilestone answering to contracts showing the milestone
//! RELEASED, i.e. MilestoneApproved relayed and consumed by payments, the
//! release posted, EscrowReleased relayed and consumed by contracts.
//! Approvals are offered at a steady 20 a second (a latency, not a
//! throughput, measure), each watched until released; p50 and p99.

use std::sync::Arc;
use std::time::{Duration, Instant};

use frevix_platform::ids::contract_id_for_proposal;
use frevix_proto::common::v1::Money;
use frevix_proto::contracts::v1 as pb;
use frevix_proto::marketplace::v1::{ProposalAccepted, ProposedMilestone};
use frevix_proto::payments::v1 as payments;
use frevix_testkit::{Backend, TestApp, TestUser, authed};
use uuid::Uuid;

const HIRES: usize = 200;
const EVERY: Duration = Duration::from_millis(50);

pub async fn run() {
    let app = Arc::new(
        TestApp::spawn_with(Backend::Postgres, |config| {
            for entry in frevix::registry::SERVICES {
                entry.database_mut(config).max_connections = 10;
            }
        })
        .await,
    );
    let client = app.register().await;
    let freelancer = app.register().await;
    let mut hires = Vec::new();
    for _ in 0..HIRES {
        hires.push(hire(&app, &client, &freelancer).await);
    }
    for (contract, milestone) in &hires {
        fund_and_deliver(&app, &client, &freelancer, contract, milestone).await;
    }
    let mut watchers = tokio::task::JoinSet::new();
    for (contract, milestone) in hires {
        let (app, client) = (app.clone(), client.clone());
        watchers.spawn(async move {
            let request = pb::ApproveMilestoneRequest {
                contract_id: contract.clone(),
                milestone_id: milestone,
            };
            app.contracts
                .clone()
                .approve_milestone(authed(&client.access_token, request))
                .await
                .unwrap();
            let approved = Instant::now();
            until(&app, &client, &contract, pb::MilestoneStatus::Released).await;
            approved.elapsed()
        });
        tokio::time::sleep(EVERY).await;
    }
    let mut latencies = Vec::new();
    while let Some(latency) = watchers.join_next().await {
        latencies.push(latency.unwrap());
    }
    latencies.sort();
    let at = |q: f64| latencies[((latencies.len() as f64 * q) as usize).min(latencies.len() - 1)];
    println!(
        "payments  release latency, approval answered → milestone RELEASED ({HIRES} at 20/s): p50 {:.1} ms   p99 {:.1} ms",
        at(0.50).as_secs_f64() * 1000.0,
        at(0.99).as_secs_f64() * 1000.0
    );
}

/// A one-milestone job contract both contracts and payments know.
pub async fn hire(app: &TestApp, client: &TestUser, freelancer: &TestUser) -> (String, String) {
    let proposal = Uuid::now_v7();
    let contract = contract_id_for_proposal(proposal).to_string();
    let usd = |minor_units| {
        Some(Money {
            currency_code: "USD".into(),
            minor_units,
        })
    };
    let accepted = ProposalAccepted {
        proposal_id: proposal.to_string(),
        job_id: Uuid::now_v7().to_string(),
        client_id: client.account_id.clone(),
        freelancer_id: freelancer.account_id.clone(),
        contract_id: contract.clone(),
        job_title: "A landing page".into(),
        bid: usd(50_000),
        hourly: false,
        milestones: vec![ProposedMilestone {
            title: "The page".into(),
            amount: usd(50_000),
            due_in_days: 7,
        }],
    };
    app.publish_as("marketplace", &accepted.proposal_id, &accepted)
        .await;
    let seen = loop {
        let request = pb::GetContractRequest {
            contract_id: contract.clone(),
        };
        if let Ok(answer) = app
            .contracts
            .clone()
            .get_contract(authed(&client.access_token, request))
            .await
        {
            break answer.into_inner().contract.unwrap();
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    (contract, seen.milestones[0].id.clone())
}

async fn fund_and_deliver(
    app: &TestApp,
    client: &TestUser,
    freelancer: &TestUser,
    contract: &str,
    milestone: &str,
) {
    let fund = payments::FundMilestoneRequest {
        contract_id: contract.into(),
        milestone_id: milestone.into(),
        payment_method: "pm_card_visa".into(),
    };
    // Payments learns the contract from contracts' event.
    while app
        .payments
        .clone()
        .fund_milestone(authed(&client.access_token, fund.clone()))
        .await
        .is_err_and(|status| status.code() == tonic::Code::NotFound)
    {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    until(app, client, contract, pb::MilestoneStatus::Funded).await;
    let deliver = pb::SubmitDeliveryRequest {
        contract_id: contract.into(),
        milestone_id: milestone.into(),
        message: "Done.".into(),
        attachment_ids: vec![],
    };
    app.contracts
        .clone()
        .submit_delivery(authed(&freelancer.access_token, deliver))
        .await
        .unwrap();
}

/// Polls every 2 ms until the contract's milestone is `status`.
async fn until(app: &TestApp, user: &TestUser, contract: &str, status: pb::MilestoneStatus) {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let request = pb::GetContractRequest {
            contract_id: contract.into(),
        };
        let seen = app
            .contracts
            .clone()
            .get_contract(authed(&user.access_token, request))
            .await
            .unwrap()
            .into_inner()
            .contract
            .unwrap();
        if seen.milestones[0].status == status as i32 {
            return;
        }
        assert!(
            Instant::now() < deadline,
            "{contract} never reached {status:?}"
        );
        tokio::time::sleep(Duration::from_millis(2)).await;
    }
}
