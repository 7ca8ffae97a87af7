//! The demo's contracts: each client hires a freelancer on its first job
//! (a fixed-price job contract) and orders a gig, both paid into escrow
//! (`money`); the first client also proposes an extra milestone, ends one
//! order before funding it, and takes the other to the end.

use frevix_proto::contracts::v1 as pb;
use frevix_proto::marketplace::v1 as market;
use tonic::Code;

use super::{Seeder, authed, patiently, usd};

impl Seeder {
    /// The published gigs of each freelancer, in their order.
    pub(super) async fn gigs_of(&self, tokens: &[String]) -> anyhow::Result<Vec<Vec<String>>> {
        let mut gigs = Vec::new();
        for token in tokens {
            let client = self.marketplace.clone();
            let listed = call!(
                client,
                list_my_gigs,
                authed(
                    token,
                    market::ListMyGigsRequest {
                        status: market::GigStatus::Published as i32,
                        ..Default::default()
                    },
                )
            )
            .await?
            .into_inner();
            gigs.push(listed.gigs.into_iter().map(|gig| gig.id).collect());
        }
        Ok(gigs)
    }

    /// Client `index`'s hire and order; says what was made.
    pub(super) async fn contracts(
        &self,
        index: usize,
        token: &str,
        jobs: &[String],
        gigs: &[Vec<String>],
        sellers: &[String],
    ) -> anyhow::Result<String> {
        let mut made = Vec::new();
        if let Some(contract) = self.hire(token, jobs).await? {
            self.fund(token, &contract).await?;
            made.push("a hire (funded)");
            if index == 0 {
                let client = self.contracts.clone();
                let extra = pb::AddMilestoneRequest {
                    contract_id: contract,
                    title: "Admin pages".into(),
                    amount: usd(80_000),
                    due_in_days: 14,
                };
                // The contract opens from marketplace's event, a moment
                // after the hire.
                once_found(|| call!(client, add_milestone, authed(token, extra.clone()))).await?;
                made.push("a milestone proposed");
            }
        }
        // Each freelancer's first gig, with its seller.
        let shops: Vec<(usize, &String)> = gigs
            .iter()
            .enumerate()
            .filter_map(|(seller, g)| g.first().map(|gig| (seller, gig)))
            .collect();
        if shops.is_empty() {
            return Ok(made.join(", "));
        }
        let (seller, gig) = shops[index % shops.len()];
        let order = self
            .order(token, gig, &format!("seed-order-{index}-1"))
            .await?;
        let funded = self.fund(token, &order).await?;
        made.push("a gig order (funded)");
        if index == 0
            && let Some(seller) = sellers.get(seller)
        {
            self.complete(token, seller, &funded).await?;
            made.push("an order delivered and approved");
        }
        if index == 0 {
            let (_, gig) = shops[(index + 1) % shops.len()];
            let order = self.order(token, gig, "seed-order-0-2").await?;
            let client = self.contracts.clone();
            let end = pb::EndContractRequest {
                contract_id: order,
                reason: "Ordered the wrong package.".into(),
            };
            match call!(client, end_contract, authed(token, end.clone())).await {
                Ok(_) => made.push("an order cancelled"),
                // Seeded before: it has ended already.
                Err(status) if status.code() == Code::FailedPrecondition => {}
                Err(status) => return Err(status.into()),
            }
        }
        Ok(made.join(", "))
    }

    /// Accepts the first proposal on the first job; the contract's id.
    async fn hire(&self, token: &str, jobs: &[String]) -> anyhow::Result<Option<String>> {
        let Some(job) = jobs.first() else {
            return Ok(None);
        };
        let client = self.marketplace.clone();
        let listed = call!(
            client,
            list_job_proposals,
            authed(
                token,
                market::ListJobProposalsRequest {
                    job_id: job.clone(),
                    ..Default::default()
                },
            )
        )
        .await?
        .into_inner();
        let Some(proposal) = listed.proposals.first() else {
            return Ok(None);
        };
        let accept = market::AcceptProposalRequest {
            proposal_id: proposal.id.clone(),
        };
        let accepted = call!(client, accept_proposal, authed(token, accept.clone()))
            .await?
            .into_inner();
        Ok(Some(accepted.contract_id))
    }

    /// Orders `gig`'s Basic package once per `key` (a re-run orders
    /// nothing more); the order's contract id.
    async fn order(&self, token: &str, gig: &str, key: &str) -> anyhow::Result<String> {
        let client = self.contracts.clone();
        let request = pb::PlaceOrderRequest {
            gig_id: gig.to_owned(),
            package_tier: market::PackageTier::Basic as i32,
            extra_ids: vec![],
            quantity: 1,
        };
        // Contracts learns of gigs from marketplace's events, a moment after
        // they are published.
        let placed = once_found(|| {
            call!(client, place_order, {
                let mut request = authed(token, request.clone());
                if let Ok(value) = key.parse() {
                    request.metadata_mut().insert("idempotency-key", value);
                }
                request
            })
        })
        .await?
        .into_inner();
        Ok(placed.contract.map(|c| c.id).unwrap_or_default())
    }
}

/// Calls `call` until it finds what it names (NOT_FOUND while another
/// service's event is on its way), for up to 15 seconds.
pub(super) async fn once_found<T, F, Fut>(mut call: F) -> Result<T, tonic::Status>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<T, tonic::Status>>,
{
    for _ in 0..150 {
        match call().await {
            Err(status) if status.code() == Code::NotFound => {
                tokio::time::sleep(std::time::Duration::from_millis(100)).await;
            }
            other => return other,
        }
    }
    call().await
}
