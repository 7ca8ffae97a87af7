//! ADMIN RPCs: ListAccounts, SuspendAccount, ReinstateAccount.

use chrono::Utc;
use frevix_platform::auth::Principal;
use frevix_platform::db::Txn;
use frevix_platform::error::{ApiError, FieldViolations};
use frevix_platform::ids::AccountId;
use frevix_platform::paging::{PageLimits, fingerprint, finish_page, parse_page};
use frevix_proto::identity::v1 as pb;
use tonic::Request;
use uuid::Uuid;

use super::convert;
use crate::Inner;
use crate::domain::account::{AccountStatus, role_from_proto};
use crate::error::{IdentityError, Result};
use crate::events;
use crate::store::accounts::{self, AccountFilter, AccountRow, status_of};

const LIMITS: PageLimits = PageLimits {
    default_size: 20,
    max_size: 100,
};

async fn admin_caller<T>(inner: &Inner, request: &Request<T>) -> Result<Principal> {
    let (principal, _) = inner.live_caller(request).await?;
    if !principal.is_admin() {
        return Err(IdentityError::AdminRequired);
    }
    // An ADMIN acts only after signing in with a second factor, recently.
    frevix_platform::auth::require_step_up(&principal, true).map_err(|step_up| {
        ApiError::precondition(step_up.reason(), "session", step_up.message())
    })?;
    Ok(principal)
}

pub async fn list_accounts(
    inner: &Inner,
    request: Request<pb::ListAccountsRequest>,
) -> Result<pb::ListAccountsResponse> {
    admin_caller(inner, &request).await?;
    let req = request.into_inner();
    let mut violations = FieldViolations::new();
    let mut filter = AccountFilter {
        email_contains: req.email_contains.trim().to_lowercase(),
        ..AccountFilter::default()
    };
    if filter.email_contains.len() > 254 {
        violations.add("email_contains", "must be at most 254 characters");
    }
    match pb::Role::try_from(req.role) {
        Ok(role) => filter.role = role_from_proto(role),
        Err(_) => violations.add("role", "is not a known role"),
    }
    match pb::AccountStatus::try_from(req.status) {
        Ok(status) => filter.status = AccountStatus::from_proto(status).map(AccountStatus::as_str),
        Err(_) => violations.add("status", "is not a known status"),
    }
    let filters = fingerprint(&filter);
    let page = parse_page::<Uuid>(req.page.as_ref(), LIMITS, &filters, &mut violations);
    violations.finish(())?;
    let rows =
        accounts::list_accounts(&inner.db, &filter, page.after.map(AccountId), page.size + 1)
            .await?;
    let (rows, page) = finish_page(rows, page.size, &filters, |row| row.id);
    Ok(pb::ListAccountsResponse {
        accounts: rows.iter().map(convert::account).collect(),
        page: Some(page),
    })
}

/// The account `account_id` names; its violation joins `violations`, the
/// request's other fields'.
async fn target(
    inner: &Inner,
    field_value: &str,
    mut violations: FieldViolations,
) -> Result<AccountRow> {
    let id = AccountId::parse_field("account_id", field_value, &mut violations);
    let id = violations
        .finish(id)?
        .ok_or(ApiError::NotFound("account"))?;
    accounts::find_account_by_id(&inner.db, id)
        .await?
        .ok_or(ApiError::NotFound("account").into())
}

pub async fn suspend_account(
    inner: &Inner,
    request: Request<pb::SuspendAccountRequest>,
) -> Result<pb::SuspendAccountResponse> {
    let admin = admin_caller(inner, &request).await?;
    let req = request.into_inner();
    let reason = req.reason.trim();
    let mut violations = FieldViolations::new();
    violations.check(
        !reason.is_empty() && reason.chars().count() <= 500,
        "reason",
        "must be 1 to 500 characters",
    );
    let account = target(inner, &req.account_id, violations).await?;
    let id = AccountId(account.id);
    if id == admin.account_id {
        return Err(ApiError::precondition(
            "CANNOT_SUSPEND_SELF",
            "account",
            "an ADMIN cannot suspend their own account",
        )
        .into());
    }
    if status_of(&account) != AccountStatus::Suspended {
        let now = Utc::now();
        let txn = Txn::begin(&inner.db).await?;
        accounts::update_account_status(
            &txn,
            id,
            AccountStatus::Suspended,
            Some(reason.to_owned()),
            now,
        )
        .await?;
        let revoked = inner
            .end_all_sessions(&txn, id, None, "account_suspended", now)
            .await?;
        if let Some(row) = accounts::find_account_by_id(&txn, id).await? {
            events::account_suspended(&inner.outbox, &txn, &row, reason).await?;
        }
        txn.commit().await?;
        tracing::info!(account_id = %id, admin_id = %admin.account_id, revoked, "account suspended");
    }
    let row = accounts::find_account_by_id(&inner.db, id)
        .await?
        .ok_or(ApiError::NotFound("account"))?;
    Ok(pb::SuspendAccountResponse {
        account: Some(convert::account(&row)),
    })
}

pub async fn reinstate_account(
    inner: &Inner,
    request: Request<pb::ReinstateAccountRequest>,
) -> Result<pb::ReinstateAccountResponse> {
    let admin = admin_caller(inner, &request).await?;
    let account = target(inner, &request.get_ref().account_id, FieldViolations::new()).await?;
    let id = AccountId(account.id);
    if status_of(&account) != AccountStatus::Suspended {
        return Err(ApiError::precondition(
            "ACCOUNT_NOT_SUSPENDED",
            "account",
            "only a suspended account can be reinstated",
        )
        .into());
    }
    let status = if account.email_verified_at.is_some() {
        AccountStatus::Active
    } else {
        AccountStatus::PendingVerification
    };
    let txn = Txn::begin(&inner.db).await?;
    accounts::update_account_status(&txn, id, status, None, Utc::now()).await?;
    let row = accounts::find_account_by_id(&txn, id)
        .await?
        .ok_or(ApiError::NotFound("account"))?;
    events::account_reinstated(&inner.outbox, &txn, &row).await?;
    txn.commit().await?;
    tracing::info!(account_id = %id, admin_id = %admin.account_id, "account reinstated");
    Ok(pb::ReinstateAccountResponse {
        account: Some(convert::account(&row)),
    })
}
