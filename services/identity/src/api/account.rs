//! GetMe, UpdateAccount.

use chrono::Utc;
use frevix_platform::db::Txn;
use frevix_platform::error::{ApiError, FieldViolations};
use frevix_platform::mask::update_paths;
use frevix_proto::identity::v1 as pb;
use tonic::Request;

use super::convert;
use crate::Inner;
use crate::domain::account::{DisplayName, parse_chosen_roles};
use crate::error::Result;
use crate::events;
use crate::store::accounts::{self, roles_of};

pub async fn get_me(
    inner: &Inner,
    request: Request<pb::GetMeRequest>,
) -> Result<pb::GetMeResponse> {
    let (account, two_factor) = inner.live_caller_and_factor(&request).await?;
    Ok(pb::GetMeResponse {
        account: Some(convert::own_account(&account, two_factor)),
    })
}

pub async fn update_account(
    inner: &Inner,
    request: Request<pb::UpdateAccountRequest>,
) -> Result<pb::UpdateAccountResponse> {
    let (principal, current) = inner.live_caller(&request).await?;
    let req = request.into_inner();
    let mut violations = FieldViolations::new();
    let changes = req.account.unwrap_or_else(|| {
        violations.add("account", "is required");
        pb::Account::default()
    });
    if !changes.id.is_empty() && changes.id != current.id.to_string() {
        violations.add("account.id", "must be empty or the caller's own id");
    }
    let paths = update_paths(req.update_mask, &["display_name", "roles"], &mut violations);
    let mut display_name = current.display_name.clone();
    let mut roles = roles_of(&current);
    for path in &paths {
        match path.as_str() {
            "display_name" => {
                if let Some(name) = DisplayName::parse(
                    "account.display_name",
                    &changes.display_name,
                    &mut violations,
                ) {
                    display_name = name.as_str().to_owned();
                }
            }
            "roles" => {
                // ADMIN is not chosen here: it is kept as it is.
                let chosen: Vec<i32> = changes
                    .roles
                    .iter()
                    .copied()
                    .filter(|role| *role != pb::Role::Admin as i32 || !roles.admin)
                    .collect();
                if let Some(mut chosen) =
                    parse_chosen_roles("account.roles", &chosen, &mut violations)
                {
                    chosen.admin = roles.admin;
                    roles = chosen;
                }
            }
            other => violations.add(
                "update_mask.paths",
                format!("`{other}` cannot be updated; use display_name or roles"),
            ),
        }
    }
    violations.finish(())?;
    let txn = Txn::begin(&inner.db).await?;
    accounts::update_profile(&txn, principal.account_id, &display_name, roles, Utc::now()).await?;
    let row = accounts::find_account_by_id(&txn, principal.account_id)
        .await?
        .ok_or(ApiError::NotFound("account"))?;
    events::account_updated(&inner.outbox, &txn, &row).await?;
    txn.commit().await?;
    Ok(pb::UpdateAccountResponse {
        account: Some(convert::account(&row)),
    })
}
