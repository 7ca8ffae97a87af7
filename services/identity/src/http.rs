//! The JWKS endpoint, served on identity's gRPC port, that Envoy and every
//! service in another process fetch to verify access tokens.

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;

use crate::keys::KeyRing;

pub fn routes(keys: KeyRing) -> axum::Router {
    axum::Router::new()
        .route("/.well-known/jwks.json", get(jwks))
        .with_state(keys)
}

async fn jwks(State(keys): State<KeyRing>) -> Response {
    match keys.jwks() {
        Ok(set) => ([(header::CACHE_CONTROL, "public, max-age=300")], Json(set)).into_response(),
        Err(error) => {
            tracing::error!(%error, "jwks unavailable");
            StatusCode::SERVICE_UNAVAILABLE.into_response()
        }
    }
}
