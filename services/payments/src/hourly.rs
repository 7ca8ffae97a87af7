//! Hourly weeks charged to the client's saved card. Contracts approves a
//! week's invoice; payments charges it off-session (a durable timer, so a
//! crash repeats the call under the same key and the provider answers the
//! same charge) and, when the provider says it succeeded, funds and
//! releases it at once (`applying`): the work was approved already. A
//! missing card or a declined charge is PaymentFailed with the invoice, and
//! contracts pauses the contract; saving a card charges the weeks still
//! unpaid.

use frevix_platform::db::Txn;
use frevix_platform::events::HandlerError;
use frevix_platform::money::Money;
use frevix_proto::payments::v1 as events;
use uuid::Uuid;

use crate::Inner;
use crate::convert::money;
use crate::ledger::{TransactionId, TransactionKind};
use crate::provider::{IntentStatus, NewIntent, OffSessionCharge};
use crate::store::fundings::{self, Heard};
use crate::store::{self as books, methods, terms};

/// The timer kind that charges an invoice (its subject: the invoice id).
pub const CHARGE_INVOICE: &str = "invoice.charge";

/// Charges the invoice, unless it was paid.
pub async fn charge(inner: &Inner, txn: &Txn, invoice_id: Uuid) -> Result<(), HandlerError> {
    let Some(invoice) = terms::find_invoice(txn, invoice_id).await? else {
        return Ok(());
    };
    let paid = TransactionId::of(TransactionKind::Fund, invoice_id);
    if books::find_transaction(txn, &paid).await?.is_some() {
        return Ok(());
    }
    let Some(contract) = terms::find_contract(txn, invoice.contract_id).await? else {
        return Err(HandlerError(format!(
            "invoice of unknown contract {}",
            invoice.contract_id
        )));
    };
    let amount = Money::from_stored(&contract.currency, invoice.amount_minor)
        .ok_or_else(|| HandlerError(format!("currency {:?}", contract.currency)))?;
    let Some(method) = methods::find(txn, contract.client_id).await? else {
        let event = events::PaymentFailed {
            contract_id: contract.id.to_string(),
            milestone_id: String::new(),
            invoice_id: invoice_id.to_string(),
            client_id: contract.client_id.to_string(),
            freelancer_id: contract.freelancer_id.to_string(),
            amount: money(&contract.currency, invoice.amount_minor),
            reason: "No card is saved for hourly contracts.".to_owned(),
        };
        inner
            .outbox
            .publish(txn, "invoice", &event.invoice_id, &event)
            .await?;
        return Ok(());
    };
    let intent = inner
        .provider
        .charge_off_session(&OffSessionCharge {
            intent: NewIntent {
                idempotency_key: format!("invoice:{invoice_id}"),
                amount,
                contract: contract.id,
                subject: invoice_id,
            },
            customer: method.customer_id.clone(),
            payment_method: method.payment_method.clone(),
        })
        .await
        .map_err(|e| HandlerError(format!("payment provider: {e}")))?;
    let row = fundings::FundingRow {
        id: Uuid::now_v7(),
        milestone_id: invoice_id,
        contract_id: contract.id,
        client_id: contract.client_id,
        amount_minor: invoice.amount_minor,
        currency: contract.currency.clone(),
        provider: inner.provider.name().to_owned(),
        intent_id: intent.id.clone(),
        client_secret: intent.client_secret.clone(),
        status: IntentStatus::Processing.as_str().to_owned(),
        failure_reason: None,
        next_action_url: None,
        confirmations: 1,
        created_at: inner.clock.now(),
        updated_at: inner.clock.now(),
    };
    fundings::insert(txn, row).await?;
    let heard = Heard {
        status: intent.status,
        failure: intent.failure.as_deref(),
        next_action_url: None,
    };
    fundings::hear(txn, &intent.id, heard, inner.clock.now()).await?;
    Ok(())
}

/// Charges `client`'s invoices that are not paid (after a card is saved).
pub async fn charge_unpaid(
    inner: &Inner,
    txn: &Txn,
    client: Uuid,
) -> Result<usize, sea_orm::DbErr> {
    let mut scheduled = 0;
    for invoice in terms::invoices_of_client(txn, client).await? {
        let paid = TransactionId::of(TransactionKind::Fund, invoice.id);
        if books::find_transaction(txn, &paid).await?.is_none() {
            inner
                .timers
                .schedule(
                    txn,
                    CHARGE_INVOICE,
                    &invoice.id.to_string(),
                    inner.clock.now(),
                    "",
                )
                .await?;
            scheduled += 1;
        }
    }
    Ok(scheduled)
}
