//! Property test of the ledger against a model, on both databases: random
//! sequences of fundings, releases, refunds, splits, payouts and replays.
//! After each step the store answers what the model expects (written,
//! replayed, conflict, overdrawn); at the end every balance is the model's
//! and the books' rules hold.

use std::collections::HashMap;

use frevix_payments::ledger::{Account, AccountKind, Escrow, LedgerError, Transaction, payout};
use frevix_payments::store::{PostError, Posted, balance, post};
use frevix_platform::money::Currency;
use frevix_testkit::Backend;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use uuid::Uuid;

use crate::support::{Books, usd};

const MILESTONES: usize = 3;
const FEE_BPS: i64 = 1_000;

#[derive(Debug, Clone)]
enum Op {
    Fund(usize, i64),
    Release(usize, i64),
    Refund(usize, i64),
    Settle(usize, i64),
    Payout(u8, i64),
    Replay(usize),
}

fn op() -> impl Strategy<Value = Op> {
    let m = 0..MILESTONES;
    let amount = 1i64..20_000;
    prop_oneof![
        (m.clone(), amount.clone()).prop_map(|(m, a)| Op::Fund(m, a)),
        (m.clone(), amount.clone()).prop_map(|(m, a)| Op::Release(m, a)),
        (m.clone(), amount.clone()).prop_map(|(m, a)| Op::Refund(m, a)),
        (m, 0i64..=10_000).prop_map(|(m, bps)| Op::Settle(m, bps)),
        (0u8..3, amount).prop_map(|(n, a)| Op::Payout(n, a)),
        (0usize..50).prop_map(Op::Replay),
    ]
}

/// What the store should hold.
#[derive(Default)]
struct Model {
    balances: HashMap<Account, i64>,
    written: HashMap<String, Transaction>,
    order: Vec<String>,
}

impl Model {
    fn expect(&self, transaction: &Transaction) -> Result<Posted, &'static str> {
        if let Some(before) = self.written.get(transaction.id().as_str()) {
            return if before.fingerprint() == transaction.fingerprint() {
                Ok(Posted::Replayed)
            } else {
                Err("conflict")
            };
        }
        let overdrawn = transaction.postings().iter().any(|p| {
            let after = self.balances.get(&p.account).copied().unwrap_or(0) + p.amount;
            after < 0 && !p.account.kind.may_go_negative()
        });
        if overdrawn {
            Err("overdrawn")
        } else {
            Ok(Posted::Written)
        }
    }

    fn apply(&mut self, transaction: &Transaction) {
        for p in transaction.postings() {
            *self.balances.entry(p.account).or_insert(0) += p.amount;
        }
        self.order.push(transaction.id().to_string());
        self.written
            .insert(transaction.id().to_string(), transaction.clone());
    }

    fn held(&self, escrow: &Escrow) -> i64 {
        let account = Account::escrow(escrow.milestone, Currency::USD);
        self.balances.get(&account).copied().unwrap_or(0)
    }
}

fn describe(outcome: &Result<Posted, PostError>) -> Result<Posted, &'static str> {
    match outcome {
        Ok(posted) => Ok(*posted),
        Err(PostError::Ledger(LedgerError::Conflict(_))) => Err("conflict"),
        Err(PostError::Ledger(LedgerError::Overdrawn(_))) => Err("overdrawn"),
        Err(other) => panic!("unexpected: {other:?}"),
    }
}

async fn run_case(books: &Books, ops: Vec<Op>) -> Result<(), TestCaseError> {
    let (client, freelancer) = (Uuid::now_v7(), Uuid::now_v7());
    let escrows: Vec<Escrow> = (0..MILESTONES)
        .map(|_| Escrow {
            contract: Uuid::now_v7(),
            milestone: Uuid::now_v7(),
            client,
            freelancer,
            currency: Currency::USD,
        })
        .collect();
    let payouts: Vec<Uuid> = (0..3).map(|_| Uuid::now_v7()).collect();
    // The platform's accounts are shared by every case: they are compared
    // by what this case added.
    let revenue = Account::platform(AccountKind::PlatformRevenue, Currency::USD);
    let revenue_before = balance(&books.db, &revenue).await.unwrap();
    let mut model = Model::default();
    for op in ops {
        let transaction = match op {
            Op::Fund(m, a) => escrows[m].fund(usd(a), &format!("ch_{}", escrows[m].milestone)),
            Op::Release(m, a) => escrows[m].release(usd(a), a * FEE_BPS / 10_000),
            Op::Refund(m, a) => escrows[m].refund(usd(a)),
            Op::Settle(m, bps) => {
                let held = model.held(&escrows[m]);
                let refund = held * bps / 10_000;
                let release = held - refund;
                escrows[m].settle(refund, release, release * FEE_BPS / 10_000)
            }
            Op::Payout(n, a) => payout(
                payouts[usize::from(n)],
                freelancer,
                usd(a),
                &format!("tr_{}", payouts[usize::from(n)]),
            ),
            Op::Replay(k) if !model.order.is_empty() => {
                let id = &model.order[k % model.order.len()];
                Ok(model.written[id].clone())
            }
            Op::Replay(_) => continue,
        };
        // Nothing held to split: refused before it reaches the ledger.
        let Ok(transaction) = transaction else {
            continue;
        };
        let expected = model.expect(&transaction);
        let txn = books.txn().await;
        let outcome = post(&txn, &transaction, chrono::Utc::now()).await;
        txn.commit().await.unwrap();
        prop_assert_eq!(describe(&outcome), expected, "{:?}", transaction.id());
        if expected == Ok(Posted::Written) {
            model.apply(&transaction);
        }
    }
    for (account, expected) in &model.balances {
        let before = if *account == revenue {
            revenue_before
        } else {
            0
        };
        prop_assert_eq!(
            balance(&books.db, account).await.unwrap() - before,
            *expected
        );
    }
    // Each milestone: funded = released + refunded + still held.
    for escrow in &escrows {
        let account = Account::escrow(escrow.milestone, Currency::USD);
        let moved: i64 = model
            .written
            .values()
            .filter(|t| t.milestone_id == Some(escrow.milestone))
            .flat_map(|t| t.postings().iter().filter(|p| p.account == account))
            .map(|p| p.amount)
            .sum();
        prop_assert_eq!(moved, balance(&books.db, &account).await.unwrap());
    }
    let paid_out = Account::new(AccountKind::FreelancerPaidOut, freelancer, Currency::USD);
    prop_assert!(balance(&books.db, &paid_out).await.unwrap() >= 0);
    let problems = frevix_payments::store::books(&books.db).await.unwrap();
    prop_assert!(problems.is_empty(), "{:#?}", problems);
    Ok(())
}

fn random_sequences_keep_the_books(backend: Backend, cases: u32) {
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let books = runtime.block_on(Books::open(backend));
    let mut runner = TestRunner::new(Config {
        cases,
        failure_persistence: None,
        ..Config::default()
    });
    runner
        .run(&proptest::collection::vec(op(), 1..40), |ops| {
            runtime.block_on(run_case(&books, ops))
        })
        .unwrap();
}

mod postgres {
    #[test]
    fn random_sequences_keep_the_books() {
        super::random_sequences_keep_the_books(frevix_testkit::Backend::Postgres, 24);
    }
}

mod sqlite {
    #[test]
    fn random_sequences_keep_the_books() {
        super::random_sequences_keep_the_books(frevix_testkit::Backend::Sqlite, 48);
    }
}
