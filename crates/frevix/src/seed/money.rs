//! The demo's money, moved with the sandbox provider's test card: every
//! hire's first milestone and every gig order paid into escrow, and the
//! first client's order taken to the end (requirements, delivery,
//! approval), so its seller has earnings and both have a receipt.

use frevix_proto::contracts::v1 as pb;
use frevix_proto::payments::v1 as payments;
use tonic::Code;

use super::contracts::once_found;
use super::{Seeder, authed, patiently};

impl Seeder {
    /// Pays `contract`'s first milestone into escrow and waits until the
    /// contract shows it funded; says nothing if it was paid before.
    pub(super) async fn fund(&self, token: &str, contract: &str) -> anyhow::Result<pb::Contract> {
        let seen = self.contract(token, contract).await?;
        let milestone = seen
            .milestones
            .first()
            .map(|m| m.id.clone())
            .unwrap_or_default();
        let request = payments::FundMilestoneRequest {
            contract_id: contract.to_owned(),
            milestone_id: milestone.clone(),
            payment_method: "pm_card_visa".into(),
        };
        // Payments learns of the contract from contracts' event.
        let client = self.payments.clone();
        match once_found(|| call!(client, fund_milestone, authed(token, request.clone()))).await {
            Ok(_) => {}
            Err(status) if status.code() == Code::FailedPrecondition => {}
            Err(status) => return Err(status.into()),
        }
        for _ in 0..150 {
            let seen = self.contract(token, contract).await?;
            if seen
                .milestones
                .first()
                .is_some_and(|m| m.status != pb::MilestoneStatus::Pending as i32)
            {
                return Ok(seen);
            }
            tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        }
        anyhow::bail!("contract {contract} was never funded")
    }

    async fn contract(&self, token: &str, contract: &str) -> anyhow::Result<pb::Contract> {
        let client = self.contracts.clone();
        let request = pb::GetContractRequest {
            contract_id: contract.to_owned(),
        };
        let answer = once_found(|| call!(client, get_contract, authed(token, request.clone())))
            .await?
            .into_inner();
        answer
            .contract
            .ok_or_else(|| anyhow::anyhow!("no contract {contract}"))
    }

    /// Takes a funded order to the end: the buyer's requirements, the
    /// seller's delivery, the buyer's approval.
    pub(super) async fn complete(
        &self,
        buyer: &str,
        seller: &str,
        order: &pb::Contract,
    ) -> anyhow::Result<()> {
        let Some(milestone) = order.milestones.first().map(|m| m.id.clone()) else {
            return Ok(());
        };
        if order.milestones[0].status != pb::MilestoneStatus::Funded as i32 {
            // Taken further before (a re-run).
            return Ok(());
        }
        let client = self.contracts.clone();
        let answers = order
            .order
            .as_ref()
            .map(|o| {
                o.questions
                    .iter()
                    .map(|q| pb::RequirementAnswer {
                        question_id: q.id.clone(),
                        answer: "A bakery in Lisbon; we open in March.".into(),
                    })
                    .collect()
            })
            .unwrap_or_default();
        let requirements = pb::SubmitRequirementsRequest {
            contract_id: order.id.clone(),
            answers,
        };
        match call!(
            client,
            submit_requirements,
            authed(buyer, requirements.clone())
        )
        .await
        {
            Ok(_) => {}
            Err(status) if status.code() == Code::FailedPrecondition => {}
            Err(status) => return Err(status.into()),
        }
        let delivery = pb::SubmitDeliveryRequest {
            contract_id: order.id.clone(),
            milestone_id: milestone.clone(),
            message: "Here it is: source files attached in the chat.".into(),
            attachment_ids: vec![],
        };
        call!(client, submit_delivery, authed(seller, delivery.clone())).await?;
        let approval = pb::ApproveMilestoneRequest {
            contract_id: order.id.clone(),
            milestone_id: milestone,
        };
        call!(client, approve_milestone, authed(buyer, approval.clone())).await?;
        Ok(())
    }
}
