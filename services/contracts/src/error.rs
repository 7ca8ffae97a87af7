//! Contracts' own failures; what every service shares is in [`ApiError`],
//! and both map to gRPC statuses with a stable `ErrorInfo.reason`.

use frevix_platform::error::{self, ApiError};
use tonic::Status;

use crate::domain::{Held, Refusal};

#[derive(Debug, thiserror::Error)]
pub enum ContractsError {
    /// What every service may answer.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// FAILED_PRECONDITION with the milestone's refusal as the reason
    /// (`MILESTONE_NOT_SUBMITTED`, `REVISIONS_EXHAUSTED`, …).
    #[error(transparent)]
    Milestone(#[from] Refusal),
    /// FAILED_PRECONDITION: the contract's work is held (`CONTRACT_ENDED`,
    /// `CONTRACT_DISPUTED`, `CANCELLATION_PENDING`).
    #[error(transparent)]
    Held(#[from] Held),
}

frevix_platform::api_error_conversions!(ContractsError);

impl From<ContractsError> for Status {
    fn from(error: ContractsError) -> Status {
        let message = error.to_string();
        match error {
            ContractsError::Api(api) => api.into(),
            ContractsError::Milestone(refusal) => {
                error::failed_precondition(refusal.reason(), "milestone", message)
            }
            ContractsError::Held(held) => {
                error::failed_precondition(held.reason(), "contract", message)
            }
        }
    }
}

pub type Result<T, E = ContractsError> = std::result::Result<T, E>;
