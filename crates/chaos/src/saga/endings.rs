//! The three ways a saga ends, each taken to the point where no money is
//! left in escrow.

use frevix_proto::contracts::v1::{
    self as pb, ContractStatus as C, DisputeStatus, MilestoneStatus as M,
    contract_service_client::ContractServiceClient,
};
use tonic::Code;

use super::{CLIENT_SHARE_BPS, PRICE, Saga, usd};
use crate::api::authed;
use crate::people::Person;
use crate::steps::{milestone, milestone_is, status_is, until, wait};

impl Saga {
    /// Delivered, a revision asked, delivered again, approved, released;
    /// both review.
    pub(super) async fn complete(
        &self,
        buyer: &Person,
        seller: &Person,
        id: &str,
        milestone_id: &str,
    ) -> anyhow::Result<()> {
        let api = &self.api;
        self.deliver(seller, id, milestone_id, 1).await?;
        let revise = pb::RequestRevisionRequest {
            contract_id: id.into(),
            milestone_id: milestone_id.into(),
            reason: "Could the letters be bolder?".into(),
        };
        until(
            api,
            buyer,
            id,
            "RequestRevision",
            |c| milestone(c).is_some_and(|m| m.revisions_used >= 1),
            |channel| {
                let request = authed(&buyer.token, None, revise.clone());
                async move {
                    ContractServiceClient::new(channel)
                        .request_revision(request)
                        .await
                }
            },
        )
        .await?;
        self.deliver(seller, id, milestone_id, 2).await?;
        let approve = pb::ApproveMilestoneRequest {
            contract_id: id.into(),
            milestone_id: milestone_id.into(),
        };
        until(
            api,
            buyer,
            id,
            "ApproveMilestone",
            |c| milestone_is(c, &[M::Approved, M::Settling, M::Released]),
            |channel| {
                let request = authed(&buyer.token, None, approve.clone());
                async move {
                    ContractServiceClient::new(channel)
                        .approve_milestone(request)
                        .await
                }
            },
        )
        .await?;
        wait(api, buyer, id, "COMPLETED", |c| status_is(c, C::Completed)).await?;
        self.review(buyer, id).await?;
        self.review(seller, id).await
    }

    async fn review(&self, who: &Person, id: &str) -> anyhow::Result<()> {
        let review = pb::SubmitReviewRequest {
            contract_id: id.into(),
            rating: 5,
            sub_ratings: vec![],
            comment: "Smooth from start to finish.".into(),
        };
        let answer = self
            .api
            .call("SubmitReview", &[Code::NotFound], |channel| {
                let request = authed(&who.token, None, review.clone());
                async move {
                    ContractServiceClient::new(channel)
                        .submit_review(request)
                        .await
                }
            })
            .await;
        match answer {
            Ok(_) => Ok(()),
            // Reviewed by an attempt whose answer was lost.
            Err(status) if status.code() == Code::AlreadyExists => Ok(()),
            Err(status) => Err(anyhow::anyhow!("SubmitReview on {id}: {status:?}")),
        }
    }

    /// The buyer asks for everything back, the seller agrees.
    pub(super) async fn cancel(
        &self,
        buyer: &Person,
        seller: &Person,
        id: &str,
    ) -> anyhow::Result<()> {
        let api = &self.api;
        let cancel = pb::RequestCancellationRequest {
            contract_id: id.into(),
            reason: "I no longer need a logo.".into(),
            refund: usd(PRICE),
        };
        until(
            api,
            buyer,
            id,
            "RequestCancellation",
            |c| c.cancellation.is_some() || status_is(c, C::Cancelled),
            |channel| {
                let request = authed(&buyer.token, None, cancel.clone());
                async move {
                    ContractServiceClient::new(channel)
                        .request_cancellation(request)
                        .await
                }
            },
        )
        .await?;
        let accept = pb::AcceptCancellationRequest {
            contract_id: id.into(),
        };
        until(
            api,
            seller,
            id,
            "AcceptCancellation",
            |c| status_is(c, C::Cancelled),
            |channel| {
                let request = authed(&seller.token, None, accept.clone());
                async move {
                    ContractServiceClient::new(channel)
                        .accept_cancellation(request)
                        .await
                }
            },
        )
        .await?;
        wait(api, buyer, id, "REFUNDED", |c| {
            milestone_is(c, &[M::Refunded])
        })
        .await?;
        Ok(())
    }

    /// Delivered, disputed by the buyer, split by an admin.
    pub(super) async fn dispute(
        &self,
        buyer: &Person,
        seller: &Person,
        id: &str,
        milestone_id: &str,
    ) -> anyhow::Result<()> {
        let api = &self.api;
        self.deliver(seller, id, milestone_id, 1).await?;
        let open = pb::OpenDisputeRequest {
            contract_id: id.into(),
            reason: "This is not what the package promised.".into(),
            attachment_ids: vec![],
        };
        until(
            api,
            buyer,
            id,
            "OpenDispute",
            |c| c.dispute.is_some(),
            |channel| {
                let request = authed(&buyer.token, None, open.clone());
                async move {
                    ContractServiceClient::new(channel)
                        .open_dispute(request)
                        .await
                }
            },
        )
        .await?;
        let resolve = pb::ResolveDisputeRequest {
            contract_id: id.into(),
            client_share_bps: CLIENT_SHARE_BPS,
            decision: "Half of the work was done as agreed.".into(),
        };
        let admin = self.admin.token().await?;
        until(
            api,
            buyer,
            id,
            "ResolveDispute",
            |c| {
                c.dispute
                    .as_ref()
                    .is_some_and(|d| d.status == DisputeStatus::Resolved as i32)
            },
            |channel| {
                let request = authed(&admin, None, resolve.clone());
                async move {
                    ContractServiceClient::new(channel)
                        .resolve_dispute(request)
                        .await
                }
            },
        )
        .await?;
        wait(api, buyer, id, "SPLIT", |c| milestone_is(c, &[M::Split])).await?;
        Ok(())
    }
}
