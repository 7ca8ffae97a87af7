//! Refunds, transfers to connected accounts and their reversals, and the
//! balance transactions that itemize them. What Stripe refuses, the
//! stand-in refuses: refunding more than a charge has left, a transfer
//! without funds (the charge's funds are pending until paid out, so a
//! transfer needs `source_transaction`), a transfer from a charge beyond
//! what it has left, reversing more than was sent.

use serde_json::Value;

use crate::bodies;
use crate::call::{Call, Events};
use crate::form::ApiError;
use crate::objects::{BalanceTransaction, Book, Refund, Reversal, Transfer, new_id, now};

/// Most list pages Stripe gives at once.
const MAX_PAGE: usize = 100;

pub fn charge(book: &mut Book, id: &str) -> Result<Value, ApiError> {
    let charge = book
        .charges
        .get(id)
        .ok_or_else(|| ApiError::no_such("charge", id, None))?;
    Ok(bodies::charge(charge, book))
}

pub fn refund(book: &mut Book, call: &Call, events: &mut Events) -> Result<Value, ApiError> {
    let charge_id = match (call.form.get("charge"), call.form.get("payment_intent")) {
        (Some(charge), _) => charge.to_owned(),
        (None, Some(intent)) => book
            .intents
            .get(intent)
            .ok_or_else(|| ApiError::no_such("payment_intent", intent, Some("payment_intent")))?
            .latest_charge
            .clone()
            .ok_or_else(|| {
                ApiError::state(
                    "charge_not_refundable",
                    format!(
                        "This PaymentIntent ({intent}) does not have a successful charge to refund."
                    ),
                )
            })?,
        (None, None) => return Err(ApiError::missing("charge")),
    };
    let charge = book
        .charges
        .get(&charge_id)
        .ok_or_else(|| ApiError::no_such("charge", &charge_id, Some("charge")))?
        .clone();
    if charge.disputed {
        return Err(ApiError::state(
            "charge_disputed",
            format!("Charge {charge_id} has been charged back; cannot issue a refund."),
        ));
    }
    let left = charge.amount - charge.amount_refunded;
    let amount = call.form.amount("amount")?.unwrap_or(left);
    if left == 0 {
        return Err(ApiError::state(
            "charge_already_refunded",
            format!("Charge {charge_id} has already been refunded."),
        ));
    }
    if amount > left {
        let mut error = ApiError::invalid(
            "amount",
            format!(
                "Refund amount ({amount}) is greater than unrefunded amount on charge ({left})"
            ),
        );
        error.code = Some("amount_too_large");
        return Err(error);
    }
    let id = new_id("re");
    let balance_transaction = book.move_balance("refund", -amount, &charge.currency, &id);
    let refund = Refund {
        id: id.clone(),
        charge: charge_id.clone(),
        payment_intent: charge.payment_intent.clone(),
        amount,
        currency: charge.currency.clone(),
        balance_transaction,
        metadata: call.form.map("metadata"),
        created: now(),
    };
    let body = bodies::refund(&refund);
    book.refunds.insert(id, refund);
    if let Some(charge) = book.charges.get_mut(&charge_id) {
        charge.amount_refunded += amount;
    }
    events.push("refund.created", body.clone());
    events.push(
        "charge.refunded",
        bodies::charge(&book.charges[&charge_id], book),
    );
    Ok(body)
}

pub fn transfer(book: &mut Book, call: &Call, events: &mut Events) -> Result<Value, ApiError> {
    let amount = call
        .form
        .amount("amount")?
        .ok_or_else(|| ApiError::missing("amount"))?;
    let currency = call.form.required("currency")?.to_ascii_lowercase();
    let destination = call.form.required("destination")?.to_owned();
    let account = book
        .accounts
        .get(&destination)
        .ok_or_else(|| ApiError::no_such("destination", &destination, Some("destination")))?;
    if !account.onboarded {
        return Err(ApiError::state(
            "insufficient_capabilities_for_transfer",
            "Your destination account needs to have at least one of the following capabilities enabled: transfers, crypto_transfers, legacy_payments",
        ));
    }
    let source = call.form.get("source_transaction").map(str::to_owned);
    let Some(source) = source else {
        // Charged funds are pending; nothing is available without a source.
        return Err(ApiError::state(
            "balance_insufficient",
            "You have insufficient available funds in your Stripe account. Try adding funds directly to your available balance by creating Charges using the 4000000000000077 test card.",
        ));
    };
    let charge = book
        .charges
        .get(&source)
        .ok_or_else(|| ApiError::no_such("charge", &source, Some("source_transaction")))?;
    if charge.currency != currency {
        return Err(ApiError::invalid(
            "currency",
            format!(
                "The currency of source_transaction's balance transaction ({}) must be the same as the transfer currency ({currency})",
                charge.currency
            ),
        ));
    }
    let left = book.charge_left(charge);
    if amount > left {
        return Err(ApiError::state(
            "balance_insufficient",
            format!(
                "The transfer amount ({amount}) exceeds what source_transaction {source} has left ({left})."
            ),
        ));
    }
    let id = new_id("tr");
    let balance_transaction = book.move_balance("transfer", -amount, &currency, &id);
    let transfer = Transfer {
        id: id.clone(),
        amount,
        currency,
        destination,
        transfer_group: call.form.get("transfer_group").map(str::to_owned),
        source_transaction: Some(source.clone()),
        metadata: call.form.map("metadata"),
        reversals: Vec::new(),
        balance_transaction,
        created: now(),
    };
    let body = bodies::transfer(&transfer);
    book.transfers.insert(id, transfer);
    if let Some(charge) = book.charges.get_mut(&source) {
        charge.amount_transferred += amount;
    }
    events.push("transfer.created", body.clone());
    Ok(body)
}

