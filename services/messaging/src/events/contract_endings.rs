//! Contracts' endings in the parties' conversation: a cancellation request
//! (the other party is asked to answer), a cancellation, a completion (both
//! are invited to review). Each posts a system message once and notifies.

use frevix_platform::db::Txn;
use frevix_platform::events::{HandlerError, On, ReceivedEvent};
use frevix_proto::contracts::v1 as contract_events;
use frevix_proto::messaging::v1 as pb;

use super::Reactions;
use super::apply::Apply;

#[async_trait::async_trait]
impl On<contract_events::CancellationRequested> for Reactions {
    async fn on(
        &self,
        txn: &Txn,
        e: contract_events::CancellationRequested,
        received: &ReceivedEvent,
    ) -> Result<(), HandlerError> {
        let inner = self.inner()?;
        let mut apply = Apply::new(&inner, txn, received);
        let parties = (
            e.contract_id.as_str(),
            e.client_id.as_str(),
            e.freelancer_id.as_str(),
        );
        apply
            .system(
                parties,
                "cancellation.requested",
                format!("A cancellation was requested: {}", e.reason),
            )
            .await?;
        let other = if e.requested_by == e.client_id {
            &e.freelancer_id
        } else {
            &e.client_id
        };
        apply
            .notify(
                other,
                pb::NotificationKind::CancellationRequested,
                "You are asked to cancel a contract".to_owned(),
                format!(
                    "{} Accept or decline before the request is accepted for you.",
                    e.reason
                ),
                &e.contract_id,
            )
            .await?;
        self.keep(received, apply.effects);
        Ok(())
    }
}

#[async_trait::async_trait]
impl On<contract_events::ContractCancelled> for Reactions {
    async fn on(
        &self,
        txn: &Txn,
        e: contract_events::ContractCancelled,
        received: &ReceivedEvent,
    ) -> Result<(), HandlerError> {
        let inner = self.inner()?;
        let mut apply = Apply::new(&inner, txn, received);
        let parties = (
            e.contract_id.as_str(),
            e.client_id.as_str(),
            e.freelancer_id.as_str(),
        );
        apply
            .system(
                parties,
                "contract.cancelled",
                "The contract was cancelled.".to_owned(),
            )
            .await?;
        for party in [&e.client_id, &e.freelancer_id] {
            apply
                .notify(
                    party,
                    pb::NotificationKind::ContractCancelled,
                    "A contract was cancelled".to_owned(),
                    "What was in escrow is divided as agreed.".to_owned(),
                    &e.contract_id,
                )
                .await?;
        }
        self.keep(received, apply.effects);
        Ok(())
    }
}

#[async_trait::async_trait]
impl On<contract_events::ContractCompleted> for Reactions {
    async fn on(
        &self,
        txn: &Txn,
        e: contract_events::ContractCompleted,
        received: &ReceivedEvent,
    ) -> Result<(), HandlerError> {
        let inner = self.inner()?;
        let mut apply = Apply::new(&inner, txn, received);
        let parties = (
            e.contract_id.as_str(),
            e.client_id.as_str(),
            e.freelancer_id.as_str(),
        );
        apply
            .system(
                parties,
                "contract.completed",
                "The contract is complete. You can now review each other.".to_owned(),
            )
            .await?;
        for party in [&e.client_id, &e.freelancer_id] {
            apply
                .notify(
                    party,
                    pb::NotificationKind::ContractCompleted,
                    "A contract is complete".to_owned(),
                    "Tell others how it went: you have 14 days to review.".to_owned(),
                    &e.contract_id,
                )
                .await?;
        }
        self.keep(received, apply.effects);
        Ok(())
    }
}
