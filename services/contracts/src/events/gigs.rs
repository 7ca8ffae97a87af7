//! Contracts' copy of every gig on sale, from marketplace's gig events: an
//! order is priced from it, never from the buyer's request, and a paused or
//! archived gig cannot be ordered.

use std::sync::Arc;

use frevix_platform::db::Txn;
use frevix_platform::events::{HandlerError, On, ReceivedEvent};
use frevix_proto::marketplace::v1 as marketplace;
use prost::Message as _;
use uuid::Uuid;

use crate::Inner;
use crate::store::{self, GigRow};

pub struct Gigs {
    inner: Arc<Inner>,
}

impl Gigs {
    pub fn new(inner: Arc<Inner>) -> Self {
        Self { inner }
    }

    async fn keep(
        &self,
        txn: &Txn,
        gig: Option<marketplace::Gig>,
        status: &str,
    ) -> Result<(), HandlerError> {
        let gig = gig.ok_or_else(|| HandlerError("a gig event without its gig".into()))?;
        let parse = |text: &str| {
            Uuid::parse_str(text).map_err(|_| HandlerError(format!("bad id {text:?}")))
        };
        let id = parse(&gig.id)?;
        // Archived is for good: a late update does not put it back on sale.
        if store::find_gig(txn, id)
            .await?
            .is_some_and(|row| row.status == "ARCHIVED")
        {
            return Ok(());
        }
        store::upsert_gig(
            txn,
            GigRow {
                id,
                seller_id: parse(&gig.seller_id)?,
                status: status.to_owned(),
                body: gig.encode_to_vec(),
                updated_at: self.inner.clock.now(),
            },
        )
        .await?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl On<marketplace::GigPublished> for Gigs {
    async fn on(
        &self,
        txn: &Txn,
        event: marketplace::GigPublished,
        _: &ReceivedEvent,
    ) -> Result<(), HandlerError> {
        self.keep(txn, event.gig, "PUBLISHED").await
    }
}

#[async_trait::async_trait]
impl On<marketplace::GigUpdated> for Gigs {
    async fn on(
        &self,
        txn: &Txn,
        event: marketplace::GigUpdated,
        _: &ReceivedEvent,
    ) -> Result<(), HandlerError> {
        let published = event
            .gig
            .as_ref()
            .is_some_and(|gig| gig.status == marketplace::GigStatus::Published as i32);
        self.keep(
            txn,
            event.gig,
            if published { "PUBLISHED" } else { "PAUSED" },
        )
        .await
    }
}

#[async_trait::async_trait]
impl On<marketplace::GigArchived> for Gigs {
    async fn on(
        &self,
        txn: &Txn,
        event: marketplace::GigArchived,
        _: &ReceivedEvent,
    ) -> Result<(), HandlerError> {
        let id = Uuid::parse_str(&event.gig_id)
            .map_err(|_| HandlerError(format!("bad id {:?}", event.gig_id)))?;
        store::archive_gig(txn, id, self.inner.clock.now()).await?;
        Ok(())
    }
}
