//! Money into and out of a milestone's escrow, each move a ledger posting
//! with its event in one transaction: funded when the provider says the
//! charge succeeded, released when contracts approves the milestone,
//! divided when contracts ends the contract early. What is moved is always
//! what the ledger holds, never a figure from an event; a move that was
//! made already (a repeated event) posts and publishes nothing. What a
//! move owes outside (a payout, a card refund) is queued with it
//! (`payouts`).

use frevix_platform::db::Txn;
use frevix_platform::events::HandlerError;
use frevix_platform::money::{Currency, Money};
use frevix_proto::contracts::v1 as contracts;
use frevix_proto::payments::v1 as events;
use uuid::Uuid;

use crate::Inner;
use crate::convert::money;
use crate::ledger::{self, Account, Escrow, LedgerError, Transaction};
use crate::payouts;
use crate::store::terms::ContractRow;
use crate::store::{self, PostError, Posted};

/// What an escrow holds money for: a milestone, or an hourly week's
/// invoice (charged and released at once: the work was approved).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Held {
    Milestone(Uuid),
    Invoice(Uuid),
}

impl Held {
    pub fn id(self) -> Uuid {
        match self {
            Held::Milestone(id) | Held::Invoice(id) => id,
        }
    }

    /// The events' `milestone_id` and `invoice_id`.
    fn fields(self) -> (String, String) {
        match self {
            Held::Milestone(id) => (id.to_string(), String::new()),
            Held::Invoice(id) => (String::new(), id.to_string()),
        }
    }
}

fn handler_error(error: impl std::fmt::Display) -> HandlerError {
    HandlerError(error.to_string())
}

fn currency(contract: &ContractRow) -> Result<Currency, HandlerError> {
    Currency::from_code(&contract.currency)
        .ok_or_else(|| HandlerError(format!("contract currency {:?}", contract.currency)))
}

fn escrow_of(contract: &ContractRow, milestone: Uuid) -> Result<Escrow, HandlerError> {
    Ok(Escrow {
        contract: contract.id,
        milestone,
        client: contract.client_id,
        freelancer: contract.freelancer_id,
        currency: currency(contract)?,
    })
}

/// Posts `transaction`; true if it was written now (false: a replay).
async fn post(inner: &Inner, txn: &Txn, transaction: &Transaction) -> Result<bool, HandlerError> {
    match store::post(txn, transaction, inner.clock.now()).await {
        Ok(Posted::Written) => Ok(true),
        Ok(Posted::Replayed) => Ok(false),
        Err(PostError::Db(db)) => Err(db.into()),
        Err(PostError::Ledger(refused)) => Err(handler_error(refused)),
    }
}

/// What the milestone's escrow holds now.
async fn held_in(txn: &Txn, escrow: &Escrow) -> Result<i64, HandlerError> {
    Ok(store::balance(txn, &Account::escrow(escrow.milestone, escrow.currency)).await?)
}

/// The provider charged the client for `held`: into escrow.
pub async fn fund(
    inner: &Inner,
    txn: &Txn,
    contract: &ContractRow,
    held: Held,
    charged: Money,
    charge: &str,
) -> Result<(), HandlerError> {
    let milestone = held.id();
    let escrow = escrow_of(contract, milestone)?;
    let transaction = escrow.fund(charged, charge).map_err(handler_error)?;
    match post(inner, txn, &transaction).await {
        Ok(true) => {}
        Ok(false) => return Ok(()),
        Err(error) => return Err(error),
    }
    if contract.ended_at.is_some() && matches!(held, Held::Milestone(_)) {
        // Paid after the contract ended (a payment confirmed late, e.g.
        // after 3-D Secure): nothing can be delivered for it any more, so
        // the client gets it back. (An hourly week's charge is for work
        // already approved, and goes on to the freelancer.)
        tracing::warn!(contract = %contract.id, %milestone, "a charge succeeded after the contract ended; refunded");
        return refund_what_is_held(inner, txn, contract, milestone).await;
    }
    let (milestone_id, invoice_id) = held.fields();
    let event = events::EscrowFunded {
        contract_id: contract.id.to_string(),
        milestone_id,
        client_id: contract.client_id.to_string(),
        freelancer_id: contract.freelancer_id.to_string(),
        amount: money(&contract.currency, charged.minor_units),
        invoice_id,
    };
    inner
        .outbox
        .publish(txn, "milestone", &milestone.to_string(), &event)
        .await?;
    Ok(())
}

