//! The deny list: access tokens that verify but must no longer be honoured,
//! because their session was revoked (logout, password change, a reused
//! refresh token) or their account suspended. Identity announces these as
//! events; every process keeps the list in memory, fed by
//! [`super::deny_feed`] and reloaded from its database at start, so access
//! ends within moments of the event everywhere, not at token expiry. Open
//! streams watch [`DenyList::changes`] and end as soon as their caller is
//! denied.

use std::collections::{HashMap, HashSet};
use std::sync::RwLock;

use chrono::{DateTime, Utc};
use tokio::sync::watch;

use super::claims::Principal;
use super::verifier::AuthError;
use crate::ids::{AccountId, SessionId};

/// Why a verified token is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Denial {
    SessionRevoked,
    AccountSuspended,
}

impl From<Denial> for AuthError {
    fn from(denial: Denial) -> Self {
        match denial {
            Denial::SessionRevoked => AuthError::SessionRevoked,
            Denial::AccountSuspended => AuthError::AccountSuspended,
        }
    }
}

/// Revoked sessions (until their last token would have expired) and
/// suspended accounts.
pub struct DenyList {
    sessions: RwLock<HashMap<SessionId, DateTime<Utc>>>,
    accounts: RwLock<HashSet<AccountId>>,
    /// Bumped on every addition, so watchers re-check.
    changes: watch::Sender<u64>,
}

impl Default for DenyList {
    fn default() -> Self {
        Self {
            sessions: RwLock::default(),
            accounts: RwLock::default(),
            changes: watch::channel(0).0,
        }
    }
}

impl DenyList {
    /// Why `principal` is refused at `now`, if it is.
    pub fn denial(&self, principal: &Principal, now: DateTime<Utc>) -> Option<Denial> {
        if self
            .accounts
            .read()
            .is_ok_and(|accounts| accounts.contains(&principal.account_id))
        {
            return Some(Denial::AccountSuspended);
        }
        let revoked = self.sessions.read().is_ok_and(|sessions| {
            sessions
                .get(&principal.session_id)
                .is_some_and(|until| *until > now)
        });
        revoked.then_some(Denial::SessionRevoked)
    }

    /// Denies `session` until `until` (when its last token expires anyway).
    pub fn revoke_session(&self, session: SessionId, until: DateTime<Utc>, now: DateTime<Utc>) {
        if let Ok(mut sessions) = self.sessions.write() {
            // Entries past their time are dropped as new ones come, so the
            // map holds only the last token lifetime's revocations.
            sessions.retain(|_, until| *until > now);
            sessions.insert(session, until);
        }
        self.changed();
    }

    pub fn suspend(&self, account: AccountId) {
        if let Ok(mut accounts) = self.accounts.write() {
            accounts.insert(account);
        }
        self.changed();
    }

    pub fn reinstate(&self, account: AccountId) {
        if let Ok(mut accounts) = self.accounts.write() {
            accounts.remove(&account);
        }
    }

    /// Ticks whenever something is denied.
    pub fn changes(&self) -> watch::Receiver<u64> {
        self.changes.subscribe()
    }

    fn changed(&self) {
        self.changes.send_modify(|n| *n = n.wrapping_add(1));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::auth::Roles;

    fn principal() -> Principal {
        Principal {
            account_id: AccountId::generate(),
            session_id: SessionId::generate(),
            roles: Roles::default(),
            expires_at: Utc::now() + chrono::Duration::minutes(15),
            authenticated_at: Utc::now(),
            second_factor: false,
        }
    }

    #[test]
    fn a_revoked_session_is_denied_until_its_tokens_would_expire() {
        let list = DenyList::default();
        let caller = principal();
        let now = Utc::now();
        assert_eq!(list.denial(&caller, now), None);
        let until = now + chrono::Duration::minutes(15);
        list.revoke_session(caller.session_id, until, now);
        assert_eq!(list.denial(&caller, now), Some(Denial::SessionRevoked));
        assert_eq!(list.denial(&caller, until), None);
        assert_eq!(list.denial(&principal(), now), None);
    }

    #[test]
    fn a_suspended_account_is_denied_until_reinstated_and_watchers_hear_of_it() {
        let list = DenyList::default();
        let changes = list.changes();
        let caller = principal();
        list.suspend(caller.account_id);
        assert!(changes.has_changed().unwrap_or(false));
        assert_eq!(
            list.denial(&caller, Utc::now()),
            Some(Denial::AccountSuspended)
        );
        list.reinstate(caller.account_id);
        assert_eq!(list.denial(&caller, Utc::now()), None);
    }
}
