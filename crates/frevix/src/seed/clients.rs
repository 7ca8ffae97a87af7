//! The demo's clients: each posts two jobs, and three freelancers propose
//! on each.

use anyhow::Context as _;
use frevix_proto::common::v1::Money;
use frevix_proto::identity::v1 as identity;
use frevix_proto::marketplace::v1 as market;
use rand::seq::SliceRandom;
use tonic::Code;

use super::{LAST, Seeder, authed, patiently, usd};

impl Seeder {
    /// Client `index` with two jobs and their proposals: its email, token
    /// and the jobs' ids.
    pub(super) async fn client(
        &mut self,
        index: usize,
        category: &str,
        freelancer_tokens: &[String],
    ) -> anyhow::Result<(String, String, Vec<String>)> {
        let email = format!("client{}@demo.frevix.dev", index + 1);
        let company = format!("{} Labs", LAST[index % LAST.len()]);
        let token = self
            .account(&email, &company, &[identity::Role::Client])
            .await?;
        let mut jobs = Vec::new();
        for (title, budget) in [
            ("Build our customer portal", 400_000),
            ("Speed up our web shop", 150_000),
        ] {
            let job = market::Job {
                title: format!("{title} ({company})"),
                description: format!(
                    "{company} needs an experienced freelancer to {}. We value tests, docs and clear updates.",
                    title.to_lowercase()
                ),
                category_id: category.to_owned(),
                skills: vec!["typescript".into(), "postgresql".into()],
                budget: Some(market::job::Budget::FixedPrice(Money {
                    currency_code: "USD".into(),
                    minor_units: budget,
                })),
                expected_duration: market::ProjectDuration::OneToFourWeeks as i32,
                experience_level: market::ExperienceLevel::Intermediate as i32,
                visibility: market::JobVisibility::Public as i32,
                ..Default::default()
            };
            let client = self.marketplace.clone();
            let posted = call!(
                client,
                post_job,
                authed(
                    &token,
                    market::PostJobRequest {
                        job: Some(job.clone()),
                    },
                )
            )
            .await?
            .into_inner()
            .job
            .context("no job")?;
            for proposer in freelancer_tokens.choose_multiple(&mut self.rng, 3) {
                let half = budget / 2;
                let proposal = market::Proposal {
                    job_id: posted.id.clone(),
                    cover_letter: "I have built very similar systems; here is my plan, with milestones you can check.".into(),
                    bid: usd(budget),
                    estimated_days: 21,
                    milestones: vec![
                        market::ProposedMilestone { title: "First working version".into(), amount: usd(half), due_in_days: 10 },
                        market::ProposedMilestone { title: "Launch".into(), amount: usd(budget - half), due_in_days: 21 },
                    ],
                    ..Default::default()
                };
                let submitted = call!(
                    client,
                    submit_proposal,
                    authed(
                        proposer,
                        market::SubmitProposalRequest {
                            proposal: Some(proposal.clone()),
                        },
                    )
                )
                .await;
                if let Err(status) = submitted
                    && status.code() != Code::AlreadyExists
                {
                    return Err(status.into());
                }
            }
            jobs.push(posted.id);
        }
        Ok((email, token, jobs))
    }
}
