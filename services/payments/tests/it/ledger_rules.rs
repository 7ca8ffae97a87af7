//! The ledger's rules, through the store and past it: what code posts is
//! balanced and written once, and what a bug (or a hand-written fix)
//! writes straight into the tables is refused by the database itself.

use std::sync::Arc;

use frevix_payments::ledger::{Account, AccountKind, LedgerError};
use frevix_payments::store::{PostError, Posted, balance, post};
use frevix_platform::money::Currency;
use frevix_testkit::{Backend, on_both_backends};
use sea_orm::ConnectionTrait;

use crate::support::{Books, escrow, usd};

async fn a_release_moves_escrow_to_the_freelancer_and_the_fee(backend: Backend) {
    let books = Books::open(backend).await;
    let e = escrow();
    let now = chrono::Utc::now();
    let txn = books.txn().await;
    let fund = e.fund(usd(10_000), "ch_1").unwrap();
    assert_eq!(post(&txn, &fund, now).await.unwrap(), Posted::Written);
    let release = e.release(usd(10_000), 1_000).unwrap();
    assert_eq!(post(&txn, &release, now).await.unwrap(), Posted::Written);
    txn.commit().await.unwrap();

    let of = |kind, owner| Account::new(kind, owner, Currency::USD);
    let db = &books.db;
    assert_eq!(
        balance(db, &Account::escrow(e.milestone, Currency::USD))
            .await
            .unwrap(),
        0
    );
    assert_eq!(
        balance(db, &of(AccountKind::ClientFunding, e.client))
            .await
            .unwrap(),
        -10_000
    );
    assert_eq!(
        balance(db, &of(AccountKind::FreelancerPayable, e.freelancer))
            .await
            .unwrap(),
        9_000
    );
    assert!(
        balance(
            db,
            &Account::platform(AccountKind::PlatformRevenue, Currency::USD)
        )
        .await
        .unwrap()
            >= 1_000
    );

    // The same release again changes nothing; another under its id is a conflict.
    let txn = books.txn().await;
    assert_eq!(post(&txn, &release, now).await.unwrap(), Posted::Replayed);
    let other = e.release(usd(10_000), 500).unwrap();
    assert!(matches!(
        post(&txn, &other, now).await,
        Err(PostError::Ledger(LedgerError::Conflict(_)))
    ));
    txn.commit().await.unwrap();
    assert_eq!(
        balance(db, &of(AccountKind::FreelancerPayable, e.freelancer))
            .await
            .unwrap(),
        9_000
    );
    books.assert_right().await;
}

async fn escrow_never_gives_more_than_it_holds(backend: Backend) {
    let books = Books::open(backend).await;
    let e = escrow();
    let now = chrono::Utc::now();
    let txn = books.txn().await;
    post(&txn, &e.fund(usd(5_000), "ch_2").unwrap(), now)
        .await
        .unwrap();
    let refused = post(&txn, &e.release(usd(5_001), 0).unwrap(), now).await;
    assert!(
        matches!(refused, Err(PostError::Ledger(LedgerError::Overdrawn(_)))),
        "{refused:?}"
    );
    // The refusal left the transaction usable, and nothing of the release.
    post(&txn, &e.refund(usd(5_000)).unwrap(), now)
        .await
        .unwrap();
    txn.commit().await.unwrap();
    assert_eq!(
        balance(&books.db, &Account::escrow(e.milestone, Currency::USD))
            .await
            .unwrap(),
        0
    );
    // A second charge applied by another transaction is refused.
    let again = escrow();
    let txn = books.txn().await;
    assert!(matches!(
        post(&txn, &again.fund(usd(100), "ch_2").unwrap(), now).await,
        Err(PostError::Ledger(LedgerError::ProviderRefTaken(_)))
    ));
    txn.commit().await.unwrap();
    books.assert_right().await;
}

