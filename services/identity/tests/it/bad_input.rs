//! Bad input is INVALID_ARGUMENT naming every bad field, and no answer ever
//! carries a password hash, a mailed code or a stored token hash.

// Tests are written as plain async fns run by on_both_backends!, which
// clippy does not see as tests: a failed expectation should panic here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use frevix_proto::identity::v1 as pb;
use frevix_testkit::status::violated_fields;
use frevix_testkit::{Backend, TestApp, authed, on_both_backends, unique_email};
use sha2::{Digest, Sha256};
use tonic::Code;

async fn every_invalid_field_is_named(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut identity = app.identity.clone();
    let user = app.register().await;

    let sign_up = identity
        .sign_up(pb::SignUpRequest {
            email: "not an email".into(),
            password: "short".into(),
            display_name: " ".into(),
            roles: vec![],
        })
        .await
        .unwrap_err();
    assert_eq!(sign_up.code(), Code::InvalidArgument);
    assert_eq!(
        violated_fields(&sign_up),
        ["email", "display_name", "roles", "password"]
    );

    let long_name = identity
        .sign_up(pb::SignUpRequest {
            email: unique_email("long"),
            password: "a perfectly fine passphrase".into(),
            display_name: "n".repeat(81),
            roles: vec![7],
        })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&long_name), ["display_name", "roles"]);

    let verify = identity
        .verify_email(pb::VerifyEmailRequest {
            email: String::new(),
            code: "12ab".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&verify), ["email", "code"]);

    let login = identity
        .login(pb::LoginRequest {
            email: "@".into(),
            password: String::new(),
            device_name: "d".repeat(101),
            second_factor_code: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(
        violated_fields(&login),
        ["email", "password", "device_name"]
    );

    let refresh = identity
        .refresh(pb::RefreshRequest {
            refresh_token: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&refresh), ["refresh_token"]);

    let reset = identity
        .reset_password(pb::ResetPasswordRequest {
            email: "x".into(),
            code: String::new(),
            new_password: "short".into(),
        })
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&reset), ["email", "code", "new_password"]);

    let revoke = identity
        .revoke_session(authed(
            &user.access_token,
            pb::RevokeSessionRequest {
                session_id: "not-a-uuid".into(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&revoke), ["session_id"]);

    let update = identity
        .update_account(authed(
            &user.access_token,
            pb::UpdateAccountRequest {
                account: Some(pb::Account::default()),
                update_mask: None,
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&update), ["update_mask"]);

    let mut keyed = tonic::Request::new(pb::SignUpRequest {
        email: unique_email("key"),
        password: "a perfectly fine passphrase".into(),
        display_name: "Key".into(),
        roles: vec![pb::Role::Client as i32],
    });
    keyed
        .metadata_mut()
        .insert("idempotency-key", "k".repeat(200).parse().unwrap());
    let key = identity.sign_up(keyed).await.unwrap_err();
    assert_eq!(violated_fields(&key), ["idempotency-key"]);
}

async fn no_answer_carries_a_hash_or_a_code(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut identity = app.identity.clone();
    let admin = app.admin().await;
    let email = unique_email("secret");
    let password = "a perfectly fine passphrase";
    let mut answers: Vec<String> = Vec::new();

    let sign_up = identity
        .sign_up(pb::SignUpRequest {
            email: email.clone(),
            password: password.into(),
            display_name: "Secret".into(),
            roles: vec![pb::Role::Client as i32],
        })
        .await
        .unwrap();
    answers.push(format!("{sign_up:?}"));
    let code = app.code_from_mail(&email, 1).await;
    let wrong = if code == "111111" { "222222" } else { "111111" };
    let wrong_answer = identity
        .verify_email(pb::VerifyEmailRequest {
            email: email.clone(),
            code: wrong.into(),
        })
        .await
        .unwrap_err();
    answers.push(format!("{wrong_answer:?}"));
    let verified = identity
        .verify_email(pb::VerifyEmailRequest {
            email: email.clone(),
            code: code.clone(),
        })
        .await
        .unwrap();
    answers.push(format!("{verified:?}"));
    let login = identity
        .login(pb::LoginRequest {
            email: email.clone(),
            password: password.into(),
            device_name: "d".into(),
            second_factor_code: String::new(),
        })
        .await
        .unwrap();
    answers.push(format!("{login:?}"));
    let refresh_token = login.get_ref().tokens.clone().unwrap().refresh_token;
    let me = identity
        .get_me(authed(
            &login.get_ref().tokens.clone().unwrap().access_token,
            pb::GetMeRequest {},
        ))
        .await
        .unwrap();
    answers.push(format!("{me:?}"));
    let listed = identity
        .list_accounts(authed(
            &admin.access_token,
            pb::ListAccountsRequest::default(),
        ))
        .await
        .unwrap();
    answers.push(format!("{listed:?}"));

    let token_hash: String = Sha256::digest(refresh_token.as_bytes())
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect();
    for answer in &answers {
        assert!(
            !answer.contains("argon2"),
            "a password hash leaked: {answer}"
        );
        assert!(!answer.contains(&code), "the mailed code leaked: {answer}");
        assert!(!answer.contains(password), "the password leaked: {answer}");
        assert!(
            !answer.contains(&token_hash),
            "a token hash leaked: {answer}"
        );
    }
}

async fn a_flood_of_mask_paths_is_refused_whole_with_a_small_answer(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut identity = app.identity.clone();
    let user = app.register().await;
    let paths: Vec<String> = (0..100_000).map(|i| format!("no_such_field_{i}")).collect();
    let started = std::time::Instant::now();
    let error = identity
        .update_account(authed(
            &user.access_token,
            pb::UpdateAccountRequest {
                account: Some(pb::Account::default()),
                update_mask: Some(prost_types::FieldMask { paths }),
            },
        ))
        .await
        .unwrap_err();
    let elapsed = started.elapsed();
    assert_eq!(error.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&error), ["update_mask.paths"]);
    assert!(error.message().len() < 200, "{}", error.message());
    assert!(error.details().len() < 1024, "{}", error.details().len());
    // Refused before any path was looked at (it took seconds when every one was).
    assert!(elapsed < std::time::Duration::from_secs(2), "{elapsed:?}");
}

async fn display_names_that_hide_or_reverse_text_are_refused(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut identity = app.identity.clone();
    for name in ["Ada\u{202E}nimda", "\u{200B}\u{200B}\u{200B}", "\u{3164}"] {
        let error = identity
            .sign_up(pb::SignUpRequest {
                email: unique_email("spoof"),
                password: "a perfectly fine passphrase".into(),
                display_name: name.into(),
                roles: vec![pb::Role::Client as i32],
            })
            .await
            .unwrap_err();
        assert_eq!(violated_fields(&error), ["display_name"], "{name:?}");
    }
    // Scripts that need joiners, and emoji sequences, are fine.
    identity
        .sign_up(pb::SignUpRequest {
            email: unique_email("zwnj"),
            password: "a perfectly fine passphrase".into(),
            display_name: "می\u{200C}خواهم 👩\u{200D}💻".into(),
            roles: vec![pb::Role::Client as i32],
        })
        .await
        .unwrap();
}

on_both_backends!(
    display_names_that_hide_or_reverse_text_are_refused,
    a_flood_of_mask_paths_is_refused_whole_with_a_small_answer,
    every_invalid_field_is_named,
    no_answer_carries_a_hash_or_a_code
);
