//! What the contracts tests share: a proposal accepted in marketplace, and
//! reading contracts as a party.

use std::time::{Duration, Instant};

use frevix_platform::ids::contract_id_for_proposal;
use frevix_proto::common::v1::Money;
use frevix_proto::contracts::v1 as pb;
use frevix_proto::marketplace::v1::{ProposalAccepted, ProposedMilestone};
use frevix_testkit::{TestApp, TestUser, authed};
use uuid::Uuid;

pub fn usd(minor_units: i64) -> Option<Money> {
    Some(Money {
        currency_code: "USD".into(),
        minor_units,
    })
}

pub fn accepted(client: &TestUser, freelancer: &TestUser, hourly: bool) -> ProposalAccepted {
    let proposal = Uuid::now_v7();
    ProposalAccepted {
        proposal_id: proposal.to_string(),
        job_id: Uuid::now_v7().to_string(),
        client_id: client.account_id.clone(),
        freelancer_id: freelancer.account_id.clone(),
        contract_id: contract_id_for_proposal(proposal).to_string(),
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
    }
}

pub async fn get(app: &TestApp, user: &TestUser, id: &str) -> Result<pb::Contract, tonic::Status> {
    app.contracts
        .clone()
        .get_contract(authed(
            &user.access_token,
            pb::GetContractRequest {
                contract_id: id.to_owned(),
            },
        ))
        .await
        .map(|response| response.into_inner().contract.unwrap())
}

/// The contract once the event has been applied.
pub async fn wait_for(app: &TestApp, user: &TestUser, id: &str) -> pb::Contract {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        match get(app, user, id).await {
            Ok(contract) => return contract,
            Err(status) if status.code() == tonic::Code::NotFound => {}
            Err(status) => panic!("{status:?}"),
        }
        assert!(Instant::now() < deadline, "contract {id} never appeared");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub async fn list(
    app: &TestApp,
    user: &TestUser,
    request: pb::ListContractsRequest,
) -> pb::ListContractsResponse {
    app.contracts
        .clone()
        .list_contracts(authed(&user.access_token, request))
        .await
        .unwrap()
        .into_inner()
}

/// The `E` events contracts has published, once there are `expected` of
/// them (a read of the log can stop short while the machine is busy, so it
/// is read again until then), checked again a moment later: still exactly
/// `expected`, none doubled.
pub async fn published<E: prost::Name + Default>(app: &TestApp, expected: usize) -> Vec<E> {
    app.published_exactly("contracts", expected).await
}

/// Waits until messaging has notified `user` of `kind` (from contracts'
/// events, through the real consumer).
pub async fn notified(
    app: &TestApp,
    user: &TestUser,
    kind: frevix_proto::messaging::v1::NotificationKind,
) {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let listed = app
            .notifications
            .clone()
            .list_notifications(authed(
                &user.access_token,
                frevix_proto::messaging::v1::ListNotificationsRequest::default(),
            ))
            .await
            .unwrap()
            .into_inner()
            .notifications;
        if listed.iter().any(|n| n.kind == kind as i32) {
            return;
        }
        assert!(Instant::now() < deadline, "never notified of {kind:?}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}
