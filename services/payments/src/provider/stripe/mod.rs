//! Stripe as the payment provider, through async-stripe's typed client:
//! payment intents confirmed server-side, customers and SetupIntents for
//! off-session charges, Connect Express accounts and account links,
//! separate charges and transfers (`transfer_group` = the contract,
//! `source_transaction` = the funding charge), refunds, and the balance
//! transactions reconciliation reads. Every call has a timeout (per
//! attempt) and an idempotency key derived from what it does, so a retry
//! after a crash or a timeout is the same call at Stripe.
//!
//! Stripe's answers to calls only inform the client's screen; what moves
//! the ledger arrives as signed webhook events ([`webhook`]), recorded in
//! the same inbox the sandbox's events go to.

mod calls;
mod events;
pub mod webhook;

use std::time::Duration;

use ::stripe::{
    Client, ClientBuilder, IdempotencyKey, RequestStrategy, StripeError, StripeRequest,
};
use secrecy::{ExposeSecret, SecretString};
use stripe_client_core::CustomizableStripeRequest;

use super::{Intent, IntentStatus, ProviderError};
use crate::config::StripeConfig;

/// The Stripe provider.
#[derive(Clone)]
pub struct Stripe {
    client: Client,
    publishable_key: String,
    webhook_secret: SecretString,
    return_url: String,
}

impl Stripe {
    pub fn new(config: &StripeConfig) -> Result<Stripe, String> {
        // Two TLS crypto providers are in the build (ring; aws-lc-rs from
        // the S3 client): the process's default must be named. Ring is
        // Frevix's; an error means one was installed already.
        let _ = rustls::crypto::ring::default_provider().install_default();
        let client = ClientBuilder::new(config.secret_key.expose_secret())
            .url(config.api_base.clone())
            .timeout(Duration::from_secs(config.timeout_secs))
            .app_info("frevix", Some(env!("CARGO_PKG_VERSION").to_owned()), None)
            .build()
            .map_err(|e| format!("the Stripe client: {e}"))?;
        Ok(Stripe {
            client,
            publishable_key: config.publishable_key.clone(),
            webhook_secret: config.webhook_secret.clone(),
            return_url: config.return_url.clone(),
        })
    }

    pub(crate) fn webhook_secret(&self) -> &str {
        self.webhook_secret.expose_secret()
    }
}

/// `request` sent once under `key`: Stripe answers a repeat with the first
/// answer, and refuses the key with other parameters.
fn keyed<R: StripeRequest>(
    request: &R,
    key: &str,
) -> Result<CustomizableStripeRequest<R::Output>, ProviderError> {
    let key = IdempotencyKey::new(key)
        .map_err(|e| ProviderError::Invalid(format!("idempotency key {key:?}: {e}")))?;
    Ok(request
        .customize()
        .request_strategy(RequestStrategy::Idempotent(key)))
}

/// What a failed call means to Frevix.
fn failure(error: StripeError) -> ProviderError {
    match error {
        StripeError::Stripe(api, status) => {
            let message = api
                .message
                .clone()
                .unwrap_or_else(|| format!("Stripe refused the call ({status})"));
            match (status, &api.type_) {
                (_, ::stripe::ApiErrorsType::IdempotencyError) => ProviderError::KeyReused(message),
                (400 | 402 | 404, _) if is_state(&api) => ProviderError::UnexpectedState(message),
                (400 | 402 | 404, _) => ProviderError::Invalid(message),
                _ => ProviderError::Unavailable(format!("{status}: {message}")),
            }
        }
        StripeError::Timeout => ProviderError::Unavailable("Stripe did not answer in time".into()),
        other => ProviderError::Unavailable(other.to_string()),
    }
}

fn is_state(api: &::stripe::ApiErrors) -> bool {
    api.code.as_ref().is_some_and(|code| {
        let code = code.to_string();
        code.ends_with("unexpected_state")
            || matches!(
                code.as_str(),
                "charge_already_refunded" | "charge_disputed" | "balance_insufficient"
            )
    })
}

/// A card error's intent, as it stands after the decline.
fn declined_intent(error: &StripeError) -> Option<&stripe_shared::PaymentIntent> {
    match error {
        StripeError::Stripe(api, 402) => api.payment_intent.as_ref(),
        _ => None,
    }
}

fn intent_of(intent: &stripe_shared::PaymentIntent) -> Intent {
    use stripe_shared::PaymentIntentStatus as S;
    let status = match intent.status {
        S::RequiresPaymentMethod => IntentStatus::RequiresPaymentMethod,
        S::RequiresConfirmation => IntentStatus::RequiresConfirmation,
        S::RequiresAction => IntentStatus::RequiresAction,
        S::Succeeded => IntentStatus::Succeeded,
        S::Canceled => IntentStatus::Canceled,
        _ => IntentStatus::Processing,
    };
    Intent {
        id: intent.id.to_string(),
        client_secret: intent.client_secret.clone().unwrap_or_default(),
        status,
        failure: intent
            .last_payment_error
            .as_ref()
            .and_then(|e| e.message.clone()),
        next_action_url: intent
            .next_action
            .as_ref()
            .and_then(|a| a.redirect_to_url.as_ref())
            .and_then(|r| r.url.clone()),
    }
}

/// Stripe's currency for a Frevix one (`USD` → `usd`).
fn currency(code: &str) -> Result<stripe_types::Currency, ProviderError> {
    code.to_ascii_lowercase()
        .parse()
        .map_err(|_| ProviderError::Invalid(format!("Stripe has no currency {code}")))
}
