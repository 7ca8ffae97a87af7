//! Identity's account events keep the accounts read model: names, and the
//! addresses notification mail goes to.

use frevix_platform::db::Txn;
use frevix_platform::events::{HandlerError, On, ReceivedEvent};
use frevix_proto::identity::v1 as identity_events;

use super::Reactions;
use super::apply::{Apply, id};
use crate::store;

#[async_trait::async_trait]
impl On<identity_events::UserRegistered> for Reactions {
    async fn on(
        &self,
        txn: &Txn,
        e: identity_events::UserRegistered,
        received: &ReceivedEvent,
    ) -> Result<(), HandlerError> {
        let inner = self.inner()?;
        let apply = Apply::new(&inner, txn, received);
        store::safety::upsert_account(
            apply.txn,
            id(&e.account_id)?,
            &e.display_name,
            Some(&e.email),
        )
        .await?;
        self.keep(received, apply.effects);
        Ok(())
    }
}

#[async_trait::async_trait]
impl On<identity_events::AccountUpdated> for Reactions {
    async fn on(
        &self,
        txn: &Txn,
        e: identity_events::AccountUpdated,
        received: &ReceivedEvent,
    ) -> Result<(), HandlerError> {
        let inner = self.inner()?;
        let apply = Apply::new(&inner, txn, received);
        store::safety::upsert_account(apply.txn, id(&e.account_id)?, &e.display_name, None).await?;
        self.keep(received, apply.effects);
        Ok(())
    }
}
