//! A Chat stream's sends to several conversations, written at once: each
//! conversation's are stored in the order they were sent, without gaps
//! (whatever the stream works through side by side).

// Tests are written as plain async fns run by on_both_backends!, which
// clippy does not see as tests: a failed expectation should panic here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;

use frevix_proto::messaging::v1 as pb;
use frevix_testkit::{Backend, TestApp, on_both_backends};

use crate::support::{chat_stream, next_chat_item, open};

/// Sends per conversation, all written at once (three conversations: within
/// a stream's queue of admitted frames).
const EACH: usize = 10;

async fn a_streams_sends_keep_each_conversations_order(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register().await;
    let mut conversations = Vec::new();
    for _ in 0..3 {
        let other = app.register().await;
        conversations.push(open(&app, &ada, &other).await.id);
    }
    let (frames, mut stream) = chat_stream(&app, &ada).await;
    // Round robin over the conversations, without waiting for answers.
    for i in 0..EACH * 3 {
        let send = pb::SendMessageRequest {
            conversation_id: conversations[i % 3].clone(),
            text: format!("message {i}"),
            client_message_id: format!("m{i:02}"),
            ..Default::default()
        };
        frames
            .send(pb::ChatRequest {
                frame_id: String::new(),
                frame: Some(pb::chat_request::Frame::Send(send)),
            })
            .await
            .unwrap();
    }
    // Client id → (conversation, sequence), from the acknowledgements.
    let mut acked: HashMap<String, (String, i64)> = HashMap::new();
    while acked.len() < EACH * 3 {
        match next_chat_item(&mut stream).await.event {
            Some(pb::chat_response::Event::Ack(ack)) => {
                let message = ack.message.unwrap();
                acked.insert(
                    ack.client_message_id,
                    (message.conversation_id, message.sequence),
                );
            }
            Some(pb::chat_response::Event::Failed(failed)) => {
                panic!("a send was refused: {failed:?}")
            }
            _ => {}
        }
    }
    for (n, conversation) in conversations.iter().enumerate() {
        // The client ids of this conversation, in the order sent.
        let seqs: Vec<i64> = (0..EACH * 3)
            .filter(|i| i % 3 == n)
            .map(|i| {
                let (stored_in, seq) = &acked[&format!("m{i:02}")];
                assert_eq!(stored_in, conversation);
                *seq
            })
            .collect();
        let expected: Vec<i64> = (1..=EACH as i64).collect();
        assert_eq!(seqs, expected, "stored in the order sent, without gaps");
    }
}

on_both_backends!(a_streams_sends_keep_each_conversations_order);
