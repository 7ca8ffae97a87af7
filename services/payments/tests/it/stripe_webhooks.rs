//! Stripe's webhooks as they arrive on a bad day, on both backends: forged
//! and stale deliveries refused with nothing recorded; every event sent
//! twice, out of order and partly dropped, and the money still moved
//! exactly once.

use std::time::Duration;

use frevix_proto::contracts::v1::MilestoneStatus;
use frevix_proto::payments::v1 as pb;
use frevix_stripe_standin::{Faults, signature};
use frevix_testkit::{Backend, TestApp, on_both_backends};
use serde_json::json;

use crate::hire::{contract, fund, hire, milestone_reaches, published};
use crate::stripe::{WEBHOOK_SECRET, onboard_at_stripe, spawn_with_stripe};

on_both_backends!(
    forged_and_stale_webhooks_are_refused_and_record_nothing,
    repeated_reordered_and_dropped_webhooks_move_money_once,
    a_late_account_event_does_not_undo_onboarding,
);

/// POSTs `payload` to the app's webhook endpoint with `header` as its
/// signature; answers the HTTP status.
async fn deliver(app: &TestApp, payload: &str, header: &str) -> String {
    let output = tokio::process::Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST"])
        .args(["-H", "content-type: application/json"])
        .args(["-H", &format!("stripe-signature: {header}")])
        .args(["--data-binary", payload])
        .arg(format!("{}/webhooks/stripe", app.url()))
        .output()
        .await
        .unwrap();
    String::from_utf8(output.stdout).unwrap()
}

/// A `payment_intent.succeeded` for `intent`, as Stripe would send it.
fn succeeded(intent: &str, amount: i64) -> String {
    json!({
        "id": format!("evt_forged_{intent}"),
        "object": "event",
        "api_version": "2026-09-30.endive",
        "created": chrono::Utc::now().timestamp(),
        "livemode": false,
        "pending_webhooks": 1,
        "type": "payment_intent.succeeded",
        "data": { "object": {
            "id": intent,
            "object": "payment_intent",
            "amount": amount,
            "amount_capturable": 0,
            "amount_received": amount,
            "capture_method": "automatic",
            "confirmation_method": "automatic",
            "created": chrono::Utc::now().timestamp(),
            "currency": "usd",
            "latest_charge": "ch_forged",
            "livemode": false,
            "metadata": {},
            "payment_method_types": ["card"],
            "status": "succeeded",
        }},
    })
    .to_string()
}

async fn forged_and_stale_webhooks_are_refused_and_record_nothing(backend: Backend) {
    let (app, _standin) = spawn_with_stripe(backend).await;
    let hire = hire(&app).await;
    // A card that waits for its holder to authenticate: not funded yet.
    let funding = fund(
        &app,
        &hire.client,
        &hire,
        0,
        "pm_card_authenticationRequired",
    )
    .await
    .unwrap();
    let challenge = funding.next_action_url.clone();
    assert!(
        challenge.contains("/standin/authenticate/pi_"),
        "{funding:?}"
    );
    let intent = challenge.rsplit('/').next().unwrap().to_owned();
    let payload = succeeded(&intent, 100_000);
    let now = chrono::Utc::now().timestamp();

    let forged = signature(&payload, "whsec_someone_else", now);
    assert_eq!(deliver(&app, &payload, &forged).await, "400");
    let stale = signature(&payload, WEBHOOK_SECRET, now - 301);
    assert_eq!(deliver(&app, &payload, &stale).await, "400");
    assert_eq!(deliver(&app, &payload, "t=1,v1=00").await, "400");
    assert_eq!(deliver(&app, &payload, "").await, "400");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let seen = contract(&app, &hire).await;
    assert_eq!(seen.milestones[0].status, MilestoneStatus::Pending as i32);
    assert!(published::<pb::EscrowFunded>(&app, 0).await.is_empty());

    // The holder authenticates: Stripe's own, signed event funds it once.
    let output = tokio::process::Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}"])
        .arg(&challenge)
        .output()
        .await
        .unwrap();
    assert_eq!(String::from_utf8(output.stdout).unwrap(), "303");
    milestone_reaches(&app, &hire, 0, MilestoneStatus::Funded).await;
    published::<pb::EscrowFunded>(&app, 1).await;
}

async fn repeated_reordered_and_dropped_webhooks_move_money_once(backend: Backend) {
    let (app, standin) = spawn_with_stripe(backend).await;
    standin.set_faults(Faults {
        duplicate_rate: 1.0,
        drop_rate: 0.3,
        reorder: true,
        delay: Duration::from_millis(300),
        ..Faults::default()
    });
    let hire = hire(&app).await;
    // A decline and then a success on the first milestone, reordered: the
    // late failure must not undo the payment.
    fund(
        &app,
        &hire.client,
        &hire,
        0,
        "pm_card_chargeDeclinedInsufficientFunds",
    )
    .await
    .unwrap();
    fund(&app, &hire.client, &hire, 0, "pm_card_visa")
        .await
        .unwrap();
    fund(&app, &hire.client, &hire, 1, "pm_card_amex")
        .await
        .unwrap();
    milestone_reaches(&app, &hire, 0, MilestoneStatus::Funded).await;
    milestone_reaches(&app, &hire, 1, MilestoneStatus::Funded).await;
    let funded = published::<pb::EscrowFunded>(&app, 2).await;
    assert_eq!(
        funded
            .iter()
            .map(|f| f.amount.clone().unwrap().minor_units)
            .sum::<i64>(),
        300_000
    );
    assert_eq!(
        contract(&app, &hire).await.in_escrow,
        crate::hire::usd(300_000)
    );
    let deliveries = standin.deliveries();
    assert!(
        deliveries.iter().any(|d| d.accepted >= 2),
        "the endpoint saw repeats: {deliveries:?}"
    );
}

async fn a_late_account_event_does_not_undo_onboarding(backend: Backend) {
    let (app, _standin) = spawn_with_stripe(backend).await;
    let freelancer = app.register().await;
    let account = onboard_at_stripe(&app, &freelancer).await;
    let enabled = published::<pb::PayoutAccountUpdated>(&app, 1).await;
    assert!(enabled[0].payouts_enabled);

    // An older event (sent before onboarding finished) arrives last.
    let stale = json!({
        "id": "evt_account_before_onboarding",
        "object": "event",
        "account": account,
        "api_version": "2026-09-30.endive",
        "created": chrono::Utc::now().timestamp() - 60,
        "livemode": false,
        "pending_webhooks": 1,
        "type": "account.updated",
        "data": { "object": {
            "id": account,
            "object": "account",
            "charges_enabled": false,
            "payouts_enabled": false,
            "details_submitted": false,
        }},
    })
    .to_string();
    let header = signature(&stale, WEBHOOK_SECRET, chrono::Utc::now().timestamp());
    assert_eq!(deliver(&app, &stale, &header).await, "200");
    tokio::time::sleep(Duration::from_millis(500)).await;
    published::<pb::PayoutAccountUpdated>(&app, 1).await;
    let seen = app
        .payments
        .clone()
        .get_payout_account(frevix_testkit::authed(
            &freelancer.access_token,
            pb::GetPayoutAccountRequest {},
        ))
        .await
        .unwrap()
        .into_inner()
        .account
        .unwrap();
    assert!(seen.payouts_enabled, "still enabled: Stripe says so");
}
