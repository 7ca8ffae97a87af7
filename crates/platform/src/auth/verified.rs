//! Tokens whose signature was verified, remembered until they expire.
//!
//! Checking an ES256 signature is the dearest part of an authenticated
//! call, and an app sends the same access token on every call for the
//! token's whole life. Only what the signature proves is remembered: the
//! caller still looks the token's key up among the trusted keys (a key
//! withdrawn by identity is refused at once) and asks the deny list on every
//! call (revocation and suspension win at once). Entries are keyed by a
//! SHA-256 of the token, so the tokens themselves are not kept, and a
//! forged signature on a known header and body is a different key.

use std::collections::HashMap;
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};

use super::claims::Principal;

/// Most tokens remembered (about 150 bytes each).
pub const CAPACITY: usize = 50_000;

type Fingerprint = [u8; 32];

/// A bounded map of verified tokens to their principals.
pub struct VerifiedTokens {
    entries: Mutex<HashMap<Fingerprint, Principal>>,
    capacity: usize,
}

impl Default for VerifiedTokens {
    fn default() -> Self {
        Self::with_capacity(CAPACITY)
    }
}

impl VerifiedTokens {
    pub fn with_capacity(capacity: usize) -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            capacity,
        }
    }

    /// The principal of `token`, if it was verified and has not expired by
    /// `now` (an expired one is verified again, which says why it fails).
    pub fn get(&self, token: &str, now: DateTime<Utc>) -> Option<Principal> {
        let key = fingerprint(token);
        let entries = self.entries.lock().ok()?;
        entries
            .get(&key)
            .filter(|principal| principal.expires_at > now)
            .cloned()
    }

    /// Remembers that `token` verified as `principal`. When full, expired
    /// entries go first; if none had expired, everything goes (the next calls
    /// verify again), which keeps the bound without bookkeeping per entry.
    pub fn insert(&self, token: &str, principal: &Principal, now: DateTime<Utc>) {
        let key = fingerprint(token);
        let Ok(mut entries) = self.entries.lock() else {
            return;
        };
        if entries.len() >= self.capacity {
            entries.retain(|_, principal| principal.expires_at > now);
            if entries.len() >= self.capacity {
                entries.clear();
            }
        }
        entries.insert(key, principal.clone());
    }

    #[cfg(test)]
    fn len(&self) -> usize {
        self.entries
            .lock()
            .map(|entries| entries.len())
            .unwrap_or(0)
    }
}

fn fingerprint(token: &str) -> Fingerprint {
    Sha256::digest(token.as_bytes()).into()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Roles;
    use crate::ids::{AccountId, SessionId};

    fn principal(expires_at: DateTime<Utc>) -> Principal {
        Principal {
            account_id: AccountId(uuid::Uuid::now_v7()),
            session_id: SessionId(uuid::Uuid::now_v7()),
            roles: Roles::default(),
            expires_at,
            authenticated_at: expires_at - chrono::Duration::minutes(15),
            second_factor: false,
        }
    }

    #[test]
    fn a_token_is_remembered_until_it_expires() {
        let now = Utc::now();
        let tokens = VerifiedTokens::default();
        let p = principal(now + chrono::Duration::minutes(5));
        tokens.insert("a.b.c", &p, now);
        assert_eq!(
            tokens.get("a.b.c", now).map(|p| p.account_id),
            Some(p.account_id)
        );
        assert!(tokens.get("a.b.d", now).is_none(), "another token is not");
        assert!(
            tokens
                .get("a.b.c", now + chrono::Duration::minutes(5))
                .is_none(),
            "an expired token is verified again"
        );
    }

    #[test]
    fn the_bound_holds_and_expired_entries_leave_first() {
        let now = Utc::now();
        let tokens = VerifiedTokens::with_capacity(3);
        tokens.insert("old", &principal(now - chrono::Duration::seconds(1)), now);
        tokens.insert("a", &principal(now + chrono::Duration::minutes(5)), now);
        tokens.insert("b", &principal(now + chrono::Duration::minutes(5)), now);
        tokens.insert("c", &principal(now + chrono::Duration::minutes(5)), now);
        assert_eq!(tokens.len(), 3, "the expired entry made room");
        assert!(tokens.get("a", now).is_some());
        tokens.insert("d", &principal(now + chrono::Duration::minutes(5)), now);
        assert_eq!(tokens.len(), 1, "full of live entries: it starts over");
        assert!(tokens.get("d", now).is_some());
    }
}
