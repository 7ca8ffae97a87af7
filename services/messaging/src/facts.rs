//! What every send must know about its conversation (its kind, its members,
//! blocks between the two members of a direct conversation, whether a member
//! archived it, how far its sequence went), kept in memory. Asking the
//! database before each message was the largest statement on the send path
//! (about 190 µs of PostgreSQL's time a message at 1,000 messages/s), and
//! these facts change rarely: a member added or removed, a block, an archive.
//!
//! A replica forgets a conversation's facts
//! - when it changes them itself, once the change is committed;
//! - when another replica changes them, on that replica's word through the
//!   live fan-out (topic `contexts`), within milliseconds;
//! - in any case `messaging.send_facts_ttl_ms` after loading them, should a
//!   word be lost (the fan-out is at most once): the longest a change made
//!   elsewhere can go unseen, as with the deny list's "within seconds".
//!
//! A load that overlaps a forget answers its sends but is not kept, so facts
//! read before a change are never kept after the change was heard. Before
//! this cache a send read its facts, then wrote, with no lock between: a
//! change committed in that gap was missed too.
//!
//! The resend check is not here: the writer finds a resend by the message's
//! unique client id when it writes, and a refused send is checked for a
//! stored original before it is refused. The last sequence is the highest
//! this replica has seen; a reply to a later message is checked against the
//! database.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::{BufMut, Bytes, BytesMut};
use frevix_platform::batch::AskedTogether;
use frevix_platform::error::ApiError;
use frevix_platform::live::Fanout;
use sea_orm::DatabaseConnection;
use tokio_stream::StreamExt as _;
use uuid::Uuid;

use crate::domain::ConversationId;
use crate::error::{MessagingError, Result};
use crate::store::sending::{self, SendFacts};

/// Loads answered by one statement at most.
const MAX_BATCH: usize = 128;
/// Conversations whose facts a replica keeps at most.
const CAPACITY: usize = 50_000;
/// The fan-out topic on which replicas tell each other what to forget.
const TOPIC: &str = "contexts";

type Answer = Result<Option<SendFacts>>;

struct Entry {
    facts: SendFacts,
    loaded: Instant,
}

/// The facts of the conversations this replica sends to.
pub struct Facts {
    entries: Mutex<HashMap<ConversationId, Entry>>,
    /// Forgets so far: a load that saw this change is not kept.
    forgets: AtomicU64,
    ttl: Duration,
    loads: AskedTogether<ConversationId, Answer>,
    fanout: Arc<dyn Fanout>,
}

/// What to forget, as told to the other replicas.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Forget {
    Conversation(ConversationId),
    /// Every conversation the account is in (its blocks changed).
    Account(Uuid),
}

impl Forget {
    fn encode(self) -> Bytes {
        let (tag, id) = match self {
            Forget::Conversation(c) => (b'c', c.0),
            Forget::Account(a) => (b'a', a),
        };
        let mut bytes = BytesMut::with_capacity(17);
        bytes.put_u8(tag);
        bytes.put_slice(id.as_bytes());
        bytes.freeze()
    }

    fn decode(bytes: &[u8]) -> Option<Self> {
        let (tag, id) = bytes.split_first()?;
        let id = Uuid::from_slice(id).ok()?;
        match tag {
            b'c' => Some(Forget::Conversation(ConversationId(id))),
            b'a' => Some(Forget::Account(id)),
            _ => None,
        }
    }
}

impl Facts {
    /// `askers` load statements in flight at once. The tasks end once the
    /// `Facts` is dropped and no load waits.
    pub async fn start(
        db: DatabaseConnection,
        askers: usize,
        ttl: Duration,
        fanout: Arc<dyn Fanout>,
    ) -> (Arc<Facts>, Vec<tokio::task::JoinHandle<()>>) {
        let (loads, mut tasks) = AskedTogether::start(askers, MAX_BATCH, move |ids| {
            let db = db.clone();
            async move { load(&db, ids).await }
        });
        let facts = Arc::new(Facts {
            entries: Mutex::new(HashMap::new()),
            forgets: AtomicU64::new(0),
            ttl,
            loads,
            fanout,
        });
        if !facts.fanout.solitary() {
            match facts.fanout.listen(TOPIC).await {
                Ok(mut listener) => {
                    let weak = Arc::downgrade(&facts);
                    tasks.push(tokio::spawn(async move {
                        while let Some(payload) = listener.next().await {
                            let Some(facts) = weak.upgrade() else { return };
                            match Forget::decode(&payload) {
                                Some(forget) => facts.apply(forget),
                                None => tracing::warn!("undecodable word on the contexts topic"),
                            }
                        }
                    }));
                }
                // Facts then live their TTL at most, as with a lost word.
                Err(error) => tracing::warn!(%error, "cannot hear other replicas' changes"),
            }
        }
        (facts, tasks)
    }