/// The work was approved: everything in the escrow to the freelancer,
/// less the platform's fee.
pub async fn release(
    inner: &Inner,
    txn: &Txn,
    contract: &ContractRow,
    held: Held,
) -> Result<(), HandlerError> {
    let milestone = held.id();
    let escrow = escrow_of(contract, milestone)?;
    let held_for = held;
    if let Some(dispute) = crate::store::chargebacks::open_on(txn, milestone).await? {
        // A card dispute holds it: released when the dispute is won.
        crate::store::chargebacks::wait_for_release(txn, &dispute.id).await?;
        tracing::info!(contract = %contract.id, %milestone, dispute = dispute.id, "approved while a card dispute holds the escrow");
        return Ok(());
    }
    let amount = held_in(txn, &escrow).await?;
    if amount == 0 {
        tracing::info!(contract = %contract.id, %milestone, "approved with nothing in escrow");
        return Ok(());
    }
    let fee = ledger::fee(amount, inner.fee_bps);
    let transaction = escrow
        .release(Money::new(escrow.currency, amount), fee)
        .map_err(handler_error)?;
    if post(inner, txn, &transaction).await? {
        publish_released(inner, txn, contract, held_for, amount - fee, fee).await?;
        payouts::owe_payout(inner, txn, contract, milestone, amount - fee).await?;
    }
    Ok(())
}

/// The contract ended early: each milestone's escrow divided as contracts
/// settled it. What contracts did not know was held (a charge it had not
/// heard of yet) goes back to the client; the fee is taken on the released
/// part only.
pub async fn settle(
    inner: &Inner,
    txn: &Txn,
    contract: &ContractRow,
    settlements: &[contracts::MilestoneSettlement],
) -> Result<(), HandlerError> {
    for settlement in settlements {
        let Ok(milestone) = Uuid::parse_str(&settlement.milestone_id) else {
            return Err(HandlerError(format!(
                "settlement of milestone {:?}",
                settlement.milestone_id
            )));
        };
        let escrow = escrow_of(contract, milestone)?;
        let held = held_in(txn, &escrow).await?;
        let asked =
            |m: Option<&frevix_proto::common::v1::Money>| m.map_or(0, |m| m.minor_units.max(0));
        let release = asked(settlement.release.as_ref()).min(held);
        let refund = held - release;
        if refund != asked(settlement.refund.as_ref()) {
            tracing::warn!(contract = %contract.id, %milestone, held, refund, "the settlement's refund differs from what escrow holds; the client gets the rest");
        }
        if held == 0 {
            continue;
        }
        let fee = ledger::fee(release, inner.fee_bps);
        let transaction = match escrow.settle(refund, release, fee) {
            Ok(transaction) => transaction,
            Err(LedgerError::BadAmount(what)) => {
                return Err(HandlerError(format!("settlement of {milestone}: {what}")));
            }
            Err(other) => return Err(handler_error(other)),
        };
        if !post(inner, txn, &transaction).await? {
            continue;
        }
        if refund > 0 {
            let event = events::EscrowRefunded {
                contract_id: contract.id.to_string(),
                milestone_id: milestone.to_string(),
                client_id: contract.client_id.to_string(),
                freelancer_id: contract.freelancer_id.to_string(),
                amount: money(&contract.currency, refund),
            };
            inner
                .outbox
                .publish(txn, "milestone", &event.milestone_id, &event)
                .await?;
        }
        if release > 0 {
            let held = Held::Milestone(milestone);
            publish_released(inner, txn, contract, held, release - fee, fee).await?;
        }
        payouts::owe_refund(inner, txn, contract, milestone, refund).await?;
        payouts::owe_payout(inner, txn, contract, milestone, release - fee).await?;
    }
    Ok(())
}

async fn publish_released(
    inner: &Inner,
    txn: &Txn,
    contract: &ContractRow,
    held: Held,
    net: i64,
    fee: i64,
) -> Result<(), HandlerError> {
    let (milestone_id, invoice_id) = held.fields();
    let event = events::EscrowReleased {
        contract_id: contract.id.to_string(),
        milestone_id,
        client_id: contract.client_id.to_string(),
        freelancer_id: contract.freelancer_id.to_string(),
        amount: money(&contract.currency, net),
        fee: money(&contract.currency, fee),
        invoice_id,
    };
    inner
        .outbox
        .publish(txn, "milestone", &held.id().to_string(), &event)
        .await?;
    Ok(())
}

/// Gives the client back whatever the milestone's escrow holds (a won
/// dispute's money on a contract that ended meanwhile).
pub async fn refund_what_is_held(
    inner: &Inner,
    txn: &Txn,
    contract: &ContractRow,
    milestone: Uuid,
) -> Result<(), HandlerError> {
    let escrow = escrow_of(contract, milestone)?;
    let amount = held_in(txn, &escrow).await?;
    if amount == 0 {
        return Ok(());
    }
    let transaction = escrow
        .refund(Money::new(escrow.currency, amount))
        .map_err(handler_error)?;
    if post(inner, txn, &transaction).await? {
        let event = events::EscrowRefunded {
            contract_id: contract.id.to_string(),
            milestone_id: milestone.to_string(),
            client_id: contract.client_id.to_string(),
            freelancer_id: contract.freelancer_id.to_string(),
            amount: money(&contract.currency, amount),
        };
        inner
            .outbox
            .publish(txn, "milestone", &event.milestone_id, &event)
            .await?;
        payouts::owe_refund(inner, txn, contract, milestone, amount).await?;
    }
    Ok(())
}
