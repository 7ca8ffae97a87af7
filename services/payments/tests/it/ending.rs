//! A contract ended early divides what escrow holds, through the real
//! services on both backends: the client's share back, the rest released
//! with the fee on it alone, and nothing funded after the end.

use frevix_proto::contracts::v1 as contracts;
use frevix_proto::contracts::v1::MilestoneStatus;
use frevix_proto::payments::v1::{self as pb, TransactionType};
use frevix_testkit::status::reason;
use frevix_testkit::{Backend, TestApp, authed, on_both_backends};

use crate::hire::{
    balance, eventually, fund, hire, milestone_reaches, published, transactions, usd,
};

on_both_backends!(
    a_cancellation_refunds_the_clients_share_and_releases_the_rest,
    a_payment_that_succeeds_after_the_contract_ended_is_refunded,
);

async fn a_cancellation_refunds_the_clients_share_and_releases_the_rest(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let hire = hire(&app).await;
    fund(&app, &hire.client, &hire, 0, "pm_card_visa")
        .await
        .unwrap();
    milestone_reaches(&app, &hire, 0, MilestoneStatus::Funded).await;

    app.contracts
        .clone()
        .request_cancellation(authed(
            &hire.freelancer.access_token,
            contracts::RequestCancellationRequest {
                contract_id: hire.contract.clone(),
                reason: "The scope changed.".into(),
                refund: usd(40_000),
            },
        ))
        .await
        .unwrap();
    app.contracts
        .clone()
        .accept_cancellation(authed(
            &hire.client.access_token,
            contracts::AcceptCancellationRequest {
                contract_id: hire.contract.clone(),
            },
        ))
        .await
        .unwrap();

    let refunded = published::<pb::EscrowRefunded>(&app, 1).await;
    assert_eq!(refunded[0].amount, usd(40_000));
    let released = published::<pb::EscrowReleased>(&app, 1).await;
    assert_eq!(
        (released[0].amount.clone(), released[0].fee.clone()),
        (usd(54_000), usd(6_000)),
        "10 % of the released 60,000 only"
    );
    let client = balance(&app, &hire.client).await;
    assert_eq!(
        (
            client.client_in_escrow,
            client.client_spent,
            client.client_refunded
        ),
        (0, 60_000, 40_000)
    );
    assert_eq!(
        balance(&app, &hire.freelancer).await.freelancer_payable,
        54_000
    );
    let seen: Vec<_> = transactions(&app, &hire.client)
        .await
        .into_iter()
        .map(|t| (t.r#type, t.amount, t.refunded))
        .collect();
    assert_eq!(
        seen,
        [
            (TransactionType::Settlement as i32, usd(60_000), usd(40_000)),
            (TransactionType::Payment as i32, usd(100_000), None),
        ]
    );

    // The client's card is refunded at the provider, once.
    let refunds = eventually(|| async {
        let refunds = sandbox_refunds(&app).await;
        (!refunds.is_empty()).then_some(refunds)
    })
    .await;
    assert_eq!(refunds, [40_000]);

    // The second milestone was never funded, and now cannot be (the
    // contract ended in the transaction that published the refund).
    let refused = fund(&app, &hire.client, &hire, 1, "pm_card_visa")
        .await
        .unwrap_err();
    assert_eq!(refused.code(), tonic::Code::FailedPrecondition);
    assert_eq!(reason(&refused), "CONTRACT_ENDED");
}

/// The refunds the sandbox provider has made (read from its own records,
/// as a reconciliation would).
pub async fn sandbox_refunds(app: &TestApp) -> Vec<i64> {
    use sea_orm::{ConnectionTrait, Statement};
    let db = crate::hire::sandbox(app).await;
    let rows = db
        .query_all_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT amount_minor FROM sandbox_objects WHERE kind = 'refund'",
        ))
        .await
        .unwrap();
    rows.iter()
        .map(|row| row.try_get::<i64>("", "amount_minor").unwrap())
        .collect()
}

async fn a_payment_that_succeeds_after_the_contract_ended_is_refunded(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let hire = hire(&app).await;
    // The client's bank asks for 3-D Secure; meanwhile the contract ends
    // (nothing is in escrow yet); then the client passes the challenge.
    let waiting = fund(
        &app,
        &hire.client,
        &hire,
        0,
        "pm_card_authenticationRequired",
    )
    .await
    .unwrap();
    app.contracts
        .clone()
        .end_contract(authed(
            &hire.client.access_token,
            contracts::EndContractRequest {
                contract_id: hire.contract.clone(),
                reason: "Found someone else.".into(),
            },
        ))
        .await
        .unwrap();
    // Payments has heard of the end once it refuses to fund the contract.
    eventually(|| async {
        let status = fund(&app, &hire.client, &hire, 1, "").await.err()?;
        (reason(&status) == "CONTRACT_ENDED").then_some(())
    })
    .await;
    let answered = tokio::process::Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST"])
        .arg(format!(
            "{}{}?result=approve",
            app.url(),
            waiting.next_action_url
        ))
        .output()
        .await
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&answered.stdout), "200");

    let refunded = published::<pb::EscrowRefunded>(&app, 1).await;
    assert_eq!(refunded[0].amount, usd(100_000));
    published::<pb::EscrowFunded>(&app, 0).await;
    let client = balance(&app, &hire.client).await;
    assert_eq!(
        (
            client.client_refunded,
            client.client_in_escrow,
            client.client_spent
        ),
        (100_000, 0, 0)
    );
    let refunds = eventually(|| async {
        let refunds = sandbox_refunds(&app).await;
        (!refunds.is_empty()).then_some(refunds)
    })
    .await;
    assert_eq!(refunds, [100_000], "the card is refunded once");
}