pub fn find_transfer(book: &mut Book, id: &str) -> Result<Value, ApiError> {
    book.transfers
        .get(id)
        .map(bodies::transfer)
        .ok_or_else(|| ApiError::no_such("transfer", id, None))
}

pub fn reverse(
    book: &mut Book,
    call: &Call,
    id: &str,
    events: &mut Events,
) -> Result<Value, ApiError> {
    let transfer = book
        .transfers
        .get(id)
        .ok_or_else(|| ApiError::no_such("transfer", id, Some("id")))?
        .clone();
    let left = transfer.amount - transfer.amount_reversed();
    let amount = call.form.amount("amount")?.unwrap_or(left);
    if left == 0 || amount > left {
        let mut error = ApiError::invalid(
            "amount",
            format!(
                "You have attempted to reverse {amount}, but only {left} of this transfer can be reversed."
            ),
        );
        error.code = Some("transfer_reversal_amount_too_large");
        return Err(error);
    }
    let reversal_id = new_id("trr");
    book.move_balance("transfer_refund", amount, &transfer.currency, &reversal_id);
    let Some(kept) = book.transfers.get_mut(id) else {
        return Err(ApiError::no_such("transfer", id, Some("id")));
    };
    kept.reversals.push(Reversal {
        id: reversal_id.clone(),
        amount,
        created: now(),
    });
    let kept = kept.clone();
    if let Some(source) = &kept.source_transaction
        && let Some(charge) = book.charges.get_mut(source)
    {
        charge.amount_transferred -= amount;
    }
    events.push("transfer.reversed", bodies::transfer(&kept));
    bodies::reversal_of(&kept, &reversal_id)
        .ok_or_else(|| ApiError::no_such("transfer_reversal", &reversal_id, None))
}

/// A connected account's balance: what was transferred to it, less
/// what was reversed.
fn connected_balance(book: &Book, account: &str) -> Vec<BalanceTransaction> {
    let mut entries = Vec::new();
    for transfer in book.transfers.values().filter(|t| t.destination == account) {
        entries.push(BalanceTransaction {
            id: format!("txn_in_{}", transfer.id),
            kind: "payment",
            amount: transfer.amount,
            currency: transfer.currency.clone(),
            source: transfer.id.clone(),
            created: transfer.created,
        });
        for reversal in &transfer.reversals {
            entries.push(BalanceTransaction {
                id: format!("txn_out_{}", reversal.id),
                kind: "payment_refund",
                amount: -reversal.amount,
                currency: transfer.currency.clone(),
                source: reversal.id.clone(),
                created: reversal.created,
            });
        }
    }
    entries.sort_by_key(|e| e.created);
    entries
}

/// Newest first, filtered by `created[gte]`/`created[lt]` (and `type`),
/// paged with `limit` and `starting_after`.
pub fn balance_transactions(book: &mut Book, call: &Call) -> Result<Value, ApiError> {
    let bound = |key: &str| -> Result<Option<i64>, ApiError> {
        call.form
            .get(key)
            .map(|v| {
                v.parse::<i64>()
                    .map_err(|_| ApiError::invalid(key, format!("Invalid integer: {v}")))
            })
            .transpose()
    };
    let (gte, lt) = (bound("created[gte]")?, bound("created[lt]")?);
    let limit = match call.form.get("limit") {
        None => 10,
        Some(text) => match text.parse::<usize>() {
            Ok(n) if (1..=MAX_PAGE).contains(&n) => n,
            _ => {
                return Err(ApiError::invalid(
                    "limit",
                    "limit must be between 1 and 100",
                ));
            }
        },
    };
    let kind = call.form.get("type");
    let entries = match &call.account {
        None => book.balance.clone(),
        Some(account) => connected_balance(book, account),
    };
    let mut matching: Vec<_> = entries
        .iter()
        .enumerate()
        .filter(|(_, t)| gte.is_none_or(|g| t.created >= g) && lt.is_none_or(|l| t.created < l))
        .filter(|(_, t)| kind.is_none_or(|k| t.kind == k))
        .collect();
    matching.reverse();
    if let Some(after) = call.form.get("starting_after") {
        let Some(at) = matching.iter().position(|(_, t)| t.id == after) else {
            return Err(ApiError::no_such(
                "balance_transaction",
                after,
                Some("starting_after"),
            ));
        };
        matching.drain(..=at);
    }
    let has_more = matching.len() > limit;
    let data = matching
        .iter()
        .take(limit)
        .map(|(_, t)| bodies::balance_transaction(t))
        .collect();
    Ok(bodies::page("/v1/balance_transactions", data, has_more))
}
