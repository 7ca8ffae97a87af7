//! Stripe webhook events on PostgreSQL, through the real endpoint: signed
//! `payment_intent.succeeded` events for 500 fundings POSTed 32 at a time to
//! `/webhooks/stripe` (each verified, recorded in the inbox and answered),
//! for fundings spread over 16 clients,
//! then applied by the inbox's timers (each a funding posted to the ledger
//! and EscrowFunded in the outbox). Reported: events recorded/s (all
//! answered 200) and applied/s (from the first POST until the last is
//! applied), against pgbench running the recording's shape (insert the
//! event, insert its timer) in the same run.

use std::sync::Arc;
use std::time::Instant;

use bytes::Bytes;
use frevix_payments::ProviderKind;
use frevix_payments::config::StripeConfig;
use frevix_proto::payments::v1 as payments;
use frevix_stripe_standin::{StandIn, signature};
use frevix_testkit::{Backend, TestApp, authed};
use http_body_util::Full;
use hyper_util::client::legacy::Client;
use hyper_util::rt::TokioExecutor;
use sea_orm::{ConnectionTrait, Statement};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use tokio::sync::Semaphore;

const EVENTS: usize = 500;
/// Clients the fundings are spread over (each client's funding account is
/// one ledger row, locked by each of its postings).
const CLIENTS: usize = 16;
const IN_FLIGHT: usize = 32;
const SECRET: &str = "whsec_frevix_bench";

