//! Blocking, contact masking before a funded contract, presence, typing
//! and delivery receipts, through the gRPC API on both backends.

// Tests are written as plain async fns run by on_both_backends!, which
// clippy does not see as tests: a failed expectation should panic here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use crate::support::{feed, next_event, open, send, try_send};
use frevix_proto::common::v1::Money;
use frevix_proto::contracts::v1 as contracts;
use frevix_proto::messaging::v1 as pb;
use frevix_proto::payments::v1 as payments;
use frevix_testkit::status::reason;
use frevix_testkit::{Backend, TestApp, TestUser, authed, on_both_backends};
use tonic::Code;

use crate::support;

fn text(conversation: &str, text: &str, client_id: &str) -> pb::SendMessageRequest {
    pb::SendMessageRequest {
        conversation_id: conversation.into(),
        text: text.into(),
        client_message_id: client_id.into(),
        ..Default::default()
    }
}

async fn blocking_stops_direct_messages_both_ways(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register().await;
    let bob = app.register().await;
    let chat = open(&app, &ada, &bob).await;
    send(&app, &ada, &chat.id, "hello", "b-1").await;
    let block = |who: &TestUser, whom: &TestUser| {
        let mut client = app.messaging.clone();
        let request = authed(
            &who.access_token,
            pb::BlockAccountRequest {
                account_id: whom.account_id.clone(),
            },
        );
        async move { client.block_account(request).await.unwrap() }
    };
    block(&bob, &ada).await;
    block(&bob, &ada).await;
    let refused = try_send(&app, &ada, text(&chat.id, "hello?", "b-2"))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert_eq!(reason(&refused), "BLOCKED");
    let own = try_send(&app, &bob, text(&chat.id, "go away", "b-3"))
        .await
        .unwrap_err();
    assert_eq!(reason(&own), "YOU_BLOCKED_ACCOUNT");
    let listed = app
        .messaging
        .clone()
        .list_blocked_accounts(authed(&bob.access_token, pb::ListBlockedAccountsRequest {}))
        .await
        .unwrap()
        .into_inner()
        .account_ids;
    assert_eq!(listed, vec![ada.account_id.clone()]);
    app.messaging
        .clone()
        .unblock_account(authed(
            &bob.access_token,
            pb::UnblockAccountRequest {
                account_id: ada.account_id.clone(),
            },
        ))
        .await
        .unwrap();
    try_send(&app, &ada, text(&chat.id, "hello again", "b-4"))
        .await
        .unwrap();
}

