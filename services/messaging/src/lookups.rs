//! The checks before each send, asked in bulk. Every message needs its
//! conversation's members, blocks and resend check before it is written;
//! asked one by one, PostgreSQL planned and ran that statement for every
//! message, and planning alone cost about as much as running it. Lookups
//! that arrive while another is being answered are answered together by the
//! next statement (`store::sending::send_contexts`, through
//! [`AskedTogether`]). A lone lookup goes at once: nothing waits to fill a
//! batch.
//!
//! If a batch fails, its lookups are asked again one by one, so each gets
//! its own answer or error.

use frevix_platform::batch::AskedTogether;
use frevix_platform::error::ApiError;
use sea_orm::DatabaseConnection;

use crate::error::{MessagingError, Result};
use crate::store::sending::{self, Lookup, SendContext};

/// Lookups answered by one statement at most.
const MAX_BATCH: usize = 128;

type Answer = Result<Option<SendContext>>;

/// Hands lookups to the askers and waits for the answer.
pub struct Lookups {
    asked: AskedTogether<Lookup, Answer>,
}

impl Lookups {
    /// `askers` statements in flight at once.
    /// The tasks end once every `Lookups` is dropped and the queue is empty.
    pub fn start(
        db: DatabaseConnection,
        askers: usize,
    ) -> (Lookups, Vec<tokio::task::JoinHandle<()>>) {
        let (asked, tasks) = AskedTogether::start(askers, MAX_BATCH, move |lookups| {
            let db = db.clone();
            async move { answer(&db, lookups).await }
        });
        (Lookups { asked }, tasks)
    }

    /// What a send of `lookup` needs to know; None when the conversation
    /// does not exist.
    pub async fn context(&self, lookup: Lookup) -> Answer {
        self.asked.ask(lookup).await.ok_or(ApiError::ShuttingDown)?
    }
}

async fn answer(db: &DatabaseConnection, lookups: Vec<Lookup>) -> Vec<Answer> {
    if let Ok(contexts) = sending::send_contexts(db, &lookups).await {
        return contexts.into_iter().map(Ok).collect();
    }
    let mut answers = Vec::with_capacity(lookups.len());
    for l in &lookups {
        let answer = sending::send_context(db, l.conversation, l.sender, &l.client_message_id)
            .await
            .map_err(MessagingError::from);
        answers.push(answer);
    }
    answers
}
