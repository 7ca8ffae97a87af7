//! The sandbox provider: Stripe's test mode without a network or an
//! account, so the whole hire loop runs from grpcurl and the browser. Like
//! a remote provider it keeps its own records, in its own database (a
//! SQLite file beside the service's data), creates each object once per
//! idempotency key, and tells Frevix what happened by events delivered to
//! payments' inbox after the fact and retried until taken (`delivery`),
//! the same path Stripe's webhooks take. Being separate also means a call
//! made while payments holds a transaction (a timer firing a transfer)
//! never waits on payments' own database.
//!
//! Payment methods are Stripe's test tokens:
//!
//! | token | outcome |
//! |---|---|
//! | `pm_card_visa`, `pm_card_mastercard`, `pm_card_amex` | succeeds |
//! | `pm_card_chargeDeclined` | declined ("Your card was declined."), also when saved |
//! | `pm_card_chargeDeclinedInsufficientFunds` | declined (insufficient funds), also when saved |
//! | `pm_card_chargeCustomerFail` | saved, then declined when charged |
//! | `pm_card_authenticationRequired` | needs 3-D Secure (`requires_action`) |
//! | `pm_card_createDispute` | succeeds, then the charge is disputed |
//!
//! Anything else is refused as an unknown payment method, as Stripe does.
//! Onboarding and 3-D Secure are pages of its own (`pages`).

mod calls;
mod delivery;
mod entities;
pub mod pages;
pub mod schema;

use std::sync::Arc;

use frevix_platform::clock::Clock;
use frevix_platform::db::Txn;
use sea_orm::sea_query::{Expr, OnConflict};
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, Set};
use sha2::{Digest, Sha256};
use tokio::sync::Notify;
use uuid::Uuid;

pub use delivery::Delivery;
use entities::{sandbox_events, sandbox_objects};

use super::{IntentStatus, ProviderError, ProviderEvent};

/// The sandbox's publishable key: recognisably not a real one.
pub const PUBLISHABLE_KEY: &str = "pk_sandbox_frevix";

/// Where the sandbox's pages are served (relative to the API's origin).
pub const PAGES: &str = "/sandbox";

/// The brand and last four digits of a test card.
fn card(payment_method: &str) -> Option<(&'static str, &'static str)> {
    Some(match payment_method {
        "pm_card_visa" => ("visa", "4242"),
        "pm_card_mastercard" => ("mastercard", "4444"),
        "pm_card_amex" => ("amex", "8431"),
        "pm_card_chargeDeclined" => ("visa", "0002"),
        "pm_card_chargeCustomerFail" => ("visa", "0341"),
        "pm_card_chargeDeclinedInsufficientFunds" => ("visa", "9995"),
        "pm_card_authenticationRequired" => ("visa", "3184"),
        "pm_card_createDispute" => ("visa", "0259"),
        _ => return None,
    })
}

/// What a test token does.
enum Outcome {
    Succeed,
    /// Succeeds, then the client's bank disputes the charge.
    SucceedThenDispute,
    Decline(&'static str),
    Authenticate,
}

/// Whether the card is refused as soon as it is saved (Stripe declines
/// these at the SetupIntent; `pm_card_chargeCustomerFail` saves, then
/// declines its charges).
fn declined_at_setup(payment_method: &str) -> bool {
    matches!(
        payment_method,
        "pm_card_chargeDeclined" | "pm_card_chargeDeclinedInsufficientFunds"
    )
}

fn outcome(payment_method: &str) -> Option<Outcome> {
    Some(match payment_method {
        "pm_card_visa" | "pm_card_mastercard" | "pm_card_amex" => Outcome::Succeed,
        "pm_card_chargeDeclined" | "pm_card_chargeCustomerFail" => {
            Outcome::Decline("Your card was declined.")
        }
        "pm_card_chargeDeclinedInsufficientFunds" => {
            Outcome::Decline("Your card has insufficient funds.")
        }
        "pm_card_authenticationRequired" => Outcome::Authenticate,
        "pm_card_createDispute" => Outcome::SucceedThenDispute,
        _ => return None,
    })
}

/// What the sandbox keeps of one object.
struct Record<'a> {
    kind: &'static str,
    prefix: &'static str,
    idempotency_key: &'a str,
    fingerprint: String,
    amount_minor: i64,
    currency: &'a str,
    status: &'a str,
    reference: Option<&'a str>,
}

