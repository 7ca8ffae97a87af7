//! The other way in: the buyer posts a fixed-price job, the seller proposes
//! one milestone at [`PRICE`], the buyer accepts, and contracts makes the
//! contract from marketplace's event (its id is in the accept's answer).

use anyhow::{Context as _, anyhow};
use frevix_proto::contracts::v1 as pb;
use frevix_proto::marketplace::v1::{
    self as market, marketplace_service_client::MarketplaceServiceClient,
};

use super::{PRICE, Saga, usd};
use crate::api::authed;
use crate::people::Person;
use crate::steps::contract;

impl Saga {
    pub(super) async fn hire(
        &self,
        buyer: &Person,
        seller: &Person,
    ) -> anyhow::Result<pb::Contract> {
        let api = &self.api;
        let job = market::Job {
            title: format!("Redraw our logo, saga {}", self.name),
            description: "Our logo needs a hand-drawn refresh, delivered as SVG and PNG.".into(),
            category_id: self.category().await?,
            skills: vec!["typescript".into()],
            budget: Some(market::job::Budget::FixedPrice(
                usd(PRICE).unwrap_or_default(),
            )),
            expected_duration: market::ProjectDuration::LessThanAWeek as i32,
            experience_level: market::ExperienceLevel::Intermediate as i32,
            visibility: market::JobVisibility::Public as i32,
            ..Default::default()
        };
        let post = market::PostJobRequest { job: Some(job) };
        let key = format!("job-{}", self.name);
        let job = api
            .call("PostJob", &[], |channel| {
                let request = authed(&buyer.token, Some(&key), post.clone());
                async move {
                    MarketplaceServiceClient::new(channel)
                        .post_job(request)
                        .await
                }
            })
            .await
            .context("PostJob")?
            .job
            .ok_or_else(|| anyhow!("PostJob answered no job"))?;
        let propose = market::SubmitProposalRequest {
            proposal: Some(market::Proposal {
                job_id: job.id.clone(),
                cover_letter: "I draw logos by hand; one milestone, delivered within a week."
                    .into(),
                bid: usd(PRICE),
                estimated_days: 5,
                milestones: vec![market::ProposedMilestone {
                    title: "The logo".into(),
                    amount: usd(PRICE),
                    due_in_days: 5,
                }],
                ..Default::default()
            }),
        };
        let key = format!("proposal-{}", self.name);
        let proposal = api
            .call("SubmitProposal", &[], |channel| {
                let request = authed(&seller.token, Some(&key), propose.clone());
                async move {
                    MarketplaceServiceClient::new(channel)
                        .submit_proposal(request)
                        .await
                }
            })
            .await
            .context("SubmitProposal")?
            .proposal
            .ok_or_else(|| anyhow!("SubmitProposal answered no proposal"))?;
        let accept = market::AcceptProposalRequest {
            proposal_id: proposal.id,
        };
        let key = format!("accept-{}", self.name);
        let accepted = api
            .call("AcceptProposal", &[], |channel| {
                let request = authed(&buyer.token, Some(&key), accept.clone());
                async move {
                    MarketplaceServiceClient::new(channel)
                        .accept_proposal(request)
                        .await
                }
            })
            .await
            .context("AcceptProposal")?;
        // NOT_FOUND until contracts has marketplace's event.
        contract(api, buyer, &accepted.contract_id).await
    }
}
