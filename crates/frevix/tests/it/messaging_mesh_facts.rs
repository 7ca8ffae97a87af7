//! What sends are checked against (members, blocks, archives, the last
//! sequence) is kept in memory by each messaging replica. With two replicas
//! on the same PostgreSQL database and NATS, a change made through one is
//! honoured at once by sends on the other: the second replica keeps its
//! facts for a minute here, so only the first one's word can explain it.
//! A change no replica was told of (made in the database directly, as when
//! the word is lost) is honoured within the configured time.

// A failed expectation should panic in a test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use frevix_proto::messaging::v1::{self as pb, messaging_service_client::MessagingServiceClient};
use frevix_testkit::status::reason;
use frevix_testkit::{Backend, TestApp, TestUser, authed};
use sea_orm::ConnectionTrait;
use tonic::Code;
use tonic::transport::Channel;

/// How long a word between replicas may take here, at most.
const HEARD_WITHIN: Duration = Duration::from_secs(3);

async fn try_send(
    client: &MessagingServiceClient<Channel>,
    who: &TestUser,
    conversation: &str,
    client_id: &str,
    reply_to: i64,
) -> Result<pb::Message, tonic::Status> {
    client
        .clone()
        .send_message(authed(
            &who.access_token,
            pb::SendMessageRequest {
                conversation_id: conversation.into(),
                text: format!("message {client_id}"),
                client_message_id: client_id.into(),
                reply_to_sequence: reply_to,
                ..Default::default()
            },
        ))
        .await
        .map(|r| r.into_inner().message.unwrap())
}

