//! Payments' escrow events move milestones: funded (the contract becomes
//! active), released (completed once every milestone is), refunded; a
//! failed charge pauses an hourly contract. An
//! event that no longer applies (a repeat under a new id, one overtaken by
//! a later step) changes nothing and is logged.

use std::sync::Arc;

use frevix_platform::db::Txn;
use frevix_platform::events::{HandlerError, On, ReceivedEvent};
use frevix_proto::common::v1 as common;
use frevix_proto::payments::v1 as payments;
use uuid::Uuid;

use crate::Inner;
use crate::domain::hourly::InvoiceStatus;
use crate::domain::{ContractId, MilestoneCommand, MilestoneId};
use crate::error::ContractsError;
use crate::steps::{self, Note};
use crate::store;
use frevix_proto::contracts::v1 as pb;

pub struct Escrow {
    inner: Arc<Inner>,
}

impl Escrow {
    pub fn new(inner: Arc<Inner>) -> Self {
        Self { inner }
    }

    async fn step(
        &self,
        txn: &Txn,
        contract: &str,
        milestone: &str,
        amount: Option<&common::Money>,
        command: impl FnOnce(i64) -> MilestoneCommand,
    ) -> Result<(), HandlerError> {
        let parse = |text: &str| {
            Uuid::parse_str(text).map_err(|_| HandlerError(format!("bad id {text:?}")))
        };
        let contract_id = ContractId(parse(contract)?);
        let milestone_id = MilestoneId(parse(milestone)?);
        let Some(contract) = store::lock_contract(txn, contract_id).await? else {
            tracing::warn!(%contract_id, "escrow event for a contract not known here");
            return Ok(());
        };
        let Some(milestone) = store::find_milestone(txn, contract_id, milestone_id).await? else {
            tracing::warn!(%contract_id, %milestone_id, "escrow event for a milestone not known here");
            return Ok(());
        };
        let Some(amount) = amount.filter(|a| a.currency_code == contract.currency) else {
            return Err(HandlerError(format!(
                "escrow event for {contract_id} not in the contract's currency"
            )));
        };
        let command = command(amount.minor_units);
        match steps::apply(
            &self.inner,
            txn,
            &contract,
            &milestone,
            command,
            &Note::default(),
        )
        .await
        {
            Ok(_) => Ok(()),
            Err(ContractsError::Milestone(refusal)) if steps::is_stale(refusal) => {
                tracing::info!(%contract_id, %milestone_id, ?command, %refusal, "escrow event changes nothing");
                Ok(())
            }
            Err(error) => Err(HandlerError(error.to_string())),
        }
    }
}

#[async_trait::async_trait]
impl On<payments::EscrowFunded> for Escrow {
    async fn on(
        &self,
        txn: &Txn,
        event: payments::EscrowFunded,
        _: &ReceivedEvent,
    ) -> Result<(), HandlerError> {
        if !event.invoice_id.is_empty() {
            // An hourly week charged: nothing on a milestone moves.
            return Ok(());
        }
        self.step(
            txn,
            &event.contract_id,
            &event.milestone_id,
            event.amount.as_ref(),
            |amount| MilestoneCommand::Fund { amount },
        )
        .await
    }
}

#[async_trait::async_trait]
impl On<payments::EscrowReleased> for Escrow {
    async fn on(
        &self,
        txn: &Txn,
        event: payments::EscrowReleased,
        _: &ReceivedEvent,
    ) -> Result<(), HandlerError> {
        if !event.invoice_id.is_empty() {
            return Ok(());
        }
        // What left escrow: the freelancer's share and the platform's fee.
        let fee = event.fee.as_ref().map_or(0, |fee| fee.minor_units);
        let gross = event.amount.as_ref().map(|amount| common::Money {
            currency_code: amount.currency_code.clone(),
            minor_units: amount.minor_units + fee,
        });
        self.step(
            txn,
            &event.contract_id,
            &event.milestone_id,
            gross.as_ref(),
            |amount| MilestoneCommand::Release { amount },
        )
        .await
    }
}

#[async_trait::async_trait]
impl On<payments::EscrowRefunded> for Escrow {
    async fn on(
        &self,
        txn: &Txn,
        event: payments::EscrowRefunded,
        _: &ReceivedEvent,
    ) -> Result<(), HandlerError> {
        self.step(
            txn,
            &event.contract_id,
            &event.milestone_id,
            event.amount.as_ref(),
            |amount| MilestoneCommand::Refund { amount },
        )
        .await
    }
}

/// A failed charge: an hourly invoice's pauses its contract (the client
/// resumes it once their payment method works); a milestone's funding
/// failure is put on the timeline for both parties to see.
#[async_trait::async_trait]
impl On<payments::PaymentFailed> for Escrow {
    async fn on(
        &self,
        txn: &Txn,
        event: payments::PaymentFailed,
        _: &ReceivedEvent,
    ) -> Result<(), HandlerError> {
        let parse = |text: &str| {
            Uuid::parse_str(text).map_err(|_| HandlerError(format!("bad id {text:?}")))
        };
        let contract_id = ContractId(parse(&event.contract_id)?);
        let Some(contract) = store::lock_contract(txn, contract_id).await? else {
            tracing::warn!(%contract_id, "payment failure for a contract not known here");
            return Ok(());
        };
        let failed = |error: ContractsError| HandlerError(error.to_string());
        let now = self.inner.clock.now();
        if !event.invoice_id.is_empty() {
            let invoice = parse(&event.invoice_id)?;
            let change = store::InvoiceChange {
                to: InvoiceStatus::PaymentFailed,
                review_until: None,
                approved_at: None,
                dispute_reason: None,
                minutes_and_amount: None,
            };
            if store::change_invoice(txn, invoice, &[InvoiceStatus::Approved], change).await? {
                crate::hourly::set_paused(
                    &self.inner,
                    txn,
                    &contract,
                    Some(pb::PauseReason::PaymentFailed),
                    None,
                )
                .await
                .map_err(failed)?;
            }
            return Ok(());
        }
        let milestone = Uuid::parse_str(&event.milestone_id).ok().map(MilestoneId);
        store::add_timeline(
            txn,
            contract_id,
            now,
            None,
            "PAYMENT_FAILED",
            milestone,
            format!("Funding failed: {}", event.reason),
        )
        .await?;
        Ok(())
    }
}
