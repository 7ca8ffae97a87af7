//! The writers' batches on both backends, written directly: a key named
//! twice in one batch, a key already taken, and a batch that fails because
//! of one order, whose others are still written, each once.

#![allow(clippy::unwrap_used)]

use frevix_platform::db::idempotency::{IdempotencyKey, Keyed, Prior, find_prior};
use frevix_platform::error::FieldViolations;
use frevix_platform::events::Outbox;
use frevix_proto::contracts::v1 as pb;
use frevix_testkit::{Backend, MigratedDb};
use uuid::Uuid;

use super::*;
use crate::store::{ContractRow, MilestoneRow, OrderRow, TimelineRow};

async fn open(backend: Backend) -> MigratedDb {
    MigratedDb::open::<crate::Migrator>(backend, "contracts", 4).await
}

fn key(text: &str) -> Option<IdempotencyKey> {
    let mut metadata = tonic::metadata::MetadataMap::new();
    metadata.insert("idempotency-key", text.parse().unwrap());
    IdempotencyKey::from_metadata(&metadata, &mut FieldViolations::new())
}

/// An order of contract `id`, keyed with `with_key` if given; its answer
/// names the contract.
fn order(id: Uuid, with_key: Option<&str>) -> NewOrder {
    let now = crate::store::stored_time(chrono::Utc::now());
    let request = pb::PlaceOrderRequest {
        gig_id: "a gig".into(),
        ..Default::default()
    };
    let answer = pb::PlaceOrderResponse {
        contract: Some(pb::Contract {
            id: id.to_string(),
            ..Default::default()
        }),
    };
    let keyed = Keyed::new(
        "contracts.PlaceOrder:buyer",
        with_key.and_then(key),
        &request,
    );
    NewOrder {
        claim: keyed.claim_answering(&answer),
        rows: PlacedRows {
            contract: ContractRow {
                id,
                kind: "GIG_ORDER".into(),
                status: "PENDING_FUNDING".into(),
                client_id: Uuid::now_v7(),
                freelancer_id: Uuid::now_v7(),
                title: "A logo".into(),
                currency: "USD".into(),
                total_minor: 5_000,
                proposal_id: None,
                job_id: None,
                gig_id: Some(Uuid::now_v7()),
                hourly_rate_minor: None,
                weekly_limit_minutes: None,
                paused: false,
                created_at: now,
                stage: "PENDING_FUNDING".into(),
                reviews_close_at: None,
                updated_at: now,
            },
            milestone: MilestoneRow {
                id: Uuid::now_v7(),
                contract_id: id,
                position: 1,
                title: "Basic package".into(),
                amount_minor: 5_000,
                status: "PENDING".into(),
                funded_minor: 0,
                released_minor: 0,
                refunded_minor: 0,
                revisions_used: 0,
                due_at: None,
                settled_refund_minor: None,
            },
            order: OrderRow {
                contract_id: id,
                gig_id: Uuid::now_v7(),
                package_tier: 1,
                package_name: "Basic".into(),
                quantity: 1,
                extras: String::new(),
                delivery_days: 3,
                revisions_included: 1,
                questions: "[]".into(),
                answers: "[]".into(),
                requirements_at: None,
                due_at: None,
                late_at: None,
                extension_days: None,
                extension_reason: String::new(),
                extension_requested_at: None,
            },
            placed: TimelineRow {
                id: Uuid::now_v7(),
                contract_id: id,
                at: now,
                actor_id: None,
                action: "ORDER_PLACED".into(),
                milestone_id: None,
                details: "Ordered".into(),
            },
        },
    }
}

fn outbox() -> Outbox {
    Outbox::new("contracts", "test".into())
}

fn answered(answers: Vec<Result<Placed>>) -> Vec<Option<Placed>> {
    answers.into_iter().map(|answer| answer.ok()).collect()
}

async fn keys_once_per_batch_and_across_batches(backend: Backend) {
    let books = open(backend).await;
    let (first, again, plain) = (Uuid::now_v7(), Uuid::now_v7(), Uuid::now_v7());
    let batch = vec![
        order(first, Some("k")),
        order(again, Some("k")),
        order(plain, None),
    ];
    let answers = answered(write(&books.db, &outbox(), batch).await);
    use Placed::{KeyTaken, Written};
    assert_eq!(answers, [Some(Written), Some(KeyTaken), Some(Written)]);
    // A later batch finds the key taken, and writes nothing for it.
    let later = answered(write(&books.db, &outbox(), vec![order(Uuid::now_v7(), Some("k"))]).await);
    assert_eq!(later, [Some(KeyTaken)]);
    assert_eq!(books.count("SELECT COUNT(*) FROM contracts").await, 2);
    assert_eq!(books.count("SELECT COUNT(*) FROM milestones").await, 2);
    assert_eq!(books.count("SELECT COUNT(*) FROM orders").await, 2);
    assert_eq!(books.count("SELECT COUNT(*) FROM timeline").await, 2);
    assert_eq!(books.count("SELECT COUNT(*) FROM outbox").await, 2);
    // The key's answer is the first order's, recorded with it.
    let request = pb::PlaceOrderRequest {
        gig_id: "a gig".into(),
        ..Default::default()
    };
    let prior = find_prior(
        &books.db,
        "contracts.PlaceOrder:buyer",
        &key("k").unwrap(),
        &frevix_platform::db::idempotency::request_hash(&request),
    )
    .await
    .unwrap();
    let Prior::Response(bytes) = prior else {
        panic!("no answer recorded for the key");
    };
    let answer = <pb::PlaceOrderResponse as prost::Message>::decode(bytes.as_slice()).unwrap();
    assert_eq!(answer.contract.unwrap().id, first.to_string());
}

async fn a_failing_order_leaves_the_others_of_its_batch_written(backend: Backend) {
    let books = open(backend).await;
    let (one, two) = (Uuid::now_v7(), Uuid::now_v7());
    // The second order reuses the first's contract id: the batch fails on
    // it, and so does that order alone.
    let batch = vec![
        order(one, Some("a")),
        order(one, None),
        order(two, Some("b")),
    ];
    let answers = write(&books.db, &outbox(), batch).await;
    assert_eq!(answers.len(), 3);
    assert_eq!(answers[0].as_ref().ok(), Some(&Placed::Written));
    assert!(answers[1].is_err(), "the clashing order is refused");
    assert_eq!(answers[2].as_ref().ok(), Some(&Placed::Written));
    assert_eq!(books.count("SELECT COUNT(*) FROM contracts").await, 2);
    assert_eq!(books.count("SELECT COUNT(*) FROM milestones").await, 2);
    assert_eq!(books.count("SELECT COUNT(*) FROM outbox").await, 2);
    assert_eq!(
        books.count("SELECT COUNT(*) FROM idempotency_keys").await,
        2,
        "the failed batch's claims went with it; each order claimed again alone"
    );
}

frevix_testkit::on_both_backends!(
    keys_once_per_batch_and_across_batches,
    a_failing_order_leaves_the_others_of_its_batch_written,
);