/// The sandbox provider.
#[derive(Clone)]
pub struct Sandbox {
    db: DatabaseConnection,
    clock: Clock,
    /// Wakes the delivery of events.
    wake: Arc<Notify>,
    /// Held while a refund checks what its charge has left and records
    /// itself, so racing refunds never give back more than was charged.
    /// The sandbox's records belong to one process (one payments replica).
    refunding: Arc<tokio::sync::Mutex<()>>,
}

fn fingerprint(parts: &[&str]) -> String {
    format!("{:x}", Sha256::digest(parts.join("|").as_bytes()))
}

fn new_id(prefix: &str) -> String {
    format!("{prefix}_sbx_{}", Uuid::new_v4().simple())
}

impl Sandbox {
    /// The sandbox on its own (migrated) database.
    pub fn new(db: DatabaseConnection, clock: Clock) -> Self {
        Self {
            db,
            clock,
            wake: Arc::new(Notify::new()),
            refunding: Arc::new(tokio::sync::Mutex::new(())),
        }
    }

    /// Delivers its events into payments' inbox on `payments`.
    pub fn delivery(
        &self,
        payments: DatabaseConnection,
        timers: frevix_platform::timers::Timers,
    ) -> Delivery {
        Delivery::new(
            self.db.clone(),
            payments,
            timers,
            self.clock.clone(),
            self.wake.clone(),
        )
    }

    async fn find(&self, id: &str) -> Result<sandbox_objects::Model, ProviderError> {
        sandbox_objects::Entity::find_by_id(id.to_owned())
            .one(&self.db)
            .await?
            .ok_or_else(|| ProviderError::Invalid(format!("No such object: '{id}'")))
    }

    /// The object created under `record`'s key: a new one, or the first
    /// one if the key was used before with the same parameters.
    async fn create_once(
        &self,
        record: Record<'_>,
    ) -> Result<sandbox_objects::Model, ProviderError> {
        let id = new_id(record.prefix);
        sandbox_objects::Entity::insert(sandbox_objects::ActiveModel {
            secret: Set(format!("{id}_secret_{}", Uuid::new_v4().simple())),
            id: Set(id),
            kind: Set(record.kind.to_owned()),
            idempotency_key: Set(record.idempotency_key.to_owned()),
            fingerprint: Set(record.fingerprint.clone()),
            amount_minor: Set(record.amount_minor),
            currency: Set(record.currency.to_owned()),
            status: Set(record.status.to_owned()),
            reference: Set(record.reference.map(str::to_owned)),
            failure: Set(None),
            created_at: Set(self.clock.now()),
        })
        .on_conflict(
            OnConflict::column(sandbox_objects::Column::IdempotencyKey)
                .do_nothing()
                .to_owned(),
        )
        .exec_without_returning(&self.db)
        .await?;
        let row = sandbox_objects::Entity::find()
            .filter(sandbox_objects::Column::IdempotencyKey.eq(record.idempotency_key))
            .one(&self.db)
            .await?
            .ok_or_else(|| ProviderError::Unavailable("the object vanished".into()))?;
        if row.fingerprint != record.fingerprint || row.kind != record.kind {
            return Err(ProviderError::KeyReused(record.idempotency_key.to_owned()));
        }
        Ok(row)
    }

    /// Queues `event` for delivery, in `txn` of the sandbox's change.
    async fn emit(&self, txn: &Txn, event: &ProviderEvent) -> Result<(), ProviderError> {
        let body =
            serde_json::to_string(event).map_err(|e| ProviderError::Unavailable(e.to_string()))?;
        sandbox_events::Entity::insert(sandbox_events::ActiveModel {
            id: Set(new_id("evt")),
            body: Set(body),
            created_at: Set(self.clock.now()),
            delivered_at: Set(None),
        })
        .exec_without_returning(txn)
        .await?;
        txn.wake_on_commit(&self.wake);
        Ok(())
    }

    /// Moves an object from one of `from` to `to` (with `reference` and
    /// `failure`) and queues `event`, together; false if it was in none of
    /// `from` (a racing change went first).
    async fn change(
        &self,
        id: &str,
        from: &[&str],
        to: &str,
        reference: Option<String>,
        failure: Option<&str>,
        event: Option<ProviderEvent>,
    ) -> Result<bool, ProviderError> {
        let txn = Txn::begin(&self.db).await?;
        let changed = sandbox_objects::Entity::update_many()
            .col_expr(sandbox_objects::Column::Status, Expr::value(to))
            .col_expr(sandbox_objects::Column::Reference, Expr::value(reference))
            .col_expr(
                sandbox_objects::Column::Failure,
                Expr::value(failure.map(str::to_owned)),
            )
            .filter(sandbox_objects::Column::Id.eq(id))
            .filter(sandbox_objects::Column::Status.is_in(from.iter().copied()))
            .exec(&txn)
            .await?;
        if changed.rows_affected == 0 {
            txn.rollback().await?;
            return Ok(false);
        }
        if let Some(event) = event {
            self.emit(&txn, &event).await?;
        }
        txn.commit().await?;
        Ok(true)
    }

