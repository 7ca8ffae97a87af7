//! The native clients' bidirectional Chat stream: the same feed as
//! Subscribe, with sends acknowledged on the stream (resends too, never
//! stored twice), read marks and pings.

// Tests are written as plain async fns run by on_both_backends!, which
// clippy does not see as tests: a failed expectation should panic here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use frevix_proto::messaging::v1 as pb;
use frevix_testkit::{Backend, TestApp, authed, on_both_backends};
use tokio::sync::mpsc;
use tokio_stream::StreamExt as _;
use tokio_stream::wrappers::ReceiverStream;

async fn next_event(stream: &mut tonic::Streaming<pb::ChatResponse>) -> pb::chat_response::Event {
    loop {
        let item = tokio::time::timeout(Duration::from_secs(10), stream.next())
            .await
            .expect("the stream went quiet")
            .expect("the stream ended")
            .unwrap();
        match item.event {
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

on_both_backends!(a_native_client_sends_receives_and_is_acknowledged_on_one_stream);
