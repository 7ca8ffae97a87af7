//! Test accounts with more than a password: ADMINs made the way an
//! operator makes them, and two-factor authentication turned on the way a
//! person does, with the codes an authenticator app would show.

use frevix_proto::identity::v1 as pb;

use crate::app::{TestApp, TestUser, authed, unique_email};

impl TestApp {
    /// An ADMIN, created the way an operator does (`frevix admin create-admin`),
    /// signed in with two-factor authentication (which ADMIN actions need).
    pub async fn admin(&self) -> TestUser {
        let admin = self.admin_password_only().await;
        self.enable_two_factor(&admin).await.0
    }

    /// An ADMIN right after the operator made it: signed in with the
    /// password only, two-factor authentication not on yet.
    pub async fn admin_password_only(&self) -> TestUser {
        let email = unique_email("admin");
        let password = "an operator's long passphrase".to_owned();
        let db = frevix_platform::db::connect_and_migrate::<frevix_identity::Migrator>(
            secrecy::ExposeSecret::expose_secret(&self.config.identity.database.url),
            1,
        )
        .await
        .unwrap();
        let outbox = frevix_platform::events::Outbox::new(
            frevix_identity::PRODUCER,
            self.config.events.subject_prefix.clone(),
        );
        frevix_identity::admin::create_admin(&db, &outbox, &email, "Operator", &password)
            .await
            .unwrap();
        db.close().await.unwrap();
        self.login(&email, &password).await
    }

    /// The code an authenticator app shows for `user` (two-factor on)
    /// `steps_ahead` 30-second steps from now (a code is good once, and the
    /// next step's is accepted already).
    pub fn two_factor_code(user: &TestUser, steps_ahead: u64) -> String {
        let now = u64::try_from(chrono::Utc::now().timestamp()).unwrap();
        frevix_identity::domain::two_factor::code_at(
            &user.two_factor_secret,
            now + steps_ahead * frevix_identity::domain::two_factor::STEP_SECS,
        )
        .unwrap()
    }

    /// Turns two-factor authentication on for `user` and signs in again
    /// with it; answers the new session's user and the recovery codes.
    pub async fn enable_two_factor(&self, user: &TestUser) -> (TestUser, Vec<String>) {
        let mut identity = self.identity.clone();
        let begun = identity
            .begin_two_factor_enrollment(authed(
                &user.access_token,
                pb::BeginTwoFactorEnrollmentRequest {},
            ))
            .await
            .unwrap()
            .into_inner();
        let mut enrolled = user.clone();
        enrolled.two_factor_secret = begun.secret;
        let codes = identity
            .confirm_two_factor_enrollment(authed(
                &user.access_token,
                pb::ConfirmTwoFactorEnrollmentRequest {
                    code: Self::two_factor_code(&enrolled, 0),
                },
            ))
            .await
            .unwrap()
            .into_inner()
            .recovery_codes;
        let response = identity
            .login(pb::LoginRequest {
                email: user.email.clone(),
                password: user.password.clone(),
                device_name: "test".to_owned(),
                second_factor_code: Self::two_factor_code(&enrolled, 1),
            })
            .await
            .unwrap()
            .into_inner();
        let tokens = response.tokens.unwrap();
        enrolled.access_token = tokens.access_token;
        enrolled.refresh_token = tokens.refresh_token;
        enrolled.session_id = tokens.session_id;
        (enrolled, codes)
    }
}
