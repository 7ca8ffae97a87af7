//! The authentication middleware every server runs in front of its routes.
//! It reads `authorization: Bearer …`, verifies the token, and puts the
//! [`Principal`] into the request extensions where handlers find it with
//! [`principal`]. Only the explicit allow-list of public RPCs passes without
//! a token. A token that verifies is still refused when the deny list holds
//! its session or account (revoked, suspended).

use std::collections::HashSet;
use std::sync::Arc;

use axum::extract::{Request, State};
use axum::middleware::Next;
use axum::response::Response;
use tonic::Status;

use super::claims::Principal;
use super::deny::DenyList;
use super::verifier::{AuthError, TokenVerifier};

/// Paths every server serves without a token: health, reflection, JWKS.
const INFRASTRUCTURE_PREFIXES: &[&str] = &[
    "/grpc.health.v1.Health/",
    "/grpc.reflection.v1.ServerReflection/",
    "/grpc.reflection.v1alpha.ServerReflection/",
    "/.well-known/",
];

/// The verifier plus the allow-list of public RPCs.
pub struct Authenticator {
    verifier: TokenVerifier,
    public_methods: HashSet<String>,
    /// Plain HTTP path prefixes served without a token.
    public_paths: Vec<String>,
    deny: Arc<DenyList>,
}

impl Authenticator {
    /// `public_methods` are full gRPC paths such as
    /// `/frevix.identity.v1.IdentityService/Login`.
    pub fn new<'a>(
        verifier: TokenVerifier,
        public_methods: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        Self {
            verifier,
            public_methods: public_methods.into_iter().map(str::to_owned).collect(),
            public_paths: Vec::new(),
            deny: Arc::default(),
        }
    }

    /// Also serves paths under each of `prefixes` (each ending in `/`)
    /// without a token.
    #[must_use]
    pub fn with_public_paths<'a>(mut self, prefixes: impl IntoIterator<Item = &'a str>) -> Self {
        self.public_paths = prefixes.into_iter().map(str::to_owned).collect();
        self
    }

    /// Sessions and accounts refused although their tokens verify.
    pub fn deny_list(&self) -> &Arc<DenyList> {
        &self.deny
    }

    pub fn is_public(&self, path: &str) -> bool {
        self.public_methods.contains(path)
            || INFRASTRUCTURE_PREFIXES
                .iter()
                .any(|prefix| path.starts_with(prefix))
            || self
                .public_paths
                .iter()
                .any(|prefix| path.starts_with(prefix.as_str()))
    }

    pub fn verifier(&self) -> &TokenVerifier {
        &self.verifier
    }
}

/// The middleware; install with `axum::middleware::from_fn_with_state`.
pub async fn authenticate(
    State(auth): State<Arc<Authenticator>>,
    mut request: Request,
    next: Next,
) -> Response {
    let public = auth.is_public(request.uri().path());
    let token = request
        .headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|value| value.to_str().ok())
        .and_then(|value| {
            value
                .strip_prefix("Bearer ")
                .or_else(|| value.strip_prefix("bearer "))
        })
        .map(str::trim)
        .map(str::to_owned);
    let verified = match token {
        Some(token) => Some(auth.verifier.verify(&token).await.and_then(|principal| {
            match auth.deny.denial(&principal, chrono::Utc::now()) {
                Some(denial) => Err(AuthError::from(denial)),
                None => Ok(principal),
            }
        })),
        None => None,
    };
    // Streams re-check their caller as they go (see `stream_guard`).
    request.extensions_mut().insert(auth.clone());
    match verified {
        // A public call with a valid token still learns who is calling.
        Some(verified) => match verified {
            Ok(principal) => {
                request.extensions_mut().insert(principal);
                next.run(request).await
            }
            Err(_) if public => next.run(request).await,
            Err(error) => reject(error),
        },
        None if public => next.run(request).await,
        None => reject(AuthError::Missing),
    }
}

fn reject(error: AuthError) -> Response {
    error.into_status().into_http::<axum::body::Body>()
}

/// The caller of an authenticated RPC.
pub fn principal<T>(request: &tonic::Request<T>) -> Result<Principal, Status> {
    request
        .extensions()
        .get::<Principal>()
        .cloned()
        .ok_or_else(|| AuthError::Missing.into_status())
}
