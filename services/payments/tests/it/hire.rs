//! A job contract hired through the real services (marketplace's
//! ProposalAccepted → contracts → payments), and the calls a client app
//! makes on it.

use std::time::{Duration, Instant};

use frevix_platform::ids::contract_id_for_proposal;
use frevix_proto::common::v1::Money;
use frevix_proto::contracts::v1 as contracts;
use frevix_proto::marketplace::v1::{ProposalAccepted, ProposedMilestone};
use frevix_proto::payments::v1 as pb;
use frevix_testkit::status::reason;
use frevix_testkit::{TestApp, TestUser, authed};
use uuid::Uuid;

pub fn usd(minor_units: i64) -> Option<Money> {
    Some(Money {
        currency_code: "USD".into(),
        minor_units,
    })
}

/// A contract of two milestones (USD 1,000 and USD 2,000), as both
/// services know it.
pub struct Hire {
    pub client: TestUser,
    pub freelancer: TestUser,
    pub contract: String,
    pub milestones: Vec<String>,
}

pub async fn hire(app: &TestApp) -> Hire {
    hire_with(app, false).await
}

/// A contract by the hour (USD 45 an hour) when `hourly`.
pub async fn hire_with(app: &TestApp, hourly: bool) -> Hire {
    let client = app.register().await;
    let freelancer = app.register().await;
    let proposal = Uuid::now_v7();
    let contract = contract_id_for_proposal(proposal).to_string();
    let accepted = ProposalAccepted {
        proposal_id: proposal.to_string(),
        job_id: Uuid::now_v7().to_string(),
        client_id: client.account_id.clone(),
        freelancer_id: freelancer.account_id.clone(),
        contract_id: contract.clone(),
        job_title: "Build our booking API".into(),
        bid: usd(if hourly { 4_500 } else { 300_000 }),
        hourly,
        milestones: if hourly {
            vec![]
        } else {
            vec![
                ProposedMilestone {
                    title: "Schema and API".into(),
                    amount: usd(100_000),
                    due_in_days: 7,
                },
                ProposedMilestone {
                    title: "Deployment".into(),
                    amount: usd(200_000),
                    due_in_days: 14,
                },
            ]
        },
    };
    app.publish_as("marketplace", &accepted.proposal_id, &accepted)
        .await;
    let seen = eventually(|| async {
        app.contracts
            .clone()
            .get_contract(authed(
                &client.access_token,
                contracts::GetContractRequest {
                    contract_id: contract.clone(),
                },
            ))
            .await
            .ok()
            .and_then(|r| r.into_inner().contract)
    })
    .await;
    let milestones = seen.milestones.iter().map(|m| m.id.clone()).collect();
    let hire = Hire {
        client,
        freelancer,
        contract,
        milestones,
    };
    // Payments learns the contract from contracts' event: asked about a
    // milestone it does not have, it stops saying the contract is unknown.
    eventually(|| async {
        let status = app
            .payments
            .clone()
            .get_funding(authed(
                &hire.client.access_token,
                pb::GetFundingRequest {
                    contract_id: hire.contract.clone(),
                    milestone_id: Uuid::now_v7().to_string(),
                },
            ))
            .await
            .err()?;
        (reason(&status) != "CONTRACT_NOT_FOUND").then_some(())
    })
    .await;
    hire
}

/// Polls `probe` until it answers something, for up to 15 seconds.
pub async fn eventually<T, F, Fut>(probe: F) -> T
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        if let Some(value) = probe().await {
            return value;
        }
        assert!(Instant::now() < deadline, "never happened");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub async fn fund(
    app: &TestApp,
    user: &TestUser,
    hire: &Hire,
    milestone: usize,
    payment_method: &str,
) -> Result<pb::Funding, tonic::Status> {
    app.payments
        .clone()
        .fund_milestone(authed(
            &user.access_token,
            pb::FundMilestoneRequest {
                contract_id: hire.contract.clone(),
                milestone_id: hire.milestones[milestone].clone(),
                payment_method: payment_method.into(),
            },
        ))
        .await
        .map(|r| r.into_inner().funding.unwrap())
}

pub async fn get_funding(
    app: &TestApp,
    user: &TestUser,
    hire: &Hire,
    milestone: usize,
) -> Result<pb::Funding, tonic::Status> {
    app.payments
        .clone()
        .get_funding(authed(
            &user.access_token,
            pb::GetFundingRequest {
                contract_id: hire.contract.clone(),
                milestone_id: hire.milestones[milestone].clone(),
            },
        ))
        .await
        .map(|r| r.into_inner().funding.unwrap())
}

pub async fn contract(app: &TestApp, hire: &Hire) -> contracts::Contract {
    app.contracts
        .clone()
        .get_contract(authed(
            &hire.client.access_token,
            contracts::GetContractRequest {
                contract_id: hire.contract.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .contract
        .unwrap()
}

/// Waits until contracts shows the milestone in `status`.
pub async fn milestone_reaches(
    app: &TestApp,
    hire: &Hire,
    milestone: usize,
    status: contracts::MilestoneStatus,
) {
    eventually(|| async {
        let seen = contract(app, hire).await;
        (seen.milestones[milestone].status == status as i32).then_some(())
    })
    .await;
}

pub async fn balance(app: &TestApp, user: &TestUser) -> pb::Balance {
    let balances = app
        .payments
        .clone()
        .get_balance(authed(&user.access_token, pb::GetBalanceRequest {}))
        .await
        .unwrap()
        .into_inner()
        .balances;
    balances
        .into_iter()
        .find(|b| b.currency_code == "USD")
        .unwrap_or_else(|| pb::Balance {
            currency_code: "USD".into(),
            ..pb::Balance::default()
        })
}

pub async fn transactions(app: &TestApp, user: &TestUser) -> Vec<pb::Transaction> {
    app.payments
        .clone()
        .list_transactions(authed(
            &user.access_token,
            pb::ListTransactionsRequest::default(),
        ))
        .await
        .unwrap()
        .into_inner()
        .transactions
}

/// The `E` events payments has published, once there are `expected`,
/// checked again a moment later: still exactly `expected`.
pub async fn published<E: prost::Name + Default>(app: &TestApp, expected: usize) -> Vec<E> {
    app.published_exactly("payments", expected).await
}

/// The freelancer delivers the milestone and the client approves it.
pub async fn deliver_and_approve(app: &TestApp, hire: &Hire, milestone: usize) {
    app.contracts
        .clone()
        .submit_delivery(authed(
            &hire.freelancer.access_token,
            contracts::SubmitDeliveryRequest {
                contract_id: hire.contract.clone(),
                milestone_id: hire.milestones[milestone].clone(),
                message: "Here it is.".into(),
                attachment_ids: vec![],
            },
        ))
        .await
        .unwrap();
    app.contracts
        .clone()
        .approve_milestone(authed(
            &hire.client.access_token,
            contracts::ApproveMilestoneRequest {
                contract_id: hire.contract.clone(),
                milestone_id: hire.milestones[milestone].clone(),
            },
        ))
        .await
        .unwrap();
}

/// The sandbox provider's own records (its SQLite file in the data dir).
pub async fn sandbox(app: &TestApp) -> sea_orm::DatabaseConnection {
    let path = app.config.data_dir.join("payments-sandbox.db");
    sea_orm::Database::connect(frevix_platform::db::sqlite_url(&path))
        .await
        .unwrap()
}
