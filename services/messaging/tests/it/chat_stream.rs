//! The native clients' bidirectional Chat stream: the same feed as
//! Subscribe, with sends acknowledged on the stream (resends too, never
//! stored twice), read marks and pings.

// Tests are written as plain async fns run by on_both_backends!, which
// clippy does not see as tests: a failed expectation should panic here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support;

use std::time::Duration;

use frevix_proto::messaging::v1 as pb;
use frevix_testkit::status::reason;
use frevix_testkit::{Backend, TestApp, authed, on_both_backends};
use tokio::sync::mpsc;
use tokio_stream::StreamExt as _;
use tokio_stream::wrappers::ReceiverStream;

async fn next_event(stream: &mut tonic::Streaming<pb::ChatResponse>) -> pb::chat_response::Event {
    loop {
        match support::next_chat_item(stream).await.event {
            Some(pb::chat_response::Event::Heartbeat(_)) | None => continue,
            Some(event) => return event,
        }
    }
}

async fn a_native_client_sends_receives_and_is_acknowledged_on_one_stream(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register().await;
    let bob = app.register().await;
    let conversation = app
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

    let (frames, outgoing) = mpsc::channel(16);
    frames
        .send(pb::ChatRequest {
            frame_id: String::new(),
            frame: Some(pb::chat_request::Frame::Hello(pb::Hello {
                positions: vec![],
            })),
        })
        .await
        .unwrap();
    let mut stream = app
        .messaging
        .clone()
        .chat(authed(&ada.access_token, ReceiverStream::new(outgoing)))
        .await
        .unwrap()
        .into_inner();

    let send = |client_id: &str| pb::ChatRequest {
        frame_id: String::new(),
        frame: Some(pb::chat_request::Frame::Send(pb::SendMessageRequest {
            conversation_id: conversation.id.clone(),
            text: "hi Bob".into(),
            client_message_id: client_id.into(),
            ..Default::default()
        })),
    };
    frames.send(send("n-1")).await.unwrap();
    let mut acked = None;
    let mut echoed = None;
    while acked.is_none() || echoed.is_none() {
        match next_event(&mut stream).await {
            pb::chat_response::Event::Ack(ack) => acked = Some(ack),
            pb::chat_response::Event::Message(message) => echoed = Some(message),
            other => panic!("unexpected {other:?}"),
        }
    }
    let acked = acked.unwrap();
    assert_eq!(acked.client_message_id, "n-1");
    assert_eq!(acked.message.as_ref().unwrap().sequence, 1);
    assert_eq!(
        echoed.unwrap().id,
        acked.message.as_ref().unwrap().id,
        "the sender's own feed shows it too"
    );

    // A resend after a lost ack is acknowledged with the same message.
    frames.send(send("n-1")).await.unwrap();
    let pb::chat_response::Event::Ack(again) = next_event(&mut stream).await else {
        panic!("expected an ack");
    };
    assert_eq!(again.message.unwrap().id, acked.message.unwrap().id);

    // Bob answers over the unary path; Ada's stream gets it live.
    app.messaging
        .clone()
        .send_message(authed(
            &bob.access_token,
            pb::SendMessageRequest {
                conversation_id: conversation.id.clone(),
                text: "hi Ada".into(),
                client_message_id: "b-1".into(),
                ..Default::default()
            },
        ))
        .await
        .unwrap();
    let pb::chat_response::Event::Message(reply) = next_event(&mut stream).await else {
        panic!("expected Bob's message");
    };
    assert_eq!((reply.sequence, reply.text.as_str()), (2, "hi Ada"));

    frames
        .send(pb::ChatRequest {
            frame_id: String::new(),
            frame: Some(pb::chat_request::Frame::MarkRead(pb::MarkReadRequest {
                conversation_id: conversation.id.clone(),
                up_to_sequence: 2,
            })),
        })
        .await
        .unwrap();
    let pb::chat_response::Event::Read(receipt) = next_event(&mut stream).await else {
        panic!("expected a read receipt");
    };
    assert_eq!(
        (receipt.reader_id.as_str(), receipt.up_to_sequence),
        (ada.account_id.as_str(), 2)
    );

    frames
        .send(pb::ChatRequest {
            frame_id: String::new(),
            frame: Some(pb::chat_request::Frame::Ping(pb::Ping {
                nonce: "42".into(),
            })),
        })
        .await
        .unwrap();
    let pb::chat_response::Event::Pong(pong) = next_event(&mut stream).await else {
        panic!("expected a pong");
    };
    assert_eq!(pong.nonce, "42");

    frames
        .send(pb::ChatRequest {
            frame_id: String::new(),
            frame: Some(pb::chat_request::Frame::Send(pb::SendMessageRequest {
                conversation_id: conversation.id.clone(),
                text: String::new(),
                client_message_id: "n-2".into(),
                ..Default::default()
            })),
        })
        .await
        .unwrap();
    let pb::chat_response::Event::Failed(failed) = next_event(&mut stream).await else {
        panic!("expected a failure");
    };
    assert_eq!(
        (failed.client_message_id.as_str(), failed.code),
        ("n-2", tonic::Code::InvalidArgument as i32)
    );

    let stored = app
        .messaging
        .clone()
        .get_messages(authed(
            &bob.access_token,
            pb::GetMessagesRequest {
                conversation_id: conversation.id.clone(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .messages;
    assert_eq!(
        stored.len(),
        2,
        "the resend and the refused message stored nothing"
    );
}

/// Opens a Chat stream and the frames to send on it.
async fn chat(
    app: &TestApp,
    token: &str,
) -> (
    mpsc::Sender<pb::ChatRequest>,
    tonic::Streaming<pb::ChatResponse>,
) {
    let (frames, outgoing) = mpsc::channel(16);
    frames
        .send(pb::ChatRequest {
            frame_id: String::new(),
            frame: Some(pb::chat_request::Frame::Hello(pb::Hello {
                positions: vec![],
            })),
        })
        .await
        .unwrap();
    let stream = app
        .messaging
        .clone()
        .chat(authed(token, ReceiverStream::new(outgoing)))
        .await
        .unwrap()
        .into_inner();
    (frames, stream)
}

/// The reason a stream ended with, waiting at most `limit` (heartbeats,
/// pongs and other events are skipped).
async fn end_reason<T>(stream: &mut tonic::Streaming<T>, limit: Duration) -> String {
    let deadline = tokio::time::Instant::now() + limit;
    loop {
        match tokio::time::timeout_at(deadline, stream.next()).await {
            Err(_) => panic!("the stream was still open after {limit:?}"),
            Ok(None) => panic!("the stream ended without a status"),
            Ok(Some(Ok(_))) => continue,
            Ok(Some(Err(status))) => {
                assert_eq!(status.code(), tonic::Code::Unauthenticated, "{status:?}");
                return reason(&status);
            }
        }
    }
}

fn reauthenticate(access_token: String) -> pb::ChatRequest {
    pb::ChatRequest {
        frame_id: String::new(),
        frame: Some(pb::chat_request::Frame::Reauthenticate(
            pb::Reauthenticate { access_token },
        )),
    }
}

fn ping(nonce: &str) -> pb::ChatRequest {
    pb::ChatRequest {
        frame_id: String::new(),
        frame: Some(pb::chat_request::Frame::Ping(pb::Ping {
            nonce: nonce.into(),
        })),
    }
}

async fn open_streams_end_at_once_when_their_session_is_revoked(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register().await;
    let elsewhere = app.login(&ada.email, &ada.password).await;
    let mut feed = support::feed(&app, &ada, vec![]).await;
    let (_frames, mut stream) = chat(&app, &ada.access_token).await;
    let (other_frames, mut other) = chat(&app, &elsewhere.access_token).await;

    app.identity
        .clone()
        .logout(authed(
            &ada.access_token,
            frevix_proto::identity::v1::LogoutRequest {},
        ))
        .await
        .unwrap();

    let limit = Duration::from_secs(10);
    assert_eq!(end_reason(&mut feed, limit).await, "SESSION_REVOKED");
    assert_eq!(end_reason(&mut stream, limit).await, "SESSION_REVOKED");
    // A new call with the revoked session's token is refused too...
    let refused = app
        .messaging
        .clone()
        .list_conversations(authed(
            &ada.access_token,
            pb::ListConversationsRequest::default(),
        ))
        .await
        .unwrap_err();
    assert_eq!(reason(&refused), "SESSION_REVOKED");
    // ...while the account's other session goes on.
    other_frames.send(ping("still here")).await.unwrap();
    assert!(matches!(
        next_event(&mut other).await,
        pb::chat_response::Event::Pong(_)
    ));
}

async fn open_streams_end_when_the_account_is_suspended(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let admin = app.admin().await;
    let ada = app.register().await;
    let mut feed = support::feed(&app, &ada, vec![]).await;
    let (_frames, mut stream) = chat(&app, &ada.access_token).await;

    app.identity
        .clone()
        .suspend_account(authed(
            &admin.access_token,
            frevix_proto::identity::v1::SuspendAccountRequest {
                account_id: ada.account_id.clone(),
                reason: "spam".into(),
            },
        ))
        .await
        .unwrap();

    let limit = Duration::from_secs(10);
    // Suspension also revokes the sessions; whichever lands first ends them.
    let ended = [
        end_reason(&mut feed, limit).await,
        end_reason(&mut stream, limit).await,
    ];
    for reason in ended {
        assert!(
            ["ACCOUNT_SUSPENDED", "SESSION_REVOKED"].contains(&reason.as_str()),
            "{reason}"
        );
    }
}

async fn a_stream_ends_when_its_token_expires_unless_renewed_on_it(backend: Backend) {
    let app = TestApp::spawn_with(backend, |config| {
        config.identity.access_token_ttl_secs = 5;
    })
    .await;
    let ada = app.register().await;
    let mut feed = support::feed(&app, &ada, vec![]).await;
    let (frames, mut stream) = chat(&app, &ada.access_token).await;

    // Renew the Chat stream before the first token runs out.
    tokio::time::sleep(Duration::from_secs(2)).await;
    let fresh = app
        .identity
        .clone()
        .refresh(frevix_proto::identity::v1::RefreshRequest {
            refresh_token: ada.refresh_token.clone(),
        })
        .await
        .unwrap()
        .into_inner()
        .tokens
        .unwrap();
    frames
        .send(reauthenticate(fresh.access_token))
        .await
        .unwrap();
    let pb::chat_response::Event::Reauthenticated(renewed) = next_event(&mut stream).await else {
        panic!("no Reauthenticated");
    };
    assert!(renewed.expire_time.is_some());

    // The browser feed could not renew: it ends with the first token...
    assert_eq!(
        end_reason(&mut feed, Duration::from_secs(10)).await,
        "TOKEN_EXPIRED"
    );
    // ...while the renewed stream still answers...
    frames.send(ping("after the first expiry")).await.unwrap();
    assert!(matches!(
        next_event(&mut stream).await,
        pb::chat_response::Event::Pong(_)
    ));
    // ...until the fresh token runs out too.
    assert_eq!(
        end_reason(&mut stream, Duration::from_secs(10)).await,
        "TOKEN_EXPIRED"
    );
}

async fn a_stream_refuses_another_accounts_token(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register().await;
    let eve = app.register().await;
    let (frames, mut stream) = chat(&app, &ada.access_token).await;
    frames.send(reauthenticate(eve.access_token)).await.unwrap();
    assert_eq!(
        end_reason(&mut stream, Duration::from_secs(10)).await,
        "TOKEN_INVALID"
    );
}

async fn opening_more_streams_than_allowed_closes_the_oldest(backend: Backend) {
    let app = TestApp::spawn_with(backend, |config| {
        config.messaging.max_streams_per_account = 2;
    })
    .await;
    let ada = app.register().await;
    let mut oldest = support::feed(&app, &ada, vec![]).await;
    let _second = support::feed(&app, &ada, vec![]).await;
    let (frames, mut newest) = chat(&app, &ada.access_token).await;

    let ended = loop {
        match tokio::time::timeout(Duration::from_secs(10), oldest.next())
            .await
            .expect("the oldest stream stayed open")
        {
            Some(Ok(_)) => continue,
            Some(Err(status)) => break status,
            None => panic!("ended without saying why"),
        }
    };
    assert_eq!(ended.code(), tonic::Code::ResourceExhausted);
    assert_eq!(reason(&ended), "TOO_MANY_STREAMS");
    frames.send(ping("newest")).await.unwrap();
    assert!(matches!(
        next_event(&mut newest).await,
        pb::chat_response::Event::Pong(_)
    ));
}

/// A client that only listens (no Hello, no frame at all) still gets its
/// feed: what is written to it arrives.
async fn a_stream_that_sends_nothing_still_receives(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register().await;
    let bob = app.register().await;
    let conversation = support::open(&app, &bob, &ada).await;
    let (_frames, outgoing) = mpsc::channel::<pb::ChatRequest>(1);
    let mut stream = app
        .messaging
        .clone()
        .chat(authed(&ada.access_token, ReceiverStream::new(outgoing)))
        .await
        .unwrap()
        .into_inner();
    // Once the feed has begun (after the wait for a Hello), Bob writes.
    tokio::time::sleep(Duration::from_secs(1)).await;
    support::send(&app, &bob, &conversation.id, "are you there?", "b-1").await;
    // Other events (Bob's presence) may come first; next_event fails the
    // test after 10 quiet seconds.
    loop {
        if let pb::chat_response::Event::Message(message) = next_event(&mut stream).await {
            assert_eq!(message.text, "are you there?");
            break;
        }
    }
}

on_both_backends!(
    a_stream_that_sends_nothing_still_receives,
    opening_more_streams_than_allowed_closes_the_oldest,
    a_native_client_sends_receives_and_is_acknowledged_on_one_stream,
    open_streams_end_at_once_when_their_session_is_revoked,
    open_streams_end_when_the_account_is_suspended,
    a_stream_ends_when_its_token_expires_unless_renewed_on_it,
    a_stream_refuses_another_accounts_token,
);
