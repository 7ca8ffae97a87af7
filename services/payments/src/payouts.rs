//! Money leaving Frevix at the provider. A release owes the freelancer a
//! payout, sent as a transfer to their payout account once the clearance
//! period has passed and their payouts are enabled (until then it waits:
//! nothing is lost); a division owes the client a refund of their card.
//! Each is a durable timer whose firing calls the provider with a key
//! derived from the milestone and records the result in the same
//! transaction, so a crash between the call and the commit repeats the
//! call, and the provider answers the same transfer or refund again.

use chrono::Duration;
use frevix_platform::db::Txn;
use frevix_platform::events::HandlerError;
use frevix_platform::money::Money;
use uuid::Uuid;

use crate::ledger::{self, TransactionId, TransactionKind};
use crate::provider::{NewRefund, NewTransfer, ProviderError};
use crate::store::chargebacks as store_chargebacks;
use crate::store::payouts::{self as store, PayoutRow, RefundRow};
use crate::store::terms::ContractRow;
use crate::store::{self as books, PostError};
use crate::{Inner, crash};

/// Timer kinds (their subject: the milestone's id).
pub const SEND_PAYOUT: &str = "payout.transfer";
pub const SEND_REFUND: &str = "provider.refund";

/// The provider's charge that funded `milestone`.
async fn charge_of(txn: &Txn, milestone: Uuid) -> Result<String, HandlerError> {
    let fund = TransactionId::of(TransactionKind::Fund, milestone);
    books::find_transaction(txn, &fund)
        .await?
        .and_then(|row| row.provider_ref)
        .ok_or_else(|| HandlerError(format!("milestone {milestone} has no funding charge")))
}

fn money(currency: &str, minor_units: i64) -> Result<Money, HandlerError> {
    Money::from_stored(currency, minor_units)
        .ok_or_else(|| HandlerError(format!("currency {currency:?}")))
}

/// A release owes the freelancer `net`: due after the clearance period.
pub async fn owe_payout(
    inner: &Inner,
    txn: &Txn,
    contract: &ContractRow,
    milestone: Uuid,
    net: i64,
) -> Result<(), HandlerError> {
    if net <= 0 {
        return Ok(());
    }
    let now = inner.clock.now();
    let due = now + Duration::days(i64::from(inner.clearance_days));
    let row = PayoutRow {
        milestone_id: milestone,
        freelancer_id: contract.freelancer_id,
        contract_id: contract.id,
        amount_minor: net,
        currency: contract.currency.clone(),
        charge_id: charge_of(txn, milestone).await?,
        due_at: due,
        transfer_id: None,
        created_at: now,
        paid_at: None,
    };
    if store::insert_payout(txn, row).await? {
        inner
            .timers
            .schedule(txn, SEND_PAYOUT, &milestone.to_string(), due, "")
            .await?;
    }
    Ok(())
}

/// A division owes the client `amount` back on their card: at once.
pub async fn owe_refund(
    inner: &Inner,
    txn: &Txn,
    contract: &ContractRow,
    milestone: Uuid,
    amount: i64,
) -> Result<(), HandlerError> {
    if amount <= 0 {
        return Ok(());
    }
    let now = inner.clock.now();
    let row = RefundRow {
        milestone_id: milestone,
        contract_id: contract.id,
        amount_minor: amount,
        currency: contract.currency.clone(),
        charge_id: charge_of(txn, milestone).await?,
        refund_id: None,
        created_at: now,
        refunded_at: None,
    };
    if store::insert_refund(txn, row).await? {
        inner
            .timers
            .schedule(txn, SEND_REFUND, &milestone.to_string(), now, "")
            .await?;
    }
    Ok(())
}

fn provider_failed(error: ProviderError) -> HandlerError {
    HandlerError(format!("payment provider: {error}"))
}

