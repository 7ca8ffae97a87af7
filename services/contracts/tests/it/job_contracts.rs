//! Job contracts from marketplace's ProposalAccepted, on both backends: a
//! fixed-price contract with the proposal's milestones and an hourly one,
//! each made once however often the event comes, seen by its parties (and
//! no one else), listed per side and status with stable pages, and
//! announced with ContractCreated.

use frevix_proto::common::v1::{Money, PageRequest};
use frevix_proto::contracts::v1 as pb;
use frevix_testkit::status::violated_fields;
use frevix_testkit::{Backend, TestApp, authed, on_both_backends};
use uuid::Uuid;

use crate::support::*;

async fn an_accepted_proposal_becomes_a_contract_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = app.register().await;
    let freelancer = app.register().await;
    let fixed = accepted(&client, &freelancer, false);
    // Delivered twice (a replay), under two event ids.
    app.publish_as("marketplace", &fixed.proposal_id, &fixed)
        .await;
    app.publish_as("marketplace", &fixed.proposal_id, &fixed)
        .await;
    let contract = wait_for(&app, &freelancer, &fixed.contract_id).await;
    assert_eq!(contract.kind, pb::ContractKind::FixedPrice as i32);
    assert_eq!(contract.status, pb::ContractStatus::PendingFunding as i32);
    assert_eq!(contract.client_id, client.account_id);
    assert_eq!(contract.freelancer_id, freelancer.account_id);
    assert_eq!(contract.total, usd(300_000));
    let milestones: Vec<(String, Option<Money>, i32, i32)> = contract
        .milestones
        .iter()
        .map(|m| (m.title.clone(), m.amount.clone(), m.position, m.status))
        .collect();
    let pending = pb::MilestoneStatus::Pending as i32;
    assert_eq!(
        milestones,
        [
            ("Schema and API".to_owned(), usd(100_000), 1, pending),
            ("Deployment".to_owned(), usd(200_000), 2, pending),
        ]
    );
    assert!(contract.milestones.iter().all(|m| m.due_time.is_some()));
    assert_eq!(contract.proposal_id, fixed.proposal_id);
    let actions: Vec<&str> = contract
        .timeline
        .iter()
        .map(|t| t.action.as_str())
        .collect();
    assert_eq!(actions, ["CONTRACT_CREATED"]);
    assert_eq!(contract.timeline[0].actor_id, client.account_id);

    let hourly = accepted(&client, &freelancer, true);
    app.publish_as("marketplace", &hourly.proposal_id, &hourly)
        .await;
    let contract = wait_for(&app, &client, &hourly.contract_id).await;
    assert_eq!(contract.kind, pb::ContractKind::Hourly as i32);
    assert_eq!(contract.status, pb::ContractStatus::Active as i32);
    assert!(contract.milestones.is_empty());
    assert_eq!(contract.total, None);
    let terms = contract.hourly.unwrap();
    assert_eq!(terms.rate, usd(4_500));
    assert_eq!(terms.weekly_limit_minutes, 40 * 60);

    // Made once each, and announced once each with what payments needs.
    let both = list(&app, &client, pb::ListContractsRequest::default()).await;
    assert_eq!(both.contracts.len(), 2, "{:?}", both.contracts);
    let created: Vec<pb::ContractCreated> = published(&app, 2).await;
    let fixed_created = created
        .iter()
        .find(|c| c.contract_id == fixed.contract_id)
        .unwrap();
    assert_eq!(fixed_created.kind, pb::ContractKind::FixedPrice as i32);
    assert_eq!(fixed_created.milestones.len(), 2);
    assert_eq!(fixed_created.client_id, client.account_id);
}

