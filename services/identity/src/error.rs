//! Everything identity answers besides success, each mapped once to a gRPC
//! status with a stable `ErrorInfo.reason`.

use std::time::Duration;

use frevix_platform::error::{self, ApiError, FieldViolations};
use tonic::{Code, Status};

#[derive(Debug, thiserror::Error)]
pub enum IdentityError {
    /// What every service may answer.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// UNAUTHENTICATED `INVALID_CREDENTIALS`: unknown email or wrong password,
    /// deliberately indistinguishable.
    #[error("the email or password is wrong")]
    InvalidCredentials,
    /// FAILED_PRECONDITION `EMAIL_NOT_VERIFIED`.
    #[error("verify your email address first (see the code we mailed you)")]
    EmailNotVerified,
    /// FAILED_PRECONDITION `ACCOUNT_SUSPENDED`.
    #[error("this account is suspended")]
    AccountSuspended,
    /// ALREADY_EXISTS `EMAIL_TAKEN`.
    #[error("an account with this email address already exists")]
    EmailTaken,
    /// INVALID_ARGUMENT on `code`, reason `CODE_INVALID`.
    #[error("the code is wrong or has expired")]
    CodeInvalid,
    /// FAILED_PRECONDITION `CODE_ATTEMPTS_EXCEEDED`.
    #[error("too many wrong codes; request a new one")]
    CodeAttemptsExceeded,
    /// FAILED_PRECONDITION `SECOND_FACTOR_REQUIRED`: the password was right;
    /// send a code from the authenticator app (or a recovery code) too.
    #[error(
        "this account uses two-factor authentication: send a code from the authenticator app, or a recovery code"
    )]
    SecondFactorRequired,
    /// UNAUTHENTICATED `SECOND_FACTOR_INVALID`.
    #[error("the two-factor code is wrong, expired or already used")]
    SecondFactorInvalid,
    /// UNAUTHENTICATED `REFRESH_TOKEN_INVALID`.
    #[error("the refresh token is not valid; log in again")]
    RefreshTokenInvalid,
    /// UNAUTHENTICATED `REFRESH_TOKEN_REUSED`: the session is revoked.
    #[error("this refresh token was already used; the session has been revoked, log in again")]
    RefreshTokenReused,
    /// UNAUTHENTICATED `SESSION_REVOKED`.
    #[error("this session has ended; log in again")]
    SessionRevoked,
    /// PERMISSION_DENIED `ADMIN_REQUIRED`.
    #[error("only an ADMIN may do this")]
    AdminRequired,
    /// RESOURCE_EXHAUSTED `LOGIN_THROTTLED` with `RetryInfo`.
    #[error("too many failed logins for this account; wait before trying again")]
    LoginThrottled(Duration),
}

frevix_platform::api_error_conversions!(IdentityError);

impl From<crate::domain::password::HashError> for IdentityError {
    fn from(error: crate::domain::password::HashError) -> Self {
        IdentityError::Api(ApiError::internal(error.to_string()))
    }
}

impl From<IdentityError> for Status {
    fn from(error: IdentityError) -> Status {
        let message = error.to_string();
        match error {
            IdentityError::Api(api) => api.into(),
            IdentityError::InvalidCredentials => {
                error::unauthenticated("INVALID_CREDENTIALS", message)
            }
            IdentityError::EmailNotVerified => {
                error::failed_precondition("EMAIL_NOT_VERIFIED", "account", message)
            }
            IdentityError::AccountSuspended => {
                error::failed_precondition("ACCOUNT_SUSPENDED", "account", message)
            }
            IdentityError::EmailTaken => {
                error::with_reason(Code::AlreadyExists, "EMAIL_TAKEN", message)
            }
            IdentityError::CodeInvalid => {
                FieldViolations::single("code", message).into_status_with_reason("CODE_INVALID")
            }
            IdentityError::CodeAttemptsExceeded => {
                error::failed_precondition("CODE_ATTEMPTS_EXCEEDED", "code", message)
            }
            IdentityError::RefreshTokenInvalid => {
                error::unauthenticated("REFRESH_TOKEN_INVALID", message)
            }
            IdentityError::RefreshTokenReused => {
                error::unauthenticated("REFRESH_TOKEN_REUSED", message)
            }
            IdentityError::SessionRevoked => error::unauthenticated("SESSION_REVOKED", message),
            IdentityError::SecondFactorRequired => {
                error::failed_precondition("SECOND_FACTOR_REQUIRED", "second_factor_code", message)
            }
            IdentityError::SecondFactorInvalid => {
                error::unauthenticated("SECOND_FACTOR_INVALID", message)
            }
            IdentityError::AdminRequired => error::permission_denied("ADMIN_REQUIRED", message),
            IdentityError::LoginThrottled(wait) => {
                error::resource_exhausted("LOGIN_THROTTLED", wait, message)
            }
        }
    }
}

pub type Result<T, E = IdentityError> = std::result::Result<T, E>;
