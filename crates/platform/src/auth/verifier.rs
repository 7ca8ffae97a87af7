//! Checks an access token: the algorithm is pinned to ES256 (so `alg: none`
//! and HMAC confusion are impossible), the `kid` must name a trusted key, and
//! signature, expiry, issuer and audience must all hold.

use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use jsonwebtoken::{Algorithm, DecodingKey, Validation, decode, decode_header};
use tonic::Status;

use super::claims::{AccessClaims, Principal, Roles};
use super::jwks::{Lookup, RemoteJwks};
use super::verified::VerifiedTokens;
use crate::config::AuthConfig;
use crate::error::unauthenticated;
use crate::ids::{AccountId, SessionId};

/// Public keys by `kid`, shared with identity when it runs in the same process.
#[derive(Clone, Default)]
pub struct KeySet {
    keys: Arc<RwLock<HashMap<String, DecodingKey>>>,
}

impl KeySet {
    pub fn replace(&self, keys: HashMap<String, DecodingKey>) {
        if let Ok(mut guard) = self.keys.write() {
            *guard = keys;
        }
    }

    pub fn get(&self, kid: &str) -> Option<DecodingKey> {
        self.keys.read().ok()?.get(kid).cloned()
    }
}

/// Why a token was refused: UNAUTHENTICATED, except `KeysUnavailable`
/// (UNAVAILABLE: the token may be good; retry, and do not sign out).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("an access token is required: send `authorization: Bearer <token>`")]
    Missing,
    #[error("the access token has expired; refresh it")]
    Expired,
    #[error("the access token is not valid")]
    Invalid,
    #[error("this session has ended (logout, password change or revocation); log in again")]
    SessionRevoked,
    #[error("this account is suspended")]
    AccountSuspended,
    #[error("the keys to check the access token cannot be fetched right now; retry")]
    KeysUnavailable,
}

impl AuthError {
    pub fn reason(&self) -> &'static str {
        match self {
            AuthError::Missing => "TOKEN_MISSING",
            AuthError::Expired => "TOKEN_EXPIRED",
            AuthError::Invalid => "TOKEN_INVALID",
            AuthError::SessionRevoked => "SESSION_REVOKED",
            AuthError::AccountSuspended => "ACCOUNT_SUSPENDED",
            AuthError::KeysUnavailable => "KEYS_UNAVAILABLE",
        }
    }

    pub fn into_status(self) -> Status {
        match self {
            AuthError::KeysUnavailable => crate::error::unavailable(
                self.reason(),
                std::time::Duration::from_secs(1),
                self.to_string(),
            ),
            _ => unauthenticated(self.reason(), self.to_string()),
        }
    }
}

enum Source {
    Local(KeySet),
    Remote(RemoteJwks),
}

/// Verifies access tokens against identity's keys.
pub struct TokenVerifier {
    validation: Validation,
    source: Source,
    verified: VerifiedTokens,
}

impl TokenVerifier {
    /// Trusts the keys in `keys` (identity in the same process).
    pub fn local(config: &AuthConfig, keys: KeySet) -> Self {
        Self {
            validation: validation(config),
            source: Source::Local(keys),
            verified: VerifiedTokens::default(),
        }
    }

    /// Trusts the keys served at `config.jwks_url`.
    pub fn remote(config: &AuthConfig) -> Self {
        Self {
            validation: validation(config),
            source: Source::Remote(RemoteJwks::new(
                config.jwks_url.clone(),
                std::time::Duration::from_secs(config.jwks_refresh_secs),
            )),
            verified: VerifiedTokens::default(),
        }
    }

    pub async fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        let header = decode_header(token).map_err(|_| AuthError::Invalid)?;
        if header.alg != Algorithm::ES256 {
            return Err(AuthError::Invalid);
        }
        let kid = header.kid.ok_or(AuthError::Invalid)?;
        let key = match &self.source {
            Source::Local(keys) => keys.get(&kid).ok_or(AuthError::Invalid)?,
            Source::Remote(remote) => match remote.key(&kid).await {
                Lookup::Found(key) => key,
                Lookup::Unknown => return Err(AuthError::Invalid),
                Lookup::Unreachable => return Err(AuthError::KeysUnavailable),
            },
        };
        // The key is still trusted; a token whose signature it already
        // checked needs no second check before it expires.
        let now = chrono::Utc::now();
        if let Some(principal) = self.verified.get(token, now) {
            return Ok(principal);
        }
        let data =
            decode::<AccessClaims>(token, &key, &self.validation).map_err(|e| match e.kind() {
                jsonwebtoken::errors::ErrorKind::ExpiredSignature => AuthError::Expired,
                _ => AuthError::Invalid,
            })?;
        let claims = data.claims;
        let principal = Principal {
            account_id: claims
                .sub
                .parse::<AccountId>()
                .map_err(|_| AuthError::Invalid)?,
            session_id: claims
                .sid
                .parse::<SessionId>()
                .map_err(|_| AuthError::Invalid)?,
            roles: Roles::from_roles(claims.roles),
            expires_at: chrono::DateTime::from_timestamp(claims.exp, 0)
                .ok_or(AuthError::Invalid)?,
            authenticated_at: chrono::DateTime::from_timestamp(
                if claims.auth_time > 0 {
                    claims.auth_time
                } else {
                    claims.iat
                },
                0,
            )
            .ok_or(AuthError::Invalid)?,
            second_factor: claims.mfa,
        };
        self.verified.insert(token, &principal, now);
        Ok(principal)
    }
}

fn validation(config: &AuthConfig) -> Validation {
    let mut validation = Validation::new(Algorithm::ES256);
    validation.set_issuer(&[config.issuer.as_str()]);
    validation.set_audience(&[config.audience.as_str()]);
    validation.set_required_spec_claims(&["exp", "iss", "aud", "sub"]);
    validation.leeway = 30;
    validation
}
