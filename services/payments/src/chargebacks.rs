//! Card disputes (chargebacks). When the client's bank disputes a charge,
//! what of it is still in escrow is held (`disputed`), and while the
//! dispute is open nothing of that milestone is released or paid out (an
//! approval meanwhile waits). Won: the money goes back to escrow and a
//! waiting release goes through (a contract that ended meanwhile refunds
//! it). Lost: the client's bank gave it back; what had already been
//! released is the platform's loss. Either way the books balance.

use frevix_platform::db::Txn;
use frevix_platform::events::HandlerError;
use uuid::Uuid;

use crate::Inner;
use crate::escrow::{self, Held};
use crate::ledger::{Account, Escrow, Transaction};
use crate::payouts;
use crate::store::chargebacks::{self as store, ChargebackRow};
use crate::store::{self as books, PostError, terms};

fn currency_of(code: &str) -> Result<frevix_platform::money::Currency, HandlerError> {
    frevix_platform::money::Currency::from_code(code)
        .ok_or_else(|| HandlerError(format!("currency {code:?}")))
}

async fn post(inner: &Inner, txn: &Txn, transaction: &Transaction) -> Result<(), HandlerError> {
    match books::post(txn, transaction, inner.clock.now()).await {
        Ok(_) => Ok(()),
        Err(PostError::Db(db)) => Err(db.into()),
        Err(PostError::Ledger(refused)) => Err(HandlerError(refused.to_string())),
    }
}

async fn escrow_for(txn: &Txn, contract: Uuid, milestone: Uuid) -> Result<Escrow, HandlerError> {
    let contract = terms::find_contract(txn, contract)
        .await?
        .ok_or_else(|| HandlerError(format!("chargeback on unknown contract {contract}")))?;
    Ok(Escrow {
        contract: contract.id,
        milestone,
        client: contract.client_id,
        freelancer: contract.freelancer_id,
        currency: currency_of(&contract.currency)?,
    })
}

/// The client's bank disputes `charge`.
pub async fn opened(
    inner: &Inner,
    txn: &Txn,
    dispute: &str,
    charge: &str,
    amount_minor: i64,
    currency: &str,
    reason: &str,
) -> Result<(), HandlerError> {
    if store::find(txn, dispute).await?.is_some() {
        return Ok(());
    }
    let Some(funded) = books::find_transaction_by_provider_ref(txn, charge).await? else {
        // The charge's own success may not be applied yet (events come in
        // any order): tried again later.
        return Err(HandlerError(format!(
            "dispute {dispute} on charge {charge} not in the books yet"
        )));
    };
    let (Some(contract), Some(milestone)) = (funded.contract_id, funded.milestone_id) else {
        return Err(HandlerError(format!("charge {charge} funded no milestone")));
    };
    let escrow = escrow_for(txn, contract, milestone).await?;
    let in_escrow = books::balance(txn, &Account::escrow(milestone, escrow.currency)).await?;
    let held = in_escrow.min(amount_minor);
    if held > 0 {
        post(
            inner,
            txn,
            &escrow
                .chargeback(held)
                .map_err(|e| HandlerError(e.to_string()))?,
        )
        .await?;
    }
    store::open(
        txn,
        ChargebackRow {
            id: dispute.to_owned(),
            charge_id: charge.to_owned(),
            milestone_id: milestone,
            contract_id: contract,
            amount_minor,
            currency: currency.to_owned(),
            reason: reason.chars().take(100).collect(),
            status: "open".to_owned(),
            held_minor: held,
            release_waiting: false,
            opened_at: inner.clock.now(),
            closed_at: None,
        },
    )
    .await?;
    tracing::warn!(dispute, charge, %contract, %milestone, held, "a card dispute holds a milestone's escrow");
    Ok(())
}

/// The bank decided the dispute.
pub async fn closed(
    inner: &Inner,
    txn: &Txn,
    dispute: &str,
    won: bool,
) -> Result<(), HandlerError> {
    let Some(row) = store::find(txn, dispute).await? else {
        return Err(HandlerError(format!(
            "dispute {dispute} closed before it was opened here"
        )));
    };
    let status = if won { "won" } else { "lost" };
    if !store::close(txn, dispute, status, inner.clock.now()).await? {
        return Ok(());
    }
    let escrow = escrow_for(txn, row.contract_id, row.milestone_id).await?;
    if won {
        if row.held_minor > 0 {
            let back = escrow
                .chargeback_won(row.held_minor)
                .map_err(|e| HandlerError(e.to_string()))?;
            post(inner, txn, &back).await?;
        }
        if let Some(contract) = terms::find_contract(txn, row.contract_id).await? {
            if contract.ended_at.is_some() {
                // Ended while held: the client gets it back.
                escrow::refund_what_is_held(inner, txn, &contract, row.milestone_id).await?;
            } else if row.release_waiting {
                escrow::release(inner, txn, &contract, Held::Milestone(row.milestone_id)).await?;
            }
        }
    } else {
        let lost = escrow
            .chargeback_lost(row.held_minor, row.amount_minor)
            .map_err(|e| HandlerError(e.to_string()))?;
        post(inner, txn, &lost).await?;
    }
    payouts::resume(inner, txn, row.milestone_id).await?;
    tracing::info!(dispute, status, "a card dispute was decided");
    Ok(())
}
