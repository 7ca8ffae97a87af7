//! Notifications from other services' events and from messages to offline
//! people: stored, pushed live, and mailed per the account's preferences
//! (through a real SMTP server on PostgreSQL, as `.eml` files on SQLite).

// Tests are written as plain async fns run by on_both_backends!, which
// clippy does not see as tests: a failed expectation should panic here.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::time::{Duration, Instant};

use crate::support::{feed, next_event, open, send};
use frevix_proto::common::v1::Money;
use frevix_proto::contracts::v1 as contracts;
use frevix_proto::marketplace::v1 as marketplace;
use frevix_proto::messaging::v1 as pb;
use frevix_testkit::{Backend, TestApp, TestUser, authed, on_both_backends};

async fn notifications(app: &TestApp, who: &TestUser) -> pb::ListNotificationsResponse {
    app.notifications
        .clone()
        .list_notifications(authed(
            &who.access_token,
            pb::ListNotificationsRequest::default(),
        ))
        .await
        .unwrap()
        .into_inner()
}

/// Waits until `who` has `n` notifications.
async fn wait_for_notifications(app: &TestApp, who: &TestUser, n: usize) -> Vec<pb::Notification> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let listed = notifications(app, who).await.notifications;
        if listed.len() >= n {
            return listed;
        }
        assert!(
            Instant::now() < deadline,
            "{} notifications, not {n}",
            listed.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// The subjects of notification mail to `to` (not identity's sign-up mail).
fn notification_mail(app: &TestApp, to: &str) -> Vec<String> {
    app.mail_to(to)
        .into_iter()
        .map(|m| m.subject)
        .filter(|subject| !subject.contains("verification code"))
        .collect()
}

/// Waits until `n` notification mails went to `to` and returns their subjects.
async fn wait_for_mail(app: &TestApp, to: &str, n: usize) -> Vec<String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mail = notification_mail(app, to);
        if mail.len() >= n {
            return mail;
        }
        assert!(
            Instant::now() < deadline,
            "{} mails to {to}, not {n}",
            mail.len()
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn set_preference(
    app: &TestApp,
    who: &TestUser,
    kind: pb::NotificationKind,
    in_app: bool,
    email: bool,
) {
    let all = app
        .notifications
        .clone()
        .update_notification_preferences(authed(
            &who.access_token,
            pb::UpdateNotificationPreferencesRequest {
                preferences: vec![pb::NotificationPreference {
                    kind: kind as i32,
                    in_app,
                    email,
                }],
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .preferences;
    let mine = all.iter().find(|p| p.kind == kind as i32).unwrap();
    assert_eq!((mine.in_app, mine.email), (in_app, email));
}

fn usd(minor_units: i64) -> Option<Money> {
    Some(Money {
        currency_code: "USD".into(),
        minor_units,
    })
}

/// `client` posts a job, `freelancer` proposes, `client` hires: returns
/// the job and contract ids.
async fn hire(app: &TestApp, client: &TestUser, freelancer: &TestUser) -> (String, String) {
    let category = app
        .marketplace
        .clone()
        .list_categories(marketplace::ListCategoriesRequest {})
        .await
        .unwrap()
        .into_inner()
        .categories
        .into_iter()
        .flat_map(|c| c.children)
        .next()
        .unwrap();
    let job = app
        .marketplace
        .clone()
        .post_job(authed(
            &client.access_token,
            marketplace::PostJobRequest {
                job: Some(marketplace::Job {
                    title: "Bakery logo".into(),
                    description: "A warm, hand-drawn logo for a neighbourhood bakery, with a small style guide.".into(),
                    category_id: category.id,
                    skills: vec!["logo-design".into()],
                    budget: Some(marketplace::job::Budget::FixedPrice(Money {
                        currency_code: "USD".into(),
                        minor_units: 90_000,
                    })),
                    expected_duration: marketplace::ProjectDuration::OneToFourWeeks as i32,
                    experience_level: marketplace::ExperienceLevel::Intermediate as i32,
                    visibility: marketplace::JobVisibility::Public as i32,
                    ..Default::default()
                }),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .job
        .unwrap();
    let proposal =
        app.marketplace
            .clone()
            .submit_proposal(authed(
                &freelancer.access_token,
                marketplace::SubmitProposalRequest {
                    proposal: Some(marketplace::Proposal {
                        job_id: job.id.clone(),
                        cover_letter:
                            "I have drawn logos for four bakeries; here are sketches of my idea."
                                .into(),
                        bid: usd(90_000),
                        estimated_days: 10,
                        milestones: vec![marketplace::ProposedMilestone {
                            title: "Logo and style guide".into(),
                            amount: usd(90_000),
                            due_in_days: 10,
                        }],
                        ..Default::default()
                    }),
                },
            ))
            .await
            .unwrap()
            .into_inner()
            .proposal
            .unwrap();
    let hired = app
        .marketplace
        .clone()
        .accept_proposal(authed(
            &client.access_token,
            marketplace::AcceptProposalRequest {
                proposal_id: proposal.id,
            },
        ))
        .await
        .unwrap()
        .into_inner();
    (job.id, hired.contract_id)
}

async fn events_notify_each_party_as_their_preferences_say(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let client = app.register().await;
    let freelancer = app.register().await;
    // Mail only for new proposals; no mail for being hired.
    set_preference(
        &app,
        &client,
        pb::NotificationKind::ProposalSubmitted,
        false,
        true,
    )
    .await;
    set_preference(
        &app,
        &freelancer,
        pb::NotificationKind::ProposalAccepted,
        true,
        false,
    )
    .await;
    let mut freelancer_feed = feed(&app, &freelancer, vec![]).await;
    // A real hire through marketplace: job, proposal, acceptance.
    let (job, contract) = hire(&app, &client, &freelancer).await;
    app.publish_as(
        "contracts",
        &contract,
        &contracts::ReviewPublished {
            review_id: uuid::Uuid::new_v4().to_string(),
            contract_id: contract.clone(),
            reviewer_id: client.account_id.clone(),
            reviewee_id: freelancer.account_id.clone(),
            reviewer_role: contracts::ReviewerRole::Client as i32,
            rating: 5,
            comment: "Lovely work".into(),
            gig_id: String::new(),
        },
    )
    .await;

    // (Marketplace's and contracts' events come through separate streams.)
    let hired = next_event(&mut freelancer_feed, |e| match e {
        pb::subscribe_response::Event::Notification(n)
            if n.kind == pb::NotificationKind::ProposalAccepted as i32 =>
        {
            Some(n)
        }
        _ => None,
    })
    .await;
    assert_eq!(hired.title, "You were hired for “Bakery logo”");
    assert_eq!(hired.subject_id, contract);

    let listed = wait_for_notifications(&app, &freelancer, 2).await;
    let mut kinds: Vec<i32> = listed.iter().map(|n| n.kind).collect();
    kinds.sort_unstable();
    assert_eq!(
        kinds,
        vec![
            pb::NotificationKind::ProposalAccepted as i32,
            pb::NotificationKind::ReviewPublished as i32,
        ],
    );
    assert!(
        listed[0].create_time.as_ref().unwrap().seconds
            >= listed[1].create_time.as_ref().unwrap().seconds,
        "newest first"
    );
    // The freelancer is mailed the review only; the client the proposal only.
    assert_eq!(
        wait_for_mail(&app, &freelancer.email, 1).await,
        vec!["You got a 5-star review"]
    );
    assert_eq!(
        wait_for_mail(&app, &client.email, 1).await,
        vec!["New proposal on your job"]
    );
    let proposals = app.mail_to(&client.email);
    assert!(
        proposals
            .last()
            .unwrap()
            .raw
            .contains("A freelancer bid USD"),
        "the mail says what happened"
    );
    assert!(!job.is_empty());
    let client_list = notifications(&app, &client).await;
    assert!(client_list.notifications.is_empty(), "mail only");
    assert_eq!(client_list.unread_count, 0);
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(notification_mail(&app, &freelancer.email).len(), 1);

    let marked = app
        .notifications
        .clone()
        .mark_notifications_read(authed(
            &freelancer.access_token,
            pb::MarkNotificationsReadRequest {
                notification_ids: vec![listed[1].id.clone()],
                all: false,
            },
        ))
        .await
        .unwrap()
        .into_inner();
    assert_eq!(marked.unread_count, 1);
    let after = notifications(&app, &freelancer).await;
    assert!(after.notifications[1].read && !after.notifications[0].read);
}

async fn offline_recipients_get_one_digest_per_conversation_an_hour(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let ada = app.register().await;
    let bob = app.register().await;
    let cy = app.register().await;
    let dee = app.register().await;
    let with_bob = open(&app, &ada, &bob).await;
    let with_cy = open(&app, &ada, &cy).await;
    app.messaging
        .clone()
        .update_conversation_settings(authed(
            &cy.access_token,
            pb::UpdateConversationSettingsRequest {
                conversation_id: with_cy.id.clone(),
                muted: Some(true),
                archived: None,
            },
        ))
        .await
        .unwrap();
    for i in 0..3 {
        send(
            &app,
            &ada,
            &with_bob.id,
            &format!("hello {i}"),
            &format!("d-{i}"),
        )
        .await;
        send(
            &app,
            &ada,
            &with_cy.id,
            &format!("hi {i}"),
            &format!("c-{i}"),
        )
        .await;
    }
    // Dee's digest comes after all of the above through the same consumer.
    let with_dee = open(&app, &ada, &dee).await;
    send(&app, &ada, &with_dee.id, "last one", "z-1").await;
    wait_for_notifications(&app, &dee, 1).await;

    let bobs = notifications(&app, &bob).await.notifications;
    assert_eq!(bobs.len(), 1, "one per conversation an hour");
    assert_eq!(bobs[0].kind, pb::NotificationKind::NewMessage as i32);
    assert_eq!(bobs[0].subject_id, with_bob.id);
    assert!(bobs[0].body.contains("hello 0"), "{}", bobs[0].body);
    assert_eq!(wait_for_mail(&app, &bob.email, 1).await.len(), 1);
    assert!(
        notifications(&app, &cy).await.notifications.is_empty(),
        "muted"
    );
    // Someone online is not notified of messages: they see them live.
    let ed = app.register().await;
    let with_ed = open(&app, &ada, &ed).await;
    let mut ed_feed = feed(&app, &ed, vec![]).await;
    send(&app, &ada, &with_ed.id, "you there?", "e-1").await;
    next_event(&mut ed_feed, |e| match e {
        pb::subscribe_response::Event::Message(m) => Some(m),
        _ => None,
    })
    .await;
    send(&app, &ada, &with_dee.id, "after ed", "z-2").await;
    let fen = app.register().await;
    let with_fen = open(&app, &ada, &fen).await;
    send(&app, &ada, &with_fen.id, "marker", "f-1").await;
    wait_for_notifications(&app, &fen, 1).await;
    assert!(notifications(&app, &ed).await.notifications.is_empty());
    assert!(notification_mail(&app, &cy.email).is_empty());
}

on_both_backends!(
    events_notify_each_party_as_their_preferences_say,
    offline_recipients_get_one_digest_per_conversation_an_hour,
);
