//! The second factor: TOTP (RFC 6238: HMAC-SHA1, six digits, 30-second
//! steps, one step of clock drift either way) and one-time recovery codes.
//! Each code is good for one step only once (see `store::two_factor`).

use rand::Rng as _;
use totp_rs::{Algorithm, TOTP};

/// Seconds a code lasts.
pub const STEP_SECS: u64 = 30;
/// Recovery codes made at a time.
pub const RECOVERY_CODES: usize = 10;
/// What authenticator apps show as the account's issuer.
pub const ISSUER: &str = "Frevix";

/// A new random secret (160 bits, as RFC 4226 recommends).
pub fn generate_secret() -> Vec<u8> {
    let mut secret = vec![0u8; 20];
    rand::rngs::OsRng.fill(secret.as_mut_slice());
    secret
}

fn totp(secret: Vec<u8>, account: &str) -> Option<TOTP> {
    // The account name may not contain a colon (an email never does).
    TOTP::new(
        Algorithm::SHA1,
        6,
        1,
        STEP_SECS,
        secret,
        Some(ISSUER.to_owned()),
        account.replace(':', ""),
    )
    .ok()
}

/// The `otpauth://` URI and the base32 secret for an authenticator app.
pub fn enrolment(secret: &[u8], account: &str) -> Option<(String, String)> {
    let totp = totp(secret.to_vec(), account)?;
    Some((totp.get_url(), totp.get_secret_base32()))
}

/// The step `code` is right for at `now_secs` (this one, or one either
/// side for clock drift), if any.
pub fn matching_step(secret: &[u8], code: &str, now_secs: u64) -> Option<u64> {
    if !is_totp_code(code) {
        return None;
    }
    let totp = totp(secret.to_vec(), "")?;
    let step = now_secs / STEP_SECS;
    [step.saturating_sub(1), step, step + 1]
        .into_iter()
        .find(|candidate| {
            constant_time_eq(
                totp.generate(candidate * STEP_SECS).as_bytes(),
                code.as_bytes(),
            )
        })
}

/// The code an authenticator shows for `secret_base32` at `now_secs`.
pub fn code_at(secret_base32: &str, now_secs: u64) -> Option<String> {
    let secret = totp_rs::Secret::Encoded(secret_base32.to_owned())
        .to_bytes()
        .ok()?;
    Some(totp(secret, "")?.generate(now_secs))
}

/// Six digits: an authenticator's code (anything else may be a recovery code).
pub fn is_totp_code(code: &str) -> bool {
    code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit())
}

/// New recovery codes, `xxxx-xxxx-xxxx` in an alphabet without look-alikes.
pub fn generate_recovery_codes() -> Vec<String> {
    const ALPHABET: &[u8] = b"abcdefghjkmnpqrstuvwxyz23456789";
    let mut rng = rand::rngs::OsRng;
    (0..RECOVERY_CODES)
        .map(|_| {
            let chars: String = (0..12)
                .map(|_| char::from(ALPHABET[rng.gen_range(0..ALPHABET.len())]))
                .collect();
            format!("{}-{}-{}", &chars[..4], &chars[4..8], &chars[8..])
        })
        .collect()
}

/// A recovery code as typed (any case, spaces or dashes) in its stored form.
pub fn normalize_recovery_code(text: &str) -> Option<String> {
    let chars: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_lowercase())
        .collect();
    (chars.len() == 12 && chars.chars().all(|c| c.is_ascii_alphanumeric()))
        .then(|| format!("{}-{}-{}", &chars[..4], &chars[4..8], &chars[8..]))
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_code_is_right_for_its_step_and_one_either_side_only() {
        let secret = generate_secret();
        let (uri, base32) = enrolment(&secret, "ada@example.com").unwrap();
        assert!(
            uri.starts_with("otpauth://totp/Frevix:ada%40example.com?"),
            "{uri}"
        );
        let now = 1_800_000_000;
        let code = code_at(&base32, now).unwrap();
        assert_eq!(matching_step(&secret, &code, now), Some(now / STEP_SECS));
        assert_eq!(
            matching_step(&secret, &code, now + STEP_SECS),
            Some(now / STEP_SECS)
        );
        assert_eq!(matching_step(&secret, &code, now + 3 * STEP_SECS), None);
        assert_eq!(matching_step(&secret, "12345", now), None);
    }

    #[test]
    fn recovery_codes_are_distinct_and_read_back_however_typed() {
        let codes = generate_recovery_codes();
        assert_eq!(codes.len(), RECOVERY_CODES);
        let mut unique = codes.clone();
        unique.sort();
        unique.dedup();
        assert_eq!(unique.len(), RECOVERY_CODES);
        let code = &codes[0];
        assert_eq!(
            normalize_recovery_code(&code.to_uppercase().replace('-', " ")).as_deref(),
            Some(code.as_str())
        );
        assert_eq!(normalize_recovery_code("short"), None);
    }
}
