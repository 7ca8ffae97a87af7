//! Contract terms recorded from contracts' events, on both backends: once
//! however often an event comes, milestones in their agreed order, added
//! milestones and approved invoices beside them.

use frevix_payments::store::terms;
use frevix_payments::terms::{Billing, ContractTerms, InvoiceTerms, milestone};
use frevix_platform::money::Currency;
use frevix_proto::common::v1 as common;
use frevix_proto::contracts::v1 as contracts;
use frevix_testkit::{Backend, on_both_backends};
use uuid::Uuid;

use crate::support::Books;

fn usd(minor_units: i64) -> Option<common::Money> {
    Some(common::Money {
        currency_code: "USD".into(),
        minor_units,
    })
}

fn planned(position: i32, amount: i64) -> contracts::Milestone {
    contracts::Milestone {
        id: Uuid::now_v7().to_string(),
        title: format!("Part {position}"),
        amount: usd(amount),
        position,
        ..Default::default()
    }
}

async fn a_contract_is_recorded_once_with_its_milestones(backend: Backend) {
    let books = Books::open(backend).await;
    let event = contracts::ContractCreated {
        contract_id: Uuid::now_v7().to_string(),
        client_id: Uuid::now_v7().to_string(),
        freelancer_id: Uuid::now_v7().to_string(),
        milestones: vec![planned(2, 20_000), planned(1, 10_000)],
        ..Default::default()
    };
    let contract = ContractTerms::from_event(&event).unwrap();
    let now = chrono::Utc::now();
    for (attempt, expected) in [(1, true), (2, false), (3, false)] {
        let txn = books.txn().await;
        let recorded = terms::record_contract(&txn, &contract, now).await.unwrap();
        txn.commit().await.unwrap();
        assert_eq!(recorded, expected, "delivery {attempt} of the event");
    }
    let row = terms::find_contract(&books.db, contract.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (row.client_id, row.currency.as_str()),
        (contract.client, "USD")
    );
    assert_eq!(row.hourly_rate_minor, None);
    let amounts: Vec<i64> = terms::milestones_of(&books.db, contract.id)
        .await
        .unwrap()
        .iter()
        .map(|m| m.amount_minor)
        .collect();
    assert_eq!(amounts, [10_000, 20_000], "in their agreed order");

    // A milestone added later joins them, once.
    let added = milestone("milestone", &planned(3, 5_000), Some(Currency::USD)).unwrap();
    let txn = books.txn().await;
    assert!(
        terms::add_milestone(&txn, contract.id, &added)
            .await
            .unwrap()
    );
    assert!(
        !terms::add_milestone(&txn, contract.id, &added)
            .await
            .unwrap()
    );
    txn.commit().await.unwrap();
    assert_eq!(
        terms::milestones_of(&books.db, contract.id)
            .await
            .unwrap()
            .len(),
        3
    );
    let stored = terms::find_milestone(&books.db, added.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((stored.position, stored.amount_minor), (3, 5_000));
}

async fn an_hourly_contract_keeps_its_rate_and_approved_weeks(backend: Backend) {
    let books = Books::open(backend).await;
    let event = contracts::ContractCreated {
        contract_id: Uuid::now_v7().to_string(),
        client_id: Uuid::now_v7().to_string(),
        freelancer_id: Uuid::now_v7().to_string(),
        hourly: Some(contracts::HourlyTerms {
            rate: usd(4_500),
            weekly_limit_minutes: 1_200,
            paused: false,
        }),
        ..Default::default()
    };
    let contract = ContractTerms::from_event(&event).unwrap();
    assert!(matches!(contract.billing, Billing::Hourly { .. }));
    let now = chrono::Utc::now();
    let txn = books.txn().await;
    terms::record_contract(&txn, &contract, now).await.unwrap();
    let week = InvoiceTerms::from_event(&contracts::HourlyInvoiceApproved {
        contract_id: contract.id.to_string(),
        invoice_id: Uuid::now_v7().to_string(),
        client_id: contract.client.to_string(),
        freelancer_id: contract.freelancer.to_string(),
        week_start: "2026-11-23".into(),
        minutes: 90,
        amount: usd(6_750),
    })
    .unwrap();
    assert!(terms::record_invoice(&txn, &week, now).await.unwrap());
    assert!(!terms::record_invoice(&txn, &week, now).await.unwrap());
    txn.commit().await.unwrap();
    let row = terms::find_contract(&books.db, contract.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (row.hourly_rate_minor, row.weekly_limit_minutes),
        (Some(4_500), Some(1_200))
    );
    let invoice = terms::find_invoice(&books.db, week.id)
        .await
        .unwrap()
        .unwrap();
    assert_eq!((invoice.minutes, invoice.amount_minor), (90, 6_750));
    assert!(
        terms::milestones_of(&books.db, contract.id)
            .await
            .unwrap()
            .is_empty()
    );
}

/// The same ContractCreated handled 30 times at once (replicas, redeliveries):
/// recorded by one, its milestones once.
async fn thirty_racing_deliveries_record_a_contract_once(backend: Backend) {
    let books = std::sync::Arc::new(Books::open(backend).await);
    let event = contracts::ContractCreated {
        contract_id: Uuid::now_v7().to_string(),
        client_id: Uuid::now_v7().to_string(),
        freelancer_id: Uuid::now_v7().to_string(),
        milestones: vec![planned(1, 10_000), planned(2, 20_000)],
        ..Default::default()
    };
    let contract = ContractTerms::from_event(&event).unwrap();
    let mut racers = Vec::new();
    for _ in 0..30 {
        let (books, contract) = (books.clone(), contract.clone());
        racers.push(tokio::spawn(async move {
            let txn = books.txn().await;
            let recorded = terms::record_contract(&txn, &contract, chrono::Utc::now())
                .await
                .unwrap();
            txn.commit().await.unwrap();
            recorded
        }));
    }
    let mut recorded = 0;
    for racer in racers {
        recorded += usize::from(racer.await.unwrap());
    }
    assert_eq!(recorded, 1, "one delivery recorded it");
    assert_eq!(
        terms::milestones_of(&books.db, contract.id)
            .await
            .unwrap()
            .len(),
        2
    );
}

on_both_backends!(
    thirty_racing_deliveries_record_a_contract_once,
    a_contract_is_recorded_once_with_its_milestones,
    an_hourly_contract_keeps_its_rate_and_approved_weeks,
);
