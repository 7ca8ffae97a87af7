//! ADMIN RPCs: listing accounts with filters and pages, suspension locking an
//! account out at once, and everyone else kept away from them.

// Tests are written as plain async fns run by on_both_backends!, which
// clippy does not see as tests: a failed expectation should panic here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use frevix_proto::common::v1::PageRequest;
use frevix_proto::identity::v1 as pb;
use frevix_testkit::status::{reason, violated_fields};
use frevix_testkit::{Backend, TestApp, authed, on_both_backends};
use tonic::Code;

async fn only_admins_reach_admin_rpcs(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut identity = app.identity.clone();
    let user = app.register().await;
    let list = identity
        .list_accounts(authed(
            &user.access_token,
            pb::ListAccountsRequest::default(),
        ))
        .await
        .unwrap_err();
    assert_eq!(list.code(), Code::PermissionDenied);
    assert_eq!(reason(&list), "ADMIN_REQUIRED");
    let suspend = identity
        .suspend_account(authed(
            &user.access_token,
            pb::SuspendAccountRequest {
                account_id: user.account_id.clone(),
                reason: "no".into(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(suspend.code(), Code::PermissionDenied);
}

async fn accounts_are_listed_newest_first_with_filters_and_pages(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut identity = app.identity.clone();
    let admin = app.admin().await;
    let mut created = Vec::new();
    for _ in 0..3 {
        created.push(app.register().await);
    }
    let pending = frevix_testkit::unique_email("pending");
    app.sign_up(&pending, "a perfectly fine passphrase").await;

    let mut seen = Vec::new();
    let mut token = String::new();
    loop {
        let page = identity
            .list_accounts(authed(
                &admin.access_token,
                pb::ListAccountsRequest {
                    page: Some(PageRequest {
                        page_size: 2,
                        page_token: token.clone(),
                    }),
                    status: pb::AccountStatus::Active as i32,
                    ..Default::default()
                },
            ))
            .await
            .unwrap()
            .into_inner();
        assert!(page.accounts.len() <= 2);
        seen.extend(page.accounts.into_iter().map(|a| a.email));
        token = page.page.unwrap().next_page_token;
        if token.is_empty() {
            break;
        }
    }
    let mut expected: Vec<String> = created.iter().rev().map(|u| u.email.clone()).collect();
    expected.push(admin.email.clone());
    assert_eq!(seen, expected, "active accounts, newest first, each once");

    let by_email = identity
        .list_accounts(authed(
            &admin.access_token,
            pb::ListAccountsRequest {
                email_contains: "PENDING-".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(by_email.accounts.len(), 1);
    assert_eq!(by_email.accounts[0].email, pending);
    assert_eq!(
        by_email.accounts[0].status,
        pb::AccountStatus::PendingVerification as i32
    );

    let admins = identity
        .list_accounts(authed(
            &admin.access_token,
            pb::ListAccountsRequest {
                role: pb::Role::Admin as i32,
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(admins.accounts.len(), 1);
    assert_eq!(admins.accounts[0].id, admin.account_id);

    let wildcard = identity
        .list_accounts(authed(
            &admin.access_token,
            pb::ListAccountsRequest {
                email_contains: "%".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert!(wildcard.accounts.is_empty(), "% is matched literally");

    let bad = identity
        .list_accounts(authed(
            &admin.access_token,
            pb::ListAccountsRequest {
                page: Some(PageRequest {
                    page_size: 1000,
                    page_token: "garbage".into(),
                }),
                role: 99,
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(
        violated_fields(&bad),
        ["role", "page.page_size", "page.page_token"]
    );
}

async fn a_suspended_account_is_locked_out_at_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut identity = app.identity.clone();
    let admin = app.admin().await;
    let user = app.register().await;

    let suspended = identity
        .suspend_account(authed(
            &admin.access_token,
            pb::SuspendAccountRequest {
                account_id: user.account_id.clone(),
                reason: "fraud report".into(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .account
        .unwrap();
    assert_eq!(suspended.status, pb::AccountStatus::Suspended as i32);

    let me = identity
        .get_me(authed(&user.access_token, pb::GetMeRequest {}))
        .await
        .unwrap_err();
    assert_eq!(me.code(), Code::Unauthenticated);
    let refresh = identity
        .refresh(pb::RefreshRequest {
            refresh_token: user.refresh_token.clone(),
        })
        .await
        .unwrap_err();
    assert_eq!(refresh.code(), Code::Unauthenticated);
    let login = identity
        .login(pb::LoginRequest {
            email: user.email.clone(),
            password: user.password.clone(),
            device_name: String::new(),
            second_factor_code: String::new(),
        })
        .await
        .unwrap_err();
    assert_eq!(login.code(), Code::FailedPrecondition);
    assert_eq!(reason(&login), "ACCOUNT_SUSPENDED");

    let own = identity
        .suspend_account(authed(
            &admin.access_token,
            pb::SuspendAccountRequest {
                account_id: admin.account_id.clone(),
                reason: "oops".into(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(reason(&own), "CANNOT_SUSPEND_SELF");

    identity
        .reinstate_account(authed(
            &admin.access_token,
            pb::ReinstateAccountRequest {
                account_id: user.account_id.clone(),
            },
        ))
        .await
        .unwrap();
    app.login(&user.email, &user.password).await;

    let missing = identity
        .suspend_account(authed(
            &admin.access_token,
            pb::SuspendAccountRequest {
                account_id: uuid::Uuid::new_v4().to_string(),
                reason: "x".into(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(missing.code(), Code::NotFound);
}

on_both_backends!(
    only_admins_reach_admin_rpcs,
    accounts_are_listed_newest_first_with_filters_and_pages,
    a_suspended_account_is_locked_out_at_once,
);
