//! The sandbox's own pages, standing in for Stripe's hosted ones: the 3-D
//! Secure challenge of a payment (`next_action_url`), a freelancer's
//! payout onboarding (the account link), and a bank deciding a card
//! dispute (what Stripe's test mode does with its dispute evidence). Each is a page with buttons that
//! post the answer. Like Stripe's test mode they ask for no sign-in:
//! whoever holds the link answers it, and no real money is behind it.

use axum::extract::{Path, RawQuery, State};
use axum::http::{StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;

use super::{PAGES, Sandbox};
use crate::provider::ProviderError;

pub fn routes(sandbox: Sandbox) -> axum::Router {
    axum::Router::new()
        .route(
            &format!("{PAGES}/authenticate/{{intent}}"),
            get(challenge).post(answer_challenge),
        )
        .route(
            &format!("{PAGES}/onboarding/{{account}}"),
            get(onboarding).post(finish_onboarding),
        )
        .route(
            &format!("{PAGES}/disputes/{{dispute}}"),
            axum::routing::post(decide_dispute),
        )
        .with_state(sandbox)
}

/// `text` for a URL's query.
pub fn encode(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes()).collect()
}

fn param(query: Option<&str>, name: &str) -> Option<String> {
    url::form_urlencoded::parse(query?.as_bytes())
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned())
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// Only a well-formed http(s) address is followed back.
fn safe_return(url: Option<String>) -> Option<String> {
    let url = url?;
    let parsed = url::Url::parse(&url).ok()?;
    matches!(parsed.scheme(), "http" | "https").then_some(url)
}

fn page(title: &str, body: &str) -> Response {
    Html(format!(
        "<!doctype html><html><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body><h1>{title}</h1>{body}<p><small>Frevix sandbox: no real money moves.</small></p>\
         </body></html>"
    ))
    .into_response()
}

fn failed(error: &ProviderError) -> Response {
    match error {
        ProviderError::Invalid(message) => (StatusCode::NOT_FOUND, message.clone()).into_response(),
        other => {
            tracing::warn!(error = %other, "sandbox page failed");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}

async fn challenge(Path(intent): Path<String>) -> Response {
    let action = escape(&format!("{PAGES}/authenticate/{}", encode(&intent)));
    page(
        "Authenticate this payment",
        &format!(
            "<form method=\"post\" action=\"{action}?result=approve\"><button>Complete authentication</button></form>\
             <form method=\"post\" action=\"{action}?result=decline\"><button>Fail authentication</button></form>"
        ),
    )
}

async fn answer_challenge(
    State(sandbox): State<Sandbox>,
    Path(intent): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let approve = param(query.as_deref(), "result").as_deref() == Some("approve");
    match sandbox.authenticate(&intent, approve).await {
        Ok(true) if approve => page("Authenticated", "<p>The payment goes through.</p>"),
        Ok(true) => page("Authentication failed", "<p>The payment was declined.</p>"),
        Ok(false) => (
            StatusCode::CONFLICT,
            "this payment is not waiting for authentication",
        )
            .into_response(),
        Err(error) => failed(&error),
    }
}

async fn onboarding(Path(account): Path<String>, RawQuery(query): RawQuery) -> Response {
    let back = param(query.as_deref(), "return_url").unwrap_or_default();
    let action = escape(&format!(
        "{PAGES}/onboarding/{}?return_url={}",
        encode(&account),
        encode(&back)
    ));
    page(
        "Set up payouts",
        &format!(
            "<p>In test mode no details are needed.</p>\
             <form method=\"post\" action=\"{action}\"><button>Finish onboarding</button></form>"
        ),
    )
}

async fn finish_onboarding(
    State(sandbox): State<Sandbox>,
    Path(account): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    match sandbox.onboard(&account).await {
        Ok(_) => match safe_return(param(query.as_deref(), "return_url")) {
            Some(url) => (StatusCode::SEE_OTHER, [(header::LOCATION, url)]).into_response(),
            None => page("Payouts are on", "<p>You can close this page.</p>"),
        },
        Err(error) => failed(&error),
    }
}

/// Decides a card dispute, as the bank would (`?outcome=won` or `lost`).
async fn decide_dispute(
    State(sandbox): State<Sandbox>,
    Path(dispute): Path<String>,
    RawQuery(query): RawQuery,
) -> Response {
    let won = match param(query.as_deref(), "outcome").as_deref() {
        Some("won") => true,
        Some("lost") => false,
        _ => return (StatusCode::BAD_REQUEST, "outcome must be won or lost").into_response(),
    };
    match sandbox.close_dispute(&dispute, won).await {
        Ok(true) => page("Dispute decided", "<p>The bank has decided.</p>"),
        Ok(false) => (StatusCode::CONFLICT, "this dispute was decided already").into_response(),
        Err(error) => failed(&error),
    }
}
