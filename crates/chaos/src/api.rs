//! How the driver calls Frevix: as an app does, through Envoy, each saga
//! from a client address of its own (so the gateway's per-address limits
//! on sign-in meet a crowd, not one caller), retrying what a killed
//! service, a restarting broker or database or a shed request makes fail,
//! with the same idempotency key. Every failed answer is counted by RPC and
//! code: INTERNAL or UNAUTHENTICATED while a peer restarts is a finding
//! even when the retry succeeds.

use std::collections::BTreeMap;
use std::future::Future;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use tonic::transport::{Channel, Endpoint};
use tonic::{Code, Status};

/// The failed answers seen, by (RPC, code).
#[derive(Debug, Default)]
pub struct Seen(Mutex<BTreeMap<(&'static str, i32), u64>>);

impl Seen {
    fn saw(&self, rpc: &'static str, code: Code) {
        if let Ok(mut seen) = self.0.lock() {
            *seen.entry((rpc, code as i32)).or_default() += 1;
        }
    }

    pub fn snapshot(&self) -> Vec<(&'static str, Code, u64)> {
        let seen = self.0.lock().map(|seen| seen.clone()).unwrap_or_default();
        seen.into_iter()
            .map(|((rpc, code), times)| (rpc, Code::from(code), times))
            .collect()
    }
}

/// One app's connection to the gateway.
#[derive(Clone)]
pub struct Api {
    pub channel: Channel,
    seen: Arc<Seen>,
    patience: Duration,
}

/// Answers a client retries: the callee (or its database, broker or the
/// gateway's upstream) is away, the request was shed or rate-limited, or
/// the connection broke mid-call. INTERNAL, UNKNOWN and UNAUTHENTICATED are
/// retried too, so the saga goes on, and reported as anomalies.
fn transient(status: &Status) -> bool {
    matches!(
        status.code(),
        Code::Unavailable
            | Code::DeadlineExceeded
            | Code::ResourceExhausted
            | Code::Aborted
            | Code::Cancelled
            | Code::Unknown
            | Code::Internal
            | Code::Unauthenticated
    )
}

/// The code a status counts under. A stream the gateway reset (its
/// upstream was killed after the answer's headers, before its trailers)
/// reaches the client as an HTTP/2 error that tonic reports as INTERNAL;
/// no server answered INTERNAL, the connection broke mid-call, so it
/// counts with the unavailable answers.
fn answered(status: &Status) -> Code {
    if status.code() == Code::Internal && status.message().starts_with("h2 protocol error") {
        Code::Unavailable
    } else {
        status.code()
    }
}

/// How long a retry waits: the server's `RetryInfo` when it gave one.
fn pause(status: &Status, attempt: u32) -> Duration {
    use tonic_types::StatusExt as _;
    let asked = status
        .get_details_retry_info()
        .and_then(|info| info.retry_delay);
    let backoff = Duration::from_millis(50u64 << attempt.min(5));
    asked.map_or(backoff, |asked| asked.max(backoff))
}

impl Api {
    /// A connection to `gateway` from the local address `from`.
    pub fn connect(gateway: &str, from: IpAddr, seen: Arc<Seen>) -> anyhow::Result<Api> {
        let channel = Endpoint::from_shared(gateway.to_owned())?
            .local_address(Some(from))
            .connect_timeout(Duration::from_secs(2))
            .timeout(Duration::from_secs(20))
            .connect_lazy();
        Ok(Api {
            channel,
            seen,
            patience: Duration::from_secs(180),
        })
    }

    /// `attempt` until it answers something other than a transient failure
    /// or one of `also` (e.g. NOT_FOUND while another service's event is on
    /// its way), for up to three minutes.
    pub async fn call<T, Fut>(
        &self,
        rpc: &'static str,
        also: &[Code],
        mut attempt: impl FnMut(Channel) -> Fut,
    ) -> Result<T, Status>
    where
        Fut: Future<Output = Result<tonic::Response<T>, Status>>,
    {
        let deadline = Instant::now() + self.patience;
        let mut tries = 0;
        loop {
            match attempt(self.channel.clone()).await {
                Ok(answer) => return Ok(answer.into_inner()),
                Err(status) => {
                    self.seen.saw(rpc, answered(&status));
                    let again = transient(&status) || also.contains(&status.code());
                    if !again || Instant::now() >= deadline {
                        return Err(status);
                    }
                    tokio::time::sleep(pause(&status, tries)).await;
                    tries += 1;
                }
            }
        }
    }
}

/// `message` as `token`'s request, with `key` as its idempotency key.
pub fn authed<T>(token: &str, key: Option<&str>, message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    if let Ok(value) = format!("Bearer {token}").parse() {
        request.metadata_mut().insert("authorization", value);
    }
    if let Some(value) = key.and_then(|key| key.parse().ok()) {
        request.metadata_mut().insert("idempotency-key", value);
    }
    request
}

/// An anonymous request, with `key` as its idempotency key.
pub fn anonymous<T>(key: Option<&str>, message: T) -> tonic::Request<T> {
    let mut request = tonic::Request::new(message);
    if let Some(value) = key.and_then(|key| key.parse().ok()) {
        request.metadata_mut().insert("idempotency-key", value);
    }
    request
}
