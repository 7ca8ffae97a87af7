//! Server bootstrap shared by every service and by the all-in-one process:
//! gRPC with health and reflection (v1 and v1alpha, which grpcurl 1.8 needs),
//! grpc-web and CORS for browsers, plain HTTP routes on the same port, the
//! authentication middleware, explicit limits, and a graceful drain on
//! SIGTERM/SIGINT.

use std::convert::Infallible;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

use axum::response::IntoResponse;
use http::{HeaderName, HeaderValue, Method};
use tokio::net::TcpListener;
use tonic::body::Body;
use tonic::server::NamedService;
use tonic::service::RoutesBuilder;
use tonic::transport::server::TcpIncoming;
use tonic_health::ServingStatus;
use tonic_health::server::HealthReporter;
use tower::{Service, ServiceBuilder};
use tower_http::cors::{AllowOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::TraceLayer;

use crate::auth::{Authenticator, authenticate};
use crate::config::ServerConfig;

/// Why a server stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    #[error("reflection: {0}")]
    Reflection(#[from] tonic_reflection::server::Error),
    #[error("transport: {0}")]
    Transport(#[from] tonic::transport::Error),
}

/// A server being assembled: its gRPC services, HTTP routes and auth.
pub struct Server {
    config: ServerConfig,
    auth: Arc<Authenticator>,
    routes: RoutesBuilder,
    http: axum::Router,
    service_names: Vec<&'static str>,
}

impl Server {
    pub fn new(config: ServerConfig, auth: Arc<Authenticator>) -> Self {
        Self {
            config,
            auth,
            routes: RoutesBuilder::default(),
            http: axum::Router::new(),
            service_names: Vec::new(),
        }
    }

    /// Adds a gRPC service; its health status follows the server's.
    pub fn add_service<S>(&mut self, service: S) -> &mut Self
    where
        S: Service<http::Request<Body>, Error = Infallible>
            + NamedService
            + Clone
            + Send
            + Sync
            + 'static,
        S::Response: IntoResponse,
        S::Future: Send + 'static,
    {
        self.service_names.push(S::NAME);
        self.routes.add_service(service);
        self
    }

    /// Adds plain HTTP routes (JWKS, webhooks) served on the same port.
    pub fn add_http(&mut self, router: axum::Router) -> &mut Self {
        self.http = std::mem::take(&mut self.http).merge(router);
        self
    }

    /// The largest message a service should accept or send.
    pub fn max_message_bytes(&self) -> usize {
        self.config.max_message_bytes
    }

    /// Serves on `listener` until `shutdown` resolves, then drains for at
    /// most `shutdown_grace_secs`.
    pub async fn serve(
        self,
        listener: TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> Result<(), ServeError> {
        let Server {
            config,
            auth,
            mut routes,
            http,
            service_names,
        } = self;

        let (health, health_service) = tonic_health::server::health_reporter();
        set_health(&health, &service_names, ServingStatus::Serving).await;
        let reflection_v1 = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(frevix_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            // The google.rpc error details, so tools print them readably.
            .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
            .build_v1()?;
        let reflection_v1alpha = tonic_reflection::server::Builder::configure()
            .register_encoded_file_descriptor_set(frevix_proto::FILE_DESCRIPTOR_SET)
            .register_encoded_file_descriptor_set(tonic_health::pb::FILE_DESCRIPTOR_SET)
            // The google.rpc error details, so tools print them readably.
            .register_encoded_file_descriptor_set(tonic_types::pb::FILE_DESCRIPTOR_SET)
            .build_v1alpha()?;
        routes
            .add_service(health_service)
            .add_service(reflection_v1)
            .add_service(reflection_v1alpha);

        // grpc-web translation covers the gRPC routes only: plain HTTP routes
        // (JWKS, webhooks) answer ordinary HTTP/1.1 clients as they are.
        let app = routes
            .routes()
            .into_axum_router()
            .layer(axum::middleware::map_response(
                crate::malformed::malformed_request_is_invalid_argument,
            ))
            .layer(tonic_web::GrpcWebLayer::new())
            .merge(http)
            .layer(axum::middleware::from_fn_with_state(auth, authenticate))
            .layer(
                TraceLayer::new_for_grpc()
                    .make_span_with(crate::telemetry::request_span)
                    .on_failure(crate::telemetry::log_failure),
            );

        // Shedding comes before the request id, so a refusal costs as little
        // as it can (past capacity, refusals outnumber the calls served).
        let layers = ServiceBuilder::new()
            .layer(cors(&config))
            .layer(crate::shed::ShedLayer::tuned(
                config.shed_tuning(),
                Duration::from_millis(config.max_queue_wait_ms),
            ))
            .layer(SetRequestIdLayer::x_request_id(MakeRequestUuid))
            .layer(PropagateRequestIdLayer::x_request_id());

        let (drain_tx, drain_rx) = tokio::sync::oneshot::channel::<()>();
        let server = tonic::transport::Server::builder()
            .accept_http1(true)
            .timeout(config.request_timeout())
            .max_concurrent_streams(config.max_concurrent_streams)
            .http2_keepalive_interval(Some(Duration::from_secs(config.keepalive_interval_secs)))
            .http2_keepalive_timeout(Some(Duration::from_secs(config.keepalive_timeout_secs)))
            .tcp_nodelay(true)
            .layer(layers)
            .add_routes(tonic::service::Routes::from(app))
            // Nagle's algorithm on accepted sockets holds back the tail of a
            // large answer until the peer's delayed ACK: tens of ms each.
            .serve_with_incoming_shutdown(
                TcpIncoming::from(listener).with_nodelay(Some(true)),
                async move {
                    let _ = drain_rx.await;
                },
            );
        tokio::pin!(server);

        tokio::select! {
            result = &mut server => return result.map_err(ServeError::from),
            () = shutdown => {}
        }
        tracing::info!(
            grace_secs = config.shutdown_grace_secs,
            "shutting down: draining calls"
        );
        set_health(&health, &service_names, ServingStatus::NotServing).await;
        let _ = drain_tx.send(());
        match tokio::time::timeout(Duration::from_secs(config.shutdown_grace_secs), server).await {
            Ok(result) => result.map_err(ServeError::from),
            Err(_) => {
                tracing::warn!("drain timed out; closing remaining connections");
                Ok(())
            }
        }
    }
}

async fn set_health(health: &HealthReporter, names: &[&'static str], status: ServingStatus) {
    health.set_service_status("", status).await;
    for name in names {
        health.set_service_status(*name, status).await;
    }
}

fn cors(config: &ServerConfig) -> CorsLayer {
    let origins = if config
        .cors_allowed_origins
        .iter()
        .any(|origin| origin == "*")
    {
        AllowOrigin::any()
    } else {
        AllowOrigin::list(
            config
                .cors_allowed_origins
                .iter()
                .filter_map(|origin| HeaderValue::from_str(origin).ok()),
        )
    };
    let headers = [
        "authorization",
        "content-type",
        "x-grpc-web",
        "x-user-agent",
        "grpc-timeout",
        "idempotency-key",
        "x-request-id",
        "traceparent",
    ];
    let exposed = [
        "grpc-status",
        "grpc-message",
        "grpc-status-details-bin",
        "x-request-id",
    ];
    CorsLayer::new()
        .allow_origin(origins)
        .allow_methods([Method::POST, Method::GET, Method::OPTIONS])
        .allow_headers(headers.map(HeaderName::from_static))
        .expose_headers(exposed.map(HeaderName::from_static))
        .max_age(Duration::from_secs(24 * 3600))
}

/// Resolves on SIGTERM or SIGINT (Ctrl-C).
pub async fn shutdown_signal() {
    let interrupt = async {
        if let Err(error) = tokio::signal::ctrl_c().await {
            tracing::error!(%error, "cannot listen for ctrl-c");
            std::future::pending::<()>().await;
        }
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(error) => {
                tracing::error!(%error, "cannot listen for sigterm");
                std::future::pending::<()>().await;
            }
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = interrupt => tracing::info!("received SIGINT"),
        () = terminate => tracing::info!("received SIGTERM"),
    }
}

/// The client address of a call: behind a trusted proxy (Envoy, which
/// appends the address it saw), the last `x-forwarded-for` entry; else the
/// peer. Earlier entries are whatever the client sent, so a client could
/// pick its own rate-limit bucket if they were believed.
pub fn client_address<T>(request: &tonic::Request<T>, trust_forwarded_for: bool) -> String {
    if trust_forwarded_for
        && let Some(forwarded) = request
            .metadata()
            .get("x-forwarded-for")
            .and_then(|value| value.to_str().ok())
            .and_then(|value| value.rsplit(',').next())
            .filter(|entry| !entry.trim().is_empty())
    {
        return forwarded.trim().to_owned();
    }
    request
        .remote_addr()
        .map(|addr| addr.ip().to_string())
        .unwrap_or_else(|| "unknown".to_owned())
}

/// The caller's user agent, as sent.
pub fn user_agent<T>(request: &tonic::Request<T>) -> String {
    request
        .metadata()
        .get("x-user-agent")
        .or_else(|| request.metadata().get("user-agent"))
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default()
        .chars()
        .take(300)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::client_address;

    fn call(forwarded: Option<&str>) -> tonic::Request<()> {
        let mut request = tonic::Request::new(());
        if let Some(value) = forwarded {
            request
                .metadata_mut()
                .insert("x-forwarded-for", value.parse().unwrap());
        }
        request
    }

    #[test]
    fn the_proxy_appended_entry_is_the_client_address() {
        // The client claimed 1.2.3.4; Envoy saw 203.0.113.7 and appended it.
        let request = call(Some("1.2.3.4, 203.0.113.7"));
        assert_eq!(client_address(&request, true), "203.0.113.7");
        assert_eq!(
            client_address(&call(Some("198.51.100.2")), true),
            "198.51.100.2"
        );
    }

    #[test]
    fn forwarded_for_is_ignored_unless_trusted() {
        let request = call(Some("1.2.3.4"));
        assert_eq!(client_address(&request, false), "unknown");
        assert_eq!(client_address(&call(Some(" ")), true), "unknown");
    }
}
