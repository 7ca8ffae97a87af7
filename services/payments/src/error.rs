//! Payments' own failures; what every service shares is in [`ApiError`].

use frevix_platform::error::{ApiError, with_reason};
use tonic::{Code, Status};

use crate::provider::ProviderError;

#[derive(Debug, thiserror::Error)]
pub enum PaymentsError {
    #[error(transparent)]
    Api(#[from] ApiError),
    /// UNAVAILABLE `PROVIDER_UNAVAILABLE`: the provider did not answer;
    /// the same call later is safe (it carries the same idempotency key).
    #[error("{0}")]
    ProviderUnavailable(String),
}

frevix_platform::api_error_conversions!(PaymentsError);

impl From<ProviderError> for PaymentsError {
    fn from(error: ProviderError) -> Self {
        match error {
            ProviderError::Unavailable(message) => PaymentsError::ProviderUnavailable(message),
            ProviderError::Db(db) => PaymentsError::Api(db.into()),
            // What the caller may correct is named by the caller's checks;
            // anything the provider refuses beyond them is ours to fix.
            other => PaymentsError::Api(ApiError::internal(other)),
        }
    }
}

impl From<PaymentsError> for Status {
    fn from(error: PaymentsError) -> Status {
        match error {
            PaymentsError::Api(api) => api.into(),
            PaymentsError::ProviderUnavailable(message) => {
                tracing::warn!(%message, "payment provider unavailable");
                with_reason(
                    Code::Unavailable,
                    "PROVIDER_UNAVAILABLE",
                    "the payment provider did not answer; retry",
                )
            }
        }
    }
}

pub type Result<T, E = PaymentsError> = std::result::Result<T, E>;
