//! Messaging's own failures; what every service shares is in [`ApiError`],
//! and both map to gRPC statuses with a stable `ErrorInfo.reason`.

use frevix_platform::error::ApiError;
use tonic::Status;

#[derive(Debug, thiserror::Error)]
pub enum MessagingError {
    /// What every service may answer.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// A client stream broke off; answered as it came.
    #[error("{0}")]
    Stream(tonic::Status),
}

frevix_platform::api_error_conversions!(MessagingError);

impl From<object_store::Error> for MessagingError {
    fn from(error: object_store::Error) -> Self {
        MessagingError::Api(ApiError::internal(error))
    }
}

impl From<MessagingError> for Status {
    fn from(error: MessagingError) -> Status {
        match error {
            MessagingError::Api(api) => api.into(),
            MessagingError::Stream(status) => status,
        }
    }
}

pub type Result<T, E = MessagingError> = std::result::Result<T, E>;
