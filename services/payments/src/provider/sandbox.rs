//! The sandbox provider: Stripe's test mode without a network or an
//! account, so the whole hire loop runs from grpcurl and the browser. It
//! keeps its intents in its own table (what Stripe keeps on its side) and
//! tells Frevix what happened through the same inbox Stripe's webhooks
//! fill, in the transaction of the change, so the ledger is moved by one
//! path whichever provider is configured.
//!
//! Payment methods are Stripe's test tokens:
//!
//! | token | outcome |
//! |---|---|
//! | `pm_card_visa`, `pm_card_mastercard`, `pm_card_amex` | succeeds |
//! | `pm_card_chargeDeclined` | declined ("Your card was declined.") |
//! | `pm_card_chargeDeclinedInsufficientFunds` | declined (insufficient funds) |
//! | `pm_card_authenticationRequired` | needs 3-D Secure (`requires_action`) |
//!
//! Anything else is refused as an unknown payment method, as Stripe does.

use frevix_platform::clock::Clock;
use frevix_platform::db::Txn;
use frevix_platform::timers::Timers;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use sha2::{Digest, Sha256};
use uuid::Uuid;

use super::{Intent, IntentStatus, NewIntent, PaymentProvider, ProviderError, ProviderEvent};
use crate::store::entities::sandbox_intents;
use crate::store::inbox;

/// The sandbox's publishable key: recognisably not a real one.
pub const PUBLISHABLE_KEY: &str = "pk_sandbox_frevix";

/// What a test token does.
enum Outcome {
    Succeed,
    Decline(&'static str),
    Authenticate,
}

fn outcome(payment_method: &str) -> Option<Outcome> {
    Some(match payment_method {
        "pm_card_visa" | "pm_card_mastercard" | "pm_card_amex" => Outcome::Succeed,
        "pm_card_chargeDeclined" => Outcome::Decline("Your card was declined."),
        "pm_card_chargeDeclinedInsufficientFunds" => {
            Outcome::Decline("Your card has insufficient funds.")
        }
        "pm_card_authenticationRequired" => Outcome::Authenticate,
        _ => return None,
    })
}

/// The sandbox provider on payments' own database.
pub struct Sandbox {
    db: DatabaseConnection,
    timers: Timers,
    clock: Clock,
}

impl Sandbox {
    pub fn new(db: DatabaseConnection, timers: Timers, clock: Clock) -> Self {
        Self { db, timers, clock }
    }

    async fn find(&self, id: &str) -> Result<sandbox_intents::Model, ProviderError> {
        sandbox_intents::Entity::find_by_id(id.to_owned())
            .one(&self.db)
            .await?
            .ok_or_else(|| ProviderError::Invalid(format!("No such payment_intent: '{id}'")))
    }
}

fn intent_of(row: &sandbox_intents::Model) -> Result<Intent, ProviderError> {
    let status = IntentStatus::parse(&row.status)
        .ok_or_else(|| ProviderError::Unavailable(format!("intent status {:?}", row.status)))?;
    Ok(Intent {
        id: row.id.clone(),
        client_secret: row.client_secret.clone(),
        status,
        failure: row.failure.clone(),
        next_action_url: None,
    })
}

fn fingerprint(intent: &NewIntent) -> String {
    let text = format!(
        "{}|{}|{}|{}",
        intent.amount.minor_units,
        intent.amount.currency.code(),
        intent.contract,
        intent.milestone
    );
    format!("{:x}", Sha256::digest(text.as_bytes()))
}

#[async_trait::async_trait]
impl PaymentProvider for Sandbox {
    fn name(&self) -> &'static str {
        "sandbox"
    }

    fn publishable_key(&self) -> &str {
        PUBLISHABLE_KEY
    }

