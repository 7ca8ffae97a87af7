//! Group conversations, edits and deletes, replies, search, archive and
//! mute, through the gRPC API on both backends.

// Tests are written as plain async fns run by on_both_backends!, which
// clippy does not see as tests: a failed expectation should panic here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use crate::support::{befriend, conversations, feed, group, next_event, open, send, try_send};
use frevix_proto::messaging::v1 as pb;
use frevix_testkit::status::{reason, violated_fields};
use frevix_testkit::{Backend, TestApp, authed, on_both_backends};
use tonic::Code;

async fn admins_manage_groups_and_blocked_people_stay_out(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register().await;
    let bob = app.register().await;
    let cy = app.register().await;
    let dee = app.register().await;
    let eve = app.register().await;
    for friend in [&bob, &cy, &dee] {
        befriend(&app, &ada, friend).await;
    }
    let team = group(&app, &ada, &[&bob, &cy]).await;
    assert_eq!(team.kind, pb::ConversationKind::Group as i32);
    assert_eq!(team.admin_ids, vec![ada.account_id.clone()]);
    assert_eq!(team.member_ids.len(), 3);
    send(&app, &ada, &team.id, "welcome", "w-1").await;
    let mut cy_feed = feed(&app, &cy, vec![]).await;

    let add = |who: &frevix_testkit::TestUser, account: &str| {
        let mut client = app.messaging.clone();
        let request = authed(
            &who.access_token,
            pb::AddMembersRequest {
                conversation_id: team.id.clone(),
                account_ids: vec![account.to_owned()],
            },
        );
        async move { client.add_members(request).await }
    };
    let refused = add(&bob, &dee.account_id).await.unwrap_err();
    assert_eq!(refused.code(), Code::PermissionDenied);
    assert_eq!(reason(&refused), "NOT_GROUP_ADMIN");

    let added = add(&ada, &dee.account_id).await.unwrap().into_inner();
    assert_eq!(added.conversation.unwrap().member_ids.len(), 4);
    // The newcomer sees the history but starts with nothing unread.
    let dee_view = conversations(&app, &dee, false).await;
    let dee_group: Vec<_> = dee_view.iter().filter(|c| c.id == team.id).collect();
    assert_eq!(dee_group.len(), 1);
    assert_eq!(dee_group[0].unread_count, 0);
    // Cy's feed hears of the change.
    let change = next_event(&mut cy_feed, |e| match e {
        pb::subscribe_response::Event::Conversation(c) => Some(c),
        _ => None,
    })
    .await;
    assert_eq!(change.conversation.unwrap().member_ids.len(), 4);
    // Sends are checked against the members as they are now (the group's
    // members were kept for the first message).
    send(&app, &dee, &team.id, "hello all", "d-1").await;

    // Someone who blocked Ada cannot be added by her.
    app.messaging
        .clone()
        .block_account(authed(
            &eve.access_token,
            pb::BlockAccountRequest {
                account_id: ada.account_id.clone(),
            },
        ))
        .await
        .unwrap();
    let blocked = add(&ada, &eve.account_id).await.unwrap_err();
    assert_eq!(blocked.code(), Code::FailedPrecondition);
    assert_eq!(reason(&blocked), "BLOCKED");

    // Ada removes Cy, who then sees nothing of the group.
    app.messaging
        .clone()
        .remove_member(authed(
            &ada.access_token,
            pb::RemoveMemberRequest {
                conversation_id: team.id.clone(),
                account_id: cy.account_id.clone(),
            },
        ))
        .await
        .unwrap();
    let gone = app
        .messaging
        .clone()
        .get_conversation(authed(
            &cy.access_token,
            pb::GetConversationRequest {
                conversation_id: team.id.clone(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(gone.code(), Code::NotFound);
    let cy_writes = pb::SendMessageRequest {
        conversation_id: team.id.clone(),
        text: "still here?".into(),
        client_message_id: "c-1".into(),
        ..Default::default()
    };
    let refused = try_send(&app, &cy, cy_writes).await.unwrap_err();
    assert_eq!(
        refused.code(),
        Code::NotFound,
        "a removed member still sent"
    );

    // The last admin leaves: someone else takes over.
    app.messaging
        .clone()
        .remove_member(authed(
            &ada.access_token,
            pb::RemoveMemberRequest {
                conversation_id: team.id.clone(),
                account_id: ada.account_id.clone(),
            },
        ))
        .await
        .unwrap();
    let after = &conversations(&app, &bob, false).await[0];
    assert_eq!(after.member_ids.len(), 2);
    assert_eq!(after.admin_ids.len(), 1);
    assert!(after.member_ids.contains(&after.admin_ids[0]));
}

async fn senders_edit_within_the_window_and_deletes_are_gone_for_everyone(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register().await;
    let bob = app.register().await;
    let chat = open(&app, &ada, &bob).await;
    let first = send(&app, &ada, &chat.id, "the draft is redy", "e-1").await;
    let mut bob_feed = feed(&app, &bob, vec![]).await;
    let edit = |who: &frevix_testkit::TestUser, seq: i64, text: &str| {
        let mut client = app.messaging.clone();
        let request = authed(
            &who.access_token,
            pb::EditMessageRequest {
                conversation_id: chat.id.clone(),
                sequence: seq,
                text: text.to_owned(),
            },
        );
        async move { client.edit_message(request).await }
    };
    let edited = edit(&ada, first.sequence, "the draft is ready")
        .await
        .unwrap()
        .into_inner()
        .message
        .unwrap();
    assert_eq!(edited.text, "the draft is ready");
    assert!(edited.edit_time.is_some());
    assert_eq!(edited.sequence, first.sequence);
    let changed = next_event(&mut bob_feed, |e| match e {
        pb::subscribe_response::Event::Changed(c) => c.message,
        _ => None,
    })
    .await;
    assert_eq!(changed.text, "the draft is ready");

    let history = |who: &frevix_testkit::TestUser| {
        let mut client = app.messaging.clone();
        let request = authed(
            &who.access_token,
            pb::ListMessageEditsRequest {
                conversation_id: chat.id.clone(),
                sequence: first.sequence,
            },
        );
        async move {
            client
                .list_message_edits(request)
                .await
                .unwrap()
                .into_inner()
                .edits
        }
    };
    let edits = history(&bob).await;
    assert_eq!(edits.len(), 1);
    assert_eq!(edits[0].text, "the draft is redy");

    let not_mine = edit(&bob, first.sequence, "hijacked").await.unwrap_err();
    assert_eq!(not_mine.code(), Code::PermissionDenied);
    assert_eq!(reason(&not_mine), "NOT_SENDER");

    let reply = try_send(
        &app,
        &bob,
        pb::SendMessageRequest {
            conversation_id: chat.id.clone(),
            text: "great".into(),
            client_message_id: "r-1".into(),
            reply_to_sequence: first.sequence,
            ..Default::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(reply.reply_to_sequence, first.sequence);
    let bad = try_send(
        &app,
        &bob,
        pb::SendMessageRequest {
            conversation_id: chat.id.clone(),
            text: "to the future".into(),
            client_message_id: "r-2".into(),
            reply_to_sequence: 99,
            attachment_ids: vec!["not-an-id".into()],
        },
    )
    .await
    .unwrap_err();
    assert_eq!(bad.code(), Code::InvalidArgument);
    assert_eq!(violated_fields(&bad), vec!["attachment_ids[0]"]);

    let deleted = app
        .messaging
        .clone()
        .delete_message(authed(
            &ada.access_token,
            pb::DeleteMessageRequest {
                conversation_id: chat.id.clone(),
                sequence: first.sequence,
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .message
        .unwrap();
    assert!(deleted.deleted);
    assert_eq!(deleted.text, "");
    assert!(history(&bob).await.is_empty(), "earlier texts go too");
    let seen_by_bob = app
        .messaging
        .clone()
        .get_messages(authed(
            &bob.access_token,
            pb::GetMessagesRequest {
                conversation_id: chat.id.clone(),
                ..Default::default()
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .messages;
    assert_eq!(seen_by_bob.len(), 2, "the sequence stays");
    assert!(seen_by_bob[0].deleted && seen_by_bob[0].text.is_empty());
    let too_late = edit(&ada, first.sequence, "back").await.unwrap_err();
    assert_eq!(reason(&too_late), "MESSAGE_DELETED");

    // With no edit window at all, edits are refused.
    let strict = TestApp::spawn_with(backend, |c| c.messaging.edit_window_secs = 0).await;
    let ada = strict.register().await;
    let bob = strict.register().await;
    let chat = open(&strict, &ada, &bob).await;
    let sent = send(&strict, &ada, &chat.id, "final answer", "f-1").await;
    let refused = strict
        .messaging
        .clone()
        .edit_message(authed(
            &ada.access_token,
            pb::EditMessageRequest {
                conversation_id: chat.id.clone(),
                sequence: sent.sequence,
                text: "changed my mind".into(),
            },
        ))
        .await
        .unwrap_err();
    assert_eq!(refused.code(), Code::FailedPrecondition);
    assert_eq!(reason(&refused), "EDIT_WINDOW_PASSED");
}

async fn search_finds_words_in_the_callers_conversations_only(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register().await;
    let bob = app.register().await;
    let eve = app.register().await;
    let chat = open(&app, &ada, &bob).await;
    send(&app, &ada, &chat.id, "Here is the logo draft", "s-1").await;
    send(&app, &bob, &chat.id, "Invoice attached", "s-2").await;
    let secret = send(&app, &ada, &chat.id, "another logotype idea", "s-3").await;
    let search = |who: &frevix_testkit::TestUser, query: &str| {
        let mut client = app.messaging.clone();
        let request = authed(
            &who.access_token,
            pb::SearchMessagesRequest {
                query: query.to_owned(),
                ..Default::default()
            },
        );
        async move { client.search_messages(request).await }
    };
    let found = search(&bob, "LOGO").await.unwrap().into_inner().messages;
    let texts: Vec<&str> = found.iter().map(|m| m.text.as_str()).collect();
    assert_eq!(
        texts,
        vec!["another logotype idea", "Here is the logo draft"]
    );
    let both = search(&bob, "logo draft")
        .await
        .unwrap()
        .into_inner()
        .messages;
    assert_eq!(both.len(), 1);
    assert!(
        search(&eve, "logo")
            .await
            .unwrap()
            .into_inner()
            .messages
            .is_empty()
    );
    let empty = search(&bob, " ?! ").await.unwrap_err();
    assert_eq!(violated_fields(&empty), vec!["query"]);

    app.messaging
        .clone()
        .delete_message(authed(
            &ada.access_token,
            pb::DeleteMessageRequest {
                conversation_id: chat.id.clone(),
                sequence: secret.sequence,
            },
        ))
        .await
        .unwrap();
    let after = search(&bob, "logo").await.unwrap().into_inner().messages;
    assert_eq!(after.len(), 1, "deleted messages are not found");
}

async fn archived_conversations_step_aside_until_a_new_message(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register().await;
    let bob = app.register().await;
    let chat = open(&app, &ada, &bob).await;
    send(&app, &ada, &chat.id, "hi", "a-1").await;
    let settings = app
        .messaging
        .clone()
        .update_conversation_settings(authed(
            &bob.access_token,
            pb::UpdateConversationSettingsRequest {
                conversation_id: chat.id.clone(),
                archived: Some(true),
                muted: Some(true),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .conversation
        .unwrap();
    assert!(settings.archived && settings.muted);
    assert!(conversations(&app, &bob, false).await.is_empty());
    assert_eq!(conversations(&app, &bob, true).await.len(), 1);
    assert_eq!(
        conversations(&app, &ada, false).await.len(),
        1,
        "archive is per member"
    );
    send(&app, &ada, &chat.id, "still there?", "a-2").await;
    let back = conversations(&app, &bob, false).await;
    assert_eq!(back.len(), 1, "a new message brings it back");
    assert!(back[0].muted, "mute stays");
}

async fn strangers_are_not_put_in_groups_and_group_creation_is_limited(backend: Backend) {
    let app = TestApp::spawn_with(backend, |config| {
        config.messaging.groups_per_minute = 1;
    })
    .await;
    let ada = app.register().await;
    let bob = app.register().await;
    let create = || {
        let mut client = app.messaging.clone();
        let request = authed(
            &ada.access_token,
            pb::CreateGroupConversationRequest {
                title: "Launch team".into(),
                member_ids: vec![bob.account_id.clone()],
            },
        );
        async move { client.create_group_conversation(request).await }
    };
    let stranger = create().await.unwrap_err();
    assert_eq!(stranger.code(), Code::FailedPrecondition);
    assert_eq!(reason(&stranger), "NOT_A_CONTACT");
    assert!(conversations(&app, &bob, false).await.is_empty());

    // Writing one way is not talking: Bob has to answer.
    let direct = open(&app, &ada, &bob).await;
    send(&app, &ada, &direct.id, "want to join my team?", "t-1").await;
    assert_eq!(reason(&create().await.unwrap_err()), "NOT_A_CONTACT");
    send(&app, &bob, &direct.id, "sure", "t-2").await;

    // Five groups at once (the burst), then the limit (one a minute).
    let mut outcomes = Vec::new();
    for _ in 0..6 {
        outcomes.push(create().await.map(|_| ()).map_err(|e| reason(&e)));
    }
    let mut expected = vec![Ok(()); 5];
    expected.push(Err("RATE_LIMITED".to_owned()));
    assert_eq!(outcomes, expected);
}

async fn an_account_in_seventy_thousand_conversations_still_lists_them(backend: Backend) {
    use sea_orm::{ConnectionTrait, Statement};
    use secrecy::ExposeSecret;

    let app = TestApp::spawn(backend).await;
    let ada = app.register().await;
    let bob = app.register().await;
    befriend(&app, &ada, &bob).await;
    // More memberships than a statement may carry as parameters on either
    // database (SQLite 32766, PostgreSQL 65535), made in the database.
    let db = sea_orm::Database::connect(app.config.messaging.database.url.expose_secret())
        .await
        .unwrap();
    let backend_kind = db.get_database_backend();
    let now = chrono::Utc::now();
    let ada_id = uuid::Uuid::parse_str(&ada.account_id).unwrap();
    let (conversations_sql, members_sql) = match backend_kind {
        sea_orm::DatabaseBackend::Postgres => (
            "INSERT INTO conversations (id, kind, title, last_seq, created_at, last_activity_at, change_seq) \
             SELECT gen_random_uuid(), 'GROUP', 'bulk', 0, $1, $1, 0 FROM generate_series(1, 70000)",
            "INSERT INTO members (conversation_id, account_id, last_read_seq, joined_at, admin, archived, muted) \
             SELECT id, $1, 0, $2, false, false, false FROM conversations WHERE title = 'bulk'",
        ),
        _ => (
            "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 70000) \
             INSERT INTO conversations (id, kind, title, last_seq, created_at, last_activity_at, change_seq) \
             SELECT randomblob(16), 'GROUP', 'bulk', 0, ?1, ?1, 0 FROM n",
            "INSERT INTO members (conversation_id, account_id, last_read_seq, joined_at, admin, archived, muted) \
             SELECT id, ?1, 0, ?2, false, false, false FROM conversations WHERE title = 'bulk'",
        ),
    };
    db.execute_raw(Statement::from_sql_and_values(
        backend_kind,
        conversations_sql,
        [now.into()],
    ))
    .await
    .unwrap();
    db.execute_raw(Statement::from_sql_and_values(
        backend_kind,
        members_sql,
        [ada_id.into(), now.into()],
    ))
    .await
    .unwrap();

    let listed = conversations(&app, &ada, false).await;
    assert!(!listed.is_empty());
    let presence = app
        .messaging
        .clone()
        .get_presence(authed(
            &ada.access_token,
            pb::GetPresenceRequest {
                account_ids: vec![bob.account_id.clone()],
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(presence.presences.len(), 1);
    // A live feed opens and answers too.
    let mut ada_feed = feed(&app, &ada, vec![]).await;
    let direct = open(&app, &bob, &ada).await;
    send(&app, &bob, &direct.id, "still there?", "bulk-1").await;
    next_event(&mut ada_feed, |e| match e {
        pb::subscribe_response::Event::Message(m) if m.text == "still there?" => Some(m),
        _ => None,
    })
    .await;
}

on_both_backends!(
    strangers_are_not_put_in_groups_and_group_creation_is_limited,
    an_account_in_seventy_thousand_conversations_still_lists_them,
    admins_manage_groups_and_blocked_people_stay_out,
    senders_edit_within_the_window_and_deletes_are_gone_for_everyone,
    search_finds_words_in_the_callers_conversations_only,
    archived_conversations_step_aside_until_a_new_message,
);
