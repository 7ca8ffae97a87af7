//! The operator's ADMIN (made by `frevix admin create-admin`) who splits
//! disputed sagas: two-factor authentication turned on and signed in with
//! a code, as ADMIN actions need, and proven again (`Reauthenticate`)
//! before its authentication is ten minutes old, as they also need — a
//! long run (`make soak`) outlives one sign-in's recency.

use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow};
use frevix_identity::domain::two_factor::{STEP_SECS, code_at};
use frevix_proto::identity::v1::{
    self as identity, identity_service_client::IdentityServiceClient,
};
use tokio::sync::Mutex;

use crate::api::{Api, authed};
use crate::people::sign_in;

/// Proven again when older than this (ADMIN actions want under 10 minutes).
const FRESH: Duration = Duration::from_secs(8 * 60);

pub struct Admin {
    api: Api,
    secret: String,
    /// The access token, when it was proven, and the last code's step.
    session: Mutex<(String, Instant, u64)>,
}

impl Admin {
    pub async fn sign_in(api: &Api, email: &str, password: &str) -> anyhow::Result<Admin> {
        let first = sign_in(api, email, password, "").await?;
        let begun = api
            .call("BeginTwoFactorEnrollment", &[], |channel| {
                let request = authed(
                    &first.token,
                    None,
                    identity::BeginTwoFactorEnrollmentRequest {},
                );
                async move {
                    IdentityServiceClient::new(channel)
                        .begin_two_factor_enrollment(request)
                        .await
                }
            })
            .await
            .context("BeginTwoFactorEnrollment")?;
        let confirm = identity::ConfirmTwoFactorEnrollmentRequest {
            code: code(&begun.secret, step())?,
        };
        api.call("ConfirmTwoFactorEnrollment", &[], |channel| {
            let request = authed(&first.token, None, confirm.clone());
            async move {
                IdentityServiceClient::new(channel)
                    .confirm_two_factor_enrollment(request)
                    .await
            }
        })
        .await
        .context("ConfirmTwoFactorEnrollment")?;
        // A code is good once: the next step's is accepted already.
        let used = step() + 1;
        let signed_in = sign_in(api, email, password, &code(&begun.secret, used)?).await?;
        Ok(Admin {
            api: api.clone(),
            secret: begun.secret,
            session: Mutex::new((signed_in.token, Instant::now(), used)),
        })
    }

    /// An access token proven within the last few minutes.
    pub async fn token(&self) -> anyhow::Result<String> {
        let mut session = self.session.lock().await;
        if session.1.elapsed() > FRESH {
            // Never a code twice: this step's, or the next one's when this
            // step's was used.
            let used = step().max(session.2 + 1);
            let request = identity::ReauthenticateRequest {
                second_factor_code: code(&self.secret, used)?,
                ..Default::default()
            };
            let token = session.0.clone();
            let proven = self
                .api
                .call("Reauthenticate", &[], |channel| {
                    let request = authed(&token, None, request.clone());
                    async move {
                        IdentityServiceClient::new(channel)
                            .reauthenticate(request)
                            .await
                    }
                })
                .await
                .context("Reauthenticate")?;
            *session = (proven.access_token, Instant::now(), used);
        }
        Ok(session.0.clone())
    }
}

/// The current 30-second step of the authenticator's clock.
fn step() -> u64 {
    u64::try_from(chrono::Utc::now().timestamp()).unwrap_or_default() / STEP_SECS
}

/// The code an authenticator app shows in `step`.
fn code(secret: &str, step: u64) -> anyhow::Result<String> {
    code_at(secret, step * STEP_SECS).ok_or_else(|| anyhow!("no code for the secret"))
}