    /// The facts a send to `conversation` is checked against; None when the
    /// conversation does not exist.
    pub async fn of(&self, conversation: ConversationId) -> Answer {
        if let Some(entry) = self.lock().get(&conversation)
            && entry.loaded.elapsed() < self.ttl
        {
            return Ok(Some(entry.facts.clone()));
        }
        self.load(conversation).await
    }

    /// The facts as the database has them now (kept unless a forget
    /// overlapped).
    pub async fn load(&self, conversation: ConversationId) -> Answer {
        let before = self.forgets.load(Ordering::Acquire);
        let facts = self
            .loads
            .ask(conversation)
            .await
            .ok_or(ApiError::ShuttingDown)??;
        if let Some(facts) = &facts {
            let mut entries = self.lock();
            if self.forgets.load(Ordering::Acquire) == before {
                if entries.len() >= CAPACITY {
                    entries.retain(|_, entry| entry.loaded.elapsed() < self.ttl);
                }
                // Every one still fresh: start over rather than scan the
                // full map again on each load that follows.
                if entries.len() >= CAPACITY {
                    entries.clear();
                }
                let loaded = Instant::now();
                entries.insert(
                    conversation,
                    Entry {
                        facts: facts.clone(),
                        loaded,
                    },
                );
            }
        }
        Ok(facts)
    }

    /// Messages up to `seq` were stored (by this replica), and nobody has
    /// the conversation archived any more.
    pub fn stored(&self, conversation: ConversationId, seq: i64) {
        if let Some(entry) = self.lock().get_mut(&conversation) {
            let facts = &mut entry.facts;
            facts.last_seq = facts.last_seq.max(seq);
            if facts.members.iter().any(|m| m.archived) {
                let mut members = facts.members.to_vec();
                for member in &mut members {
                    member.archived = false;
                }
                facts.members = members.into();
            }
        }
    }

    /// Forgets a conversation's facts here and on the other replicas. Call
    /// once the change is committed.
    pub async fn forget(&self, conversation: ConversationId) {
        self.tell(Forget::Conversation(conversation)).await;
    }

    /// Forgets the facts of every conversation `account` is in (its blocks
    /// changed), here and on the other replicas. Call once committed.
    pub async fn forget_account(&self, account: Uuid) {
        self.tell(Forget::Account(account)).await;
    }

    async fn tell(&self, forget: Forget) {
        self.apply(forget);
        if self.fanout.solitary() {
            return;
        }
        if let Err(error) = self.fanout.send(TOPIC, forget.encode()).await {
            // The others then honour the old facts for their TTL at most.
            tracing::warn!(%error, ?forget, "cannot tell other replicas to forget");
        }
    }

    fn apply(&self, forget: Forget) {
        let mut entries = self.lock();
        self.forgets.fetch_add(1, Ordering::AcqRel);
        match forget {
            Forget::Conversation(conversation) => {
                entries.remove(&conversation);
            }
            Forget::Account(account) => {
                entries
                    .retain(|_, entry| !entry.facts.members.iter().any(|m| m.account == account));
            }
        }
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<ConversationId, Entry>> {
        self.entries
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Answers loads in one statement; a failed batch is asked again one by
/// one, so each gets its own answer or error.
async fn load(db: &DatabaseConnection, ids: Vec<ConversationId>) -> Vec<Answer> {
    if let Ok(found) = sending::send_facts(db, &ids).await {
        return found.into_iter().map(Ok).collect();
    }
    let mut answers = Vec::with_capacity(ids.len());
    for id in &ids {
        answers.push(
            sending::send_facts(db, std::slice::from_ref(id))
                .await
                .map_err(MessagingError::from)
                .map(|mut found| found.pop().flatten()),
        );
    }
    answers
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_read_back_as_written() {
        let id = Uuid::now_v7();
        for forget in [
            Forget::Conversation(ConversationId(id)),
            Forget::Account(id),
        ] {
            assert_eq!(Forget::decode(&forget.encode()), Some(forget));
        }
        assert_eq!(Forget::decode(b""), None);
        assert_eq!(Forget::decode(b"x0123456789abcdef"), None);
        assert_eq!(Forget::decode(b"c0123"), None);
    }
}
