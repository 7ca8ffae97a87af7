//! Profiles follow accounts: a FREELANCER account gets a freelancer profile,
//! a CLIENT account a client profile, and display names stay current.

use frevix_platform::db::Txn;
use chrono::Utc;
use frevix_platform::events::{EventHandler, HandlerError, ReceivedEvent};
use frevix_proto::identity::v1 as identity;
use uuid::Uuid;

use crate::store::profiles;

pub struct Accounts;

#[async_trait::async_trait]
impl EventHandler for Accounts {
    async fn handle(
        &self,
        txn: &Txn,
        event: &ReceivedEvent,
    ) -> Result<(), HandlerError> {
        let (account_id, display_name, roles) = if event.is::<identity::UserRegistered>() {
            let e: identity::UserRegistered = event.decode()?;
            (e.account_id, e.display_name, e.roles)
        } else {
            let e: identity::AccountUpdated = event.decode()?;
            (e.account_id, e.display_name, e.roles)
        };
        let id = Uuid::parse_str(&account_id)
            .map_err(|_| HandlerError(format!("bad account id {account_id}")))?;
        let now = Utc::now();
        if roles.contains(&(identity::Role::Freelancer as i32)) {
            profiles::ensure_freelancer(txn, id, &display_name, now).await?;
        }
        if roles.contains(&(identity::Role::Client as i32)) {
            profiles::ensure_client(txn, id, &display_name, now).await?;
        }
        Ok(())
    }
}
