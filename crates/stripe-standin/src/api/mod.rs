//! The API routes (`/v1/…`), each a thin call into [`StandIn::call`] with
//! the change it makes.

mod connect;
mod customers;
mod disputes;
mod intents;
mod money;

use axum::Router;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method};
use axum::response::Response;
use axum::routing::{get, post};
use bytes::Bytes;

use crate::StandIn;
use crate::check::Shape;
use crate::form::Form;

pub use connect::onboard;
pub use disputes::{close as close_dispute, open as open_dispute};
pub use intents::authenticate as intents_authenticate;

type S = State<StandIn>;

pub fn router(standin: StandIn) -> Router {
    Router::new()
        .route("/v1/payment_intents", post(create_intent))
        .route("/v1/payment_intents/{id}", get(retrieve_intent))
        .route("/v1/payment_intents/{id}/confirm", post(confirm_intent))
        .route("/v1/payment_intents/{id}/capture", post(capture_intent))
        .route("/v1/payment_intents/{id}/cancel", post(cancel_intent))
        .route("/v1/customers", post(create_customer))
        .route("/v1/setup_intents", post(create_setup_intent))
        .route("/v1/payment_methods/{id}", get(retrieve_method))
        .route("/v1/charges/{id}", get(retrieve_charge))
        .route("/v1/refunds", post(create_refund))
        .route("/v1/accounts", post(create_account))
        .route("/v1/accounts/{id}", get(retrieve_account))
        .route("/v1/account_links", post(create_account_link))
        .route("/v1/transfers", post(create_transfer))
        .route("/v1/transfers/{id}", get(retrieve_transfer))
        .route("/v1/transfers/{id}/reversals", post(create_reversal))
        .route("/v1/balance_transactions", get(list_balance_transactions))
        .with_state(standin)
}

async fn create_intent(State(s): S, headers: HeaderMap, body: Bytes) -> Response {
    let form = Form::parse(&body);
    s.call(
        &headers,
        Method::POST,
        "/v1/payment_intents",
        form,
        Shape::PaymentIntent,
        intents::create,
    )
    .await
}

async fn retrieve_intent(State(s): S, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let path = format!("/v1/payment_intents/{id}");
    s.call(
        &headers,
        Method::GET,
        &path,
        Form::default(),
        Shape::PaymentIntent,
        |book, call, _| intents::retrieve(book, call, &id),
    )
    .await
}

async fn confirm_intent(
    State(s): S,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let path = format!("/v1/payment_intents/{id}/confirm");
    s.call(
        &headers,
        Method::POST,
        &path,
        Form::parse(&body),
        Shape::PaymentIntent,
        |book, call, events| intents::confirm(book, call, &id, events),
    )
    .await
}

async fn capture_intent(
    State(s): S,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let path = format!("/v1/payment_intents/{id}/capture");
    s.call(
        &headers,
        Method::POST,
        &path,
        Form::parse(&body),
        Shape::PaymentIntent,
        |book, call, events| intents::capture(book, call, &id, events),
    )
    .await
}

async fn cancel_intent(
    State(s): S,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let path = format!("/v1/payment_intents/{id}/cancel");
    s.call(
        &headers,
        Method::POST,
        &path,
        Form::parse(&body),
        Shape::PaymentIntent,
        |book, call, events| intents::cancel(book, call, &id, events),
    )
    .await
}

async fn create_customer(State(s): S, headers: HeaderMap, body: Bytes) -> Response {
    s.call(
        &headers,
        Method::POST,
        "/v1/customers",
        Form::parse(&body),
        Shape::Customer,
        customers::create,
    )
    .await
}

async fn create_setup_intent(State(s): S, headers: HeaderMap, body: Bytes) -> Response {
    s.call(
        &headers,
        Method::POST,
        "/v1/setup_intents",
        Form::parse(&body),
        Shape::SetupIntent,
        customers::setup,
    )
    .await
}

async fn retrieve_method(State(s): S, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let path = format!("/v1/payment_methods/{id}");
    s.call(
        &headers,
        Method::GET,
        &path,
        Form::default(),
        Shape::PaymentMethod,
        |book, _, _| customers::method(book, &id),
    )
    .await
}

async fn retrieve_charge(State(s): S, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let path = format!("/v1/charges/{id}");
    s.call(
        &headers,
        Method::GET,
        &path,
        Form::default(),
        Shape::Charge,
        |book, _, _| money::charge(book, &id),
    )
    .await
}

async fn create_refund(State(s): S, headers: HeaderMap, body: Bytes) -> Response {
    s.call(
        &headers,
        Method::POST,
        "/v1/refunds",
        Form::parse(&body),
        Shape::Refund,
        money::refund,
    )
    .await
}

async fn create_account(State(s): S, headers: HeaderMap, body: Bytes) -> Response {
    s.call(
        &headers,
        Method::POST,
        "/v1/accounts",
        Form::parse(&body),
        Shape::Account,
        connect::create,
    )
    .await
}

async fn retrieve_account(State(s): S, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let path = format!("/v1/accounts/{id}");
    s.call(
        &headers,
        Method::GET,
        &path,
        Form::default(),
        Shape::Account,
        |book, _, _| connect::retrieve(book, &id),
    )
    .await
}

async fn create_account_link(State(s): S, headers: HeaderMap, body: Bytes) -> Response {
    s.call(
        &headers,
        Method::POST,
        "/v1/account_links",
        Form::parse(&body),
        Shape::AccountLink,
        connect::link,
    )
    .await
}

async fn create_transfer(State(s): S, headers: HeaderMap, body: Bytes) -> Response {
    s.call(
        &headers,
        Method::POST,
        "/v1/transfers",
        Form::parse(&body),
        Shape::Transfer,
        money::transfer,
    )
    .await
}

async fn retrieve_transfer(State(s): S, headers: HeaderMap, Path(id): Path<String>) -> Response {
    let path = format!("/v1/transfers/{id}");
    s.call(
        &headers,
        Method::GET,
        &path,
        Form::default(),
        Shape::Transfer,
        |book, _, _| money::find_transfer(book, &id),
    )
    .await
}

async fn create_reversal(
    State(s): S,
    headers: HeaderMap,
    Path(id): Path<String>,
    body: Bytes,
) -> Response {
    let path = format!("/v1/transfers/{id}/reversals");
    s.call(
        &headers,
        Method::POST,
        &path,
        Form::parse(&body),
        Shape::TransferReversal,
        |book, call, events| money::reverse(book, call, &id, events),
    )
    .await
}

async fn list_balance_transactions(
    State(s): S,
    headers: HeaderMap,
    RawQuery(query): RawQuery,
) -> Response {
    let form = Form::parse(query.unwrap_or_default().as_bytes());
    s.call(
        &headers,
        Method::GET,
        "/v1/balance_transactions",
        form,
        Shape::BalanceTransactions,
        |book, call, _| money::balance_transactions(book, call),
    )
    .await
}
