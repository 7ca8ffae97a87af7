//! One-time email codes (verification, password reset): six digits, stored
//! only as a salted hash, valid for a limited time and a limited number of
//! attempts, so guessing one online is hopeless.

use chrono::{DateTime, Utc};
use rand::Rng;
use uuid::Uuid;

/// What a code is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Purpose {
    VerifyEmail,
    ResetPassword,
}

impl Purpose {
    pub fn as_str(self) -> &'static str {
        match self {
            Purpose::VerifyEmail => "VERIFY_EMAIL",
            Purpose::ResetPassword => "RESET_PASSWORD",
        }
    }
}

/// A new random six-digit code.
pub fn generate() -> String {
    format!("{:06}", rand::rngs::OsRng.gen_range(0..1_000_000))
}

/// The stored form of `code`: an HMAC under the configured pepper, salted
/// with the code row's id, so a copy of the database alone does not let
/// anyone try the million codes offline.
pub fn hash(pepper: &[u8; 32], id: Uuid, code: &str) -> String {
    crate::secrets::hmac(pepper, &[id.as_bytes(), code.as_bytes()])
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Whether `text` looks like a code at all.
pub fn is_well_formed(text: &str) -> bool {
    text.len() == 6 && text.bytes().all(|b| b.is_ascii_digit())
}

/// A stored code as the check needs it.
#[derive(Debug, Clone)]
pub struct StoredCode {
    pub id: Uuid,
    pub code_hash: String,
    pub attempts: i32,
    pub expires_at: DateTime<Utc>,
    pub consumed: bool,
}

/// The outcome of presenting a code.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CodeCheck {
    Accepted,
    /// Wrong: the attempt counts.
    Wrong,
    /// Expired or already used.
    Expired,
    /// Too many wrong attempts: even the right code is refused now.
    AttemptsExceeded,
}

/// Why `stored` cannot be tried at all now, if it cannot. A code is tried
/// at most `max_attempts` times in all, used or not, so the number of tries
/// is the same however requests interleave with the one that used it.
pub fn refusal(stored: &StoredCode, now: DateTime<Utc>, max_attempts: i32) -> Option<CodeCheck> {
    untriable(stored, now, max_attempts).or(stored.consumed.then_some(CodeCheck::Expired))
}

/// Why `stored` cannot take another attempt, if it cannot: expired, or out
/// of attempts. A used code still counts attempts (see [`refusal`]).
pub fn untriable(stored: &StoredCode, now: DateTime<Utc>, max_attempts: i32) -> Option<CodeCheck> {
    if now >= stored.expires_at {
        return Some(CodeCheck::Expired);
    }
    if stored.attempts >= max_attempts {
        return Some(CodeCheck::AttemptsExceeded);
    }
    None
}

/// Whether `given` is the code stored as `code_hash` under the row `id`.
pub fn matches(pepper: &[u8; 32], id: Uuid, code_hash: &str, given: &str) -> bool {
    constant_time_eq(hash(pepper, id, given).as_bytes(), code_hash.as_bytes())
}

/// Checks `given` against `stored`.
pub fn check(
    pepper: &[u8; 32],
    stored: &StoredCode,
    given: &str,
    now: DateTime<Utc>,
    max_attempts: i32,
) -> CodeCheck {
    if let Some(refused) = refusal(stored, now, max_attempts) {
        return refused;
    }
    if matches(pepper, stored.id, &stored.code_hash, given) {
        CodeCheck::Accepted
    } else {
        CodeCheck::Wrong
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    const PEPPER: [u8; 32] = [3; 32];

    fn stored(code: &str, attempts: i32) -> StoredCode {
        let id = Uuid::new_v4();
        StoredCode {
            id,
            code_hash: hash(&PEPPER, id, code),
            attempts,
            expires_at: Utc::now() + chrono::Duration::minutes(15),
            consumed: false,
        }
    }

    #[test]
    fn codes_are_six_digits() {
        for _ in 0..100 {
            assert!(is_well_formed(&generate()));
        }
    }

    #[test]
    fn the_right_code_is_accepted_until_the_attempts_run_out() {
        let now = Utc::now();
        assert_eq!(
            check(&PEPPER, &stored("123456", 0), "123456", now, 5),
            CodeCheck::Accepted
        );
        assert_eq!(
            check(&PEPPER, &stored("123456", 0), "654321", now, 5),
            CodeCheck::Wrong
        );
        assert_eq!(
            check(&PEPPER, &stored("123456", 5), "123456", now, 5),
            CodeCheck::AttemptsExceeded
        );
    }

    #[test]
    fn expired_or_used_codes_are_refused() {
        let code = stored("123456", 0);
        let later = code.expires_at + chrono::Duration::seconds(1);
        assert_eq!(
            check(&PEPPER, &code, "123456", later, 5),
            CodeCheck::Expired
        );
        let used = StoredCode {
            consumed: true,
            ..stored("123456", 0)
        };
        assert_eq!(
            check(&PEPPER, &used, "123456", Utc::now(), 5),
            CodeCheck::Expired
        );
        // A used code still counts its tries: out of them, it says so.
        let used_up = StoredCode {
            consumed: true,
            ..stored("123456", 5)
        };
        assert_eq!(
            check(&PEPPER, &used_up, "654321", Utc::now(), 5),
            CodeCheck::AttemptsExceeded
        );
        assert_eq!(untriable(&used, Utc::now(), 5), None);
    }
}
