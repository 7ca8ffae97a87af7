//! Identity's public keys fetched over HTTP for services in other processes.
//! Keys are cached, fetched again on a timer, and at once (at most every few
//! seconds) when a token names a `kid` not seen yet, so a key rotation is
//! picked up without a restart.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use bytes::Bytes;
use http_body_util::{BodyExt, Empty};
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use jsonwebtoken::DecodingKey;
use jsonwebtoken::jwk::JwkSet;
use tokio::sync::Mutex;

/// Fewest seconds between two fetches caused by unknown key ids.
const MIN_REFETCH: Duration = Duration::from_secs(5);

struct Cache {
    keys: HashMap<String, DecodingKey>,
    fetched_at: Option<Instant>,
}

/// What a key lookup found.
pub enum Lookup {
    Found(DecodingKey),
    /// Identity's set does not have it: the token is not ours.
    Unknown,
    /// Not cached, and identity's set could not be fetched just now.
    Unreachable,
}

/// A cached JWKS endpoint.
pub struct RemoteJwks {
    url: String,
    refresh: Duration,
    cache: Mutex<Cache>,
}

impl RemoteJwks {
    pub fn new(url: String, refresh: Duration) -> Self {
        Self {
            url,
            refresh,
            cache: Mutex::new(Cache {
                keys: HashMap::new(),
                fetched_at: None,
            }),
        }
    }

    /// The key for `kid`, fetching the set when it is stale or lacks the key.
    pub async fn key(&self, kid: &str) -> Lookup {
        let mut cache = self.cache.lock().await;
        let age = cache.fetched_at.map(|at| at.elapsed());
        let stale = age.is_none_or(|age| age > self.refresh);
        let unknown = !cache.keys.contains_key(kid) && age.is_none_or(|age| age > MIN_REFETCH);
        let mut unreachable = false;
        if stale || unknown {
            match fetch(&self.url).await {
                Ok(keys) => {
                    cache.keys = keys;
                    cache.fetched_at = Some(Instant::now());
                }
                Err(error) => {
                    tracing::warn!(url = %self.url, %error, "jwks fetch failed; keeping cached keys");
                    unreachable = true;
                }
            }
        }
        match cache.keys.get(kid) {
            Some(key) => Lookup::Found(key.clone()),
            // Not known, and identity could not be asked: a new key (after
            // a restart of this process or a rotation) cannot be told from
            // a made-up one until it answers.
            None if unreachable => Lookup::Unreachable,
            None => Lookup::Unknown,
        }
    }
}

async fn fetch(
    url: &str,
) -> Result<HashMap<String, DecodingKey>, Box<dyn std::error::Error + Send + Sync>> {
    let client: Client<_, Empty<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let uri: http::Uri = url.parse()?;
    let response = tokio::time::timeout(Duration::from_secs(5), client.get(uri)).await??;
    if !response.status().is_success() {
        return Err(format!("jwks answered {}", response.status()).into());
    }
    let body = response.into_body().collect().await?.to_bytes();
    let set: JwkSet = serde_json::from_slice(&body)?;
    let mut keys = HashMap::new();
    for jwk in &set.keys {
        if let (Some(kid), Ok(key)) = (jwk.common.key_id.clone(), DecodingKey::from_jwk(jwk)) {
            keys.insert(kid, key);
        }
    }
    Ok(keys)
}
