//! `frevix seed-demo`: fills a running Frevix with a realistic marketplace
//! through the public API — freelancers with profiles and gigs, clients with
//! jobs, proposals, hires and gig orders — so a frontend has something to
//! show. Verification
//! codes are read from the mail directory (the all-in-one `data/mail`).
//! Rate limits are honoured by waiting as `RetryInfo` says.

use std::path::{Path, PathBuf};
use std::time::Duration;

use anyhow::Context as _;
use frevix_proto::common::v1::Money;
use frevix_proto::contracts::v1::contract_service_client::ContractServiceClient;
use frevix_proto::identity::v1::{
    self as identity, identity_service_client::IdentityServiceClient,
};
use frevix_proto::marketplace::v1::{
    self as market, marketplace_service_client::MarketplaceServiceClient,
};
use frevix_proto::payments::v1::payment_service_client::PaymentServiceClient;
use rand::rngs::StdRng;
use rand::seq::SliceRandom;
use rand::{Rng, SeedableRng};
use tonic::transport::Channel;
use tonic::{Code, Request, Status};
use tonic_types::StatusExt;

const FIRST: &[&str] = &[
    "Ada",
    "Grace",
    "Linus",
    "Margaret",
    "Alan",
    "Katherine",
    "Dennis",
    "Barbara",
    "Ken",
    "Radia",
    "Tim",
    "Frances",
    "Guido",
    "Hedy",
    "Bjarne",
    "Joan",
    "Anders",
    "Sophie",
    "Yukihiro",
    "Lynn",
    "Rasmus",
    "Carol",
    "James",
    "Mary",
    "Niklaus",
];
const LAST: &[&str] = &[
    "Silva",
    "Nakamura",
    "Okafor",
    "Schmidt",
    "Kowalski",
    "Haddad",
    "Novak",
    "Costa",
    "Lindqvist",
    "Moreau",
];
const COUNTRIES: &[&str] = &["PT", "DE", "NG", "JP", "PL", "BR", "IN", "SE", "FR", "US"];

/// (subcategory slug, skills, what the gigs offer)
const SPECIALTIES: &[(&str, &[&str], &[&str])] = &[
    (
        "web-development",
        &["rust", "typescript", "react", "postgresql"],
        &["REST API", "SaaS dashboard", "online store"],
    ),
    (
        "mobile-apps",
        &["swift", "kotlin", "flutter"],
        &["iOS app", "Android app", "cross-platform app"],
    ),
    (
        "devops-cloud",
        &["kubernetes", "docker", "aws", "terraform"],
        &["Kubernetes cluster", "CI pipeline", "AWS setup"],
    ),
    (
        "data-ai",
        &["python", "machine-learning", "data-analysis"],
        &["sales dashboard", "churn model", "data pipeline"],
    ),
    (
        "logo-design",
        &["logo-design", "illustrator"],
        &["minimal logo", "mascot logo", "brand mark"],
    ),
    (
        "ui-ux-design",
        &["figma", "ui-design", "ux-research"],
        &["app redesign", "design system", "landing page design"],
    ),
    (
        "copywriting",
        &["copywriting"],
        &["website copy", "product descriptions", "newsletter series"],
    ),
    (
        "translation",
        &["german-translation", "spanish-translation"],
        &[
            "app localization",
            "website translation",
            "document translation",
        ],
    ),
    (
        "seo",
        &["seo", "google-ads"],
        &["technical SEO audit", "keyword research", "ads campaign"],
    ),
    (
        "video-editing",
        &["video-editing", "after-effects"],
        &[
            "YouTube edit",
            "product promo video",
            "motion graphics intro",
        ],
    ),
];

/// `client.method(request)` with [`patiently`]'s retries; `request` is
/// evaluated again for every attempt.
macro_rules! call {
    ($client:expr, $method:ident, $request:expr) => {
        patiently(|| {
            let mut client = $client.clone();
            let request = $request;
            async move { client.$method(request).await }
        })
    };
}

mod clients;
mod contracts;
mod money;

struct Seeder {
    identity: IdentityServiceClient<Channel>,
    marketplace: MarketplaceServiceClient<Channel>,
    contracts: ContractServiceClient<Channel>,
    payments: PaymentServiceClient<Channel>,
    mail_dir: PathBuf,
    rng: StdRng,
}

fn usd(minor_units: i64) -> Option<Money> {
    Some(Money {
        currency_code: "USD".into(),
        minor_units,
    })
}

