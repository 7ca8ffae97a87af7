//! The sandbox as Frevix calls it: the [`PaymentProvider`] methods, each
//! creating its object once per idempotency key as Stripe does.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};

use super::entities::sandbox_objects;
use super::{
    Outcome, PAGES, PUBLISHABLE_KEY, Record, Sandbox, card, declined_at_setup, fingerprint,
    outcome, pages,
};
use crate::provider::{
    Intent, IntentStatus, NewAccount, NewIntent, NewMethod, NewRefund, NewTransfer,
    OffSessionCharge, PaymentProvider, ProviderAccount, ProviderError, ProviderEvent,
    ProviderRecord, RecordKind, SavedMethod,
};

pub(super) fn intent_of(row: &sandbox_objects::Model) -> Result<Intent, ProviderError> {
    let status = IntentStatus::parse(&row.status)
        .ok_or_else(|| ProviderError::Unavailable(format!("intent status {:?}", row.status)))?;
    Ok(Intent {
        id: row.id.clone(),
        client_secret: row.secret.clone(),
        status,
        failure: row.failure.clone(),
        next_action_url: (status == IntentStatus::RequiresAction)
            .then(|| format!("{PAGES}/authenticate/{}", row.id)),
    })
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
        let amount = intent.amount.minor_units.to_string();
        let (contract, milestone) = (intent.contract.to_string(), intent.subject.to_string());
        let currency = intent.amount.currency.code();
        let row = self
            .create_once(Record {
                kind: "payment_intent",
                prefix: "pi",
                idempotency_key: &intent.idempotency_key,
                fingerprint: fingerprint(&[&amount, currency, &contract, &milestone]),
                amount_minor: intent.amount.minor_units,
                currency,
                status: IntentStatus::RequiresPaymentMethod.as_str(),
                reference: None,
            })
            .await?;
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
        let confirmable: Vec<&str> = IntentStatus::ALL
            .into_iter()
            .filter(|status| status.is_confirmable())
            .map(IntentStatus::as_str)
            .collect();
        // Of racing confirmations, one moves the intent.
        let moved = match outcome {
            Outcome::Succeed => self.succeed(&row, &confirmable, false).await?,
            Outcome::SucceedThenDispute => self.succeed(&row, &confirmable, true).await?,
            Outcome::Decline(reason) => {
                let event = ProviderEvent::PaymentFailed {
                    intent: row.id.clone(),
                    reason: reason.to_owned(),
                };
                let to = IntentStatus::RequiresPaymentMethod.as_str();
                self.change(&row.id, &confirmable, to, None, Some(reason), Some(event))
                    .await?
            }
            Outcome::Authenticate => {
                let to = IntentStatus::RequiresAction.as_str();
                self.change(&row.id, &confirmable, to, None, None, None)
                    .await?
            }
        };
        let row = self.find(intent).await?;
        if !moved {
            return Err(ProviderError::UnexpectedState(format!(
                "This PaymentIntent's status is {}, so it cannot be confirmed",
                row.status
            )));
        }
        intent_of(&row)
    }

    async fn save_payment_method(&self, method: &NewMethod) -> Result<SavedMethod, ProviderError> {
        let Some((brand, last4)) = card(&method.payment_method) else {
            return Err(ProviderError::Invalid(format!(
                "No such PaymentMethod: '{}'",
                method.payment_method
            )));
        };
        if declined_at_setup(&method.payment_method) {
            return Err(ProviderError::Invalid("Your card was declined.".to_owned()));
        }
        let owner = method.owner.to_string();
        let customer = self
            .create_once(Record {
                kind: "customer",
                prefix: "cus",
                idempotency_key: &method.idempotency_key,
                fingerprint: fingerprint(&[&owner]),
                amount_minor: 0,
                currency: "",
                status: "active",
                reference: None,
            })
            .await?;
        Ok(SavedMethod {
            customer: customer.id,
            payment_method: method.payment_method.clone(),
            brand: brand.to_owned(),
            last4: last4.to_owned(),
        })
    }

    async fn charge_off_session(&self, charge: &OffSessionCharge) -> Result<Intent, ProviderError> {
        let intent = self.create_intent(&charge.intent).await?;
        if !intent.status.is_confirmable() {
            // Charged (or tried) before under this key: its outcome stands.
            return Ok(intent);
        }
        // Off-session nobody can answer a 3-D Secure challenge: declined.
        let method = match outcome(&charge.payment_method) {
            Some(Outcome::Authenticate) => "pm_card_chargeDeclined",
            _ => charge.payment_method.as_str(),
        };
        match self.confirm_intent(&intent.id, method, "").await {
            Err(ProviderError::UnexpectedState(_)) => intent_of(&self.find(&intent.id).await?),
            answered => answered,
        }
    }

    async fn create_account(&self, account: &NewAccount) -> Result<ProviderAccount, ProviderError> {
        let owner = account.owner.to_string();
        let row = self
            .create_once(Record {
                kind: "account",
                prefix: "acct",
                idempotency_key: &account.idempotency_key,
                fingerprint: fingerprint(&[&owner, &account.country]),
                amount_minor: 0,
                currency: "",
                status: "pending",
                reference: Some(&account.country),
            })
            .await?;
        Ok(ProviderAccount {
            id: row.id,
            payouts_enabled: row.status == "enabled",
        })
    }

    async fn account(&self, id: &str) -> Result<ProviderAccount, ProviderError> {
        let row = self.find(id).await?;
        if row.kind != "account" {
            return Err(ProviderError::Invalid(format!("No such account: '{id}'")));
        }
        Ok(ProviderAccount {
            id: row.id,
            payouts_enabled: row.status == "enabled",
        })
    }

    async fn account_link(
        &self,
        account: &str,
        return_url: &str,
        _refresh_url: &str,
    ) -> Result<String, ProviderError> {
        let row = self.find(account).await?;
        Ok(format!(
            "{PAGES}/onboarding/{}?return_url={}",
            row.id,
            pages::encode(return_url)
        ))
    }

    async fn transfer(&self, transfer: &NewTransfer) -> Result<String, ProviderError> {
        let amount = transfer.amount.minor_units.to_string();
        let group = transfer.transfer_group.to_string();
        let currency = transfer.amount.currency.code();
        let destination = self.find(&transfer.destination).await?;
        if destination.kind != "account" || destination.status != "enabled" {
            return Err(ProviderError::Invalid(format!(
                "The destination account {} cannot receive transfers",
                transfer.destination
            )));
        }
        let row = self
            .create_once(Record {
                kind: "transfer",
                prefix: "tr",
                idempotency_key: &transfer.idempotency_key,
                fingerprint: fingerprint(&[
                    &amount,
                    currency,
                    &transfer.destination,
                    &group,
                    &transfer.source_transaction,
                ]),
                amount_minor: transfer.amount.minor_units,
                currency,
                status: "paid",
                reference: Some(&transfer.destination),
            })
            .await?;
        Ok(row.id)
    }

    async fn refund(&self, refund: &NewRefund) -> Result<String, ProviderError> {
        let amount = refund.amount.minor_units.to_string();
        let currency = refund.amount.currency.code();
        let _one_at_a_time = self.refunding.lock().await;
        let charged = sandbox_objects::Entity::find()
            .filter(sandbox_objects::Column::Kind.eq("payment_intent"))
            .filter(sandbox_objects::Column::Reference.eq(&refund.charge))
            .one(&self.db)
            .await?
            .ok_or_else(|| {
                ProviderError::Invalid(format!("No such charge: '{}'", refund.charge))
            })?;
        let refunded: i64 = sandbox_objects::Entity::find()
            .filter(sandbox_objects::Column::Kind.eq("refund"))
            .filter(sandbox_objects::Column::Reference.eq(&refund.charge))
            .filter(sandbox_objects::Column::IdempotencyKey.ne(&refund.idempotency_key))
            .all(&self.db)
            .await?
            .iter()
            .map(|r| r.amount_minor)
            .sum();
        if refunded + refund.amount.minor_units > charged.amount_minor {
            return Err(ProviderError::Invalid(format!(
                "Refund amount ({}) is greater than unrefunded amount on charge ({})",
                refund.amount.minor_units,
                charged.amount_minor - refunded
            )));
        }
        let row = self
            .create_once(Record {
                kind: "refund",
                prefix: "re",
                idempotency_key: &refund.idempotency_key,
                fingerprint: fingerprint(&[&amount, currency, &refund.charge]),
                amount_minor: refund.amount.minor_units,
                currency,
                status: "succeeded",
                reference: Some(&refund.charge),
            })
            .await?;
        Ok(row.id)
    }

    async fn records(
        &self,
        from: chrono::DateTime<chrono::Utc>,
        until: chrono::DateTime<chrono::Utc>,
    ) -> Result<Vec<ProviderRecord>, ProviderError> {
        let rows = sandbox_objects::Entity::find()
            .filter(sandbox_objects::Column::CreatedAt.gte(from))
            .filter(sandbox_objects::Column::CreatedAt.lt(until))
            .all(&self.db)
            .await?;
        Ok(rows
            .into_iter()
            .filter_map(|row| {
                let (kind, id) = match row.kind.as_str() {
                    // A succeeded intent's charge.
                    "payment_intent" if row.status == IntentStatus::Succeeded.as_str() => {
                        (RecordKind::Charge, row.reference.clone()?)
                    }
                    "refund" => (RecordKind::Refund, row.id.clone()),
                    "transfer" => (RecordKind::Transfer, row.id.clone()),
                    _ => return None,
                };
                Some(ProviderRecord {
                    kind,
                    id,
                    amount_minor: row.amount_minor,
                    currency: row.currency,
                    created: row.created_at,
                })
            })
            .collect())
    }
}
