//! Load shedding through the real server: past its capacity a call is
//! refused at once with UNAVAILABLE and retry advice (RetryInfo and
//! `grpc-retry-pushback-ms`), never queued without end; health checks are
//! still answered; and once the crowd is gone every call is served again.
//! The capacity is one call with no wait, so a crowd of 50 finds it busy.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use frevix_proto::identity::v1 as pb;
use frevix_testkit::{Backend, TestApp, authed, on_both_backends};
use tonic::Code;
use tonic_health::pb::health_check_response::ServingStatus;
use tonic_health::pb::{HealthCheckRequest, health_client::HealthClient};
use tonic_types::StatusExt;

async fn calls_past_capacity_are_refused_at_once_with_retry_advice(backend: Backend) {
    let app = TestApp::spawn_with(backend, |config| {
        config.server.max_concurrent_requests = 1;
        config.server.max_queue_wait_ms = 0;
    })
    .await;
    let user = app.register().await;
    let crowd: Vec<_> = (0..50)
        .map(|_| {
            let mut identity = app.identity.clone();
            let token = user.access_token.clone();
            tokio::spawn(async move { identity.get_me(authed(&token, pb::GetMeRequest {})).await })
        })
        .collect();
    let channel = tonic::transport::Channel::from_shared(app.url())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut health = HealthClient::new(channel);
    let checks = tokio::spawn(async move {
        let mut answers = Vec::new();
        for _ in 0..20 {
            let check = health.check(HealthCheckRequest::default()).await;
            answers.push(check.map(|r| r.into_inner().status));
        }
        answers
    });
    let (mut served, mut refused) = (0, 0);
    for call in crowd {
        match call.await.unwrap() {
            Ok(me) => {
                assert_eq!(me.into_inner().account.unwrap().id, user.account_id);
                served += 1;
            }
            Err(status) => {
                assert_eq!(status.code(), Code::Unavailable, "{status:?}");
                let retry = status.get_details_retry_info().expect("RetryInfo");
                assert_eq!(retry.retry_delay, Some(Duration::from_millis(250)));
                assert_eq!(
                    status.metadata().get("grpc-retry-pushback-ms").unwrap(),
                    "250"
                );
                refused += 1;
            }
        }
    }
    assert!(served >= 1, "nobody was served");
    assert!(refused >= 1, "nobody was refused: {served} served");
    for answer in checks.await.unwrap() {
        assert_eq!(answer.unwrap(), ServingStatus::Serving as i32);
    }
    // The crowd gone, calls are served again.
    let mut identity = app.identity.clone();
    for _ in 0..5 {
        identity
            .get_me(authed(&user.access_token, pb::GetMeRequest {}))
            .await
            .unwrap();
    }
}

on_both_backends!(calls_past_capacity_are_refused_at_once_with_retry_advice);
