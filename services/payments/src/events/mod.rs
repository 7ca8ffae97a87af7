//! What payments learns from contracts: the terms it charges by
//! (`terms`), and when escrow is released or divided (`settlements`).

mod settlements;
mod terms;

use std::sync::Arc;

use frevix_platform::events::{Background, BusError, EventBus, Handlers};
use frevix_proto::contracts::v1 as contracts;

use crate::Inner;

pub async fn consume(bus: &EventBus, inner: &Arc<Inner>) -> Result<Vec<Background>, BusError> {
    Ok(vec![
        Handlers::new(
            "payments-terms",
            "contracts",
            terms::Terms::new(inner.clone()),
        )
        .on::<contracts::ContractCreated>()
        .on::<contracts::MilestoneAdded>()
        .on::<contracts::HourlyInvoiceApproved>()
        .start(bus, inner.db.clone())
        .await?,
        Handlers::new(
            "payments-settlements",
            "contracts",
            settlements::Settlements::new(inner.clone()),
        )
        .on::<contracts::MilestoneApproved>()
        .on::<contracts::ContractCancelled>()
        .on::<contracts::DisputeResolved>()
        .start(bus, inner.db.clone())
        .await?,
    ])
}
