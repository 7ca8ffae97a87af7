//! Contracts' endings in the parties' conversation: a cancellation request
//! (the other party is asked to answer), a cancellation, a completion (both
//! are invited to review). Each posts a system message once and notifies.

use frevix_platform::db::Txn;
use frevix_platform::events::{HandlerError, On, ReceivedEvent};
use frevix_proto::contracts::v1 as contract_events;
use frevix_proto::messaging::v1 as pb;

use super::Reactions;
use super::posting::Post;

#[async_trait::async_trait]
impl On<contract_events::CancellationRequested> for Reactions {
    async fn on(
        &self,
        txn: &Txn,
        e: contract_events::CancellationRequested,
        received: &ReceivedEvent,
    ) -> Result<(), HandlerError> {
        let other = if e.requested_by == e.client_id {
            &e.freelancer_id
        } else {
            &e.client_id
        };
        let post = Post {
            parties: (&e.contract_id, &e.client_id, &e.freelancer_id),
            code: "cancellation.requested",
            text: format!("A cancellation was requested: {}", e.reason),
            notify: &[other],
            kind: pb::NotificationKind::CancellationRequested,
            title: "You are asked to cancel a contract".to_owned(),
            body: format!(
                "{} Accept or decline before the request is accepted for you.",
                e.reason
            ),
        };
        self.post(txn, received, post).await
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
        let post = Post {
            parties: (&e.contract_id, &e.client_id, &e.freelancer_id),
            code: "contract.cancelled",
            text: "The contract was cancelled.".to_owned(),
            notify: &[&e.client_id, &e.freelancer_id],
            kind: pb::NotificationKind::ContractCancelled,
            title: "A contract was cancelled".to_owned(),
            body: "What was in escrow is divided as agreed.".to_owned(),
        };
        self.post(txn, received, post).await
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
        let post = Post {
            parties: (&e.contract_id, &e.client_id, &e.freelancer_id),
            code: "contract.completed",
            text: "The contract is complete. You can now review each other.".to_owned(),
            notify: &[&e.client_id, &e.freelancer_id],
            kind: pb::NotificationKind::ContractCompleted,
            title: "A contract is complete".to_owned(),
            body: "Tell others how it went: you have 14 days to review.".to_owned(),
        };
        self.post(txn, received, post).await
    }
}
