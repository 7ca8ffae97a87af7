//! Receipts: what happened to the money of one paid milestone or hourly
//! week, read from its escrow's ledger transactions (so a receipt always
//! agrees with the books), and rendered as a PDF (`receipt_pdf`).

use chrono::{DateTime, Utc};
use uuid::Uuid;

use crate::escrow::Held;
use crate::ledger::{Account, AccountKind};
use crate::store::views::Moved;

/// One movement on a receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Line {
    pub description: &'static str,
    pub amount: i64,
    pub at: DateTime<Utc>,
}

/// A paid escrow's receipt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Receipt {
    /// The paying transaction's id.
    pub id: String,
    pub contract: Uuid,
    pub held: Held,
    pub description: String,
    pub currency: String,
    pub paid_at: DateTime<Utc>,
    pub paid: i64,
    pub lines: Vec<Line>,
    pub in_escrow: i64,
    /// Released to the freelancer, the fee included.
    pub released: i64,
    pub fee: i64,
    pub refunded: i64,
    /// Held by an open card dispute.
    pub in_dispute: i64,
    pub charge: String,
}

fn sum(moved: &Moved, kind: AccountKind) -> i64 {
    moved
        .entries
        .iter()
        .filter(|(key, _)| Account::parse(key).is_some_and(|a| a.kind == kind))
        .map(|(_, amount)| amount)
        .sum()
}

/// The receipt of `held` from its escrow's transactions (oldest first);
/// `None` until it was paid.
pub fn receipt(
    held: Held,
    description: String,
    charge: String,
    moved: &[Moved],
) -> Option<Receipt> {
    let paid = moved.iter().find(|m| m.kind == "fund")?;
    let mut receipt = Receipt {
        id: paid.id.clone(),
        contract: paid.contract_id,
        held,
        description,
        currency: paid.currency.clone(),
        paid_at: paid.created_at,
        paid: 0,
        lines: Vec::new(),
        in_escrow: 0,
        released: 0,
        fee: 0,
        refunded: 0,
        in_dispute: 0,
        charge,
    };
    let mut covered = 0;
    for m in moved {
        let line = |description, amount| Line {
            description,
            amount,
            at: m.created_at,
        };
        let fee = sum(m, AccountKind::PlatformRevenue);
        let refunded = sum(m, AccountKind::ClientRefunds);
        let out_of_escrow = -sum(m, AccountKind::Escrow);
        match m.kind.as_str() {
            "fund" => {
                receipt.paid += sum(m, AccountKind::Escrow);
                receipt
                    .lines
                    .push(line("Paid into escrow", sum(m, AccountKind::Escrow)));
            }
            "release" | "refund" | "settle" => {
                let released = out_of_escrow - refunded;
                if refunded > 0 {
                    receipt.lines.push(line("Refunded to the client", refunded));
                }
                if released > 0 {
                    receipt
                        .lines
                        .push(line("Released to the freelancer", released));
                }
                if fee > 0 {
                    receipt.lines.push(line("Of which Frevix's fee", fee));
                }
                receipt.released += released;
                receipt.refunded += refunded;
                receipt.fee += fee;
            }
            "chargeback" => {
                let held = sum(m, AccountKind::Disputed);
                receipt.lines.push(line("Held for a card dispute", held));
                receipt.in_dispute += held;
            }
            "chargeback_won" => {
                let back = -sum(m, AccountKind::Disputed);
                receipt
                    .lines
                    .push(line("Card dispute won: back in escrow", back));
                receipt.in_dispute -= back;
            }
            "chargeback_lost" => {
                receipt.in_dispute += sum(m, AccountKind::Disputed);
                receipt.lines.push(line(
                    "Returned by the client's bank (card dispute)",
                    refunded,
                ));
                receipt.refunded += refunded;
                // What had been released before the dispute, the platform
                // paid back: it did not come out of escrow.
                covered -= sum(m, AccountKind::ProviderFees);
            }
            // Payouts are the freelancer's business, not this payment's.
            _ => {}
        }
    }
    receipt.in_escrow =
        receipt.paid - receipt.released - (receipt.refunded - covered) - receipt.in_dispute;
    Some(receipt)
}
