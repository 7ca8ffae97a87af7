//! What a person meets outside Frevix at Stripe, and the stand-in's own
//! controls:
//! - `GET /standin/authenticate/{intent}` — the 3-D Secure challenge (`?result=fail` fails it);
//! - `GET /standin/onboarding/{account}` — Connect onboarding, finished at once;
//! - `POST /_standin/…` — what a test or the mesh's operator does as the
//!   bank or as a bad day: disputes, faults, the money moved so far.

use std::time::Duration;

use axum::Router;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{Html, IntoResponse, Redirect, Response};
use axum::routing::{get, post};
use serde_json::json;

use crate::api::intents_authenticate;
use crate::call::Events;
use crate::form::Form;
use crate::{Faults, StandIn};

pub fn router(standin: StandIn) -> Router {
    Router::new()
        .route("/standin/authenticate/{intent}", get(authenticate))
        .route("/standin/onboarding/{account}", get(onboarding))
        .route("/_standin/faults", post(set_faults))
        .route("/_standin/charges/{charge}/dispute", post(dispute))
        .route("/_standin/disputes/{dispute}/close", post(close_dispute))
        .route("/_standin/totals", get(totals))
        .with_state(standin)
}

type Params = Query<Vec<(String, String)>>;

fn param<'a>(params: &'a [(String, String)], key: &str) -> Option<&'a str> {
    params
        .iter()
        .find(|(k, _)| k == key)
        .map(|(_, v)| v.as_str())
}

fn done(return_url: Option<String>, what: &str) -> Response {
    match return_url {
        Some(url) => Redirect::to(&url).into_response(),
        None => Html(format!("<!doctype html><title>Stripe</title><p>{what}</p>")).into_response(),
    }
}

async fn authenticate(
    State(s): State<StandIn>,
    Path(intent): Path<String>,
    Query(params): Params,
) -> Response {
    let passed = param(&params, "result") != Some("fail");
    let mut events = Events::default();
    let outcome = intents_authenticate(&mut s.lock(), s.base(), &intent, passed, &mut events);
    for event in events.0 {
        s.queue(event);
    }
    match outcome {
        Ok(return_url) if passed => done(return_url, "Authentication complete."),
        Ok(return_url) => done(return_url, "Authentication failed."),
        Err(error) => (StatusCode::BAD_REQUEST, error.message).into_response(),
    }
}

async fn onboarding(
    State(s): State<StandIn>,
    Path(account): Path<String>,
    Query(params): Params,
) -> Response {
    let mut events = Events::default();
    let found = crate::api::onboard(&mut s.lock(), &account, &mut events);
    for event in events.0 {
        s.queue(event);
    }
    if !found {
        return (
            StatusCode::NOT_FOUND,
            format!("No such account: '{account}'"),
        )
            .into_response();
    }
    done(
        param(&params, "return_url").map(str::to_owned),
        "Onboarding complete: payouts are enabled.",
    )
}

fn rate(form: &Form, key: &str) -> Result<f64, String> {
    match form.get(key) {
        None => Ok(0.0),
        Some(text) => text
            .parse::<f64>()
            .ok()
            .filter(|r| (0.0..=1.0).contains(r))
            .ok_or_else(|| format!("{key} must be a number from 0 to 1")),
    }
}

fn millis(form: &Form, key: &str) -> Result<Duration, String> {
    let millis = form
        .get(key)
        .map(|v| {
            v.parse::<u64>()
                .map_err(|_| format!("{key} must be milliseconds"))
        })
        .transpose()?;
    Ok(Duration::from_millis(millis.unwrap_or(0)))
}

async fn set_faults(State(s): State<StandIn>, body: bytes::Bytes) -> Response {
    let form = Form::parse(&body);
    let faults = (|| {
        Ok::<_, String>(Faults {
            fail_rate: rate(&form, "fail_rate")?,
            lose_rate: rate(&form, "lose_rate")?,
            stall_rate: rate(&form, "stall_rate")?,
            stall: millis(&form, "stall_ms")?,
            duplicate_rate: rate(&form, "duplicate_rate")?,
            drop_rate: rate(&form, "drop_rate")?,
            reorder: form.flag("reorder"),
            delay: millis(&form, "delay_ms")?,
        })
    })();
    match faults {
        Ok(faults) => {
            s.set_faults(faults);
            StatusCode::NO_CONTENT.into_response()
        }
        Err(message) => (StatusCode::BAD_REQUEST, message).into_response(),
    }
}

async fn dispute(State(s): State<StandIn>, Path(charge): Path<String>) -> Response {
    match s.dispute(&charge) {
        Some(id) => axum::Json(json!({ "dispute": id })).into_response(),
        None => (StatusCode::NOT_FOUND, "no such charge, or disputed already").into_response(),
    }
}

async fn close_dispute(
    State(s): State<StandIn>,
    Path(dispute): Path<String>,
    Query(params): Params,
) -> Response {
    let won = match param(&params, "outcome") {
        Some("won") => true,
        Some("lost") => false,
        _ => return (StatusCode::BAD_REQUEST, "outcome must be won or lost").into_response(),
    };
    if s.close_dispute(&dispute, won) {
        StatusCode::NO_CONTENT.into_response()
    } else {
        (StatusCode::NOT_FOUND, "no such open dispute").into_response()
    }
}

async fn totals(State(s): State<StandIn>) -> Response {
    let totals = s.totals();
    axum::Json(json!({
        "charges": totals.charges,
        "refunds": totals.refunds,
        "transfers": totals.transfers,
        "reversals": totals.reversals,
        "charged": totals.charged,
        "refunded": totals.refunded,
        "transferred": totals.transferred,
        "undelivered_events": s.undelivered(),
    }))
    .into_response()
}
