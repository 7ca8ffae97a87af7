//! Hourly weeks charged to the client's saved card, through the real
//! services on both backends: a week logged, closed and approved by
//! contracts' clock is charged and released with the fee; a declined card
//! pauses the contract, and saving another card charges the week.

use frevix_proto::contracts::v1 as contracts;
use frevix_proto::payments::v1 as pb;
use frevix_testkit::status::{violated_fields, violations};
use frevix_testkit::{Backend, TestApp, TestClock, TestUser, authed, on_both_backends};

use crate::hire::{Hire, balance, eventually, hire_with, published, usd};
use crate::stripe::spawn_stripe_timed;

on_both_backends!(
    an_approved_week_is_charged_to_the_saved_card,
    an_approved_week_is_charged_to_the_card_saved_at_stripe,
);

async fn save_card(
    app: &TestApp,
    user: &TestUser,
    card: &str,
) -> Result<pb::SavedPaymentMethod, tonic::Status> {
    app.payments
        .clone()
        .save_payment_method(authed(
            &user.access_token,
            pb::SavePaymentMethodRequest {
                payment_method: card.into(),
            },
        ))
        .await
        .map(|r| r.into_inner().payment_method.unwrap())
}

async fn contract(app: &TestApp, hire: &Hire) -> contracts::Contract {
    app.contracts
        .clone()
        .get_contract(authed(
            &hire.client.access_token,
            contracts::GetContractRequest {
                contract_id: hire.contract.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .contract
        .unwrap()
}

/// Logs two hours today, then moves the clock past the week's close and
/// its review window: contracts approves the invoice (USD 90).
async fn bill_a_week(app: &TestApp, clock: &TestClock, hire: &Hire) {
    app.contracts
        .clone()
        .log_time(authed(
            &hire.freelancer.access_token,
            contracts::LogTimeRequest {
                contract_id: hire.contract.clone(),
                // The test clock starts on Monday 2026-11-30, noon.
                work_date: "2026-11-30".into(),
                minutes: 120,
                memo: "Availability endpoint".into(),
            },
        ))
        .await
        .unwrap();
    clock.advance(chrono::Duration::hours(156) + chrono::Duration::seconds(1));
    eventually(|| async { (!contract(app, hire).await.invoices.is_empty()).then_some(()) }).await;
    clock.advance(chrono::Duration::days(5) + chrono::Duration::seconds(1));
}

async fn an_approved_week_is_charged_to_the_saved_card(backend: Backend) {
    let clock = TestClock::new();
    let app = TestApp::spawn_timed(backend, clock.clock(), |_| {}).await;
    a_week_is_charged(&app, &clock).await;
}

async fn an_approved_week_is_charged_to_the_card_saved_at_stripe(backend: Backend) {
    let clock = TestClock::new();
    let (app, standin) = spawn_stripe_timed(backend, clock.clock()).await;
    a_week_is_charged(&app, &clock).await;
    let totals = standin.totals();
    assert_eq!(
        (totals.charges, totals.charged),
        (1, 9_000),
        "one charge, however often saved"
    );
    assert_eq!(standin.malformed_events(), Vec::<String>::new());
}

/// A week billed to a card declining its charges pauses the contract; a
/// card saved then charges it once.
async fn a_week_is_charged(app: &TestApp, clock: &TestClock) {
    let hire = hire_with(app, true).await;

    let unknown = save_card(app, &hire.client, "pm_made_up")
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&unknown), ["payment_method"]);
    let refused = save_card(app, &hire.client, "pm_card_chargeDeclined")
        .await
        .unwrap_err();
    assert_eq!(
        violations(&refused),
        [(
            "payment_method".to_owned(),
            "Your card was declined.".to_owned()
        )]
    );
    let declining = save_card(app, &hire.client, "pm_card_chargeCustomerFail")
        .await
        .unwrap();
    assert_eq!(
        (declining.brand.as_str(), declining.last4.as_str()),
        ("visa", "0341")
    );

    bill_a_week(app, clock, &hire).await;
    let failed = published::<pb::PaymentFailed>(app, 1).await;
    assert_eq!(failed[0].reason, "Your card was declined.");
    assert!(failed[0].milestone_id.is_empty());
    let invoice = failed[0].invoice_id.clone();
    assert_eq!(failed[0].amount, usd(9_000));
    eventually(|| async {
        let seen = contract(app, &hire).await;
        seen.hourly.as_ref().is_some_and(|h| h.paused).then_some(())
    })
    .await;
    assert_eq!(balance(app, &hire.client).await.client_spent, 0);

    // Another card: the week is charged to it, and released at once.
    let saved = save_card(app, &hire.client, "pm_card_visa").await.unwrap();
    assert_eq!(saved.last4, "4242");
    let released = published::<pb::EscrowReleased>(app, 1).await;
    assert_eq!(released[0].invoice_id, invoice);
    assert!(released[0].milestone_id.is_empty());
    assert_eq!(
        (released[0].amount.clone(), released[0].fee.clone()),
        (usd(8_100), usd(900))
    );
    let client = balance(app, &hire.client).await;
    assert_eq!((client.client_spent, client.client_in_escrow), (9_000, 0));
    assert_eq!(
        balance(app, &hire.freelancer).await.freelancer_payable,
        8_100
    );
    let card = app
        .payments
        .clone()
        .get_payment_method(authed(
            &hire.client.access_token,
            pb::GetPaymentMethodRequest {},
        ))
        .await
        .unwrap()
        .into_inner()
        .payment_method
        .unwrap();
    assert_eq!(card.last4, "4242");
    // Saving a card again charges nothing twice.
    save_card(app, &hire.client, "pm_card_mastercard")
        .await
        .unwrap();
    published::<pb::EscrowFunded>(app, 1).await;
}
