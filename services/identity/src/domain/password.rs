//! Password policy and hashing. Hashes are argon2id with OWASP's minimum
//! parameters (19 MiB, 2 passes, 1 lane); hashing costs ~15 ms of a core, so
//! callers run it off the async runtime and bound how many run at once.

use std::collections::HashSet;
use std::sync::LazyLock;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHash, PasswordHasher as _, PasswordVerifier as _, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};
use frevix_platform::error::FieldViolations;

pub const MIN_LENGTH: usize = 10;
pub const MAX_LENGTH: usize = 128;

/// Common passwords of at least [`MIN_LENGTH`] characters, lower-cased.
static COMMON: LazyLock<HashSet<&'static str>> =
    LazyLock::new(|| include_str!("common_passwords.txt").lines().collect());

/// Records why `password` is not acceptable for the account `email`.
pub fn check_policy(field: &str, password: &str, email: &str, violations: &mut FieldViolations) {
    let length = password.chars().count();
    if !(MIN_LENGTH..=MAX_LENGTH).contains(&length) {
        violations.add(
            field,
            format!("must be {MIN_LENGTH} to {MAX_LENGTH} characters"),
        );
        return;
    }
    let lowered = password.to_lowercase();
    if lowered == email.to_lowercase() {
        violations.add(field, "must not be the email address");
    } else if COMMON.contains(lowered.as_str()) {
        violations.add(field, "is too common; choose another");
    }
}

/// A password hashing failure (only on broken parameters or stored hashes).
#[derive(Debug, thiserror::Error)]
#[error("password hashing: {0}")]
pub struct HashError(String);

fn argon2() -> Result<Argon2<'static>, HashError> {
    let params = Params::new(19 * 1024, 2, 1, None).map_err(|e| HashError(e.to_string()))?;
    Ok(Argon2::new(Algorithm::Argon2id, Version::V0x13, params))
}

/// Hashes a password into a PHC string. Blocking: call off the runtime.
pub fn hash(password: &str) -> Result<String, HashError> {
    let salt = SaltString::generate(&mut OsRng);
    argon2()?
        .hash_password(password.as_bytes(), &salt)
        .map(|hash| hash.to_string())
        .map_err(|e| HashError(e.to_string()))
}

/// Checks a password against a stored PHC string. Blocking: call off the runtime.
pub fn verify(password: &str, stored: &str) -> Result<bool, HashError> {
    let parsed = PasswordHash::new(stored).map_err(|e| HashError(e.to_string()))?;
    Ok(argon2()?
        .verify_password(password.as_bytes(), &parsed)
        .is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn violations_of(password: &str) -> Vec<String> {
        let mut violations = FieldViolations::new();
        check_policy("password", password, "ada@example.com", &mut violations);
        violations.iter().map(|(_, d)| d.to_owned()).collect()
    }

    #[test]
    fn short_long_common_and_email_passwords_are_refused() {
        assert_eq!(violations_of("short").len(), 1);
        assert_eq!(violations_of(&"x".repeat(129)).len(), 1);
        assert_eq!(
            violations_of("1234567890"),
            ["is too common; choose another"]
        );
        assert_eq!(
            violations_of("Ada@Example.com"),
            ["must not be the email address"]
        );
        assert!(violations_of("correct horse battery staple").is_empty());
    }

    #[test]
    fn a_hash_verifies_only_its_password() {
        let stored = hash("correct horse battery staple").unwrap();
        assert!(stored.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"));
        assert!(verify("correct horse battery staple", &stored).unwrap());
        assert!(!verify("wrong horse battery staple", &stored).unwrap());
    }
}
