//! Many sends at once, as group commit writes them together: every send is
//! stored once, each conversation's sequences run 1, 2, 3, … without gaps or
//! repeats, a resend racing its original is answered with the original, and
//! each stored message has exactly one MessageSent event. The checks before
//! those sends are answered together too, and each send keeps its own answer.

// Tests are written as plain async fns run by on_both_backends!, which
// clippy does not see as tests: a failed expectation should panic here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeSet, HashMap};
use std::sync::Arc;

use crate::support::open;
use frevix_proto::messaging::v1 as pb;
use frevix_testkit::{Backend, TestApp, TestUser, authed, on_both_backends};

/// Sends per sender and conversation.
const EACH: usize = 25;

async fn concurrent_sends_are_each_stored_once_in_order(backend: Backend) {
    let app =
        Arc::new(TestApp::spawn_with(backend, |c| c.messaging.sends_per_minute = 100_000).await);
    let (ada, bob, cy) = (
        app.register().await,
        app.register().await,
        app.register().await,
    );
    let with_bob = open(&app, &ada, &bob).await;
    let with_cy = open(&app, &ada, &cy).await;

    // Ada and Bob write in one conversation, Ada and Cy in the other, all at
    // once; every tenth send is also sent a second time, racing itself.
    let mut calls = Vec::new();
    for (who, conversation) in [
        (&ada, &with_bob),
        (&bob, &with_bob),
        (&ada, &with_cy),
        (&cy, &with_cy),
    ] {
        for i in 0..EACH {
            let copies = if i % 10 == 0 { 2 } else { 1 };
            for _ in 0..copies {
                let app = app.clone();
                let token = who.access_token.clone();
                let request = pb::SendMessageRequest {
                    conversation_id: conversation.id.clone(),
                    text: format!("{} #{i}", who.account_id),
                    client_message_id: format!("c-{i}"),
                    ..Default::default()
                };
                calls.push(tokio::spawn(async move {
                    let sent = app
                        .messaging
                        .clone()
                        .send_message(authed(&token, request.clone()))
                        .await
                        .unwrap()
                        .into_inner()
                        .message
                        .unwrap();
                    // Client ids are unique per conversation and sender.
                    let key = (
                        sent.conversation_id.clone(),
                        sent.sender_id.clone(),
                        request.client_message_id,
                    );
                    (key, sent)
                }));
            }
        }
    }
    let mut by_client_id: HashMap<(String, String, String), pb::Message> = HashMap::new();
    for call in calls {
        let (client_id, sent) = call.await.unwrap();
        if let Some(first) = by_client_id.get(&client_id) {
            assert_eq!(first.id, sent.id, "a racing resend got another message");
            assert_eq!(first.sequence, sent.sequence);
        } else {
            by_client_id.insert(client_id, sent);
        }
    }
    assert_eq!(by_client_id.len(), 4 * EACH);

    let mut stored_ids = BTreeSet::new();
    for conversation in [&with_bob, &with_cy] {
        let stored = messages(&app, &ada, &conversation.id).await;
        let sequences: Vec<i64> = stored.iter().map(|m| m.sequence).collect();
        let expected: Vec<i64> = (1..=i64::try_from(2 * EACH).unwrap()).collect();
        assert_eq!(
            sequences, expected,
            "gaps or repeats in {}",
            conversation.id
        );
        for message in &stored {
            let key = (
                message.conversation_id.clone(),
                message.sender_id.clone(),
                message.client_message_id.clone(),
            );
            let answered = &by_client_id[&key];
            assert_eq!(answered.id, message.id);
            assert_eq!(answered.sequence, message.sequence);
            assert_eq!(answered.text, message.text);
            stored_ids.insert(message.id.clone());
        }
    }
    assert_eq!(stored_ids.len(), 4 * EACH);

    // One MessageSent per stored message, naming its sequence.
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
    let sent_events = loop {
        let events: Vec<pb::MessageSent> = app
            .published_events("messaging")
            .await
            .iter()
            .filter(|e| e.event_type() == "frevix.messaging.v1.MessageSent")
            .map(|e| e.decode::<pb::MessageSent>().unwrap())
            .collect();
        if events.len() >= 4 * EACH || std::time::Instant::now() > deadline {
            break events;
        }
    };
    let event_ids: BTreeSet<String> = sent_events.iter().map(|e| e.message_id.clone()).collect();
    assert_eq!(sent_events.len(), 4 * EACH, "one event per message");
    assert_eq!(event_ids, stored_ids);
    for event in &sent_events {
        let message = by_client_id
            .values()
            .find(|m| m.id == event.message_id)
            .unwrap();
        assert_eq!(event.sequence, message.sequence);
        assert_eq!(event.conversation_id, message.conversation_id);
        assert_eq!(event.recipient_ids.len(), 1);
    }
}

