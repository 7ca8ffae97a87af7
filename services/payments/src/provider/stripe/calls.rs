//! The [`PaymentProvider`] calls, made on Stripe's API.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use stripe_connect::account::{
    CreateAccount, CreateAccountCapabilities, CreateAccountCapabilitiesTransfers,
    CreateAccountType, RetrieveAccount,
};
use stripe_connect::account_link::{CreateAccountLink, CreateAccountLinkType};
use stripe_connect::transfer::CreateTransfer;
use stripe_core::balance_transaction::ListBalanceTransaction;
use stripe_core::customer::CreateCustomer;
use stripe_core::payment_intent::{
    ConfirmPaymentIntent, ConfirmPaymentIntentOffSession, CreatePaymentIntent,
};
use stripe_core::refund::CreateRefund;
use stripe_core::setup_intent::{CreateSetupIntent, CreateSetupIntentUsage};
use stripe_shared::BalanceTransactionType;
use stripe_types::{Expandable, RangeBoundsTs, RangeQueryTs};

use super::{Stripe, currency, declined_intent, failure, intent_of, keyed};
use crate::provider::{
    Intent, NewAccount, NewIntent, NewMethod, NewRefund, NewTransfer, OffSessionCharge,
    PaymentProvider, ProviderAccount, ProviderError, ProviderRecord, RecordKind, SavedMethod,
};

/// Most balance transactions one page brings.
const PAGE: i64 = 100;

fn metadata(pairs: &[(&str, String)]) -> HashMap<String, String> {
    pairs
        .iter()
        .map(|(k, v)| ((*k).to_owned(), v.clone()))
        .collect()
}

fn intent_request(intent: &NewIntent) -> Result<CreatePaymentIntent, ProviderError> {
    Ok(CreatePaymentIntent::new(
        intent.amount.minor_units,
        currency(intent.amount.currency.code())?,
    )
    .transfer_group(intent.contract.to_string())
    .metadata(metadata(&[
        ("frevix_contract", intent.contract.to_string()),
        ("frevix_subject", intent.subject.to_string()),
    ])))
}

