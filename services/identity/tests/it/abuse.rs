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
        second_factor_code: String::new(),
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
                second_factor_code: String::new(),
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

/// The outcomes of `requests` run all at once, as error reasons ("OK" for success).
async fn race<T, F>(requests: Vec<F>) -> Vec<String>
where
    F: std::future::Future<Output = Result<tonic::Response<T>, tonic::Status>> + Send + 'static,
    T: Send + 'static,
{
    let mut set = tokio::task::JoinSet::new();
    for request in requests {
        set.spawn(request);
    }
    let mut outcomes = Vec::new();
    while let Some(outcome) = set.join_next().await {
        outcomes.push(match outcome.unwrap() {
            Ok(_) => "OK".to_owned(),
            Err(status) => reason(&status),
        });
    }
    outcomes
}

fn tally(outcomes: &[String], what: &str) -> usize {
    outcomes.iter().filter(|o| o.as_str() == what).count()
}

/// A code that is not `code`, different for each `i`.
fn wrong_code(code: &str, i: u32) -> String {
    let code: u32 = code.parse().unwrap();
    format!("{:06}", (code + 1 + i) % 1_000_000)
}

/// Rate limits out of the way, to see the attempt counting alone.
fn generous_limits(config: &mut frevix::config::FrevixConfig) {
    let limits = &mut config.identity.rate_limits;
    limits.code_per_address = 10_000;
    limits.code_per_email = 10_000;
    limits.login_per_address = 10_000;
    limits.login_per_account_address = 10_000;
}

async fn fifty_racing_code_guesses_compare_at_most_five(backend: Backend) {
    let app = TestApp::spawn_with(backend, generous_limits).await;
    let email = unique_email("race");
    app.sign_up(&email, "a perfectly fine passphrase").await;
    let code = app.code_from_mail(&email, 1).await;

    let guesses = (0..50)
        .map(|i| {
            let mut identity = app.identity.clone();
            let request = pb::VerifyEmailRequest {
                email: email.clone(),
                code: wrong_code(&code, i),
            };
            async move { identity.verify_email(request).await }
        })
        .collect();
    let outcomes = race(guesses).await;

    assert_eq!(tally(&outcomes, "CODE_INVALID"), 5, "{outcomes:?}");
    assert_eq!(
        tally(&outcomes, "CODE_ATTEMPTS_EXCEEDED"),
        45,
        "{outcomes:?}"
    );
    let right = app
        .identity
        .clone()
        .verify_email(pb::VerifyEmailRequest { email, code })
        .await
        .unwrap_err();
    assert_eq!(reason(&right), "CODE_ATTEMPTS_EXCEEDED");
}

async fn the_right_reset_code_among_racing_guesses_is_one_of_five_tries(backend: Backend) {
    let app = TestApp::spawn_with(backend, generous_limits).await;
    let user = app.register().await;
    let mut identity = app.identity.clone();
    identity
        .request_password_reset(pb::RequestPasswordResetRequest {
            email: user.email.clone(),
        })
        .await
        .unwrap();
    let code = app.code_from_mail(&user.email, 2).await;

    let attempts = (0..40)
        .map(|i| {
            let mut identity = app.identity.clone();
            let request = pb::ResetPasswordRequest {
                email: user.email.clone(),
                // The right code goes last, behind 39 wrong ones.
                code: if i == 39 {
                    code.clone()
                } else {
                    wrong_code(&code, i)
                },
                new_password: "another fine passphrase".into(),
            };
            async move { identity.reset_password(request).await }
        })
        .collect();
    let outcomes = race(attempts).await;

    let compared = tally(&outcomes, "CODE_INVALID") + tally(&outcomes, "OK");
    assert_eq!(compared, 5, "{outcomes:?}");
    assert_eq!(
        tally(&outcomes, "CODE_ATTEMPTS_EXCEEDED"),
        35,
        "{outcomes:?}"
    );
}

async fn code_checks_are_rate_limited_per_email_whether_or_not_it_exists(backend: Backend) {
    let app = TestApp::spawn_with(backend, |config| {
        config.identity.rate_limits.code_per_email = 3;
    })
    .await;
    let pending = unique_email("pending");
    app.sign_up(&pending, "a perfectly fine passphrase").await;
    let mut identity = app.identity.clone();
    for email in [pending, unique_email("nobody")] {
        let mut outcomes = Vec::new();
        for _ in 0..4 {
            let result = identity
                .verify_email(pb::VerifyEmailRequest {
                    email: email.clone(),
                    code: "123456".into(),
                })
                .await;
            outcomes.push(result.map(|_| ()).map_err(|e| reason(&e)));
        }
        let invalid = Err("CODE_INVALID".to_owned());
        assert_eq!(
            outcomes,
            [
                invalid.clone(),
                invalid.clone(),
                invalid,
                Err("RATE_LIMITED".to_owned())
            ],
            "{email}"
        );
    }
}