fn authed<T>(token: &str, message: T) -> Request<T> {
    let mut request = Request::new(message);
    // A token that is not a valid header value is simply not sent; the call
    // then fails as unauthenticated, which names the problem.
    if let Ok(value) = format!("Bearer {token}").parse() {
        request.metadata_mut().insert("authorization", value);
    }
    request
}

/// Calls `call` again after the wait a rate limit asks for.
async fn patiently<T, F, Fut>(mut call: F) -> Result<T, Status>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, Status>>,
{
    loop {
        match call().await {
            Err(status) if status.code() == Code::ResourceExhausted => {
                let wait = status
                    .get_error_details()
                    .retry_info()
                    .and_then(|info| info.retry_delay)
                    .unwrap_or(Duration::from_secs(1));
                tokio::time::sleep(wait + Duration::from_millis(50)).await;
            }
            other => return other,
        }
    }
}

/// The newest code mailed to `to`, waiting up to 10 s for it.
async fn code_for(dir: &Path, to: &str) -> anyhow::Result<String> {
    for _ in 0..100 {
        let mut newest: Option<(std::time::SystemTime, String)> = None;
        let mut stack = vec![dir.to_path_buf()];
        while let Some(path) = stack.pop() {
            let Ok(entries) = std::fs::read_dir(&path) else {
                continue;
            };
            for entry in entries.flatten() {
                let path = entry.path();
                if path.is_dir() {
                    stack.push(path);
                    continue;
                }
                let Ok(text) = std::fs::read_to_string(&path) else {
                    continue;
                };
                let addressed = text
                    .lines()
                    .take_while(|l| !l.is_empty())
                    .any(|l| l.starts_with("To:") && l.contains(to));
                let code = text.lines().find_map(|line| {
                    let t = line.trim();
                    (line.starts_with("    ")
                        && t.len() == 6
                        && t.bytes().all(|b| b.is_ascii_digit()))
                    .then(|| t.to_owned())
                });
                let modified = entry.metadata().and_then(|m| m.modified()).ok();
                if let (true, Some(code), Some(modified)) = (addressed, code, modified)
                    && newest.as_ref().is_none_or(|(at, _)| modified > *at)
                {
                    newest = Some((modified, code));
                }
            }
        }
        if let Some((_, code)) = newest {
            return Ok(code);
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    anyhow::bail!("no verification code for {to} under {}", dir.display())
}

impl Seeder {
    /// Signs up (or finds) an account and returns its access token.
    async fn account(
        &mut self,
        email: &str,
        name: &str,
        roles: &[identity::Role],
    ) -> anyhow::Result<String> {
        let password = "demo passphrase 2026".to_owned();
        let sign_up = identity::SignUpRequest {
            email: email.into(),
            password: password.clone(),
            display_name: name.into(),
            roles: roles.iter().map(|r| *r as i32).collect(),
        };
        let client = self.identity.clone();
        match call!(client, sign_up, sign_up.clone()).await {
            Ok(_) => {
                let code = code_for(&self.mail_dir, email).await?;
                let verify = identity::VerifyEmailRequest {
                    email: email.into(),
                    code,
                };
                call!(client, verify_email, verify.clone()).await?;
            }
            Err(status) if status.code() == Code::AlreadyExists => {}
            Err(status) => return Err(status.into()),
        }
        let login = identity::LoginRequest {
            email: email.into(),
            password,
            device_name: "seed-demo".into(),
            second_factor_code: String::new(),
        };
        let tokens = call!(client, login, login.clone())
            .await?
            .into_inner()
            .tokens
            .context("no tokens")?;
        Ok(tokens.access_token)
    }

    async fn freelancer(
        &mut self,
        index: usize,
        categories: &[market::Category],
    ) -> anyhow::Result<(String, String)> {
        let (first, last) = (
            FIRST[index % FIRST.len()],
            LAST[index / FIRST.len() % LAST.len()],
        );
        let email = format!(
            "{}.{}@demo.frevix.dev",
            first.to_lowercase(),
            last.to_lowercase()
        );
        let token = self
            .account(
                &email,
                &format!("{first} {last}"),
                &[identity::Role::Freelancer],
            )
            .await?;
        let (slug, skills, offers) = SPECIALTIES[index % SPECIALTIES.len()];
        let rate = self.rng.gen_range(20..150) * 100;
        let profile = market::FreelancerProfile {
            headline: format!("{} specialist — {}", offers[0], skills.join(", ")),
            bio: format!(
                "I have delivered {} projects for clients around the world. Clear communication, on time.",
                self.rng.gen_range(10..300)
            ),
            skills: skills.iter().map(|s| (*s).to_owned()).collect(),
            hourly_rate: usd(rate),
            experience_level: self.rng.gen_range(1..=3),
            languages: vec!["en".into()],
            country: COUNTRIES[self.rng.gen_range(0..COUNTRIES.len())].into(),
            availability: market::Availability::Available as i32,
            ..Default::default()
        };
        let paths = [
            "headline",
            "bio",
            "skills",
            "hourly_rate",
            "experience_level",
            "languages",
            "country",
            "availability",
        ];
        let client = self.marketplace.clone();
        let update = market::UpdateFreelancerProfileRequest {
            profile: Some(profile),
            update_mask: Some(prost_types::FieldMask {
                paths: paths.map(String::from).to_vec(),
            }),
        };
        call!(
            client,
            update_freelancer_profile,
            authed(&token, update.clone())
        )
        .await?;
        let category = categories
            .iter()
            .find(|c| c.slug == slug)
            .map(|c| c.id.clone())
            .unwrap_or_default();
        for offer in offers.choose_multiple(&mut self.rng, 2) {
            let base = self.rng.gen_range(2..20) * 2_500;
            let package = |tier: market::PackageTier, name: &str, factor: i64, days: i32| {
                market::GigPackage {
                    tier: tier as i32,
                    name: name.into(),
                    description: format!("{name} scope"),
                    price: usd(base * factor),
                    delivery_days: days,
                    revisions: factor as i32,
                    features: vec!["source files".into()],
                }
            };
            let gig = market::Gig {
                title: format!("I will deliver your {offer}"),
                description: format!(
                    "A professional {offer}, built with {} and delivered with care.",
                    skills.join(" and ")
                ),
                category_id: category.clone(),
                tags: skills.iter().take(3).map(|s| (*s).to_owned()).collect(),
                packages: vec![
                    package(market::PackageTier::Basic, "Basic", 1, 3),
                    package(market::PackageTier::Standard, "Standard", 2, 7),
                    package(market::PackageTier::Premium, "Premium", 4, 14),
                ],
                requirements: vec![market::RequirementQuestion {
                    id: String::new(),
                    question: "Tell me about your project and its deadline.".into(),
                    required: true,
                }],
                ..Default::default()
            };
            let created = call!(
                client,
                create_gig,
                authed(
                    &token,
                    market::CreateGigRequest {
                        gig: Some(gig.clone()),
                    },
                )
            )
            .await?
            .into_inner()
            .gig
            .context("no gig")?;
            let publish = market::PublishGigRequest { gig_id: created.id };
            call!(client, publish_gig, authed(&token, publish.clone())).await?;
        }
        Ok((email, token))
    }
}

pub async fn run(
    target: &str,
    mail_dir: &Path,
    freelancers: usize,
    clients: usize,
) -> anyhow::Result<()> {
    let channel = Channel::from_shared(target.to_owned())?
        .connect()
        .await
        .with_context(|| format!("cannot reach Frevix at {target}; is `make run` going?"))?;
    let mut seeder = Seeder {
        identity: IdentityServiceClient::new(channel.clone()),
        marketplace: MarketplaceServiceClient::new(channel.clone()),
        contracts: ContractServiceClient::new(channel.clone()),
        payments: PaymentServiceClient::new(channel),
        mail_dir: mail_dir.to_path_buf(),
        rng: StdRng::seed_from_u64(2026),
    };
    let categories: Vec<market::Category> = seeder
        .marketplace
        .list_categories(market::ListCategoriesRequest {})
        .await?
        .into_inner()
        .categories
        .into_iter()
        .flat_map(|c| c.children)
        .collect();
    let mut freelancer_tokens = Vec::new();
    for index in 0..freelancers {
        let (email, token) = seeder.freelancer(index, &categories).await?;
        println!("freelancer {:>2}/{freelancers}: {email}", index + 1);
        freelancer_tokens.push(token);
    }
    let web = categories
        .iter()
        .find(|c| c.slug == "web-development")
        .map(|c| c.id.clone())
        .unwrap_or_default();
    let gigs = seeder.gigs_of(&freelancer_tokens).await?;
    for index in 0..clients {
        let (email, token, proposals) = seeder.client(index, &web, &freelancer_tokens).await?;
        let made = seeder
            .contracts(index, &token, &proposals, &gigs, &freelancer_tokens)
            .await?;
        println!(
            "client {:>2}/{clients}: {email} (2 jobs, 6 proposals; {made})",
            index + 1
        );
    }
    println!(
        "\nseeded. Log in as any of them with the password `demo passphrase 2026`, for example ada.silva@demo.frevix.dev\n\
         Orders and hires are paid with the sandbox's test card; the first client's order is completed."
    );
    Ok(())
}
