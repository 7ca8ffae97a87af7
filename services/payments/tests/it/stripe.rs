//! The hire paid through Stripe — the real async-stripe client against
//! Frevix's Stripe stand-in, its events arriving as signed webhooks — on
//! both backends: a decline and another card, funding twice refused, a
//! payout account onboarded at Stripe, the release transferred once from
//! the funding charge, a cancellation refunded once, the books right.

use frevix_payments::ProviderKind;
use frevix_payments::config::StripeConfig;
use frevix_platform::clock::Clock;
use frevix_proto::contracts::v1::{self as contracts, MilestoneStatus};
use frevix_proto::payments::v1::{self as pb, FundingStatus};
use frevix_stripe_standin::{Endpoint, StandIn};
use frevix_testkit::status::reason;
use frevix_testkit::{Backend, TestApp, TestUser, authed, on_both_backends};
use secrecy::SecretString;
use tonic::Code;

use crate::hire::{
    balance, deliver_and_approve, eventually, fund, hire, milestone_reaches, published, usd,
};

on_both_backends!(
    a_hire_is_paid_through_stripe,
    a_card_dispute_at_stripe_holds_the_escrow_until_lost,
);

pub const WEBHOOK_SECRET: &str = "whsec_frevix_test";

/// An app whose payments talk to a new stand-in, which sends its events
/// to the app's `/webhooks/stripe`.
pub async fn spawn_with_stripe(backend: Backend) -> (TestApp, StandIn) {
    spawn_stripe_timed(backend, Clock::system()).await
}

