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

on_both_backends!(
    guessing_a_code_stops_at_the_attempt_limit,
    a_reset_request_answers_the_same_whether_or_not_the_email_exists,
    a_password_reset_sets_the_password_and_ends_every_session,
    changing_the_password_needs_the_current_one_and_ends_other_sessions,
    weak_passwords_are_refused_at_sign_up,
);