async fn only_the_parties_see_a_contract(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = app.register().await;
    let freelancer = app.register().await;
    let stranger = app.register().await;
    let fixed = accepted(&client, &freelancer, false);
    app.publish_as("marketplace", &fixed.proposal_id, &fixed)
        .await;
    wait_for(&app, &client, &fixed.contract_id).await;
    let hidden = get(&app, &stranger, &fixed.contract_id).await.unwrap_err();
    assert_eq!(hidden.code(), tonic::Code::NotFound);
    let unknown = get(&app, &client, &Uuid::now_v7().to_string())
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), tonic::Code::NotFound);
    let malformed = get(&app, &client, "not-an-id").await.unwrap_err();
    assert_eq!(violated_fields(&malformed), ["contract_id"]);
    let anonymous = app
        .contracts
        .clone()
        .get_contract(pb::GetContractRequest {
            contract_id: fixed.contract_id.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(anonymous.code(), tonic::Code::Unauthenticated);
    assert!(
        list(&app, &stranger, pb::ListContractsRequest::default())
            .await
            .contracts
            .is_empty()
    );
}

async fn lists_show_each_side_its_contracts_in_stable_pages(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = app.register().await;
    let freelancer = app.register().await;
    let mut ids = Vec::new();
    for i in 0..5 {
        // The freelancer is the client of every other one.
        let event = if i % 2 == 0 {
            accepted(&client, &freelancer, false)
        } else {
            accepted(&freelancer, &client, false)
        };
        app.publish_as("marketplace", &event.proposal_id, &event)
            .await;
        wait_for(&app, &client, &event.contract_id).await;
        ids.push(event.contract_id);
    }
    let as_client = list(
        &app,
        &client,
        pb::ListContractsRequest {
            role: pb::ContractRole::Client as i32,
            ..Default::default()
        },
    )
    .await;
    assert_eq!(as_client.contracts.len(), 3);
    assert!(
        as_client
            .contracts
            .iter()
            .all(|c| c.client_id == client.account_id)
    );
    assert!(
        as_client.contracts.iter().all(|c| c.timeline.is_empty()),
        "lists carry no timeline"
    );
    // Pages of two, newest first, with every contract once.
    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = list(
            &app,
            &client,
            pb::ListContractsRequest {
                page: Some(PageRequest {
                    page_size: 2,
                    page_token: token.clone(),
                }),
                ..Default::default()
            },
        )
        .await;
        seen.extend(page.contracts.iter().map(|c| c.id.clone()));
        token = page.page.unwrap().next_page_token;
        if token.is_empty() {
            break;
        }
    }
    ids.reverse();
    assert_eq!(seen, ids);
    let none_completed = list(
        &app,
        &client,
        pb::ListContractsRequest {
            status: pb::ContractStatus::Completed as i32,
            ..Default::default()
        },
    )
    .await;
    assert!(none_completed.contracts.is_empty());
    let bad = app
        .contracts
        .clone()
        .list_contracts(authed(
            &client.access_token,
            pb::ListContractsRequest {
                role: 9,
                status: 42,
                page: Some(PageRequest {
                    page_size: 500,
                    page_token: String::new(),
                }),
                stage: 99,
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(
        violated_fields(&bad),
        ["role", "status", "stage", "page.page_size"]
    );
}

/// The conversation the contract names is the one messaging opened for
/// it, and the contract says who moves next.
async fn a_contract_names_its_conversation_and_next_steps(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = app.register().await;
    let freelancer = app.register().await;
    let event = accepted(&client, &freelancer, false);
    app.publish_as("marketplace", &event.proposal_id, &event)
        .await;
    let contract = wait_for(&app, &client, &event.contract_id).await;
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    let conversation = loop {
        let answer = app
            .messaging
            .clone()
            .get_conversation(authed(
                &freelancer.access_token,
                frevix_proto::messaging::v1::GetConversationRequest {
                    conversation_id: contract.conversation_id.clone(),
                },
            ))
            .await;
        match answer {
            Ok(answer) => break answer.into_inner().conversation.unwrap(),
            Err(status) if status.code() == tonic::Code::NotFound => {}
            Err(status) => panic!("{status:?}"),
        }
        assert!(std::time::Instant::now() < deadline, "never opened");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    };
    assert_eq!(conversation.contract_id, contract.id);
    let next = contract.next_actions.unwrap();
    let first = &contract.milestones[0].id;
    assert!(next.client.contains(&format!("FundMilestone:{first}")));
    assert!(next.client.contains(&"AddMilestone".to_owned()));
    assert!(next.client.contains(&"EndContract".to_owned()));
    assert!(
        !next
            .freelancer
            .iter()
            .any(|a| a.starts_with("SubmitDelivery"))
    );
}

on_both_backends!(
    a_contract_names_its_conversation_and_next_steps,
    an_accepted_proposal_becomes_a_contract_once,
    only_the_parties_see_a_contract,
    lists_show_each_side_its_contracts_in_stable_pages,
);
