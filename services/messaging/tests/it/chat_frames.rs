//! What a Chat stream answers a frame it refuses: the frame's own id, the
//! code and details the unary RPC would answer, and the stream goes on; a
//! Hello with some malformed positions is used for the rest; a stream the
//! client resets takes its presence with it at once.

// Tests are written as plain async fns run by on_both_backends!, which
// clippy does not see as tests: a failed expectation should panic here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use frevix_proto::messaging::v1 as pb;
use frevix_testkit::status::{from_parts, reason, violated_fields};
use frevix_testkit::{Backend, TestApp, TestUser, authed, on_both_backends};
use tokio::sync::mpsc;
use tokio_stream::wrappers::ReceiverStream;
use tonic::{Code, Status};

use crate::support::{feed, next_event, open, send};

use pb::chat_request::Frame;
use pb::chat_response::Event;

fn frame(frame_id: &str, frame: Frame) -> pb::ChatRequest {
    pb::ChatRequest {
        frame_id: frame_id.into(),
        frame: Some(frame),
    }
}

/// A Chat stream of `me`'s, opened with `first` as its first frame.
async fn chat(
    app: &TestApp,
    me: &TestUser,
    first: pb::ChatRequest,
) -> (
    mpsc::Sender<pb::ChatRequest>,
    tonic::Streaming<pb::ChatResponse>,
) {
    let (frames, outgoing) = mpsc::channel(16);
    frames.send(first).await.unwrap();
    let stream = app
        .messaging
        .clone()
        .chat(authed(&me.access_token, ReceiverStream::new(outgoing)))
        .await
        .unwrap()
        .into_inner();
    (frames, stream)
}

/// The next event other than heartbeats and presence, within 10 s.
async fn next(stream: &mut tonic::Streaming<pb::ChatResponse>) -> Event {
    loop {
        match crate::support::next_chat_item(stream).await.event {
            Some(Event::Heartbeat(_) | Event::Presence(_)) | None => continue,
            Some(event) => return event,
        }
    }
}

/// The next event, which must be a FrameFailed: its frame id and status.
async fn next_refusal(stream: &mut tonic::Streaming<pb::ChatResponse>) -> (String, Status) {
    match next(stream).await {
        Event::FrameFailed(failed) => (
            failed.frame_id,
            from_parts(failed.code, &failed.message, failed.details),
        ),
        other => panic!("expected a FrameFailed, got {other:?}"),
    }
}

fn hello() -> Frame {
    Frame::Hello(pb::Hello { positions: vec![] })
}

async fn a_refused_frame_names_itself_and_says_what_the_rpc_would(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register().await;
    let bob = app.register().await;
    let conversation = open(&app, &ada, &bob).await;
    let (frames, mut stream) = chat(&app, &ada, frame("h-1", hello())).await;

    // A mark-read past the conversation's end: what MarkRead answers.
    let mark = pb::MarkReadRequest {
        conversation_id: conversation.id.clone(),
        up_to_sequence: 99,
    };
    frames
        .send(frame("m-1", Frame::MarkRead(mark.clone())))
        .await
        .unwrap();
    let (frame_id, refused) = next_refusal(&mut stream).await;
    let unary = app
        .messaging
        .clone()
        .mark_read(authed(&ada.access_token, mark))
        .await
        .unwrap_err();
    assert_eq!(frame_id, "m-1");
    assert_eq!(refused.code(), Code::InvalidArgument, "{refused:?}");
    assert_eq!(refused.code(), unary.code());
    assert_eq!(refused.message(), unary.message());
    assert_eq!(violated_fields(&refused), vec!["up_to_sequence"]);
    assert_eq!(violated_fields(&refused), violated_fields(&unary));

    // Typing in a conversation Ada is not in: what SetTyping answers.
    let typing = pb::SetTypingRequest {
        conversation_id: uuid::Uuid::new_v4().to_string(),
        typing: true,
    };
    frames
        .send(frame("t-1", Frame::Typing(typing.clone())))
        .await
        .unwrap();
    let (frame_id, refused) = next_refusal(&mut stream).await;
    let unary = app
        .messaging
        .clone()
        .set_typing(authed(&ada.access_token, typing))
        .await
        .unwrap_err();
    assert_eq!(frame_id, "t-1");
    assert_eq!(refused.code(), Code::NotFound, "{refused:?}");
    assert_eq!(
        (refused.code(), reason(&refused)),
        (unary.code(), reason(&unary))
    );

    // A refused send echoes its frame id beside its client message id.
    let empty = pb::SendMessageRequest {
        conversation_id: conversation.id.clone(),
        client_message_id: "c-1".into(),
        ..Default::default()
    };
    frames.send(frame("s-1", Frame::Send(empty))).await.unwrap();
    let Event::Failed(failed) = next(&mut stream).await else {
        panic!("expected a SendFailed");
    };
    assert_eq!(
        (failed.frame_id.as_str(), failed.client_message_id.as_str()),
        ("s-1", "c-1")
    );
    let refused = from_parts(failed.code, &failed.message, failed.details);
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert!(!violated_fields(&refused).is_empty(), "{refused:?}");

    // A second Hello has nothing to say any more.
    frames.send(frame("h-2", hello())).await.unwrap();
    let (frame_id, refused) = next_refusal(&mut stream).await;
    assert_eq!(frame_id, "h-2");
    assert_eq!(
        (refused.code(), reason(&refused).as_str()),
        (Code::FailedPrecondition, "HELLO_NOT_FIRST")
    );

    // A frame id past 64 characters is refused whatever the frame.
    let long = "x".repeat(65);
    let ping = Frame::Ping(pb::Ping { nonce: "n".into() });
    frames.send(frame(&long, ping.clone())).await.unwrap();
    let (frame_id, refused) = next_refusal(&mut stream).await;
    assert_eq!(frame_id, "", "an oversized id is not echoed");
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&refused), vec!["frame_id"]);

    // A ping's nonce is echoed, so it is bounded: 64 bytes.
    let loud = Frame::Ping(pb::Ping {
        nonce: "n".repeat(65),
    });
    frames.send(frame("p-1", loud)).await.unwrap();
    let (frame_id, refused) = next_refusal(&mut stream).await;
    assert_eq!(frame_id, "p-1");
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&refused), vec!["ping.nonce"]);

    // Through all of it the stream goes on.
    frames.send(frame(&"x".repeat(64), ping)).await.unwrap();
    let Event::Pong(pong) = next(&mut stream).await else {
        panic!("expected a pong");
    };
    assert_eq!(pong.nonce, "n");
}

