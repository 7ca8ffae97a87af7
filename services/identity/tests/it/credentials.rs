//! Codes, passwords and resets: brute force stops at the attempt limit, a
//! reset does not reveal whether an email exists and ends every session,
//! and passwords follow the policy.

// Tests are written as plain async fns run by on_both_backends!, which
// clippy does not see as tests: a failed expectation should panic here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use frevix_proto::identity::v1 as pb;
use frevix_testkit::status::{reason, violated_fields};
use frevix_testkit::{Backend, TestApp, authed, on_both_backends, unique_email};
use tonic::Code;

const PASSWORD: &str = "a perfectly fine passphrase";

async fn guessing_a_code_stops_at_the_attempt_limit(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut identity = app.identity.clone();
    let email = unique_email("guess");
    app.sign_up(&email, PASSWORD).await;
    let code = app.code_from_mail(&email, 1).await;
    let wrong = if code == "000000" { "000001" } else { "000000" };

    for attempt in 1..=5 {
        let error = identity
            .verify_email(pb::VerifyEmailRequest {
                email: email.clone(),
                code: wrong.into(),
            })
            .await
            .unwrap_err();
        assert_eq!(error.code(), Code::InvalidArgument, "attempt {attempt}");
        assert_eq!(reason(&error), "CODE_INVALID");
    }
    let locked = identity
        .verify_email(pb::VerifyEmailRequest {
            email: email.clone(),
            code: code.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(locked.code(), Code::FailedPrecondition);
    assert_eq!(reason(&locked), "CODE_ATTEMPTS_EXCEEDED");

    // A new code starts over.
    identity
        .resend_verification(pb::ResendVerificationRequest {
            email: email.clone(),
        })
        .await
        .unwrap();
    let fresh = app.code_from_mail(&email, 2).await;
    identity
        .verify_email(pb::VerifyEmailRequest { email, code: fresh })
        .await
        .unwrap();
}

async fn a_reset_request_answers_the_same_whether_or_not_the_email_exists(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut identity = app.identity.clone();
    let user = app.register().await;
    let nobody = unique_email("nobody");

    let known = identity
        .request_password_reset(pb::RequestPasswordResetRequest {
            email: user.email.clone(),
        })
        .await
        .unwrap();
    let unknown = identity
        .request_password_reset(pb::RequestPasswordResetRequest {
            email: nobody.clone(),
        })
        .await
        .unwrap();
    assert_eq!(known.get_ref(), unknown.get_ref());
    let status_headers = |m: &tonic::metadata::MetadataMap| {
        let mut keys: Vec<String> = m
            .keys()
            .map(|k| format!("{k:?}"))
            .filter(|k| !k.contains("date") && !k.contains("request-id"))
            .collect();
        keys.sort();
        keys
    };
    assert_eq!(
        status_headers(known.metadata()),
        status_headers(unknown.metadata())
    );

    app.code_from_mail(&user.email, 2).await;
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert!(app.mail_to(&nobody).is_empty());

    // Resetting for an unknown email fails exactly like a wrong code.
    let unknown_reset = identity
        .reset_password(pb::ResetPasswordRequest {
            email: nobody,
            code: "123456".into(),
            new_password: "another fine passphrase".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(unknown_reset.code(), Code::InvalidArgument);
    assert_eq!(reason(&unknown_reset), "CODE_INVALID");
}

async fn a_password_reset_sets_the_password_and_ends_every_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut identity = app.identity.clone();
    let user = app.register().await;
    let second = app.login(&user.email, &user.password).await;

    identity
        .request_password_reset(pb::RequestPasswordResetRequest {
            email: user.email.clone(),
        })
        .await
        .unwrap();
    let code = app.code_from_mail(&user.email, 2).await;
    let new_password = "a brand new passphrase";
    identity
        .reset_password(pb::ResetPasswordRequest {
            email: user.email.clone(),
            code: code.clone(),
            new_password: new_password.into(),
        })
        .await
        .unwrap();

    for session in [&user, &second] {
        let error = identity
            .get_me(authed(&session.access_token, pb::GetMeRequest {}))
            .await
            .unwrap_err();
        assert_eq!(reason(&error), "SESSION_REVOKED");
        let refresh = identity
            .refresh(pb::RefreshRequest {
                refresh_token: session.refresh_token.clone(),
            })
            .await
            .unwrap_err();
        assert_eq!(refresh.code(), Code::Unauthenticated);
    }
    let old = identity
        .login(pb::LoginRequest {
            email: user.email.clone(),
            password: user.password.clone(),
            device_name: String::new(),
            second_factor_code: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(reason(&old), "INVALID_CREDENTIALS");
    app.login(&user.email, new_password).await;

    let reused = identity
        .reset_password(pb::ResetPasswordRequest {
            email: user.email.clone(),
            code,
            new_password: "yet another passphrase".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(reason(&reused), "CODE_INVALID");
}

async fn changing_the_password_needs_the_current_one_and_ends_other_sessions(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut identity = app.identity.clone();
    let user = app.register().await;
    let other = app.login(&user.email, &user.password).await;

    let wrong = identity
        .change_password(authed(
            &user.access_token,
            pb::ChangePasswordRequest {
                current_password: "not the password at all".into(),
                new_password: "a changed passphrase".into(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&wrong), ["current_password"]);

    let weak = identity
        .change_password(authed(
            &user.access_token,
            pb::ChangePasswordRequest {
                current_password: user.password.clone(),
                new_password: "1234567890".into(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&weak), ["new_password"]);

    identity
        .change_password(authed(
            &user.access_token,
            pb::ChangePasswordRequest {
                current_password: user.password.clone(),
                new_password: "a changed passphrase".into(),
            },
        ))
        .await
        .unwrap();
    identity
        .get_me(authed(&user.access_token, pb::GetMeRequest {}))
        .await
        .unwrap();
    let ended = identity
        .get_me(authed(&other.access_token, pb::GetMeRequest {}))
        .await
        .unwrap_err();
    assert_eq!(reason(&ended), "SESSION_REVOKED");
    app.login(&user.email, "a changed passphrase").await;
}

async fn weak_passwords_are_refused_at_sign_up(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut identity = app.identity.clone();
    let email = unique_email("weak");
    for password in [
        "short",
        "1234567890",
        "qwertyuiop",
        email.as_str(),
        &"x".repeat(129),
    ] {
        let error = identity
            .sign_up(pb::SignUpRequest {
                email: email.clone(),
                password: password.into(),
                display_name: "Weak".into(),
                roles: vec![pb::Role::Client as i32],
            })
            .await
            .unwrap_err();
        assert_eq!(error.code(), Code::InvalidArgument, "{password}");
        assert_eq!(violated_fields(&error), ["password"], "{password}");
    }
}

fn login(user: &frevix_testkit::TestUser, code: &str) -> pb::LoginRequest {
    pb::LoginRequest {
        email: user.email.clone(),
        password: user.password.clone(),
        device_name: "phone".into(),
        second_factor_code: code.into(),
    }
}

/// Waits (10 s at most) for a mail to `to` whose subject contains `what`.
async fn mail_about(app: &TestApp, to: &str, what: &str) {
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !app.mail_to(to).iter().any(|m| m.subject.contains(what)) {
        assert!(
            std::time::Instant::now() < deadline,
            "no mail about {what:?}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }
}

async fn two_factor_guards_sign_in_and_recovery_codes_work_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut identity = app.identity.clone();
    let user = app.register().await;

    // A wrong first code does not turn it on.
    let begun = identity
        .begin_two_factor_enrollment(authed(
            &user.access_token,
            pb::BeginTwoFactorEnrollmentRequest {},
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(
        begun.otpauth_uri.starts_with("otpauth://totp/Frevix:"),
        "{}",
        begun.otpauth_uri
    );
    let mut enrolling = user.clone();
    enrolling.two_factor_secret = begun.secret;
    let right = TestApp::two_factor_code(&enrolling, 0);
    let wrong = if right == "000000" {
        "000001"
    } else {
        "000000"
    };
    let refused = identity
        .confirm_two_factor_enrollment(authed(
            &user.access_token,
            pb::ConfirmTwoFactorEnrollmentRequest { code: wrong.into() },
        ))
        .await
        .unwrap_err();
    assert_eq!(reason(&refused), "SECOND_FACTOR_INVALID");
    identity.login(login(&user, "")).await.unwrap();

    let (user, recovery) = app.enable_two_factor(&user).await;
    assert_eq!(recovery.len(), 10);
    mail_about(&app, &user.email, "Two-factor authentication was turned on").await;
    let me = identity
        .get_me(authed(&user.access_token, pb::GetMeRequest {}))
        .await
        .unwrap()
        .into_inner()
        .account
        .unwrap();
    assert!(me.two_factor_enabled);

    // The password alone is not enough any more, nor a wrong code (a code
    // used once is refused: see the racing test below).
    let missing = identity.login(login(&user, "")).await.unwrap_err();
    assert_eq!(missing.code(), Code::FailedPrecondition);
    assert_eq!(reason(&missing), "SECOND_FACTOR_REQUIRED");
    let bad = identity.login(login(&user, wrong)).await.unwrap_err();
    assert_eq!(reason(&bad), "SECOND_FACTOR_INVALID");

    // A recovery code works once, typed however.
    let typed = recovery[0].to_uppercase().replace('-', " ");
    identity.login(login(&user, &typed)).await.unwrap();
    mail_about(&app, &user.email, "A recovery code was used").await;
    let again = identity
        .login(login(&user, &recovery[0]))
        .await
        .unwrap_err();
    assert_eq!(reason(&again), "SECOND_FACTOR_INVALID");

    // The log has it all, newest first.
    let events = identity
        .list_security_events(authed(
            &user.access_token,
            pb::ListSecurityEventsRequest::default(),
        ))
        .await
        .unwrap()
        .into_inner()
        .events;
    let kinds: Vec<i32> = events.iter().map(|e| e.kind).collect();
    for kind in [
        pb::SecurityEventKind::SignIn,
        pb::SecurityEventKind::TwoFactorEnabled,
        pb::SecurityEventKind::RecoveryCodeUsed,
    ] {
        assert!(kinds.contains(&(kind as i32)), "{kind:?} in {kinds:?}");
    }
    assert_eq!(events[0].kind, pb::SecurityEventKind::SignIn as i32);

    // Turning it off takes the password and a code.
    let no_password = identity
        .disable_two_factor(authed(
            &user.access_token,
            pb::DisableTwoFactorRequest {
                password: "not my password at all".into(),
                code: recovery[1].clone(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&no_password), ["password"]);
    identity
        .disable_two_factor(authed(
            &user.access_token,
            pb::DisableTwoFactorRequest {
                password: user.password.clone(),
                code: recovery[1].clone(),
            },
        ))
        .await
        .unwrap();
    mail_about(
        &app,
        &user.email,
        "Two-factor authentication was turned off",
    )
    .await;
    identity.login(login(&user, "")).await.unwrap();
}

/// How many of `n` concurrent Reauthenticate calls with `code` succeed.
async fn racing_reauthentications(
    app: &TestApp,
    user: &frevix_testkit::TestUser,
    code: &str,
    n: usize,
) -> usize {
    let mut racing = tokio::task::JoinSet::new();
    for _ in 0..n {
        let mut identity = app.identity.clone();
        let request = authed(
            &user.access_token,
            pb::ReauthenticateRequest {
                password: String::new(),
                second_factor_code: code.to_owned(),
            },
        );
        racing.spawn(async move { identity.reauthenticate(request).await.is_ok() });
    }
    let mut accepted = 0;
    while let Some(ok) = racing.join_next().await {
        accepted += usize::from(ok.unwrap());
    }
    accepted
}

async fn a_second_factor_code_raced_30_times_is_accepted_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.register().await;
    let (user, recovery) = app.enable_two_factor(&user).await;

    // A recovery code, 30 times at once (Reauthenticate has no sign-in
    // throttle in front, so all 30 reach the code check).
    assert_eq!(
        racing_reauthentications(&app, &user, &recovery[0], 30).await,
        1
    );

    // The enrolment used this step's code and the sign-in the next one's:
    // wait for a fresh step, then race its code.
    let step = frevix_identity::domain::two_factor::STEP_SECS;
    let now = u64::try_from(chrono::Utc::now().timestamp()).unwrap();
    tokio::time::sleep(std::time::Duration::from_secs(step - now % step + 1)).await;
    let code = TestApp::two_factor_code(&user, 1);
    assert_eq!(racing_reauthentications(&app, &user, &code, 30).await, 1);
}

on_both_backends!(
    two_factor_guards_sign_in_and_recovery_codes_work_once,
    a_second_factor_code_raced_30_times_is_accepted_once,
    guessing_a_code_stops_at_the_attempt_limit,
    a_reset_request_answers_the_same_whether_or_not_the_email_exists,
    a_password_reset_sets_the_password_and_ends_every_session,
    changing_the_password_needs_the_current_one_and_ends_other_sessions,
    weak_passwords_are_refused_at_sign_up,
);
