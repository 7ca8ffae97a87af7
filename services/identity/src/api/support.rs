//! What several handlers need: the live caller, password hashing off the
//! runtime, rate-limit checks, issuing tokens, mailing codes.

use frevix_platform::db::Txn;
use std::sync::LazyLock;

use chrono::{DateTime, Duration, Utc};
use frevix_platform::auth::{AccessClaims, Principal, principal};
use frevix_platform::ids::{AccountId, SessionId};
use frevix_platform::mail::Mail;
use frevix_platform::rate_limit::KeyedLimiter;
use frevix_proto::identity::v1 as pb;
use sea_orm::ConnectionTrait;
use uuid::Uuid;

use super::convert::timestamp;
use crate::Inner;
use crate::domain::account::Email;
use crate::domain::account::{AccountStatus, LoginRefusal, may_log_in};
use crate::domain::codes::{self, CodeCheck, Purpose};
use crate::domain::ids::CodeId;
use crate::domain::{password, tokens};
use crate::error::{IdentityError, Result};
use crate::events;
use crate::store::accounts::{AccountRow, find_account_by_email, roles_of, status_of};
use crate::store::{codes as code_store, sessions};
use frevix_platform::error::{ApiError, FieldViolations};

/// A hash to verify against when the email is unknown, so a login for an
/// unknown email costs as much as one for a known email.
static DUMMY_HASH: LazyLock<String> =
    LazyLock::new(|| password::hash("frevix-timing-equalizer").unwrap_or_default());

/// When a session's holder last proved who they are, and how.
#[derive(Debug, Clone, Copy)]
pub struct Proof {
    pub at: DateTime<Utc>,
    pub second_factor: bool,
}

impl Proof {
    /// What a stored session proved (its creation, for sessions older than
    /// the record).
    pub fn of(session: &sessions::SessionRow) -> Self {
        Self {
            at: session.authenticated_at.unwrap_or(session.created_at),
            second_factor: session.second_factor,
        }
    }
}

impl Inner {
    /// The caller, provided their session is live and their account active:
    /// identity checks this on every call, so logout and suspension take
    /// effect at once here (other services honour tokens until expiry).
    pub async fn live_caller<T>(
        &self,
        request: &tonic::Request<T>,
    ) -> Result<(Principal, AccountRow)> {
        let principal = principal(request).map_err(|_| IdentityError::SessionRevoked)?;
        // One statement: the account, if this session of it is live.
        let (account, _) = self
            .live_callers
            .find(principal.account_id, principal.session_id, Utc::now())
            .await?
            .ok_or(IdentityError::SessionRevoked)?;
        login_allowed(&account)?;
        Ok((principal, account))
    }

    /// [`Inner::live_caller`]'s account, and whether it signs in with a
    /// second factor, in one read (GetMe).
    pub async fn live_caller_and_factor<T>(
        &self,
        request: &tonic::Request<T>,
    ) -> Result<(AccountRow, bool)> {
        let principal = principal(request).map_err(|_| IdentityError::SessionRevoked)?;
        let (account, two_factor) = self
            .live_callers
            .find(principal.account_id, principal.session_id, Utc::now())
            .await?
            .ok_or(IdentityError::SessionRevoked)?;
        login_allowed(&account)?;
        Ok((account, two_factor))
    }

