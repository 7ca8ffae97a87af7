//! The steps that make real resources through the public API for the
//! ownership table (`ownership`): a published gig, a paid order, a job and
//! a proposal, a contract hired through a proposal, an uploaded file, a
//! conversation with a message, a notification. `world_parts` puts them
//! together into the states the table names.

use std::time::{Duration, Instant};

use frevix_proto::common::v1::Money;
use frevix_proto::contracts::v1 as contracts;
use frevix_proto::marketplace::v1 as market;
use frevix_proto::messaging::v1 as messaging;
use frevix_proto::payments::v1 as payments;
use frevix_testkit::{TestApp, TestUser, authed};

pub fn usd(minor_units: i64) -> Option<Money> {
    Some(Money {
        currency_code: "USD".into(),
        minor_units,
    })
}

pub async fn category(app: &TestApp) -> String {
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

/// A published gig of `freelancer`'s; asking its buyers one optional
/// question when `asks`.
pub async fn gig(app: &TestApp, freelancer: &TestUser, asks: bool) -> String {
    let requirements = if asks {
        vec![market::RequirementQuestion {
            question: "Which colours does your shop use?".into(),
            required: false,
            ..Default::default()
        }]
    } else {
        vec![]
    };
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
                    requirements,
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

/// `client`'s order of `gig`, not paid yet: (contract id, milestone id).
pub async fn placed_order(app: &TestApp, client: &TestUser, gig: &str) -> (String, String) {
    let place = contracts::PlaceOrderRequest {
        gig_id: gig.into(),
        package_tier: market::PackageTier::Basic as i32,
        extra_ids: vec![],
        quantity: 1,
    };
    // Contracts learns of the gig from marketplace's event.
    let order = eventually("the order", || {
        let mut api = app.contracts.clone();
        let request = authed(&client.access_token, place.clone());
        async move { api.place_order(request).await }
    })
    .await
    .into_inner()
    .contract
    .unwrap();
    (order.id.clone(), order.milestones[0].id.clone())
}

/// A paid order of `gig`: (contract id, milestone id).
pub async fn paid_order(app: &TestApp, client: &TestUser, gig: &str) -> (String, String) {
    let (order, milestone) = placed_order(app, client, gig).await;
    fund(app, client, &order, &milestone).await;
    (order, milestone)
}
/// `client` pays `milestone` of `contract` into escrow (once payments
/// knows the contract).
pub async fn fund(app: &TestApp, client: &TestUser, contract: &str, milestone: &str) {
    let fund = payments::FundMilestoneRequest {
        contract_id: contract.into(),
        milestone_id: milestone.into(),
        payment_method: "pm_card_visa".into(),
    };
    eventually("funding", || {
        let mut api = app.payments.clone();
        let request = authed(&client.access_token, fund.clone());
        async move { api.fund_milestone(request).await }
    })
    .await;
}

/// A public job of `client` with `freelancer`'s proposal: (job, proposal),
/// paid by the hour when `hourly`, else one fixed-price milestone.
pub async fn job_and_proposal(
    app: &TestApp,
    client: &TestUser,
    freelancer: &TestUser,
    hourly: bool,
) -> (String, String) {
    let budget = if hourly {
        market::job::Budget::Hourly(market::HourlyRange {
            min: usd(3_000),
            max: usd(6_000),
        })
    } else {
        market::job::Budget::FixedPrice(usd(4_500).unwrap())
    };
    let milestones = if hourly {
        vec![]
    } else {
        vec![market::ProposedMilestone {
            title: "The logo".into(),
            amount: usd(4_500),
            due_in_days: 5,
        }]
    };
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
                    budget: Some(budget),
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
                    milestones,
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

pub async fn upload(app: &TestApp, who: &TestUser) -> String {
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

/// The direct conversation of `from` and `to` (once messaging knows `to`).
pub async fn direct(app: &TestApp, from: &TestUser, to: &TestUser) -> String {
    let open = messaging::OpenDirectConversationRequest {
        account_id: to.account_id.clone(),
    };
    eventually("the conversation", || {
        let mut api = app.messaging.clone();
        let request = authed(&from.access_token, open.clone());
        async move { api.open_direct_conversation(request).await }
    })
    .await
    .into_inner()
    .conversation
    .unwrap()
    .id
}

/// `who` writes `text` into `conversation`, with `attachments`.
pub async fn send(
    app: &TestApp,
    who: &TestUser,
    conversation: &str,
    text: &str,
    attachments: Vec<String>,
) {
    app.messaging
        .clone()
        .send_message(authed(
            &who.access_token,
            messaging::SendMessageRequest {
                conversation_id: conversation.into(),
                text: text.into(),
                client_message_id: format!("{text}-{}", who.account_id),
                attachment_ids: attachments,
                ..Default::default()
            },
        ))
        .await
        .unwrap();
}

/// The conversation of the two, with one message (sequence 1) carrying
/// `media`.
pub async fn conversation(
    app: &TestApp,
    client: &TestUser,
    freelancer: &TestUser,
    media: &str,
) -> String {
    let conversation = direct(app, client, freelancer).await;
    send(
        app,
        client,
        &conversation,
        "Here is the brief.",
        vec![media.into()],
    )
    .await;
    conversation
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

/// `step` retried until it succeeds: what it needs travels as an event
/// (an account reaching messaging, a payment reaching contracts).
pub async fn eventually<T, F, Fut>(what: &str, mut step: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, tonic::Status>>,
{
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match step().await {
            Ok(done) => return done,
            Err(status) => assert!(Instant::now() < deadline, "{what}: {status:?}"),
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// `client` hires `freelancer` through a job and a proposal: the contract
/// once contracts has made it from marketplace's event.
pub async fn hire(
    app: &TestApp,
    client: &TestUser,
    freelancer: &TestUser,
    hourly: bool,
) -> contracts::Contract {
    let (_, proposal) = job_and_proposal(app, client, freelancer, hourly).await;
    let accepted = app
        .marketplace
        .clone()
        .accept_proposal(authed(
            &client.access_token,
            market::AcceptProposalRequest {
                proposal_id: proposal,
            },
        ))
        .await
        .unwrap()
        .into_inner();
    contract_when(app, client, &accepted.contract_id, |_| true).await
}

/// Contract `id` as `who` reads it, once `done` holds of it.
pub async fn contract_when(
    app: &TestApp,
    who: &TestUser,
    id: &str,
    done: impl Fn(&contracts::Contract) -> bool,
) -> contracts::Contract {
    eventually("the contract", || {
        let mut api = app.contracts.clone();
        let request = authed(
            &who.access_token,
            contracts::GetContractRequest {
                contract_id: id.into(),
            },
        );
        let done = &done;
        async move {
            let contract = api
                .get_contract(request)
                .await?
                .into_inner()
                .contract
                .unwrap();
            if done(&contract) {
                Ok(contract)
            } else {
                Err(tonic::Status::unavailable("not yet"))
            }
        }
    })
    .await
}
