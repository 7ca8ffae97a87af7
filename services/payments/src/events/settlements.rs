//! When escrow leaves: an approved milestone is released; a cancelled
//! contract or a resolved dispute divides what each milestone holds (never
//! both for one milestone: whichever comes first empties the escrow, and
//! the other finds nothing to move).

use std::sync::Arc;

use frevix_platform::db::Txn;
use frevix_platform::events::{HandlerError, On, ReceivedEvent};
use frevix_proto::contracts::v1 as contracts;
use uuid::Uuid;

use crate::Inner;
use crate::escrow;
use crate::store::terms::{self as store, ContractRow};

pub struct Settlements {
    inner: Arc<Inner>,
}

impl Settlements {
    pub fn new(inner: Arc<Inner>) -> Self {
        Self { inner }
    }

    async fn contract(&self, txn: &Txn, id: &str) -> Result<Option<ContractRow>, HandlerError> {
        let Ok(id) = Uuid::parse_str(id) else {
            tracing::warn!(id, "contracts' event names no contract");
            return Ok(None);
        };
        let contract = store::find_contract(txn, id).await?;
        if contract.is_none() {
            tracing::warn!(%id, "contracts' event about a contract not known here");
        }
        Ok(contract)
    }

    /// Ends the contract (no more funding) and divides its escrow.
    async fn end(
        &self,
        txn: &Txn,
        contract_id: &str,
        settlements: &[contracts::MilestoneSettlement],
    ) -> Result<(), HandlerError> {
        let Some(contract) = self.contract(txn, contract_id).await? else {
            return Ok(());
        };
        store::end_contract(txn, contract.id, self.inner.clock.now()).await?;
        escrow::settle(&self.inner, txn, &contract, settlements).await
    }
}

#[async_trait::async_trait]
impl On<contracts::MilestoneApproved> for Settlements {
    async fn on(
        &self,
        txn: &Txn,
        event: contracts::MilestoneApproved,
        _: &ReceivedEvent,
    ) -> Result<(), HandlerError> {
        let Some(contract) = self.contract(txn, &event.contract_id).await? else {
            return Ok(());
        };
        let Ok(milestone) = Uuid::parse_str(&event.milestone_id) else {
            tracing::warn!(
                id = event.milestone_id,
                "MilestoneApproved names no milestone"
            );
            return Ok(());
        };
        escrow::release(
            &self.inner,
            txn,
            &contract,
            escrow::Held::Milestone(milestone),
        )
        .await
    }
}

#[async_trait::async_trait]
impl On<contracts::ContractCancelled> for Settlements {
    async fn on(
        &self,
        txn: &Txn,
        event: contracts::ContractCancelled,
        _: &ReceivedEvent,
    ) -> Result<(), HandlerError> {
        self.end(txn, &event.contract_id, &event.settlements).await
    }
}

#[async_trait::async_trait]
impl On<contracts::DisputeResolved> for Settlements {
    async fn on(
        &self,
        txn: &Txn,
        event: contracts::DisputeResolved,
        _: &ReceivedEvent,
    ) -> Result<(), HandlerError> {
        self.end(txn, &event.contract_id, &event.settlements).await
    }
}
