//! Money survives a crash: the whole product runs as a `frevix serve all`
//! process, a buyer orders two gigs and pays both, one is delivered,
//! approved, released and paid out to the seller, the other is cancelled
//! and refunded. The process is made to abort (`FREVIX_TEST_CRASH_AT`, see
//! payments' `crash`) at one point of a payout, a refund or the provider's
//! event delivery, is started again, and the saga goes on. At the end the
//! provider holds exactly two charges, one transfer and one refund, the
//! books balance and agree with the provider, and everyone's balance is
//! what it should be. Each crash is tried with the sandbox provider and
//! with Stripe (the stand-in, in this test's process, its webhooks going to
//! the product's `/webhooks/stripe`).

use std::time::{Duration, Instant};

use frevix_proto::contracts::v1::{
    self as contracts, contract_service_client::ContractServiceClient,
};
use frevix_proto::identity::v1::{
    self as identity, identity_service_client::IdentityServiceClient,
};
use frevix_proto::marketplace::v1::{
    self as market, marketplace_service_client::MarketplaceServiceClient,
};
use frevix_proto::payments::v1::{self as pb, payment_service_client::PaymentServiceClient};
use frevix_testkit::{authed, code_in, read_mail};
use tonic::Code;

use frevix_stripe_standin::{Endpoint, StandIn};

use crate::crash_driver::{Product, lost, provider_objects};

/// Who moves the money for the product.
enum Provider {
    Sandbox,
    Stripe(StandIn),
}

const WEBHOOK_SECRET: &str = "whsec_frevix_crash";

impl Provider {
    async fn stripe() -> Provider {
        Provider::Stripe(
            StandIn::start("127.0.0.1:0".parse().unwrap())
                .await
                .unwrap(),
        )
    }

