//! The failures every service shares, mapped to statuses once. A service's
//! own error enum wraps [`ApiError`] and adds only its domain's cases
//! (identity's wrong password, marketplace's illegal gig move, …).

use std::time::Duration;

use tonic::{Code, Status};

use super::{
    FieldViolations, OVER_CAPACITY_PUSHBACK, failed_precondition, internal, permission_denied,
    resource_exhausted, unavailable, unreachable, with_reason,
};
use crate::auth::AuthError;
use crate::db::idempotency::IdempotencyError;

/// What any RPC may answer besides success.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// INVALID_ARGUMENT with a `BadRequest` per field.
    #[error("{0}")]
    InvalidArgument(#[from] FieldViolations),
    /// UNAUTHENTICATED with the token's fault.
    #[error(transparent)]
    Unauthenticated(#[from] AuthError),
    /// PERMISSION_DENIED with a reason such as `NOT_GIG_OWNER`.
    #[error("{message}")]
    PermissionDenied {
        reason: &'static str,
        message: String,
    },
    /// NOT_FOUND `<WHAT>_NOT_FOUND`; also what those get who may not see it.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// FAILED_PRECONDITION with a reason and a `PreconditionFailure` on `subject`.
    #[error("{message}")]
    FailedPrecondition {
        reason: &'static str,
        subject: String,
        message: String,
    },
    /// ALREADY_EXISTS with a reason such as `PROPOSAL_EXISTS`.
    #[error("{message}")]
    AlreadyExists {
        reason: &'static str,
        message: String,
    },
    /// ALREADY_EXISTS `IDEMPOTENCY_KEY_REUSED`.
    #[error("this idempotency key was used with a different request")]
    IdempotencyKeyReused,
    /// RESOURCE_EXHAUSTED `RATE_LIMITED` with `RetryInfo`.
    #[error("too many requests; retry later")]
    RateLimited(Duration),
    /// UNAVAILABLE `OVER_CAPACITY` with `RetryInfo`: refused at once rather
    /// than queued behind more work than the process can do.
    #[error("the server is over capacity; try again shortly")]
    OverCapacity,
    /// UNAVAILABLE `SHUTTING_DOWN`: retry, on another replica.
    #[error("the service is shutting down; retry")]
    ShuttingDown,
    /// UNAVAILABLE `DATABASE_UNAVAILABLE` with `RetryInfo`: the database
    /// cannot be reached now (restarting, failing over, out of connections).
    #[error("the database is unavailable for a moment; retry")]
    DatabaseUnavailable(sea_orm::DbErr),
    /// INTERNAL: logged with its cause, answered without it.
    #[error("{0}")]
    Internal(Box<dyn std::error::Error + Send + Sync>),
}

impl ApiError {
    pub fn permission_denied(reason: &'static str, message: impl Into<String>) -> Self {
        ApiError::PermissionDenied {
            reason,
            message: message.into(),
        }
    }

    pub fn precondition(
        reason: &'static str,
        subject: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        ApiError::FailedPrecondition {
            reason,
            subject: subject.into(),
            message: message.into(),
        }
    }

    pub fn already_exists(reason: &'static str, message: impl Into<String>) -> Self {
        ApiError::AlreadyExists {
            reason,
            message: message.into(),
        }
    }

    /// The database error inside, if this is one.
    pub fn db_error(&self) -> Option<&sea_orm::DbErr> {
        match self {
            ApiError::Internal(cause) => cause.downcast_ref::<sea_orm::DbErr>(),
            ApiError::DatabaseUnavailable(error) => Some(error),
            _ => None,
        }
    }

    /// A fault of ours (a message or any error).
    pub fn internal(cause: impl Into<Box<dyn std::error::Error + Send + Sync>>) -> Self {
        ApiError::Internal(cause.into())
    }
}

impl From<sea_orm::DbErr> for ApiError {
    fn from(error: sea_orm::DbErr) -> Self {
        if unreachable(&error) {
            ApiError::DatabaseUnavailable(error)
        } else {
            ApiError::Internal(Box::new(error))
        }
    }
}

impl From<IdempotencyError> for ApiError {
    fn from(error: IdempotencyError) -> Self {
        match error {
            IdempotencyError::Conflict => ApiError::IdempotencyKeyReused,
            IdempotencyError::Db(error) => error.into(),
            other => ApiError::Internal(Box::new(other)),
        }
    }
}

impl From<ApiError> for Status {
    fn from(error: ApiError) -> Status {
        let message = error.to_string();
        match error {
            ApiError::InvalidArgument(violations) => violations.into_status(),
            ApiError::Unauthenticated(auth) => auth.into_status(),
            ApiError::PermissionDenied { reason, .. } => permission_denied(reason, message),
            ApiError::NotFound(what) => with_reason(
                Code::NotFound,
                &format!("{}_NOT_FOUND", what.to_uppercase()),
                message,
            ),
            ApiError::FailedPrecondition {
                reason, subject, ..
            } => failed_precondition(reason, &subject, message),
            ApiError::AlreadyExists { reason, .. } => {
                with_reason(Code::AlreadyExists, reason, message)
            }
            ApiError::IdempotencyKeyReused => {
                with_reason(Code::AlreadyExists, "IDEMPOTENCY_KEY_REUSED", message)
            }
            ApiError::RateLimited(wait) => resource_exhausted("RATE_LIMITED", wait, message),
            ApiError::OverCapacity => unavailable("OVER_CAPACITY", OVER_CAPACITY_PUSHBACK, message),
            ApiError::ShuttingDown => with_reason(Code::Unavailable, "SHUTTING_DOWN", message),
            ApiError::DatabaseUnavailable(cause) => {
                tracing::warn!(error = %cause, "the database is unavailable");
                unavailable("DATABASE_UNAVAILABLE", Duration::from_secs(1), message)
            }
            ApiError::Internal(cause) => internal(cause.as_ref()),
        }
    }
}

/// Lets `?` turn what [`ApiError`] wraps (field violations, auth faults,
/// database errors, idempotency conflicts) into a service's own error enum,
/// whose `Api` variant holds the [`ApiError`].
#[macro_export]
macro_rules! api_error_conversions {
    ($error:ty) => {
        impl From<$crate::error::FieldViolations> for $error {
            fn from(error: $crate::error::FieldViolations) -> Self {
                Self::Api(error.into())
            }
        }
        impl From<$crate::auth::AuthError> for $error {
            fn from(error: $crate::auth::AuthError) -> Self {
                Self::Api(error.into())
            }
        }
        impl From<$crate::sea_orm::DbErr> for $error {
            fn from(error: $crate::sea_orm::DbErr) -> Self {
                Self::Api(error.into())
            }
        }
        impl From<$crate::db::idempotency::IdempotencyError> for $error {
            fn from(error: $crate::db::idempotency::IdempotencyError) -> Self {
                Self::Api(error.into())
            }
        }
    };
}