/// Statements a bug could run, each refused by the database.
async fn the_database_refuses_what_breaks_the_books(backend: Backend) {
    let books = Books::open(backend).await;
    let e = escrow();
    let txn = books.txn().await;
    post(
        &txn,
        &e.fund(usd(5_000), "ch_3").unwrap(),
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    txn.commit().await.unwrap();
    let id = format!("fund:{}", e.milestone);
    let escrow_key = Account::escrow(e.milestone, Currency::USD).key();
    let funding_key = Account::new(AccountKind::ClientFunding, e.client, Currency::USD).key();
    let now = if backend == Backend::Postgres {
        "now()"
    } else {
        "'2026-11-30T00:00:00Z'"
    };
    let forged = [
        (
            "an entry changed",
            format!("UPDATE ledger_entries SET amount_minor = 1 WHERE transaction_id = '{id}'"),
        ),
        (
            "an entry removed",
            format!("DELETE FROM ledger_entries WHERE transaction_id = '{id}'"),
        ),
        (
            "a header changed",
            format!("UPDATE ledger_transactions SET kind = 'refund' WHERE id = '{id}'"),
        ),
        (
            "a header removed",
            format!("DELETE FROM ledger_transactions WHERE id = '{id}'"),
        ),
        (
            "an entry added to a sealed transaction",
            format!("INSERT INTO ledger_entries VALUES ('{id}', 3, '{escrow_key}', 'USD', 1)"),
        ),
        (
            "an entry in another currency",
            format!("INSERT INTO ledger_entries VALUES ('x', 1, '{escrow_key}', 'EUR', 1)"),
        ),
        (
            "escrow below zero",
            format!("INSERT INTO ledger_entries VALUES ('x', 1, '{escrow_key}', 'USD', -5001)"),
        ),
        (
            "a header over no entries",
            format!(
                "INSERT INTO ledger_transactions VALUES ('y', 'fund', 'USD', NULL, NULL, NULL, 'f', {now})"
            ),
        ),
    ];
    for (what, sql) in forged {
        let result = books.db.execute_unprepared(&sql).await;
        assert!(result.is_err(), "{what} was accepted");
    }
    // Unbalanced entries cannot be sealed.
    let txn = books.txn().await;
    txn.execute_unprepared(&format!(
        "INSERT INTO ledger_entries VALUES ('z', 1, '{escrow_key}', 'USD', 100)"
    ))
    .await
    .unwrap();
    txn.execute_unprepared(&format!(
        "INSERT INTO ledger_entries VALUES ('z', 2, '{funding_key}', 'USD', -99)"
    ))
    .await
    .unwrap();
    let sealed = txn
        .execute_unprepared(&format!(
            "INSERT INTO ledger_transactions VALUES ('z', 'fund', 'USD', NULL, NULL, NULL, 'f', {now})"
        ))
        .await;
    assert!(sealed.is_err(), "an unbalanced transaction was sealed");
    txn.rollback().await.unwrap();
    books.assert_right().await;
}

/// 40 releases of one escrow at once, each under its own id: the escrow
/// pays once. 40 postings of one id at once: written once.
async fn racing_postings_move_money_once(backend: Backend) {
    let books = Arc::new(Books::open(backend).await);
    let e = escrow();
    let txn = books.txn().await;
    post(
        &txn,
        &e.fund(usd(8_000), "ch_4").unwrap(),
        chrono::Utc::now(),
    )
    .await
    .unwrap();
    txn.commit().await.unwrap();
    let mut tasks = Vec::new();
    for i in 0..40 {
        let books = books.clone();
        tasks.push(tokio::spawn(async move {
            // Half under ids of their own (as a bug deriving ids wrongly
            // would post them), half under the release's one id.
            let release = if i % 2 == 0 {
                let t = e.release(usd(8_000), 800).unwrap();
                frevix_payments::ledger::Transaction::new(
                    frevix_payments::ledger::TransactionId::new(format!(
                        "release-{i}:{}",
                        e.milestone
                    ))
                    .unwrap(),
                    t.kind(),
                    t.currency(),
                    t.postings().to_vec(),
                )
                .unwrap()
            } else {
                e.release(usd(8_000), 800).unwrap()
            };
            let txn = books.txn().await;
            let outcome = post(&txn, &release, chrono::Utc::now()).await;
            txn.commit().await.unwrap();
            outcome
        }));
    }
    let mut written = 0;
    for task in tasks {
        match task.await.unwrap() {
            Ok(Posted::Written) => written += 1,
            Ok(Posted::Replayed) | Err(PostError::Ledger(LedgerError::Overdrawn(_))) => {}
            Err(other) => panic!("{other:?}"),
        }
    }
    assert_eq!(written, 1, "the escrow paid out once");
    assert_eq!(
        balance(
            &books.db,
            &Account::new(AccountKind::FreelancerPayable, e.freelancer, Currency::USD)
        )
        .await
        .unwrap(),
        7_200
    );
    books.assert_right().await;
}

on_both_backends!(
    a_release_moves_escrow_to_the_freelancer_and_the_fee,
    escrow_never_gives_more_than_it_holds,
    the_database_refuses_what_breaks_the_books,
    racing_postings_move_money_once,
);
