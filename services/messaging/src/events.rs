//! What messaging does with everyone's events:
//! - identity's account events keep the accounts read model (names and
//!   addresses for notification mail);
//! - ContractCreated opens the parties' contract conversation;
//! - contract and payment milestones post a system message in it and
//!   notify the party concerned; EscrowFunded also lifts contact masking
//!   between the two;
//! - marketplace's proposal events and ReviewPublished notify;
//! - messaging's own MessageSent notifies offline recipients (at most once
//!   per conversation an hour, mailed as a digest).
//!
//! Everything is written in the consumer's transaction; what live streams
//! should hear is kept until the commit and published then.

use frevix_platform::db::Txn;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, Weak};

use chrono::Utc;
use frevix_platform::db::is_unique_violation;
use frevix_platform::events::{
    Background, BusError, ConsumerSpec, EventBus, EventHandler, HandlerError, ReceivedEvent,
};
use frevix_platform::money::{Currency, Money};
use frevix_proto::common::v1 as common;
use frevix_proto::contracts::v1 as contracts;
use frevix_proto::identity::v1 as identity;
use frevix_proto::marketplace::v1 as marketplace;
use frevix_proto::messaging::v1 as pb;
use frevix_proto::payments::v1 as payments;
use prost::Name;
use uuid::Uuid;

use crate::Inner;
use crate::convert;
use crate::hub::Live;
use crate::notify::Draft;
use crate::store::{self, MessageRow, NewConversation, notes::NotificationRow};

/// The consumer of messaging's own MessageSent.
const DIGESTS: &str = "messaging-digests";

pub async fn consume(bus: &EventBus, inner: &Arc<Inner>) -> Result<Vec<Background>, BusError> {
    let specs = [
        (
            "messaging-identity",
            "identity",
            vec![
                identity::UserRegistered::full_name(),
                identity::AccountUpdated::full_name(),
            ],
        ),
        (
            "messaging-contracts",
            "contracts",
            vec![
                contracts::ContractCreated::full_name(),
                contracts::MilestoneSubmitted::full_name(),
                contracts::MilestoneRevisionRequested::full_name(),
                contracts::MilestoneApproved::full_name(),
                contracts::DisputeOpened::full_name(),
                contracts::DisputeResolved::full_name(),
                contracts::ReviewPublished::full_name(),
            ],
        ),
        (
            "messaging-payments",
            "payments",
            vec![
                payments::EscrowFunded::full_name(),
                payments::EscrowReleased::full_name(),
                payments::EscrowRefunded::full_name(),
            ],
        ),
        (
            "messaging-marketplace",
            "marketplace",
            vec![
                marketplace::ProposalSubmitted::full_name(),
                marketplace::ProposalAccepted::full_name(),
                marketplace::GigPublished::full_name(),
                marketplace::GigUpdated::full_name(),
                marketplace::FreelancerProfileUpdated::full_name(),
            ],
        ),
        (DIGESTS, "messaging", vec![pb::MessageSent::full_name()]),
    ];
    let handler = Arc::new(Reactions {
        inner: Arc::downgrade(inner),
        pending: Mutex::new(HashMap::new()),
    });
    let mut background = Vec::new();
    for (name, producer, event_types) in specs {
        let spec = ConsumerSpec {
            event_types,
            // A digest is recorded with the notification it sends and at
            // most one goes out per conversation an hour, so a second
            // delivery of a MessageSent finds it and sends nothing: no inbox
            // row (and no WAL flush) for every message sent.
            inbox: name != DIGESTS,
            ..ConsumerSpec::new(name, producer)
        };
        background.push(bus.consume(spec, inner.db.clone(), handler.clone()).await?);
    }
    Ok(background)
}

/// What to tell once an event's transaction commits.
#[derive(Default)]
struct Effects {
    live: Vec<(Vec<Uuid>, Live)>,
    notes: Vec<NotificationRow>,
}

struct Reactions {
    inner: Weak<Inner>,
    /// Effects by event id, waiting for the commit.
    pending: Mutex<HashMap<Uuid, Effects>>,
}

