//! RequestPasswordReset, ResetPassword, ChangePassword.

use chrono::Utc;
use frevix_platform::db::Txn;
use frevix_platform::error::FieldViolations;
use frevix_platform::ids::AccountId;
use frevix_platform::server::client_address;
use frevix_proto::identity::v1 as pb;
use tonic::Request;

use super::security::{Kind, origin};
use super::support::is_pending;
use crate::Inner;
use crate::domain::account::{AccountStatus, Email};
use crate::domain::codes::{self, Purpose};
use crate::domain::password;
use crate::error::{IdentityError, Result};
use crate::events;
use crate::store::{accounts, codes as code_store};

pub async fn request_password_reset(
    inner: &Inner,
    request: Request<pb::RequestPasswordResetRequest>,
) -> Result<pb::RequestPasswordResetResponse> {
    let address = client_address(&request, inner.trust_forwarded_for);
    inner
        .mail_code_on_request(
            &address,
            &request.get_ref().email,
            Purpose::ResetPassword,
            |_| true,
        )
        .await?;
    // The same answer, in the same time, whether or not the account exists.
    Ok(pb::RequestPasswordResetResponse {})
}

pub async fn reset_password(
    inner: &Inner,
    request: Request<pb::ResetPasswordRequest>,
) -> Result<pb::ResetPasswordResponse> {
    let address = client_address(&request, inner.trust_forwarded_for);
    let from = origin(&request, inner.trust_forwarded_for, "");
    let req = request.into_inner();
    let mut violations = FieldViolations::new();
    let email = Email::parse("email", &req.email, &mut violations);
    if !codes::is_well_formed(&req.code) {
        violations.add("code", "must be the 6 digits from the email");
    }
    password::check_policy(
        "new_password",
        &req.new_password,
        &req.email,
        &mut violations,
    );
    let email = violations
        .finish(email)?
        .ok_or(IdentityError::CodeInvalid)?;
    inner.within_code_limits(&address, email.as_str())?;

    let Some(account) = accounts::find_account_by_email(&inner.db, email.as_str()).await? else {
        return Err(IdentityError::CodeInvalid);
    };
    let code_id = inner
        .check_code(&account, Purpose::ResetPassword, &req.code)
        .await?;
    let hash = inner.hash_password(req.new_password).await?;
    let now = Utc::now();
    let id = AccountId(account.id);
    let txn = Txn::begin(&inner.db).await?;
    if !code_store::consume_code(&txn, code_id, now).await? {
        return Err(IdentityError::CodeInvalid);
    }
    accounts::update_password_hash(&txn, id, hash, now).await?;
    // The mailed code proves the address too.
    if is_pending(&account) {
        accounts::update_account_status(&txn, id, AccountStatus::Active, None, now).await?;
        if let Some(row) = accounts::find_account_by_id(&txn, id).await? {
            events::email_verified(&inner.outbox, &txn, &row).await?;
        }
    }
    let revoked = inner
        .end_all_sessions(&txn, id, None, "password_reset", now)
        .await?;
    inner
        .record(&txn, id, Kind::PasswordReset, &from, false, "")
        .await?;
    inner
        .alert(&txn, &account, "Your password was reset", &from)
        .await?;
    txn.commit().await?;
    tracing::info!(account_id = %id, revoked, "password reset");
    Ok(pb::ResetPasswordResponse {})
}

pub async fn change_password(
    inner: &Inner,
    request: Request<pb::ChangePasswordRequest>,
) -> Result<pb::ChangePasswordResponse> {
    let (principal, account) = inner.live_caller(&request).await?;
    let from = origin(&request, inner.trust_forwarded_for, "");
    let req = request.into_inner();
    let mut violations = FieldViolations::new();
    if req.current_password.is_empty()
        || req.current_password.chars().count() > password::MAX_LENGTH
    {
        violations.add("current_password", "is required");
    }
    password::check_policy(
        "new_password",
        &req.new_password,
        &account.email,
        &mut violations,
    );
    if req.new_password == req.current_password {
        violations.add("new_password", "must differ from the current password");
    }
    violations.finish(())?;
    if !inner
        .verify_password(req.current_password, Some(account.password_hash.clone()))
        .await?
    {
        return Err(
            FieldViolations::single("current_password", "is not the current password").into(),
        );
    }
    let hash = inner.hash_password(req.new_password).await?;
    let now = Utc::now();
    let txn = Txn::begin(&inner.db).await?;
    accounts::update_password_hash(&txn, principal.account_id, hash, now).await?;
    let revoked = inner
        .end_all_sessions(
            &txn,
            principal.account_id,
            Some(principal.session_id),
            "password_changed",
            now,
        )
        .await?;
    inner
        .record(
            &txn,
            principal.account_id,
            Kind::PasswordChanged,
            &from,
            false,
            "",
        )
        .await?;
    inner
        .alert(&txn, &account, "Your password was changed", &from)
        .await?;
    txn.commit().await?;
    tracing::info!(account_id = %principal.account_id, revoked, "password changed");
    Ok(pb::ChangePasswordResponse {})
}
