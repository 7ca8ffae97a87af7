//! Operator commands that work on identity's database directly, such as
//! bootstrapping the first ADMIN (no RPC can grant ADMIN).

use chrono::Utc;
use frevix_platform::auth::Roles;
use frevix_platform::db::Txn;
use frevix_platform::error::{ApiError, FieldViolations};
use frevix_platform::events::Outbox;
use frevix_platform::ids::AccountId;
use sea_orm::DatabaseConnection;

use crate::domain::account::{AccountStatus, DisplayName, Email};
use crate::domain::password;
use crate::error::Result;
use crate::store::accounts::{self, NewAccount};

/// What `create_admin` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AdminOutcome {
    Created(AccountId),
    Promoted(AccountId),
}

/// Creates an active ADMIN account, or grants ADMIN to an existing account
/// (verifying it), in which case `password` is left unchanged.
pub async fn create_admin(
    db: &DatabaseConnection,
    outbox: &Outbox,
    email: &str,
    display_name: &str,
    password_text: &str,
) -> Result<AdminOutcome> {
    let mut violations = FieldViolations::new();
    let email = Email::parse("email", email, &mut violations);
    let name = DisplayName::parse("display_name", display_name, &mut violations);
    let (Some(email), Some(name)) = (email, name) else {
        return Err(violations.into());
    };
    let now = Utc::now();
    if let Some(existing) = accounts::find_account_by_email(db, email.as_str()).await? {
        let id = AccountId(existing.id);
        let mut roles = accounts::roles_of(&existing);
        roles.admin = true;
        let txn = Txn::begin(db).await?;
        accounts::update_profile(&txn, id, &existing.display_name, roles, now).await?;
        accounts::update_account_status(&txn, id, AccountStatus::Active, None, now).await?;
        if let Some(row) = accounts::find_account_by_id(&txn, id).await? {
            crate::events::account_updated(outbox, &txn, &row).await?;
        }
        txn.commit().await?;
        return Ok(AdminOutcome::Promoted(id));
    }
    password::check_policy("password", password_text, email.as_str(), &mut violations);
    if !violations.is_empty() {
        return Err(violations.into());
    }
    let owned = password_text.to_owned();
    let hash = tokio::task::spawn_blocking(move || password::hash(&owned))
        .await
        .map_err(|e| ApiError::internal(e.to_string()))??;
    let id = AccountId::generate();
    let txn = Txn::begin(db).await?;
    let row = accounts::insert_account(
        &txn,
        NewAccount {
            id,
            email: email.as_str(),
            display_name: name.as_str(),
            password_hash: hash,
            status: AccountStatus::Active,
            roles: Roles {
                admin: true,
                ..Roles::default()
            },
            now,
        },
    )
    .await?;
    crate::events::user_registered(outbox, &txn, &row).await?;
    crate::events::email_verified(outbox, &txn, &row).await?;
    txn.commit().await?;
    Ok(AdminOutcome::Created(id))
}
