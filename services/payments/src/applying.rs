//! Applies the provider's recorded events (see `store::inbox`), each in
//! the transaction of the timer that the recording scheduled: the ledger
//! posting, the payment's status, the events, and the mark that it was
//! applied commit together, so each event moves money once even when it is
//! delivered twice or the process dies halfway.

use std::sync::Arc;

use frevix_platform::db::Txn;
use frevix_platform::events::HandlerError;
use frevix_platform::money::Money;
use frevix_platform::timers::{OnTimer, Timer};
use frevix_proto::payments::v1 as events;

use crate::Inner;
use crate::chargebacks;
use crate::convert::money;
use crate::escrow::{self, Held};
use crate::hourly;
use crate::payouts;
use crate::provider::{IntentStatus, ProviderError, ProviderEvent};
use crate::store::fundings::{self, Heard};
use crate::store::payouts as payouts_store;
use crate::store::{inbox, terms};

/// Payments' timers.
pub struct Timed {
    pub inner: Arc<Inner>,
}

#[async_trait::async_trait]
impl OnTimer for Timed {
    async fn fire(&self, txn: &Txn, timer: &Timer) -> Result<(), HandlerError> {
        let milestone = || {
            uuid::Uuid::parse_str(&timer.subject)
                .map_err(|_| HandlerError(format!("timer subject {:?}", timer.subject)))
        };
        match timer.kind.as_str() {
            inbox::APPLY_EVENT => apply(&self.inner, txn, &timer.subject).await,
            payouts::SEND_PAYOUT => payouts::send_payout(&self.inner, txn, milestone()?).await,
            payouts::SEND_REFUND => payouts::send_refund(&self.inner, txn, milestone()?).await,
            hourly::CHARGE_INVOICE => hourly::charge(&self.inner, txn, milestone()?).await,
            other => {
                tracing::warn!(kind = other, "a timer of an unknown kind is dropped");
                Ok(())
            }
        }
    }
}

/// Applies the recorded event `id`, unless it was applied already.
async fn apply(inner: &Inner, txn: &Txn, id: &str) -> Result<(), HandlerError> {
    let Some(event) = inbox::take(txn, id).await? else {
        return Ok(());
    };
    match &event {
        ProviderEvent::PaymentSucceeded {
            intent,
            charge,
            amount_minor,
            currency,
        } => succeeded(inner, txn, intent, charge, *amount_minor, currency).await?,
        ProviderEvent::PaymentFailed { intent, reason } => {
            failed(inner, txn, intent, reason).await?;
        }
        ProviderEvent::AccountUpdated {
            account,
            payouts_enabled,
        } => account_updated(inner, txn, account, *payouts_enabled).await?,
        ProviderEvent::ChargeDisputed {
            dispute,
            charge,
            amount_minor,
            currency,
            reason,
        } => {
            chargebacks::opened(inner, txn, dispute, charge, *amount_minor, currency, reason)
                .await?;
        }
        ProviderEvent::DisputeClosed { dispute, won } => {
            chargebacks::closed(inner, txn, dispute, *won).await?;
        }
    }
    inbox::mark_applied(txn, id, inner.clock.now()).await?;
    Ok(())
}

/// Whether a payment's subject is a milestone or an hourly invoice.
async fn held_by(txn: &Txn, subject: uuid::Uuid) -> Result<Held, HandlerError> {
    Ok(match terms::find_invoice(txn, subject).await? {
        Some(_) => Held::Invoice(subject),
        None => Held::Milestone(subject),
    })
}

async fn succeeded(
    inner: &Inner,
    txn: &Txn,
    intent: &str,
    charge: &str,
    amount_minor: i64,
    currency: &str,
) -> Result<(), HandlerError> {
    let Some(funding) = fundings::find_for_intent(txn, intent).await? else {
        tracing::warn!(
            intent,
            "a payment succeeded for an intent Frevix does not know"
        );
        return Ok(());
    };
    let Some(contract) = terms::find_contract(txn, funding.contract_id).await? else {
        return Err(HandlerError(format!(
            "funding of unknown contract {}",
            funding.contract_id
        )));
    };
    let charged = Money::from_stored(currency, amount_minor)
        .filter(|m| m.minor_units > 0)
        .ok_or_else(|| HandlerError(format!("charged {amount_minor} {currency:?}")))?;
    if charged.minor_units != funding.amount_minor || currency != funding.currency {
        tracing::warn!(intent, charged = %charged, asked = funding.amount_minor, "the provider charged another amount than asked; the ledger holds what was charged");
    }
    // The same table keeps milestones' payments and hourly weeks' charges.
    let held = held_by(txn, funding.milestone_id).await?;
    escrow::fund(inner, txn, &contract, held, charged, charge).await?;
    if let Held::Invoice(_) = held {
        // The week's work was approved before it was charged.
        escrow::release(inner, txn, &contract, held).await?;
    }
    let heard = Heard {
        status: IntentStatus::Succeeded,
        failure: None,
        next_action_url: None,
    };
    fundings::hear(txn, intent, heard, inner.clock.now()).await?;
    Ok(())
}

async fn failed(inner: &Inner, txn: &Txn, intent: &str, reason: &str) -> Result<(), HandlerError> {
    let Some(funding) = fundings::find_for_intent(txn, intent).await? else {
        tracing::warn!(
            intent,
            "a payment failed for an intent Frevix does not know"
        );
        return Ok(());
    };
    let heard = Heard {
        status: IntentStatus::RequiresPaymentMethod,
        failure: Some(reason),
        next_action_url: None,
    };
    if !fundings::hear(txn, intent, heard, inner.clock.now()).await? {
        // The payment succeeded meanwhile (events may come out of order).
        return Ok(());
    }
    let Some(contract) = terms::find_contract(txn, funding.contract_id).await? else {
        return Ok(());
    };
    let (milestone_id, invoice_id) = match held_by(txn, funding.milestone_id).await? {
        Held::Milestone(id) => (id.to_string(), String::new()),
        Held::Invoice(id) => (String::new(), id.to_string()),
    };
    let event = events::PaymentFailed {
        contract_id: contract.id.to_string(),
        milestone_id,
        invoice_id,
        client_id: contract.client_id.to_string(),
        freelancer_id: contract.freelancer_id.to_string(),
        amount: money(&funding.currency, funding.amount_minor),
        reason: reason.to_owned(),
    };
    inner
        .outbox
        .publish(txn, "milestone", &funding.milestone_id.to_string(), &event)
        .await?;
    Ok(())
}

async fn account_updated(
    inner: &Inner,
    txn: &Txn,
    account: &str,
    reported: bool,
) -> Result<(), HandlerError> {
    // Account events come in any order: what the account is now decides,
    // not what one event said it became.
    let payouts_enabled = match inner.provider.account(account).await {
        Ok(found) => found.payouts_enabled,
        Err(ProviderError::Invalid(_)) => reported,
        Err(error) => return Err(HandlerError(format!("account {account}: {error}"))),
    };
    let now = inner.clock.now();
    let Some(freelancer) = payouts_store::set_enabled(txn, account, payouts_enabled, now).await?
    else {
        // Unchanged, or an account Frevix does not know.
        return Ok(());
    };
    let event = events::PayoutAccountUpdated {
        freelancer_id: freelancer.to_string(),
        payouts_enabled,
    };
    inner
        .outbox
        .publish(txn, "payout_account", &event.freelancer_id, &event)
        .await?;
    if payouts_enabled {
        payouts::enabled(inner, txn, freelancer).await?;
    }
    Ok(())
}