async fn contact_details_are_masked_until_a_contract_is_funded(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = app.register().await;
    let freelancer = app.register().await;
    let chat = open(&app, &client, &freelancer).await;
    let early = send(
        &app,
        &client,
        &chat.id,
        "mail me at client@example.com or call +1 415 555 0134",
        "m-1",
    )
    .await;
    assert!(early.masked);
    assert!(!early.text.contains("example.com"), "{}", early.text);
    assert!(!early.text.contains("555"), "{}", early.text);
    assert!(early.text.starts_with("mail me at "));
    // Written to slip past: full-width, zero-width-split, spelled out.
    for (i, disguised) in [
        "ｃｌｉｅｎｔ＠ｅｘａｍｐｌｅ．ｃｏｍ",
        "client\u{200B}@\u{200B}example\u{200B}.com",
        "four one five five five five zero one three four",
    ]
    .into_iter()
    .enumerate()
    {
        let sent = send(&app, &client, &chat.id, disguised, &format!("d-{i}")).await;
        assert!(sent.masked, "{disguised:?} → {}", sent.text);
        assert!(!sent.text.contains("example"), "{}", sent.text);
        assert!(!sent.text.contains("five"), "{}", sent.text);
    }

    let contract = uuid::Uuid::new_v4().to_string();
    let created = contracts::ContractCreated {
        contract_id: contract.clone(),
        client_id: client.account_id.clone(),
        freelancer_id: freelancer.account_id.clone(),
        title: "Logo".into(),
        ..Default::default()
    };
    app.publish_as("contracts", &contract, &created).await;
    let funded = payments::EscrowFunded {
        contract_id: contract.clone(),
        milestone_id: uuid::Uuid::new_v4().to_string(),
        client_id: client.account_id.clone(),
        freelancer_id: freelancer.account_id.clone(),
        amount: Some(Money {
            currency_code: "USD".into(),
            minor_units: 25_000,
        }),
        invoice_id: String::new(),
    };
    app.publish_as("payments", &contract, &funded).await;

    // The contract conversation tells both what happened, as system messages.
    let deadline = Instant::now() + Duration::from_secs(10);
    // (ContractCreated and EscrowFunded come through separate streams, in
    // either order.)
    let system = loop {
        let listed = support::conversations(&app, &freelancer, false).await;
        if let Some(conversation) = listed.iter().find(|c| c.contract_id == contract) {
            let messages = app
                .messaging
                .clone()
                .get_messages(authed(
                    &freelancer.access_token,
                    pb::GetMessagesRequest {
                        conversation_id: conversation.id.clone(),
                        ..Default::default()
                    },
                ))
                .await
                .unwrap()
                .into_inner()
                .messages;
            if let Some(found) = messages
                .into_iter()
                .find(|m| m.system_code == "contract.funded")
            {
                break found;
            }
        }
        assert!(Instant::now() < deadline, "no funded system message");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(system.kind, pb::MessageKind::System as i32);
    assert!(system.sender_id.is_empty());
    assert!(system.text.contains("250.00"), "{}", system.text);

    let later = send(
        &app,
        &client,
        &chat.id,
        "mail me at client@example.com",
        "m-2",
    )
    .await;
    assert!(!later.masked);
    assert_eq!(later.text, "mail me at client@example.com");
}

async fn presence_typing_and_receipts_reach_contacts(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register().await;
    let bob = app.register().await;
    let eve = app.register().await;
    let chat = open(&app, &ada, &bob).await;
    let presence_of = |feed_owner: &TestUser, accounts: Vec<String>| {
        let mut client = app.messaging.clone();
        let request = authed(
            &feed_owner.access_token,
            pb::GetPresenceRequest {
                account_ids: accounts,
            },
        );
        async move {
            client
                .get_presence(request)
                .await
                .unwrap()
                .into_inner()
                .presences
        }
    };
    let state = |p: &pb::Presence| pb::PresenceState::try_from(p.state).unwrap();

    // Opening a conversation, or writing into one, shows nothing: only
    // people who have both written to each other see presence.
    let bob_early = feed(&app, &bob, vec![]).await;
    send(&app, &ada, &chat.id, "hello Bob", "p-0").await;
    let one_sided = presence_of(&ada, vec![bob.account_id.clone()]).await;
    assert_eq!(state(&one_sided[0]), pb::PresenceState::NotShared);
    assert!(one_sided[0].last_seen_time.is_none());
    send(&app, &bob, &chat.id, "hello Ada", "p-00").await;
    drop(bob_early);
    // Bob's first feed is gone before his next one opens: otherwise he never
    // goes offline in between, and there is no coming online to announce.
    let deadline = Instant::now() + Duration::from_secs(10);
    while state(&presence_of(&ada, vec![bob.account_id.clone()]).await[0])
        == pb::PresenceState::Online
    {
        assert!(Instant::now() < deadline, "Bob never went offline");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    let mut ada_feed = feed(&app, &ada, vec![]).await;
    let bob_feed = feed(&app, &bob, vec![]).await;
    // (Bob's first feed going away may still be announced first.)
    let online = next_event(&mut ada_feed, |e| match e {
        pb::subscribe_response::Event::Presence(p)
            if p.account_id == bob.account_id && p.state == pb::PresenceState::Online as i32 =>
        {
            Some(p)
        }
        _ => None,
    })
    .await;
    assert_eq!(state(&online), pb::PresenceState::Online);
    let now = presence_of(&ada, vec![bob.account_id.clone()]).await;
    assert_eq!(state(&now[0]), pb::PresenceState::Online);
    let stranger = presence_of(&eve, vec![bob.account_id.clone()]).await;
    assert_eq!(
        state(&stranger[0]),
        pb::PresenceState::NotShared,
        "only contacts see presence"
    );

    app.messaging
        .clone()
        .set_typing(authed(
            &bob.access_token,
            pb::SetTypingRequest {
                conversation_id: chat.id.clone(),
                typing: true,
            },
        ))
        .await
        .unwrap();
    let typing = next_event(&mut ada_feed, |e| match e {
        pb::subscribe_response::Event::Typing(t) => Some(t),
        _ => None,
    })
    .await;
    assert_eq!(typing.account_id, bob.account_id);
    assert!(typing.typing);

    let sent = send(&app, &ada, &chat.id, "are you there?", "p-1").await;
    let delivered = next_event(&mut ada_feed, |e| match e {
        pb::subscribe_response::Event::Delivered(d) if d.up_to_sequence == sent.sequence => Some(d),
        _ => None,
    })
    .await;
    assert_eq!(delivered.recipient_id, bob.account_id);
    assert_eq!(delivered.up_to_sequence, sent.sequence);

    drop(bob_feed);
    let offline = next_event(&mut ada_feed, |e| match e {
        pb::subscribe_response::Event::Presence(p) if p.account_id == bob.account_id => Some(p),
        _ => None,
    })
    .await;
    assert_eq!(state(&offline), pb::PresenceState::Offline);
    assert!(offline.last_seen_time.is_some());

    app.messaging
        .clone()
        .set_presence_visibility(authed(
            &bob.access_token,
            pb::SetPresenceVisibilityRequest { visible: false },
        ))
        .await
        .unwrap();
    let _bob_again = feed(&app, &bob, vec![]).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let hidden = presence_of(&ada, vec![bob.account_id.clone()]).await;
    assert_eq!(state(&hidden[0]), pb::PresenceState::Hidden);
    assert!(hidden[0].last_seen_time.is_none());
}

async fn a_direct_conversation_needs_a_real_account(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register().await;
    let made_up = app
        .messaging
        .clone()
        .open_direct_conversation(authed(
            &ada.access_token,
            pb::OpenDirectConversationRequest {
                account_id: uuid::Uuid::new_v4().to_string(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(made_up.code(), tonic::Code::NotFound);
    assert_eq!(reason(&made_up), "ACCOUNT_NOT_FOUND");
    assert!(support::conversations(&app, &ada, false).await.is_empty());
}

on_both_backends!(
    a_direct_conversation_needs_a_real_account,
    blocking_stops_direct_messages_both_ways,
    contact_details_are_masked_until_a_contract_is_funded,
    presence_typing_and_receipts_reach_contacts,
);