    async fn create_intent(&self, intent: &NewIntent) -> Result<Intent, ProviderError> {
        let id = format!("pi_sbx_{}", Uuid::new_v4().simple());
        let fingerprint = fingerprint(intent);
        sandbox_intents::Entity::insert(sandbox_intents::ActiveModel {
            client_secret: Set(format!("{id}_secret_{}", Uuid::new_v4().simple())),
            id: Set(id),
            idempotency_key: Set(intent.idempotency_key.clone()),
            fingerprint: Set(fingerprint.clone()),
            amount_minor: Set(intent.amount.minor_units),
            currency: Set(intent.amount.currency.code().to_owned()),
            status: Set(IntentStatus::RequiresPaymentMethod.as_str().to_owned()),
            charge_id: Set(None),
            failure: Set(None),
            created_at: Set(self.clock.now()),
        })
        .on_conflict(
            OnConflict::column(sandbox_intents::Column::IdempotencyKey)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&self.db)
        .await?;
        let row = sandbox_intents::Entity::find()
            .filter(sandbox_intents::Column::IdempotencyKey.eq(&intent.idempotency_key))
            .one(&self.db)
            .await?
            .ok_or_else(|| ProviderError::Unavailable("the intent vanished".into()))?;
        if row.fingerprint != fingerprint {
            return Err(ProviderError::KeyReused(intent.idempotency_key.clone()));
        }
        intent_of(&row)
    }

    async fn confirm_intent(
        &self,
        intent: &str,
        payment_method: &str,
        _idempotency_key: &str,
    ) -> Result<Intent, ProviderError> {
        let Some(outcome) = outcome(payment_method) else {
            return Err(ProviderError::Invalid(format!(
                "No such PaymentMethod: '{payment_method}'"
            )));
        };
        let row = self.find(intent).await?;
        let now = self.clock.now();
        let event_id = format!("evt_sbx_{}", Uuid::new_v4().simple());
        let (status, charge, failure, event) = match outcome {
            Outcome::Succeed => {
                let charge = format!("ch_sbx_{}", Uuid::new_v4().simple());
                let event = ProviderEvent::PaymentSucceeded {
                    intent: intent.to_owned(),
                    charge: charge.clone(),
                    amount_minor: row.amount_minor,
                    currency: row.currency.clone(),
                };
                (IntentStatus::Succeeded, Some(charge), None, Some(event))
            }
            Outcome::Decline(reason) => {
                let event = ProviderEvent::PaymentFailed {
                    intent: intent.to_owned(),
                    reason: reason.to_owned(),
                };
                (
                    IntentStatus::RequiresPaymentMethod,
                    None,
                    Some(reason),
                    Some(event),
                )
            }
            Outcome::Authenticate => (IntentStatus::RequiresAction, None, None, None),
        };
        let txn = Txn::begin(&self.db).await?;
        // Only a confirmable intent moves: of racing confirmations, one wins.
        let changed = sandbox_intents::Entity::update_many()
            .col_expr(
                sandbox_intents::Column::Status,
                Expr::value(status.as_str()),
            )
            .col_expr(sandbox_intents::Column::ChargeId, Expr::value(charge))
            .col_expr(
                sandbox_intents::Column::Failure,
                Expr::value(failure.map(str::to_owned)),
            )
            .filter(sandbox_intents::Column::Id.eq(intent))
            .filter(sandbox_intents::Column::Status.is_in([
                IntentStatus::RequiresPaymentMethod.as_str(),
                IntentStatus::RequiresConfirmation.as_str(),
                IntentStatus::RequiresAction.as_str(),
            ]))
            .exec(&txn)
            .await?;
        if changed.rows_affected == 0 {
            txn.rollback().await?;
            let row = self.find(intent).await?;
            return Err(ProviderError::UnexpectedState(format!(
                "This PaymentIntent's status is {}, so it cannot be confirmed",
                row.status
            )));
        }
        if let Some(event) = event {
            inbox::record(&txn, &self.timers, &event_id, &event, now).await?;
        }
        txn.commit().await?;
        intent_of(&self.find(intent).await?)
    }
}
