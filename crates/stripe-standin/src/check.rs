//! Every body the stand-in answers is first parsed with async-stripe's own
//! type for it (generated from Stripe's API description), so the stand-in
//! cannot drift into a shape the real API never has: a body that does not
//! parse is answered as a 500 naming the type, and the test that made the
//! call fails on it.

use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::Value;

/// Which of async-stripe's types a body must parse as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Shape {
    PaymentIntent,
    Charge,
    Refund,
    Customer,
    PaymentMethod,
    SetupIntent,
    Account,
    AccountLink,
    Transfer,
    TransferReversal,
    Dispute,
    BalanceTransactions,
    /// An error body (`{"error": …}`).
    Error,
}

fn parses<T: miniserde::Deserialize>(text: &str) -> bool {
    miniserde::json::from_str::<T>(text).is_ok()
}

/// Whether `text` parses as `shape`.
pub fn parses_as(shape: Shape, text: &str) -> bool {
    use stripe_shared as shared;
    match shape {
        Shape::PaymentIntent => parses::<shared::PaymentIntent>(text),
        Shape::Charge => parses::<shared::Charge>(text),
        Shape::Refund => parses::<shared::Refund>(text),
        Shape::Customer => parses::<shared::Customer>(text),
        Shape::PaymentMethod => parses::<shared::PaymentMethod>(text),
        Shape::SetupIntent => parses::<shared::SetupIntent>(text),
        Shape::Account => parses::<shared::Account>(text),
        Shape::AccountLink => parses::<stripe_connect::AccountLink>(text),
        Shape::Transfer => parses::<shared::Transfer>(text),
        Shape::TransferReversal => parses::<shared::TransferReversal>(text),
        Shape::Dispute => parses::<shared::Dispute>(text),
        Shape::BalanceTransactions => {
            parses::<stripe_types::List<shared::BalanceTransaction>>(text)
        }
        Shape::Error => parses::<ErrorBody>(text),
    }
}

#[derive(miniserde::Deserialize)]
struct ErrorBody {
    #[allow(dead_code)]
    error: stripe_shared::ApiErrors,
}

/// A body that failed its check: the stand-in's own bug, said loudly.
pub fn drifted(shape: Shape, body: &str) -> Response {
    tracing::error!(
        ?shape,
        body,
        "the stand-in answered a body async-stripe cannot parse"
    );
    (
        StatusCode::INTERNAL_SERVER_ERROR,
        format!(
            "stripe stand-in: this {shape:?} body does not parse with async-stripe's types: {body}"
        ),
    )
        .into_response()
}

/// `body` as the answer, once it parses as `shape`.
pub fn answer(status: StatusCode, shape: Shape, body: &Value) -> Response {
    let text = body.to_string();
    if !parses_as(shape, &text) {
        return drifted(shape, &text);
    }
    (
        status,
        [(axum::http::header::CONTENT_TYPE, "application/json")],
        text,
    )
        .into_response()
}
