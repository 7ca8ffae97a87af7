//! What Envoy adds to a unary call: authenticated GetMe one at a time,
//! directly to the all-in-one process and through Envoy (the rendered
//! all-in-one configuration), in the same run. And, asked for alone
//! (`FREVIX_BENCH_ONLY=gateway-idle`, it takes 11 minutes), that a
//! Subscribe through Envoy stays open while idle, living on heartbeats,
//! and still delivers at the end.

use std::time::{Duration, Instant};

use frevix_proto::identity::v1::{self as pb, identity_service_client::IdentityServiceClient};
use frevix_testkit::{Backend, TestApp, authed};
use tonic::transport::Channel;

const CALLS: usize = 3_000;

async fn latencies(channel: Channel, token: &str) -> (f64, f64) {
    let mut client = IdentityServiceClient::new(channel);
    for _ in 0..200 {
        client
            .get_me(authed(token, pb::GetMeRequest {}))
            .await
            .unwrap();
    }
    let mut measured = Vec::with_capacity(CALLS);
    for _ in 0..CALLS {
        let started = Instant::now();
        client
            .get_me(authed(token, pb::GetMeRequest {}))
            .await
            .unwrap();
        measured.push(started.elapsed());
    }
    measured.sort();
    let at = |q: f64| measured[((CALLS as f64 * q) as usize).min(CALLS - 1)].as_secs_f64() * 1000.0;
    (at(0.50), at(0.99))
}

pub async fn run() {
    let envoy = frevix_testkit::repo().join(".venv/bin/envoy");
    if !envoy.exists() {
        println!("gateway   skipped: no .venv/bin/envoy (make tools installs it)");
        return;
    }
    let app =
        TestApp::spawn_with(Backend::Sqlite, |c| c.server.cors_allowed_origins = vec![]).await;
    let user = app.register().await;
    let gateway = app.spawn_gateway().await;
    let through = gateway.channel.clone();
    let direct = Channel::from_shared(app.url())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let (direct_p50, direct_p99) = latencies(direct, &user.access_token).await;
    let (envoy_p50, envoy_p99) = latencies(through, &user.access_token).await;
    println!(
        "gateway   GetMe one at a time ({CALLS} calls): direct p50 {direct_p50:.2} ms p99 {direct_p99:.2} ms; through Envoy p50 {envoy_p50:.2} ms p99 {envoy_p99:.2} ms; Envoy adds p50 {:.2} ms p99 {:.2} ms",
        envoy_p50 - direct_p50,
        envoy_p99 - direct_p99
    );
    drop(gateway);
}

/// How long the subscription stays idle: past Envoy's and load balancers'
/// usual 5- and 10-minute idle cut-offs.
const IDLE: Duration = Duration::from_secs(11 * 60);

pub async fn idle_subscription() {
    use frevix_proto::messaging::v1::{
        self as messaging, messaging_service_client::MessagingServiceClient,
    };
    use messaging::subscribe_response::Event;
    use tokio_stream::StreamExt as _;

    let app =
        TestApp::spawn_with(Backend::Sqlite, |c| c.server.cors_allowed_origins = vec![]).await;
    let (reader, writer) = (app.register().await, app.register().await);
    let gateway = app.spawn_gateway().await;
    let conversation = app
        .messaging
        .clone()
        .open_direct_conversation(authed(
            &writer.access_token,
            messaging::OpenDirectConversationRequest {
                account_id: reader.account_id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .conversation
        .unwrap();
    let mut feed = MessagingServiceClient::new(gateway.channel.clone())
        .subscribe(authed(
            &reader.access_token,
            messaging::SubscribeRequest::default(),
        ))
        .await
        .unwrap()
        .into_inner();
    let started = Instant::now();
    let (mut heartbeats, mut longest_gap, mut last) = (0u32, Duration::ZERO, Instant::now());
    while started.elapsed() < IDLE {
        let item = tokio::time::timeout(IDLE - started.elapsed(), feed.next()).await;
        match item {
            Err(_) => break,
            Ok(Some(Ok(messaging::SubscribeResponse {
                event: Some(Event::Heartbeat(_)),
            }))) => {
                heartbeats += 1;
                longest_gap = longest_gap.max(last.elapsed());
                last = Instant::now();
            }
            Ok(Some(Ok(_))) => {}
            Ok(other) => panic!(
                "the subscription ended after {:.0} s idle: {other:?}",
                started.elapsed().as_secs_f64()
            ),
        }
    }
    // Still open: a message sent now arrives on the same stream.
    let sent = Instant::now();
    app.messaging
        .clone()
        .send_message(authed(
            &writer.access_token,
            messaging::SendMessageRequest {
                conversation_id: conversation.id.clone(),
                text: "still there?".into(),
                client_message_id: "idle-1".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap();
    loop {
        let item = tokio::time::timeout(Duration::from_secs(10), feed.next())
            .await
            .expect("no message after the idle period")
            .expect("the subscription ended")
            .unwrap();
        if let Some(Event::Message(message)) = item.event {
            assert_eq!(message.text, "still there?");
            break;
        }
    }
    println!(
        "gateway   Subscribe through Envoy idle for {:.0} s: open, {heartbeats} heartbeats (longest gap {:.1} s), a message after it delivered in {:.1} ms",
        started.elapsed().as_secs_f64(),
        longest_gap.as_secs_f64(),
        sent.elapsed().as_secs_f64() * 1000.0
    );
}
