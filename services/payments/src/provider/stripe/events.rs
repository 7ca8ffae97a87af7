//! Stripe's webhook events as Frevix's provider events. Only what moves
//! money or a payout account is kept; every other event is acknowledged
//! and dropped (Stripe sends what the endpoint subscribes to, and an
//! endpoint may be subscribed to more).

use stripe_shared::DisputeStatus;
use stripe_webhook::{Event, EventObject};

use crate::provider::ProviderEvent;

/// What `event` means to payments, if anything.
pub fn provider_event(event: &Event) -> Option<ProviderEvent> {
    Some(match &event.data.object {
        EventObject::PaymentIntentSucceeded(intent) => ProviderEvent::PaymentSucceeded {
            intent: intent.id.to_string(),
            charge: intent.latest_charge.as_ref()?.id().to_string(),
            amount_minor: intent.amount_received,
            currency: intent.currency.to_string().to_ascii_uppercase(),
        },
        EventObject::PaymentIntentPaymentFailed(intent) => ProviderEvent::PaymentFailed {
            intent: intent.id.to_string(),
            reason: intent
                .last_payment_error
                .as_ref()
                .and_then(|e| e.message.clone())
                .unwrap_or_else(|| "The payment failed.".to_owned()),
        },
        EventObject::AccountUpdated(account) => ProviderEvent::AccountUpdated {
            account: account.id.to_string(),
            payouts_enabled: account.payouts_enabled.unwrap_or(false),
        },
        EventObject::ChargeDisputeCreated(dispute) => ProviderEvent::ChargeDisputed {
            dispute: dispute.id.to_string(),
            charge: dispute.charge.id().to_string(),
            amount_minor: dispute.amount,
            currency: dispute.currency.to_string().to_ascii_uppercase(),
            reason: dispute.reason.clone(),
        },
        EventObject::ChargeDisputeClosed(dispute) => ProviderEvent::DisputeClosed {
            dispute: dispute.id.to_string(),
            won: matches!(
                dispute.status,
                DisputeStatus::Won | DisputeStatus::WarningClosed
            ),
        },
        _ => return None,
    })
}