/// Sends from `who` on `client` until `done` holds for the answer (new
/// client ids each time), and how long that took; panics past `within`.
async fn until(
    client: &MessagingServiceClient<Channel>,
    who: &TestUser,
    conversation: &str,
    within: Duration,
    done: impl Fn(&Result<pb::Message, tonic::Status>) -> bool,
) -> Duration {
    let started = Instant::now();
    for attempt in 0.. {
        let id = format!("try-{}-{attempt}", uuid::Uuid::now_v7().simple());
        let answer = try_send(client, who, conversation, &id, 0).await;
        if done(&answer) {
            return started.elapsed();
        }
        assert!(
            started.elapsed() < within,
            "not honoured within {within:?}: {answer:?}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    unreachable!()
}

fn refused_with(answer: &Result<pb::Message, tonic::Status>, code: Code, why: &str) -> bool {
    answer
        .as_ref()
        .is_err_and(|status| status.code() == code && (why.is_empty() || reason(status) == why))
}

/// The direct conversation of `a` and `b`, opened by `a`.
async fn direct(client: &MessagingServiceClient<Channel>, a: &TestUser, b: &TestUser) -> String {
    client
        .clone()
        .open_direct_conversation(authed(
            &a.access_token,
            pb::OpenDirectConversationRequest {
                account_id: b.account_id.clone(),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .conversation
        .unwrap()
        .id
}

/// `who` blocks `whom` (or lifts the block) through `client`.
async fn set_block(
    client: &MessagingServiceClient<Channel>,
    who: &TestUser,
    whom: &TestUser,
    blocked: bool,
) {
    let mut client = client.clone();
    let account_id = whom.account_id.clone();
    if blocked {
        let request = pb::BlockAccountRequest { account_id };
        client
            .block_account(authed(&who.access_token, request))
            .await
            .unwrap();
    } else {
        let request = pb::UnblockAccountRequest { account_id };
        client
            .unblock_account(authed(&who.access_token, request))
            .await
            .unwrap();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_made_on_one_replica_holds_for_sends_on_the_other() {
    // Polling sends must not meet the rate limit.
    let app = TestApp::spawn_with(Backend::Postgres, |config| {
        config.messaging.sends_per_minute = 100_000;
    })
    .await;
    let media = format!("file://{}", app.config.data_dir.join("media").display());
    let replica = app
        .spawn_process(
            "messaging",
            std::path::Path::new(env!("CARGO_BIN_EXE_frevix")),
            &[
                ("FREVIX_MESSAGING__MEDIA__STORE_URL", &media),
                ("FREVIX_MESSAGING__SEND_FACTS_TTL_MS", "60000"),
                ("FREVIX_MESSAGING__SENDS_PER_MINUTE", "100000"),
            ],
        )
        .await;
    let here = app.messaging.clone();
    let there = MessagingServiceClient::new(replica.channel.clone());
    let ada = app.register().await;
    let bob = app.register().await;
    let cy = app.register().await;
    let chat = direct(&here, &ada, &bob).await;
    // Both have written: Bob may be put in Ada's group.
    try_send(&here, &ada, &chat, "a-1", 0).await.unwrap();
    try_send(&there, &bob, &chat, "b-1", 0).await.unwrap();
    let with_cy = direct(&here, &ada, &cy).await;
    try_send(&here, &ada, &with_cy, "a-2", 0).await.unwrap();
    try_send(&there, &cy, &with_cy, "c-1", 0).await.unwrap();

    // A reply to a message the other replica stored: checked against the
    // database, since this replica has not seen it.
    let later = try_send(&here, &ada, &chat, "a-3", 0).await.unwrap();
    let reply = try_send(&there, &bob, &chat, "b-2", later.sequence)
        .await
        .unwrap();
    assert_eq!(reply.reply_to_sequence, later.sequence);
    let beyond = try_send(&there, &bob, &chat, "b-3", reply.sequence + 5)
        .await
        .unwrap_err();
    assert_eq!(beyond.code(), Code::InvalidArgument);

    // A block on this replica silences Bob on the other, both ways.
    set_block(&here, &ada, &bob, true).await;
    until(&there, &bob, &chat, HEARD_WITHIN, |answer| {
        refused_with(answer, Code::FailedPrecondition, "BLOCKED")
    })
    .await;
    set_block(&here, &ada, &bob, false).await;
    until(&there, &bob, &chat, HEARD_WITHIN, Result::is_ok).await;

    // Archived here, brought back by a message sent there.
    here.clone()
        .update_conversation_settings(authed(
            &ada.access_token,
            pb::UpdateConversationSettingsRequest {
                conversation_id: chat.clone(),
                archived: Some(true),
                muted: None,
            },
        ))
        .await
        .unwrap();
    let archived_at = Instant::now();
    loop {
        try_send(
            &there,
            &bob,
            &chat,
            &format!("b-{:?}", archived_at.elapsed()),
            0,
        )
        .await
        .unwrap();
        let back = here
            .clone()
            .get_conversation(authed(
                &ada.access_token,
                pb::GetConversationRequest {
                    conversation_id: chat.clone(),
                },
            ))
            .await
            .unwrap()
            .into_inner()
            .conversation
            .unwrap();
        if !back.archived {
            break;
        }
        assert!(
            archived_at.elapsed() < HEARD_WITHIN,
            "messages from the other replica never brought the conversation back"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // A group: Cy writes on the other replica, is removed here, and is
    // refused there.
    let group = here
        .clone()
        .create_group_conversation(authed(
            &ada.access_token,
            pb::CreateGroupConversationRequest {
                title: "launch".into(),
                member_ids: vec![bob.account_id.clone(), cy.account_id.clone()],
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .conversation
        .unwrap()
        .id;
    try_send(&there, &cy, &group, "c-2", 0).await.unwrap();
    here.clone()
        .remove_member(authed(
            &ada.access_token,
            pb::RemoveMemberRequest {
                conversation_id: group.clone(),
                account_id: cy.account_id.clone(),
            },
        ))
        .await
        .unwrap();
    until(&there, &cy, &group, HEARD_WITHIN, |answer| {
        refused_with(answer, Code::NotFound, "")
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_change_nobody_announced_holds_once_the_kept_facts_lapse() {
    let ttl = Duration::from_millis(1500);
    let app = TestApp::spawn_with(Backend::Postgres, |config| {
        config.messaging.send_facts_ttl_ms = u64::try_from(ttl.as_millis()).unwrap();
        config.messaging.sends_per_minute = 100_000;
    })
    .await;
    let here = app.messaging.clone();
    let ada = app.register().await;
    let bob = app.register().await;
    let chat = direct(&here, &ada, &bob).await;
    try_send(&here, &ada, &chat, "a-1", 0).await.unwrap();
    try_send(&here, &bob, &chat, "b-1", 0).await.unwrap();
    // Bob blocks Ada in the database, as through another replica whose
    // word was lost: her sends stop within the time facts are kept.
    let db = sea_orm::Database::connect(
        secrecy::ExposeSecret::expose_secret(&app.config.messaging.database.url).to_owned(),
    )
    .await
    .unwrap();
    db.execute_unprepared(&format!(
        "INSERT INTO blocks (blocker_id, blocked_id, created_at) VALUES ('{}', '{}', now())",
        bob.account_id, ada.account_id
    ))
    .await
    .unwrap();
    let took = until(&here, &ada, &chat, ttl * 3, |answer| {
        refused_with(answer, Code::FailedPrecondition, "BLOCKED")
    })
    .await;
    assert!(took <= ttl + Duration::from_millis(500), "took {took:?}");
}
