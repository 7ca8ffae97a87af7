//! Contracts' events: the parties' conversation opens with the contract,
//! each step of it is posted there as a system message, and the party who
//! has to act is notified.

use frevix_platform::db::Txn;
use frevix_platform::events::{HandlerError, On, ReceivedEvent};
use frevix_proto::contracts::v1 as contract_events;
use frevix_proto::messaging::v1 as pb;

use super::Reactions;
use super::apply::Apply;

#[async_trait::async_trait]
impl On<contract_events::ContractCreated> for Reactions {
    async fn on(
        &self,
        txn: &Txn,
        e: contract_events::ContractCreated,
        received: &ReceivedEvent,
    ) -> Result<(), HandlerError> {
        let inner = self.inner()?;
        let mut apply = Apply::new(&inner, txn, received);
        apply.open_contract_conversation(&e).await?;
        apply
            .system(
                (
                    e.contract_id.as_str(),
                    e.client_id.as_str(),
                    e.freelancer_id.as_str(),
                ),
                "contract.created",
                format!(
                    "Contract “{}” was created. It starts once it is funded.",
                    e.title
                ),
            )
            .await?;
        self.keep(received, apply.effects);
        Ok(())
    }
}

#[async_trait::async_trait]
impl On<contract_events::MilestoneSubmitted> for Reactions {
    async fn on(
        &self,
        txn: &Txn,
        e: contract_events::MilestoneSubmitted,
        received: &ReceivedEvent,
    ) -> Result<(), HandlerError> {
        let inner = self.inner()?;
        let mut apply = Apply::new(&inner, txn, received);
        apply
            .link_to_contract(&e.contract_id, &e.freelancer_id, &e.attachment_ids)
            .await?;
        apply
            .system(
                (
                    e.contract_id.as_str(),
                    e.client_id.as_str(),
                    e.freelancer_id.as_str(),
                ),
                "milestone.submitted",
                format!("“{}” was delivered for review.", e.title),
            )
            .await?;
        apply
            .notify(
                &e.client_id,
                pb::NotificationKind::DeliverySubmitted,
                format!("“{}” was delivered", e.title),
                "Review the delivery and approve it or ask for changes.".to_owned(),
                &e.contract_id,
            )
            .await?;
        self.keep(received, apply.effects);
        Ok(())
    }
}

#[async_trait::async_trait]
impl On<contract_events::MilestoneRevisionRequested> for Reactions {
    async fn on(
        &self,
        txn: &Txn,
        e: contract_events::MilestoneRevisionRequested,
        received: &ReceivedEvent,
    ) -> Result<(), HandlerError> {
        let inner = self.inner()?;
        let mut apply = Apply::new(&inner, txn, received);
        apply
            .system(
                (
                    e.contract_id.as_str(),
                    e.client_id.as_str(),
                    e.freelancer_id.as_str(),
                ),
                "milestone.revision_requested",
                format!("Changes were requested to “{}”.", e.title),
            )
            .await?;
        apply
            .notify(
                &e.freelancer_id,
                pb::NotificationKind::RevisionRequested,
                format!("Changes requested to “{}”", e.title),
                e.reason.clone(),
                &e.contract_id,
            )
            .await?;
        self.keep(received, apply.effects);
        Ok(())
    }
}

#[async_trait::async_trait]
impl On<contract_events::MilestoneApproved> for Reactions {
    async fn on(
        &self,
        txn: &Txn,
        e: contract_events::MilestoneApproved,
        received: &ReceivedEvent,
    ) -> Result<(), HandlerError> {
        let inner = self.inner()?;
        let mut apply = Apply::new(&inner, txn, received);
        apply
            .system(
                (
                    e.contract_id.as_str(),
                    e.client_id.as_str(),
                    e.freelancer_id.as_str(),
                ),
                "milestone.approved",
                format!("“{}” was approved.", e.title),
            )
            .await?;
        apply
            .notify(
                &e.freelancer_id,
                pb::NotificationKind::DeliveryApproved,
                format!("“{}” was approved", e.title),
                "The payment is on its way.".to_owned(),
                &e.contract_id,
            )
            .await?;
        self.keep(received, apply.effects);
        Ok(())
    }
}

#[async_trait::async_trait]
impl On<contract_events::DisputeOpened> for Reactions {
    async fn on(
        &self,
        txn: &Txn,
        e: contract_events::DisputeOpened,
        received: &ReceivedEvent,
    ) -> Result<(), HandlerError> {
        let inner = self.inner()?;
        let mut apply = Apply::new(&inner, txn, received);
        apply
            .link_to_contract(&e.contract_id, &e.opened_by, &e.attachment_ids)
            .await?;
        apply
            .system(
                (
                    e.contract_id.as_str(),
                    e.client_id.as_str(),
                    e.freelancer_id.as_str(),
                ),
                "dispute.opened",
                "A dispute was opened. Frevix will look at it.".to_owned(),
            )
            .await?;
        for party in [&e.client_id, &e.freelancer_id] {
            apply
                .notify(
                    party,
                    pb::NotificationKind::DisputeOpened,
                    "A dispute was opened on your contract".to_owned(),
                    e.reason.clone(),
                    &e.contract_id,
                )
                .await?;
        }
        self.keep(received, apply.effects);
        Ok(())
    }
}

#[async_trait::async_trait]
impl On<contract_events::DisputeResolved> for Reactions {
    async fn on(
        &self,
        txn: &Txn,
        e: contract_events::DisputeResolved,
        received: &ReceivedEvent,
    ) -> Result<(), HandlerError> {
        let inner = self.inner()?;
        let mut apply = Apply::new(&inner, txn, received);
        let share = format!("{}%", f64::from(e.client_share_bps) / 100.0);
        apply
            .system(
                (
                    e.contract_id.as_str(),
                    e.client_id.as_str(),
                    e.freelancer_id.as_str(),
                ),
                "dispute.resolved",
                format!("The dispute was resolved: {share} to the client."),
            )
            .await?;
        for party in [&e.client_id, &e.freelancer_id] {
            apply
                .notify(
                    party,
                    pb::NotificationKind::DisputeResolved,
                    "Your dispute was resolved".to_owned(),
                    format!("{share} of the escrow goes back to the client."),
                    &e.contract_id,
                )
                .await?;
        }
        self.keep(received, apply.effects);
        Ok(())
    }
}

#[async_trait::async_trait]
impl On<contract_events::ReviewPublished> for Reactions {
    async fn on(
        &self,
        txn: &Txn,
        e: contract_events::ReviewPublished,
        received: &ReceivedEvent,
    ) -> Result<(), HandlerError> {
        let inner = self.inner()?;
        let mut apply = Apply::new(&inner, txn, received);
        apply
            .notify(
                &e.reviewee_id,
                pb::NotificationKind::ReviewPublished,
                format!("You got a {}-star review", e.rating),
                e.comment.clone(),
                &e.contract_id,
            )
            .await?;
        self.keep(received, apply.effects);
        Ok(())
    }
}
