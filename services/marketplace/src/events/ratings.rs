//! Ratings and completed-contract counts from contracts' events.

use frevix_platform::db::Txn;
use frevix_platform::events::{HandlerError, On, ReceivedEvent};
use frevix_proto::contracts::v1 as contracts;
use uuid::Uuid;

use crate::domain::ids::GigId;
use crate::store::{gigs, profiles};

pub struct Ratings;

fn id(text: &str) -> Result<frevix_platform::ids::AccountId, HandlerError> {
    Uuid::parse_str(text)
        .map(frevix_platform::ids::AccountId)
        .map_err(|_| HandlerError(format!("bad id {text}")))
}

#[async_trait::async_trait]
impl On<contracts::ContractCompleted> for Ratings {
    async fn on(
        &self,
        txn: &Txn,
        completed: contracts::ContractCompleted,
        _: &ReceivedEvent,
    ) -> Result<(), HandlerError> {
        profiles::add_completed_contract(
            txn,
            id(&completed.freelancer_id)?,
            id(&completed.client_id)?,
        )
        .await?;
        Ok(())
    }
}

#[async_trait::async_trait]
impl On<contracts::ReviewPublished> for Ratings {
    async fn on(
        &self,
        txn: &Txn,
        review: contracts::ReviewPublished,
        _: &ReceivedEvent,
    ) -> Result<(), HandlerError> {
        // Reviews of clients are shown by contracts; marketplace rates sellers.
        if review.reviewer_role != contracts::ReviewerRole::Client as i32 {
            return Ok(());
        }
        if !(1..=5).contains(&review.rating) {
            return Err(HandlerError(format!(
                "rating {} is not 1 to 5",
                review.rating
            )));
        }
        profiles::add_freelancer_review(txn, id(&review.reviewee_id)?, review.rating).await?;
        if !review.gig_id.is_empty() {
            gigs::add_gig_review(txn, GigId(id(&review.gig_id)?.0), review.rating).await?;
        }
        Ok(())
    }
}
