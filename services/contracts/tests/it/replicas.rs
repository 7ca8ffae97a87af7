//! Contracts' durable timers at the service level, on PostgreSQL (the
//! shape that runs replicas): two servers on the same databases race for
//! the same due review windows on one moved clock, and each delivery is
//! approved once, by its window (one timeline entry, no actor); timers set before a replica stops fire once after a new
//! one starts. (SQLite is the single-process shape; the platform's own
//! timer tests cover it.)

use std::time::{Duration, Instant};

use frevix_proto::contracts::v1 as pb;
use frevix_proto::marketplace::v1 as marketplace;
use frevix_testkit::{Backend, Shape, TestApp, TestClock, TestUser, authed};

use crate::shop::*;
use crate::support::*;

/// `n` gig orders by `buyer`, delivered and waiting for the buyer's
/// answer, placed through `server`.
async fn deliveries(
    server: &TestApp,
    shop: &Shop,
    buyer: &TestUser,
    n: usize,
) -> Vec<pb::Contract> {
    let mut waiting = Vec::new();
    for _ in 0..n {
        let placed = place(
            server,
            buyer,
            order(shop, marketplace::PackageTier::Basic, 1),
            None,
        )
        .await
        .unwrap();
        let funded = fund(server, shop, buyer, &placed).await;
        let delivered = server
            .contracts
            .clone()
            .submit_delivery(authed(
                &shop.seller.access_token,
                pb::SubmitDeliveryRequest {
                    contract_id: funded.id.clone(),
                    milestone_id: funded.milestones[0].id.clone(),
                    message: "Done.".into(),
                    attachment_ids: vec![],
                },
            ))
            .await
            .unwrap()
            .into_inner()
            .contract
            .unwrap();
        waiting.push(delivered);
    }
    waiting
}

/// Waits until every one of `contracts` is approved, then checks each was
/// approved exactly once.
async fn approved_once(server: &TestApp, shop: &Shop, contracts: &[pb::Contract]) {
    let deadline = Instant::now() + Duration::from_secs(30);
    for contract in contracts {
        loop {
            let now = get(server, &shop.seller, &contract.id).await.unwrap();
            if now.milestones[0].status == pb::MilestoneStatus::Approved as i32 {
                let approvals: Vec<_> = now
                    .timeline
                    .iter()
                    .filter(|t| t.action == "MILESTONE_APPROVED")
                    .collect();
                assert_eq!(approvals.len(), 1, "approved once: {}", contract.id);
                assert!(
                    approvals[0].actor_id.is_empty(),
                    "approved by its review window"
                );
                break;
            }
            assert!(Instant::now() < deadline, "never approved: {}", contract.id);
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

#[tokio::test]
async fn review_windows_fire_once_with_two_replicas_and_across_a_restart() {
    let clock = TestClock::new();
    // Three servers at most, beside other PostgreSQL tests on one server:
    // a few connections per service each.
    let small = |config: &mut frevix_testkit::FrevixConfig| {
        for entry in frevix_testkit::SERVICES {
            entry.database_mut(config).max_connections = 3;
        }
    };
    let app = TestApp::spawn_timed(Backend::Postgres, clock.clock(), small).await;
    let second = app.spawn_beside(Shape::AllInOne, small).await;
    let shop = open_quiet_shop(&app).await;
    let buyer = app.register().await;

    // Two replicas, one clock: ten windows pass at once.
    let first_batch = deliveries(&app, &shop, &buyer, 10).await;
    clock.advance(chrono::Duration::days(3) + chrono::Duration::seconds(1));
    approved_once(&app, &shop, &first_batch).await;

    // Set through the second replica, which then stops; a new one starts.
    let second_batch = deliveries(&second, &shop, &buyer, 10).await;
    second.stop().await;
    let third = app.spawn_beside(Shape::AllInOne, small).await;
    clock.advance(chrono::Duration::days(3) + chrono::Duration::seconds(1));
    approved_once(&third, &shop, &second_batch).await;
}