    /// 3-D Secure answered on the sandbox's page: the payment succeeds or
    /// is declined.
    pub async fn authenticate(&self, intent: &str, approve: bool) -> Result<bool, ProviderError> {
        let row = self.find(intent).await?;
        let from = [IntentStatus::RequiresAction.as_str()];
        if approve {
            self.succeed(&row, &from, false).await
        } else {
            let reason = "The card's authentication failed.";
            let event = ProviderEvent::PaymentFailed {
                intent: row.id.clone(),
                reason: reason.to_owned(),
            };
            let to = IntentStatus::RequiresPaymentMethod.as_str();
            self.change(&row.id, &from, to, None, Some(reason), Some(event))
                .await
        }
    }

    async fn succeed(
        &self,
        row: &sandbox_objects::Model,
        from: &[&str],
        disputed: bool,
    ) -> Result<bool, ProviderError> {
        let charge = new_id("ch");
        let event = ProviderEvent::PaymentSucceeded {
            intent: row.id.clone(),
            charge: charge.clone(),
            amount_minor: row.amount_minor,
            currency: row.currency.clone(),
        };
        let to = IntentStatus::Succeeded.as_str();
        let moved = self
            .change(&row.id, from, to, Some(charge.clone()), None, Some(event))
            .await?;
        if moved && disputed {
            self.open_dispute(&charge, row.amount_minor, &row.currency)
                .await?;
        }
        Ok(moved)
    }

    /// The client's bank disputes `charge` (the whole amount).
    async fn open_dispute(
        &self,
        charge: &str,
        amount_minor: i64,
        currency: &str,
    ) -> Result<(), ProviderError> {
        let id = new_id("dp");
        let txn = Txn::begin(&self.db).await?;
        sandbox_objects::Entity::insert(sandbox_objects::ActiveModel {
            id: Set(id.clone()),
            kind: Set("dispute".to_owned()),
            idempotency_key: Set(format!("dispute:{charge}")),
            fingerprint: Set(String::new()),
            amount_minor: Set(amount_minor),
            currency: Set(currency.to_owned()),
            status: Set("needs_response".to_owned()),
            secret: Set(String::new()),
            reference: Set(Some(charge.to_owned())),
            failure: Set(None),
            created_at: Set(self.clock.now()),
        })
        .exec_without_returning(&txn)
        .await?;
        let event = ProviderEvent::ChargeDisputed {
            dispute: id,
            charge: charge.to_owned(),
            amount_minor,
            currency: currency.to_owned(),
            reason: "fraudulent".to_owned(),
        };
        self.emit(&txn, &event).await?;
        txn.commit().await?;
        Ok(())
    }

    /// A dispute decided on the sandbox's page; false if it was decided.
    pub async fn close_dispute(&self, dispute: &str, won: bool) -> Result<bool, ProviderError> {
        let row = self.find(dispute).await?;
        if row.kind != "dispute" {
            return Err(ProviderError::Invalid(format!(
                "No such dispute: '{dispute}'"
            )));
        }
        let event = ProviderEvent::DisputeClosed {
            dispute: row.id.clone(),
            won,
        };
        let to = if won { "won" } else { "lost" };
        self.change(
            &row.id,
            &["needs_response"],
            to,
            row.reference.clone(),
            None,
            Some(event),
        )
        .await
    }

    /// Onboarding finished on the sandbox's page: payouts are enabled.
    pub async fn onboard(&self, account: &str) -> Result<bool, ProviderError> {
        let row = self.find(account).await?;
        if row.kind != "account" {
            return Err(ProviderError::Invalid(format!(
                "No such account: '{account}'"
            )));
        }
        let event = ProviderEvent::AccountUpdated {
            account: row.id.clone(),
            payouts_enabled: true,
        };
        self.change(&row.id, &["pending"], "enabled", None, None, Some(event))
            .await
    }
}
