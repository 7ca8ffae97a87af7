//! Everything marketplace answers besides success, each mapped once to a
//! gRPC status with a stable `ErrorInfo.reason`.

use frevix_platform::auth::AuthError;
use frevix_platform::db::idempotency::IdempotencyError;
use frevix_platform::error::{self, FieldViolations};
use tonic::{Code, Status};

use crate::domain::gig::IllegalTransition;

#[derive(Debug, thiserror::Error)]
pub enum MarketplaceError {
    /// INVALID_ARGUMENT with a `BadRequest` per field.
    #[error("{0}")]
    InvalidArgument(#[from] FieldViolations),
    /// UNAUTHENTICATED.
    #[error(transparent)]
    Unauthenticated(#[from] AuthError),
    /// PERMISSION_DENIED with a reason such as `FREELANCER_ROLE_REQUIRED`.
    #[error("{message}")]
    PermissionDenied {
        reason: &'static str,
        message: &'static str,
    },
    /// NOT_FOUND `{0}_NOT_FOUND`; also what others get for a draft gig.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// FAILED_PRECONDITION `GIG_STATUS`: the status forbids the action.
    #[error(transparent)]
    IllegalTransition(#[from] IllegalTransition),
    /// FAILED_PRECONDITION with its own reason.
    #[error("{message}")]
    Precondition {
        reason: &'static str,
        subject: &'static str,
        message: &'static str,
    },
    /// ALREADY_EXISTS `IDEMPOTENCY_KEY_REUSED`.
    #[error("this idempotency key was used with a different request")]
    IdempotencyKeyReused,
    /// FAILED_PRECONDITION `PROPOSAL_STATUS`: the status forbids the action.
    #[error(transparent)]
    IllegalProposalMove(#[from] crate::domain::job::IllegalProposalMove),
    /// ALREADY_EXISTS with its own reason, such as `PROPOSAL_EXISTS`.
    #[error("{message}")]
    Conflict {
        reason: &'static str,
        message: &'static str,
    },
    /// ALREADY_EXISTS `CATEGORY_EXISTS`.
    #[error("a category with this name already exists")]
    CategoryExists,
    /// INTERNAL.
    #[error("database: {0}")]
    Database(#[from] sea_orm::DbErr),
}

impl From<IdempotencyError> for MarketplaceError {
    fn from(error: IdempotencyError) -> Self {
        match error {
            IdempotencyError::Conflict => MarketplaceError::IdempotencyKeyReused,
            IdempotencyError::Db(db) => MarketplaceError::Database(db),
            IdempotencyError::Stored(problem) => {
                MarketplaceError::Database(sea_orm::DbErr::Custom(problem))
            }
        }
    }
}

impl From<MarketplaceError> for Status {
    fn from(error: MarketplaceError) -> Status {
        let message = error.to_string();
        match error {
            MarketplaceError::InvalidArgument(violations) => violations.into_status(),
            MarketplaceError::Unauthenticated(auth) => auth.into_status(),
            MarketplaceError::PermissionDenied { reason, .. } => {
                error::permission_denied(reason, message)
            }
            MarketplaceError::NotFound(what) => error::with_reason(
                Code::NotFound,
                &format!("{}_NOT_FOUND", what.to_uppercase()),
                message,
            ),
            MarketplaceError::IllegalTransition(_) => {
                error::failed_precondition("GIG_STATUS", "gig", message)
            }
            MarketplaceError::Precondition {
                reason, subject, ..
            } => error::failed_precondition(reason, subject, message),
            MarketplaceError::IdempotencyKeyReused => {
                error::with_reason(Code::AlreadyExists, "IDEMPOTENCY_KEY_REUSED", message)
            }
            MarketplaceError::IllegalProposalMove(_) => {
                error::failed_precondition("PROPOSAL_STATUS", "proposal", message)
            }
            MarketplaceError::Conflict { reason, .. } => {
                error::with_reason(Code::AlreadyExists, reason, message)
            }
            MarketplaceError::CategoryExists => {
                error::with_reason(Code::AlreadyExists, "CATEGORY_EXISTS", message)
            }
            MarketplaceError::Database(ref source) => error::internal(source),
        }
    }
}

pub type Result<T, E = MarketplaceError> = std::result::Result<T, E>;
