//! Identity's secrets at rest. One master key from configuration (a
//! Kubernetes Secret in the mesh; a generated file in the all-in-one)
//! yields two keys: one encrypts what must be read back (signing keys, 2FA
//! secrets) with AES-256-GCM, one peppers the hashes of mailed codes with
//! HMAC-SHA256, so a copy of the database alone opens neither.

use aes_gcm::aead::{Aead, AeadCore, KeyInit, OsRng};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use frevix_platform::error::ApiError;
use hmac::{Hmac, Mac as _};
use rand::RngCore as _;
use secrecy::{ExposeSecret, SecretString};
use sha2::Sha256;

use crate::error::Result;

/// Marks what [`Secrets::seal`] wrote (and its scheme, for later ones).
const SEALED: &str = "sealed:v1:";

/// The keys derived from the master key.
pub struct Secrets {
    cipher: Aes256Gcm,
    pepper: [u8; 32],
}

/// HMAC-SHA256 under a 32-byte key (zero-padded to the block, as HMAC
/// does with any shorter key, so no length can be refused).
pub fn hmac(key: &[u8; 32], parts: &[&[u8]]) -> [u8; 32] {
    let mut block = [0u8; 64];
    block[..32].copy_from_slice(key);
    let mut mac = <Hmac<Sha256> as KeyInit>::new(&block.into());
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().into()
}

fn derive(master: &[u8; 32], purpose: &str) -> [u8; 32] {
    hmac(master, &[purpose.as_bytes()])
}

impl Secrets {
    /// From the configured master key (base64 of 32 bytes), or else the key
    /// kept in `file`, made there on first start.
    pub fn load(master_key: &SecretString, file: &std::path::Path) -> Result<Self> {
        let text = if master_key.expose_secret().is_empty() {
            read_or_create(file)?
        } else {
            master_key.expose_secret().to_owned()
        };
        let master = parse_master_key(&text)
            .map_err(|problem| ApiError::internal(format!("identity.master_key {problem}")))?;
        Ok(Self::from_master(&master))
    }

    pub fn from_master(master: &[u8; 32]) -> Self {
        let key = derive(master, "frevix identity: key encryption v1");
        Self {
            cipher: Aes256Gcm::new(&Key::<Aes256Gcm>::from(key)),
            pepper: derive(master, "frevix identity: code pepper v1"),
        }
    }

    /// `plain` encrypted, as text for a column.
    pub fn seal(&self, plain: &[u8]) -> Result<String> {
        let nonce = Aes256Gcm::generate_nonce(&mut OsRng);
        let sealed = self
            .cipher
            .encrypt(&nonce, plain)
            .map_err(|_| ApiError::internal("encrypting a secret failed".to_owned()))?;
        let mut bytes = nonce.to_vec();
        bytes.extend_from_slice(&sealed);
        Ok(format!("{SEALED}{}", STANDARD.encode(bytes)))
    }

    /// What [`Self::seal`] wrote.
    pub fn open(&self, text: &str) -> Result<Vec<u8>> {
        let broken = || -> crate::error::IdentityError {
            ApiError::internal("a sealed secret does not open with this master key").into()
        };
        let bytes = text
            .strip_prefix(SEALED)
            .and_then(|b64| STANDARD.decode(b64).ok())
            .ok_or_else(broken)?;
        let (nonce, sealed) = bytes.split_first_chunk::<12>().ok_or_else(broken)?;
        self.cipher
            .decrypt(&Nonce::from(*nonce), sealed)
            .map_err(|_| broken())
    }

    /// Whether `text` was written by [`Self::seal`] (older rows are plain).
    pub fn is_sealed(text: &str) -> bool {
        text.starts_with(SEALED)
    }

    /// The key mailed codes are hashed with.
    pub fn pepper(&self) -> &[u8; 32] {
        &self.pepper
    }
}

fn parse_master_key(text: &str) -> std::result::Result<[u8; 32], &'static str> {
    STANDARD
        .decode(text.trim())
        .ok()
        .and_then(|bytes| <[u8; 32]>::try_from(bytes).ok())
        .ok_or("must be the base64 of 32 bytes (openssl rand -base64 32)")
}

/// Whether `text` is a usable master key (for config validation).
pub fn check_master_key(text: &str) -> std::result::Result<(), &'static str> {
    parse_master_key(text).map(|_| ())
}

fn read_or_create(file: &std::path::Path) -> Result<String> {
    if let Ok(text) = std::fs::read_to_string(file) {
        return Ok(text);
    }
    let mut key = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut key);
    let text = STANDARD.encode(key);
    if let Some(dir) = file.parent() {
        std::fs::create_dir_all(dir).map_err(|e| ApiError::internal(e.to_string()))?;
    }
    write_private(file, &text).map_err(|e| {
        ApiError::internal(format!(
            "cannot keep a master key in {}: {e}",
            file.display()
        ))
    })?;
    tracing::info!(file = %file.display(), "generated identity's master key");
    Ok(text)
}

#[cfg(unix)]
fn write_private(file: &std::path::Path, text: &str) -> std::io::Result<()> {
    use std::io::Write as _;
    use std::os::unix::fs::OpenOptionsExt as _;
    std::fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(0o600)
        .open(file)?
        .write_all(text.as_bytes())
}

#[cfg(not(unix))]
fn write_private(file: &std::path::Path, text: &str) -> std::io::Result<()> {
    std::fs::write(file, text)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_only_with_the_same_master_key() {
        let secrets = Secrets::from_master(&[7; 32]);
        let sealed = secrets.seal(b"-----BEGIN PRIVATE KEY-----").unwrap();
        assert!(Secrets::is_sealed(&sealed));
        assert!(!sealed.contains("PRIVATE"));
        assert_eq!(
            secrets.open(&sealed).unwrap(),
            b"-----BEGIN PRIVATE KEY-----"
        );
        assert!(Secrets::from_master(&[8; 32]).open(&sealed).is_err());
        assert_ne!(secrets.pepper(), Secrets::from_master(&[8; 32]).pepper());
    }

    #[test]
    fn a_master_key_is_32_bytes_of_base64() {
        assert!(check_master_key(&STANDARD.encode([1u8; 32])).is_ok());
        assert!(check_master_key("short").is_err());
        assert!(check_master_key(&STANDARD.encode([1u8; 16])).is_err());
    }
}
