//! The one place where Frevix failures become gRPC statuses with `google.rpc`
//! details, so every service answers bad input, broken preconditions, rate
//! limits and internal faults the same way and clients can branch on a stable
//! `ErrorInfo.reason` instead of parsing messages.

mod api;
mod unreachable;

pub use api::ApiError;
pub use unreachable::unreachable;

use std::collections::HashMap;
use std::time::Duration;

use tonic::{Code, Status};
use tonic_types::{ErrorDetails, StatusExt};

/// The `ErrorInfo.domain` of every Frevix error.
pub const ERROR_DOMAIN: &str = "frevix.dev";

/// Violations listed in one answer; the rest are only counted, so a request
/// full of bad entries cannot make an answer (or a log line) larger than
/// itself.
pub const MAX_LISTED_VIOLATIONS: usize = 20;

/// How long a caller refused for load is told to wait before trying again.
pub const OVER_CAPACITY_PUSHBACK: Duration = Duration::from_millis(250);
/// Characters kept of a field path or a description.
const MAX_VIOLATION_TEXT: usize = 200;

/// Field violations collected while a request is parsed, so the caller learns
/// about every bad field at once rather than one per round trip. At most
/// [`MAX_LISTED_VIOLATIONS`] are kept, each bounded in length.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct FieldViolations {
    violations: Vec<(String, String)>,
    /// Violations past the listed ones.
    unlisted: usize,
}

fn bounded(text: String) -> String {
    if text.chars().count() <= MAX_VIOLATION_TEXT {
        return text;
    }
    let mut short: String = text.chars().take(MAX_VIOLATION_TEXT).collect();
    short.push('…');
    short
}

impl FieldViolations {
    pub fn new() -> Self {
        Self::default()
    }

    /// Records that `field` (a dotted path such as `account.display_name`) is bad.
    pub fn add(&mut self, field: impl Into<String>, description: impl Into<String>) {
        if self.violations.len() >= MAX_LISTED_VIOLATIONS {
            self.unlisted += 1;
            return;
        }
        self.violations
            .push((bounded(field.into()), bounded(description.into())));
    }

    /// Records a violation on a repeated field with more than `max` entries,
    /// and says whether its entries are worth checking one by one (they are
    /// not when the list is over its bound: it is refused as a whole first).
    pub fn check_len(&mut self, field: &str, len: usize, max: usize) -> bool {
        if len > max {
            self.add(
                field,
                format!("must have at most {max} entries (has {len})"),
            );
            return false;
        }
        true
    }

    /// Records a violation unless `ok` holds.
    pub fn check(&mut self, ok: bool, field: &str, description: &str) {
        if !ok {
            self.add(field, description);
        }
    }

    pub fn is_empty(&self) -> bool {
        self.violations.is_empty()
    }

    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.violations
            .iter()
            .map(|(field, description)| (field.as_str(), description.as_str()))
    }

    /// Adds `other`'s violations on fields not named yet: checks made once
    /// a resource is found join those made before, each field once.
    pub fn absorb(&mut self, other: FieldViolations) {
        for (field, description) in other.violations {
            if !self.violations.iter().any(|(named, _)| *named == field) {
                self.add(field, description);
            }
        }
        self.unlisted += other.unlisted;
    }

    /// `Ok(value)` when nothing was recorded, the violations otherwise.
    pub fn finish<T>(self, value: T) -> Result<T, FieldViolations> {
        if self.violations.is_empty() {
            Ok(value)
        } else {
            Err(self)
        }
    }

    /// INVALID_ARGUMENT with a `BadRequest` detail listing every violation,
    /// and no `ErrorInfo`: a reason of "INVALID_ARGUMENT" would only repeat
    /// the code, and the fields say what is wrong.
    pub fn into_status(self) -> Status {
        self.status(None)
    }

    /// Like [`FieldViolations::into_status`], with an `ErrorInfo` whose
    /// reason says more than the fields (`CODE_INVALID`: the code is
    /// well-formed but wrong).
    pub fn into_status_with_reason(self, reason: &str) -> Status {
        self.status(Some(reason))
    }

    fn status(self, reason: Option<&str>) -> Status {
        let fields: Vec<&str> = self.violations.iter().map(|(f, _)| f.as_str()).collect();
        let mut message = format!("invalid request: check {}", fields.join(", "));
        if self.unlisted > 0 {
            message.push_str(&format!(" (and {} more)", self.unlisted));
        }
        let mut details = ErrorDetails::new();
        for (field, description) in &self.violations {
            details.add_bad_request_violation(field.clone(), description.clone());
        }
        if let Some(reason) = reason {
            details.set_error_info(reason, ERROR_DOMAIN, HashMap::new());
        }
        Status::with_error_details(Code::InvalidArgument, message, details)
    }

    /// A single violation, for checks that stand alone.
    pub fn single(field: impl Into<String>, description: impl Into<String>) -> Self {
        let mut violations = Self::new();
        violations.add(field, description);
        violations
    }
}

