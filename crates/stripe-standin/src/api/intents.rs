//! Payment intents: created once, confirmed with a card (Stripe's test
//! cards, or one saved on the customer), charged, declined, or waiting
//! for the cardholder to authenticate; captured or cancelled.

use serde_json::Value;

use crate::bodies;
use crate::call::{Call, Events};
use crate::form::ApiError;
use crate::objects::{Book, Card, Charge, PaymentIntent, new_id, now};

const CONFIRMABLE: [&str; 3] = [
    "requires_payment_method",
    "requires_confirmation",
    "requires_action",
];

fn currency(call: &Call) -> Result<String, ApiError> {
    let currency = call.form.required("currency")?.to_ascii_lowercase();
    if currency.len() != 3 || !currency.chars().all(|c| c.is_ascii_lowercase()) {
        return Err(ApiError::invalid(
            "currency",
            format!("Invalid currency: {currency}"),
        ));
    }
    Ok(currency)
}

fn find<'a>(book: &'a mut Book, id: &str) -> Result<&'a mut PaymentIntent, ApiError> {
    book.intents
        .get_mut(id)
        .ok_or_else(|| ApiError::no_such("payment_intent", id, Some("intent")))
}

pub fn create(book: &mut Book, call: &Call, events: &mut Events) -> Result<Value, ApiError> {
    let amount = call
        .form
        .amount("amount")?
        .ok_or_else(|| ApiError::missing("amount"))?;
    let currency = currency(call)?;
    let customer = call.form.get("customer").map(str::to_owned);
    if let Some(customer) = &customer
        && !book.customers.contains_key(customer)
    {
        return Err(ApiError::no_such("customer", customer, Some("customer")));
    }
    let payment_method = call.form.get("payment_method").map(str::to_owned);
    let intent = PaymentIntent {
        id: new_id("pi"),
        amount,
        currency,
        status: if payment_method.is_some() {
            "requires_confirmation"
        } else {
            "requires_payment_method"
        },
        customer,
        payment_method,
        transfer_group: call.form.get("transfer_group").map(str::to_owned),
        metadata: call.form.map("metadata"),
        latest_charge: None,
        last_error: None,
        return_url: call.form.get("return_url").map(str::to_owned),
        manual: call.form.get("capture_method") == Some("manual"),
        created: now(),
    };
    let id = intent.id.clone();
    events.push(
        "payment_intent.created",
        bodies::payment_intent(&intent, &call.base),
    );
    book.intents.insert(id.clone(), intent);
    if call.form.flag("confirm") {
        return confirm(book, call, &id, events);
    }
    retrieve(book, call, &id)
}

pub fn retrieve(book: &mut Book, call: &Call, id: &str) -> Result<Value, ApiError> {
    Ok(bodies::payment_intent(find(book, id)?, &call.base))
}

pub fn confirm(
    book: &mut Book,
    call: &Call,
    id: &str,
    events: &mut Events,
) -> Result<Value, ApiError> {
    let intent = find(book, id)?.clone();
    if !CONFIRMABLE.contains(&intent.status) {
        return Err(ApiError::state(
            "payment_intent_unexpected_state",
            format!(
                "This PaymentIntent's status is {}, but it must be one of {} to be confirmed.",
                intent.status,
                CONFIRMABLE.join(", ")
            ),
        ));
    }
    let method = call
        .form
        .get("payment_method")
        .map(str::to_owned)
        .or(intent.payment_method.clone())
        .ok_or_else(|| ApiError::missing("payment_method"))?;
    let card = book
        .card_of(&method)
        .ok_or_else(|| ApiError::no_such("PaymentMethod", &method, Some("payment_method")))?;
    if let Some(saved) = book.methods.get(&method)
        && saved.customer.is_some()
        && saved.customer != intent.customer
    {
        return Err(ApiError::invalid(
            "payment_method",
            format!("The provided PaymentMethod {method} belongs to another customer."),
        ));
    }
    let off_session = call.form.flag("off_session");
    let return_url = call
        .form
        .get("return_url")
        .map(str::to_owned)
        .or(intent.return_url.clone());
    {
        let intent = find(book, id)?;
        intent.payment_method = Some(method.clone());
        intent.return_url = return_url;
    }
    match card {
        Card::Pays(..) | Card::PaysThenDisputed => {
            pay(book, call, id, &method, card, events)?;
            if card == Card::PaysThenDisputed
                && let Some(charge) = find(book, id)?.latest_charge.clone()
            {
                super::disputes::open(book, &charge, events);
            }
            retrieve(book, call, id)
        }
        Card::Authenticates if off_session => decline(
            book,
            call,
            id,
            "Your card was declined. This transaction requires authentication.",
            "authentication_required",
            events,
        ),
        Card::Authenticates => {
            let intent = find(book, id)?;
            intent.status = "requires_action";
            let body = bodies::payment_intent(intent, &call.base);
            events.push("payment_intent.requires_action", body.clone());
            Ok(body)
        }
        Card::Declined(message, code) => decline(book, call, id, message, code, events),
        Card::SavesThenDeclines => decline(
            book,
            call,
            id,
            "Your card was declined.",
            "generic_decline",
            events,
        ),
    }
}

