//! Reconciliation through the real services on both backends: after a
//! charge, a refund and a transfer the books and the sandbox provider
//! agree; a refund made at the provider behind Frevix's back is reported.

use frevix_proto::contracts::v1 as contracts;
use frevix_proto::contracts::v1::MilestoneStatus;
use frevix_proto::payments::v1 as pb;
use frevix_testkit::status::{reason, violated_fields};
use frevix_testkit::{Backend, TestApp, TestUser, authed, on_both_backends};
use sea_orm::{ConnectionTrait, Statement};
use tonic::Code;

use crate::hire::{balance, eventually, fund, hire, milestone_reaches, sandbox, usd};
use crate::payouts::{create_account, onboard};

on_both_backends!(the_books_and_the_provider_agree_until_someone_refunds_by_hand);

fn timestamp(at: chrono::DateTime<chrono::Utc>) -> Option<prost_types::Timestamp> {
    Some(prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: 0,
    })
}

async fn reconcile(
    app: &TestApp,
    admin: &TestUser,
) -> Result<pb::ReconcileLedgerResponse, tonic::Status> {
    let now = chrono::Utc::now();
    app.payments
        .clone()
        .reconcile_ledger(authed(
            &admin.access_token,
            pb::ReconcileLedgerRequest {
                from: timestamp(now - chrono::Duration::hours(1)),
                until: timestamp(now + chrono::Duration::hours(1)),
            },
        ))
        .await
        .map(tonic::Response::into_inner)
}

async fn the_books_and_the_provider_agree_until_someone_refunds_by_hand(backend: Backend) {
    let app = TestApp::spawn_with(backend, |config| config.payments.clearance_days = 0).await;
    let hire = hire(&app).await;
    create_account(&app, &hire.freelancer, "US").await.unwrap();
    onboard(&app, &hire.freelancer).await;
    fund(&app, &hire.client, &hire, 0, "pm_card_visa")
        .await
        .unwrap();
    milestone_reaches(&app, &hire, 0, MilestoneStatus::Funded).await;
    app.contracts
        .clone()
        .request_cancellation(authed(
            &hire.client.access_token,
            contracts::RequestCancellationRequest {
                contract_id: hire.contract.clone(),
                reason: "Plans changed.".into(),
                refund: usd(40_000),
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
    // The refund and the transfer reach the provider.
    eventually(|| async {
        (balance(&app, &hire.freelancer).await.freelancer_paid_out == 54_000).then_some(())
    })
    .await;
    let admin = app.admin().await;
    let agreed = eventually(|| async {
        let report = reconcile(&app, &admin).await.unwrap();
        (report.refunds_checked == 1).then_some(report)
    })
    .await;
    assert_eq!(
        (
            agreed.charges_checked,
            agreed.refunds_checked,
            agreed.transfers_checked
        ),
        (1, 1, 1)
    );
    assert!(agreed.differences.is_empty(), "{:?}", agreed.differences);

    // Someone refunds USD 5 in the provider's dashboard.
    let provider = sandbox(&app).await;
    provider
        .execute_raw(Statement::from_sql_and_values(
            provider.get_database_backend(),
            "INSERT INTO sandbox_objects (id, kind, idempotency_key, fingerprint, amount_minor, \
             currency, status, secret, reference, failure, created_at) \
             VALUES ('re_by_hand', 'refund', 'dashboard', '', 500, 'USD', 'succeeded', '', NULL, NULL, ?)",
            [chrono::Utc::now().into()],
        ))
        .await
        .unwrap();
    let found = reconcile(&app, &admin).await.unwrap();
    let differences: Vec<_> = found
        .differences
        .iter()
        .map(|d| (d.kind.as_str(), d.id.as_str()))
        .collect();
    assert_eq!(differences, [("refund", "re_by_hand")]);
    assert!(
        found.differences[0]
            .description
            .contains("not in the books")
    );

    let not_admin = reconcile(&app, &hire.client).await.unwrap_err();
    assert_eq!(not_admin.code(), Code::PermissionDenied);
    let too_long = app
        .payments
        .clone()
        .reconcile_ledger(authed(
            &admin.access_token,
            pb::ReconcileLedgerRequest {
                from: timestamp(chrono::Utc::now() - chrono::Duration::days(200)),
                until: timestamp(chrono::Utc::now()),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&too_long), ["until"]);
    let password_only = app.admin_password_only().await;
    let weak = reconcile(&app, &password_only).await.unwrap_err();
    assert_eq!(reason(&weak), "TWO_FACTOR_REQUIRED");
}