    /// The product's settings for it.
    fn env(&self) -> Vec<(String, String)> {
        let Provider::Stripe(standin) = self else {
            return Vec::new();
        };
        [
            ("FREVIX_PAYMENTS__PROVIDER", "stripe"),
            ("FREVIX_PAYMENTS__STRIPE__API_BASE", standin.base()),
            ("FREVIX_PAYMENTS__STRIPE__SECRET_KEY", "sk_test_crash"),
            ("FREVIX_PAYMENTS__STRIPE__PUBLISHABLE_KEY", "pk_test_crash"),
            ("FREVIX_PAYMENTS__STRIPE__WEBHOOK_SECRET", WEBHOOK_SECRET),
            ("FREVIX_PAYMENTS__STRIPE__TIMEOUT_SECS", "5"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .collect()
    }

    fn config(&self) -> frevix_payments::PaymentsConfig {
        let mut config = frevix_payments::PaymentsConfig::default();
        if let Provider::Stripe(standin) = self {
            config.provider = frevix_payments::ProviderKind::Stripe;
            config.stripe.api_base = standin.base().to_owned();
            config.stripe.secret_key = secrecy::SecretString::from("sk_test_crash");
        }
        config
    }

    /// (charges, transfers, refunds) the provider made.
    async fn made(&self, product: &Product) -> (usize, usize, usize) {
        match self {
            Provider::Stripe(standin) => {
                let totals = standin.totals();
                (totals.charges, totals.transfers, totals.refunds)
            }
            Provider::Sandbox => {
                let objects = provider_objects(product.dir.path()).await;
                let count = |kind: &str| {
                    objects
                        .iter()
                        .filter(|(k, s, _)| k == kind && s != "requires_payment_method")
                        .count()
                };
                (count("payment_intent"), count("transfer"), count("refund"))
            }
        }
    }
}

/// Calls `call` on a live product until it answers something other than
/// "the process went away" or NOT_FOUND (another service's event on its
/// way), for up to a minute.
macro_rules! call {
    ($product:expr, $client:ident, |$c:ident| $body:expr) => {{
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let channel = $product.channel().await;
            let mut $c = $client::new(channel);
            match $body.await {
                Err(status)
                    if (lost(&status) || status.code() == Code::NotFound)
                        && Instant::now() < deadline =>
                {
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                other => break other.map(tonic::Response::into_inner),
            }
        }
    }};
}

/// Signs up, verifies and logs in; the access token.
async fn person(product: &mut Product, email: &str) -> String {
    let password = "a perfectly fine passphrase";
    let sign_up = identity::SignUpRequest {
        email: email.into(),
        password: password.into(),
        display_name: "Crash Tester".into(),
        roles: vec![
            identity::Role::Client as i32,
            identity::Role::Freelancer as i32,
        ],
    };
    call!(product, IdentityServiceClient, |c| c
        .sign_up(sign_up.clone()))
    .unwrap();
    let mail = product.dir.path().join("mail");
    let deadline = Instant::now() + Duration::from_secs(15);
    let code = loop {
        if let Some(code) = read_mail(&mail, email).first().and_then(code_in) {
            break code;
        }
        assert!(Instant::now() < deadline, "no code mailed to {email}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    let verify = identity::VerifyEmailRequest {
        email: email.into(),
        code,
    };
    let _ = call!(product, IdentityServiceClient, |c| c
        .verify_email(verify.clone()));
    let login = identity::LoginRequest {
        email: email.into(),
        password: password.into(),
        device_name: "crash test".into(),
        ..Default::default()
    };
    let tokens = call!(product, IdentityServiceClient, |c| c.login(login.clone()))
        .unwrap()
        .tokens
        .unwrap();
    tokens.access_token
}

/// A published gig of `seller` at USD 45; its id.
async fn gig(product: &mut Product, seller: &str, title: &str) -> String {
    let categories = call!(product, MarketplaceServiceClient, |c| c
        .list_categories(market::ListCategoriesRequest {}))
    .unwrap()
    .categories;
    let category = categories[0]
        .children
        .first()
        .map_or_else(|| categories[0].id.clone(), |c| c.id.clone());
    let create = market::CreateGigRequest {
        gig: Some(market::Gig {
            title: title.into(),
            description: "A logo drawn by hand, delivered as SVG and PNG files.".into(),
            category_id: category,
            packages: vec![market::GigPackage {
                tier: market::PackageTier::Basic as i32,
                name: "Basic".into(),
                description: "One concept".into(),
                price: Some(frevix_proto::common::v1::Money {
                    currency_code: "USD".into(),
                    minor_units: 4_500,
                }),
                delivery_days: 3,
                revisions: 1,
                features: vec![],
            }],
            ..Default::default()
        }),
    };
    let created = call!(product, MarketplaceServiceClient, |c| c
        .create_gig(authed(seller, create.clone())))
    .unwrap()
    .gig
    .unwrap();
    let publish = market::PublishGigRequest {
        gig_id: created.id.clone(),
    };
    call!(product, MarketplaceServiceClient, |c| c
        .publish_gig(authed(seller, publish.clone())))
    .unwrap();
    created.id
}

/// An order of `gig`, paid with the sandbox card; the contract once funded.
async fn paid_order(product: &mut Product, buyer: &str, gig: &str) -> contracts::Contract {
    let place = contracts::PlaceOrderRequest {
        gig_id: gig.into(),
        package_tier: market::PackageTier::Basic as i32,
        extra_ids: vec![],
        quantity: 1,
    };
    let order = call!(product, ContractServiceClient, |c| {
        let mut request = authed(buyer, place.clone());
        request
            .metadata_mut()
            .insert("idempotency-key", gig.parse().unwrap());
        c.place_order(request)
    })
    .unwrap()
    .contract
    .unwrap();
    let fund = pb::FundMilestoneRequest {
        contract_id: order.id.clone(),
        milestone_id: order.milestones[0].id.clone(),
        payment_method: "pm_card_visa".into(),
    };
    match call!(product, PaymentServiceClient, |c| c
        .fund_milestone(authed(buyer, fund.clone())))
    {
        Ok(_) => {}
        Err(status) if status.code() == Code::FailedPrecondition => {}
        Err(status) => panic!("{status:?}"),
    }
    eventually(product, buyer, &order.id, |c| {
        c.milestones[0].status != contracts::MilestoneStatus::Pending as i32
    })
    .await
}

/// The contract once `done` says so, for up to a minute (reviving the
/// product as needed).
async fn eventually(
    product: &mut Product,
    token: &str,
    id: &str,
    done: impl Fn(&contracts::Contract) -> bool,
) -> contracts::Contract {
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let get = contracts::GetContractRequest {
            contract_id: id.into(),
        };
        let seen = call!(product, ContractServiceClient, |c| c
            .get_contract(authed(token, get.clone())))
        .unwrap()
        .contract
        .unwrap();
        if done(&seen) {
            return seen;
        }
        assert!(
            Instant::now() < deadline,
            "contract {id} never got there: {seen:?}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn balance(product: &mut Product, token: &str) -> pb::Balance {
    let balances = call!(product, PaymentServiceClient, |c| c
        .get_balance(authed(token, pb::GetBalanceRequest {})))
    .unwrap()
    .balances;
    balances.into_iter().next().unwrap_or_default()
}

async fn money_moves_once_across_a_crash_at(point: &str, provider: Provider) {
    let mut product = Product::start_with(point, provider.env()).await;
    if let Provider::Stripe(standin) = &provider {
        standin.set_endpoint(Endpoint {
            url: format!("http://127.0.0.1:{}/webhooks/stripe", product.port),
            secret: WEBHOOK_SECRET.into(),
        });
    }
    let run = uuid::Uuid::now_v7().simple().to_string();
    let seller = person(&mut product, &format!("seller-{run}@example.test")).await;
    let buyer = person(&mut product, &format!("buyer-{run}@example.test")).await;
    let payout = pb::CreatePayoutAccountRequest {
        country: "US".into(),
    };
    call!(product, PaymentServiceClient, |c| c
        .create_payout_account(authed(&seller, payout.clone())))
    .unwrap();
    let link = pb::GetPayoutOnboardingLinkRequest {
        return_url: "https://app.example/done".into(),
        refresh_url: "https://app.example/again".into(),
    };
    let link = call!(product, PaymentServiceClient, |c| c
        .get_payout_onboarding_link(authed(&seller, link.clone())))
    .unwrap()
    .url;
    // The sandbox's page takes the form's POST; Stripe's is a page to open.
    let (method, link) = match &provider {
        Provider::Sandbox => ("POST", format!("http://127.0.0.1:{}{link}", product.port)),
        Provider::Stripe(_) => ("GET", link),
    };
    let onboarded = tokio::process::Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", method])
        .arg(link)
        .output()
        .await
        .unwrap();
    assert_eq!(String::from_utf8_lossy(&onboarded.stdout), "303");

    let logo = gig(&mut product, &seller, &format!("Hand-drawn logo {run}")).await;
    let banner = gig(&mut product, &seller, &format!("Shop banner design {run}")).await;

    // The first order: delivered, approved, released, paid out.
    let first = paid_order(&mut product, &buyer, &logo).await;
    let milestone = first.milestones[0].id.clone();
    let deliver = contracts::SubmitDeliveryRequest {
        contract_id: first.id.clone(),
        milestone_id: milestone.clone(),
        message: "Here is the logo.".into(),
        attachment_ids: vec![],
    };
    let _ = call!(product, ContractServiceClient, |c| c
        .submit_delivery(authed(&seller, deliver.clone())));
    let approve = contracts::ApproveMilestoneRequest {
        contract_id: first.id.clone(),
        milestone_id: milestone,
    };
    let _ = call!(product, ContractServiceClient, |c| c
        .approve_milestone(authed(&buyer, approve.clone())));

    // The second: cancelled with everything back to the buyer.
    let second = paid_order(&mut product, &buyer, &banner).await;
    let cancel = contracts::RequestCancellationRequest {
        contract_id: second.id.clone(),
        reason: "I no longer need a banner.".into(),
        refund: Some(frevix_proto::common::v1::Money {
            currency_code: "USD".into(),
            minor_units: 4_500,
        }),
    };
    let _ = call!(product, ContractServiceClient, |c| c
        .request_cancellation(authed(&buyer, cancel.clone())));
    let accept = contracts::AcceptCancellationRequest {
        contract_id: second.id.clone(),
    };
    let _ = call!(product, ContractServiceClient, |c| c
        .accept_cancellation(authed(&seller, accept.clone())));

    // It converges: paid out once, refunded once.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let earned = balance(&mut product, &seller).await;
        let spent = balance(&mut product, &buyer).await;
        if earned.freelancer_paid_out > 0 && spent.client_refunded > 0 {
            assert_eq!(
                (earned.freelancer_paid_out, earned.freelancer_payable),
                (4_050, 0)
            );
            assert_eq!(
                (
                    spent.client_spent,
                    spent.client_refunded,
                    spent.client_in_escrow
                ),
                (4_500, 4_500, 0)
            );
            break;
        }
        assert!(
            Instant::now() < deadline,
            "never converged: {earned:?} {spent:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    // The card refund follows the books (a timer); wait for it at the
    // provider, then look again a moment later: nothing doubled.
    let deadline = Instant::now() + Duration::from_secs(60);
    while provider.made(&product).await.2 == 0 {
        assert!(Instant::now() < deadline, "the card was never refunded");
        product.revive();
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    tokio::time::sleep(Duration::from_secs(1)).await;
    assert_eq!(
        provider.made(&product).await,
        (2, 1, 1),
        "charges, transfers, refunds"
    );

    // The books balance and agree with the provider.
    let url = frevix_platform::db::sqlite_url(&product.dir.path().join("payments.db"));
    let books = sea_orm::Database::connect(url).await.unwrap();
    let problems = frevix_payments::store::books(&books).await.unwrap();
    assert!(problems.is_empty(), "{problems:#?}");
    let records = frevix_payments::open_provider(&provider.config(), product.dir.path())
        .await
        .unwrap();
    // A refund made just before the crash is in the books once its timer
    // has fired again (after the dead process's lease): until then the
    // reconciliation sees it at the provider only.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        product.revive();
        let now = chrono::Utc::now();
        let report = frevix_payments::reconcile::reconcile(
            &books,
            records.as_ref(),
            now - chrono::Duration::hours(1),
            now + chrono::Duration::hours(1),
        )
        .await
        .unwrap();
        if report.differences.is_empty() {
            break;
        }
        assert!(Instant::now() < deadline, "{:?}", report.differences);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    let said = std::fs::read_to_string(product.dir.path().join("stderr.log")).unwrap();
    assert!(
        said.contains(&format!("FREVIX_TEST_CRASH_AT={point}: aborting")),
        "the process never crashed at {point}: {said}"
    );
    assert_eq!(product.crashes, 1, "{said}");
    if let Provider::Stripe(standin) = &provider {
        assert_eq!(standin.malformed_events(), Vec::<String>::new());
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_before_the_transfer_pays_out_once() {
    money_moves_once_across_a_crash_at("payout.before_transfer", Provider::Sandbox).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_before_the_transfer_pays_out_once_at_stripe() {
    money_moves_once_across_a_crash_at("payout.before_transfer", Provider::stripe().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_after_the_transfer_pays_out_once() {
    money_moves_once_across_a_crash_at("payout.after_transfer", Provider::Sandbox).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_after_the_transfer_pays_out_once_at_stripe() {
    money_moves_once_across_a_crash_at("payout.after_transfer", Provider::stripe().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_before_the_refund_refunds_once() {
    money_moves_once_across_a_crash_at("refund.before_call", Provider::Sandbox).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_before_the_refund_refunds_once_at_stripe() {
    money_moves_once_across_a_crash_at("refund.before_call", Provider::stripe().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_after_the_refund_refunds_once() {
    money_moves_once_across_a_crash_at("refund.after_call", Provider::Sandbox).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_after_the_refund_refunds_once_at_stripe() {
    money_moves_once_across_a_crash_at("refund.after_call", Provider::stripe().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_after_an_event_is_recorded_applies_it_once() {
    money_moves_once_across_a_crash_at("delivery.after_record", Provider::Sandbox).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_crash_after_an_event_is_recorded_applies_it_once_at_stripe() {
    money_moves_once_across_a_crash_at("delivery.after_record", Provider::stripe().await).await;
}
