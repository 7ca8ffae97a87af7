//! Identity publishes its domain events through the outbox: on JetStream
//! with PostgreSQL, in-process with SQLite.

// Tests are written as plain async fns run by on_both_backends!, which
// clippy does not see as tests: a failed expectation should panic here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use frevix_proto::identity::v1 as pb;
use frevix_testkit::{Backend, TestApp, authed, on_both_backends, unique_email};

async fn an_account_s_life_is_published_in_order(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut identity = app.identity.clone();
    let admin = app.admin().await;
    let user = app.register().await;

    let registered = app
        .wait_for_event::<pb::UserRegistered>("identity", |e| e.account_id == user.account_id)
        .await;
    assert_eq!(registered.email, user.email);
    assert_eq!(registered.display_name, "Test Person");
    assert_eq!(
        registered.roles,
        [pb::Role::Client as i32, pb::Role::Freelancer as i32]
    );

    identity
        .update_account(authed(
            &user.access_token,
            pb::UpdateAccountRequest {
                account: Some(pb::Account {
                    display_name: "Renamed".into(),
                    ..Default::default()
                }),
                update_mask: Some(prost_types::FieldMask {
                    paths: vec!["display_name".into()],
                }),
            },
        ))
        .await
        .unwrap();
    identity
        .suspend_account(authed(
            &admin.access_token,
            pb::SuspendAccountRequest {
                account_id: user.account_id.clone(),
                reason: "chargebacks".into(),
            },
        ))
        .await
        .unwrap();
    let suspended = app
        .wait_for_event::<pb::AccountSuspended>("identity", |e| e.account_id == user.account_id)
        .await;
    assert_eq!(suspended.reason, "chargebacks");

    let of_user: Vec<String> = app
        .published_events("identity")
        .await
        .into_iter()
        .filter(|e| e.envelope.aggregate_id == user.account_id)
        .map(|e| e.envelope.r#type.clone())
        .collect();
    assert_eq!(
        of_user,
        [
            "frevix.identity.v1.UserRegistered",
            "frevix.identity.v1.EmailVerified",
            "frevix.identity.v1.AccountUpdated",
            // The suspension ends the account's one session.
            "frevix.identity.v1.SessionRevoked",
            "frevix.identity.v1.AccountSuspended",
        ]
    );
    let updated = app
        .wait_for_event::<pb::AccountUpdated>("identity", |e| e.account_id == user.account_id)
        .await;
    assert_eq!(updated.display_name, "Renamed");
}

async fn a_failed_sign_up_publishes_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut identity = app.identity.clone();
    let email = unique_email("once");
    app.sign_up(&email, "a perfectly fine passphrase").await;
    let duplicate = identity
        .sign_up(pb::SignUpRequest {
            email: email.clone(),
            password: "a perfectly fine passphrase".into(),
            display_name: "Twice".into(),
            roles: vec![pb::Role::Client as i32],
        })
        .await;
    assert!(duplicate.is_err());
    app.wait_for_event::<pb::UserRegistered>("identity", |e| e.email == email)
        .await;
    let registered: Vec<_> = app
        .published_events("identity")
        .await
        .into_iter()
        .filter_map(|e| e.decode::<pb::UserRegistered>().ok())
        .filter(|e| e.email == email)
        .collect();
    assert_eq!(registered.len(), 1);
}

on_both_backends!(
    an_account_s_life_is_published_in_order,
    a_failed_sign_up_publishes_nothing,
);
