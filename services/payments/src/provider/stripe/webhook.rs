//! `POST /webhooks/stripe`: Stripe's events into payments' inbox. The
//! signature is checked first (HMAC-SHA256 with the endpoint's secret, at
//! most 300 s old): a forged or stale delivery is answered 400 and nothing
//! is recorded. A good one is recorded under its event id — once, however
//! often Stripe repeats it — and only then answered 2xx; it is applied
//! later by the inbox's timer, so a slow apply never makes Stripe retry.

use std::sync::Arc;

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::post;
use bytes::Bytes;
use frevix_platform::db::Txn;

use super::Stripe;
use super::events::provider_event;
use crate::Inner;
use crate::store::inbox;

/// The event `body` carries, if `signature` (the `Stripe-Signature`
/// header) proves it came from Stripe within the last 300 s; else why not.
pub(crate) fn verified(
    body: &[u8],
    signature: Option<&str>,
    secret: &str,
) -> Result<stripe_webhook::Event, String> {
    let payload = std::str::from_utf8(body).map_err(|_| "the body is not UTF-8".to_owned())?;
    let signature = signature.ok_or("no Stripe-Signature header")?;
    stripe_webhook::Webhook::construct_event(payload, signature, secret)
        .map_err(|error| error.to_string())
}

/// Where Stripe delivers (Envoy routes it to payments).
pub const PATH: &str = "/webhooks/stripe";

/// The largest event body taken (Stripe's are a few KiB).
const MAX_BODY: usize = 256 * 1024;

#[derive(Clone)]
struct Endpoint {
    inner: Arc<Inner>,
    stripe: Stripe,
}

pub(crate) fn routes(inner: Arc<Inner>, stripe: Stripe) -> Router {
    Router::new()
        .route(PATH, post(receive))
        .layer(axum::extract::DefaultBodyLimit::max(MAX_BODY))
        .with_state(Endpoint { inner, stripe })
}

async fn receive(State(endpoint): State<Endpoint>, headers: HeaderMap, body: Bytes) -> StatusCode {
    let signature = headers
        .get("stripe-signature")
        .and_then(|v| v.to_str().ok());
    let event = match verified(&body, signature, endpoint.stripe.webhook_secret()) {
        Ok(event) => event,
        Err(refusal) => {
            tracing::warn!(%refusal, "a Stripe webhook was refused");
            return StatusCode::BAD_REQUEST;
        }
    };
    let Some(recorded) = provider_event(&event) else {
        tracing::debug!(id = %event.id, kind = %event.type_, "a Stripe event payments does not use");
        return StatusCode::OK;
    };
    let inner = &endpoint.inner;
    let stored = async {
        let txn = Txn::begin(&inner.db).await?;
        let new = inbox::record(
            &txn,
            &inner.timers,
            event.id.as_str(),
            &recorded,
            inner.clock.now(),
        )
        .await?;
        txn.commit().await?;
        Ok::<bool, sea_orm::DbErr>(new)
    }
    .await;
    match stored {
        Ok(new) => {
            tracing::info!(id = %event.id, kind = %event.type_, new, "Stripe event recorded");
            crate::crash::point(crate::crash::AFTER_RECORD);
            StatusCode::OK
        }
        Err(error) => {
            // Stripe retries until a 2xx: nothing is lost.
            tracing::error!(%error, id = %event.id, "a Stripe event could not be recorded");
            StatusCode::SERVICE_UNAVAILABLE
        }
    }
}

#[cfg(test)]
#[path = "webhook_fuzz.rs"]
mod fuzz;