#[async_trait::async_trait]
impl PaymentProvider for Stripe {
    fn name(&self) -> &'static str {
        "stripe"
    }

    fn publishable_key(&self) -> &str {
        &self.publishable_key
    }

    async fn create_intent(&self, intent: &NewIntent) -> Result<Intent, ProviderError> {
        let request = intent_request(intent)?;
        let created = keyed(&request, &intent.idempotency_key)?
            .send(&self.client)
            .await
            .map_err(failure)?;
        Ok(intent_of(&created))
    }

    async fn confirm_intent(
        &self,
        intent: &str,
        payment_method: &str,
        idempotency_key: &str,
    ) -> Result<Intent, ProviderError> {
        let request = ConfirmPaymentIntent::new(intent)
            .payment_method(payment_method)
            .return_url(self.return_url.clone());
        match keyed(&request, idempotency_key)?.send(&self.client).await {
            Ok(confirmed) => Ok(intent_of(&confirmed)),
            // A decline is an answer: the intent waits for another card.
            Err(error) => match declined_intent(&error) {
                Some(declined) => Ok(intent_of(declined)),
                None => Err(failure(error)),
            },
        }
    }

    async fn save_payment_method(&self, method: &NewMethod) -> Result<SavedMethod, ProviderError> {
        let customer = CreateCustomer::new()
            .metadata(metadata(&[("frevix_account", method.owner.to_string())]));
        let customer = keyed(&customer, &method.idempotency_key)?
            .send(&self.client)
            .await
            .map_err(failure)?;
        let setup = CreateSetupIntent::new()
            .customer(customer.id.as_str())
            .payment_method(method.payment_method.clone())
            .usage(CreateSetupIntentUsage::OffSession)
            .confirm(true)
            .expand(vec!["payment_method".to_owned()]);
        let key = format!("{}:setup:{}", method.idempotency_key, method.payment_method);
        let setup = keyed(&setup, &key)?
            .send(&self.client)
            .await
            .map_err(failure)?;
        if setup.status != stripe_shared::SetupIntentStatus::Succeeded {
            return Err(ProviderError::Invalid(format!(
                "the card was not saved (the setup is {})",
                setup.status
            )));
        }
        let (payment_method, brand, last4) = match setup.payment_method {
            Some(Expandable::Object(saved)) => {
                let card = saved.card.as_ref();
                (
                    saved.id.to_string(),
                    card.map(|c| c.brand.clone())
                        .unwrap_or_else(|| "card".to_owned()),
                    card.map(|c| c.last4.clone()).unwrap_or_default(),
                )
            }
            Some(Expandable::Id(id)) => (id.to_string(), "card".to_owned(), String::new()),
            None => {
                return Err(ProviderError::Unavailable(
                    "Stripe saved no payment method".into(),
                ));
            }
        };
        Ok(SavedMethod {
            customer: customer.id.to_string(),
            payment_method,
            brand,
            last4,
        })
    }

    async fn charge_off_session(&self, charge: &OffSessionCharge) -> Result<Intent, ProviderError> {
        // One intent per invoice, and one confirmation per card tried on
        // it: a card saved after a decline is a new attempt, not a replay
        // of the declined one.
        let request = intent_request(&charge.intent)?.customer(charge.customer.clone());
        let intent = keyed(&request, &charge.intent.idempotency_key)?
            .send(&self.client)
            .await
            .map_err(failure)?;
        let intent = intent_of(&intent);
        if !intent.status.is_confirmable() {
            // Charged (or tried) before under this key: its outcome stands.
            return Ok(intent);
        }
        let confirm = ConfirmPaymentIntent::new(intent.id.as_str())
            .payment_method(charge.payment_method.clone())
            .off_session(ConfirmPaymentIntentOffSession::Bool(true));
        let key = format!(
            "{}:confirm:{}",
            charge.intent.idempotency_key, charge.payment_method
        );
        match keyed(&confirm, &key)?.send(&self.client).await {
            Ok(charged) => Ok(intent_of(&charged)),
            Err(error) => match declined_intent(&error) {
                Some(declined) => Ok(intent_of(declined)),
                None => Err(failure(error)),
            },
        }
    }

    async fn create_account(&self, account: &NewAccount) -> Result<ProviderAccount, ProviderError> {
        let mut capabilities = CreateAccountCapabilities::new();
        let mut transfers = CreateAccountCapabilitiesTransfers::new();
        transfers.requested = Some(true);
        capabilities.transfers = Some(transfers);
        let request = CreateAccount::new()
            .type_(CreateAccountType::Express)
            .country(account.country.clone())
            .capabilities(capabilities)
            .metadata(metadata(&[("frevix_account", account.owner.to_string())]));
        let created = keyed(&request, &account.idempotency_key)?
            .send(&self.client)
            .await
            .map_err(failure)?;
        Ok(ProviderAccount {
            id: created.id.to_string(),
            payouts_enabled: created.payouts_enabled.unwrap_or(false),
        })
    }

    async fn account(&self, id: &str) -> Result<ProviderAccount, ProviderError> {
        let found = RetrieveAccount::new(id)
            .send(&self.client)
            .await
            .map_err(failure)?;
        Ok(ProviderAccount {
            id: found.id.to_string(),
            payouts_enabled: found.payouts_enabled.unwrap_or(false),
        })
    }

    async fn account_link(
        &self,
        account: &str,
        return_url: &str,
        refresh_url: &str,
    ) -> Result<String, ProviderError> {
        let request = CreateAccountLink::new(account, CreateAccountLinkType::AccountOnboarding)
            .return_url(return_url)
            .refresh_url(refresh_url);
        // A link is used once: each request is a new one, its key its own.
        let key = format!("link:{account}:{}", uuid::Uuid::new_v4());
        let link = keyed(&request, &key)?
            .send(&self.client)
            .await
            .map_err(failure)?;
        Ok(link.url)
    }

    async fn transfer(&self, transfer: &NewTransfer) -> Result<String, ProviderError> {
        let request = CreateTransfer::new(
            currency(transfer.amount.currency.code())?,
            transfer.destination.clone(),
        )
        .amount(transfer.amount.minor_units)
        .source_transaction(transfer.source_transaction.clone())
        .transfer_group(transfer.transfer_group.to_string());
        let sent = keyed(&request, &transfer.idempotency_key)?
            .send(&self.client)
            .await
            .map_err(failure)?;
        Ok(sent.id.to_string())
    }

    async fn refund(&self, refund: &NewRefund) -> Result<String, ProviderError> {
        let request = CreateRefund::new()
            .charge(refund.charge.clone())
            .amount(refund.amount.minor_units);
        let refunded = keyed(&request, &refund.idempotency_key)?
            .send(&self.client)
            .await
            .map_err(failure)?;
        Ok(refunded.id.to_string())
    }

    async fn records(
        &self,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Result<Vec<ProviderRecord>, ProviderError> {
        let period = RangeQueryTs::Bounds(RangeBoundsTs {
            gte: Some(from.timestamp()),
            lt: Some(until.timestamp()),
            ..RangeBoundsTs::default()
        });
        let mut records = Vec::new();
        let mut after: Option<String> = None;
        loop {
            let mut request = ListBalanceTransaction::new().created(period).limit(PAGE);
            if let Some(after) = &after {
                request = request.starting_after(after.clone());
            }
            let page = request.send(&self.client).await.map_err(failure)?;
            for txn in &page.data {
                after = Some(txn.id.to_string());
                let kind = match txn.type_ {
                    BalanceTransactionType::Charge | BalanceTransactionType::Payment => {
                        RecordKind::Charge
                    }
                    BalanceTransactionType::Refund | BalanceTransactionType::PaymentRefund => {
                        RecordKind::Refund
                    }
                    BalanceTransactionType::Transfer => RecordKind::Transfer,
                    _ => continue,
                };
                let Some(source) = txn.source.as_ref() else {
                    continue;
                };
                records.push(ProviderRecord {
                    kind,
                    id: source.id().to_string(),
                    amount_minor: txn.amount.abs(),
                    currency: txn.currency.to_string().to_ascii_uppercase(),
                    created: DateTime::from_timestamp(txn.created, 0).unwrap_or(from),
                });
            }
            if !page.has_more || page.data.is_empty() {
                return Ok(records);
            }
        }
    }
}