/// The intent is charged (or, captured by hand, authorized).
pub fn pay(
    book: &mut Book,
    call: &Call,
    id: &str,
    method: &str,
    card: Card,
    events: &mut Events,
) -> Result<(), ApiError> {
    let intent = find(book, id)?;
    intent.last_error = None;
    if intent.manual {
        intent.status = "requires_capture";
        events.push(
            "payment_intent.amount_capturable_updated",
            bodies::payment_intent(intent, &call.base),
        );
        return Ok(());
    }
    charge(book, call, id, method, card, events)
}

fn charge(
    book: &mut Book,
    call: &Call,
    id: &str,
    method: &str,
    card: Card,
    events: &mut Events,
) -> Result<(), ApiError> {
    let intent = find(book, id)?.clone();
    let charge_id = new_id("ch");
    let balance_transaction =
        book.move_balance("charge", intent.amount, &intent.currency, &charge_id);
    let charge = Charge {
        id: charge_id.clone(),
        amount: intent.amount,
        currency: intent.currency.clone(),
        payment_intent: intent.id.clone(),
        payment_method: method.to_owned(),
        card,
        amount_refunded: 0,
        amount_transferred: 0,
        disputed: false,
        transfer_group: intent.transfer_group.clone(),
        balance_transaction,
        created: now(),
    };
    book.charges.insert(charge_id.clone(), charge);
    let charged = bodies::charge(&book.charges[&charge_id], book);
    let intent = find(book, id)?;
    intent.status = "succeeded";
    intent.latest_charge = Some(charge_id);
    let body = bodies::payment_intent(intent, &call.base);
    events.push("charge.succeeded", charged);
    events.push("payment_intent.succeeded", body);
    Ok(())
}

fn decline(
    book: &mut Book,
    call: &Call,
    id: &str,
    message: &'static str,
    code: &'static str,
    events: &mut Events,
) -> Result<Value, ApiError> {
    let intent = find(book, id)?;
    intent.status = "requires_payment_method";
    let error_code = if code == "authentication_required" {
        "authentication_required"
    } else {
        "card_declined"
    };
    intent.last_error = Some((message.to_owned(), error_code, code));
    let body = bodies::payment_intent(intent, &call.base);
    events.push("payment_intent.payment_failed", body.clone());
    let mut error = ApiError::declined(message, code, body);
    error.code = Some(error_code);
    Err(error)
}

/// The cardholder's answer to the 3-D Secure challenge.
pub fn authenticate(
    book: &mut Book,
    base: &str,
    id: &str,
    passed: bool,
    events: &mut Events,
) -> Result<Option<String>, ApiError> {
    let intent = find(book, id)?.clone();
    if intent.status != "requires_action" {
        return Err(ApiError::state(
            "payment_intent_unexpected_state",
            format!(
                "This PaymentIntent's status is {}: nothing to authenticate.",
                intent.status
            ),
        ));
    }
    let call = Call {
        form: crate::form::Form::default(),
        account: None,
        base: base.to_owned(),
    };
    let method = intent.payment_method.clone().unwrap_or_default();
    if passed {
        pay(book, &call, id, &method, Card::Pays("visa", "3184"), events)?;
    } else {
        let _ = decline(
            book,
            &call,
            id,
            "We are unable to authenticate your payment method.",
            "payment_intent_authentication_failure",
            events,
        );
    }
    Ok(intent.return_url)
}

pub fn capture(
    book: &mut Book,
    call: &Call,
    id: &str,
    events: &mut Events,
) -> Result<Value, ApiError> {
    let intent = find(book, id)?.clone();
    if intent.status != "requires_capture" {
        return Err(ApiError::state(
            "payment_intent_unexpected_state",
            format!(
                "This PaymentIntent could not be captured because it has a status of {}. Only a PaymentIntent with one of the following statuses may be captured: requires_capture.",
                intent.status
            ),
        ));
    }
    let method = intent.payment_method.clone().unwrap_or_default();
    let card = book.card_of(&method).unwrap_or(Card::Pays("visa", "4242"));
    charge(book, call, id, &method, card, events)?;
    retrieve(book, call, id)
}

pub fn cancel(
    book: &mut Book,
    call: &Call,
    id: &str,
    events: &mut Events,
) -> Result<Value, ApiError> {
    let intent = find(book, id)?;
    if matches!(intent.status, "succeeded" | "canceled" | "processing") {
        return Err(ApiError::state(
            "payment_intent_unexpected_state",
            format!(
                "You cannot cancel this PaymentIntent because it has a status of {}.",
                intent.status
            ),
        ));
    }
    intent.status = "canceled";
    let body = bodies::payment_intent(intent, &call.base);
    events.push("payment_intent.canceled", body.clone());
    Ok(body)
}
