//! What messaging does with everyone's events, one consumer per file:
//! - [`accounts`]: identity's account events keep the accounts read model
//!   (names and addresses for notification mail);
//! - [`contracts`]: ContractCreated opens the parties' contract
//!   conversation; milestones and disputes post a system message in it and
//!   notify the party concerned; ReviewPublished notifies;
//! - [`contract_endings`]: cancellation requests, cancellations and
//!   completions post and notify;
//! - [`contract_terms`]: added milestones, approved hourly weeks, pauses and
//!   resumptions post and notify;
//! - [`payments`]: escrow events post and notify; EscrowFunded also lifts
//!   contact masking between the two;
//! - [`marketplace`]: proposal events notify; published gigs and profiles
//!   make their media public;
//! - [`digests`]: messaging's own MessageSent notifies offline recipients
//!   (at most once per conversation an hour, mailed as a digest).
//!
//! Everything is written in the consumer's transaction ([`apply::Apply`]);
//! what live streams should hear is kept until the commit and published
//! then.

mod accounts;
mod apply;
mod contract_endings;
mod contract_terms;
mod contracts;
mod digests;
mod marketplace;
mod payments;
mod posting;

use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use frevix_platform::events::{
    AfterCommit, Background, BusError, EventBus, HandlerError, Handlers, ReceivedEvent,
};
use frevix_proto::contracts::v1 as contract_events;
use frevix_proto::identity::v1 as identity_events;
use frevix_proto::marketplace::v1 as marketplace_events;
use frevix_proto::messaging::v1 as pb;
use frevix_proto::payments::v1 as payment_events;
use uuid::Uuid;

use crate::Inner;
use apply::Effects;

pub async fn consume(bus: &EventBus, inner: &Arc<Inner>) -> Result<Vec<Background>, BusError> {
    let reactions = Reactions {
        inner: Arc::downgrade(inner),
        pending: Arc::new(Mutex::new(HashMap::new())),
    };
    let db = inner.db.clone();
    Ok(vec![
        Handlers::new("messaging-identity", "identity", reactions.clone())
            .on::<identity_events::UserRegistered>()
            .on::<identity_events::AccountUpdated>()
            .after_commit()
            .start(bus, db.clone())
            .await?,
        Handlers::new("messaging-contracts", "contracts", reactions.clone())
            .on::<contract_events::ContractCreated>()
            .on::<contract_events::MilestoneSubmitted>()
            .on::<contract_events::MilestoneRevisionRequested>()
            .on::<contract_events::MilestoneApproved>()
            .on::<contract_events::DisputeOpened>()
            .on::<contract_events::DisputeResolved>()
            .on::<contract_events::ReviewPublished>()
            .on::<contract_events::CancellationRequested>()
            .on::<contract_events::ContractCancelled>()
            .on::<contract_events::ContractCompleted>()
            .on::<contract_events::MilestoneAdded>()
            .on::<contract_events::HourlyInvoiceApproved>()
            .on::<contract_events::ContractPaused>()
            .on::<contract_events::ContractResumed>()
            .after_commit()
            .start(bus, db.clone())
            .await?,
        Handlers::new("messaging-payments", "payments", reactions.clone())
            .on::<payment_events::EscrowFunded>()
            .on::<payment_events::EscrowReleased>()
            .on::<payment_events::EscrowRefunded>()
            .after_commit()
            .start(bus, db.clone())
            .await?,
        Handlers::new("messaging-marketplace", "marketplace", reactions.clone())
            .on::<marketplace_events::ProposalSubmitted>()
            .on::<marketplace_events::ProposalAccepted>()
            .on::<marketplace_events::GigPublished>()
            .on::<marketplace_events::GigUpdated>()
            .on::<marketplace_events::FreelancerProfileUpdated>()
            .after_commit()
            .start(bus, db.clone())
            .await?,
        Handlers::new("messaging-digests", "messaging", reactions)
            .on::<pb::MessageSent>()
            // A digest is recorded with the notification it sends and at
            // most one goes out per conversation an hour, so a second
            // delivery of a MessageSent finds it and sends nothing: no inbox
            // row (and no WAL flush) for every message sent.
            .with_spec(|spec| spec.inbox = false)
            .after_commit()
            .start(bus, db)
            .await?,
    ])
}

/// Every consumer's handlers share this: messaging, and the effects of
/// applied events waiting for their commit.
#[derive(Clone)]
struct Reactions {
    inner: Weak<Inner>,
    /// Effects by event id, waiting for the commit.
    pending: Arc<Mutex<HashMap<Uuid, Effects>>>,
}

impl Reactions {
    /// Messaging, unless it is shutting down (then the event is retried later).
    fn inner(&self) -> Result<Arc<Inner>, HandlerError> {
        self.inner
            .upgrade()
            .ok_or_else(|| HandlerError("messaging is shutting down".to_owned()))
    }

    /// Keeps `effects` until `received`'s transaction commits.
    fn keep(&self, received: &ReceivedEvent, effects: Effects) {
        if let Ok(mut pending) = self.pending.lock() {
            // Bounded: effects of events whose transaction never committed
            // (dead letters) must not pile up.
            if pending.len() > 10_000 {
                pending.clear();
            }
            pending.insert(received.id, effects);
        }
    }
}

#[async_trait::async_trait]
impl AfterCommit for Reactions {
    async fn committed(&self, event: &ReceivedEvent) {
        let effects = self
            .pending
            .lock()
            .ok()
            .and_then(|mut pending| pending.remove(&event.id));
        let (Some(effects), Some(inner)) = (effects, self.inner.upgrade()) else {
            return;
        };
        for (accounts, live) in effects.live {
            inner.hub.publish(&accounts, live).await;
        }
        inner.notifier.committed(&inner.hub, &effects.notes).await;
    }
}
