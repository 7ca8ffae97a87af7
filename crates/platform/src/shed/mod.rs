//! Load shedding. A process serves at most a limit of calls at once (found
//! from the latency of the calls served, between `min_concurrent_requests`
//! and `max_concurrent_requests`: [`limit`]); a call that finds them all
//! busy waits at most `max_queue_wait_ms` for a turn and is then refused at
//! once, rather than queueing until every call is slow. Past capacity the calls let in keep
//! their usual latency, and the others learn within milliseconds to come
//! back later: gRPC gets UNAVAILABLE with a `RetryInfo` detail and the
//! `grpc-retry-pushback-ms` header gRPC clients honour; plain HTTP (Stripe's
//! webhooks, which must not read a refusal as delivered) gets 503 with
//! `Retry-After`. Health checks are never refused, so an orchestrator does
//! not restart a replica for being busy.

pub mod limit;
mod refusals;

use std::collections::HashSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, LazyLock};
use std::task::{Context, Poll};
use std::time::Duration;

use http::{HeaderValue, Request, Response, StatusCode};
use tonic::body::Body;
use tower::{Layer, Service};

use crate::error::OVER_CAPACITY_PUSHBACK as PUSHBACK;

pub use limit::{Limiter, Permit, Tuning};
pub use refusals::Refusals;

/// Calls this process refused for capacity.
static REFUSED: Refusals = Refusals::new("calls");

/// The paths of streaming RPCs: their answer's headers come when the
/// stream opens, not when the work is done, so their timing teaches the
/// limit nothing.
static STREAMS: LazyLock<HashSet<String>> = LazyLock::new(|| {
    let Ok(pool) = prost_reflect::DescriptorPool::decode(frevix_proto::FILE_DESCRIPTOR_SET) else {
        return HashSet::new();
    };
    pool.services()
        .flat_map(|service| {
            service
                .methods()
                .filter(|m| m.is_client_streaming() || m.is_server_streaming())
                .map(|m| format!("/{}/{}", service.full_name(), m.name()))
                .collect::<Vec<_>>()
        })
        .collect()
});

/// Sheds calls past the process's capacity.
#[derive(Clone)]
pub struct ShedLayer {
    permits: Arc<Limiter>,
    wait: Duration,
}

impl ShedLayer {
    /// At most `capacity` calls at once; others wait up to `wait`.
    pub fn new(capacity: usize, wait: Duration) -> Self {
        Self::tuned(Tuning::fixed(capacity), wait)
    }

    /// Calls at once as `tuning` says; others wait up to `wait`.
    pub fn tuned(tuning: Tuning, wait: Duration) -> Self {
        Self {
            permits: Limiter::new(tuning),
            wait,
        }
    }
}

impl<S> Layer<S> for ShedLayer {
    type Service = Shed<S>;

    fn layer(&self, inner: S) -> Shed<S> {
        Shed {
            inner,
            permits: self.permits.clone(),
            wait: self.wait,
        }
    }
}

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

#[derive(Clone)]
pub struct Shed<S> {
    inner: S,
    permits: Arc<Limiter>,
    wait: Duration,
}

impl<S, B> Service<Request<B>> for Shed<S>
where
    S: Service<Request<B>, Response = Response<Body>> + Clone + Send + 'static,
    S::Future: Send,
    B: Send + 'static,
{
    type Response = Response<Body>;
    type Error = S::Error;
    type Future = BoxFuture<Result<Response<Body>, S::Error>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, request: Request<B>) -> Self::Future {
        // The clone is ready only after poll_ready: call the ready one.
        let clone = self.inner.clone();
        let mut inner = std::mem::replace(&mut self.inner, clone);
        if request.uri().path().starts_with("/grpc.health.") {
            return Box::pin(inner.call(request));
        }
        let permits = self.permits.clone();
        let wait = self.wait;
        let timed = !STREAMS.contains(request.uri().path());
        Box::pin(async move {
            let Some(permit) = permits.acquire(wait).await else {
                REFUSED.note();
                return Ok(refusal(is_grpc(&request)));
            };
            let response = inner.call(request).await;
            if timed {
                permit.done();
            }
            response
        })
    }
}

fn is_grpc<B>(request: &Request<B>) -> bool {
    request
        .headers()
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("application/grpc"))
}

/// The headers of a gRPC refusal, encoded once: past capacity refusals
/// come by the thousand a second, each one's CPU taken from the calls
/// served.
static GRPC_REFUSAL: LazyLock<http::HeaderMap> = LazyLock::new(|| {
    let status = tonic::Status::from(crate::error::ApiError::OverCapacity);
    let mut response = status.into_http::<Body>();
    if let Ok(value) = HeaderValue::from_str(&PUSHBACK.as_millis().to_string()) {
        response
            .headers_mut()
            .insert("grpc-retry-pushback-ms", value);
    }
    response.headers().clone()
});

