//! Logs and traces. Logs are JSON lines (or human-readable text for a
//! developer's terminal); when `OTEL_EXPORTER_OTLP_ENDPOINT` is set, spans and
//! metrics are exported over OTLP/gRPC too, and W3C trace context is read from
//! request metadata so one trace can span a whole saga.

use opentelemetry::propagation::Extractor;
use opentelemetry::trace::TracerProvider as _;
use opentelemetry_sdk::Resource;
use opentelemetry_sdk::metrics::SdkMeterProvider;
use opentelemetry_sdk::propagation::TraceContextPropagator;
use opentelemetry_sdk::trace::SdkTracerProvider;
use tracing_subscriber::EnvFilter;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::util::SubscriberInitExt;

/// How log lines look.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Json,
    Text,
}

/// Keeps the exporters alive; [`Telemetry::shutdown`] flushes them.
#[derive(Default)]
pub struct Telemetry {
    tracer_provider: Option<SdkTracerProvider>,
    meter_provider: Option<SdkMeterProvider>,
}

/// Installs the global subscriber. `RUST_LOG` filters (default `info`).
pub fn init(
    service_name: &str,
    format: LogFormat,
) -> Result<Telemetry, Box<dyn std::error::Error>> {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let mut telemetry = Telemetry::default();
    let otel_layer = if std::env::var_os("OTEL_EXPORTER_OTLP_ENDPOINT").is_some() {
        opentelemetry::global::set_text_map_propagator(TraceContextPropagator::new());
        let resource = Resource::builder()
            .with_service_name(service_name.to_owned())
            .build();
        let spans = opentelemetry_otlp::SpanExporter::builder()
            .with_tonic()
            .build()?;
        let tracer_provider = SdkTracerProvider::builder()
            .with_batch_exporter(spans)
            .with_resource(resource.clone())
            .build();
        let metrics = opentelemetry_otlp::MetricExporter::builder()
            .with_tonic()
            .build()?;
        let meter_provider = SdkMeterProvider::builder()
            .with_periodic_exporter(metrics)
            .with_resource(resource)
            .build();
        opentelemetry::global::set_meter_provider(meter_provider.clone());
        let tracer = tracer_provider.tracer(service_name.to_owned());
        telemetry.tracer_provider = Some(tracer_provider);
        telemetry.meter_provider = Some(meter_provider);
        Some(tracing_opentelemetry::layer().with_tracer(tracer))
    } else {
        None
    };
    let registry = tracing_subscriber::registry().with(filter).with(otel_layer);
    match format {
        LogFormat::Json => registry
            .with(
                tracing_subscriber::fmt::layer()
                    .json()
                    .flatten_event(true)
                    .with_current_span(true),
            )
            .try_init()?,
        LogFormat::Text => registry.with(tracing_subscriber::fmt::layer()).try_init()?,
    }
    Ok(telemetry)
}

impl Telemetry {
    /// Flushes what is buffered; call once on the way out.
    pub fn shutdown(self) {
        if let Some(provider) = self.tracer_provider
            && let Err(error) = provider.shutdown()
        {
            eprintln!("trace exporter shutdown: {error}");
        }
        if let Some(provider) = self.meter_provider
            && let Err(error) = provider.shutdown()
        {
            eprintln!("metric exporter shutdown: {error}");
        }
    }
}

/// Reads W3C trace context from HTTP headers (gRPC metadata).
pub struct HeaderExtractor<'a>(pub &'a http::HeaderMap);

impl Extractor for HeaderExtractor<'_> {
    fn get(&self, key: &str) -> Option<&str> {
        self.0.get(key).and_then(|value| value.to_str().ok())
    }

    fn keys(&self) -> Vec<&str> {
        self.0.keys().map(|key| key.as_str()).collect()
    }
}

/// The span of one incoming call, a child of the caller's trace if it sent one.
pub fn request_span<B>(request: &http::Request<B>) -> tracing::Span {
    use tracing_opentelemetry::OpenTelemetrySpanExt as _;
    let request_id = request
        .headers()
        .get("x-request-id")
        .and_then(|value| value.to_str().ok())
        .unwrap_or_default();
    let span = tracing::info_span!("rpc", path = %request.uri().path(), request_id = %request_id);
    let parent = opentelemetry::global::get_text_map_propagator(|propagator| {
        propagator.extract(&HeaderExtractor(request.headers()))
    });
    let _ = span.set_parent(parent);
    span
}

/// How loudly a failed call is logged: the caller's mistakes (bad input,
/// missing rights, limits) at INFO, the service being unable (unavailable,
/// too slow) at WARN, and only the service's own faults at ERROR.
pub fn failure_level(code: i32) -> tracing::Level {
    use tonic::Code;
    match Code::from_i32(code) {
        Code::Internal | Code::Unknown | Code::DataLoss => tracing::Level::ERROR,
        Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled => tracing::Level::WARN,
        _ => tracing::Level::INFO,
    }
}

/// Logs a call that ended in failure, at [`failure_level`], in one bounded line.
pub fn log_failure(
    class: tower_http::classify::GrpcFailureClass,
    latency: std::time::Duration,
    _span: &tracing::Span,
) {
    use tower_http::classify::GrpcFailureClass;
    let latency_ms = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX);
    match class {
        GrpcFailureClass::Status(status) => {
            let code = status.code_raw();
            match failure_level(code) {
                tracing::Level::ERROR => tracing::error!(code, latency_ms, "call failed"),
                tracing::Level::WARN => tracing::warn!(code, latency_ms, "call failed"),
                _ => tracing::info!(code, latency_ms, "call refused"),
            }
        }
        GrpcFailureClass::Error(error) => {
            let error: String = error.chars().take(200).collect();
            tracing::warn!(%error, latency_ms, "call broke off");
        }
        other => {
            let failure: String = other.to_string().chars().take(200).collect();
            tracing::warn!(%failure, latency_ms, "call failed");
        }
    }
}

#[cfg(test)]
mod failure_tests {
    use super::*;

    #[test]
    fn only_the_services_own_faults_are_errors() {
        use tonic::Code;
        for code in [
            Code::InvalidArgument,
            Code::NotFound,
            Code::AlreadyExists,
            Code::PermissionDenied,
            Code::ResourceExhausted,
            Code::FailedPrecondition,
            Code::Unauthenticated,
            Code::OutOfRange,
        ] {
            assert_eq!(failure_level(code as i32), tracing::Level::INFO, "{code:?}");
        }
        assert_eq!(
            failure_level(Code::Unavailable as i32),
            tracing::Level::WARN
        );
        assert_eq!(failure_level(Code::Internal as i32), tracing::Level::ERROR);
    }
}
