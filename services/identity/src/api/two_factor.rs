//! Two-factor authentication: enrolment, the check at sign-in and for
//! sensitive actions, recovery codes, turning it off, and Reauthenticate
//! (the step-up that ADMIN actions and payout accounts need).

use chrono::Utc;
use frevix_platform::db::Txn;
use frevix_platform::error::{ApiError, FieldViolations};
use frevix_platform::ids::AccountId;
use frevix_proto::identity::v1 as pb;
use sea_orm::ConnectionTrait;
use tonic::Request;

use super::security::{Kind, origin};
use super::support::Proof;
use crate::Inner;
use crate::domain::{password, two_factor as rules};
use crate::error::{IdentityError, Result};
use crate::store::accounts::AccountRow;
use crate::store::security_events::Origin;
use crate::store::{sessions, two_factor};

/// Which second factor a code proved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SecondFactor {
    Totp,
    RecoveryCode,
}

fn code_field(field: &str, code: &str, violations: &mut FieldViolations) {
    violations.check(
        !code.trim().is_empty() && code.chars().count() <= 32,
        field,
        "must be the 6 digits from the authenticator app, or a recovery code",
    );
}

fn recovery_hash(inner: &Inner, code: &str) -> String {
    crate::secrets::hmac(inner.secrets.pepper(), &[b"recovery", code.as_bytes()])
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Ten new recovery codes stored (hashed) for the account; the codes.
async fn new_recovery_codes(
    inner: &Inner,
    db: &impl ConnectionTrait,
    account: AccountId,
) -> Result<Vec<String>> {
    let codes = rules::generate_recovery_codes();
    let hashes = codes
        .iter()
        .map(|code| recovery_hash(inner, code))
        .collect();
    two_factor::replace_recovery_codes(db, account, hashes).await?;
    Ok(codes)
}

impl Inner {
    /// Checks a second-factor code of an account whose factor is on: a TOTP
    /// code (each step once) or an unused recovery code (each once, logged
    /// and its owner told, with `context` saying what it was used for).
    pub async fn check_second_factor(
        &self,
        account: &AccountRow,
        code: &str,
        from: &Origin,
        context: &str,
    ) -> Result<SecondFactor> {
        let id = AccountId(account.id);
        let factor = two_factor::find(&self.db, id)
            .await?
            .filter(|f| f.confirmed_at.is_some())
            .ok_or(IdentityError::SecondFactorInvalid)?;
        let code = code.trim();
        let now = Utc::now();
        if rules::is_totp_code(code) {
            let secret = self.secrets.open(&factor.secret_sealed)?;
            let now_secs = u64::try_from(now.timestamp()).unwrap_or_default();
            let step = rules::matching_step(&secret, code, now_secs)
                .and_then(|step| i64::try_from(step).ok())
                .ok_or(IdentityError::SecondFactorInvalid)?;
            // Used codes stay used: a code seen over a shoulder is worthless.
            if !two_factor::use_step(&self.db, id, step).await? {
                return Err(IdentityError::SecondFactorInvalid);
            }
            return Ok(SecondFactor::Totp);
        }
        let normalized =
            rules::normalize_recovery_code(code).ok_or(IdentityError::SecondFactorInvalid)?;
        if !two_factor::use_recovery_code(&self.db, id, &recovery_hash(self, &normalized), now)
            .await?
        {
            return Err(IdentityError::SecondFactorInvalid);
        }
        let txn = Txn::begin(&self.db).await?;
        self.record(&txn, id, Kind::RecoveryCodeUsed, from, false, context)
            .await?;
        self.alert(&txn, account, "A recovery code was used", from)
            .await?;
        txn.commit().await?;
        Ok(SecondFactor::RecoveryCode)
    }
}

pub async fn begin(
    inner: &Inner,
    request: Request<pb::BeginTwoFactorEnrollmentRequest>,
) -> Result<pb::BeginTwoFactorEnrollmentResponse> {
    let (principal, account) = inner.live_caller(&request).await?;
    let secret = rules::generate_secret();
    let (otpauth_uri, secret_base32) = rules::enrolment(&secret, &account.email)
        .ok_or_else(|| ApiError::internal("cannot describe a TOTP secret".to_owned()))?;
    let sealed = inner.secrets.seal(&secret)?;
    if !two_factor::begin(&inner.db, principal.account_id, sealed, Utc::now()).await? {
        return Err(ApiError::precondition(
            "TWO_FACTOR_ALREADY_ENABLED",
            "account",
            "two-factor authentication is already on; turn it off first to change it",
        )
        .into());
    }
    Ok(pb::BeginTwoFactorEnrollmentResponse {
        otpauth_uri,
        secret: secret_base32,
    })
}

pub async fn confirm(
    inner: &Inner,
    request: Request<pb::ConfirmTwoFactorEnrollmentRequest>,
) -> Result<pb::ConfirmTwoFactorEnrollmentResponse> {
    let (principal, account) = inner.live_caller(&request).await?;
    let from = origin(&request, inner.trust_forwarded_for, "");
    let code = request.get_ref().code.trim();
    if !rules::is_totp_code(code) {
        return Err(FieldViolations::single(
            "code",
            "must be the 6 digits from the authenticator app",
        )
        .into());
    }
    let id = principal.account_id;
    let pending = two_factor::find(&inner.db, id)
        .await?
        .filter(|f| f.confirmed_at.is_none())
        .ok_or(ApiError::precondition(
            "NO_TWO_FACTOR_ENROLLMENT",
            "account",
            "call BeginTwoFactorEnrollment first (or it is already on)",
        ))?;
    let secret = inner.secrets.open(&pending.secret_sealed)?;
    let now = Utc::now();
    let now_secs = u64::try_from(now.timestamp()).unwrap_or_default();
    let step = rules::matching_step(&secret, code, now_secs)
        .and_then(|step| i64::try_from(step).ok())
        .ok_or(IdentityError::SecondFactorInvalid)?;
    let txn = Txn::begin(&inner.db).await?;
    if !two_factor::use_step(&txn, id, step).await? || !two_factor::confirm(&txn, id, now).await? {
        return Err(IdentityError::SecondFactorInvalid);
    }
    let codes = new_recovery_codes(inner, &txn, id).await?;
    inner
        .record(&txn, id, Kind::TwoFactorEnabled, &from, false, "")
        .await?;
    inner
        .alert(
            &txn,
            &account,
            "Two-factor authentication was turned on",
            &from,
        )
        .await?;
    txn.commit().await?;
    tracing::info!(account_id = %id, "two-factor authentication on");
    Ok(pb::ConfirmTwoFactorEnrollmentResponse {
        recovery_codes: codes,
    })
}

pub async fn disable(
    inner: &Inner,
    request: Request<pb::DisableTwoFactorRequest>,
) -> Result<pb::DisableTwoFactorResponse> {
    let (principal, account) = inner.live_caller(&request).await?;
    let from = origin(&request, inner.trust_forwarded_for, "");
    let req = request.into_inner();
    let mut violations = FieldViolations::new();
    violations.check(
        !req.password.is_empty() && req.password.chars().count() <= password::MAX_LENGTH,
        "password",
        "is required",
    );
    code_field("code", &req.code, &mut violations);
    violations.finish(())?;
    if !two_factor::is_enabled(&inner.db, principal.account_id).await? {
        return Err(ApiError::precondition(
            "TWO_FACTOR_NOT_ENABLED",
            "account",
            "two-factor authentication is not on",
        )
        .into());
    }
    if !inner
        .verify_password(req.password, Some(account.password_hash.clone()))
        .await?
    {
        return Err(FieldViolations::single("password", "is not the current password").into());
    }
    inner
        .check_second_factor(&account, &req.code, &from, "turning two-factor off")
        .await?;
    let id = principal.account_id;
    let txn = Txn::begin(&inner.db).await?;
    two_factor::remove(&txn, id).await?;
    inner
        .record(&txn, id, Kind::TwoFactorDisabled, &from, false, "")
        .await?;
    inner
        .alert(
            &txn,
            &account,
            "Two-factor authentication was turned off",
            &from,
        )
        .await?;
    txn.commit().await?;
    tracing::info!(account_id = %id, "two-factor authentication off");
    Ok(pb::DisableTwoFactorResponse {})
}

pub async fn regenerate(
    inner: &Inner,
    request: Request<pb::RegenerateRecoveryCodesRequest>,
) -> Result<pb::RegenerateRecoveryCodesResponse> {
    let (principal, account) = inner.live_caller(&request).await?;
    let from = origin(&request, inner.trust_forwarded_for, "");
    let code = request.get_ref().code.trim().to_owned();
    if !rules::is_totp_code(&code) {
        return Err(FieldViolations::single(
            "code",
            "must be the 6 digits from the authenticator app",
        )
        .into());
    }
    inner
        .check_second_factor(&account, &code, &from, "new recovery codes")
        .await?;
    let id = principal.account_id;
    let txn = Txn::begin(&inner.db).await?;
    let codes = new_recovery_codes(inner, &txn, id).await?;
    inner
        .record(&txn, id, Kind::RecoveryCodesRegenerated, &from, false, "")
        .await?;
    txn.commit().await?;
    Ok(pb::RegenerateRecoveryCodesResponse {
        recovery_codes: codes,
    })
}

pub async fn reauthenticate(
    inner: &Inner,
    request: Request<pb::ReauthenticateRequest>,
) -> Result<pb::ReauthenticateResponse> {
    let (principal, account) = inner.live_caller(&request).await?;
    let from = origin(&request, inner.trust_forwarded_for, "");
    let req = request.into_inner();
    let second_factor = if !req.second_factor_code.trim().is_empty() {
        let mut violations = FieldViolations::new();
        code_field(
            "second_factor_code",
            &req.second_factor_code,
            &mut violations,
        );
        violations.finish(())?;
        inner
            .check_second_factor(&account, &req.second_factor_code, &from, "reauthenticate")
            .await?;
        true
    } else {
        if req.password.is_empty() || req.password.chars().count() > password::MAX_LENGTH {
            return Err(FieldViolations::single(
                "password",
                "is required (or a second_factor_code)",
            )
            .into());
        }
        if !inner
            .verify_password(req.password, Some(account.password_hash.clone()))
            .await?
        {
            return Err(IdentityError::InvalidCredentials);
        }
        // A password proves the first factor again; a session that signed
        // in with a second one keeps that.
        principal.second_factor
    };
    let now = Utc::now();
    let session = sessions::find_session(&inner.db, principal.session_id)
        .await?
        .ok_or(IdentityError::SessionRevoked)?;
    sessions::mark_authenticated(&inner.db, principal.session_id, second_factor, now).await?;
    let proof = Proof {
        at: now,
        second_factor: second_factor || session.second_factor,
    };
    let (access_token, expires_at) =
        inner.sign_access_token(&account, principal.session_id, proof, now)?;
    Ok(pb::ReauthenticateResponse {
        access_token,
        access_token_expire_time: Some(super::convert::timestamp(expires_at)),
    })
}
