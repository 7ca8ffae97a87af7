//! The payment provider seam: what Frevix asks of whoever moves the real
//! money (Stripe, or the sandbox that behaves like Stripe's test mode).
//!
//! Every call carries an idempotency key derived from what it does, so a
//! retry after a crash or a timeout is the same call at the provider. The
//! provider's answers to calls are only hints for the client's screen: what
//! moves the ledger is the provider's *events* ([`ProviderEvent`]), recorded
//! once in the inbox and applied by one path whether they came from
//! Stripe's webhooks or the sandbox.

pub mod sandbox;
pub mod stripe;

use frevix_platform::money::Money;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Where a payment intent stands (Stripe's statuses).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IntentStatus {
    RequiresPaymentMethod,
    RequiresConfirmation,
    RequiresAction,
    Processing,
    Succeeded,
    Canceled,
}

impl IntentStatus {
    pub const ALL: [IntentStatus; 6] = [
        IntentStatus::RequiresPaymentMethod,
        IntentStatus::RequiresConfirmation,
        IntentStatus::RequiresAction,
        IntentStatus::Processing,
        IntentStatus::Succeeded,
        IntentStatus::Canceled,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            IntentStatus::RequiresPaymentMethod => "requires_payment_method",
            IntentStatus::RequiresConfirmation => "requires_confirmation",
            IntentStatus::RequiresAction => "requires_action",
            IntentStatus::Processing => "processing",
            IntentStatus::Succeeded => "succeeded",
            IntentStatus::Canceled => "canceled",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|status| status.as_str() == text)
    }

    /// Whether a payment method may be confirmed on it now (a new one
    /// also after a decline or instead of an authentication).
    pub fn is_confirmable(self) -> bool {
        matches!(
            self,
            IntentStatus::RequiresPaymentMethod
                | IntentStatus::RequiresConfirmation
                | IntentStatus::RequiresAction
        )
    }

    /// Whether nothing changes it any more.
    pub fn is_final(self) -> bool {
        matches!(self, IntentStatus::Succeeded | IntentStatus::Canceled)
    }
}

/// A payment intent to create: one per milestone, keyed by it.
#[derive(Debug, Clone)]
pub struct NewIntent {
    /// The same key answers the same intent (e.g. `fund:<milestone id>`).
    pub idempotency_key: String,
    pub amount: Money,
    /// Stripe's `transfer_group`: the contract, so transfers tie to it.
    pub contract: Uuid,
    /// The milestone funded, or the hourly invoice charged.
    pub subject: Uuid,
}

/// A payment intent as the provider answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Intent {
    pub id: String,
    pub client_secret: String,
    pub status: IntentStatus,
    /// Why the last confirmation failed, as the client may be shown it.
    pub failure: Option<String>,
    /// Where the client authenticates (status `requires_action`).
    pub next_action_url: Option<String>,
}

/// A client's card to save for off-session charges.
#[derive(Debug, Clone)]
pub struct NewMethod {
    /// `customer:<client id>`: one provider customer per client.
    pub idempotency_key: String,
    pub owner: Uuid,
    pub payment_method: String,
}

/// A saved card as the provider describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SavedMethod {
    pub customer: String,
    pub payment_method: String,
    pub brand: String,
    pub last4: String,
}

/// A charge of a saved card without its owner present (an hourly week).
#[derive(Debug, Clone)]
pub struct OffSessionCharge {
    pub intent: NewIntent,
    pub customer: String,
    pub payment_method: String,
}

/// A connected account to create for a freelancer's payouts.
#[derive(Debug, Clone)]
pub struct NewAccount {
    /// `account:<freelancer id>`: one account per freelancer.
    pub idempotency_key: String,
    pub owner: Uuid,
    /// ISO 3166-1 alpha-2, e.g. "US".
    pub country: String,
}

/// A connected account as the provider answers it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderAccount {
    pub id: String,
    /// Whether transfers to it are paid out (onboarding finished).
    pub payouts_enabled: bool,
}

/// Money out of the platform's balance to a connected account (separate
/// charges and transfers).
#[derive(Debug, Clone)]
pub struct NewTransfer {
    /// The ledger transaction's id: one transfer per payout.
    pub idempotency_key: String,
    pub amount: Money,
    /// The connected account.
    pub destination: String,
    /// Stripe's `transfer_group`: the contract.
    pub transfer_group: Uuid,
    /// The funding charge: the transfer waits for its funds.
    pub source_transaction: String,
}

/// A charge given back, in part or whole.
#[derive(Debug, Clone)]
pub struct NewRefund {
    /// `refund:<milestone id>`: one refund per milestone's division.
    pub idempotency_key: String,
    pub charge: String,
    pub amount: Money,
}

/// What a provider's record is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RecordKind {
    Charge,
    Refund,
    Transfer,
}

