//! Resuming: clients that drop their stream at arbitrary points and come
//! back with their positions get every message once, in order; a client
//! too slow to read is told to resync without holding anyone else up.

// Tests are written as plain async fns run by on_both_backends!, which
// clippy does not see as tests: a failed expectation should panic here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::Duration;

use crate::support::{feed, open, send};
use frevix_proto::messaging::v1 as pb;
use frevix_testkit::{Backend, TestApp, authed, on_both_backends};
use tokio_stream::StreamExt as _;

/// A small deterministic generator, so a failure can be replayed.
struct Lcg(u64);

impl Lcg {
    fn below(&mut self, n: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (self.0 >> 33) % n
    }
}

/// Messages of a Chat stream as Subscribe would give them.
async fn chat_feed(
    app: &TestApp,
    who: &frevix_testkit::TestUser,
    positions: Vec<pb::Position>,
) -> std::pin::Pin<Box<dyn tokio_stream::Stream<Item = pb::subscribe_response::Event> + Send>> {
    let hello = pb::ChatRequest {
        frame_id: String::new(),
        frame: Some(pb::chat_request::Frame::Hello(pb::Hello { positions })),
    };
    // The outbound side stays open as long as the stream is read.
    let (frames, inbound) = tokio::sync::mpsc::channel(1);
    frames.send(hello).await.unwrap();
    let stream = app
        .messaging
        .clone()
        .chat(authed(
            &who.access_token,
            tokio_stream::wrappers::ReceiverStream::new(inbound),
        ))
        .await
        .unwrap()
        .into_inner();
    Box::pin(stream.filter_map(move |item| {
        let _keep = &frames;
        match item.ok()?.event? {
            pb::chat_response::Event::Message(m) => Some(pb::subscribe_response::Event::Message(m)),
            _ => None,
        }
    }))
}

async fn clients_that_drop_at_random_points_miss_nothing_and_see_nothing_twice(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| c.messaging.sends_per_minute = 100_000).await;
    let ada = app.register().await;
    let bob = app.register().await;
    let chat = open(&app, &ada, &bob).await;
    const TOTAL: i64 = 150;
    let sender = {
        let app_messaging = app.messaging.clone();
        let token = ada.access_token.clone();
        let conversation = chat.id.clone();
        tokio::spawn(async move {
            for i in 1..=TOTAL {
                app_messaging
                    .clone()
                    .send_message(authed(
                        &token,
                        pb::SendMessageRequest {
                            conversation_id: conversation.clone(),
                            text: format!("message {i}"),
                            client_message_id: format!("m-{i}"),
                            ..Default::default()
                        },
                    ))
                    .await
                    .unwrap();
                if i % 10 == 0 {
                    tokio::time::sleep(Duration::from_millis(5)).await;
                }
            }
        })
    };
    let mut random = Lcg(0x5eed);
    let mut seen: Vec<i64> = Vec::new();
    let mut reconnects = 0;
    while seen.last().copied().unwrap_or(0) < TOTAL {
        let positions = vec![pb::Position {
            conversation_id: chat.id.clone(),
            sequence: seen.last().copied().unwrap_or(0),
            ..Default::default()
        }];
        // Alternate between the browser path and the native one.
        let mut events: std::pin::Pin<
            Box<dyn tokio_stream::Stream<Item = pb::subscribe_response::Event> + Send>,
        > = if reconnects % 2 == 0 {
            Box::pin(
                feed(&app, &bob, positions)
                    .await
                    .filter_map(|item| item.ok()?.event),
            )
        } else {
            chat_feed(&app, &bob, positions).await
        };
        reconnects += 1;
        let take = 1 + random.below(25);
        let mut taken = 0;
        while taken < take {
            let event = tokio::time::timeout(Duration::from_secs(10), events.next())
                .await
                .expect("the feed went quiet")
                .expect("the feed ended");
            if let pb::subscribe_response::Event::Message(m) = event {
                seen.push(m.sequence);
                taken += 1;
                if m.sequence == TOTAL {
                    break;
                }
            }
        }
        drop(events);
    }
    sender.await.unwrap();
    let expected: Vec<i64> = (1..=TOTAL).collect();
    assert_eq!(seen, expected, "every message once, in order");
    assert!(reconnects > 5, "only {reconnects} reconnects");
}

