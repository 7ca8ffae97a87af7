//! Messaging as two replicas: the test's own Frevix (with identity) and a
//! second `frevix serve messaging` process on the same PostgreSQL database
//! and NATS. A sender on one replica reaches a recipient on the other in
//! both directions, presence is shared, and when the second process is
//! killed its user goes offline for everyone.

// A failed expectation should panic in a test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use frevix_proto::messaging::v1::{self as pb, messaging_service_client::MessagingServiceClient};
use frevix_testkit::{Backend, ChatDevice, TestApp, authed};
use tokio_stream::StreamExt as _;
use tonic::transport::Channel;

type Feed = tonic::Streaming<pb::SubscribeResponse>;

async fn next<T>(
    feed: &mut Feed,
    mut pick: impl FnMut(pb::subscribe_response::Event) -> Option<T>,
) -> T {
    loop {
        let item = tokio::time::timeout(Duration::from_secs(15), feed.next())
            .await
            .expect("the feed went quiet")
            .expect("the feed ended")
            .unwrap();
        if let Some(found) = item.event.and_then(&mut pick) {
            return found;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_replicas_share_messages_and_presence() {
    let app = TestApp::spawn_with(Backend::Postgres, |c| {
        c.messaging.presence_ttl_secs = 3;
    })
    .await;
    let media = format!("file://{}", app.config.data_dir.join("media").display());
    let mut replica = app
        .spawn_process(
            "messaging",
            std::path::Path::new(env!("CARGO_BIN_EXE_frevix")),
            &[
                ("FREVIX_MESSAGING__PRESENCE_TTL_SECS", "3"),
                ("FREVIX_MESSAGING__MEDIA__STORE_URL", &media),
            ],
        )
        .await;
    let replica_client = MessagingServiceClient::new(replica.channel.clone());
    let ada = app.register().await;
    let bob = app.register().await;
    let chat = app
        .messaging
        .clone()
        .open_direct_conversation(authed(
            &ada.access_token,
            pb::OpenDirectConversationRequest {
                account_id: bob.account_id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .conversation
        .unwrap();
    // Presence shows between people who have both written.
    for (who, id) in [(&ada, "hi-a"), (&bob, "hi-b")] {
        app.messaging
            .clone()
            .send_message(authed(
                &who.access_token,
                pb::SendMessageRequest {
                    conversation_id: chat.id.clone(),
                    text: "hi".into(),
                    client_message_id: id.into(),
                    ..Default::default()
                },
            ))
            .await
            .unwrap();
    }

    // Ada on the test's process, Bob on the replica's Chat stream.
    let mut ada_feed = app
        .messaging
        .clone()
        .subscribe(authed(&ada.access_token, pb::SubscribeRequest::default()))
        .await
        .unwrap()
        .into_inner();
    let ChatDevice {
        frames,
        events: mut bob_stream,
    } = ChatDevice::open(replica_client, &bob.access_token).await;

    let online = next(&mut ada_feed, |e| match e {
        pb::subscribe_response::Event::Presence(p) if p.account_id == bob.account_id => Some(p),
        _ => None,
    })
    .await;
    assert_eq!(online.state, pb::PresenceState::Online as i32);

    // Bob sends on the replica; Ada hears it on this process.
    frames
        .send(pb::ChatRequest {
            frame_id: String::new(),
            frame: Some(pb::chat_request::Frame::Send(pb::SendMessageRequest {
                conversation_id: chat.id.clone(),
                text: "hello from the other replica".into(),
                client_message_id: "x-1".into(),
                ..Default::default()
            })),
        })
        .await
        .unwrap();
    let heard = next(&mut ada_feed, |e| match e {
        pb::subscribe_response::Event::Message(m) if m.text != "hi" => Some(m),
        _ => None,
    })
    .await;
    assert_eq!(heard.text, "hello from the other replica");
    assert_eq!(heard.sequence, 3);

    // Ada answers here; Bob hears it on the replica.
    app.messaging
        .clone()
        .send_message(authed(
            &ada.access_token,
            pb::SendMessageRequest {
                conversation_id: chat.id.clone(),
                text: "hello back".into(),
                client_message_id: "y-1".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap();
    let answer = loop {
        let item = tokio::time::timeout(Duration::from_secs(15), bob_stream.next())
            .await
            .expect("bob's stream went quiet")
            .expect("bob's stream ended")
            .unwrap();
        if let Some(pb::chat_response::Event::Message(m)) = item.event
            && m.sender_id == ada.account_id
            && m.text != "hi"
        {
            break m;
        }
    };
    assert_eq!((answer.text.as_str(), answer.sequence), ("hello back", 4));

    let presence = |client: MessagingServiceClient<Channel>| {
        let mut client = client;
        let request = authed(
            &ada.access_token,
            pb::GetPresenceRequest {
                account_ids: vec![bob.account_id.clone()],
            },
        );
        async move {
            client
                .get_presence(request)
                .await
                .unwrap()
                .into_inner()
                .presences[0]
                .state
        }
    };
    assert_eq!(
        presence(app.messaging.clone()).await,
        pb::PresenceState::Online as i32,
        "this process knows Bob is online on the other"
    );

    // The replica dies without a word: Bob goes offline once its presence
    // entry lapses.
    replica.child.start_kill().unwrap();
    replica.child.wait().await.unwrap();
    let killed = Instant::now();
    let offline = next(&mut ada_feed, |e| match e {
        pb::subscribe_response::Event::Presence(p) if p.account_id == bob.account_id => Some(p),
        _ => None,
    })
    .await;
    assert_eq!(offline.state, pb::PresenceState::Offline as i32);
    assert!(killed.elapsed() < Duration::from_secs(10));
    assert_eq!(
        presence(app.messaging.clone()).await,
        pb::PresenceState::Offline as i32
    );
}
