//! The resources a stranger tries (`strangers`): a client and a freelancer
//! with a published gig, a paid order of it, a job with the freelancer's
//! proposal, their conversation with a message, an uploaded file, a
//! notification, and a session — made through the public API.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use frevix_proto::common::v1::Money;
use frevix_proto::contracts::v1 as contracts;
use frevix_proto::marketplace::v1 as market;
use frevix_proto::messaging::v1 as messaging;
use frevix_proto::payments::v1 as payments;
use frevix_testkit::{TestApp, TestUser, authed};

pub struct World {
    /// Request field name → the id to put in it.
    pub ids: BTreeMap<&'static str, String>,
    pub freelancer: TestUser,
}

fn usd(minor_units: i64) -> Option<Money> {
    Some(Money {
        currency_code: "USD".into(),
        minor_units,
    })
}

async fn category(app: &TestApp) -> String {
    let categories = app
        .marketplace
        .clone()
        .list_categories(market::ListCategoriesRequest {})
        .await
        .unwrap()
        .into_inner()
        .categories;
    let top = &categories[0];
    top.children.first().unwrap_or(top).id.clone()
}

async fn gig(app: &TestApp, freelancer: &TestUser) -> String {
    let mut marketplace = app.marketplace.clone();
    let gig = marketplace
        .create_gig(authed(
            &freelancer.access_token,
            market::CreateGigRequest {
                gig: Some(market::Gig {
                    title: "A hand-drawn logo for your shop".into(),
                    description: "A logo drawn by hand, delivered as SVG and PNG files.".into(),
                    category_id: category(app).await,
                    packages: vec![market::GigPackage {
                        tier: market::PackageTier::Basic as i32,
                        name: "Basic".into(),
                        description: "One concept".into(),
                        price: usd(4_500),
                        delivery_days: 3,
                        revisions: 1,
                        features: vec![],
                    }],
                    ..Default::default()
                }),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .gig
        .unwrap();
    marketplace
        .publish_gig(authed(
            &freelancer.access_token,
            market::PublishGigRequest {
                gig_id: gig.id.clone(),
            },
        ))
        .await
        .unwrap();
    gig.id
}

/// A paid order of `gig`: (contract id, milestone id).
async fn paid_order(app: &TestApp, client: &TestUser, gig: &str) -> (String, String) {
    let place = contracts::PlaceOrderRequest {
        gig_id: gig.into(),
        package_tier: market::PackageTier::Basic as i32,
        extra_ids: vec![],
        quantity: 1,
    };
    // Contracts learns of the gig from marketplace's event.
    let deadline = Instant::now() + Duration::from_secs(15);
    let order = loop {
        match app
            .contracts
            .clone()
            .place_order(authed(&client.access_token, place.clone()))
            .await
        {
            Ok(answer) => break answer.into_inner().contract.unwrap(),
            Err(status) if Instant::now() < deadline => {
                let _ = status;
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
            Err(status) => panic!("{status:?}"),
        }
    };
    let milestone = order.milestones[0].id.clone();
    let fund = payments::FundMilestoneRequest {
        contract_id: order.id.clone(),
        milestone_id: milestone.clone(),
        payment_method: "pm_card_visa".into(),
    };
    let deadline = Instant::now() + Duration::from_secs(15);
    while let Err(status) = app
        .payments
        .clone()
        .fund_milestone(authed(&client.access_token, fund.clone()))
        .await
    {
        assert!(Instant::now() < deadline, "{status:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (order.id, milestone)
}

/// A public job of `client` with `freelancer`'s proposal: (job, proposal).
async fn job_and_proposal(
    app: &TestApp,
    client: &TestUser,
    freelancer: &TestUser,
) -> (String, String) {
    let mut marketplace = app.marketplace.clone();
    let job = marketplace
        .post_job(authed(
            &client.access_token,
            market::PostJobRequest {
                job: Some(market::Job {
                    title: "Redraw our logo by hand".into(),
                    description: "Our logo needs a hand-drawn refresh, delivered as SVG and PNG."
                        .into(),
                    category_id: category(app).await,
                    skills: vec!["typescript".into()],
                    budget: Some(market::job::Budget::FixedPrice(usd(4_500).unwrap())),
                    expected_duration: market::ProjectDuration::LessThanAWeek as i32,
                    experience_level: market::ExperienceLevel::Intermediate as i32,
                    visibility: market::JobVisibility::Public as i32,
                    ..Default::default()
                }),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .job
        .unwrap();
    let proposal = marketplace
        .submit_proposal(authed(
            &freelancer.access_token,
            market::SubmitProposalRequest {
                proposal: Some(market::Proposal {
                    job_id: job.id.clone(),
                    cover_letter: "I draw logos by hand; one milestone within a week.".into(),
                    bid: usd(4_500),
                    estimated_days: 5,
                    milestones: vec![market::ProposedMilestone {
                        title: "The logo".into(),
                        amount: usd(4_500),
                        due_in_days: 5,
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
    (job.id, proposal.id)
}

async fn upload(app: &TestApp, who: &TestUser) -> String {
    use messaging::upload_request::Part;
    let text = b"The brief, as a plain text file.".to_vec();
    let frames = vec![
        messaging::UploadRequest {
            part: Some(Part::Header(messaging::UploadHeader {
                name: "brief.txt".into(),
                content_type: "text/plain".into(),
                size_bytes: text.len() as i64,
            })),
        },
        messaging::UploadRequest {
            part: Some(Part::Chunk(text.into())),
        },
    ];
    app.media
        .clone()
        .upload(authed(&who.access_token, tokio_stream::iter(frames)))
        .await
        .unwrap()
        .into_inner()
        .media
        .unwrap()
        .id
}

/// The conversation of the two, with one message carrying `media`.
async fn conversation(
    app: &TestApp,
    client: &TestUser,
    freelancer: &TestUser,
    media: &str,
) -> String {
    let mut chat = app.messaging.clone();
    let open = messaging::OpenDirectConversationRequest {
        account_id: freelancer.account_id.clone(),
    };
    // Messaging learns of the account from identity's event.
    let deadline = Instant::now() + Duration::from_secs(15);
    let conversation = loop {
        match chat
            .open_direct_conversation(authed(&client.access_token, open.clone()))
            .await
        {
            Ok(answer) => break answer.into_inner().conversation.unwrap(),
            Err(status) => assert!(Instant::now() < deadline, "{status:?}"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    chat.send_message(authed(
        &client.access_token,
        messaging::SendMessageRequest {
            conversation_id: conversation.id.clone(),
            text: "Here is the brief.".into(),
            client_message_id: "brief-1".into(),
            attachment_ids: vec![media.into()],
            ..Default::default()
        },
    ))
    .await
    .unwrap();
    conversation.id
}

/// One of `who`'s notifications, once there is one.
pub async fn notification(app: &TestApp, who: &TestUser) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let listed = app
            .notifications
            .clone()
            .list_notifications(authed(
                &who.access_token,
                messaging::ListNotificationsRequest::default(),
            ))
            .await
            .unwrap()
            .into_inner()
            .notifications;
        if let Some(first) = listed.first() {
            return first.id.clone();
        }
        assert!(Instant::now() < deadline, "no notification came");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

pub async fn world(app: &TestApp) -> World {
    let client = app.register().await;
    let freelancer = app.register().await;
    let gig = gig(app, &freelancer).await;
    let (contract, milestone) = paid_order(app, &client, &gig).await;
    let (job, proposal) = job_and_proposal(app, &client, &freelancer).await;
    let media = upload(app, &client).await;
    let conversation = conversation(app, &client, &freelancer, &media).await;
    let notification = notification(app, &freelancer).await;
    let ids = [
        ("gig_id", gig),
        ("contract_id", contract),
        ("milestone_id", milestone),
        ("job_id", job),
        ("proposal_id", proposal),
        ("media_id", media.clone()),
        ("attachment_ids", media),
        ("conversation_id", conversation),
        ("notification_ids", notification),
        ("session_id", freelancer.session_id.clone()),
        ("account_id", freelancer.account_id.clone()),
        ("account_ids", freelancer.account_id.clone()),
        ("member_ids", freelancer.account_id.clone()),
        ("reviewee_id", freelancer.account_id.clone()),
    ]
    .into_iter()
    .collect();
    World { ids, freelancer }
}
