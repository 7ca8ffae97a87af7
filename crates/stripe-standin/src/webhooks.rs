//! Webhook deliveries as Stripe makes them: each event signed
//! (`Stripe-Signature: t=…,v1=HMAC-SHA256(secret, "t.payload")`) and POSTed
//! to the endpoint until it answers 2xx, retried with a growing pause. A
//! test can make deliveries go wrong the ways real ones do: repeated,
//! out of order, dropped (retried later) or late.

use std::collections::VecDeque;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hmac::{Hmac, Mac};
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::client::legacy::connect::HttpConnector;
use hyper_util::rt::TokioExecutor;
use rand::Rng;
use serde_json::json;
use sha2::Sha256;

use crate::objects::{new_id, now};
use crate::{Event, StandIn};

/// Where events go.
#[derive(Debug, Clone)]
pub struct Endpoint {
    pub url: String,
    /// The signing secret (`whsec_…`).
    pub secret: String,
}

/// An event waiting for its endpoint to take it.
#[derive(Debug, Clone)]
pub(crate) struct Pending {
    pub id: String,
    pub kind: &'static str,
    pub payload: String,
    pub attempts: u32,
    pub due: Instant,
}

/// What happened to one event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivered {
    pub id: String,
    pub kind: &'static str,
    /// POSTs the endpoint answered 2xx (more than one: a duplicate).
    pub accepted: u32,
    pub attempts: u32,
}

const FIRST_RETRY: Duration = Duration::from_millis(200);
const LAST_RETRY: Duration = Duration::from_secs(5);
/// Stripe gives up after three days; the stand-in after this many tries.
const MAX_ATTEMPTS: u32 = 200;

/// `payload` signed with `secret` at `timestamp`, as the header carries it.
pub fn signature(payload: &str, secret: &str, timestamp: i64) -> String {
    // HMAC takes keys of any length: the error cannot happen.
    let v1 = <Hmac<Sha256> as Mac>::new_from_slice(secret.as_bytes())
        .map(|mut mac| {
            mac.update(format!("{timestamp}.{payload}").as_bytes());
            hex::encode(mac.finalize().into_bytes())
        })
        .unwrap_or_default();
    format!("t={timestamp},v1={v1}")
}

impl StandIn {
    /// Queues `event` for the endpoint.
    pub(crate) fn queue(&self, event: Event) {
        let id = new_id("evt");
        let mut body = json!({
            "id": id,
            "object": "event",
            "api_version": stripe_shared::version::VERSION.as_str(),
            "created": now(),
            "data": { "object": event.object },
            "livemode": false,
            "pending_webhooks": 1,
            "request": { "id": null, "idempotency_key": null },
            "type": event.kind,
        });
        if let Some(account) = event.account {
            body["account"] = json!(account);
        }
        let payload = body.to_string();
        // The event must parse the way an endpoint using async-stripe
        // parses it: signature and all.
        let header = signature(&payload, "whsec_check", now());
        if let Err(error) =
            stripe_webhook::Webhook::construct_event(&payload, &header, "whsec_check")
        {
            tracing::error!(%error, payload, "the stand-in made an event async-stripe cannot parse");
            self.hooks().malformed.push(payload);
            return;
        }
        let mut hooks = self.hooks();
        hooks.pending.push_back(Pending {
            id,
            kind: event.kind,
            payload,
            attempts: 0,
            due: Instant::now() + self.faults().delay,
        });
        drop(hooks);
        self.inner.wake.notify_one();
    }

    /// Delivers what is due, for as long as the stand-in runs.
    pub(crate) async fn deliver_forever(self) {
        let client: Client<HttpConnector, Full<Bytes>> =
            Client::builder(TokioExecutor::new()).build_http();
        loop {
            let due = self.take_due();
            for pending in due {
                self.attempt(&client, pending).await;
            }
            tokio::select! {
                () = self.inner.wake.notified() => {}
                () = tokio::time::sleep(Duration::from_millis(50)) => {}
            }
        }
    }

    fn take_due(&self) -> Vec<Pending> {
        let mut hooks = self.hooks();
        if hooks.endpoint.is_none() {
            return Vec::new();
        }
        let now = Instant::now();
        let (due, waiting): (VecDeque<Pending>, VecDeque<Pending>) =
            hooks.pending.drain(..).partition(|p| p.due <= now);
        hooks.pending = waiting;
        let mut due: Vec<Pending> = due.into();
        if self.faults().reorder {
            due.reverse();
        }
        due
    }

    async fn attempt(&self, client: &Client<HttpConnector, Full<Bytes>>, mut pending: Pending) {
        let faults = self.faults();
        let Some(endpoint) = self.hooks().endpoint.clone() else {
            self.hooks().pending.push_back(pending);
            return;
        };
        pending.attempts += 1;
        let dropped = faults.drop_rate > 0.0 && rand::thread_rng().gen_bool(faults.drop_rate);
        let mut accepted = 0;
        if !dropped {
            let copies = if faults.duplicate_rate > 0.0
                && rand::thread_rng().gen_bool(faults.duplicate_rate)
            {
                2
            } else {
                1
            };
            for _ in 0..copies {
                if post(client, &endpoint, &pending.payload).await {
                    accepted += 1;
                }
            }
        }
        let mut hooks = self.hooks();
        let record = match hooks.delivered.iter_mut().find(|d| d.id == pending.id) {
            Some(record) => record,
            None => {
                hooks.delivered.push(Delivered {
                    id: pending.id.clone(),
                    kind: pending.kind,
                    accepted: 0,
                    attempts: 0,
                });
                let last = hooks.delivered.len() - 1;
                &mut hooks.delivered[last]
            }
        };
        record.accepted += accepted;
        record.attempts = pending.attempts;
        if accepted == 0 && pending.attempts < MAX_ATTEMPTS {
            let pause = FIRST_RETRY
                .saturating_mul(2u32.saturating_pow(pending.attempts.min(6)))
                .min(LAST_RETRY);
            pending.due = Instant::now() + pause;
            hooks.pending.push_back(pending);
        }
    }
}

/// POSTs one signed delivery; true when the endpoint took it (2xx).
async fn post(
    client: &Client<HttpConnector, Full<Bytes>>,
    endpoint: &Endpoint,
    payload: &str,
) -> bool {
    let request = axum::http::Request::post(&endpoint.url)
        .header("content-type", "application/json; charset=utf-8")
        .header(
            "user-agent",
            "Stripe/1.0 (+https://stripe.com/docs/webhooks)",
        )
        .header(
            "stripe-signature",
            signature(payload, &endpoint.secret, now()),
        )
        .body(Full::new(Bytes::from(payload.to_owned())));
    let Ok(request) = request else {
        return false;
    };
    match tokio::time::timeout(Duration::from_secs(10), client.request(request)).await {
        Ok(Ok(response)) => response.status().is_success(),
        Ok(Err(error)) => {
            tracing::debug!(%error, url = endpoint.url, "webhook endpoint unreachable");
            false
        }
        Err(_) => false,
    }
}
