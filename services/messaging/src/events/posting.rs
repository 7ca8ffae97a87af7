//! Posting a contract event in the parties' conversation (a system message,
//! once per event) and notifying the parties it concerns: what most of
//! contracts' events come to in messaging.

use frevix_platform::db::Txn;
use frevix_platform::events::{HandlerError, ReceivedEvent};
use frevix_proto::messaging::v1 as pb;

use super::Reactions;
use super::apply::Apply;

/// What one event posts and whom it notifies.
pub(super) struct Post<'a> {
    pub parties: (&'a str, &'a str, &'a str),
    pub code: &'a str,
    pub text: String,
    /// Who is notified.
    pub notify: &'a [&'a String],
    pub kind: pb::NotificationKind,
    pub title: String,
    /// The notification's body (the system message's text if empty).
    pub body: String,
}

impl Reactions {
    pub(super) async fn post(
        &self,
        txn: &Txn,
        received: &ReceivedEvent,
        post: Post<'_>,
    ) -> Result<(), HandlerError> {
        let inner = self.inner()?;
        let mut apply = Apply::new(&inner, txn, received);
        let contract = post.parties.0;
        apply
            .system(post.parties, post.code, post.text.clone())
            .await?;
        let body = if post.body.is_empty() {
            post.text
        } else {
            post.body
        };
        for account in post.notify {
            apply
                .notify(
                    account,
                    post.kind,
                    post.title.clone(),
                    body.clone(),
                    contract,
                )
                .await?;
        }
        self.keep(received, apply.effects);
        Ok(())
    }
}
