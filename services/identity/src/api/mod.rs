//! The gRPC face of identity: each RPC parses its request into domain values
//! (bad input becomes INVALID_ARGUMENT naming every bad field), checks who is
//! calling, runs the domain rules, persists in one transaction, and answers.

mod account;
mod admin;
mod convert;
mod login;
mod password;
mod security;
mod sessions;
mod signup;
mod support;
mod two_factor;

use std::sync::Arc;

use frevix_proto::identity::v1::{self as pb, identity_service_server::IdentityService};
use tonic::{Request, Response, Status};

use crate::Inner;

/// Implements `frevix.identity.v1.IdentityService`.
pub struct IdentityApi {
    inner: Arc<Inner>,
}

impl IdentityApi {
    pub(crate) fn new(inner: Arc<Inner>) -> Self {
        Self { inner }
    }
}

type Answer<T> = Result<Response<T>, Status>;

fn answer<T>(result: crate::error::Result<T>) -> Answer<T> {
    result.map(Response::new).map_err(Status::from)
}

#[tonic::async_trait]
impl IdentityService for IdentityApi {
    async fn sign_up(&self, request: Request<pb::SignUpRequest>) -> Answer<pb::SignUpResponse> {
        answer(signup::sign_up(&self.inner, request).await)
    }

    async fn verify_email(
        &self,
        request: Request<pb::VerifyEmailRequest>,
    ) -> Answer<pb::VerifyEmailResponse> {
        answer(signup::verify_email(&self.inner, request).await)
    }

    async fn resend_verification(
        &self,
        request: Request<pb::ResendVerificationRequest>,
    ) -> Answer<pb::ResendVerificationResponse> {
        answer(signup::resend_verification(&self.inner, request).await)
    }

    async fn login(&self, request: Request<pb::LoginRequest>) -> Answer<pb::LoginResponse> {
        answer(login::login(&self.inner, request).await)
    }

    async fn refresh(&self, request: Request<pb::RefreshRequest>) -> Answer<pb::RefreshResponse> {
        answer(login::refresh(&self.inner, request.into_inner()).await)
    }

    async fn logout(&self, request: Request<pb::LogoutRequest>) -> Answer<pb::LogoutResponse> {
        answer(login::logout(&self.inner, request).await)
    }

    async fn list_sessions(
        &self,
        request: Request<pb::ListSessionsRequest>,
    ) -> Answer<pb::ListSessionsResponse> {
        answer(sessions::list_sessions(&self.inner, request).await)
    }

    async fn revoke_session(
        &self,
        request: Request<pb::RevokeSessionRequest>,
    ) -> Answer<pb::RevokeSessionResponse> {
        answer(sessions::revoke_session(&self.inner, request).await)
    }

    async fn request_password_reset(
        &self,
        request: Request<pb::RequestPasswordResetRequest>,
    ) -> Answer<pb::RequestPasswordResetResponse> {
        answer(password::request_password_reset(&self.inner, request).await)
    }

    async fn reset_password(
        &self,
        request: Request<pb::ResetPasswordRequest>,
    ) -> Answer<pb::ResetPasswordResponse> {
        answer(password::reset_password(&self.inner, request).await)
    }

    async fn change_password(
        &self,
        request: Request<pb::ChangePasswordRequest>,
    ) -> Answer<pb::ChangePasswordResponse> {
        answer(password::change_password(&self.inner, request).await)
    }

    async fn get_me(&self, request: Request<pb::GetMeRequest>) -> Answer<pb::GetMeResponse> {
        answer(account::get_me(&self.inner, request).await)
    }

    async fn update_account(
        &self,
        request: Request<pb::UpdateAccountRequest>,
    ) -> Answer<pb::UpdateAccountResponse> {
        answer(account::update_account(&self.inner, request).await)
    }

    async fn list_accounts(
        &self,
        request: Request<pb::ListAccountsRequest>,
    ) -> Answer<pb::ListAccountsResponse> {
        answer(admin::list_accounts(&self.inner, request).await)
    }

    async fn suspend_account(
        &self,
        request: Request<pb::SuspendAccountRequest>,
    ) -> Answer<pb::SuspendAccountResponse> {
        answer(admin::suspend_account(&self.inner, request).await)
    }

    async fn reinstate_account(
        &self,
        request: Request<pb::ReinstateAccountRequest>,
    ) -> Answer<pb::ReinstateAccountResponse> {
        answer(admin::reinstate_account(&self.inner, request).await)
    }

    async fn begin_two_factor_enrollment(
        &self,
        request: Request<pb::BeginTwoFactorEnrollmentRequest>,
    ) -> Answer<pb::BeginTwoFactorEnrollmentResponse> {
        answer(two_factor::begin(&self.inner, request).await)
    }

    async fn confirm_two_factor_enrollment(
        &self,
        request: Request<pb::ConfirmTwoFactorEnrollmentRequest>,
    ) -> Answer<pb::ConfirmTwoFactorEnrollmentResponse> {
        answer(two_factor::confirm(&self.inner, request).await)
    }

    async fn disable_two_factor(
        &self,
        request: Request<pb::DisableTwoFactorRequest>,
    ) -> Answer<pb::DisableTwoFactorResponse> {
        answer(two_factor::disable(&self.inner, request).await)
    }

    async fn regenerate_recovery_codes(
        &self,
        request: Request<pb::RegenerateRecoveryCodesRequest>,
    ) -> Answer<pb::RegenerateRecoveryCodesResponse> {
        answer(two_factor::regenerate(&self.inner, request).await)
    }

    async fn reauthenticate(
        &self,
        request: Request<pb::ReauthenticateRequest>,
    ) -> Answer<pb::ReauthenticateResponse> {
        answer(two_factor::reauthenticate(&self.inner, request).await)
    }

    async fn list_security_events(
        &self,
        request: Request<pb::ListSecurityEventsRequest>,
    ) -> Answer<pb::ListSecurityEventsResponse> {
        answer(security::list_security_events(&self.inner, request).await)
    }
}
