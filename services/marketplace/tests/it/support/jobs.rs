//! Posting a job and proposing on it, as the tests of jobs, proposals and
//! idempotent hiring need.

use frevix_proto::common::v1::Money;
use frevix_proto::marketplace::v1 as pb;
use frevix_testkit::{TestApp, TestUser, authed};

use super::{subcategory, usd};

pub async fn post(app: &TestApp, client: &TestUser, visibility: pb::JobVisibility) -> pb::Job {
    let category = subcategory(app, "web-development").await;
    app.marketplace
        .clone()
        .post_job(authed(
            &client.access_token,
            pb::PostJobRequest {
                job: Some(pb::Job {
                    title: "Build our booking API in Rust".into(),
                    description: "We need a gRPC booking service with Postgres, tests and a deployment guide.".into(),
                    category_id: category,
                    skills: vec!["rust".into(), "postgresql".into()],
                    budget: Some(pb::job::Budget::FixedPrice(Money {
                        currency_code: "USD".into(),
                        minor_units: 300_000,
                    })),
                    expected_duration: pb::ProjectDuration::OneToFourWeeks as i32,
                    experience_level: pb::ExperienceLevel::Expert as i32,
                    visibility: visibility as i32,
                    ..Default::default()
                }),
            },
        ))
        .await
        .unwrap()
        .into_inner()
        .job
        .unwrap()
}

pub fn proposal(job: &pb::Job, parts: &[i64]) -> pb::Proposal {
    pb::Proposal {
        job_id: job.id.clone(),
        cover_letter: "I have shipped three booking systems in Rust; here is how I would do yours."
            .into(),
        bid: usd(parts.iter().sum()),
        estimated_days: 20,
        milestones: parts
            .iter()
            .enumerate()
            .map(|(i, amount)| pb::ProposedMilestone {
                title: format!("Milestone {}", i + 1),
                amount: usd(*amount),
                due_in_days: 10 * (i as i32 + 1),
            })
            .collect(),
        ..Default::default()
    }
}

pub async fn submit(
    app: &TestApp,
    freelancer: &TestUser,
    proposal: pb::Proposal,
) -> Result<pb::Proposal, tonic::Status> {
    app.marketplace
        .clone()
        .submit_proposal(authed(
            &freelancer.access_token,
            pb::SubmitProposalRequest {
                proposal: Some(proposal),
            },
        ))
        .await
        .map(|r| r.into_inner().proposal.unwrap())
}
