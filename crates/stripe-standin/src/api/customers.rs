//! Customers and the cards saved on them: a SetupIntent confirmed with a
//! test card saves it as a `pm_…` of the customer's, to be charged later
//! without them (off-session).

use serde_json::Value;

use crate::bodies;
use crate::call::{Call, Events};
use crate::form::ApiError;
use crate::objects::{Book, Card, Customer, PaymentMethod, SetupIntent, new_id, now};

pub fn create(book: &mut Book, call: &Call, events: &mut Events) -> Result<Value, ApiError> {
    let customer = Customer {
        id: new_id("cus"),
        metadata: call.form.map("metadata"),
        created: now(),
    };
    let body = bodies::customer(&customer);
    events.push("customer.created", body.clone());
    book.customers.insert(customer.id.clone(), customer);
    Ok(body)
}

pub fn setup(book: &mut Book, call: &Call, events: &mut Events) -> Result<Value, ApiError> {
    let customer = call.form.get("customer").map(str::to_owned);
    if let Some(customer) = &customer
        && !book.customers.contains_key(customer)
    {
        return Err(ApiError::no_such("customer", customer, Some("customer")));
    }
    let mut setup = SetupIntent {
        id: new_id("seti"),
        customer: customer.clone(),
        payment_method: None,
        status: "requires_payment_method",
        usage: call.form.get("usage").unwrap_or("off_session").to_owned(),
        created: now(),
    };
    let token = call.form.get("payment_method");
    if let (Some(token), true) = (token, call.form.flag("confirm")) {
        let card = book
            .card_of(token)
            .ok_or_else(|| ApiError::no_such("PaymentMethod", token, Some("payment_method")))?;
        match card {
            Card::Declined(message, code) => {
                book.setup_intents.insert(setup.id.clone(), setup);
                let mut error = ApiError::declined(message, code, Value::Null);
                error.payment_intent = None;
                return Err(error);
            }
            Card::Authenticates => setup.status = "requires_action",
            Card::Pays(..) | Card::PaysThenDisputed | Card::SavesThenDeclines => {
                let method = PaymentMethod {
                    id: new_id("pm"),
                    card,
                    customer,
                    created: now(),
                };
                setup.payment_method = Some(method.id.clone());
                setup.status = "succeeded";
                events.push("payment_method.attached", bodies::payment_method(&method));
                book.methods.insert(method.id.clone(), method);
            }
        }
    }
    let mut body = bodies::setup_intent(&setup);
    if call.form.expands("payment_method")
        && let Some(method) = setup
            .payment_method
            .as_ref()
            .and_then(|id| book.methods.get(id))
    {
        body["payment_method"] = bodies::payment_method(method);
    }
    if setup.status == "succeeded" {
        events.push("setup_intent.succeeded", body.clone());
    }
    book.setup_intents.insert(setup.id.clone(), setup);
    Ok(body)
}

pub fn method(book: &mut Book, id: &str) -> Result<Value, ApiError> {
    book.methods
        .get(id)
        .map(bodies::payment_method)
        .ok_or_else(|| ApiError::no_such("PaymentMethod", id, None))
}