impl std::fmt::Display for FieldViolations {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        for (i, (field, description)) in self.violations.iter().enumerate() {
            if i > 0 {
                f.write_str("; ")?;
            }
            write!(f, "{field}: {description}")?;
        }
        if self.unlisted > 0 {
            write!(f, "; and {} more", self.unlisted)?;
        }
        Ok(())
    }
}

impl std::error::Error for FieldViolations {}

/// A status with an `ErrorInfo` whose `reason` is a stable, machine-readable
/// name such as `EMAIL_NOT_VERIFIED`.
pub fn with_reason(code: Code, reason: &str, message: impl Into<String>) -> Status {
    let mut details = ErrorDetails::new();
    details.set_error_info(reason, ERROR_DOMAIN, HashMap::new());
    Status::with_error_details(code, message, details)
}

/// FAILED_PRECONDITION with `ErrorInfo` and a `PreconditionFailure` naming what
/// the state forbids.
pub fn failed_precondition(reason: &str, subject: &str, message: impl Into<String>) -> Status {
    let message = message.into();
    let mut details = ErrorDetails::new();
    details.set_error_info(reason, ERROR_DOMAIN, HashMap::new());
    details.add_precondition_failure_violation(reason, subject, message.clone());
    Status::with_error_details(Code::FailedPrecondition, message, details)
}

/// RESOURCE_EXHAUSTED with a `RetryInfo` telling the caller when to come back.
pub fn resource_exhausted(
    reason: &str,
    retry_after: Duration,
    message: impl Into<String>,
) -> Status {
    let mut details = ErrorDetails::new();
    details.set_error_info(reason, ERROR_DOMAIN, HashMap::new());
    details.set_retry_info(Some(retry_after));
    Status::with_error_details(Code::ResourceExhausted, message, details)
}

/// UNAVAILABLE with a `RetryInfo`: something we depend on is away for now.
pub fn unavailable(reason: &str, retry_after: Duration, message: impl Into<String>) -> Status {
    let mut details = ErrorDetails::new();
    details.set_error_info(reason, ERROR_DOMAIN, HashMap::new());
    details.set_retry_info(Some(retry_after));
    Status::with_error_details(Code::Unavailable, message, details)
}

/// The details of `status` (ErrorInfo, RetryInfo, BadRequest...) as they
/// travel in its `grpc-status-details-bin`: for answers carried inside a
/// stream's messages rather than as the call's status.
pub fn details_of(status: &Status) -> Vec<prost_types::Any> {
    <tonic_types::pb::Status as prost::Message>::decode(status.details())
        .map(|rpc| rpc.details)
        .unwrap_or_default()
}

/// INTERNAL with nothing of the cause in the answer: the cause chain is logged
/// here, where the operator can read it.
pub fn internal(error: &(dyn std::error::Error + 'static)) -> Status {
    let mut chain = error.to_string();
    let mut source = error.source();
    while let Some(cause) = source {
        chain.push_str(": ");
        chain.push_str(&cause.to_string());
        source = cause.source();
    }
    tracing::error!(error = %chain, "internal error");
    with_reason(
        Code::Internal,
        "INTERNAL",
        "internal error; it has been logged",
    )
}

/// UNAUTHENTICATED for a missing, malformed, expired or untrusted token.
pub fn unauthenticated(reason: &str, message: impl Into<String>) -> Status {
    with_reason(Code::Unauthenticated, reason, message)
}

/// PERMISSION_DENIED: the caller is known but may not do this.
pub fn permission_denied(reason: &str, message: impl Into<String>) -> Status {
    with_reason(Code::PermissionDenied, reason, message)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_flood_of_violations_is_listed_up_to_the_cap_and_counted_past_it() {
        let mut violations = FieldViolations::new();
        for i in 0..100_000 {
            violations.add(format!("update_mask.paths[{i}]"), "x".repeat(10_000));
        }
        let status = violations.into_status();
        assert!(
            status.message().ends_with("(and 99980 more)"),
            "{}",
            status.message()
        );
        let details = status.get_error_details();
        let listed = details.bad_request().map(|b| b.field_violations.len());
        assert_eq!(listed, Some(MAX_LISTED_VIOLATIONS));
        assert!(
            status.details().len() < 8 * 1024,
            "{}",
            status.details().len()
        );
    }

    #[test]
    fn absorbing_later_checks_names_each_field_once() {
        let mut early = FieldViolations::new();
        early.add("quantity", "must be 1 to 10");
        let mut late = FieldViolations::new();
        late.add("quantity", "makes the order too expensive");
        late.add("extra_ids[0]", "is not an extra of this gig");
        early.absorb(late);
        assert_eq!(
            early.to_string(),
            "quantity: must be 1 to 10; extra_ids[0]: is not an extra of this gig"
        );
    }

    #[test]
    fn an_oversized_list_is_one_violation_and_not_worth_checking() {
        let mut violations = FieldViolations::new();
        assert!(violations.check_len("skills", 3, 10));
        assert!(!violations.check_len("skills", 11, 10));
        assert_eq!(
            violations.to_string(),
            "skills: must have at most 10 entries (has 11)"
        );
    }
}
