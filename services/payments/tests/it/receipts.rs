//! Receipts through the real services on both backends: what a paid
//! milestone's money became, for its parties only, and the same as a PDF
//! whose text a PDF reader extracts.

use frevix_proto::contracts::v1 as contracts;
use frevix_proto::contracts::v1::MilestoneStatus;
use frevix_proto::payments::v1 as pb;
use frevix_testkit::status::violated_fields;
use frevix_testkit::{Backend, TestApp, TestUser, authed, on_both_backends};
use tonic::Code;

use crate::hire::{Hire, fund, hire, milestone_reaches, published, usd};

on_both_backends!(a_receipt_tells_what_became_of_the_money);

fn request(hire: &Hire, milestone: usize) -> pb::GetReceiptRequest {
    pb::GetReceiptRequest {
        contract_id: hire.contract.clone(),
        milestone_id: hire.milestones[milestone].clone(),
        invoice_id: String::new(),
    }
}

async fn receipt(
    app: &TestApp,
    user: &TestUser,
    hire: &Hire,
    milestone: usize,
) -> Result<pb::Receipt, tonic::Status> {
    app.payments
        .clone()
        .get_receipt(authed(&user.access_token, request(hire, milestone)))
        .await
        .map(|r| r.into_inner().receipt.unwrap())
}

async fn a_receipt_tells_what_became_of_the_money(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let hire = hire(&app).await;
    let unpaid = receipt(&app, &hire.client, &hire, 0).await.unwrap_err();
    assert_eq!(unpaid.code(), Code::NotFound, "no receipt before payment");

    fund(&app, &hire.client, &hire, 0, "pm_card_visa")
        .await
        .unwrap();
    milestone_reaches(&app, &hire, 0, MilestoneStatus::Funded).await;
    let held = receipt(&app, &hire.client, &hire, 0).await.unwrap();
    assert_eq!(
        (held.paid.clone(), held.in_escrow.clone()),
        (usd(100_000), usd(100_000))
    );
    assert_eq!(held.description, "Schema and API");
    assert!(held.charge_id.starts_with("ch_sbx_"));

    // Ended with 400 back to the client and the rest to the freelancer.
    app.contracts
        .clone()
        .request_cancellation(authed(
            &hire.client.access_token,
            contracts::RequestCancellationRequest {
                contract_id: hire.contract.clone(),
                reason: "We found someone in house.".into(),
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
    published::<pb::EscrowRefunded>(&app, 1).await;

    let ended = receipt(&app, &hire.freelancer, &hire, 0).await.unwrap();
    assert_eq!(ended.receipt_id, format!("fund:{}", hire.milestones[0]));
    assert_eq!(
        (
            ended.paid.clone(),
            ended.refunded.clone(),
            ended.released.clone(),
            ended.fee.clone(),
            ended.in_escrow.clone()
        ),
        (usd(100_000), usd(40_000), usd(60_000), usd(6_000), usd(0))
    );
    let lines: Vec<_> = ended
        .lines
        .iter()
        .map(|l| (l.description.as_str(), l.amount.clone()))
        .collect();
    assert_eq!(
        lines,
        [
            ("Paid into escrow", usd(100_000)),
            ("Refunded to the client", usd(40_000)),
            ("Released to the freelancer", usd(60_000)),
            ("Of which Frevix's fee", usd(6_000)),
        ]
    );

    let stranger = app.register().await;
    let hidden = receipt(&app, &stranger, &hire, 0).await.unwrap_err();
    assert_eq!(hidden.code(), Code::NotFound);
    let both = app
        .payments
        .clone()
        .get_receipt(authed(
            &hire.client.access_token,
            pb::GetReceiptRequest {
                invoice_id: hire.milestones[0].clone(),
                ..request(&hire, 0)
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&both), ["milestone_id"]);

    let download = app
        .payments
        .clone()
        .download_receipt(authed(
            &hire.client.access_token,
            pb::DownloadReceiptRequest {
                contract_id: hire.contract.clone(),
                milestone_id: hire.milestones[0].clone(),
                invoice_id: String::new(),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        download.file_name,
        format!("frevix-receipt-{}.pdf", hire.milestones[0])
    );
    assert!(download.pdf.starts_with(b"%PDF-"));
    let document = lopdf::Document::load_mem(&download.pdf).unwrap();
    let text = document.extract_text(&[1]).unwrap();
    for expected in [
        "Frevix receipt",
        "For: Schema and API",
        "USD 1000.00",
        "Refunded to the client: USD 400.00",
        "Released to the freelancer: USD 600.00",
        "Frevix's fee (included): USD 60.00",
        "Still in escrow: USD 0.00",
    ] {
        assert!(text.contains(expected), "{expected:?} not in {text:?}");
    }
}
