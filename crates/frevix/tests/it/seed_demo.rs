//! `frevix seed-demo` fills a running Frevix through its public API.

// Tests are written as plain async fns run by on_both_backends!, which
// clippy does not see as tests: a failed expectation should panic here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use frevix_proto::contracts::v1 as contracts;
use frevix_proto::marketplace::v1 as pb;
use frevix_proto::payments::v1 as payments;
use frevix_testkit::{Backend, TestApp, authed, on_both_backends};

async fn seeding_makes_freelancers_gigs_clients_jobs_proposals_and_contracts(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    frevix::seed::run(&app.url(), app.mail_dir(), 4, 1)
        .await
        .unwrap();
    let gigs = app
        .marketplace
        .clone()
        .search_gigs(pb::SearchGigsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(gigs.total, 8, "two published gigs per freelancer");
    let freelancers = app
        .marketplace
        .clone()
        .search_freelancers(pb::SearchFreelancersRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(freelancers.total, 4);
    assert!(
        freelancers
            .freelancers
            .iter()
            .all(|f| !f.headline.is_empty() && !f.skills.is_empty())
    );
    let jobs = app
        .marketplace
        .clone()
        .search_jobs(pb::SearchJobsRequest::default())
        .await
        .unwrap()
        .into_inner();
    assert_eq!(jobs.total, 1, "the other job hired a freelancer");
    assert!(jobs.jobs.iter().all(|j| j.proposal_count == 3));

    // The client's orders pages: a job contract (funded, with a milestone
    // proposed), a gig order paid, delivered, approved and released, and
    // one cancelled before funding.
    let client = app
        .login("client1@demo.frevix.dev", "demo passphrase 2026")
        .await;
    let counts = app
        .contracts
        .clone()
        .count_contracts(authed(
            &client.access_token,
            contracts::CountContractsRequest::default(),
        ))
        .await
        .unwrap()
        .into_inner()
        .counts;
    let count = |stage: contracts::ContractStage| {
        counts
            .iter()
            .find(|c| c.stage == stage as i32)
            .map_or(0, |c| c.count)
    };
    assert_eq!(count(contracts::ContractStage::PendingFunding), 0);
    assert_eq!(count(contracts::ContractStage::Cancelled), 1);
    // The order completes once payments has released its escrow; the hire
    // stays active.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(15);
    loop {
        let counted = app
            .contracts
            .clone()
            .count_contracts(authed(
                &client.access_token,
                contracts::CountContractsRequest::default(),
            ))
            .await
            .unwrap()
            .into_inner()
            .counts;
        let completed = counted
            .iter()
            .find(|c| c.stage == contracts::ContractStage::Completed as i32)
            .map_or(0, |c| c.count);
        if completed == 1 {
            let active = counted
                .iter()
                .find(|c| c.stage == contracts::ContractStage::Active as i32)
                .map_or(0, |c| c.count);
            assert_eq!(active, 1);
            break;
        }
        assert!(
            std::time::Instant::now() < deadline,
            "the order never completed"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    }
    // Money moved: the hire's first milestone is in escrow, the order spent.
    let balance = app
        .payments
        .clone()
        .get_balance(authed(&client.access_token, payments::GetBalanceRequest {}))
        .await
        .unwrap()
        .into_inner()
        .balances;
    assert_eq!(balance.len(), 1);
    assert!(balance[0].client_in_escrow > 0, "{balance:?}");
    assert!(balance[0].client_spent > 0, "{balance:?}");

    // Seeding again finds the accounts and adds to the catalog without failing.
    frevix::seed::run(&app.url(), app.mail_dir(), 1, 0)
        .await
        .unwrap();
}

on_both_backends!(seeding_makes_freelancers_gigs_clients_jobs_proposals_and_contracts);
