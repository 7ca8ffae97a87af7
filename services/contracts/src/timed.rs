//! What happens when a contract's clock runs out, one timer kind each:
//! - the review window: a delivery nobody answered in time is approved, as
//!   if the client had, with `automatic` set on the event;
//! - a cancellation request's answer window: the request is accepted;
//! - a dispute's escalation: it is marked as waiting too long;
//! - a gig order's due time: unless its delivery was approved, it is
//!   marked late (and shows under the LATE tab while the seller owes it);
//! - a contract's review window: the reviews written are published;
//! - an hourly contract's week: it closes into an invoice;
//! - an invoice's review window: it is approved for charging.
//!
//! The step that makes a timer pointless cancels it in its own
//! transaction; if the contract moved on anyway, firing changes nothing.

use std::sync::Arc;

use frevix_platform::db::Txn;
use frevix_platform::events::HandlerError;
use frevix_platform::timers::{OnTimer, Timer};
use uuid::Uuid;

use crate::Inner;
use crate::domain::hourly::InvoiceStatus;
use crate::domain::{
    CancellationId, CancellationStatus, ContractId, ContractStatus, DisputeId, MilestoneCommand,
    MilestoneId, MilestoneStatus,
};
use crate::ending::{self, AUTO_ACCEPT, ESCALATE};
use crate::error::ContractsError;
use crate::hourly::{self, INVOICE_REVIEW, WEEK_CLOSE};
use crate::reviewing::REVIEWS_CLOSE;
use crate::steps::{self, AUTO_APPROVE, Note, ORDER_LATE};
use crate::store;

pub struct Clocks {
    pub inner: Arc<Inner>,
}

fn parse(text: &str) -> Result<Uuid, HandlerError> {
    Uuid::parse_str(text).map_err(|_| HandlerError(format!("bad id in timer: {text:?}")))
}

#[async_trait::async_trait]
impl OnTimer for Clocks {
    async fn fire(&self, txn: &Txn, timer: &Timer) -> Result<(), HandlerError> {
        let contract_id = ContractId(parse(&timer.payload)?);
        let Some(contract) = store::lock_contract(txn, contract_id).await? else {
            return Ok(());
        };
        let result = match timer.kind.as_str() {
            AUTO_APPROVE => self.auto_approve(txn, &contract, timer).await,
            AUTO_ACCEPT => self.auto_accept(txn, &contract, timer).await,
            ESCALATE => self.escalate(txn, &contract, timer).await,
            ORDER_LATE => self.late(txn, &contract).await,
            REVIEWS_CLOSE => crate::reviewing::publish(&self.inner, txn, contract_id).await,
            WEEK_CLOSE => hourly::on_week_timer(&self.inner, txn, &contract, timer.due_at).await,
            INVOICE_REVIEW => self.invoice_review(txn, &contract, timer).await,
            other => {
                tracing::warn!(kind = other, "a timer of a kind contracts does not know");
                Ok(())
            }
        };
        result.map_err(|error| HandlerError(error.to_string()))
    }
}

impl Clocks {
    async fn auto_approve(
        &self,
        txn: &Txn,
        contract: &store::ContractRow,
        timer: &Timer,
    ) -> crate::error::Result<()> {
        let contract_id = ContractId(contract.id);
        let milestone_id = MilestoneId(parse(&timer.subject).map_err(internal)?);
        // A request or a dispute waiting holds the clock (it should have
        // been cancelled with it).
        let request_open = store::latest_cancellation(txn, contract_id)
            .await?
            .is_some_and(|r| r.status == CancellationStatus::Open.as_str());
        if contract.status != ContractStatus::Active.as_str() || request_open {
            return Ok(());
        }
        let Some(milestone) = store::find_milestone(txn, contract_id, milestone_id).await? else {
            return Ok(());
        };
        let note = Note {
            automatic: true,
            ..Note::default()
        };
        match steps::apply(
            &self.inner,
            txn,
            contract,
            &milestone,
            MilestoneCommand::Approve,
            &note,
        )
        .await
        {
            Ok(_) => Ok(()),
            Err(ContractsError::Milestone(refusal)) if steps::is_stale(refusal) => Ok(()),
            Err(error) => Err(error),
        }
    }

    async fn auto_accept(
        &self,
        txn: &Txn,
        contract: &store::ContractRow,
        timer: &Timer,
    ) -> crate::error::Result<()> {
        let id = CancellationId(parse(&timer.subject).map_err(internal)?);
        let Some(request) = store::find_cancellation(txn, id).await? else {
            return Ok(());
        };
        if request.status != CancellationStatus::Open.as_str() {
            return Ok(());
        }
        ending::accept(&self.inner, txn, contract, &request, None).await
    }

    async fn escalate(
        &self,
        txn: &Txn,
        contract: &store::ContractRow,
        timer: &Timer,
    ) -> crate::error::Result<()> {
        let id = DisputeId(parse(&timer.subject).map_err(internal)?);
        let now = self.inner.clock.now();
        if store::escalate_dispute(txn, id, now).await? {
            store::add_timeline(
                txn,
                ContractId(contract.id),
                now,
                None,
                "DISPUTE_ESCALATED",
                None,
                "The dispute has waited too long and was escalated".to_owned(),
            )
            .await?;
        }
        Ok(())
    }
}

impl Clocks {
    async fn invoice_review(
        &self,
        txn: &Txn,
        contract: &store::ContractRow,
        timer: &Timer,
    ) -> crate::error::Result<()> {
        let id = parse(&timer.subject).map_err(internal)?;
        let Some(invoice) = store::find_invoice(txn, ContractId(contract.id), id).await? else {
            return Ok(());
        };
        if invoice.status == InvoiceStatus::PendingReview.as_str() {
            hourly::approve(&self.inner, txn, contract, &invoice, None).await?;
        }
        Ok(())
    }

    async fn late(&self, txn: &Txn, contract: &store::ContractRow) -> crate::error::Result<()> {
        let id = ContractId(contract.id);
        let now = self.inner.clock.now();
        let Some(order) = store::find_order(txn, id).await? else {
            return Ok(());
        };
        // Moved by an extension in a transaction this timer did not see.
        if order.due_at.is_none_or(|due| due > now) {
            return Ok(());
        }
        let awaiting = store::milestones_of(txn, &[id]).await?.iter().any(|m| {
            MilestoneStatus::parse(&m.status)
                .is_some_and(|s| s.is_in_progress() || s == MilestoneStatus::Pending)
        });
        let Some(status) = ContractStatus::parse(&contract.status) else {
            return Ok(());
        };
        if !awaiting || status.is_ended() || !store::mark_late(txn, id, now).await? {
            return Ok(());
        }
        store::add_timeline(
            txn,
            id,
            now,
            None,
            "ORDER_LATE",
            None,
            "The order is late: its due time passed before the delivery was approved".to_owned(),
        )
        .await?;
        store::refresh_stage(txn, id, status).await?;
        Ok(())
    }
}

fn internal(error: HandlerError) -> ContractsError {
    frevix_platform::error::ApiError::internal(error.0).into()
}