/// The same, its services reading `clock`.
pub async fn spawn_stripe_timed(backend: Backend, clock: Clock) -> (TestApp, StandIn) {
    let standin = StandIn::start("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let base = standin.base().to_owned();
    let app = TestApp::spawn_timed(backend, clock, |config| {
        config.payments.provider = ProviderKind::Stripe;
        config.payments.clearance_days = 0;
        config.payments.stripe = StripeConfig {
            secret_key: SecretString::from("sk_test_frevix"),
            publishable_key: "pk_test_frevix".into(),
            webhook_secret: SecretString::from(WEBHOOK_SECRET),
            api_base: base,
            timeout_secs: 5,
            return_url: "https://app.example/orders".into(),
        };
    })
    .await;
    standin.set_endpoint(Endpoint {
        url: format!("{}/webhooks/stripe", app.url()),
        secret: WEBHOOK_SECRET.into(),
    });
    (app, standin)
}

/// Onboards `user` at Stripe's page, as a browser would follow the link.
pub async fn onboard_at_stripe(app: &TestApp, user: &TestUser) -> String {
    let account = app
        .payments
        .clone()
        .create_payout_account(authed(
            &user.access_token,
            pb::CreatePayoutAccountRequest {
                country: "US".into(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .account
        .unwrap()
        .account_id;
    let link = app
        .payments
        .clone()
        .get_payout_onboarding_link(authed(
            &user.access_token,
            pb::GetPayoutOnboardingLinkRequest {
                return_url: "https://app.example/payouts?done=1".into(),
                refresh_url: "https://app.example/payouts".into(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .url;
    assert!(link.contains("/standin/onboarding/acct_"), "{link}");
    let output = tokio::process::Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code} %{redirect_url}",
        ])
        .arg(&link)
        .output()
        .await
        .unwrap();
    assert_eq!(
        String::from_utf8(output.stdout).unwrap(),
        "303 https://app.example/payouts?done=1"
    );
    account
}

async fn a_hire_is_paid_through_stripe(backend: Backend) {
    let (app, standin) = spawn_with_stripe(backend).await;
    let hire = hire(&app).await;

    let declined = fund(&app, &hire.client, &hire, 0, "pm_card_chargeDeclined")
        .await
        .unwrap();
    assert_eq!(declined.provider, "stripe");
    assert_eq!(declined.publishable_key, "pk_test_frevix");
    assert_ne!(declined.status, FundingStatus::Succeeded as i32);
    let failed = published::<pb::PaymentFailed>(&app, 1).await;
    assert_eq!(failed[0].reason, "Your card was declined.");

    let funding = fund(&app, &hire.client, &hire, 0, "pm_card_visa")
        .await
        .unwrap();
    assert!(funding.client_secret.starts_with("pi_"), "{funding:?}");
    milestone_reaches(&app, &hire, 0, MilestoneStatus::Funded).await;
    let again = fund(&app, &hire.client, &hire, 0, "pm_card_visa")
        .await
        .unwrap_err();
    assert_eq!(again.code(), Code::FailedPrecondition);
    assert_eq!(reason(&again), "MILESTONE_FUNDED");
    fund(&app, &hire.client, &hire, 1, "pm_card_mastercard")
        .await
        .unwrap();
    milestone_reaches(&app, &hire, 1, MilestoneStatus::Funded).await;
    assert_eq!(standin.totals().charges, 2, "one charge per funding");
    assert_eq!(standin.totals().charged, 300_000);

    onboard_at_stripe(&app, &hire.freelancer).await;
    deliver_and_approve(&app, &hire, 0).await;
    milestone_reaches(&app, &hire, 0, MilestoneStatus::Released).await;
    eventually(|| async { (standin.totals().transfers == 1).then_some(()) }).await;
    assert_eq!(
        standin.totals().transferred,
        90_000,
        "the share after the 10 % fee"
    );

    app.contracts
        .clone()
        .request_cancellation(authed(
            &hire.client.access_token,
            contracts::RequestCancellationRequest {
                contract_id: hire.contract.clone(),
                reason: "We are out of budget.".into(),
                refund: usd(200_000),
            },
        ))
        .await
        .unwrap();
    app.contracts
        .clone()
        .accept_cancellation(authed(
            &hire.freelancer.access_token,
            contracts::AcceptCancellationRequest {
                contract_id: hire.contract.clone(),
            },
        ))
        .await
        .unwrap();
    let refunded = published::<pb::EscrowRefunded>(&app, 1).await;
    assert_eq!(refunded[0].amount, usd(200_000));
    eventually(|| async { (standin.totals().refunds == 1).then_some(()) }).await;
    let totals = standin.totals();
    assert_eq!((totals.refunded, totals.transfers), (200_000, 1));

    let client = balance(&app, &hire.client).await;
    assert_eq!(
        (
            client.client_in_escrow,
            client.client_spent,
            client.client_refunded
        ),
        (0, 100_000, 200_000)
    );
    let freelancer = balance(&app, &hire.freelancer).await;
    assert_eq!(freelancer.freelancer_paid_out, 90_000);
    // Every event reached the endpoint, each taken at the first try.
    eventually(|| async { (standin.undelivered() == 0).then_some(()) }).await;
    assert!(standin.deliveries().iter().all(|d| d.accepted == 1));
    assert_eq!(standin.malformed_events(), Vec::<String>::new());
}

async fn a_card_dispute_at_stripe_holds_the_escrow_until_lost(backend: Backend) {
    let (app, standin) = spawn_with_stripe(backend).await;
    let hire = hire(&app).await;
    fund(&app, &hire.client, &hire, 0, "pm_card_createDispute")
        .await
        .unwrap();
    milestone_reaches(&app, &hire, 0, MilestoneStatus::Funded).await;
    eventually(|| async {
        let held = balance(&app, &hire.client).await;
        (held.client_in_dispute == 100_000 && held.client_in_escrow == 0).then_some(())
    })
    .await;
    let disputes = standin.open_disputes();
    assert_eq!(disputes.len(), 1);
    assert!(standin.close_dispute(&disputes[0], false));
    eventually(|| async {
        let client = balance(&app, &hire.client).await;
        (client.client_refunded == 100_000 && client.client_in_dispute == 0).then_some(())
    })
    .await;
    assert_eq!(
        standin.totals().refunds,
        0,
        "the bank gave it back, not Frevix"
    );
}
