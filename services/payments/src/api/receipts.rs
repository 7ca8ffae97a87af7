//! GetReceipt and DownloadReceipt: what happened to a paid milestone's or
//! hourly week's money, for its parties and ADMINs.

use frevix_platform::auth::Principal;
use frevix_platform::error::{ApiError, FieldViolations};
use frevix_platform::ids::parse_uuid;
use frevix_platform::request::caller;
use frevix_proto::payments::v1 as pb;
use tonic::Request;
use uuid::Uuid;

use super::parties;
use crate::Inner;
use crate::convert::{money, timestamp};
use crate::error::Result;
use crate::escrow::Held;
use crate::ledger::{TransactionId, TransactionKind};
use crate::receipt_pdf;
use crate::receipts::{self, Receipt};
use crate::store::{self, terms, views};

/// Parses the request's ids: the contract and exactly one of a milestone
/// and an invoice.
fn subject(contract: &str, milestone: &str, invoice: &str) -> Result<(Uuid, Held)> {
    let mut violations = FieldViolations::new();
    let contract = parse_uuid("contract_id", contract, &mut violations);
    let held = match (milestone.is_empty(), invoice.is_empty()) {
        (false, true) => {
            parse_uuid("milestone_id", milestone, &mut violations).map(Held::Milestone)
        }
        (true, false) => parse_uuid("invoice_id", invoice, &mut violations).map(Held::Invoice),
        _ => {
            violations.add(
                "milestone_id",
                "give exactly one of milestone_id and invoice_id",
            );
            None
        }
    };
    match (contract, held) {
        (Some(contract), Some(held)) => Ok((contract, held)),
        _ => Err(ApiError::from(violations).into()),
    }
}

async fn find(inner: &Inner, caller: &Principal, contract_id: Uuid, held: Held) -> Result<Receipt> {
    let contract = terms::find_contract(&inner.db, contract_id)
        .await?
        .filter(|row| parties::is_party(row, caller) || caller.is_admin())
        .ok_or(ApiError::NotFound("contract"))?;
    let description = match held {
        Held::Milestone(id) => terms::find_milestone(&inner.db, id)
            .await?
            .filter(|m| m.contract_id == contract.id)
            .map(|m| m.title),
        Held::Invoice(id) => terms::find_invoice(&inner.db, id)
            .await?
            .filter(|i| i.contract_id == contract.id)
            .map(|i| format!("Week of {}", i.week_start)),
    }
    .ok_or(ApiError::NotFound("receipt"))?;
    let fund = TransactionId::of(TransactionKind::Fund, held.id());
    let charge = store::find_transaction(&inner.db, &fund)
        .await?
        .and_then(|t| t.provider_ref)
        .unwrap_or_default();
    let moved = views::of_escrow(&inner.db, held.id()).await?;
    Ok(
        receipts::receipt(held, description, charge, &moved)
            .ok_or(ApiError::NotFound("receipt"))?,
    )
}

fn message(receipt: &Receipt) -> pb::Receipt {
    let currency = receipt.currency.as_str();
    let (milestone_id, invoice_id) = match receipt.held {
        Held::Milestone(id) => (id.to_string(), String::new()),
        Held::Invoice(id) => (String::new(), id.to_string()),
    };
    pb::Receipt {
        receipt_id: receipt.id.clone(),
        contract_id: receipt.contract.to_string(),
        milestone_id,
        invoice_id,
        description: receipt.description.clone(),
        paid_time: Some(timestamp(receipt.paid_at)),
        paid: money(currency, receipt.paid),
        lines: receipt
            .lines
            .iter()
            .map(|line| pb::ReceiptLine {
                description: line.description.to_owned(),
                amount: money(currency, line.amount),
                time: Some(timestamp(line.at)),
            })
            .collect(),
        in_escrow: money(currency, receipt.in_escrow),
        released: money(currency, receipt.released),
        fee: money(currency, receipt.fee),
        refunded: money(currency, receipt.refunded),
        charge_id: receipt.charge.clone(),
    }
}

pub async fn get(
    inner: &Inner,
    request: Request<pb::GetReceiptRequest>,
) -> Result<pb::GetReceiptResponse> {
    let caller = caller(&request)?;
    let r = request.get_ref();
    let (contract, held) = subject(&r.contract_id, &r.milestone_id, &r.invoice_id)?;
    let receipt = find(inner, &caller, contract, held).await?;
    Ok(pb::GetReceiptResponse {
        receipt: Some(message(&receipt)),
    })
}

pub async fn download(
    inner: &Inner,
    request: Request<pb::DownloadReceiptRequest>,
) -> Result<pb::DownloadReceiptResponse> {
    let caller = caller(&request)?;
    let r = request.get_ref();
    let (contract, held) = subject(&r.contract_id, &r.milestone_id, &r.invoice_id)?;
    let receipt = find(inner, &caller, contract, held).await?;
    Ok(pb::DownloadReceiptResponse {
        pdf: receipt_pdf::render(&receipt),
        file_name: format!("frevix-receipt-{}.pdf", held.id()),
    })
}
