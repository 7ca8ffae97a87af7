//! Earnings leave Frevix as transfers to the freelancer's payout account,
//! through the real services on both backends: they wait for onboarding
//! (nothing lost meanwhile), go out once when it is done, and wait for the
//! clearance period.

use std::time::Duration;

use frevix_proto::contracts::v1::MilestoneStatus;
use frevix_proto::payments::v1::{self as pb, TransactionType};
use frevix_testkit::status::violated_fields;
use frevix_testkit::{Backend, TestApp, TestClock, TestUser, authed, on_both_backends};
use tonic::Code;

use crate::hire::{
    Hire, balance, deliver_and_approve, eventually, fund, hire, milestone_reaches, published,
    transactions, usd,
};

on_both_backends!(
    earnings_wait_for_onboarding_then_go_out_once,
    payouts_wait_for_the_clearance_period,
    a_payout_account_is_one_per_freelancer_and_checked,
);

pub async fn create_account(
    app: &TestApp,
    user: &TestUser,
    country: &str,
) -> Result<pb::PayoutAccount, tonic::Status> {
    app.payments
        .clone()
        .create_payout_account(authed(
            &user.access_token,
            pb::CreatePayoutAccountRequest {
                country: country.into(),
            },
        ))
        .await
        .map(|r| r.into_inner().account.unwrap())
}

/// Onboards `user` on the sandbox's page, as a browser would; answers where
/// the page sent them back.
pub async fn onboard(app: &TestApp, user: &TestUser) -> String {
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
    assert!(link.starts_with("/sandbox/onboarding/acct_sbx_"), "{link}");
    let output = tokio::process::Command::new("curl")
        .args([
            "-s",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code} %{redirect_url}",
            "-X",
            "POST",
        ])
        .arg(format!("{}{link}", app.url()))
        .output()
        .await
        .unwrap();
    String::from_utf8(output.stdout).unwrap()
}

async fn released(app: &TestApp) -> Hire {
    let hire = hire(app).await;
    fund(app, &hire.client, &hire, 0, "pm_card_visa")
        .await
        .unwrap();
    milestone_reaches(app, &hire, 0, MilestoneStatus::Funded).await;
    deliver_and_approve(app, &hire, 0).await;
    milestone_reaches(app, &hire, 0, MilestoneStatus::Released).await;
    hire
}

async fn earnings_wait_for_onboarding_then_go_out_once(backend: Backend) {
    let app = TestApp::spawn_with(backend, |config| config.payments.clearance_days = 0).await;
    let hire = released(&app).await;
    // No payout account yet: the earnings wait as payable.
    tokio::time::sleep(Duration::from_millis(300)).await;
    let waiting = balance(&app, &hire.freelancer).await;
    assert_eq!(
        (waiting.freelancer_payable, waiting.freelancer_paid_out),
        (90_000, 0)
    );

    let account = create_account(&app, &hire.freelancer, "us").await.unwrap();
    assert!(!account.payouts_enabled);
    assert_eq!(account.country, "US");
    let redirected = onboard(&app, &hire.freelancer).await;
    assert_eq!(redirected, "303 https://app.example/payouts?done=1");

    let updated = published::<pb::PayoutAccountUpdated>(&app, 1).await;
    assert_eq!(updated[0].freelancer_id, hire.freelancer.account_id);
    assert!(updated[0].payouts_enabled);
    let paid = eventually(|| async {
        let b = balance(&app, &hire.freelancer).await;
        (b.freelancer_paid_out > 0).then_some(b)
    })
    .await;
    assert_eq!(
        (paid.freelancer_payable, paid.freelancer_paid_out),
        (0, 90_000)
    );
    let latest = transactions(&app, &hire.freelancer).await;
    assert_eq!(latest[0].r#type, TransactionType::Payout as i32);
    assert_eq!(latest[0].amount, usd(90_000));
    let account = app
        .payments
        .clone()
        .get_payout_account(authed(
            &hire.freelancer.access_token,
            pb::GetPayoutAccountRequest {},
        ))
        .await
        .unwrap()
        .into_inner()
        .account
        .unwrap();
    assert!(account.payouts_enabled);

    // Onboarding again changes nothing and sends nothing twice.
    onboard(&app, &hire.freelancer).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(
        balance(&app, &hire.freelancer).await.freelancer_paid_out,
        90_000
    );
    published::<pb::PayoutAccountUpdated>(&app, 1).await;
}

async fn payouts_wait_for_the_clearance_period(backend: Backend) {
    let clock = TestClock::new();
    let app = TestApp::spawn_timed(backend, clock.clock(), |_| {}).await;
    assert_eq!(app.config.payments.clearance_days, 5, "the default");
    let hire = hire(&app).await;
    create_account(&app, &hire.freelancer, "DE").await.unwrap();
    onboard(&app, &hire.freelancer).await;
    published::<pb::PayoutAccountUpdated>(&app, 1).await;
    fund(&app, &hire.client, &hire, 0, "pm_card_visa")
        .await
        .unwrap();
    milestone_reaches(&app, &hire, 0, MilestoneStatus::Funded).await;
    deliver_and_approve(&app, &hire, 0).await;
    milestone_reaches(&app, &hire, 0, MilestoneStatus::Released).await;

    clock.advance(chrono::Duration::days(4));
    tokio::time::sleep(Duration::from_millis(1_500)).await;
    assert_eq!(balance(&app, &hire.freelancer).await.freelancer_paid_out, 0);
    clock.advance(chrono::Duration::days(1));
    let paid = eventually(|| async {
        let b = balance(&app, &hire.freelancer).await;
        (b.freelancer_paid_out > 0).then_some(b)
    })
    .await;
    assert_eq!(
        (paid.freelancer_payable, paid.freelancer_paid_out),
        (0, 90_000)
    );
}

async fn a_payout_account_is_one_per_freelancer_and_checked(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let hire = hire(&app).await;
    let bad = create_account(&app, &hire.freelancer, "USA")
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&bad), ["country"]);
    let missing = app
        .payments
        .clone()
        .get_payout_account(authed(
            &hire.freelancer.access_token,
            pb::GetPayoutAccountRequest {},
        ))
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);

    let mut racing = tokio::task::JoinSet::new();
    for _ in 0..30 {
        let (mut payments, token) = (app.payments.clone(), hire.freelancer.access_token.clone());
        racing.spawn(async move {
            payments
                .create_payout_account(authed(
                    &token,
                    pb::CreatePayoutAccountRequest {
                        country: "FR".into(),
                    },
                ))
                .await
                .unwrap()
                .into_inner()
                .account
                .unwrap()
                .account_id
        });
    }
    let mut ids = std::collections::HashSet::new();
    while let Some(id) = racing.join_next().await {
        ids.insert(id.unwrap());
    }
    assert_eq!(ids.len(), 1, "thirty racing calls, one account");

    let bad_links = app
        .payments
        .clone()
        .get_payout_onboarding_link(authed(
            &hire.freelancer.access_token,
            pb::GetPayoutOnboardingLinkRequest {
                return_url: "javascript:alert(1)".into(),
                refresh_url: String::new(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&bad_links), ["return_url", "refresh_url"]);
}
