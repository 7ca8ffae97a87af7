//! People as apps make them: sign-up with an idempotency key, the code from
//! the mail, sign-in; sellers also get a payout account and finish the
//! provider's onboarding page.

use std::path::Path;
use std::time::{Duration, Instant};

use anyhow::{Context as _, anyhow, bail};
use frevix_proto::identity::v1::{
    self as identity, identity_service_client::IdentityServiceClient,
};
use frevix_proto::payments::v1::{self as payments, payment_service_client::PaymentServiceClient};
use frevix_testkit::{code_in, read_mail};
use tonic::Code;

use crate::api::{Api, anonymous, authed};

const PASSWORD: &str = "a chaos-proof passphrase";

#[derive(Debug, Clone)]
pub struct Person {
    pub id: String,
    pub token: String,
}

/// A verified, signed-in client-and-freelancer account for `email`.
pub async fn sign_up(api: &Api, mail: &Path, email: &str) -> anyhow::Result<Person> {
    let request = identity::SignUpRequest {
        email: email.into(),
        password: PASSWORD.into(),
        display_name: "Chaos Tester".into(),
        roles: vec![
            identity::Role::Client as i32,
            identity::Role::Freelancer as i32,
        ],
    };
    let key = format!("sign-up-{email}");
    api.call("SignUp", &[], |channel| {
        let request = anonymous(Some(&key), request.clone());
        async move { IdentityServiceClient::new(channel).sign_up(request).await }
    })
    .await
    .with_context(|| format!("SignUp {email}"))?;
    verify(api, mail, email).await?;
    sign_in(api, email, PASSWORD, "").await
}

/// Verifies `email` with the code mailed to it (asking for another when
/// none comes: a sign-up answered just before its process died still
/// mails, but a client does not wait forever).
async fn verify(api: &Api, mail: &Path, email: &str) -> anyhow::Result<()> {
    let deadline = Instant::now() + Duration::from_secs(180);
    let mut asked = Instant::now();
    let mut probed: Option<Instant> = None;
    loop {
        let codes: Vec<String> = read_mail(mail, email).iter().filter_map(code_in).collect();
        for code in codes.iter().rev() {
            let request = identity::VerifyEmailRequest {
                email: email.into(),
                code: code.clone(),
            };
            let answer = api
                .call("VerifyEmail", &[], |channel| {
                    let request = anonymous(None, request.clone());
                    async move {
                        IdentityServiceClient::new(channel)
                            .verify_email(request)
                            .await
                    }
                })
                .await;
            match answer {
                Ok(_) => return Ok(()),
                // Verified by an attempt whose answer was lost.
                Err(status) if status.code() == Code::FailedPrecondition => return Ok(()),
                // So may a refused code mean: identity refuses every code of
                // a verified account alike (it must not tell which emails
                // have accounts), so ask by signing in, now and then.
                Err(status)
                    if status.code() == Code::InvalidArgument
                        && probed.is_none_or(|at| at.elapsed() > Duration::from_secs(10)) =>
                {
                    probed = Some(Instant::now());
                    if sign_in(api, email, PASSWORD, "").await.is_ok() {
                        return Ok(());
                    }
                }
                Err(_) => {}
            }
        }
        if Instant::now() > deadline {
            bail!("{email} was never verified ({} codes mailed)", codes.len());
        }
        if asked.elapsed() > Duration::from_secs(30) {
            let request = identity::ResendVerificationRequest {
                email: email.into(),
            };
            let _ = api
                .call("ResendVerification", &[], |channel| {
                    let request = anonymous(None, request.clone());
                    async move {
                        IdentityServiceClient::new(channel)
                            .resend_verification(request)
                            .await
                    }
                })
                .await;
            asked = Instant::now();
        }
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

pub async fn sign_in(api: &Api, email: &str, password: &str, code: &str) -> anyhow::Result<Person> {
    let request = identity::LoginRequest {
        email: email.into(),
        password: password.into(),
        device_name: "chaos".into(),
        second_factor_code: code.into(),
    };
    let answer = api
        .call("Login", &[], |channel| {
            let request = anonymous(None, request.clone());
            async move { IdentityServiceClient::new(channel).login(request).await }
        })
        .await
        .with_context(|| format!("Login {email}"))?;
    let token = answer
        .tokens
        .ok_or_else(|| anyhow!("Login answered no tokens"))?
        .access_token;
    let id = answer
        .account
        .ok_or_else(|| anyhow!("Login answered no account"))?
        .id;
    Ok(Person { id, token })
}

/// A payout account for `seller`, onboarded on the provider's page.
pub async fn onboard(api: &Api, seller: &Person) -> anyhow::Result<()> {
    let request = payments::CreatePayoutAccountRequest {
        country: "US".into(),
    };
    let key = format!("payout-{}", seller.id);
    let created = api
        .call("CreatePayoutAccount", &[], |channel| {
            let request = authed(&seller.token, Some(&key), request.clone());
            async move {
                PaymentServiceClient::new(channel)
                    .create_payout_account(request)
                    .await
            }
        })
        .await;
    match created {
        Ok(_) => {}
        Err(status) if status.code() == Code::AlreadyExists => {}
        Err(status) => bail!("CreatePayoutAccount: {status:?}"),
    }
    let request = payments::GetPayoutOnboardingLinkRequest {
        return_url: "https://app.example/done".into(),
        refresh_url: "https://app.example/again".into(),
    };
    let link = api
        .call("GetPayoutOnboardingLink", &[], |channel| {
            let request = authed(&seller.token, None, request.clone());
            async move {
                PaymentServiceClient::new(channel)
                    .get_payout_onboarding_link(request)
                    .await
            }
        })
        .await
        .context("GetPayoutOnboardingLink")?
        .url;
    open_page(&link).await
}

/// Opens the provider's onboarding page, as the seller's browser does.
async fn open_page(link: &str) -> anyhow::Result<()> {
    use http_body_util::Empty;
    use hyper_util::client::legacy::Client;
    use hyper_util::rt::TokioExecutor;
    let client: Client<_, Empty<&[u8]>> = Client::builder(TokioExecutor::new()).build_http();
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        match client.get(link.parse()?).await {
            Ok(answer) if answer.status().is_redirection() || answer.status().is_success() => {
                return Ok(());
            }
            other if Instant::now() > deadline => bail!("onboarding page {link}: {other:?}"),
            _ => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}
