//! Profiles follow accounts: a FREELANCER account gets a freelancer profile,
//! a CLIENT account a client profile, and display names stay current.

use chrono::Utc;
use frevix_platform::db::Txn;
use frevix_platform::events::{HandlerError, On, ReceivedEvent};
use frevix_proto::identity::v1 as identity;
use uuid::Uuid;

use crate::store::profiles;

pub struct Accounts;

impl Accounts {
    /// Makes the profiles `roles` call for and keeps their display name.
    async fn follow(
        txn: &Txn,
        account_id: &str,
        display_name: &str,
        roles: &[i32],
    ) -> Result<(), HandlerError> {
        let id = frevix_platform::ids::AccountId(
            Uuid::parse_str(account_id)
                .map_err(|_| HandlerError(format!("bad account id {account_id}")))?,
        );
        let now = Utc::now();
        if roles.contains(&(identity::Role::Freelancer as i32)) {
            profiles::ensure_freelancer(txn, id, display_name, now).await?;
        }
        if roles.contains(&(identity::Role::Client as i32)) {
            profiles::ensure_client(txn, id, display_name, now).await?;
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl On<identity::UserRegistered> for Accounts {
    async fn on(
        &self,
        txn: &Txn,
        e: identity::UserRegistered,
        _: &ReceivedEvent,
    ) -> Result<(), HandlerError> {
        Self::follow(txn, &e.account_id, &e.display_name, &e.roles).await
    }
}

#[async_trait::async_trait]
impl On<identity::AccountUpdated> for Accounts {
    async fn on(
        &self,
        txn: &Txn,
        e: identity::AccountUpdated,
        _: &ReceivedEvent,
    ) -> Result<(), HandlerError> {
        Self::follow(txn, &e.account_id, &e.display_name, &e.roles).await
    }
}
