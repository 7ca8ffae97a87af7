//! Requests whose bytes are not the method's message (bad wire format, a
//! string that is not UTF-8) are the caller's mistake, yet tonic's codec
//! answers them INTERNAL with the decoder's words. This middleware turns
//! that answer into INVALID_ARGUMENT `MALFORMED_MESSAGE` with a short
//! message, and logs it at WARN, bounded, as a client mistake. So does a
//! gzip-compressed message whose bytes are not gzip.

use axum::response::Response;
use tonic::{Code, Status};

/// What tonic's prost codec says when a message does not decode.
const DECODE_FAILURE: &str = "failed to decode Protobuf message";

/// What tonic says when a gzip-compressed message does not decompress
/// (a bomb past the size limit is RESOURCE_EXHAUSTED instead).
const DECOMPRESS_FAILURE: &str = "Error decompressing";

fn undecodable(message: &str) -> bool {
    message.starts_with(DECODE_FAILURE) || message.starts_with(DECOMPRESS_FAILURE)
}

/// Rewrites a trailers-only INTERNAL decode failure (how tonic answers a
/// unary or server-streaming request it could not decode).
pub async fn malformed_request_is_invalid_argument(mut response: Response) -> Response {
    let headers = response.headers();
    if headers.get("grpc-status").map(|v| v.as_bytes()) != Some(b"13") {
        return response;
    }
    let Some(status) = Status::from_header_map(headers) else {
        return response;
    };
    if !undecodable(status.message()) {
        return response;
    }
    let cause: String = status.message().chars().take(200).collect();
    tracing::warn!(%cause, "malformed request message");
    let answer = crate::error::with_reason(
        Code::InvalidArgument,
        "MALFORMED_MESSAGE",
        "the request is not a valid message of this method (bad encoding or compression, or text that is not UTF-8)",
    );
    let headers = response.headers_mut();
    headers.remove("grpc-message");
    headers.remove("grpc-status-details-bin");
    if answer.add_header(headers).is_err() {
        tracing::warn!("could not encode the malformed-message status");
    }
    response
}

/// The same mapping for a status met while reading a client stream's later
/// messages, where the handler (not tonic) writes the answer.
pub fn inbound_status(status: Status) -> Status {
    if status.code() == Code::Internal && undecodable(status.message()) {
        let cause: String = status.message().chars().take(200).collect();
        tracing::warn!(%cause, "malformed stream message");
        return crate::error::with_reason(
            Code::InvalidArgument,
            "MALFORMED_MESSAGE",
            "a stream message is not valid for this method (bad encoding, or text that is not UTF-8)",
        );
    }
    status
}
