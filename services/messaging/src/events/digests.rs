//! Messaging's own MessageSent: offline recipients get a notification, at
//! most one per conversation an hour (mailed as a digest).

use chrono::Utc;
use frevix_platform::db::Txn;
use frevix_platform::events::{HandlerError, On, ReceivedEvent};
use frevix_proto::messaging::v1 as pb;

use super::Reactions;
use super::apply::{Apply, id};
use crate::domain::ConversationId;
use crate::domain::MessageKind;
use crate::store;

#[async_trait::async_trait]
impl On<pb::MessageSent> for Reactions {
    async fn on(
        &self,
        txn: &Txn,
        e: pb::MessageSent,
        received: &ReceivedEvent,
    ) -> Result<(), HandlerError> {
        let inner = self.inner()?;
        let mut apply = Apply::new(&inner, txn, received);
        apply.digest(&e).await?;
        self.keep(received, apply.effects);
        Ok(())
    }
}

impl Apply<'_> {
    /// Notifies recipients who are offline and not muting the conversation,
    /// at most once per conversation an hour.
    pub async fn digest(&mut self, sent: &pb::MessageSent) -> Result<(), HandlerError> {
        let conversation = ConversationId(id(&sent.conversation_id)?);
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
        if message.deleted || MessageKind::parse(&message.kind) != MessageKind::User {
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
