//! Marketplace's own failures; what every service shares is in
//! [`ApiError`], and both map to gRPC statuses with a stable
//! `ErrorInfo.reason`.

use frevix_platform::error::{self, ApiError};
use tonic::{Code, Status};

use crate::domain::gig::IllegalTransition;
use crate::domain::job::IllegalProposalMove;

#[derive(Debug, thiserror::Error)]
pub enum MarketplaceError {
    /// What every service may answer.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// FAILED_PRECONDITION `GIG_STATUS`: the status forbids the action.
    #[error(transparent)]
    IllegalTransition(#[from] IllegalTransition),
    /// FAILED_PRECONDITION `PROPOSAL_STATUS`: the status forbids the action.
    #[error(transparent)]
    IllegalProposalMove(#[from] IllegalProposalMove),
    /// ALREADY_EXISTS `CATEGORY_EXISTS`.
    #[error("a category with this name already exists")]
    CategoryExists,
}

frevix_platform::api_error_conversions!(MarketplaceError);

impl From<MarketplaceError> for Status {
    fn from(error: MarketplaceError) -> Status {
        let message = error.to_string();
        match error {
            MarketplaceError::Api(api) => api.into(),
            MarketplaceError::IllegalTransition(_) => {
                error::failed_precondition("GIG_STATUS", "gig", message)
            }
            MarketplaceError::IllegalProposalMove(_) => {
                error::failed_precondition("PROPOSAL_STATUS", "proposal", message)
            }
            MarketplaceError::CategoryExists => {
                error::with_reason(Code::AlreadyExists, "CATEGORY_EXISTS", message)
            }
        }
    }
}

pub type Result<T, E = MarketplaceError> = std::result::Result<T, E>;
