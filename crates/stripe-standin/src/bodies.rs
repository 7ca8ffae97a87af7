//! The objects as Stripe's API shows them (the fields async-stripe's types
//! require, and those Frevix reads). Every body leaves through
//! [`crate::check`], which parses it with async-stripe's own type first.

use serde_json::{Value, json};

use crate::objects::{
    Account, BalanceTransaction, Book, Charge, Customer, Dispute, PaymentIntent, PaymentMethod,
    Refund, Reversal, SetupIntent, Transfer,
};

fn metadata(pairs: &[(String, String)]) -> Value {
    Value::Object(
        pairs
            .iter()
            .map(|(k, v)| (k.clone(), Value::String(v.clone())))
            .collect(),
    )
}

fn list(url: &str, data: Vec<Value>, has_more: bool) -> Value {
    json!({ "object": "list", "data": data, "has_more": has_more, "url": url })
}

/// A page of a list answer.
pub fn page(url: &str, data: Vec<Value>, has_more: bool) -> Value {
    list(url, data, has_more)
}

pub fn payment_intent(pi: &PaymentIntent, base: &str) -> Value {
    let received = if pi.status == "succeeded" {
        pi.amount
    } else {
        0
    };
    let mut body = json!({
        "id": pi.id,
        "object": "payment_intent",
        "amount": pi.amount,
        "amount_capturable": if pi.status == "requires_capture" { pi.amount } else { 0 },
        "amount_received": received,
        "capture_method": if pi.manual { "manual" } else { "automatic" },
        "client_secret": format!("{}_secret_{}", pi.id, &pi.id[3..]),
        "confirmation_method": "automatic",
        "created": pi.created,
        "currency": pi.currency,
        "customer": pi.customer,
        "latest_charge": pi.latest_charge,
        "livemode": false,
        "metadata": metadata(&pi.metadata),
        "payment_method": pi.payment_method,
        "payment_method_types": ["card"],
        "status": pi.status,
        "transfer_group": pi.transfer_group,
    });
    if let Some((message, code, decline)) = &pi.last_error {
        body["last_payment_error"] = json!({
            "type": "card_error",
            "code": code,
            "decline_code": decline,
            "message": message,
        });
    }
    if pi.status == "requires_action" {
        body["next_action"] = json!({
            "type": "redirect_to_url",
            "redirect_to_url": {
                "url": format!("{base}standin/authenticate/{}", pi.id),
                "return_url": pi.return_url,
            },
        });
    }
    body
}

pub fn charge(charge: &Charge, book: &Book) -> Value {
    let (brand, last4) = charge.card.brand();
    json!({
        "id": charge.id,
        "object": "charge",
        "amount": charge.amount,
        "amount_captured": charge.amount,
        "amount_refunded": charge.amount_refunded,
        "balance_transaction": charge.balance_transaction,
        "billing_details": {},
        "captured": true,
        "created": charge.created,
        "currency": charge.currency,
        "disputed": charge.disputed,
        "livemode": false,
        "metadata": {},
        "paid": true,
        "payment_intent": charge.payment_intent,
        "payment_method": charge.payment_method,
        "payment_method_details": {
            "type": "card",
            "card": { "brand": brand, "last4": last4, "exp_month": 12, "exp_year": 2034, "funding": "credit" },
        },
        "refunded": charge.amount_refunded == charge.amount,
        "refunds": list(
            &format!("/v1/charges/{}/refunds", charge.id),
            book.refunds
                .values()
                .filter(|r| r.charge == charge.id)
                .map(refund)
                .collect(),
            false,
        ),
        "status": "succeeded",
        "transfer_group": charge.transfer_group,
    })
}

pub fn refund(refund: &Refund) -> Value {
    json!({
        "id": refund.id,
        "object": "refund",
        "amount": refund.amount,
        "balance_transaction": refund.balance_transaction,
        "charge": refund.charge,
        "created": refund.created,
        "currency": refund.currency,
        "metadata": metadata(&refund.metadata),
        "payment_intent": refund.payment_intent,
        "status": "succeeded",
    })
}

