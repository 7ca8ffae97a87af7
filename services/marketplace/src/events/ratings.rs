//! Ratings and completed-contract counts from contracts' events.

use frevix_platform::db::Txn;
use frevix_platform::events::{EventHandler, HandlerError, ReceivedEvent};
use frevix_proto::contracts::v1 as contracts;
use uuid::Uuid;

use crate::store::{gigs, profiles};

pub struct Ratings;

fn id(text: &str) -> Result<Uuid, HandlerError> {
    Uuid::parse_str(text).map_err(|_| HandlerError(format!("bad id {text}")))
}

#[async_trait::async_trait]
impl EventHandler for Ratings {
    async fn handle(
        &self,
        txn: &Txn,
        event: &ReceivedEvent,
    ) -> Result<(), HandlerError> {
        if event.is::<contracts::ContractCompleted>() {
            let e: contracts::ContractCompleted = event.decode()?;
            profiles::add_completed_contract(txn, id(&e.freelancer_id)?, id(&e.client_id)?).await?;
            return Ok(());
        }
        let review: contracts::ReviewPublished = event.decode()?;
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
            gigs::add_gig_review(txn, id(&review.gig_id)?, review.rating).await?;
        }
        Ok(())
    }
}
