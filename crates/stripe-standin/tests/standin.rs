//! The stand-in as async-stripe's own client meets it: Stripe's rules for
//! idempotency keys, refunds, transfers and connected accounts, webhooks
//! that verify with Stripe's scheme, and a body check that refuses the
//! shapes other emulators answer with.

// A failed expectation should panic in a test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::sync::{Arc, Mutex};

use axum::routing::post;
use frevix_stripe_standin::check::{Shape, parses_as};
use frevix_stripe_standin::{Endpoint, StandIn};
use stripe::{Client, ClientBuilder, IdempotencyKey, RequestStrategy, StripeError, StripeRequest};
use stripe_connect::account::CreateAccount;
use stripe_connect::transfer::CreateTransfer;
use stripe_connect::transfer_reversal::CreateIdTransferReversal;
use stripe_core::balance_transaction::ListBalanceTransaction;
use stripe_core::payment_intent::CreatePaymentIntent;
use stripe_core::refund::CreateRefund;
use stripe_types::Currency;

async fn standin() -> (StandIn, Client) {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let standin = StandIn::start("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let client = ClientBuilder::new("sk_test_standin")
        .url(standin.base())
        .build()
        .unwrap();
    (standin, client)
}

fn key(text: &str) -> RequestStrategy {
    RequestStrategy::Idempotent(IdempotencyKey::new(text).unwrap())
}

/// Stripe's error code and type of a refused call.
fn refusal(error: StripeError) -> (u16, String) {
    match error {
        StripeError::Stripe(api, status) => (
            status,
            api.code
                .map(|c| c.to_string())
                .unwrap_or_else(|| api.type_.to_string()),
        ),
        other => panic!("not a refusal: {other}"),
    }
}

/// A charge of `amount` cents, paid with the test Visa.
async fn paid(client: &Client, amount: i64) -> String {
    let intent = CreatePaymentIntent::new(amount, Currency::USD)
        .payment_method("pm_card_visa")
        .confirm(true)
        .send(client)
        .await
        .unwrap();
    assert_eq!(intent.status, stripe_shared::PaymentIntentStatus::Succeeded);
    intent.latest_charge.unwrap().id().to_string()
}

#[tokio::test]
async fn an_idempotency_key_answers_the_first_answer_and_refuses_other_parameters() {
    let (standin, client) = standin().await;
    let create = CreatePaymentIntent::new(5_000, Currency::USD).transfer_group("contract-1");
    let first = create
        .customize()
        .request_strategy(key("fund:m1"))
        .send(&client)
        .await
        .unwrap();
    let again = create
        .customize()
        .request_strategy(key("fund:m1"))
        .send(&client)
        .await
        .unwrap();
    assert_eq!(first.id, again.id);
    let other = CreatePaymentIntent::new(6_000, Currency::USD).transfer_group("contract-1");
    let error = other
        .customize()
        .request_strategy(key("fund:m1"))
        .send(&client)
        .await
        .unwrap_err();
    assert_eq!(refusal(error), (400, "idempotency_error".into()));
    // A confirmation repeated under its key charges once.
    let confirm = stripe_core::payment_intent::ConfirmPaymentIntent::new(first.id.as_str())
        .payment_method("pm_card_visa");
    for _ in 0..3 {
        confirm
            .customize()
            .request_strategy(key("confirm:m1"))
            .send(&client)
            .await
            .unwrap();
    }
    assert_eq!(standin.totals().charges, 1);
}

#[tokio::test]
async fn refunds_never_exceed_what_a_charge_has_left() {
    let (standin, client) = standin().await;
    let charge = paid(&client, 1_000).await;
    CreateRefund::new()
        .charge(charge.clone())
        .amount(600)
        .send(&client)
        .await
        .unwrap();
    let error = CreateRefund::new()
        .charge(charge.clone())
        .amount(500)
        .send(&client)
        .await
        .unwrap_err();
    assert_eq!(refusal(error), (400, "amount_too_large".into()));
    CreateRefund::new()
        .charge(charge.clone())
        .amount(400)
        .send(&client)
        .await
        .unwrap();
    let error = CreateRefund::new()
        .charge(charge)
        .send(&client)
        .await
        .unwrap_err();
    assert_eq!(refusal(error), (400, "charge_already_refunded".into()));
    assert_eq!(
        (standin.totals().refunds, standin.totals().refunded),
        (2, 1_000)
    );
}

#[tokio::test]
async fn transfers_need_an_onboarded_account_and_a_source_with_funds_left() {
    let (standin, client) = standin().await;
    let charge = paid(&client, 10_000).await;
    let account = CreateAccount::new()
        .country("US")
        .send(&client)
        .await
        .unwrap();
    let transfer = |amount: i64, source: Option<&str>| {
        let mut request = CreateTransfer::new(Currency::USD, account.id.as_str())
            .amount(amount)
            .transfer_group("contract-2");
        if let Some(source) = source {
            request = request.source_transaction(source);
        }
        request
    };
    let error = transfer(9_000, Some(&charge))
        .send(&client)
        .await
        .unwrap_err();
    assert_eq!(
        refusal(error),
        (400, "insufficient_capabilities_for_transfer".into())
    );
    let page = reqwest_get(&format!(
        "{}standin/onboarding/{}",
        standin.base(),
        account.id
    ))
    .await;
    assert_eq!(page, 200);

    let error = transfer(9_000, None).send(&client).await.unwrap_err();
    assert_eq!(refusal(error), (400, "balance_insufficient".into()));
    let sent = transfer(9_000, Some(&charge)).send(&client).await.unwrap();
    let error = transfer(1_001, Some(&charge))
        .send(&client)
        .await
        .unwrap_err();
    assert_eq!(refusal(error), (400, "balance_insufficient".into()));
    let error = CreateIdTransferReversal::new(sent.id.as_str())
        .amount(9_001)
        .send(&client)
        .await
        .unwrap_err();
    assert_eq!(
        refusal(error),
        (400, "transfer_reversal_amount_too_large".into())
    );
    CreateIdTransferReversal::new(sent.id.as_str())
        .amount(4_000)
        .send(&client)
        .await
        .unwrap();
    // What was reversed may go out again.
    transfer(5_000, Some(&charge)).send(&client).await.unwrap();

    // The connected account sees its own balance with `Stripe-Account`.
    let own = ListBalanceTransaction::new()
        .customize()
        .account_id(account.id.clone())
        .send(&client)
        .await
        .unwrap();
    let net: i64 = own.data.iter().map(|t| t.amount).sum();
    assert_eq!(net, 9_000 - 4_000 + 5_000);
    let unknown = ListBalanceTransaction::new()
        .customize()
        .account_id(stripe::AccountId::from("acct_nobody"))
        .send(&client)
        .await
        .unwrap_err();
    assert_eq!(refusal(unknown).0, 403);
    let platform = ListBalanceTransaction::new()
        .limit(100)
        .send(&client)
        .await
        .unwrap();
    let kinds: Vec<String> = platform.data.iter().map(|t| t.type_.to_string()).collect();
    assert_eq!(
        kinds,
        ["transfer", "transfer_refund", "transfer", "charge"],
        "newest first"
    );
}

/// The HTTP status of a GET (redirects not followed).
async fn reqwest_get(url: &str) -> u16 {
    let output = tokio::process::Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}"])
        .arg(url)
        .output()
        .await
        .unwrap();
    String::from_utf8(output.stdout).unwrap().parse().unwrap()
}

