//! SignUp, VerifyEmail, ResendVerification.

use chrono::Utc;
use frevix_platform::db::Txn;
use frevix_platform::db::idempotency::{IdempotencyKey, Keyed, Start};
use frevix_platform::db::is_unique_violation;
use frevix_platform::error::{ApiError, FieldViolations};
use frevix_platform::ids::AccountId;
use frevix_platform::server::client_address;
use frevix_proto::identity::v1 as pb;
use tonic::Request;

use super::convert;
use super::support::{is_pending, within};
use crate::Inner;
use crate::domain::account::{AccountStatus, DisplayName, Email, parse_chosen_roles};
use crate::domain::codes::{self, Purpose};
use crate::domain::password;
use crate::error::{IdentityError, Result};
use crate::events;
use crate::store::accounts::{self, NewAccount, status_of};

const SIGN_UP_SCOPE: &str = "identity.SignUp";

pub async fn sign_up(
    inner: &Inner,
    request: Request<pb::SignUpRequest>,
) -> Result<pb::SignUpResponse> {
    let address = client_address(&request, inner.trust_forwarded_for);
    let mut violations = FieldViolations::new();
    let key = IdempotencyKey::from_metadata(request.metadata(), &mut violations);
    let req = request.into_inner();
    let email = Email::parse("email", &req.email, &mut violations);
    let name = DisplayName::parse("display_name", &req.display_name, &mut violations);
    let roles = parse_chosen_roles("roles", &req.roles, &mut violations);
    password::check_policy("password", &req.password, &req.email, &mut violations);
    let (Some(email), Some(name), Some(roles)) = (email, name, roles) else {
        return Err(violations.into());
    };
    violations.finish(())?;

    let keyed = Keyed::new(SIGN_UP_SCOPE, key, &req);
    if let Some(answer) = keyed.replay(&inner.db).await? {
        return Ok(answer);
    }
    within(&inner.limits.sign_up_per_address, &address)?;
    if accounts::find_account_by_email(&inner.db, email.as_str())
        .await?
        .is_some()
    {
        return Err(IdentityError::EmailTaken);
    }

    let password_hash = inner.hash_password(req.password.clone()).await?;
    let now = Utc::now();
    let once = match keyed.begin(&inner.db).await? {
        Start::Replay(answer) => return Ok(answer),
        Start::Run(once) => once,
    };
    let result: Result<pb::SignUpResponse> = async move {
        let row = accounts::insert_account(
            &once,
            NewAccount {
                id: AccountId::generate(),
                email: email.as_str(),
                display_name: name.as_str(),
                password_hash,
                status: AccountStatus::PendingVerification,
                roles,
                now,
            },
        )
        .await?;
        inner
            .send_code(&once, &row, Purpose::VerifyEmail, now)
            .await?;
        events::user_registered(&inner.outbox, &once, &row).await?;
        let response = pb::SignUpResponse {
            account: Some(convert::account(&row)),
        };
        once.finish(&response).await?;
        tracing::info!(account_id = %row.id, "account signed up");
        Ok(response)
    }
    .await;
    match result {
        // A sign-up with the same address (and another key, or none) won the race.
        Err(IdentityError::Api(error)) if error.db_error().is_some_and(is_unique_violation) => {
            Err(IdentityError::EmailTaken)
        }
        other => other,
    }
}

fn parse_code(field: &str, code: &str, violations: &mut FieldViolations) {
    if !codes::is_well_formed(code) {
        violations.add(field, "must be the 6 digits from the email");
    }
}

pub async fn verify_email(
    inner: &Inner,
    request: Request<pb::VerifyEmailRequest>,
) -> Result<pb::VerifyEmailResponse> {
    let address = client_address(&request, inner.trust_forwarded_for);
    let req = request.into_inner();
    let mut violations = FieldViolations::new();
    let email = Email::parse("email", &req.email, &mut violations);
    parse_code("code", &req.code, &mut violations);
    let email = violations
        .finish(email)?
        .ok_or(IdentityError::CodeInvalid)?;
    inner.within_code_limits(&address, email.as_str())?;

    // Unknown, verified and suspended accounts answer alike: the answer
    // must not tell which emails have accounts.
    let Some(account) = accounts::find_account_by_email(&inner.db, email.as_str()).await? else {
        return Err(IdentityError::CodeInvalid);
    };
    if status_of(&account) != AccountStatus::PendingVerification {
        return Err(IdentityError::CodeInvalid);
    }
    let code_id = inner
        .check_code(&account, Purpose::VerifyEmail, &req.code)
        .await?;
    let now = Utc::now();
    let txn = Txn::begin(&inner.db).await?;
    if !crate::store::codes::consume_code(&txn, code_id, now).await? {
        return Err(IdentityError::CodeInvalid);
    }
    let id = AccountId(account.id);
    accounts::update_account_status(&txn, id, AccountStatus::Active, None, now).await?;
    let row = accounts::find_account_by_id(&txn, id)
        .await?
        .ok_or(ApiError::NotFound("account"))?;
    events::email_verified(&inner.outbox, &txn, &row).await?;
    txn.commit().await?;
    tracing::info!(account_id = %row.id, "email verified");
    Ok(pb::VerifyEmailResponse {
        account: Some(convert::account(&row)),
    })
}

pub async fn resend_verification(
    inner: &Inner,
    request: Request<pb::ResendVerificationRequest>,
) -> Result<pb::ResendVerificationResponse> {
    let address = client_address(&request, inner.trust_forwarded_for);
    inner
        .mail_code_on_request(
            &address,
            &request.get_ref().email,
            Purpose::VerifyEmail,
            is_pending,
        )
        .await?;
    Ok(pb::ResendVerificationResponse {})
}
