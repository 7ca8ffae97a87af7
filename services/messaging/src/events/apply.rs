//! The context one event is applied in: the consumer's transaction, and
//! what live streams and notifications should hear once it commits.

use chrono::Utc;
use frevix_platform::db::{Txn, is_unique_violation};
use frevix_platform::events::{HandlerError, ReceivedEvent};
use frevix_platform::money::{Currency, Money};
use frevix_proto::common::v1 as common;
use frevix_proto::contracts::v1 as contracts;
use frevix_proto::marketplace::v1 as marketplace;
use frevix_proto::messaging::v1 as pb;
use uuid::Uuid;

use crate::Inner;
use crate::convert;
use crate::domain::{ConversationKind, MediaId, MessageKind};
use crate::hub::Live;
use crate::notify::Draft;
use crate::store::{self, MessageRow, NewConversation, notes::NotificationRow};

/// What to tell once an event's transaction commits.
#[derive(Default)]
pub struct Effects {
    pub live: Vec<(Vec<Uuid>, Live)>,
    pub notes: Vec<NotificationRow>,
}

pub fn id(text: &str) -> Result<Uuid, HandlerError> {
    Uuid::parse_str(text).map_err(|_| HandlerError(format!("bad id {text:?}")))
}

pub fn money(amount: Option<&common::Money>) -> String {
    amount
        .and_then(|m| {
            Currency::from_code(&m.currency_code).map(|c| Money::new(c, m.minor_units).to_string())
        })
        .unwrap_or_default()
}

/// The context of one event being applied.
pub struct Apply<'a> {
    pub inner: &'a Inner,
    pub txn: &'a Txn,
    pub event: &'a ReceivedEvent,
    pub effects: Effects,
}

impl<'a> Apply<'a> {
    pub fn new(inner: &'a Inner, txn: &'a Txn, event: &'a ReceivedEvent) -> Self {
        Self {
            inner,
            txn,
            event,
            effects: Effects::default(),
        }
    }

    pub async fn notify(
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
    pub async fn system(
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
        if store::find_by_client_id(self.txn, conversation.typed_id(), Uuid::nil(), &client_id)
            .await?
            .is_some()
        {
            return Ok(());
        }
        let now = Utc::now();
        let seq = store::next_seq(self.txn, conversation.typed_id(), now).await?;
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
                kind: MessageKind::System.as_str().to_owned(),
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
        let members: Vec<Uuid> = store::members_of(self.txn, vec![conversation.typed_id()])
            .await?
            .into_iter()
            .map(|m| m.account_id)
            .collect();
        self.effects
            .live
            .push((members, Live::Message(convert::message(&row))));
        Ok(())
    }

    /// A published gig's gallery is public.
    pub async fn gallery(&mut self, gig: Option<&marketplace::Gig>) -> Result<(), HandlerError> {
        if let Some(gig) = gig {
            self.make_public(&gig.seller_id, &gig.gallery_media_ids)
                .await?;
        }
        Ok(())
    }

    /// Makes `owner`'s media among `ids` public (others' are left alone).
    pub async fn make_public(&mut self, owner: &str, ids: &[String]) -> Result<(), HandlerError> {
        let ids: Vec<MediaId> = ids.iter().filter_map(|id| id.parse().ok()).collect();
        store::media::make_public(self.txn, id(owner)?, &ids).await?;
        Ok(())
    }

    /// Lets a contract's parties read `uploader`'s media among `ids`.
    pub async fn link_to_contract(
        &mut self,
        contract: &str,
        uploader: &str,
        ids: &[String],
    ) -> Result<(), HandlerError> {
        let (contract, uploader) = (id(contract)?, id(uploader)?);
        let ids: Vec<MediaId> = ids.iter().filter_map(|id| id.parse().ok()).collect();
        for media in store::media::find_many(self.txn, &ids).await? {
            if media.owner_id == uploader {
                store::media::link(self.txn, media.typed_id(), store::media::CONTRACT, contract)
                    .await?;
            }
        }
        Ok(())
    }

    pub async fn open_contract_conversation(
        &mut self,
        created: &contracts::ContractCreated,
    ) -> Result<(), HandlerError> {
        let contract = id(&created.contract_id)?;
        if let Some(existing) = store::find_by_contract(self.txn, contract).await? {
            if existing.title.is_empty() && !created.title.is_empty() {
                store::set_title(self.txn, existing.typed_id(), &created.title).await?;
            }
            return Ok(());
        }
        let members = [id(&created.client_id)?, id(&created.freelancer_id)?];
        let new = NewConversation {
            kind: ConversationKind::Contract,
            direct_key: None,
            contract_id: Some(contract),
            title: created.title.chars().take(200).collect(),
            members: &members,
            admins: &[],
        };
        match store::insert_conversation(self.txn, new, Utc::now()).await {
            Ok(row) => {
                let members = store::members_of(self.txn, vec![row.typed_id()]).await?;
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
}
