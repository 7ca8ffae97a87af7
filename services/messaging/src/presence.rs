//! Presence: an account is online while it holds a live stream on some
//! replica. The replica where it comes or goes tells the account's contacts
//! (through the hub, so across replicas) and records the last-seen time.
//!
//! Each replica also holds a lease per (account, replica) in the platform's
//! [`Leases`] (in the mesh, a JetStream key-value bucket whose entries
//! expire after the TTL), refreshed every third of the TTL. Every replica
//! watches the leases, so it knows who is online anywhere (for GetPresence
//! and for mailing only offline people). A replica that dies stops
//! refreshing: the others notice its leases going stale and tell their own
//! streams' owners that those accounts went offline. In the all-in-one
//! shape the only replica is this one, and the hub alone knows.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, Weak};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use frevix_platform::live::{Lease, Leases};
use frevix_proto::messaging::v1 as pb;
use sea_orm::DatabaseConnection;
use tokio_stream::StreamExt as _;
use uuid::Uuid;

use crate::convert;
use crate::hub::{Hub, Live, Watcher};
use crate::store;

/// Contacts told of a change, at most.
const MAX_CONTACTS: usize = 2000;

#[derive(Default)]
struct Seen {
    /// Other replicas holding the account, with when they last refreshed.
    replicas: HashMap<String, Instant>,
}

pub struct Presence {
    db: DatabaseConnection,
    hub: Weak<Hub>,
    leases: Arc<dyn Leases>,
    replica: String,
    ttl: Duration,
    seen: Mutex<HashMap<Uuid, Seen>>,
    me: Weak<Presence>,
}

/// What someone may see of an account's presence.
pub struct View {
    pub online: bool,
    pub hidden: bool,
    pub last_seen: Option<DateTime<Utc>>,
}

impl Presence {
    /// Presence for one process, or shared through `kv` in the mesh.
    pub fn new(
        db: DatabaseConnection,
        hub: &Arc<Hub>,
        leases: Arc<dyn Leases>,
        ttl: Duration,
    ) -> Arc<Self> {
        let presence = Arc::new_cyclic(|me| Self {
            db,
            hub: Arc::downgrade(hub),
            leases,
            replica: Uuid::now_v7().simple().to_string(),
            ttl,
            seen: Mutex::new(HashMap::new()),
            me: me.clone(),
        });
        hub.set_watcher(presence.clone());
        presence
    }

    fn lock(&self) -> MutexGuard<'_, HashMap<Uuid, Seen>> {
        self.seen
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn key(&self, account: Uuid) -> String {
        format!("{}.{}", account.simple(), self.replica)
    }

    /// Whether `account` holds a stream on any replica.
    pub fn is_online(&self, account: Uuid) -> bool {
        let local = self.hub.upgrade().is_some_and(|hub| hub.is_local(account));
        local || self.elsewhere(account)
    }

    fn elsewhere(&self, account: Uuid) -> bool {
        self.lock().get(&account).is_some_and(|seen| {
            seen.replicas
                .values()
                .any(|refreshed| refreshed.elapsed() < self.ttl)
        })
    }

    /// What others may see of `account`.
    pub async fn view(&self, account: Uuid) -> Result<View, sea_orm::DbErr> {
        let row = store::safety::account(&self.db, account).await?;
        let hidden = row.as_ref().is_some_and(|row| row.presence_hidden);
        let online = self.is_online(account);
        Ok(View {
            online: online && !hidden,
            hidden,
            last_seen: if hidden {
                None
            } else if online {
                Some(Utc::now())
            } else {
                row.and_then(|row| row.last_seen_at)
            },
        })
    }

    pub fn message(account: Uuid, view: &View) -> pb::Presence {
        let state = if view.hidden {
            pb::PresenceState::Hidden
        } else if view.online {
            pb::PresenceState::Online
        } else {
            pb::PresenceState::Offline
        };
        pb::Presence {
            account_id: account.to_string(),
            state: state as i32,
            last_seen_time: view.last_seen.map(convert::timestamp),
        }
    }

