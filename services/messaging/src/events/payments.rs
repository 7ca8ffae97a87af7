//! Payments' escrow events: posted in the contract's conversation and
//! notified; funding also lifts contact masking between the two parties.

use chrono::Utc;
use frevix_platform::db::Txn;
use frevix_platform::events::{HandlerError, On, ReceivedEvent};
use frevix_proto::messaging::v1 as pb;
use frevix_proto::payments::v1 as payment_events;

use super::Reactions;
use super::apply::{Apply, id, money};
use crate::store;

#[async_trait::async_trait]
impl On<payment_events::EscrowFunded> for Reactions {
    async fn on(
        &self,
        txn: &Txn,
        e: payment_events::EscrowFunded,
        received: &ReceivedEvent,
    ) -> Result<(), HandlerError> {
        let inner = self.inner()?;
        let mut apply = Apply::new(&inner, txn, received);
        store::safety::record_funded(
            apply.txn,
            id(&e.client_id)?,
            id(&e.freelancer_id)?,
            id(&e.contract_id)?,
            Utc::now(),
        )
        .await?;
        let amount = money(e.amount.as_ref());
        apply
            .system(
                (
                    e.contract_id.as_str(),
                    e.client_id.as_str(),
                    e.freelancer_id.as_str(),
                ),
                "contract.funded",
                format!("{amount} is held in escrow. Work can start."),
            )
            .await?;
        for party in [&e.client_id, &e.freelancer_id] {
            apply
                .notify(
                    party,
                    pb::NotificationKind::ContractFunded,
                    "A contract was funded".to_owned(),
                    format!("{amount} is held in escrow for your contract."),
                    &e.contract_id,
                )
                .await?;
        }
        self.keep(received, apply.effects);
        Ok(())
    }
}

#[async_trait::async_trait]
impl On<payment_events::EscrowReleased> for Reactions {
    async fn on(
        &self,
        txn: &Txn,
        e: payment_events::EscrowReleased,
        received: &ReceivedEvent,
    ) -> Result<(), HandlerError> {
        let inner = self.inner()?;
        let mut apply = Apply::new(&inner, txn, received);
        let amount = money(e.amount.as_ref());
        apply
            .system(
                (
                    e.contract_id.as_str(),
                    e.client_id.as_str(),
                    e.freelancer_id.as_str(),
                ),
                "payment.released",
                format!("{amount} was released to the freelancer."),
            )
            .await?;
        apply
            .notify(
                &e.freelancer_id,
                pb::NotificationKind::PaymentReleased,
                format!("You earned {amount}"),
                format!(
                    "Frevix's fee was {}. It goes to your payout account once it has cleared.",
                    money(e.fee.as_ref())
                ),
                &e.contract_id,
            )
            .await?;
        self.keep(received, apply.effects);
        Ok(())
    }
}

#[async_trait::async_trait]
impl On<payment_events::EscrowRefunded> for Reactions {
    async fn on(
        &self,
        txn: &Txn,
        e: payment_events::EscrowRefunded,
        received: &ReceivedEvent,
    ) -> Result<(), HandlerError> {
        let inner = self.inner()?;
        let mut apply = Apply::new(&inner, txn, received);
        let amount = money(e.amount.as_ref());
        apply
            .system(
                (
                    e.contract_id.as_str(),
                    e.client_id.as_str(),
                    e.freelancer_id.as_str(),
                ),
                "payment.refunded",
                format!("{amount} was refunded to the client."),
            )
            .await?;
        apply
            .notify(
                &e.client_id,
                pb::NotificationKind::RefundIssued,
                format!("{amount} was refunded to you"),
                "It reaches your card or account within a few days.".to_owned(),
                &e.contract_id,
            )
            .await?;
        self.keep(received, apply.effects);
        Ok(())
    }
}
