//! A milestone funded into escrow and released, through the real services
//! on both backends: the sandbox card, the provider's event applied once,
//! contracts moving the milestone, balances and transactions from the
//! ledger on both sides.

use frevix_proto::contracts::v1::MilestoneStatus;
use frevix_proto::payments::v1::{self as pb, FundingStatus, TransactionType};
use frevix_testkit::status::{reason, violated_fields};
use frevix_testkit::{Backend, TestApp, authed, on_both_backends};
use tonic::Code;

use crate::hire::{
    balance, contract, deliver_and_approve, fund, get_funding, hire, milestone_reaches, published,
    transactions, usd,
};

on_both_backends!(
    a_milestone_is_funded_approved_and_released_with_the_fee,
    a_declined_card_is_reported_and_another_card_funds,
    only_the_client_funds_and_strangers_see_nothing,
    thirty_racing_fundings_charge_once,
    thirty_racing_fundings_charge_once_at_stripe,
    a_card_that_needs_authentication_pays_after_the_challenge,
);

async fn a_milestone_is_funded_approved_and_released_with_the_fee(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let hire = hire(&app).await;

    let funding = fund(&app, &hire.client, &hire, 0, "pm_card_visa")
        .await
        .unwrap();
    assert_eq!(funding.status, FundingStatus::Succeeded as i32);
    assert_eq!(funding.amount, usd(100_000));
    assert_eq!(funding.provider, "sandbox");
    assert_eq!(funding.publishable_key, "pk_sandbox_frevix");
    assert!(funding.client_secret.starts_with("pi_sbx_"));
    milestone_reaches(&app, &hire, 0, MilestoneStatus::Funded).await;
    assert_eq!(contract(&app, &hire).await.in_escrow, usd(100_000));

    let client = balance(&app, &hire.client).await;
    assert_eq!(
        (
            client.client_in_escrow,
            client.client_spent,
            client.client_refunded
        ),
        (100_000, 0, 0)
    );
    let freelancer = balance(&app, &hire.freelancer).await;
    assert_eq!(
        (
            freelancer.freelancer_in_escrow,
            freelancer.freelancer_payable
        ),
        (100_000, 0)
    );
    let again = fund(&app, &hire.client, &hire, 0, "pm_card_visa")
        .await
        .unwrap_err();
    assert_eq!(again.code(), Code::FailedPrecondition);
    assert_eq!(reason(&again), "MILESTONE_FUNDED");

    deliver_and_approve(&app, &hire, 0).await;
    milestone_reaches(&app, &hire, 0, MilestoneStatus::Released).await;
    let client = balance(&app, &hire.client).await;
    assert_eq!(
        (
            client.client_in_escrow,
            client.client_spent,
            client.client_refunded
        ),
        (0, 100_000, 0)
    );
    let freelancer = balance(&app, &hire.freelancer).await;
    assert_eq!(
        (
            freelancer.freelancer_in_escrow,
            freelancer.freelancer_payable
        ),
        (0, 90_000),
        "10 % is the platform's"
    );

    let seen: Vec<_> = transactions(&app, &hire.client)
        .await
        .into_iter()
        .map(|t| (t.r#type, t.amount, t.fee))
        .collect();
    assert_eq!(
        seen,
        [
            (TransactionType::Release as i32, usd(100_000), usd(10_000)),
            (TransactionType::Payment as i32, usd(100_000), None),
        ]
    );
    let earned: Vec<_> = transactions(&app, &hire.freelancer)
        .await
        .into_iter()
        .map(|t| (t.r#type, t.amount, t.fee))
        .collect();
    assert_eq!(
        earned,
        [(TransactionType::Earning as i32, usd(90_000), usd(10_000))]
    );

    let funded = published::<pb::EscrowFunded>(&app, 1).await;
    assert_eq!(funded[0].amount, usd(100_000));
    let released = published::<pb::EscrowReleased>(&app, 1).await;
    assert_eq!(
        (released[0].amount.clone(), released[0].fee.clone()),
        (usd(90_000), usd(10_000))
    );
}

async fn a_declined_card_is_reported_and_another_card_funds(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let hire = hire(&app).await;

    let unknown = fund(&app, &hire.client, &hire, 0, "pm_made_up")
        .await
        .unwrap_err();
    assert_eq!(unknown.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&unknown), ["payment_method"]);

    let declined = fund(&app, &hire.client, &hire, 0, "pm_card_chargeDeclined")
        .await
        .unwrap();
    assert_eq!(declined.status, FundingStatus::RequiresPaymentMethod as i32);
    assert_eq!(declined.failure_reason, "Your card was declined.");
    let failed = published::<pb::PaymentFailed>(&app, 1).await;
    assert_eq!(failed[0].reason, "Your card was declined.");
    assert_eq!(failed[0].milestone_id, hire.milestones[0]);

    let paid = fund(&app, &hire.client, &hire, 0, "pm_card_visa")
        .await
        .unwrap();
    assert_eq!(
        paid.payment_id, declined.payment_id,
        "one payment per milestone"
    );
    assert_eq!(paid.status, FundingStatus::Succeeded as i32);
    assert_eq!(paid.failure_reason, "");
    milestone_reaches(&app, &hire, 0, MilestoneStatus::Funded).await;
    assert_eq!(balance(&app, &hire.client).await.client_in_escrow, 100_000);
}

async fn only_the_client_funds_and_strangers_see_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let hire = hire(&app).await;
    let stranger = app.register().await;

    let hidden = fund(&app, &stranger, &hire, 0, "pm_card_visa")
        .await
        .unwrap_err();
    assert_eq!(hidden.code(), Code::NotFound);
    let hidden = get_funding(&app, &stranger, &hire, 0).await.unwrap_err();
    assert_eq!(hidden.code(), Code::NotFound);
    let not_theirs = fund(&app, &hire.freelancer, &hire, 0, "pm_card_visa")
        .await
        .unwrap_err();
    assert_eq!(not_theirs.code(), Code::PermissionDenied);
    assert_eq!(reason(&not_theirs), "NOT_CONTRACT_CLIENT");

    let anonymous = app
        .payments
        .clone()
        .get_balance(pb::GetBalanceRequest {})
        .await
        .unwrap_err();
    assert_eq!(anonymous.code(), Code::Unauthenticated);
    let garbled = app
        .payments
        .clone()
        .fund_milestone(authed(
            &hire.client.access_token,
            pb::FundMilestoneRequest {
                contract_id: "nope".into(),
                milestone_id: "".into(),
                payment_method: "x".repeat(300),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(garbled.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&garbled), ["contract_id", "milestone_id"]);

    let other = crate::hire::hire(&app).await;
    let mixed = app
        .payments
        .clone()
        .fund_milestone(authed(
            &hire.client.access_token,
            pb::FundMilestoneRequest {
                contract_id: hire.contract.clone(),
                milestone_id: other.milestones[0].clone(),
                payment_method: String::new(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(
        mixed.code(),
        Code::NotFound,
        "a milestone of another contract"
    );

    // Waiting for the client app to confirm: the freelancer may look, but
    // never sees the client secret.
    let waiting = fund(&app, &hire.client, &hire, 0, "").await.unwrap();
    assert_eq!(waiting.status, FundingStatus::RequiresPaymentMethod as i32);
    let seen = get_funding(&app, &hire.freelancer, &hire, 0).await.unwrap();
    assert_eq!(seen.payment_id, waiting.payment_id);
    assert_eq!(seen.client_secret, "");
    assert_eq!(
        get_funding(&app, &hire.client, &hire, 0)
            .await
            .unwrap()
            .client_secret,
        waiting.client_secret
    );
}

async fn thirty_racing_fundings_charge_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    racing_fundings_charge_once(&app).await;
}

async fn thirty_racing_fundings_charge_once_at_stripe(backend: Backend) {
    let (app, standin) = crate::stripe::spawn_with_stripe(backend).await;
    racing_fundings_charge_once(&app).await;
    assert_eq!(standin.totals().charges, 1);
}

/// 30 fundings of one milestone at once: one charge, one escrow.
async fn racing_fundings_charge_once(app: &TestApp) {
    let hire = hire(app).await;
    let hire = std::sync::Arc::new(hire);
    let mut racing = tokio::task::JoinSet::new();
    for _ in 0..30 {
        let (app_payments, hire) = (app.payments.clone(), hire.clone());
        racing.spawn(async move {
            let mut payments = app_payments;
            payments
                .fund_milestone(authed(
                    &hire.client.access_token,
                    pb::FundMilestoneRequest {
                        contract_id: hire.contract.clone(),
                        milestone_id: hire.milestones[0].clone(),
                        payment_method: "pm_card_visa".into(),
                    },
                ))
                .await
                .map(|r| r.into_inner().funding.unwrap())
        });
    }
    let mut payments = std::collections::HashSet::new();
    while let Some(outcome) = racing.join_next().await {
        match outcome.unwrap() {
            Ok(funding) => {
                payments.insert(funding.payment_id);
            }
            Err(status) => assert_eq!(reason(&status), "MILESTONE_FUNDED", "{status:?}"),
        }
    }
    assert!(payments.len() <= 1, "{payments:?}");
    published::<pb::EscrowFunded>(app, 1).await;
    milestone_reaches(app, &hire, 0, MilestoneStatus::Funded).await;
    assert_eq!(balance(app, &hire.client).await.client_in_escrow, 100_000);
}

async fn a_card_that_needs_authentication_pays_after_the_challenge(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let hire = hire(&app).await;
    let waiting = fund(
        &app,
        &hire.client,
        &hire,
        0,
        "pm_card_authenticationRequired",
    )
    .await
    .unwrap();
    assert_eq!(waiting.status, FundingStatus::RequiresAction as i32);
    let challenge = waiting.next_action_url.clone();
    assert!(
        challenge.starts_with("/sandbox/authenticate/pi_sbx_"),
        "{challenge}"
    );
    let page = curl(&["-s"], &format!("{}{challenge}", app.url())).await;
    assert!(page.contains("Complete authentication"), "{page}");
    let answered = curl(
        &["-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST"],
        &format!("{}{challenge}?result=approve", app.url()),
    )
    .await;
    assert_eq!(answered, "200");
    milestone_reaches(&app, &hire, 0, MilestoneStatus::Funded).await;
    let paid = get_funding(&app, &hire.client, &hire, 0).await.unwrap();
    assert_eq!(paid.status, FundingStatus::Succeeded as i32);
    assert_eq!(paid.next_action_url, "");
    // The challenge is answered once.
    let again = curl(
        &["-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST"],
        &format!("{}{challenge}?result=decline", app.url()),
    )
    .await;
    assert_eq!(again, "409");
}

async fn curl(args: &[&str], url: &str) -> String {
    let output = tokio::process::Command::new("curl")
        .args(args)
        .arg(url)
        .output()
        .await
        .unwrap();
    String::from_utf8(output.stdout).unwrap()
}