#[tokio::test]
async fn webhooks_verify_with_stripes_scheme_and_are_retried_until_taken() {
    let (standin, client) = standin().await;
    let seen: Arc<Mutex<Vec<(String, bool)>>> = Arc::default();
    let refuse_first = Arc::new(Mutex::new(true));
    let router = {
        let seen = seen.clone();
        axum::Router::new().route(
            "/hook",
            post(move |headers: axum::http::HeaderMap, body: String| {
                let seen = seen.clone();
                let refuse_first = refuse_first.clone();
                async move {
                    let signature = headers["stripe-signature"].to_str().unwrap().to_owned();
                    let verified =
                        stripe_webhook::Webhook::construct_event(&body, &signature, "whsec_hook");
                    let kind = verified
                        .as_ref()
                        .map(|e| e.type_.to_string())
                        .unwrap_or_default();
                    seen.lock().unwrap().push((kind, verified.is_ok()));
                    let mut refuse = refuse_first.lock().unwrap();
                    if *refuse {
                        *refuse = false;
                        return axum::http::StatusCode::SERVICE_UNAVAILABLE;
                    }
                    axum::http::StatusCode::OK
                }
            }),
        )
    };
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hook", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, router).await });
    standin.set_endpoint(Endpoint {
        url,
        secret: "whsec_hook".into(),
    });
    paid(&client, 2_500).await;
    for _ in 0..100 {
        if standin.undelivered() == 0 && seen.lock().unwrap().len() >= 4 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
    let seen = seen.lock().unwrap().clone();
    assert!(seen.iter().all(|(_, verified)| *verified), "{seen:?}");
    let kinds: Vec<&str> = seen.iter().map(|(k, _)| k.as_str()).collect();
    for kind in [
        "payment_intent.created",
        "charge.succeeded",
        "payment_intent.succeeded",
    ] {
        assert!(kinds.contains(&kind), "{kinds:?}");
    }
    let retried = standin
        .deliveries()
        .iter()
        .filter(|d| d.attempts == 2)
        .count();
    assert_eq!(retried, 1, "the refused delivery came again");
    assert_eq!(standin.undelivered(), 0);
    assert_eq!(standin.malformed_events(), Vec::<String>::new());
}

#[test]
fn the_body_check_refuses_what_async_stripe_cannot_parse() {
    // The shape localstripe answers: no amount_capturable, amount_received,
    // confirmation_method or payment_method_types.
    let localstripe = r#"{"id":"pi_1","object":"payment_intent","amount":100,"currency":"usd",
        "capture_method":"automatic","created":1,"livemode":false,"metadata":{},"status":"succeeded"}"#;
    assert!(!parses_as(Shape::PaymentIntent, localstripe));
    let whole = r#"{"id":"pi_1","object":"payment_intent","amount":100,"amount_capturable":0,
        "amount_received":100,"currency":"usd","capture_method":"automatic","confirmation_method":"automatic",
        "created":1,"livemode":false,"metadata":{},"payment_method_types":["card"],"status":"succeeded"}"#;
    assert!(parses_as(Shape::PaymentIntent, whole));
    assert!(!parses_as(Shape::Refund, r#"{"id":"re_1","amount":5}"#));
}

#[tokio::test]
async fn intents_are_captured_cancelled_and_authenticated_as_at_stripe() {
    use stripe_core::payment_intent::{
        CancelPaymentIntent, CapturePaymentIntent, ConfirmPaymentIntent,
    };
    use stripe_shared::PaymentIntentStatus as S;
    let (standin, client) = standin().await;

    // Captured by hand: authorized on confirmation, charged on capture.
    let held = CreatePaymentIntent::new(3_000, Currency::USD)
        .capture_method(stripe_shared::PaymentIntentCaptureMethod::Manual)
        .payment_method("pm_card_visa")
        .confirm(true)
        .send(&client)
        .await
        .unwrap();
    assert_eq!(
        (held.status, held.amount_capturable),
        (S::RequiresCapture, 3_000)
    );
    assert_eq!(standin.totals().charges, 0);
    let captured = CapturePaymentIntent::new(held.id.as_str())
        .send(&client)
        .await
        .unwrap();
    assert_eq!(
        (captured.status, captured.amount_received),
        (S::Succeeded, 3_000)
    );
    let again = CapturePaymentIntent::new(held.id.as_str())
        .send(&client)
        .await
        .unwrap_err();
    assert_eq!(
        refusal(again),
        (400, "payment_intent_unexpected_state".into())
    );
    let late = CancelPaymentIntent::new(held.id.as_str())
        .send(&client)
        .await
        .unwrap_err();
    assert_eq!(
        refusal(late),
        (400, "payment_intent_unexpected_state".into())
    );

    // Cancelled before anyone paid.
    let open = CreatePaymentIntent::new(1_000, Currency::USD)
        .send(&client)
        .await
        .unwrap();
    let cancelled = CancelPaymentIntent::new(open.id.as_str())
        .send(&client)
        .await
        .unwrap();
    assert_eq!(cancelled.status, S::Canceled);

    // Declined: a card error carrying the intent, which waits for a new card.
    let declined = CreatePaymentIntent::new(1_000, Currency::USD)
        .send(&client)
        .await
        .unwrap();
    let error = ConfirmPaymentIntent::new(declined.id.as_str())
        .payment_method("pm_card_chargeDeclinedInsufficientFunds")
        .send(&client)
        .await
        .unwrap_err();
    match error {
        StripeError::Stripe(api, 402) => {
            assert_eq!(api.decline_code.as_deref(), Some("insufficient_funds"));
            let intent = api.payment_intent.unwrap();
            assert_eq!(intent.status, S::RequiresPaymentMethod);
            assert_eq!(
                intent.last_payment_error.unwrap().message.as_deref(),
                Some("Your card has insufficient funds.")
            );
        }
        other => panic!("{other}"),
    }

    // 3-D Secure: the cardholder's page, then paid.
    let challenged = ConfirmPaymentIntent::new(declined.id.as_str())
        .payment_method("pm_card_authenticationRequired")
        .return_url("https://app.example/back")
        .send(&client)
        .await
        .unwrap();
    assert_eq!(challenged.status, S::RequiresAction);
    let page = challenged
        .next_action
        .unwrap()
        .redirect_to_url
        .unwrap()
        .url
        .unwrap();
    assert_eq!(reqwest_get(&page).await, 303);
    let paid = stripe_core::payment_intent::RetrievePaymentIntent::new(declined.id.as_str())
        .send(&client)
        .await
        .unwrap();
    assert_eq!(paid.status, S::Succeeded);
    assert_eq!(standin.totals().charges, 2);
}
