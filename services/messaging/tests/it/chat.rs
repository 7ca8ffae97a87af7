//! Conversations and messages through the gRPC API: membership, per-
//! conversation sequences, safe resends, read positions, and the live feed
//! that replays what a client missed before streaming what is new.

// Tests are written as plain async fns run by on_both_backends!, which
// clippy does not see as tests: a failed expectation should panic here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use crate::support::{feed, next_messages, open, send};
use frevix_proto::contracts::v1 as contracts;
use frevix_proto::messaging::v1 as pb;
use frevix_testkit::status::violated_fields;
use frevix_testkit::{Backend, TestApp, authed, on_both_backends};

use tokio_stream::StreamExt as _;
use tonic::Code;

async fn members_talk_and_strangers_see_nothing(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register().await;
    let bob = app.register().await;
    let eve = app.register().await;
    let conversation = open(&app, &ada, &bob).await;
    let again = open(&app, &bob, &ada).await;
    assert_eq!(
        conversation.id, again.id,
        "one direct conversation per pair"
    );

    let first = send(&app, &ada, &conversation.id, "hello Bob", "c-1").await;
    let second = send(&app, &ada, &conversation.id, "are you there?", "c-2").await;
    assert_eq!((first.sequence, second.sequence), (1, 2));
    let resent = send(&app, &ada, &conversation.id, "hello Bob", "c-1").await;
    assert_eq!(
        resent.id, first.id,
        "a resend is acknowledged, not stored again"
    );

    let listed = app
        .messaging
        .clone()
        .list_conversations(authed(
            &bob.access_token,
            pb::ListConversationsRequest::default(),
        ))
        .await
        .unwrap()
        .into_inner()
        .conversations;
    assert_eq!(listed.len(), 1);
    assert_eq!(listed[0].unread_count, 2);
    assert_eq!(
        listed[0].last_message.as_ref().unwrap().text,
        "are you there?"
    );

    let page = app
        .messaging
        .clone()
        .get_messages(authed(
            &bob.access_token,
            pb::GetMessagesRequest {
                conversation_id: conversation.id.clone(),
                before_sequence: 3,
                limit: 1,
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(
        page.messages.iter().map(|m| m.sequence).collect::<Vec<_>>(),
        [2]
    );
    assert!(page.more);

    app.messaging
        .clone()
        .mark_read(authed(
            &bob.access_token,
            pb::MarkReadRequest {
                conversation_id: conversation.id.clone(),
                up_to_sequence: 2,
            },
        ))
        .await
        .unwrap();
    let read = app
        .messaging
        .clone()
        .get_conversation(authed(
            &bob.access_token,
            pb::GetConversationRequest {
                conversation_id: conversation.id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .conversation
        .unwrap();
    assert_eq!(read.unread_count, 0);

    for result in [
        app.messaging
            .clone()
            .get_messages(authed(
                &eve.access_token,
                pb::GetMessagesRequest {
                    conversation_id: conversation.id.clone(),
                    ..Default::default()
                },
            ))
            .await
            .map(|_| ()),
        app.messaging
            .clone()
            .send_message(authed(
                &eve.access_token,
                pb::SendMessageRequest {
                    conversation_id: conversation.id.clone(),
                    text: "let me in".into(),
                    client_message_id: "e".into(),
                    ..Default::default()
                },
            ))
            .await
            .map(|_| ()),
    ] {
        assert_eq!(result.unwrap_err().code(), Code::NotFound);
    }

    let bad = app
        .messaging
        .clone()
        .send_message(authed(
            &ada.access_token,
            pb::SendMessageRequest {
                conversation_id: conversation.id.clone(),
                text: " ".into(),
                client_message_id: String::new(),
                ..Default::default()
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(violated_fields(&bad), ["text", "client_message_id"]);
}

async fn the_feed_replays_what_was_missed_then_streams_live_in_order(backend: Backend) {
    let app = TestApp::spawn_with(backend, |config| config.messaging.heartbeat_secs = 1).await;
    let ada = app.register().await;
    let bob = app.register().await;
    let conversation = open(&app, &ada, &bob).await;

    let mut live = feed(&app, &bob, vec![]).await;
    for i in 1..=3 {
        send(
            &app,
            &ada,
            &conversation.id,
            &format!("m{i}"),
            &format!("c{i}"),
        )
        .await;
    }
    let got = next_messages(&mut live, 3).await;
    assert_eq!(
        got.iter().map(|m| m.sequence).collect::<Vec<_>>(),
        [1, 2, 3]
    );
    drop(live);

    // Offline for a while.
    for i in 4..=5 {
        send(
            &app,
            &ada,
            &conversation.id,
            &format!("m{i}"),
            &format!("c{i}"),
        )
        .await;
    }
    let mut resumed = feed(
        &app,
        &bob,
        vec![pb::Position {
            conversation_id: conversation.id.clone(),
            sequence: 3,
            ..Default::default()
        }],
    )
    .await;
    send(&app, &ada, &conversation.id, "m6", "c6").await;
    let got = next_messages(&mut resumed, 3).await;
    assert_eq!(
        got.iter()
            .map(|m| (m.sequence, m.text.as_str()))
            .collect::<Vec<_>>(),
        [(4, "m4"), (5, "m5"), (6, "m6")],
        "the missed ones in order, then live, nothing twice"
    );

    // An idle feed says it lives.
    let beat = tokio::time::timeout(Duration::from_secs(5), async {
        loop {
            let item = resumed.next().await.unwrap().unwrap();
            if let Some(pb::subscribe_response::Event::Heartbeat(_)) = item.event {
                return;
            }
        }
    })
    .await;
    assert!(beat.is_ok(), "no heartbeat on an idle feed");
}

async fn concurrent_senders_get_distinct_sequences_in_commit_order(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register().await;
    let bob = app.register().await;
    let conversation = open(&app, &ada, &bob).await;
    let mut live = feed(&app, &bob, vec![]).await;
    let senders: Vec<_> = (0..20)
        .map(|i| {
            let app_messaging = app.messaging.clone();
            let who = if i % 2 == 0 { ada.clone() } else { bob.clone() };
            let conversation = conversation.id.clone();
            tokio::spawn(async move {
                app_messaging
                    .clone()
                    .send_message(authed(
                        &who.access_token,
                        pb::SendMessageRequest {
                            conversation_id: conversation,
                            text: format!("message {i}"),
                            client_message_id: format!("c-{i}"),
                            ..Default::default()
                        },
                    ))
                    .await
                    .unwrap()
                    .into_inner()
                    .message
                    .unwrap()
                    .sequence
            })
        })
        .collect();
    let mut sequences = Vec::new();
    for sender in senders {
        sequences.push(sender.await.unwrap());
    }
    sequences.sort_unstable();
    assert_eq!(sequences, (1..=20).collect::<Vec<i64>>());
    let got = next_messages(&mut live, 20).await;
    assert_eq!(
        got.iter().map(|m| m.sequence).collect::<Vec<_>>(),
        (1..=20).collect::<Vec<i64>>(),
        "the feed delivers every message once, in order"
    );
}

async fn a_contract_opens_its_conversation(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = app.register().await;
    let freelancer = app.register().await;
    let created = contracts::ContractCreated {
        contract_id: uuid::Uuid::new_v4().to_string(),
        client_id: client.account_id.clone(),
        freelancer_id: freelancer.account_id.clone(),
        title: "Booking API".into(),
        ..Default::default()
    };
    app.publish_as("contracts", &created.contract_id, &created)
        .await;
    app.publish_as("contracts", &created.contract_id, &created)
        .await;
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    let conversations = loop {
        let listed = app
            .messaging
            .clone()
            .list_conversations(authed(
                &freelancer.access_token,
                pb::ListConversationsRequest::default(),
            ))
            .await
            .unwrap()
            .into_inner()
            .conversations;
        if !listed.is_empty() || std::time::Instant::now() > deadline {
            break listed;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(
        conversations.len(),
        1,
        "one conversation, even for a repeated event"
    );
    assert_eq!(conversations[0].kind, pb::ConversationKind::Contract as i32);
    assert_eq!(conversations[0].contract_id, created.contract_id);
    assert_eq!(conversations[0].title, "Booking API");
    let mut members = conversations[0].member_ids.clone();
    members.sort();
    let mut expected = vec![client.account_id.clone(), freelancer.account_id.clone()];
    expected.sort();
    assert_eq!(members, expected);
}

on_both_backends!(
    members_talk_and_strangers_see_nothing,
    the_feed_replays_what_was_missed_then_streams_live_in_order,
    concurrent_senders_get_distinct_sequences_in_commit_order,
    a_contract_opens_its_conversation,
);

mod limits {
    //! Per-account send rate limits.

    #![allow(clippy::unwrap_used, clippy::expect_used)]

    use super::*;
    use frevix_testkit::status::{reason, retry_after};

    async fn sending_too_fast_is_refused_with_a_time_to_retry(backend: Backend) {
        let app =
            TestApp::spawn_with(backend, |config| config.messaging.sends_per_minute = 8).await;
        let ada = app.register().await;
        let bob = app.register().await;
        let conversation = open(&app, &ada, &bob).await;
        let mut refused = None;
        for i in 0..20 {
            let result = app
                .messaging
                .clone()
                .send_message(authed(
                    &ada.access_token,
                    pb::SendMessageRequest {
                        conversation_id: conversation.id.clone(),
                        text: format!("spam {i}"),
                        client_message_id: format!("s-{i}"),
                        ..Default::default()
                    },
                ))
                .await;
            if let Err(status) = result {
                refused = Some(status);
                break;
            }
        }
        let refused = refused.expect("never limited");
        assert_eq!(refused.code(), Code::ResourceExhausted);
        assert_eq!(reason(&refused), "RATE_LIMITED");
        assert!(retry_after(&refused).is_some_and(|wait| !wait.is_zero()));
        // A resend of a stored message is still answered.
        let resent = send(&app, &ada, &conversation.id, "spam 0", "s-0").await;
        assert_eq!(resent.sequence, 1);
        // Others are not held back.
        send(&app, &bob, &conversation.id, "calm", "b-1").await;
    }

    on_both_backends!(sending_too_fast_is_refused_with_a_time_to_retry);
}