impl RecordKind {
    pub fn as_str(self) -> &'static str {
        match self {
            RecordKind::Charge => "charge",
            RecordKind::Refund => "refund",
            RecordKind::Transfer => "transfer",
        }
    }
}

/// Money the provider moved, as its own records say (for reconciliation).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProviderRecord {
    pub kind: RecordKind,
    /// `ch_…`, `re_…`, `tr_…`.
    pub id: String,
    pub amount_minor: i64,
    pub currency: String,
    pub created: chrono::DateTime<chrono::Utc>,
}

/// What the provider tells Frevix happened, as the inbox keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ProviderEvent {
    /// `payment_intent.succeeded`: the money is charged.
    PaymentSucceeded {
        intent: String,
        charge: String,
        amount_minor: i64,
        currency: String,
    },
    /// `payment_intent.payment_failed`: the attempt was declined.
    PaymentFailed { intent: String, reason: String },
    /// `account.updated`: a connected account's payouts turned on or off.
    AccountUpdated {
        account: String,
        payouts_enabled: bool,
    },
    /// `charge.dispute.created`: the client's bank disputes a charge.
    ChargeDisputed {
        dispute: String,
        charge: String,
        amount_minor: i64,
        currency: String,
        reason: String,
    },
    /// `charge.dispute.closed`: won (the money stays) or lost.
    DisputeClosed { dispute: String, won: bool },
}

impl ProviderEvent {
    /// The provider's name for the event's type.
    pub fn kind(&self) -> &'static str {
        match self {
            ProviderEvent::PaymentSucceeded { .. } => "payment_intent.succeeded",
            ProviderEvent::PaymentFailed { .. } => "payment_intent.payment_failed",
            ProviderEvent::AccountUpdated { .. } => "account.updated",
            ProviderEvent::ChargeDisputed { .. } => "charge.dispute.created",
            ProviderEvent::DisputeClosed { .. } => "charge.dispute.closed",
        }
    }
}

/// A provider call that did not happen as asked.
#[derive(Debug, thiserror::Error)]
pub enum ProviderError {
    /// The provider did not answer, or failed: retry later.
    #[error("the payment provider is unavailable: {0}")]
    Unavailable(String),
    /// The request was refused as invalid (e.g. an unknown payment method).
    #[error("{0}")]
    Invalid(String),
    /// The object's state does not allow it (e.g. confirming a paid intent).
    #[error("{0}")]
    UnexpectedState(String),
    /// The same idempotency key was used with other parameters.
    #[error("idempotency key {0} was used with other parameters")]
    KeyReused(String),
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}

/// What Frevix asks of a payment provider.
#[async_trait::async_trait]
pub trait PaymentProvider: Send + Sync + 'static {
    /// `sandbox` or `stripe`.
    fn name(&self) -> &'static str;

    /// The key client apps use with the provider's SDK.
    fn publishable_key(&self) -> &str;

    /// Creates the intent, or answers the one created under the same key.
    async fn create_intent(&self, intent: &NewIntent) -> Result<Intent, ProviderError>;

    /// Confirms `intent` with `payment_method`; `idempotency_key` names
    /// this attempt.
    async fn confirm_intent(
        &self,
        intent: &str,
        payment_method: &str,
        idempotency_key: &str,
    ) -> Result<Intent, ProviderError>;

    /// Saves `method` on the client's customer (Stripe: a SetupIntent
    /// confirmed for off-session use).
    async fn save_payment_method(&self, method: &NewMethod) -> Result<SavedMethod, ProviderError>;

    /// Charges a saved card: the intent created once under its key and
    /// confirmed off-session. The outcome also arrives as an event.
    async fn charge_off_session(&self, charge: &OffSessionCharge) -> Result<Intent, ProviderError>;

    /// Creates the connected account, or answers the one created under the
    /// same key.
    async fn create_account(&self, account: &NewAccount) -> Result<ProviderAccount, ProviderError>;

    /// The connected account as it stands now (events about it may come
    /// late or out of order; this is the truth).
    async fn account(&self, id: &str) -> Result<ProviderAccount, ProviderError>;

    /// Where the freelancer finishes onboarding; the provider sends them
    /// back to `return_url` (or `refresh_url` when the link has expired).
    async fn account_link(
        &self,
        account: &str,
        return_url: &str,
        refresh_url: &str,
    ) -> Result<String, ProviderError>;

    /// Transfers to a connected account; answers the transfer's id (the
    /// same one for the same key).
    async fn transfer(&self, transfer: &NewTransfer) -> Result<String, ProviderError>;

    /// Refunds part or all of a charge; answers the refund's id (the same
    /// one for the same key). More than the charge has left is refused.
    async fn refund(&self, refund: &NewRefund) -> Result<String, ProviderError>;

    /// The charges, refunds and transfers the provider made from `from`
    /// until `until`.
    async fn records(
        &self,
        from: chrono::DateTime<chrono::Utc>,
        until: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<ProviderRecord>, ProviderError>;
}
