//! Everything messaging answers besides success, mapped once to a gRPC
//! status with a stable `ErrorInfo.reason`.

use frevix_platform::auth::AuthError;
use frevix_platform::error::{self, FieldViolations};
use tonic::{Code, Status};

#[derive(Debug, thiserror::Error)]
pub enum MessagingError {
    /// INVALID_ARGUMENT with a `BadRequest` per field.
    #[error("{0}")]
    InvalidArgument(#[from] FieldViolations),
    /// UNAUTHENTICATED.
    #[error(transparent)]
    Unauthenticated(#[from] AuthError),
    /// NOT_FOUND `CONVERSATION_NOT_FOUND`: also what non-members get.
    #[error("conversation not found")]
    ConversationNotFound,
    /// NOT_FOUND `ACCOUNT_NOT_FOUND`: no such account (as far as messaging knows).
    #[error("account not found")]
    AccountNotFound,
    /// NOT_FOUND `MESSAGE_NOT_FOUND`.
    #[error("no message with that sequence in this conversation")]
    MessageNotFound,
    /// FAILED_PRECONDITION with a reason and `PreconditionFailure` on `subject`.
    #[error("{message}")]
    Precondition {
        reason: &'static str,
        subject: String,
        message: String,
    },
    /// PERMISSION_DENIED with a reason.
    #[error("{message}")]
    Denied {
        reason: &'static str,
        message: String,
    },
    /// RESOURCE_EXHAUSTED `RATE_LIMITED` with `RetryInfo`.
    #[error("too many of these requests; retry later")]
    RateLimited(std::time::Duration),
    /// NOT_FOUND `MEDIA_NOT_FOUND`: also what those who may not read it get.
    #[error("media not found")]
    MediaNotFound,
    /// A client stream broke off; answered as it came.
    #[error("{0}")]
    Stream(tonic::Status),
    /// UNAVAILABLE: messaging is shutting down; retry (on another replica).
    #[error("messaging is shutting down; retry")]
    Unavailable,
    /// INTERNAL.
    #[error("object store: {0}")]
    Storage(#[from] object_store::Error),
    /// INTERNAL.
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
    /// INTERNAL: a background task failed.
    #[error("{0}")]
    Internal(String),
}

impl From<MessagingError> for Status {
    fn from(error: MessagingError) -> Status {
        let message = error.to_string();
        match error {
            MessagingError::InvalidArgument(violations) => violations.into_status(),
            MessagingError::Unauthenticated(auth) => auth.into_status(),
            MessagingError::ConversationNotFound => {
                error::with_reason(Code::NotFound, "CONVERSATION_NOT_FOUND", message)
            }
            MessagingError::AccountNotFound => {
                error::with_reason(Code::NotFound, "ACCOUNT_NOT_FOUND", message)
            }
            MessagingError::MessageNotFound => {
                error::with_reason(Code::NotFound, "MESSAGE_NOT_FOUND", message)
            }
            MessagingError::Precondition {
                reason, subject, ..
            } => error::failed_precondition(reason, &subject, message),
            MessagingError::Denied { reason, .. } => error::permission_denied(reason, message),
            MessagingError::RateLimited(wait) => {
                error::resource_exhausted("RATE_LIMITED", wait, message)
            }
            MessagingError::MediaNotFound => {
                error::with_reason(Code::NotFound, "MEDIA_NOT_FOUND", message)
            }
            MessagingError::Stream(status) => status,
            MessagingError::Unavailable => {
                error::with_reason(Code::Unavailable, "SHUTTING_DOWN", message)
            }
            MessagingError::Storage(ref source) => error::internal(source),
            MessagingError::Database(ref source) => error::internal(source),
            MessagingError::Internal(ref cause) => {
                error::internal(&std::io::Error::other(cause.clone()))
            }
        }
    }
}

impl MessagingError {
    pub fn precondition(
        reason: &'static str,
        subject: impl Into<String>,
        message: impl Into<String>,
    ) -> Self {
        MessagingError::Precondition {
            reason,
            subject: subject.into(),
            message: message.into(),
        }
    }

    pub fn denied(reason: &'static str, message: impl Into<String>) -> Self {
        MessagingError::Denied {
            reason,
            message: message.into(),
        }
    }
}

pub type Result<T, E = MessagingError> = std::result::Result<T, E>;
