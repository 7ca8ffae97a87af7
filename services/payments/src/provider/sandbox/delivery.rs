//! The sandbox's webhooks: its queued events go into payments' inbox, each
//! until it is taken (recorded there), at once when one is queued and every
//! second for what failed, as Stripe retries a webhook until it gets a 2xx.
//! The inbox ignores an event id it has, so a delivery repeated after a
//! crash changes nothing.

use std::sync::Arc;
use std::time::Duration;

use frevix_platform::clock::Clock;
use frevix_platform::db::Txn;
use frevix_platform::events::Background;
use frevix_platform::timers::Timers;
use sea_orm::sea_query::Expr;
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder, QuerySelect,
};
use tokio::sync::{Notify, watch};

use super::entities::sandbox_events;
use crate::provider::ProviderEvent;
use crate::store::inbox;

const BATCH: u64 = 100;
const RETRY: Duration = Duration::from_secs(1);

pub struct Delivery {
    sandbox: DatabaseConnection,
    payments: DatabaseConnection,
    timers: Timers,
    clock: Clock,
    wake: Arc<Notify>,
}

impl Delivery {
    pub(super) fn new(
        sandbox: DatabaseConnection,
        payments: DatabaseConnection,
        timers: Timers,
        clock: Clock,
        wake: Arc<Notify>,
    ) -> Self {
        Self {
            sandbox,
            payments,
            timers,
            clock,
            wake,
        }
    }

    pub fn spawn(self) -> Background {
        Background::spawn(move |stop| self.run(stop))
    }

    async fn run(self, mut stop: watch::Receiver<bool>) {
        loop {
            if *stop.borrow() {
                return;
            }
            let pause = match self.deliver().await {
                Ok(delivered) if delivered >= BATCH => continue,
                Ok(_) => RETRY,
                Err(error) => {
                    tracing::warn!(%error, "sandbox events not delivered; retrying");
                    RETRY
                }
            };
            tokio::select! {
                () = self.wake.notified() => {}
                () = tokio::time::sleep(pause) => {}
                _ = stop.changed() => {}
            }
        }
    }

    /// Delivers what is queued, oldest first; answers how many.
    async fn deliver(&self) -> Result<u64, DbErr> {
        let queued = sandbox_events::Entity::find()
            .filter(sandbox_events::Column::DeliveredAt.is_null())
            .order_by_asc(sandbox_events::Column::CreatedAt)
            .order_by_asc(sandbox_events::Column::Id)
            .limit(BATCH)
            .all(&self.sandbox)
            .await?;
        let mut delivered = 0;
        for event in queued {
            let body: ProviderEvent = serde_json::from_str(&event.body)
                .map_err(|e| DbErr::Custom(format!("sandbox event {}: {e}", event.id)))?;
            let txn = Txn::begin(&self.payments).await?;
            inbox::record(&txn, &self.timers, &event.id, &body, self.clock.now()).await?;
            txn.commit().await?;
            crate::crash::point(crate::crash::AFTER_RECORD);
            sandbox_events::Entity::update_many()
                .col_expr(
                    sandbox_events::Column::DeliveredAt,
                    Expr::value(Some(self.clock.now())),
                )
                .filter(sandbox_events::Column::Id.eq(&event.id))
                .exec(&self.sandbox)
                .await?;
            delivered += 1;
        }
        Ok(delivered)
    }
}