fn id(text: &str) -> Result<Uuid, HandlerError> {
    Uuid::parse_str(text).map_err(|_| HandlerError(format!("bad id {text:?}")))
}

fn money(amount: Option<&common::Money>) -> String {
    amount
        .and_then(|m| {
            Currency::from_code(&m.currency_code).map(|c| Money::new(c, m.minor_units).to_string())
        })
        .unwrap_or_default()
}

/// The context of one event being applied.
struct Apply<'a> {
    inner: &'a Inner,
    txn: &'a Txn,
    event: &'a ReceivedEvent,
    effects: Effects,
}

impl Apply<'_> {
    async fn notify(
        &mut self,
        account: &str,
        kind: pb::NotificationKind,
        title: String,
        body: String,
        subject: &str,
    ) -> Result<(), HandlerError> {
        let draft = Draft {
            account: id(account)?,
            kind,
            title,
            body,
            subject: subject.to_owned(),
            source: self.event.id.simple().to_string(),
        };
        if let Some(row) = self.inner.notifier.prepare(self.txn, draft).await? {
            self.effects.notes.push(row);
        }
        Ok(())
    }

    /// Posts a system message in the contract's conversation (once per
    /// event), opening the conversation if contracts' and payments' events
    /// arrive before ContractCreated: they come through separate streams.
    async fn system(
        &mut self,
        parties: (&str, &str, &str),
        code: &str,
        text: String,
    ) -> Result<(), HandlerError> {
        let (contract, client, freelancer) = parties;
        let opened = contracts::ContractCreated {
            contract_id: contract.to_owned(),
            client_id: client.to_owned(),
            freelancer_id: freelancer.to_owned(),
            ..Default::default()
        };
        self.open_contract_conversation(&opened).await?;
        let Some(conversation) = store::find_by_contract(self.txn, id(contract)?).await? else {
            return Ok(());
        };
        let client_id = self.event.id.simple().to_string();
        if store::find_by_client_id(self.txn, conversation.id, Uuid::nil(), &client_id)
            .await?
            .is_some()
        {
            return Ok(());
        }
        let now = Utc::now();
        let seq = store::next_seq(self.txn, conversation.id, now).await?;
        let row = store::insert_message(
            self.txn,
            MessageRow {
                id: Uuid::now_v7(),
                conversation_id: conversation.id,
                seq,
                sender_id: Uuid::nil(),
                client_message_id: client_id,
                text,
                created_at: now,
                kind: "SYSTEM".to_owned(),
                reply_to_seq: 0,
                attachments: String::new(),
                edited_at: None,
                deleted: false,
                masked: false,
                original_text: None,
                system_code: code.to_owned(),
                changed_seq: 0,
            },
        )
        .await?;
        let members: Vec<Uuid> = store::members_of(self.txn, vec![conversation.id])
            .await?
            .into_iter()
            .map(|m| m.account_id)
            .collect();
        self.effects
            .live
            .push((members, Live::Message(convert::message(&row))));
        Ok(())
    }

    async fn apply(&mut self) -> Result<(), HandlerError> {
        use pb::NotificationKind as K;
        let event = self.event;
        match event.event_type() {
            t if t == identity::UserRegistered::full_name() => {
                let e: identity::UserRegistered = event.decode()?;
                store::safety::upsert_account(
                    self.txn,
                    id(&e.account_id)?,
                    &e.display_name,
                    Some(&e.email),
                )
                .await?;
            }
            t if t == identity::AccountUpdated::full_name() => {
                let e: identity::AccountUpdated = event.decode()?;
                store::safety::upsert_account(self.txn, id(&e.account_id)?, &e.display_name, None)
                    .await?;
            }
            t if t == contracts::ContractCreated::full_name() => {
                let e: contracts::ContractCreated = event.decode()?;
                self.open_contract_conversation(&e).await?;
                self.system(
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
            }
            t if t == payments::EscrowFunded::full_name() => {
                let e: payments::EscrowFunded = event.decode()?;
                store::safety::record_funded(
                    self.txn,
                    id(&e.client_id)?,
                    id(&e.freelancer_id)?,
                    id(&e.contract_id)?,
                    Utc::now(),
                )
                .await?;
                let amount = money(e.amount.as_ref());
                self.system(
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
                    self.notify(
                        party,
                        K::ContractFunded,
                        "A contract was funded".to_owned(),
                        format!("{amount} is held in escrow for your contract."),
                        &e.contract_id,
                    )
                    .await?;
                }
            }
            t if t == contracts::MilestoneSubmitted::full_name() => {
                let e: contracts::MilestoneSubmitted = event.decode()?;
                self.link_to_contract(&e.contract_id, &e.freelancer_id, &e.attachment_ids)
                    .await?;
                self.system(
                    (
                        e.contract_id.as_str(),
                        e.client_id.as_str(),
                        e.freelancer_id.as_str(),
                    ),
                    "milestone.submitted",
                    format!("“{}” was delivered for review.", e.title),
                )
                .await?;
                self.notify(
                    &e.client_id,
                    K::DeliverySubmitted,
                    format!("“{}” was delivered", e.title),
                    "Review the delivery and approve it or ask for changes.".to_owned(),
                    &e.contract_id,
                )
                .await?;
            }
            t if t == contracts::MilestoneRevisionRequested::full_name() => {
                let e: contracts::MilestoneRevisionRequested = event.decode()?;
                self.system(
                    (
                        e.contract_id.as_str(),
                        e.client_id.as_str(),
                        e.freelancer_id.as_str(),
                    ),
                    "milestone.revision_requested",
                    format!("Changes were requested to “{}”.", e.title),
                )
                .await?;
                self.notify(
                    &e.freelancer_id,
                    K::RevisionRequested,
                    format!("Changes requested to “{}”", e.title),
                    e.reason.clone(),
                    &e.contract_id,
                )
                .await?;
            }
            t if t == contracts::MilestoneApproved::full_name() => {
                let e: contracts::MilestoneApproved = event.decode()?;
                self.system(
                    (
                        e.contract_id.as_str(),
                        e.client_id.as_str(),
                        e.freelancer_id.as_str(),
                    ),
                    "milestone.approved",
                    format!("“{}” was approved.", e.title),
                )
                .await?;
                self.notify(
                    &e.freelancer_id,
                    K::DeliveryApproved,
                    format!("“{}” was approved", e.title),
                    "The payment is on its way.".to_owned(),
                    &e.contract_id,
                )
                .await?;
            }
            t if t == payments::EscrowReleased::full_name() => {
                let e: payments::EscrowReleased = event.decode()?;
                let amount = money(e.amount.as_ref());
                self.system(
                    (
                        e.contract_id.as_str(),
                        e.client_id.as_str(),
                        e.freelancer_id.as_str(),
                    ),
                    "payment.released",
                    format!("{amount} was released to the freelancer."),
                )
                .await?;
                self.notify(
                    &e.freelancer_id,
                    K::PaymentReleased,
                    format!("You were paid {amount}"),
                    format!("Frevix's fee was {}.", money(e.fee.as_ref())),
                    &e.contract_id,
                )
                .await?;
            }
            t if t == payments::EscrowRefunded::full_name() => {
                let e: payments::EscrowRefunded = event.decode()?;
                let amount = money(e.amount.as_ref());
                self.system(
                    (
                        e.contract_id.as_str(),
                        e.client_id.as_str(),
                        e.freelancer_id.as_str(),
                    ),
                    "payment.refunded",
                    format!("{amount} was refunded to the client."),
                )
                .await?;
                self.notify(
                    &e.client_id,
                    K::RefundIssued,
                    format!("{amount} was refunded to you"),
                    "It reaches your card or account within a few days.".to_owned(),
                    &e.contract_id,
                )
                .await?;
            }
            t if t == contracts::DisputeOpened::full_name() => {
                let e: contracts::DisputeOpened = event.decode()?;
                self.link_to_contract(&e.contract_id, &e.opened_by, &e.attachment_ids)
                    .await?;
                self.system(
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
                    self.notify(
                        party,
                        K::DisputeOpened,
                        "A dispute was opened on your contract".to_owned(),
                        e.reason.clone(),
                        &e.contract_id,
                    )
                    .await?;
                }
            }
            t if t == contracts::DisputeResolved::full_name() => {
                let e: contracts::DisputeResolved = event.decode()?;
                let share = format!("{}%", f64::from(e.client_share_bps) / 100.0);
                self.system(
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
                    self.notify(
                        party,
                        K::DisputeResolved,
                        "Your dispute was resolved".to_owned(),
                        format!("{share} of the escrow goes back to the client."),
                        &e.contract_id,
                    )
                    .await?;
                }
            }
            t if t == contracts::ReviewPublished::full_name() => {
                let e: contracts::ReviewPublished = event.decode()?;
                self.notify(
                    &e.reviewee_id,
                    K::ReviewPublished,
                    format!("You got a {}-star review", e.rating),
                    e.comment.clone(),
                    &e.contract_id,
                )
                .await?;
            }
            t if t == marketplace::ProposalSubmitted::full_name() => {
                let e: marketplace::ProposalSubmitted = event.decode()?;
                self.notify(
                    &e.client_id,
                    K::ProposalSubmitted,
                    "New proposal on your job".to_owned(),
                    format!("A freelancer bid {}.", money(e.bid.as_ref())),
                    &e.job_id,
                )
                .await?;
            }
            t if t == marketplace::ProposalAccepted::full_name() => {
                let e: marketplace::ProposalAccepted = event.decode()?;
                self.notify(
                    &e.freelancer_id,
                    K::ProposalAccepted,
                    format!("You were hired for “{}”", e.job_title),
                    "The contract starts once the client funds it.".to_owned(),
                    &e.contract_id,
                )
                .await?;
            }
            t if t == marketplace::GigPublished::full_name() => {
                let e: marketplace::GigPublished = event.decode()?;
                self.gallery(e.gig.as_ref()).await?;
            }
            t if t == marketplace::GigUpdated::full_name() => {
                let e: marketplace::GigUpdated = event.decode()?;
                self.gallery(e.gig.as_ref()).await?;
            }
            t if t == marketplace::FreelancerProfileUpdated::full_name() => {
                let e: marketplace::FreelancerProfileUpdated = event.decode()?;
                if let Some(profile) = e.profile {
                    let mut media = vec![profile.avatar_media_id.clone()];
                    for item in &profile.portfolio {
                        media.extend(item.media_ids.iter().cloned());
                    }
                    self.make_public(&profile.account_id, &media).await?;
                }
            }
            t if t == pb::MessageSent::full_name() => {
                let e: pb::MessageSent = event.decode()?;
                self.digest(&e).await?;
            }
            _ => {}
        }
        Ok(())
    }

    /// A published gig's gallery is public.
    async fn gallery(&mut self, gig: Option<&marketplace::Gig>) -> Result<(), HandlerError> {
        if let Some(gig) = gig {
            self.make_public(&gig.seller_id, &gig.gallery_media_ids)
                .await?;
        }
        Ok(())
    }

    /// Makes `owner`'s media among `ids` public (others' are left alone).
    async fn make_public(&mut self, owner: &str, ids: &[String]) -> Result<(), HandlerError> {
        let ids: Vec<Uuid> = ids
            .iter()
            .filter_map(|id| Uuid::parse_str(id).ok())
            .collect();
        store::media::make_public(self.txn, id(owner)?, &ids).await?;
        Ok(())
    }

    /// Lets a contract's parties read `uploader`'s media among `ids`.
    async fn link_to_contract(
        &mut self,
        contract: &str,
        uploader: &str,
        ids: &[String],
    ) -> Result<(), HandlerError> {
        let (contract, uploader) = (id(contract)?, id(uploader)?);
        let ids: Vec<Uuid> = ids
            .iter()
            .filter_map(|id| Uuid::parse_str(id).ok())
            .collect();
        for media in store::media::find_many(self.txn, &ids).await? {
            if media.owner_id == uploader {
                store::media::link(self.txn, media.id, store::media::CONTRACT, contract).await?;
            }
        }
        Ok(())
    }

    async fn open_contract_conversation(
        &mut self,
        created: &contracts::ContractCreated,
    ) -> Result<(), HandlerError> {
        let contract = id(&created.contract_id)?;
        if let Some(existing) = store::find_by_contract(self.txn, contract).await? {
            if existing.title.is_empty() && !created.title.is_empty() {
                store::set_title(self.txn, existing.id, &created.title).await?;
            }
            return Ok(());
        }
        let members = [id(&created.client_id)?, id(&created.freelancer_id)?];
        let new = NewConversation {
            kind: "CONTRACT",
            direct_key: None,
            contract_id: Some(contract),
            title: created.title.chars().take(200).collect(),
            members: &members,
            admins: &[],
        };
        match store::insert_conversation(self.txn, new, Utc::now()).await {
            Ok(row) => {
                let members = store::members_of(self.txn, vec![row.id]).await?;
                for member in &members {
                    let view = convert::conversation(&row, &members, member, None);
                    self.effects.live.push((
                        vec![member.account_id],
                        Live::Conversation(pb::ConversationChanged {
                            conversation: Some(view),
                            removed: false,
                        }),
                    ));
                }
                Ok(())
            }
            Err(error) if is_unique_violation(&error) => Ok(()),
            Err(error) => Err(error.into()),
        }
    }

    /// Notifies recipients who are offline and not muting the conversation,
    /// at most once per conversation an hour.
    async fn digest(&mut self, sent: &pb::MessageSent) -> Result<(), HandlerError> {
        let conversation = id(&sent.conversation_id)?;
        let mut offline = Vec::new();
        for recipient in &sent.recipient_ids {
            let recipient = id(recipient)?;
            if !self.inner.presence.is_online(recipient) {
                offline.push(recipient);
            }
        }
        // Everyone is online (the usual case in a live chat): nothing to ask
        // the database.
        if offline.is_empty() {
            return Ok(());
        }
        let Some(message) = store::message_at(self.txn, conversation, sent.sequence).await? else {
            return Ok(());
        };
        if message.deleted || message.kind != "USER" {
            return Ok(());
        }
        let sender = store::safety::account(self.txn, message.sender_id).await?;
        let sender_name = sender
            .map(|s| s.display_name)
            .filter(|name| !name.is_empty())
            .unwrap_or_else(|| "Someone".to_owned());
        let now = Utc::now();
        for recipient in offline {
            let Some(member) = store::find_member(self.txn, conversation, recipient).await? else {
                continue;
            };
            if member.muted || member.last_read_seq >= message.seq {
                continue;
            }
            let recent = store::notes::last_digest(self.txn, recipient, conversation)
                .await?
                .is_some_and(|at| now - at < chrono::Duration::hours(1));
            if recent {
                continue;
            }
            store::notes::record_digest(self.txn, recipient, conversation, now).await?;
            let preview: String = message.text.chars().take(140).collect();
            self.notify(
                &recipient.to_string(),
                pb::NotificationKind::NewMessage,
                format!("New messages from {sender_name}"),
                format!("{sender_name}: “{preview}”"),
                &conversation.to_string(),
            )
            .await?;
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl EventHandler for Reactions {
    async fn handle(&self, txn: &Txn, event: &ReceivedEvent) -> Result<(), HandlerError> {
        let Some(inner) = self.inner.upgrade() else {
            return Err(HandlerError("messaging is shutting down".to_owned()));
        };
        let mut apply = Apply {
            inner: &inner,
            txn,
            event,
            effects: Effects::default(),
        };
        apply.apply().await?;
        let effects = apply.effects;
        if let Ok(mut pending) = self.pending.lock() {
            // Bounded: effects of events whose transaction never committed
            // (dead letters) must not pile up.
            if pending.len() > 10_000 {
                pending.clear();
            }
            pending.insert(event.id, effects);
        }
        Ok(())
    }

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