async fn a_hello_with_a_malformed_position_uses_the_others(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register().await;
    let bob = app.register().await;
    let conversation = open(&app, &ada, &bob).await;
    for (i, text) in ["one", "two", "three"].iter().enumerate() {
        send(&app, &bob, &conversation.id, text, &format!("b-{i}")).await;
    }
    let positions = vec![
        pb::Position {
            conversation_id: conversation.id.clone(),
            sequence: 2,
            change_sequence: 0,
        },
        pb::Position {
            conversation_id: "not-an-id".into(),
            ..Default::default()
        },
    ];
    let (_frames, mut stream) = chat(
        &app,
        &ada,
        frame("h-1", Frame::Hello(pb::Hello { positions })),
    )
    .await;
    let (frame_id, refused) = next_refusal(&mut stream).await;
    assert_eq!(frame_id, "h-1");
    assert_eq!(refused.code(), Code::InvalidArgument);
    assert_eq!(
        violated_fields(&refused),
        vec!["positions[1].conversation_id"]
    );
    // The usable position was used: the replay starts after sequence 2.
    let Event::Message(message) = next(&mut stream).await else {
        panic!("expected the replayed message");
    };
    assert_eq!((message.sequence, message.text.as_str()), (3, "three"));
}

async fn a_reset_chat_stream_takes_its_presence_offline_at_once(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register().await;
    let bob = app.register().await;
    // Presence is seen by people who have written to each other.
    let conversation = open(&app, &ada, &bob).await;
    send(&app, &ada, &conversation.id, "hello Bob", "a-1").await;
    send(&app, &bob, &conversation.id, "hello Ada", "b-1").await;
    let mut ada_feed = feed(&app, &ada, vec![]).await;
    let is_bob = |state: pb::PresenceState| {
        let bob = bob.account_id.clone();
        move |event| match event {
            pb::subscribe_response::Event::Presence(p)
                if p.account_id == bob && p.state == state as i32 =>
            {
                Some(p)
            }
            _ => None,
        }
    };

    let (frames, stream) = chat(&app, &bob, frame("", hello())).await;
    next_event(&mut ada_feed, is_bob(pb::PresenceState::Online)).await;
    // The app goes away: its stream is reset, never half-closed.
    let gone = Instant::now();
    drop(stream);
    drop(frames);
    next_event(&mut ada_feed, is_bob(pb::PresenceState::Offline)).await;
    // Well before the next heartbeat (15 s) would have found it gone.
    assert!(
        gone.elapsed() < Duration::from_secs(5),
        "offline after {:?}",
        gone.elapsed()
    );
}

on_both_backends!(
    a_refused_frame_names_itself_and_says_what_the_rpc_would,
    a_hello_with_a_malformed_position_uses_the_others,
    a_reset_chat_stream_takes_its_presence_offline_at_once,
);
