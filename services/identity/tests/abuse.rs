//! Rate limits and slowed-down guessing: RESOURCE_EXHAUSTED with RetryInfo.

// Tests are written as plain async fns run by on_both_backends!, which
// clippy does not see as tests: a failed expectation should panic here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use frevix_proto::identity::v1 as pb;
use frevix_testkit::status::{reason, retry_after};
use frevix_testkit::{Backend, TestApp, on_both_backends, unique_email};
use tonic::Code;

async fn repeated_failed_logins_slow_the_account_down(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut identity = app.identity.clone();
    let user = app.register().await;
    let attempt = |password: &str| pb::LoginRequest {
        email: user.email.clone(),
        password: password.into(),
        device_name: String::new(),
    };
    for _ in 0..5 {
        let error = identity
            .login(attempt("not my password at all"))
            .await
            .unwrap_err();
        assert_eq!(reason(&error), "INVALID_CREDENTIALS");
    }
    // Even the right password must wait now.
    let throttled = identity.login(attempt(&user.password)).await.unwrap_err();
    assert_eq!(throttled.code(), Code::ResourceExhausted);
    assert_eq!(reason(&throttled), "LOGIN_THROTTLED");
    let wait = retry_after(&throttled).expect("RetryInfo");
    assert!(wait.as_secs() <= 1, "{wait:?}");
    tokio::time::sleep(wait + std::time::Duration::from_millis(100)).await;
    identity.login(attempt(&user.password)).await.unwrap();
}

async fn logins_from_one_address_are_rate_limited(backend: Backend) {
    let app = TestApp::spawn_with(backend, |config| {
        config.identity.rate_limits.login_per_address = 6;
    })
    .await;
    let mut identity = app.identity.clone();
    let mut limited = None;
    for _ in 0..10 {
        let result = identity
            .login(pb::LoginRequest {
                email: unique_email("nobody"),
                password: "whatever it is".into(),
                device_name: String::new(),
            })
            .await;
        if let Err(error) = result
            && error.code() == Code::ResourceExhausted
        {
            limited = Some(error);
            break;
        }
    }
    let limited = limited.expect("the address was never limited");
    assert_eq!(reason(&limited), "RATE_LIMITED");
    assert!(retry_after(&limited).is_some_and(|wait| !wait.is_zero()));
}

async fn reset_mails_are_limited_per_email_without_revealing_it(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let mut identity = app.identity.clone();
    let user = app.register().await;
    let nobody = unique_email("nobody");
    for email in [&user.email, &nobody] {
        let mut outcomes = Vec::new();
        for _ in 0..4 {
            let result = identity
                .request_password_reset(pb::RequestPasswordResetRequest {
                    email: email.clone(),
                })
                .await;
            outcomes.push(result.map(|_| ()).map_err(|e| reason(&e)));
        }
        assert_eq!(
            outcomes,
            [Ok(()), Ok(()), Ok(()), Err("RATE_LIMITED".to_owned())],
            "{email}"
        );
    }
}

on_both_backends!(
    repeated_failed_logins_slow_the_account_down,
    logins_from_one_address_are_rate_limited,
    reset_mails_are_limited_per_email_without_revealing_it,
);