/// The checks before each send are answered together for sends that arrive
/// at once; each send must still get its own answer: stored, not a member
/// (NOT_FOUND), blocked (FAILED_PRECONDITION), or a resend of its original.
async fn sends_checked_together_keep_their_own_answers(backend: Backend) {
    let app =
        Arc::new(TestApp::spawn_with(backend, |c| c.messaging.sends_per_minute = 100_000).await);
    let (ada, bob, cy, dee) = (
        app.register().await,
        app.register().await,
        app.register().await,
        app.register().await,
    );
    let with_bob = open(&app, &ada, &bob).await;
    let with_cy = open(&app, &ada, &cy).await;
    // Cy blocks Ada: Ada's sends to Cy are refused.
    app.messaging
        .clone()
        .block_account(authed(
            &cy.access_token,
            pb::BlockAccountRequest {
                account_id: ada.account_id.clone(),
            },
        ))
        .await
        .unwrap();
    let first = app
        .messaging
        .clone()
        .send_message(authed(
            &ada.access_token,
            pb::SendMessageRequest {
                conversation_id: with_bob.id.clone(),
                text: "the original".into(),
                client_message_id: "again".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .message
        .unwrap();

    #[derive(Debug, PartialEq, Clone, Copy)]
    enum Expect {
        Stored,
        Resend,
        NotFound,
        Blocked,
    }
    let mut calls = Vec::new();
    for i in 0..40 {
        let (who, conversation, client_id, expect) = match i % 4 {
            0 => (&ada, &with_bob, format!("new-{i}"), Expect::Stored),
            1 => (&ada, &with_bob, "again".to_owned(), Expect::Resend),
            // Dee is no member of Ada and Bob's conversation.
            2 => (&dee, &with_bob, format!("dee-{i}"), Expect::NotFound),
            _ => (&ada, &with_cy, format!("cy-{i}"), Expect::Blocked),
        };
        let app = app.clone();
        let token = who.access_token.clone();
        let request = pb::SendMessageRequest {
            conversation_id: conversation.id.clone(),
            text: format!("send {i}"),
            client_message_id: client_id,
            ..Default::default()
        };
        calls.push(tokio::spawn(async move {
            let answer = app
                .messaging
                .clone()
                .send_message(authed(&token, request))
                .await;
            (expect, answer)
        }));
    }
    let mut stored = BTreeSet::new();
    for call in calls {
        let (expect, answer) = call.await.unwrap();
        match expect {
            Expect::Stored => {
                let message = answer.unwrap().into_inner().message.unwrap();
                assert_ne!(message.id, first.id);
                stored.insert(message.id);
            }
            Expect::Resend => {
                let message = answer.unwrap().into_inner().message.unwrap();
                assert_eq!(message.id, first.id, "a resend must get its original");
                assert_eq!(message.text, "the original");
            }
            Expect::NotFound => {
                assert_eq!(answer.unwrap_err().code(), tonic::Code::NotFound);
            }
            Expect::Blocked => {
                assert_eq!(answer.unwrap_err().code(), tonic::Code::FailedPrecondition);
            }
        }
    }
    assert_eq!(stored.len(), 10);
    // The original and the ten new ones, nothing else.
    assert_eq!(messages(&app, &bob, &with_bob.id).await.len(), 11);
    let cy_sees = messages(&app, &cy, &with_cy.id).await;
    assert!(cy_sees.is_empty(), "a blocked sender's message was stored");
}

on_both_backends!(
    concurrent_sends_are_each_stored_once_in_order,
    sends_checked_together_keep_their_own_answers
);

async fn messages(app: &TestApp, who: &TestUser, conversation: &str) -> Vec<pb::Message> {
    app.messaging
        .clone()
        .get_messages(authed(
            &who.access_token,
            pb::GetMessagesRequest {
                conversation_id: conversation.to_owned(),
                limit: 200,
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .messages
}