pub async fn run() {
    let standin = StandIn::start("127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let base = standin.base().to_owned();
    let app = TestApp::spawn_with(Backend::Postgres, |config| {
        for entry in frevix::registry::SERVICES {
            entry.database_mut(config).max_connections = 10;
        }
        // Many clients sign up from one address.
        let limits = &mut config.identity.rate_limits;
        limits.sign_up_per_address = 1_000;
        limits.login_per_address = 1_000;
        limits.mail_per_address = 1_000;
        limits.code_per_address = 1_000;
        config.payments.provider = ProviderKind::Stripe;
        config.payments.stripe = StripeConfig {
            secret_key: SecretString::from("sk_test_bench"),
            publishable_key: "pk_test_bench".into(),
            webhook_secret: SecretString::from(SECRET),
            api_base: base,
            timeout_secs: 10,
            return_url: "https://app.example/".into(),
        };
    })
    .await;
    let url = frevix::registry::service("payments")
        .unwrap()
        .database(&app.config)
        .url
        .expose_secret()
        .to_owned();
    let baseline = pgbench(&url).await;
    println!("baseline  pgbench (insert 2 rows; 8 clients) tps: {baseline:.0}");

    let mut clients = Vec::new();
    for _ in 0..CLIENTS {
        clients.push(app.register().await);
    }
    let freelancer = app.register().await;
    let mut events = Vec::new();
    for n in 0..EVENTS {
        let client = &clients[n % CLIENTS];
        let (contract, milestone) = crate::release::hire(&app, client, &freelancer).await;
        let intent = intent_for(&app, client, &contract, &milestone).await;
        events.push(succeeded(n, &intent));
    }

    let http: Client<_, Full<Bytes>> = Client::builder(TokioExecutor::new()).build_http();
    let endpoint = format!("{}/webhooks/stripe", app.url());
    let gate = Arc::new(Semaphore::new(IN_FLIGHT));
    let started = Instant::now();
    let mut posts = tokio::task::JoinSet::new();
    for payload in events {
        let (http, endpoint, gate) = (http.clone(), endpoint.clone(), gate.clone());
        posts.spawn(async move {
            let _permit = gate.acquire().await.unwrap();
            let header = signature(&payload, SECRET, chrono::Utc::now().timestamp());
            let request = tonic::codegen::http::Request::post(endpoint)
                .header("content-type", "application/json")
                .header("stripe-signature", header)
                .body(Full::new(Bytes::from(payload)))
                .unwrap();
            http.request(request).await.unwrap().status().as_u16()
        });
    }
    while let Some(status) = posts.join_next().await {
        assert_eq!(status.unwrap(), 200);
    }
    let recorded = started.elapsed();
    let db = sea_orm::Database::connect(&url).await.unwrap();
    loop {
        let row = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT count(*) AS n FROM provider_events WHERE processed_at IS NOT NULL",
            ))
            .await
            .unwrap()
            .unwrap();
        if row.try_get::<i64>("", "n").unwrap() >= EVENTS as i64 {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    let applied = started.elapsed();
    let (recorded_rate, applied_rate) = (
        EVENTS as f64 / recorded.as_secs_f64(),
        EVENTS as f64 / applied.as_secs_f64(),
    );
    println!(
        "payments  Stripe webhooks ({EVENTS}, {IN_FLIGHT} in flight): recorded {recorded_rate:.0}/s (ratio to pgbench {:.2})   applied {applied_rate:.0}/s (ratio {:.2})",
        recorded_rate / baseline,
        applied_rate / baseline
    );
    app.stop().await;
}

/// The payment intent FundMilestone made for the milestone (no card yet:
/// the app would confirm it with Stripe.js).
async fn intent_for(
    app: &TestApp,
    client: &frevix_testkit::TestUser,
    contract: &str,
    milestone: &str,
) -> String {
    let request = payments::FundMilestoneRequest {
        contract_id: contract.into(),
        milestone_id: milestone.into(),
        payment_method: String::new(),
    };
    loop {
        match app
            .payments
            .clone()
            .fund_milestone(authed(&client.access_token, request.clone()))
            .await
        {
            Ok(answer) => {
                let secret = answer.into_inner().funding.unwrap().client_secret;
                return secret.split("_secret_").next().unwrap().to_owned();
            }
            // Payments learns the contract from contracts' event.
            Err(status) if status.code() == tonic::Code::NotFound => {
                tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            }
            Err(status) => panic!("{status:?}"),
        }
    }
}

/// Stripe's `payment_intent.succeeded` for `intent` (USD 500.00).
fn succeeded(n: usize, intent: &str) -> String {
    let now = chrono::Utc::now().timestamp();
    json!({
        "id": format!("evt_bench_{n}"),
        "object": "event",
        "api_version": "2026-09-30.endive",
        "created": now,
        "livemode": false,
        "pending_webhooks": 1,
        "type": "payment_intent.succeeded",
        "data": { "object": {
            "id": intent,
            "object": "payment_intent",
            "amount": 50_000,
            "amount_capturable": 0,
            "amount_received": 50_000,
            "capture_method": "automatic",
            "confirmation_method": "automatic",
            "created": now,
            "currency": "usd",
            "latest_charge": format!("ch_bench_{n}"),
            "livemode": false,
            "metadata": {},
            "payment_method_types": ["card"],
            "status": "succeeded",
        }},
    })
    .to_string()
}

/// Transactions/s of pgbench recording an event: its row and its timer.
async fn pgbench(url: &str) -> f64 {
    let db = sea_orm::Database::connect(url).await.unwrap();
    for statement in [
        "CREATE TABLE IF NOT EXISTS bench_inbox (id text PRIMARY KEY, body text NOT NULL, received_at timestamptz NOT NULL)",
        "CREATE TABLE IF NOT EXISTS bench_due (kind text NOT NULL, subject text NOT NULL, due_at timestamptz NOT NULL, PRIMARY KEY (kind, subject))",
    ] {
        db.execute_unprepared(statement).await.unwrap();
    }
    crate::pgbench::tps(
        url,
        "webhook",
        "BEGIN;\n\
         INSERT INTO bench_inbox VALUES (gen_random_uuid()::text, '{\"type\":\"payment_succeeded\"}', now());\n\
         INSERT INTO bench_due VALUES ('provider.event', gen_random_uuid()::text, now());\n\
         END;\n",
        5,
    )
    .await
}
