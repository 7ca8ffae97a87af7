//! Reading the `google.rpc` details of an error status.

use tonic::Status;
use tonic_types::StatusExt;

/// The `ErrorInfo.reason`, or an empty string.
pub fn reason(status: &Status) -> String {
    status
        .get_error_details()
        .error_info()
        .map(|info| info.reason.clone())
        .unwrap_or_default()
}

/// The fields named by the `BadRequest` detail.
pub fn violated_fields(status: &Status) -> Vec<String> {
    status
        .get_error_details()
        .bad_request()
        .map(|bad| {
            bad.field_violations
                .iter()
                .map(|v| v.field.clone())
                .collect()
        })
        .unwrap_or_default()
}

/// The `BadRequest` detail's descriptions, by field.
pub fn violations(status: &Status) -> Vec<(String, String)> {
    status
        .get_error_details()
        .bad_request()
        .map(|bad| {
            bad.field_violations
                .iter()
                .map(|v| (v.field.clone(), v.description.clone()))
                .collect()
        })
        .unwrap_or_default()
}

/// The `RetryInfo.retry_delay`, if any.
pub fn retry_after(status: &Status) -> Option<std::time::Duration> {
    status
        .get_error_details()
        .retry_info()
        .and_then(|info| info.retry_delay)
}

/// A failure reported inside a stream (a Chat `SendFailed` or
/// `FrameFailed`: code, message, details) as the status a unary call would
/// have answered, so the same readers apply to both.
pub fn from_parts(code: i32, message: &str, details: Vec<prost_types::Any>) -> Status {
    let rpc = tonic_types::pb::Status {
        code,
        message: message.to_owned(),
        details,
    };
    Status::with_details(
        tonic::Code::from(code),
        message,
        prost::Message::encode_to_vec(&rpc).into(),
    )
}