pub fn customer(customer: &Customer) -> Value {
    json!({
        "id": customer.id,
        "object": "customer",
        "created": customer.created,
        "livemode": false,
        "metadata": metadata(&customer.metadata),
    })
}

pub fn payment_method(method: &PaymentMethod) -> Value {
    let (brand, last4) = method.card.brand();
    json!({
        "id": method.id,
        "object": "payment_method",
        "billing_details": {},
        "card": { "brand": brand, "last4": last4, "exp_month": 12, "exp_year": 2034, "funding": "credit" },
        "created": method.created,
        "customer": method.customer,
        "livemode": false,
        "type": "card",
    })
}

pub fn setup_intent(setup: &SetupIntent) -> Value {
    json!({
        "id": setup.id,
        "object": "setup_intent",
        "client_secret": format!("{}_secret_{}", setup.id, &setup.id[5..]),
        "created": setup.created,
        "customer": setup.customer,
        "livemode": false,
        "payment_method": setup.payment_method,
        "payment_method_types": ["card"],
        "status": setup.status,
        "usage": setup.usage,
    })
}

pub fn account(account: &Account) -> Value {
    json!({
        "id": account.id,
        "object": "account",
        "type": "express",
        "country": account.country,
        "email": account.email,
        "created": account.created,
        "charges_enabled": account.onboarded,
        "payouts_enabled": account.onboarded,
        "details_submitted": account.onboarded,
        "metadata": metadata(&account.metadata),
    })
}

pub fn account_link(url: &str, created: i64) -> Value {
    json!({
        "object": "account_link",
        "created": created,
        "expires_at": created + 300,
        "url": url,
    })
}

fn reversal(reversal: &Reversal, transfer: &Transfer) -> Value {
    json!({
        "id": reversal.id,
        "object": "transfer_reversal",
        "amount": reversal.amount,
        "created": reversal.created,
        "currency": transfer.currency,
        "metadata": {},
        "transfer": transfer.id,
    })
}

/// A reversal of `transfer`, by its id.
pub fn reversal_of(transfer: &Transfer, id: &str) -> Option<Value> {
    transfer
        .reversals
        .iter()
        .find(|r| r.id == id)
        .map(|r| reversal(r, transfer))
}

pub fn transfer(transfer: &Transfer) -> Value {
    let reversed = transfer.amount_reversed();
    json!({
        "id": transfer.id,
        "object": "transfer",
        "amount": transfer.amount,
        "amount_reversed": reversed,
        "balance_transaction": transfer.balance_transaction,
        "created": transfer.created,
        "currency": transfer.currency,
        "destination": transfer.destination,
        "livemode": false,
        "metadata": metadata(&transfer.metadata),
        "reversals": list(
            &format!("/v1/transfers/{}/reversals", transfer.id),
            transfer.reversals.iter().map(|r| reversal(r, transfer)).collect(),
            false,
        ),
        "reversed": reversed == transfer.amount,
        "source_transaction": transfer.source_transaction,
        "transfer_group": transfer.transfer_group,
    })
}

pub fn dispute(dispute: &Dispute) -> Value {
    json!({
        "id": dispute.id,
        "object": "dispute",
        "amount": dispute.amount,
        "balance_transactions": [],
        "charge": dispute.charge,
        "created": dispute.created,
        "currency": dispute.currency,
        "enhanced_eligibility_types": [],
        "evidence": { "enhanced_evidence": {} },
        "evidence_details": {
            "enhanced_eligibility": {},
            "has_evidence": false,
            "past_due": false,
            "submission_count": 0,
        },
        "is_charge_refundable": false,
        "livemode": false,
        "metadata": {},
        "payment_intent": dispute.payment_intent,
        "reason": dispute.reason,
        "status": dispute.status,
    })
}

pub fn balance_transaction(txn: &BalanceTransaction) -> Value {
    json!({
        "id": txn.id,
        "object": "balance_transaction",
        "amount": txn.amount,
        "available_on": txn.created,
        "balance_type": "payments",
        "created": txn.created,
        "currency": txn.currency,
        "fee": 0,
        "fee_details": [],
        "net": txn.amount,
        "reporting_category": txn.kind,
        "source": txn.source,
        "status": "available",
        "type": txn.kind,
    })
}