/// The answer to a call refused for being over capacity.
fn refusal(grpc: bool) -> Response<Body> {
    let mut response = Response::new(Body::empty());
    if grpc {
        *response.headers_mut() = GRPC_REFUSAL.clone();
    } else {
        *response.status_mut() = StatusCode::SERVICE_UNAVAILABLE;
        response
            .headers_mut()
            .insert(http::header::RETRY_AFTER, HeaderValue::from_static("1"));
    }
    response
}

#[cfg(test)]
mod tests {
    use std::convert::Infallible;
    use std::sync::atomic::{AtomicUsize, Ordering};

    use tower::ServiceExt as _;

    use super::*;

    /// A service busy for 50 ms per call; how many calls it saw.
    fn slow(
        seen: Arc<AtomicUsize>,
    ) -> impl Service<
        Request<Body>,
        Response = Response<Body>,
        Error = Infallible,
        Future = impl Send,
    > + Clone
    + Send
    + 'static {
        tower::service_fn(move |_request: Request<Body>| {
            let seen = seen.clone();
            async move {
                seen.fetch_add(1, Ordering::SeqCst);
                tokio::time::sleep(Duration::from_millis(50)).await;
                Ok::<_, Infallible>(Response::new(Body::empty()))
            }
        })
    }

    fn request(path: &str, content_type: &str) -> Request<Body> {
        Request::builder()
            .uri(path)
            .header(http::header::CONTENT_TYPE, content_type)
            .body(Body::empty())
            .unwrap()
    }

    #[tokio::test]
    async fn past_capacity_plain_http_gets_503_and_health_is_always_served() {
        let seen = Arc::new(AtomicUsize::new(0));
        let service = ShedLayer::new(2, Duration::from_millis(5)).layer(slow(seen.clone()));
        let calls: Vec<_> = (0..30)
            .map(|i| {
                let service = service.clone();
                let path = if i % 3 == 0 {
                    "/grpc.health.v1.Health/Check"
                } else {
                    "/webhooks/stripe"
                };
                let content_type = if i % 3 == 0 {
                    "application/grpc"
                } else {
                    "application/json"
                };
                tokio::spawn(service.oneshot(request(path, content_type)))
            })
            .collect();
        let mut answers = Vec::new();
        for call in calls {
            answers.push(call.await.unwrap().unwrap());
        }
        let health: Vec<_> = answers.iter().step_by(3).collect();
        assert!(
            health
                .iter()
                .all(|r| r.status() == StatusCode::OK && r.headers().get("grpc-status").is_none())
        );
        let refused: Vec<_> = answers
            .iter()
            .filter(|r| r.status() == StatusCode::SERVICE_UNAVAILABLE)
            .collect();
        assert!(
            !refused.is_empty(),
            "the crowd of 20 never found both turns taken"
        );
        assert!(
            refused
                .iter()
                .all(|r| r.headers()[http::header::RETRY_AFTER] == "1")
        );
        // Everyone not refused was served, and only they reached the service.
        assert_eq!(seen.load(Ordering::SeqCst), 30 - refused.len());
    }

    #[tokio::test]
    async fn past_capacity_grpc_gets_unavailable_with_its_reason_and_pushback() {
        use prost::Message as _;
        let seen = Arc::new(AtomicUsize::new(0));
        let service = ShedLayer::new(1, Duration::from_millis(1)).layer(slow(seen.clone()));
        let calls: Vec<_> = (0..10)
            .map(|_| {
                let request = request(
                    "/frevix.identity.v1.IdentityService/GetMe",
                    "application/grpc",
                );
                tokio::spawn(service.clone().oneshot(request))
            })
            .collect();
        let mut refused = 0;
        for call in calls {
            let answer = call.await.unwrap().unwrap();
            let Some(code) = answer.headers().get("grpc-status") else {
                continue;
            };
            refused += 1;
            assert_eq!(code, "14", "UNAVAILABLE");
            assert_eq!(
                answer.headers()["grpc-retry-pushback-ms"],
                PUSHBACK.as_millis().to_string()
            );
            let status = tonic::Status::from_header_map(answer.headers()).unwrap();
            let details = tonic_types::pb::Status::decode(status.details()).unwrap();
            let reasons: Vec<_> = details
                .details
                .iter()
                .filter_map(|any| tonic_types::pb::ErrorInfo::decode(any.value.as_slice()).ok())
                .map(|info| info.reason)
                .collect();
            assert!(reasons.iter().any(|r| r == "OVER_CAPACITY"), "{reasons:?}");
        }
        assert_eq!(refused, 10 - seen.load(Ordering::SeqCst));
        assert!(refused >= 8, "one turn, ten at once: {refused} refused");
    }
}
