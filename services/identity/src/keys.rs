//! Identity's signing keys. Access tokens are signed with the newest ES256
//! key; every key still published is served as JWKS and trusted by
//! verifiers, so keys rotate without logging anyone out: a new key starts
//! signing after the rotation period while the old one stays published until
//! every token it signed has expired. Private keys are stored sealed with
//! the master key (`secrets`); rows written before that are sealed on the
//! next refresh.

use frevix_platform::error::ApiError;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};

use chrono::{DateTime, Duration, Utc};
use frevix_platform::auth::{AccessClaims, KeySet};
use frevix_platform::events::Background;
use jsonwebtoken::jwk::{Jwk, JwkSet, PublicKeyUse};
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header};
use p256::ecdsa::SigningKey;
use p256::pkcs8::{EncodePrivateKey, LineEnding};
use sea_orm::DatabaseConnection;

use crate::error::{IdentityError, Result};
use crate::secrets::Secrets;
use crate::store::keys::{SigningKeyRow, insert_key, list_published_keys, update_private_key};

struct Current {
    kid: String,
    key: EncodingKey,
    jwks: JwkSet,
}

/// The signing key in use and the published public keys.
#[derive(Clone)]
pub struct KeyRing {
    current: Arc<RwLock<Option<Arc<Current>>>>,
    verification: KeySet,
    rotation: Duration,
    publish_margin: Duration,
    secrets: Arc<Secrets>,
}

impl KeyRing {
    /// A ring whose public keys are also shared with `verification`.
    pub fn new(
        verification: KeySet,
        rotation_days: u64,
        access_token_ttl_secs: u64,
        secrets: Arc<Secrets>,
    ) -> Self {
        Self {
            secrets,
            current: Arc::new(RwLock::new(None)),
            verification,
            rotation: Duration::days(i64::try_from(rotation_days).unwrap_or(30)),
            publish_margin: Duration::seconds(i64::try_from(access_token_ttl_secs).unwrap_or(900))
                + Duration::hours(1),
        }
    }

    /// Loads the published keys, adding a new one when none may sign now.
    /// Safe with several replicas: a second new key is merely also published.
    pub async fn refresh(&self, db: &DatabaseConnection) -> Result<()> {
        let now = Utc::now();
        let mut rows = list_published_keys(db, now).await?;
        for row in rows.iter_mut() {
            if !Secrets::is_sealed(&row.private_key_pem) {
                row.private_key_pem = self.secrets.seal(row.private_key_pem.as_bytes())?;
                update_private_key(db, &row.kid, &row.private_key_pem).await?;
                tracing::info!(kid = %row.kid, "sealed a signing key stored in plain text");
            }
        }
        if !rows.iter().any(|row| row.sign_until > now) {
            let row = self.generate(now)?;
            insert_key(db, row.clone()).await?;
            tracing::info!(kid = %row.kid, "generated a new signing key");
            rows.insert(0, row);
        }
        self.install(&rows, now)
    }

    fn generate(&self, now: DateTime<Utc>) -> Result<SigningKeyRow> {
        let signing = SigningKey::random(&mut rand::rngs::OsRng);
        let pem = signing
            .to_pkcs8_pem(LineEnding::LF)
            .map_err(|e| ApiError::internal(format!("encoding signing key: {e}")))?;
        let kid = uuid::Uuid::now_v7().simple().to_string();
        let encoding = EncodingKey::from_ec_pem(pem.as_bytes()).map_err(internal)?;
        let mut jwk = Jwk::from_encoding_key(&encoding, Algorithm::ES256).map_err(internal)?;
        jwk.common.key_id = Some(kid.clone());
        jwk.common.public_key_use = Some(PublicKeyUse::Signature);
        let sign_until = now + self.rotation;
        Ok(SigningKeyRow {
            kid,
            private_key_pem: self.secrets.seal(pem.as_bytes())?,
            public_jwk: serde_json::to_string(&jwk).map_err(internal)?,
            created_at: now,
            sign_until,
            publish_until: sign_until + self.publish_margin,
        })
    }

    fn install(&self, rows: &[SigningKeyRow], now: DateTime<Utc>) -> Result<()> {
        let signer = rows
            .iter()
            .find(|row| row.sign_until > now)
            .ok_or_else(|| ApiError::internal("no signing key".to_owned()))?;
        let mut jwks = JwkSet { keys: Vec::new() };
        let mut verification = HashMap::new();
        for row in rows {
            let jwk: Jwk = serde_json::from_str(&row.public_jwk).map_err(internal)?;
            verification.insert(
                row.kid.clone(),
                DecodingKey::from_jwk(&jwk).map_err(internal)?,
            );
            jwks.keys.push(jwk);
        }
        let pem = self.secrets.open(&signer.private_key_pem)?;
        let current = Current {
            kid: signer.kid.clone(),
            key: EncodingKey::from_ec_pem(&pem).map_err(internal)?,
            jwks,
        };
        self.verification.replace(verification);
        if let Ok(mut guard) = self.current.write() {
            *guard = Some(Arc::new(current));
        }
        Ok(())
    }

    fn current(&self) -> Result<Arc<Current>> {
        self.current
            .read()
            .ok()
            .and_then(|guard| guard.clone())
            .ok_or_else(|| ApiError::internal("signing keys not loaded").into())
    }

    /// Signs an access token with the current key.
    pub fn sign(&self, claims: &AccessClaims) -> Result<String> {
        let current = self.current()?;
        let mut header = Header::new(Algorithm::ES256);
        header.kid = Some(current.kid.clone());
        jsonwebtoken::encode(&header, claims, &current.key).map_err(internal)
    }

    /// The public keys as a JWKS document.
    pub fn jwks(&self) -> Result<JwkSet> {
        Ok(self.current()?.jwks.clone())
    }

    /// Keeps the ring fresh until stopped: picks up keys other replicas
    /// made and rotates.
    pub fn refresher(&self, db: DatabaseConnection) -> Background {
        let ring = self.clone();
        Background::spawn(move |mut stop| async move {
            let mut interval = tokio::time::interval(std::time::Duration::from_secs(600));
            interval.tick().await;
            loop {
                tokio::select! {
                    _ = interval.tick() => {}
                    _ = stop.changed() => return,
                }
                if let Err(error) = ring.refresh(&db).await {
                    tracing::warn!(%error, "signing key refresh failed");
                }
            }
        })
    }
}

fn internal(error: impl std::fmt::Display) -> IdentityError {
    ApiError::internal(error.to_string()).into()
}