/// Sends the payout of `milestone` if it is due, unsent, and the
/// freelancer's payouts are enabled; otherwise it waits for that.
pub async fn send_payout(inner: &Inner, txn: &Txn, milestone: Uuid) -> Result<(), HandlerError> {
    let Some(payout) = store::find_payout(txn, milestone).await? else {
        return Ok(());
    };
    if payout.paid_at.is_some() || payout.due_at > inner.clock.now() {
        return Ok(());
    }
    if store_chargebacks::open_on(txn, milestone).await?.is_some() {
        tracing::info!(%milestone, "payout waits for a card dispute");
        return Ok(());
    }
    let Some(account) = store::find_account(txn, payout.freelancer_id).await? else {
        tracing::info!(%milestone, freelancer = %payout.freelancer_id, "payout waits for a payout account");
        return Ok(());
    };
    if !account.payouts_enabled {
        tracing::info!(%milestone, freelancer = %payout.freelancer_id, "payout waits for onboarding");
        return Ok(());
    }
    let amount = money(&payout.currency, payout.amount_minor)?;
    let payout_id = TransactionId::of(TransactionKind::Payout, milestone);
    crash::point(crash::BEFORE_TRANSFER);
    let transfer = inner
        .provider
        .transfer(&NewTransfer {
            idempotency_key: payout_id.to_string(),
            amount,
            destination: account.account_id.clone(),
            transfer_group: payout.contract_id,
            source_transaction: payout.charge_id.clone(),
        })
        .await
        .map_err(provider_failed)?;
    crash::point(crash::AFTER_TRANSFER);
    let posting = ledger::payout(milestone, payout.freelancer_id, amount, &transfer)
        .map_err(|e| HandlerError(e.to_string()))?
        .about(payout.contract_id, Some(milestone));
    match books::post(txn, &posting, inner.clock.now()).await {
        Ok(_) => {}
        Err(PostError::Db(db)) => return Err(db.into()),
        Err(PostError::Ledger(refused)) => return Err(HandlerError(refused.to_string())),
    }
    store::mark_paid(txn, milestone, &transfer, inner.clock.now()).await?;
    Ok(())
}

/// Refunds the client's card for `milestone`, once.
pub async fn send_refund(inner: &Inner, txn: &Txn, milestone: Uuid) -> Result<(), HandlerError> {
    let Some(refund) = store::find_refund(txn, milestone).await? else {
        return Ok(());
    };
    if refund.refunded_at.is_some() {
        return Ok(());
    }
    crash::point(crash::BEFORE_REFUND);
    let id = inner
        .provider
        .refund(&NewRefund {
            idempotency_key: format!("refund:{milestone}"),
            charge: refund.charge_id.clone(),
            amount: money(&refund.currency, refund.amount_minor)?,
        })
        .await
        .map_err(provider_failed)?;
    crash::point(crash::AFTER_REFUND);
    store::mark_refunded(txn, milestone, &id, inner.clock.now()).await?;
    Ok(())
}

/// The freelancer's payouts became enabled: what they are owed goes out,
/// each when due.
pub async fn enabled(inner: &Inner, txn: &Txn, freelancer: Uuid) -> Result<(), HandlerError> {
    let now = inner.clock.now();
    for payout in store::unpaid(txn, freelancer).await? {
        let due = payout.due_at.max(now);
        inner
            .timers
            .schedule(txn, SEND_PAYOUT, &payout.milestone_id.to_string(), due, "")
            .await?;
    }
    Ok(())
}

/// A card dispute on `milestone` was decided: its payout, if unpaid, goes
/// out when due.
pub async fn resume(inner: &Inner, txn: &Txn, milestone: Uuid) -> Result<(), HandlerError> {
    if let Some(payout) = store::find_payout(txn, milestone).await?
        && payout.paid_at.is_none()
    {
        let due = payout.due_at.max(inner.clock.now());
        inner
            .timers
            .schedule(txn, SEND_PAYOUT, &milestone.to_string(), due, "")
            .await?;
    }
    Ok(())
}
