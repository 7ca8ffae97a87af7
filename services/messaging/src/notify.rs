//! Notifications: made inside the transaction of whatever caused them (so a
//! replayed event makes none twice), then pushed to the account's live
//! streams once committed, and mailed by a loop that works through the
//! pending rows, so a mail is not lost when a process dies before sending.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use frevix_platform::mail::{Mail, Mailer};
use frevix_proto::messaging::v1 as pb;
use sea_orm::{ConnectionTrait, DatabaseConnection, DbErr};
use tokio::sync::{Notify, watch};
use uuid::Uuid;

use crate::convert;
use crate::domain::EmailState;
use crate::hub::{Hub, Live};
use crate::store::{self, notes::NotificationRow};

/// Every kind a preference can be set for.
pub const KINDS: &[pb::NotificationKind] = &[
    pb::NotificationKind::NewMessage,
    pb::NotificationKind::ProposalSubmitted,
    pb::NotificationKind::ProposalAccepted,
    pb::NotificationKind::ContractFunded,
    pb::NotificationKind::DeliverySubmitted,
    pb::NotificationKind::RevisionRequested,
    pb::NotificationKind::DeliveryApproved,
    pb::NotificationKind::PaymentReleased,
    pb::NotificationKind::RefundIssued,
    pb::NotificationKind::DisputeOpened,
    pb::NotificationKind::DisputeResolved,
    pb::NotificationKind::ReviewPublished,
    pb::NotificationKind::CancellationRequested,
    pb::NotificationKind::ContractCancelled,
    pb::NotificationKind::ContractCompleted,
    pb::NotificationKind::MilestoneAdded,
    pb::NotificationKind::InvoiceApproved,
    pb::NotificationKind::ContractPaused,
    pb::NotificationKind::ContractResumed,
];

/// A notification about to be made.
pub struct Draft {
    pub account: Uuid,
    pub kind: pb::NotificationKind,
    pub title: String,
    pub body: String,
    pub subject: String,
    /// What caused it, unique per account: a replay makes nothing.
    pub source: String,
}

#[derive(Clone)]
pub struct Notifier {
    db: DatabaseConnection,
    mailer: Arc<Mailer>,
    app_url: String,
    wake: Arc<Notify>,
}

/// An account's channels for `kind` (both on unless the account said otherwise).
pub async fn channels(
    db: &impl ConnectionTrait,
    account: Uuid,
    kind: pb::NotificationKind,
) -> Result<(bool, bool), DbErr> {
    let name = kind.as_str_name();
    Ok(store::notes::preferences(db, account)
        .await?
        .into_iter()
        .find(|row| row.kind == name)
        .map_or((true, true), |row| (row.in_app, row.email)))
}

pub fn message(row: &NotificationRow) -> pb::Notification {
    pb::Notification {
        id: row.id.to_string(),
        kind: pb::NotificationKind::from_str_name(&row.kind).unwrap_or_default() as i32,
        title: row.title.clone(),
        body: row.body.clone(),
        subject_id: row.subject_id.clone(),
        read: row.read,
        create_time: Some(convert::timestamp(row.created_at)),
    }
}

impl Notifier {
    pub fn new(db: DatabaseConnection, mailer: Arc<Mailer>, app_url: String) -> Self {
        Self {
            db,
            mailer,
            app_url,
            wake: Arc::new(Notify::new()),
        }
    }

    /// Stores `draft` in `txn` as the account's preferences say; the row,
    /// if one was made, is to be passed to `committed` after the commit.
    pub async fn prepare(
        &self,
        txn: &impl ConnectionTrait,
        draft: Draft,
    ) -> Result<Option<NotificationRow>, DbErr> {
        let (in_app, email) = channels(txn, draft.account, draft.kind).await?;
        if !in_app && !email {
            return Ok(None);
        }
        let row = NotificationRow {
            id: Uuid::now_v7(),
            account_id: draft.account,
            kind: draft.kind.as_str_name().to_owned(),
            title: draft.title.chars().take(300).collect(),
            body: draft.body,
            subject_id: draft.subject.chars().take(64).collect(),
            read: false,
            shown: in_app,
            email_state: if email {
                EmailState::Pending
            } else {
                EmailState::None
            }
            .as_str()
            .to_owned(),
            source_key: format!("{}:{}", draft.source, draft.account.simple()),
            created_at: Utc::now(),
        };
        let inserted = store::notes::insert(txn, row.clone()).await?;
        Ok(inserted.then_some(row))
    }

    /// Pushes committed notifications to their accounts' live streams and
    /// wakes the mailer.
    pub async fn committed(&self, hub: &Hub, rows: &[NotificationRow]) {
        for row in rows {
            if row.shown {
                hub.publish(&[row.account_id], Live::Notification(message(row)))
                    .await;
            }
        }
        if rows
            .iter()
            .any(|row| row.email_state == EmailState::Pending.as_str())
        {
            self.wake.notify_one();
        }
    }

    /// Mails pending notifications until stopped.
    pub async fn mail_loop(self, mut stop: watch::Receiver<bool>) {
        loop {
            let pause = match self.mail_pending().await {
                Ok(true) => continue,
                Ok(false) => Duration::from_secs(2),
                Err(error) => {
                    tracing::warn!(%error, "notification mail failed; retrying");
                    Duration::from_secs(10)
                }
            };
            tokio::select! {
                () = self.wake.notified() => {}
                () = tokio::time::sleep(pause) => {}
                _ = stop.wait_for(|stopped| *stopped) => return,
            }
        }
    }

    /// Mails one batch; true if there may be more.
    async fn mail_pending(&self) -> Result<bool, Box<dyn std::error::Error + Send + Sync>> {
        let batch = store::notes::pending_mail(&self.db, 50).await?;
        for row in &batch {
            let account = store::safety::account(&self.db, row.account_id).await?;
            match account.filter(|account| !account.email.is_empty()) {
                Some(account) => {
                    let link = format!("{}/notifications/{}", self.app_url, row.id);
                    let greeting = if account.display_name.is_empty() {
                        "Hello,".to_owned()
                    } else {
                        format!("Hello {},", account.display_name)
                    };
                    self.mailer
                        .send(Mail {
                            to: account.email,
                            subject: row.title.clone(),
                            text: format!(
                                "{greeting}\n\n{}\n\n{}\n\nOpen it: {link}\n\n\
                                 You can choose which notifications are mailed to you \
                                 in your Frevix settings.\n",
                                row.title, row.body
                            ),
                        })
                        .await?;
                }
                None => {
                    tracing::info!(account_id = %row.account_id, "no address known; notification not mailed");
                }
            }
            store::notes::mark_mailed(&self.db, row.id).await?;
        }
        Ok(batch.len() == 50)
    }
}
