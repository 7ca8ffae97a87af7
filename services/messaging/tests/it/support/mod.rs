//! Helpers shared by messaging's API tests.

#![allow(dead_code, clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use frevix_proto::messaging::v1 as pb;
use frevix_testkit::{TestApp, TestUser, authed};
use tokio_stream::StreamExt as _;

pub type Feed = tonic::Streaming<pb::SubscribeResponse>;

pub async fn open(app: &TestApp, me: &TestUser, other: &TestUser) -> pb::Conversation {
    app.messaging
        .clone()
        .open_direct_conversation(authed(
            &me.access_token,
            pb::OpenDirectConversationRequest {
                account_id: other.account_id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .conversation
        .unwrap()
}

pub async fn send(
    app: &TestApp,
    me: &TestUser,
    conversation: &str,
    text: &str,
    client_id: &str,
) -> pb::Message {
    app.messaging
        .clone()
        .send_message(authed(
            &me.access_token,
            pb::SendMessageRequest {
                conversation_id: conversation.into(),
                text: text.into(),
                client_message_id: client_id.into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .message
        .unwrap()
}

pub async fn feed(
    app: &TestApp,
    me: &TestUser,
    positions: Vec<pb::Position>,
) -> tonic::Streaming<pb::SubscribeResponse> {
    app.messaging
        .clone()
        .subscribe(authed(&me.access_token, pb::SubscribeRequest { positions }))
        .await
        .unwrap()
        .into_inner()
}

/// The next `n` messages of a feed (skipping heartbeats and receipts).
pub async fn next_messages(
    feed: &mut tonic::Streaming<pb::SubscribeResponse>,
    n: usize,
) -> Vec<pb::Message> {
    let mut messages = Vec::new();
    while messages.len() < n {
        let item = tokio::time::timeout(Duration::from_secs(10), feed.next())
            .await
            .expect("the feed went quiet")
            .expect("the feed ended")
            .unwrap();
        if let Some(pb::subscribe_response::Event::Message(message)) = item.event {
            messages.push(message);
        }
    }
    messages
}

/// The first event of `feed` that `pick` accepts, within 10 seconds.
pub async fn next_event<T>(
    feed: &mut Feed,
    mut pick: impl FnMut(pb::subscribe_response::Event) -> Option<T>,
) -> T {
    loop {
        let item = tokio::time::timeout(Duration::from_secs(10), feed.next())
            .await
            .expect("the feed went quiet")
            .expect("the feed ended")
            .unwrap();
        if let Some(found) = item.event.and_then(&mut pick) {
            return found;
        }
    }
}

/// Sends with every field of the request chosen by the caller.
pub async fn try_send(
    app: &TestApp,
    me: &TestUser,
    request: pb::SendMessageRequest,
) -> Result<pb::Message, tonic::Status> {
    app.messaging
        .clone()
        .send_message(authed(&me.access_token, request))
        .await
        .map(|r| r.into_inner().message.unwrap())
}

/// Makes `a` and `b` people who have talked (each sent the other a
/// direct message), as adding someone to a group needs.
pub async fn befriend(app: &TestApp, a: &TestUser, b: &TestUser) -> pb::Conversation {
    let direct = open(app, a, b).await;
    send(app, a, &direct.id, "hello", &format!("hi-{}", b.account_id)).await;
    send(
        app,
        b,
        &direct.id,
        "hello back",
        &format!("hi-{}", a.account_id),
    )
    .await;
    direct
}

/// A group of `me` with `others`.
pub async fn group(app: &TestApp, me: &TestUser, others: &[&TestUser]) -> pb::Conversation {
    app.messaging
        .clone()
        .create_group_conversation(authed(
            &me.access_token,
            pb::CreateGroupConversationRequest {
                title: "Launch team".into(),
                member_ids: others.iter().map(|o| o.account_id.clone()).collect(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .conversation
        .unwrap()
}

pub async fn conversations(app: &TestApp, me: &TestUser, archived: bool) -> Vec<pb::Conversation> {
    app.messaging
        .clone()
        .list_conversations(authed(
            &me.access_token,
            pb::ListConversationsRequest {
                archived,
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .conversations
}

/// A Chat stream of `me`'s: where its frames go, and what it answers.
pub async fn chat_stream(
    app: &TestApp,
    me: &TestUser,
) -> (
    tokio::sync::mpsc::Sender<pb::ChatRequest>,
    tonic::Streaming<pb::ChatResponse>,
) {
    let (frames, outgoing) = tokio::sync::mpsc::channel(64);
    let stream = app
        .messaging
        .clone()
        .chat(authed(
            &me.access_token,
            tokio_stream::wrappers::ReceiverStream::new(outgoing),
        ))
        .await
        .unwrap()
        .into_inner();
    (frames, stream)
}

/// The next item of a Chat stream, within 10 s.
pub async fn next_chat_item(stream: &mut tonic::Streaming<pb::ChatResponse>) -> pb::ChatResponse {
    tokio::time::timeout(Duration::from_secs(10), stream.next())
        .await
        .expect("the stream went quiet")
        .expect("the stream ended")
        .unwrap()
}
