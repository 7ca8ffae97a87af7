//! Racing refunds of one charge at each provider (the sandbox, and Stripe
//! through the stand-in): 30 at once, 40.00 each, against a charge of
//! 1,000.00 — exactly 25 go through and the rest are refused; the
//! provider never gives back more than was charged.

use std::sync::Arc;

use frevix_payments::config::StripeConfig;
use frevix_payments::provider::{NewIntent, NewRefund, PaymentProvider, ProviderError, RecordKind};
use frevix_payments::{PaymentsConfig, ProviderKind};
use frevix_platform::money::{Currency, Money};
use frevix_stripe_standin::StandIn;
use secrecy::SecretString;
use uuid::Uuid;

async fn thirty_refunds_never_exceed_the_charge(provider: Arc<dyn PaymentProvider>) {
    let intent = provider
        .create_intent(&NewIntent {
            idempotency_key: format!("fund:{}", Uuid::now_v7()),
            amount: Money::new(Currency::USD, 100_000),
            contract: Uuid::now_v7(),
            subject: Uuid::now_v7(),
        })
        .await
        .unwrap();
    provider
        .confirm_intent(
            &intent.id,
            "pm_card_visa",
            &format!("confirm:{}", intent.id),
        )
        .await
        .unwrap();
    let now = chrono::Utc::now();
    let period = (
        now - chrono::Duration::hours(1),
        now + chrono::Duration::hours(1),
    );
    let charge = provider
        .records(period.0, period.1)
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.kind == RecordKind::Charge)
        .unwrap()
        .id;
    let mut racing = tokio::task::JoinSet::new();
    for n in 0..30 {
        let (provider, charge) = (provider.clone(), charge.clone());
        racing.spawn(async move {
            provider
                .refund(&NewRefund {
                    idempotency_key: format!("refund:{charge}:{n}"),
                    charge,
                    amount: Money::new(Currency::USD, 4_000),
                })
                .await
        });
    }
    let (mut refunded, mut refused) = (0, 0);
    while let Some(outcome) = racing.join_next().await {
        match outcome.unwrap() {
            Ok(_) => refunded += 1,
            Err(ProviderError::Invalid(_) | ProviderError::UnexpectedState(_)) => refused += 1,
            Err(other) => panic!("{other}"),
        }
    }
    assert_eq!((refunded, refused), (25, 5));
    let total: i64 = provider
        .records(period.0, period.1)
        .await
        .unwrap()
        .iter()
        .filter(|r| r.kind == RecordKind::Refund)
        .map(|r| r.amount_minor)
        .sum();
    assert_eq!(total, 100_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sandbox_refunds_no_more_than_was_charged() {
    let dir = tempfile::tempdir().unwrap();
    let provider = frevix_payments::open_provider(&PaymentsConfig::default(), dir.path())
        .await
        .unwrap();
    thirty_refunds_never_exceed_the_charge(provider).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stripe_refunds_no_more_than_was_charged() {
    let standin = StandIn::start("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let config = PaymentsConfig {
        provider: ProviderKind::Stripe,
        stripe: StripeConfig {
            secret_key: SecretString::from("sk_test_refunds"),
            api_base: standin.base().to_owned(),
            ..StripeConfig::default()
        },
        ..PaymentsConfig::default()
    };
    let dir = tempfile::tempdir().unwrap();
    let provider = frevix_payments::open_provider(&config, dir.path())
        .await
        .unwrap();
    thirty_refunds_never_exceed_the_charge(provider).await;
    assert_eq!(standin.totals().refunded, 100_000);
}
