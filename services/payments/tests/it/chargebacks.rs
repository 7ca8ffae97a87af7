//! Card disputes through the real services on both backends: a disputed
//! charge's escrow is held (an approval meanwhile waits), a won dispute
//! releases it, a lost one gives it back to the client, ADMINs see them,
//! and the books balance throughout.

use frevix_proto::contracts::v1::MilestoneStatus;
use frevix_proto::payments::v1 as pb;
use frevix_testkit::{Backend, TestApp, TestUser, authed, on_both_backends};
use tonic::Code;

use crate::hire::{
    balance, deliver_and_approve, eventually, fund, hire, milestone_reaches, published, usd,
};

on_both_backends!(a_disputed_charge_holds_its_escrow_until_the_bank_decides);

async fn chargebacks(app: &TestApp, admin: &TestUser, status: &str) -> Vec<pb::Chargeback> {
    app.payments
        .clone()
        .list_chargebacks(authed(
            &admin.access_token,
            pb::ListChargebacksRequest {
                status: status.into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .chargebacks
}

async fn decide(app: &TestApp, dispute: &str, outcome: &str) -> String {
    let output = tokio::process::Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST"])
        .arg(format!(
            "{}/sandbox/disputes/{dispute}?outcome={outcome}",
            app.url()
        ))
        .output()
        .await
        .unwrap();
    String::from_utf8(output.stdout).unwrap()
}

async fn a_disputed_charge_holds_its_escrow_until_the_bank_decides(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let hire = hire(&app).await;
    let admin = app.admin().await;

    // The first milestone's charge is disputed right after it succeeds.
    fund(&app, &hire.client, &hire, 0, "pm_card_createDispute")
        .await
        .unwrap();
    milestone_reaches(&app, &hire, 0, MilestoneStatus::Funded).await;
    let open = eventually(|| async {
        let open = chargebacks(&app, &admin, "open").await;
        (!open.is_empty()).then_some(open)
    })
    .await;
    assert_eq!(open.len(), 1);
    assert_eq!(
        (open[0].amount.clone(), open[0].held.clone()),
        (usd(100_000), usd(100_000))
    );
    assert_eq!(open[0].milestone_id, hire.milestones[0]);

    // Approved while held: nothing is released yet.
    deliver_and_approve(&app, &hire, 0).await;
    tokio::time::sleep(std::time::Duration::from_millis(500)).await;
    assert_eq!(balance(&app, &hire.freelancer).await.freelancer_payable, 0);
    let held = balance(&app, &hire.client).await;
    assert_eq!(
        (
            held.client_in_escrow,
            held.client_in_dispute,
            held.client_spent
        ),
        (0, 100_000, 0),
        "held by the dispute, not spent"
    );

    // Won: released at once, with the fee.
    assert_eq!(decide(&app, &open[0].id, "won").await, "200");
    assert_eq!(
        decide(&app, &open[0].id, "lost").await,
        "409",
        "decided once"
    );
    milestone_reaches(&app, &hire, 0, MilestoneStatus::Released).await;
    assert_eq!(
        balance(&app, &hire.freelancer).await.freelancer_payable,
        90_000
    );
    assert_eq!(chargebacks(&app, &admin, "won").await.len(), 1);

    // The second milestone's dispute is lost: the client's bank gave the
    // money back.
    fund(&app, &hire.client, &hire, 1, "pm_card_createDispute")
        .await
        .unwrap();
    milestone_reaches(&app, &hire, 1, MilestoneStatus::Funded).await;
    let second =
        eventually(|| async { chargebacks(&app, &admin, "open").await.into_iter().next() }).await;
    assert_eq!(decide(&app, &second.id, "lost").await, "200");
    eventually(|| async { chargebacks(&app, &admin, "lost").await.into_iter().next() }).await;
    let client = balance(&app, &hire.client).await;
    assert_eq!(
        (
            client.client_spent,
            client.client_refunded,
            client.client_in_escrow
        ),
        (100_000, 200_000, 0)
    );
    published::<pb::EscrowReleased>(&app, 1).await;

    let stranger = app.register().await;
    let refused = app
        .payments
        .clone()
        .list_chargebacks(authed(
            &stranger.access_token,
            pb::ListChargebacksRequest::default(),
        ))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);
}