    /// Ends one session of `account` in `txn` and tells every service
    /// (SessionRevoked), so its tokens stop working everywhere at once;
    /// false if there was no such live session.
    pub async fn end_session(
        &self,
        txn: &Txn,
        account: AccountId,
        session: SessionId,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<bool> {
        if !sessions::revoke_session(txn, account, session, reason, now).await? {
            return Ok(false);
        }
        events::session_revoked(&self.outbox, txn, account, session, reason).await?;
        self.record_session_end(txn, account, session, reason)
            .await?;
        Ok(true)
    }

    /// Ends every live session of `account` but `keep`, like [`Self::end_session`].
    pub async fn end_all_sessions(
        &self,
        txn: &Txn,
        account: AccountId,
        keep: Option<SessionId>,
        reason: &str,
        now: DateTime<Utc>,
    ) -> Result<usize> {
        let ended = sessions::revoke_all_sessions(txn, account, keep, reason, now).await?;
        for session in &ended {
            events::session_revoked(&self.outbox, txn, account, *session, reason).await?;
            self.record_session_end(txn, account, *session, reason)
                .await?;
        }
        Ok(ended.len())
    }

    async fn record_session_end(
        &self,
        txn: &impl ConnectionTrait,
        account: AccountId,
        session: SessionId,
        reason: &str,
    ) -> Result<()> {
        let device = sessions::find_session(txn, session).await?;
        let from = crate::store::security_events::Origin {
            ip_address: device
                .as_ref()
                .map(|s| s.ip_address.clone())
                .unwrap_or_default(),
            user_agent: device
                .as_ref()
                .map(|s| s.user_agent.clone())
                .unwrap_or_default(),
            device_name: device.map(|s| s.device_name).unwrap_or_default(),
        };
        self.record(
            txn,
            account,
            super::security::Kind::SessionEnded,
            &from,
            false,
            reason,
        )
        .await
    }

    /// Hashes off the runtime, with at most `max_concurrent_hashes` at once.
    pub async fn hash_password(&self, text: String) -> Result<String> {
        let _permit = self
            .hashing
            .acquire()
            .await
            .map_err(|e| ApiError::internal(e.to_string()))?;
        tokio::task::spawn_blocking(move || password::hash(&text))
            .await
            .map_err(|e| ApiError::internal(e.to_string()))?
            .map_err(IdentityError::from)
    }

    /// Verifies off the runtime; `stored = None` burns the same time and fails.
    pub async fn verify_password(&self, text: String, stored: Option<String>) -> Result<bool> {
        let _permit = self
            .hashing
            .acquire()
            .await
            .map_err(|e| ApiError::internal(e.to_string()))?;
        tokio::task::spawn_blocking(move || match stored {
            Some(stored) => password::verify(&text, &stored),
            None => password::verify(&text, &DUMMY_HASH).map(|_| false),
        })
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?
        .map_err(IdentityError::from)
    }

    /// Creates a session with its first refresh token and signs an access
    /// token; `second_factor` says whether the login proved one.
    pub async fn open_session(
        &self,
        db: &impl ConnectionTrait,
        account: &AccountRow,
        device: (String, String, String),
        second_factor: bool,
        now: DateTime<Utc>,
    ) -> Result<pb::TokenPair> {
        let (device_name, user_agent, ip_address) = device;
        let session_id = SessionId::generate();
        let expires_at =
            now + Duration::days(i64::try_from(self.config.session_ttl_days).unwrap_or(30));
        sessions::insert_session(
            db,
            sessions::NewSession {
                id: session_id,
                account_id: AccountId(account.id),
                device_name,
                user_agent,
                ip_address,
                now,
                expires_at,
                second_factor,
            },
        )
        .await?;
        let proof = Proof {
            at: now,
            second_factor,
        };
        self.rotate_tokens(db, account, session_id, expires_at, proof, now)
            .await
    }

    /// Stores a fresh refresh token for `session` and signs an access token
    /// carrying the session's last `proof` of who holds it.
    pub async fn rotate_tokens(
        &self,
        db: &impl ConnectionTrait,
        account: &AccountRow,
        session: SessionId,
        session_expires_at: DateTime<Utc>,
        proof: Proof,
        now: DateTime<Utc>,
    ) -> Result<pb::TokenPair> {
        let refresh_token = tokens::generate_refresh_token();
        sessions::insert_refresh_token(
            db,
            session,
            tokens::hash_refresh_token(&refresh_token),
            now,
        )
        .await?;
        let (access_token, expires_at) = self.sign_access_token(account, session, proof, now)?;
        Ok(pb::TokenPair {
            access_token,
            access_token_expire_time: Some(timestamp(expires_at)),
            refresh_token,
            refresh_token_expire_time: Some(timestamp(session_expires_at)),
            session_id: session.to_string(),
        })
    }

    /// An access token for `session`, and when it expires.
    pub fn sign_access_token(
        &self,
        account: &AccountRow,
        session: SessionId,
        proof: Proof,
        now: DateTime<Utc>,
    ) -> Result<(String, DateTime<Utc>)> {
        let ttl =
            Duration::seconds(i64::try_from(self.config.access_token_ttl_secs).unwrap_or(900));
        let expires_at = now + ttl;
        let claims = AccessClaims {
            sub: account.id.to_string(),
            sid: session.to_string(),
            roles: roles_of(account).to_vec(),
            iss: self.auth.issuer.clone(),
            aud: self.auth.audience.clone(),
            iat: now.timestamp(),
            exp: expires_at.timestamp(),
            jti: Uuid::new_v4().to_string(),
            auth_time: proof.at.timestamp(),
            mfa: proof.second_factor,
        };
        Ok((self.keys.sign(&claims)?, expires_at))
    }

    /// Stores a new code of `purpose` and queues its mail in `txn` (sent
    /// after the commit, so the answer takes as long whether or not an
    /// email goes out, and a crash after the commit only delays it).
    pub async fn send_code(
        &self,
        db: &Txn,
        account: &AccountRow,
        purpose: Purpose,
        now: DateTime<Utc>,
    ) -> Result<()> {
        let code = codes::generate();
        let id = CodeId::generate();
        let ttl = Duration::seconds(i64::try_from(self.config.code_ttl_secs).unwrap_or(900));
        code_store::replace_code(
            db,
            AccountId(account.id),
            purpose,
            id,
            codes::hash(self.secrets.pepper(), id.0, &code),
            now + ttl,
            now,
        )
        .await?;
        let minutes = self.config.code_ttl_secs / 60;
        let (subject, what) = match purpose {
            Purpose::VerifyEmail => ("Your Frevix verification code", "verify your email address"),
            Purpose::ResetPassword => ("Your Frevix password reset code", "reset your password"),
        };
        let mail = Mail {
            to: account.email.clone(),
            subject: subject.to_owned(),
            text: format!(
                "Hello {name},\n\nUse this code to {what} on Frevix:\n\n    {code}\n\n\
                 It expires in {minutes} minutes. If you did not ask for it, ignore this message.\n",
                name = account.display_name,
            ),
        };
        self.mail.queue(db, &mail).await?;
        Ok(())
    }

    /// Mails a fresh code of `purpose` to `email_text` if it belongs to an
    /// account that `eligible` accepts; limits apply to every address asked
    /// about, so neither the answer nor a refusal reveals whether it exists.
    pub async fn mail_code_on_request(
        &self,
        client_address: &str,
        email_text: &str,
        purpose: Purpose,
        eligible: impl Fn(&AccountRow) -> bool,
    ) -> Result<()> {
        let mut violations = FieldViolations::new();
        let email = Email::parse("email", email_text, &mut violations);
        let email = violations
            .finish(email)?
            .ok_or(IdentityError::CodeInvalid)?;
        within(&self.limits.mail_per_address, client_address)?;
        within(&self.limits.mail_per_email, email.as_str())?;
        if let Some(account) = find_account_by_email(&self.db, email.as_str()).await?
            && eligible(&account)
        {
            let txn = Txn::begin(&self.db).await?;
            self.send_code(&txn, &account, purpose, Utc::now()).await?;
            txn.commit().await?;
        }
        Ok(())
    }

    /// Code checks (VerifyEmail, ResetPassword) per client address and per
    /// email, whether or not the email has an account.
    pub fn within_code_limits(&self, client_address: &str, email: &str) -> Result<()> {
        within(&self.limits.code_per_address, client_address)?;
        within(&self.limits.code_per_email, email)
    }

    /// Checks a mailed code. The attempt is counted before the comparison,
    /// atomically (see [`code_store::claim_attempt`]), so concurrency cannot
    /// buy extra guesses. Returns the code's id.
    pub async fn check_code(
        &self,
        account: &AccountRow,
        purpose: Purpose,
        given: &str,
    ) -> Result<CodeId> {
        let Some((stored, _)) =
            code_store::find_latest_code(&self.db, AccountId(account.id), purpose).await?
        else {
            return Err(IdentityError::CodeInvalid);
        };
        let now = Utc::now();
        let max_attempts = self.config.code_max_attempts;
        let refused = |check| match check {
            CodeCheck::AttemptsExceeded => IdentityError::CodeAttemptsExceeded,
            _ => IdentityError::CodeInvalid,
        };
        if let Some(check) = codes::untriable(&stored, now, max_attempts) {
            return Err(refused(check));
        }
        let Some(claimed) =
            code_store::claim_attempt(&self.db, CodeId(stored.id), max_attempts, now).await?
        else {
            // Another request took the last attempt meanwhile, or the code expired.
            let latest = code_store::find_latest_code(&self.db, AccountId(account.id), purpose)
                .await?
                .and_then(|(latest, _)| codes::refusal(&latest, now, max_attempts));
            return Err(latest.map_or(IdentityError::CodeInvalid, refused));
        };
        if claimed.consumed {
            // Used already: the attempt counted, and the code works no more.
            return Err(IdentityError::CodeInvalid);
        }
        if codes::matches(self.secrets.pepper(), stored.id, &claimed.code_hash, given) {
            Ok(CodeId(stored.id))
        } else {
            Err(IdentityError::CodeInvalid)
        }
    }
}

/// Whether the account may hold a session.
pub fn login_allowed(account: &AccountRow) -> Result<()> {
    may_log_in(status_of(account)).map_err(|refusal| match refusal {
        LoginRefusal::EmailNotVerified => IdentityError::EmailNotVerified,
        LoginRefusal::Suspended => IdentityError::AccountSuspended,
    })
}

/// `Ok` if `key` is within `limiter`'s rate.
pub fn within(limiter: &KeyedLimiter, key: &str) -> Result<()> {
    limiter
        .check(key)
        .map_err(|wait| ApiError::RateLimited(wait).into())
}

/// Whether an account is waiting for verification.
pub fn is_pending(account: &AccountRow) -> bool {
    status_of(account) == AccountStatus::PendingVerification
}
