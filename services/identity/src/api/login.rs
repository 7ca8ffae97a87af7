//! Login, Refresh, Logout.

use chrono::Utc;
use frevix_platform::db::Txn;
use frevix_platform::error::FieldViolations;
use frevix_platform::ids::{AccountId, SessionId};
use frevix_platform::server::{client_address, user_agent};
use frevix_proto::identity::v1 as pb;
use tonic::Request;

use super::convert;
use super::security::Kind;
use super::support::{Proof, login_allowed, within};
use crate::Inner;
use crate::domain::account::Email;
use crate::domain::ids::RefreshTokenId;
use crate::domain::{password, throttle, tokens};
use crate::error::{IdentityError, Result};
use crate::store::security_events::Origin;
use crate::store::{accounts, login_attempts, sessions, two_factor};

pub async fn login(inner: &Inner, request: Request<pb::LoginRequest>) -> Result<pb::LoginResponse> {
    // Stored beside the account: bounded like the sessions' column.
    let address: String = client_address(&request, inner.trust_forwarded_for)
        .chars()
        .take(64)
        .collect();
    let agent = user_agent(&request);
    let req = request.into_inner();
    let mut violations = FieldViolations::new();
    let email = Email::parse("email", &req.email, &mut violations);
    if req.password.is_empty() {
        violations.add("password", "is required");
    } else if req.password.chars().count() > password::MAX_LENGTH {
        violations.add("password", "must be at most 128 characters");
    }
    let device_name = req.device_name.trim();
    if device_name.chars().count() > 100 || device_name.chars().any(char::is_control) {
        violations.add("device_name", "must be at most 100 printable characters");
    }
    if req.second_factor_code.chars().count() > 32 {
        violations.add(
            "second_factor_code",
            "must be a 6-digit code or a recovery code",
        );
    }
    let email = violations
        .finish(email)?
        .ok_or(IdentityError::InvalidCredentials)?;
    within(&inner.limits.login_per_address, &address)?;
    within(
        &inner.limits.login_per_account_address,
        &format!("{} {address}", email.as_str()),
    )?;

    let account = accounts::find_account_by_email(&inner.db, email.as_str()).await?;
    let Some(account) = account else {
        inner.verify_password(req.password, None).await?;
        return Err(IdentityError::InvalidCredentials);
    };
    let now = Utc::now();
    let id = AccountId(account.id);
    // Counted before the password is checked: racing guesses cannot buy more.
    login_attempts::claim_address_attempt(&inner.db, id, &address, throttle::PER_ADDRESS, now)
        .await?
        .map_err(IdentityError::LoginThrottled)?;
    let known_device = sessions::has_signed_in_from(&inner.db, id, &address).await?;
    if !known_device {
        login_attempts::claim_account_attempt(&inner.db, id, throttle::ACCOUNT_WIDE, now)
            .await?
            .map_err(IdentityError::LoginThrottled)?;
    }
    if !inner
        .verify_password(req.password, Some(account.password_hash.clone()))
        .await?
    {
        tracing::info!(account_id = %id, known_device, "failed login");
        return Err(IdentityError::InvalidCredentials);
    }
    login_allowed(&account)?;
    let device_name = if device_name.is_empty() {
        "unnamed device"
    } else {
        device_name
    };
    let from = Origin {
        ip_address: address.clone(),
        user_agent: agent.clone(),
        device_name: device_name.to_owned(),
    };
    // The second factor, checked once the password is known right (its
    // guesses count in the same throttle as the password's).
    let two_factor = two_factor::is_enabled(&inner.db, id).await?;
    if two_factor {
        if req.second_factor_code.trim().is_empty() {
            return Err(IdentityError::SecondFactorRequired);
        }
        inner
            .check_second_factor(&account, &req.second_factor_code, &from, "sign-in")
            .await?;
    }

    // A first sign-in ever is no news; a new device on a used account is.
    let alert = !known_device && sessions::has_any_session(&inner.db, id).await?;
    let txn = Txn::begin(&inner.db).await?;
    login_attempts::forget_successful_attempt(&txn, id, &address, !known_device).await?;
    let tokens = inner
        .open_session(
            &txn,
            &account,
            (device_name.to_owned(), agent, address),
            two_factor,
            now,
        )
        .await?;
    let detail = if two_factor { "with two-factor" } else { "" };
    inner
        .record(&txn, id, Kind::SignIn, &from, !known_device, detail)
        .await?;
    if alert {
        inner
            .alert(&txn, &account, "A new device signed in", &from)
            .await?;
    }
    txn.commit().await?;
    tracing::info!(account_id = %id, session_id = %tokens.session_id, "logged in");
    Ok(pb::LoginResponse {
        tokens: Some(tokens),
        account: Some(convert::own_account(&account, two_factor)),
    })
}

pub async fn refresh(inner: &Inner, req: pb::RefreshRequest) -> Result<pb::RefreshResponse> {
    if req.refresh_token.is_empty() || req.refresh_token.len() > 200 {
        return Err(FieldViolations::single(
            "refresh_token",
            "must be the refresh token from Login or Refresh",
        )
        .into());
    }
    let hash = tokens::hash_refresh_token(&req.refresh_token);
    let now = Utc::now();
    let txn = Txn::begin(&inner.db).await?;
    let Some(token) = sessions::find_refresh_token(&txn, &hash).await? else {
        return Err(IdentityError::RefreshTokenInvalid);
    };
    let session_id = SessionId(token.session_id);
    let Some(session) = sessions::find_session(&txn, session_id).await? else {
        return Err(IdentityError::RefreshTokenInvalid);
    };
    let account_id = AccountId(session.account_id);
    let reused = token.used_at.is_some()
        || !sessions::use_refresh_token(&txn, RefreshTokenId(token.id), now).await?;
    if reused {
        // A rotated token came back: it leaked. End the whole session (RFC 9700).
        if inner
            .end_session(&txn, account_id, session_id, "refresh_token_reuse", now)
            .await?
        {
            tracing::warn!(account_id = %account_id, session_id = %session_id, "refresh token reuse; session revoked");
        }
        txn.commit().await?;
        return Err(IdentityError::RefreshTokenReused);
    }
    if !sessions::is_live(&session, now) {
        return Err(IdentityError::RefreshTokenInvalid);
    }
    let account = accounts::find_account_by_id(&txn, account_id)
        .await?
        .ok_or(IdentityError::RefreshTokenInvalid)?;
    login_allowed(&account)?;
    let tokens = inner
        .rotate_tokens(
            &txn,
            &account,
            session_id,
            session.expires_at,
            Proof::of(&session),
            now,
        )
        .await?;
    sessions::touch_session(&txn, session_id, now).await?;
    txn.commit().await?;
    Ok(pb::RefreshResponse {
        tokens: Some(tokens),
    })
}

pub async fn logout(
    inner: &Inner,
    request: Request<pb::LogoutRequest>,
) -> Result<pb::LogoutResponse> {
    let (principal, _) = inner.live_caller(&request).await?;
    let txn = Txn::begin(&inner.db).await?;
    inner
        .end_session(
            &txn,
            principal.account_id,
            principal.session_id,
            "logout",
            Utc::now(),
        )
        .await?;
    txn.commit().await?;
    tracing::info!(account_id = %principal.account_id, session_id = %principal.session_id, "logged out");
    Ok(pb::LogoutResponse {})
}
