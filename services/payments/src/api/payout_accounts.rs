//! CreatePayoutAccount, GetPayoutOnboardingLink, GetPayoutAccount: where a
//! freelancer's earnings go. One account per freelancer, created at the
//! provider under a key derived from the freelancer, so retries and racing
//! calls share it.

use frevix_platform::auth::{Principal, Role, require_step_up};
use frevix_platform::error::{ApiError, FieldViolations};
use frevix_platform::request::caller_with;
use frevix_proto::payments::v1 as pb;
use tonic::Request;

use crate::Inner;
use crate::convert::timestamp;
use crate::error::Result;
use crate::provider::NewAccount;
use crate::store::payouts::{self as store, AccountRow};

/// The longest return address accepted.
const MAX_URL: usize = 2_000;

fn account(row: &AccountRow) -> pb::PayoutAccount {
    pb::PayoutAccount {
        account_id: row.account_id.clone(),
        country: row.country.clone(),
        payouts_enabled: row.payouts_enabled,
        created_at: Some(timestamp(row.created_at)),
    }
}

/// Where earnings go is sensitive: the caller must have signed in (or
/// reauthenticated) within the last 10 minutes.
fn recently_signed_in(caller: &Principal) -> Result<()> {
    require_step_up(caller, false).map_err(|step_up| {
        ApiError::precondition(step_up.reason(), "session", step_up.message())
    })?;
    Ok(())
}

pub async fn create(
    inner: &Inner,
    request: Request<pb::CreatePayoutAccountRequest>,
) -> Result<pb::CreatePayoutAccountResponse> {
    let caller = caller_with(&request, Role::Freelancer)?;
    recently_signed_in(&caller)?;
    let freelancer = caller.account_id.0;
    if let Some(row) = store::find_account(&inner.db, freelancer).await? {
        return Ok(pb::CreatePayoutAccountResponse {
            account: Some(account(&row)),
        });
    }
    let country = request.get_ref().country.trim().to_ascii_uppercase();
    let mut violations = FieldViolations::new();
    violations.check(
        country.len() == 2 && country.bytes().all(|b| b.is_ascii_uppercase()),
        "country",
        "must be a two-letter ISO 3166-1 code, e.g. \"US\"",
    );
    violations.finish(())?;
    let created = inner
        .provider
        .create_account(&NewAccount {
            idempotency_key: format!("account:{freelancer}"),
            owner: freelancer,
            country: country.clone(),
        })
        .await?;
    let now = inner.clock.now();
    let row = store::insert_account(
        &inner.db,
        AccountRow {
            freelancer_id: freelancer,
            account_id: created.id,
            country,
            payouts_enabled: created.payouts_enabled,
            created_at: now,
            updated_at: now,
        },
    )
    .await?;
    Ok(pb::CreatePayoutAccountResponse {
        account: Some(account(&row)),
    })
}

pub async fn onboarding_link(
    inner: &Inner,
    request: Request<pb::GetPayoutOnboardingLinkRequest>,
) -> Result<pb::GetPayoutOnboardingLinkResponse> {
    let caller = caller_with(&request, Role::Freelancer)?;
    recently_signed_in(&caller)?;
    let request = request.get_ref();
    let mut violations = FieldViolations::new();
    for (field, url) in [
        ("return_url", &request.return_url),
        ("refresh_url", &request.refresh_url),
    ] {
        let web = url::Url::parse(url).is_ok_and(|u| matches!(u.scheme(), "http" | "https"));
        violations.check(
            url.len() <= MAX_URL && web,
            field,
            "must be an http(s) address of at most 2,000 characters",
        );
    }
    violations.finish(())?;
    let row = store::find_account(&inner.db, caller.account_id.0)
        .await?
        .ok_or(ApiError::NotFound("payout account"))?;
    let url = inner
        .provider
        .account_link(&row.account_id, &request.return_url, &request.refresh_url)
        .await?;
    Ok(pb::GetPayoutOnboardingLinkResponse { url })
}

pub async fn get(
    inner: &Inner,
    request: Request<pb::GetPayoutAccountRequest>,
) -> Result<pb::GetPayoutAccountResponse> {
    let caller = caller_with(&request, Role::Freelancer)?;
    let row = store::find_account(&inner.db, caller.account_id.0)
        .await?
        .ok_or(ApiError::NotFound("payout account"))?;
    Ok(pb::GetPayoutAccountResponse {
        account: Some(account(&row)),
    })
}