async fn verify_email_answers_alike_for_verified_and_unknown_emails(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let user = app.register().await;
    let mut identity = app.identity.clone();
    let answer = |email: String| {
        let mut identity = identity.clone();
        async move {
            let error = identity
                .verify_email(pb::VerifyEmailRequest {
                    email,
                    code: "123456".into(),
                })
                .await
                .unwrap_err();
            (error.code(), reason(&error), error.message().to_owned())
        }
    };
    let verified = answer(user.email.clone()).await;
    let unknown = answer(unique_email("nobody")).await;
    assert_eq!(verified, unknown);
    assert_eq!(verified.1, "CODE_INVALID");
    // The owner's own login still works: nothing was locked by asking.
    identity
        .login(pb::LoginRequest {
            email: user.email,
            password: user.password,
            device_name: String::new(),
            second_factor_code: String::new(),
        })
        .await
        .unwrap();
}

fn login_from(address: &str, email: &str, password: &str) -> tonic::Request<pb::LoginRequest> {
    let mut request = tonic::Request::new(pb::LoginRequest {
        email: email.to_owned(),
        password: password.to_owned(),
        device_name: String::new(),
        second_factor_code: String::new(),
    });
    request
        .metadata_mut()
        .insert("x-forwarded-for", address.parse().unwrap());
    request
}

async fn racing_wrong_logins_check_at_most_five_passwords(backend: Backend) {
    let app = TestApp::spawn_with(backend, generous_limits).await;
    let user = app.register().await;
    let guesses = (0..30)
        .map(|i| {
            let mut identity = app.identity.clone();
            let request = pb::LoginRequest {
                email: user.email.clone(),
                password: format!("wrong guess number {i}"),
                device_name: String::new(),
                second_factor_code: String::new(),
            };
            async move { identity.login(request).await }
        })
        .collect();
    let outcomes = race(guesses).await;
    // Five free checks; a sixth only if the race outlasted the first wait (1 s).
    let checked = tally(&outcomes, "INVALID_CREDENTIALS");
    assert!((5..=6).contains(&checked), "{outcomes:?}");
    assert_eq!(
        tally(&outcomes, "LOGIN_THROTTLED"),
        30 - checked,
        "{outcomes:?}"
    );
}

async fn guessing_from_elsewhere_does_not_lock_the_owner_out(backend: Backend) {
    let app = TestApp::spawn_with(backend, |config| {
        generous_limits(config);
        config.server.trust_forwarded_for = true;
    })
    .await;
    let user = app.register().await;
    let mut identity = app.identity.clone();
    let home = "198.51.100.7";
    let at_home = identity
        .login(login_from(home, &user.email, &user.password))
        .await
        .unwrap()
        .into_inner()
        .tokens
        .unwrap();
    // A sign-in from a new place is logged as such, and its owner told.
    let events = identity
        .list_security_events(frevix_testkit::authed(
            &at_home.access_token,
            pb::ListSecurityEventsRequest::default(),
        ))
        .await
        .unwrap()
        .into_inner()
        .events;
    assert_eq!(events[0].kind, pb::SecurityEventKind::SignIn as i32);
    assert_eq!(events[0].ip_address, home);
    assert!(events[0].new_device);
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while !app
        .mail_to(&user.email)
        .iter()
        .any(|mail| mail.subject.contains("A new device signed in"))
    {
        assert!(std::time::Instant::now() < deadline, "no new-device alert");
        tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    }

    // Six attackers, five guesses each: more than the account-wide allowance.
    let mut outcomes = Vec::new();
    for attacker in 1..=6 {
        for guess in 0..5 {
            let result = identity
                .login(login_from(
                    &format!("203.0.113.{attacker}"),
                    &user.email,
                    &format!("guess {guess} from {attacker}"),
                ))
                .await;
            outcomes.push(reason(&result.unwrap_err()));
        }
    }
    // Twenty free account-wide; then waits of 1 s, 2 s, ... let a few more through.
    let checked = tally(&outcomes, "INVALID_CREDENTIALS");
    assert!((20..=22).contains(&checked), "{outcomes:?}");
    assert_eq!(
        tally(&outcomes, "LOGIN_THROTTLED"),
        30 - checked,
        "{outcomes:?}"
    );

    // A new device now waits, even with the right password...
    let stranger = identity
        .login(login_from("192.0.2.1", &user.email, &user.password))
        .await
        .unwrap_err();
    assert_eq!(reason(&stranger), "LOGIN_THROTTLED");
    // ...but the owner's known device gets in at once.
    identity
        .login(login_from(home, &user.email, &user.password))
        .await
        .unwrap();
}

on_both_backends!(
    fifty_racing_code_guesses_compare_at_most_five,
    the_right_reset_code_among_racing_guesses_is_one_of_five_tries,
    code_checks_are_rate_limited_per_email_whether_or_not_it_exists,
    verify_email_answers_alike_for_verified_and_unknown_emails,
    racing_wrong_logins_check_at_most_five_passwords,
    guessing_from_elsewhere_does_not_lock_the_owner_out,
    repeated_failed_logins_slow_the_account_down,
    logins_from_one_address_are_rate_limited,
    reset_mails_are_limited_per_email_without_revealing_it,
);
