//! Changes to a contract's terms in the parties' conversation: a milestone
//! added, an hourly week approved for charging, a pause and its end. Each
//! posts a system message once and notifies the party it concerns.

use frevix_platform::db::Txn;
use frevix_platform::events::{HandlerError, On, ReceivedEvent};
use frevix_proto::contracts::v1 as contract_events;
use frevix_proto::messaging::v1 as pb;

use super::Reactions;
use super::posting::Post;

#[async_trait::async_trait]
impl On<contract_events::MilestoneAdded> for Reactions {
    async fn on(
        &self,
        txn: &Txn,
        e: contract_events::MilestoneAdded,
        received: &ReceivedEvent,
    ) -> Result<(), HandlerError> {
        let title = e
            .milestone
            .as_ref()
            .map(|m| m.title.clone())
            .unwrap_or_default();
        let post = Post {
            parties: (&e.contract_id, &e.client_id, &e.freelancer_id),
            code: "milestone.added",
            text: format!("“{title}” was added to the contract. Fund it to start."),
            notify: &[&e.client_id],
            kind: pb::NotificationKind::MilestoneAdded,
            title: format!("“{title}” was accepted"),
            body: String::new(),
        };
        self.post(txn, received, post).await
    }
}

#[async_trait::async_trait]
impl On<contract_events::HourlyInvoiceApproved> for Reactions {
    async fn on(
        &self,
        txn: &Txn,
        e: contract_events::HourlyInvoiceApproved,
        received: &ReceivedEvent,
    ) -> Result<(), HandlerError> {
        let hours = format!("{}h{:02}", e.minutes / 60, e.minutes % 60);
        let post = Post {
            parties: (&e.contract_id, &e.client_id, &e.freelancer_id),
            code: "invoice.approved",
            text: format!(
                "The week of {} ({hours}) was approved for payment.",
                e.week_start
            ),
            notify: &[&e.freelancer_id],
            kind: pb::NotificationKind::InvoiceApproved,
            title: format!("The week of {} was approved", e.week_start),
            body: String::new(),
        };
        self.post(txn, received, post).await
    }
}

#[async_trait::async_trait]
impl On<contract_events::ContractPaused> for Reactions {
    async fn on(
        &self,
        txn: &Txn,
        e: contract_events::ContractPaused,
        received: &ReceivedEvent,
    ) -> Result<(), HandlerError> {
        let why = if e.reason == contract_events::PauseReason::PaymentFailed as i32 {
            "The contract was paused: the client's payment failed. Time cannot be logged until it resumes."
        } else {
            "The client paused the contract. Time cannot be logged until it resumes."
        };
        let post = Post {
            parties: (&e.contract_id, &e.client_id, &e.freelancer_id),
            code: "contract.paused",
            text: why.to_owned(),
            notify: &[&e.freelancer_id],
            kind: pb::NotificationKind::ContractPaused,
            title: "A contract was paused".to_owned(),
            body: String::new(),
        };
        self.post(txn, received, post).await
    }
}

#[async_trait::async_trait]
impl On<contract_events::ContractResumed> for Reactions {
    async fn on(
        &self,
        txn: &Txn,
        e: contract_events::ContractResumed,
        received: &ReceivedEvent,
    ) -> Result<(), HandlerError> {
        let post = Post {
            parties: (&e.contract_id, &e.client_id, &e.freelancer_id),
            code: "contract.resumed",
            text: "The contract was resumed: time can be logged again.".to_owned(),
            notify: &[&e.freelancer_id],
            kind: pb::NotificationKind::ContractResumed,
            title: "A contract was resumed".to_owned(),
            body: String::new(),
        };
        self.post(txn, received, post).await
    }
}