async fn a_slow_reader_is_told_to_resync_and_holds_nobody_up(backend: Backend) {
    let app = TestApp::spawn_with(backend, |c| {
        c.messaging.sends_per_minute = 100_000;
        // Small, yet room for a fast reader on a loaded CI machine to fall a
        // few messages behind now and then.
        c.messaging.stream_buffer = 64;
    })
    .await;
    let ada = app.register().await;
    let bob = app.register().await;
    let chat = open(&app, &ada, &bob).await;
    // Bob subscribes and then reads nothing for a while.
    let mut slow = feed(&app, &bob, vec![]).await;
    let mut fast = feed(&app, &ada, vec![]).await;
    // Enough to fill the transport's flow-control windows (a few MB) and
    // the feed's buffers behind them.
    const TOTAL: i64 = 800;
    let long = "x".repeat(4_900);
    let reader = tokio::spawn(async move {
        let mut last = 0;
        while last < TOTAL {
            let item = tokio::time::timeout(Duration::from_secs(10), fast.next())
                .await
                .expect("Ada's own feed stalled")
                .unwrap()
                .unwrap();
            if let Some(pb::subscribe_response::Event::Message(m)) = item.event {
                assert_eq!(m.sequence, last + 1);
                last = m.sequence;
            }
        }
    });
    for i in 1..=TOTAL {
        send(
            &app,
            &ada,
            &chat.id,
            &format!("{i} {long}"),
            &format!("s-{i}"),
        )
        .await;
    }
    tokio::time::timeout(Duration::from_secs(30), reader)
        .await
        .expect("a fast reader must not wait for a slow one")
        .unwrap();

    // Bob reads now: what was buffered, then the resync.
    let mut seen = Vec::new();
    let mut resynced = false;
    while let Some(item) = tokio::time::timeout(Duration::from_secs(10), slow.next())
        .await
        .expect("the slow feed went quiet")
    {
        match item.unwrap().event {
            Some(pb::subscribe_response::Event::Message(m)) => seen.push(m.sequence),
            Some(pb::subscribe_response::Event::Resync(_)) => {
                resynced = true;
                break;
            }
            _ => {}
        }
    }
    assert!(resynced, "the slow reader is told to resync");
    assert!((seen.len() as i64) < TOTAL);
    // Coming back with its position, it gets the rest, once and in order.
    let mut again = feed(
        &app,
        &bob,
        vec![pb::Position {
            conversation_id: chat.id.clone(),
            sequence: *seen.last().unwrap_or(&0),
            ..Default::default()
        }],
    )
    .await;
    while *seen.last().unwrap_or(&0) < TOTAL {
        let item = tokio::time::timeout(Duration::from_secs(10), again.next())
            .await
            .expect("the resumed feed went quiet")
            .unwrap()
            .unwrap();
        if let Some(pb::subscribe_response::Event::Message(m)) = item.event {
            seen.push(m.sequence);
        }
    }
    let expected: Vec<i64> = (1..=TOTAL).collect();
    assert_eq!(seen, expected);
}

async fn edits_and_deletes_made_while_away_come_back_on_resume(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register().await;
    let bob = app.register().await;
    let chat = open(&app, &ada, &bob).await;
    for i in 1..=3 {
        send(
            &app,
            &ada,
            &chat.id,
            &format!("draft {i}"),
            &format!("d-{i}"),
        )
        .await;
    }
    let edit = |sequence: i64, text: &str| {
        let mut client = app.messaging.clone();
        let request = authed(
            &ada.access_token,
            pb::EditMessageRequest {
                conversation_id: chat.id.clone(),
                sequence,
                text: text.to_owned(),
            },
        );
        async move { client.edit_message(request).await.unwrap() }
    };
    // Bob has everything, and one change, when he goes away.
    edit(1, "final 1").await;
    let away = feed(
        &app,
        &bob,
        vec![pb::Position {
            conversation_id: chat.id.clone(),
            sequence: 3,
            change_sequence: 1,
        }],
    )
    .await;
    // While he is away: another edit and a delete.
    drop(away);
    edit(2, "final 2").await;
    app.messaging
        .clone()
        .delete_message(authed(
            &ada.access_token,
            pb::DeleteMessageRequest {
                conversation_id: chat.id.clone(),
                sequence: 3,
            },
        ))
        .await
        .unwrap();
    let mut back = feed(
        &app,
        &bob,
        vec![pb::Position {
            conversation_id: chat.id.clone(),
            sequence: 3,
            change_sequence: 1,
        }],
    )
    .await;
    let mut changes = Vec::new();
    while changes.len() < 2 {
        let item = tokio::time::timeout(Duration::from_secs(10), back.next())
            .await
            .expect("the feed went quiet")
            .unwrap()
            .unwrap();
        match item.event {
            Some(pb::subscribe_response::Event::Changed(c)) => changes.push(c),
            Some(pb::subscribe_response::Event::Message(m)) => {
                panic!("message {} came again", m.sequence)
            }
            _ => {}
        }
    }
    let seen: Vec<(i64, i64, String, bool)> = changes
        .iter()
        .map(|c| {
            let m = c.message.as_ref().unwrap();
            (c.change_sequence, m.sequence, m.text.clone(), m.deleted)
        })
        .collect();
    assert_eq!(
        seen,
        vec![
            (2, 2, "final 2".to_owned(), false),
            (3, 3, String::new(), true)
        ],
        "only what changed after change 1, in order"
    );
}

on_both_backends!(
    edits_and_deletes_made_while_away_come_back_on_resume,
    clients_that_drop_at_random_points_miss_nothing_and_see_nothing_twice,
    a_slow_reader_is_told_to_resync_and_holds_nobody_up,
);