    /// Tells `account`'s contacts what they may now see of it.
    pub async fn announce(&self, account: Uuid) -> Result<(), sea_orm::DbErr> {
        let Some(hub) = self.hub.upgrade() else {
            return Ok(());
        };
        let view = self.view(account).await?;
        let contacts = store::contacts::talked_with(&self.db, account, None, MAX_CONTACTS).await?;
        hub.publish(&contacts, Live::Presence(Self::message(account, &view)))
            .await;
        Ok(())
    }

    async fn changed(self: Arc<Self>, account: Uuid, online: bool) {
        let now = Utc::now();
        let key = self.key(account);
        let result = if online {
            self.leases.hold(&key).await
        } else {
            self.leases.release(&key).await
        };
        if let Err(error) = result {
            tracing::warn!(%account, %error, "presence lease not updated");
        }
        if !online {
            if let Err(error) = store::safety::set_last_seen(&self.db, account, now).await {
                tracing::warn!(%account, %error, "last seen not stored");
            }
            // Still online on another replica: nothing changed for others.
            if self.elsewhere(account) {
                return;
            }
        }
        if let Err(error) = self.announce(account).await {
            tracing::warn!(%account, %error, "presence not announced");
        }
    }

    /// Keeps this replica's leases alive, follows the other replicas'
    /// leases, and notices replicas that died.
    pub async fn run(self: Arc<Self>) {
        let watcher = tokio::spawn(self.clone().watch());
        let mut tick = tokio::time::interval(self.ttl / 3);
        loop {
            tick.tick().await;
            let Some(hub) = self.hub.upgrade() else { break };
            for account in hub.local_accounts() {
                if let Err(error) = self.leases.hold(&self.key(account)).await {
                    tracing::warn!(%error, "presence refresh failed");
                    break;
                }
            }
            self.sweep(&hub).await;
        }
        watcher.abort();
    }

    async fn watch(self: Arc<Self>) {
        loop {
            let mut changes = match self.leases.watch().await {
                Ok(changes) => changes,
                Err(error) => {
                    tracing::warn!(%error, "cannot watch presence; retrying");
                    tokio::time::sleep(Duration::from_secs(1)).await;
                    continue;
                }
            };
            while let Some(change) = changes.next().await {
                let (key, held) = match &change {
                    Lease::Held(key) => (key, true),
                    Lease::Released(key) => (key, false),
                };
                let Some((account, replica)) = key.split_once('.') else {
                    continue;
                };
                let Ok(account) = Uuid::parse_str(account) else {
                    continue;
                };
                if replica == self.replica {
                    continue;
                }
                let mut seen = self.lock();
                if held {
                    seen.entry(account)
                        .or_default()
                        .replicas
                        .insert(replica.to_owned(), Instant::now());
                } else if let Some(entry) = seen.get_mut(&account) {
                    entry.replicas.remove(replica);
                }
            }
            // The watch broke (the broker restarted): open it again.
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }

    /// Drops other replicas' keys that were not refreshed within the TTL;
    /// an account left with none went offline with its replica, and this
    /// replica tells its own streams' owners.
    async fn sweep(&self, hub: &Hub) {
        let gone: Vec<Uuid> = {
            let mut seen = self.lock();
            let mut gone = Vec::new();
            seen.retain(|account, entry| {
                let before = entry.replicas.len();
                entry
                    .replicas
                    .retain(|_, refreshed| refreshed.elapsed() < self.ttl);
                if entry.replicas.is_empty() {
                    if before > 0 {
                        gone.push(*account);
                    }
                    return false;
                }
                true
            });
            gone
        };
        for account in gone {
            if hub.is_local(account) {
                continue;
            }
            let result = async {
                let view = self.view(account).await?;
                let local: Vec<Uuid> =
                    store::contacts::talked_with(&self.db, account, None, MAX_CONTACTS)
                        .await?
                        .into_iter()
                        .filter(|contact| hub.is_local(*contact))
                        .collect();
                hub.deliver(&local, &Live::Presence(Self::message(account, &view)));
                Ok::<_, sea_orm::DbErr>(())
            }
            .await;
            if let Err(error) = result {
                tracing::warn!(%account, %error, "lapsed presence not announced");
            }
        }
    }
}

impl Watcher for Presence {
    fn online(&self, account: Uuid, online: bool) {
        // The hub calls this under no lock; the work is async.
        if let Some(this) = self.me.upgrade() {
            tokio::spawn(this.changed(account, online));
        }
    }
}
