//! The main path of an account: sign-up, verification by mailed code, login,
//! refresh rotation, sessions, logout.

// Tests are written as plain async fns run by on_both_backends!, which
// clippy does not see as tests: a failed expectation should panic here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use frevix_proto::identity::v1 as pb;
use frevix_testkit::status::{reason, violated_fields};
use frevix_testkit::{Backend, TestApp, authed, on_both_backends, unique_email};
use tonic::Code;

const PASSWORD: &str = "a perfectly fine passphrase";

async fn the_whole_path_from_sign_up_to_logout_works(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut identity = app.identity.clone();
    let email = unique_email("ada");

    let account = app.sign_up(&email.to_uppercase(), PASSWORD).await;
    assert_eq!(account.email, email, "emails are stored lower-cased");
    assert_eq!(
        account.status,
        pb::AccountStatus::PendingVerification as i32
    );

    let refused = identity
        .login(pb::LoginRequest {
            email: email.clone(),
            password: PASSWORD.into(),
            device_name: "laptop".into(),
            second_factor_code: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert_eq!(reason(&refused), "EMAIL_NOT_VERIFIED");

    let code = app.code_from_mail(&email, 1).await;
    let verified = identity
        .verify_email(pb::VerifyEmailRequest {
            email: email.clone(),
            code: code.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .account
        .unwrap();
    assert_eq!(verified.status, pb::AccountStatus::Active as i32);

    let again = identity
        .verify_email(pb::VerifyEmailRequest {
            email: email.clone(),
            code,
        })
        .await
        .unwrap_err();
    // Verified and unknown emails answer alike (neither reveals an account).
    assert_eq!(reason(&again), "CODE_INVALID");

    let user = app.login(&email, PASSWORD).await;
    let me = identity
        .get_me(authed(&user.access_token, pb::GetMeRequest {}))
        .await
        .unwrap()
        .into_inner()
        .account
        .unwrap();
    assert_eq!(me.id, account.id);
    assert_eq!(
        me.roles,
        [pb::Role::Client as i32, pb::Role::Freelancer as i32]
    );

    let rotated = identity
        .refresh(pb::RefreshRequest {
            refresh_token: user.refresh_token.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .tokens
        .unwrap();
    assert_ne!(rotated.refresh_token, user.refresh_token);
    assert_eq!(rotated.session_id, user.session_id);
    identity
        .get_me(authed(&rotated.access_token, pb::GetMeRequest {}))
        .await
        .unwrap();

    identity
        .logout(authed(&rotated.access_token, pb::LogoutRequest {}))
        .await
        .unwrap();
    let after_logout = identity
        .get_me(authed(&rotated.access_token, pb::GetMeRequest {}))
        .await
        .unwrap_err();
    assert_eq!(after_logout.code(), Code::Unauthenticated);
    assert_eq!(reason(&after_logout), "SESSION_REVOKED");
    let refresh_after_logout = identity
        .refresh(pb::RefreshRequest {
            refresh_token: rotated.refresh_token,
        })
        .await
        .unwrap_err();
    assert_eq!(refresh_after_logout.code(), Code::Unauthenticated);
}

async fn reusing_a_rotated_refresh_token_revokes_the_session(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut identity = app.identity.clone();
    let user = app.register().await;
    let fresh = identity
        .refresh(pb::RefreshRequest {
            refresh_token: user.refresh_token.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .tokens
        .unwrap();

    let replay = identity
        .refresh(pb::RefreshRequest {
            refresh_token: user.refresh_token.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(replay.code(), Code::Unauthenticated);
    assert_eq!(reason(&replay), "REFRESH_TOKEN_REUSED");

    // The legitimate holder's newer tokens die with the session.
    let newer = identity
        .refresh(pb::RefreshRequest {
            refresh_token: fresh.refresh_token,
        })
        .await
        .unwrap_err();
    assert_eq!(newer.code(), Code::Unauthenticated);
    let me = identity
        .get_me(authed(&fresh.access_token, pb::GetMeRequest {}))
        .await
        .unwrap_err();
    assert_eq!(reason(&me), "SESSION_REVOKED");
}

async fn sessions_are_listed_and_one_can_be_revoked_from_another(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut identity = app.identity.clone();
    let phone = app.register().await;
    let laptop = app.login(&phone.email, &phone.password).await;

    let listed = identity
        .list_sessions(authed(
            &laptop.access_token,
            pb::ListSessionsRequest { page: None },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(listed.sessions.len(), 2);
    let current: Vec<_> = listed.sessions.iter().filter(|s| s.current).collect();
    assert_eq!(current.len(), 1);
    assert_eq!(current[0].id, laptop.session_id);
    assert!(listed.sessions.iter().all(|s| !s.ip_address.is_empty()));

    let page = identity
        .list_sessions(authed(
            &laptop.access_token,
            pb::ListSessionsRequest {
                page: Some(frevix_proto::common::v1::PageRequest {
                    page_size: 1,
                    page_token: String::new(),
                }),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(page.sessions.len(), 1);
    let token = page.page.unwrap().next_page_token;
    assert!(!token.is_empty());
    let second = identity
        .list_sessions(authed(
            &laptop.access_token,
            pb::ListSessionsRequest {
                page: Some(frevix_proto::common::v1::PageRequest {
                    page_size: 1,
                    page_token: token,
                }),
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(second.sessions.len(), 1);
    assert_ne!(second.sessions[0].id, page.sessions[0].id);
    assert!(second.page.unwrap().next_page_token.is_empty());

    identity
        .revoke_session(authed(
            &laptop.access_token,
            pb::RevokeSessionRequest {
                session_id: phone.session_id.clone(),
            },
        ))
        .await
        .unwrap();
    let phone_call = identity
        .get_me(authed(&phone.access_token, pb::GetMeRequest {}))
        .await
        .unwrap_err();
    assert_eq!(reason(&phone_call), "SESSION_REVOKED");

    // Someone else's session is not found, not revoked.
    let stranger = app.register().await;
    let other = identity
        .revoke_session(authed(
            &stranger.access_token,
            pb::RevokeSessionRequest {
                session_id: laptop.session_id.clone(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(other.code(), Code::NotFound);
    identity
        .get_me(authed(&laptop.access_token, pb::GetMeRequest {}))
        .await
        .unwrap();
}

async fn sign_up_retried_with_the_same_idempotency_key_answers_the_first_result(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut identity = app.identity.clone();
    let email = unique_email("retry");
    let request = pb::SignUpRequest {
        email: email.clone(),
        password: PASSWORD.into(),
        display_name: "Retry".into(),
        roles: vec![pb::Role::Client as i32],
    };
    let keyed = |message: pb::SignUpRequest, key: &str| {
        let mut request = tonic::Request::new(message);
        request
            .metadata_mut()
            .insert("idempotency-key", key.parse().unwrap());
        request
    };
    let first = identity
        .sign_up(keyed(request.clone(), "k-1"))
        .await
        .unwrap()
        .into_inner();
    let second = identity
        .sign_up(keyed(request.clone(), "k-1"))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(first, second);

    let different = pb::SignUpRequest {
        display_name: "Someone else".into(),
        ..request.clone()
    };
    let conflict = identity.sign_up(keyed(different, "k-1")).await.unwrap_err();
    assert_eq!(conflict.code(), Code::AlreadyExists);
    assert_eq!(reason(&conflict), "IDEMPOTENCY_KEY_REUSED");

    let unkeyed = identity.sign_up(request).await.unwrap_err();
    assert_eq!(unkeyed.code(), Code::AlreadyExists);
    assert_eq!(reason(&unkeyed), "EMAIL_TAKEN");
    // One account, one mail.
    tokio::time::sleep(std::time::Duration::from_millis(300)).await;
    assert_eq!(app.mail_to(&email).len(), 1);
}

async fn a_resent_code_replaces_the_first(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut identity = app.identity.clone();
    let email = unique_email("resend");
    app.sign_up(&email, PASSWORD).await;
    let first = app.code_from_mail(&email, 1).await;
    identity
        .resend_verification(pb::ResendVerificationRequest {
            email: email.clone(),
        })
        .await
        .unwrap();
    let second = app.code_from_mail(&email, 2).await;
    if first != second {
        let stale = identity
            .verify_email(pb::VerifyEmailRequest {
                email: email.clone(),
                code: first,
            })
            .await
            .unwrap_err();
        assert_eq!(violated_fields(&stale), ["code"]);
    }
    identity
        .verify_email(pb::VerifyEmailRequest {
            email,
            code: second,
        })
        .await
        .unwrap();
}

async fn account_details_and_roles_can_be_updated(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut identity = app.identity.clone();
    let user = app.register().await;
    let updated = identity
        .update_account(authed(
            &user.access_token,
            pb::UpdateAccountRequest {
                account: Some(pb::Account {
                    display_name: "  Grace Hopper ".into(),
                    roles: vec![pb::Role::Freelancer as i32],
                    ..Default::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["display_name".into(), "roles".into()],
                }),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .account
        .unwrap();
    assert_eq!(updated.display_name, "Grace Hopper");
    assert_eq!(updated.roles, [pb::Role::Freelancer as i32]);

    let bad = identity
        .update_account(authed(
            &user.access_token,
            pb::UpdateAccountRequest {
                account: Some(pb::Account {
                    roles: vec![pb::Role::Admin as i32],
                    email: "new@example.com".into(),
                    ..Default::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["roles".into(), "email".into()],
                }),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert_eq!(
        violated_fields(&bad),
        ["account.roles", "update_mask.paths"]
    );
}

on_both_backends!(
    the_whole_path_from_sign_up_to_logout_works,
    reusing_a_rotated_refresh_token_revokes_the_session,
    sessions_are_listed_and_one_can_be_revoked_from_another,
    sign_up_retried_with_the_same_idempotency_key_answers_the_first_result,
    a_resent_code_replaces_the_first,
    account_details_and_roles_can_be_updated,
);
