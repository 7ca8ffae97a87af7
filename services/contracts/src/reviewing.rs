//! The review window of a contract: opened in the step that ends it with
//! work paid for (completion, the release that follows a cancellation, an
//! hourly contract ended with weeks billed), closed by a durable timer that publishes whatever was
//! written; publishing as soon as both sides have reviewed. Each published
//! review is announced with ReviewPublished (marketplace rates from it).

use chrono::Duration;
use frevix_platform::db::Txn;
use frevix_proto::contracts::v1 as pb;

use crate::Inner;
use crate::domain::{ContractId, ContractStatus};
use crate::error::Result;
use crate::store::{self, ReviewRow};

/// The timer that closes a contract's reviews.
pub const REVIEWS_CLOSE: &str = "reviews.close";

/// Opens the reviews of a contract that has just ended (`status`), if
/// money was paid to the freelancer and they are not open yet.
pub async fn open_if_due(
    inner: &Inner,
    txn: &Txn,
    contract: ContractId,
    status: ContractStatus,
) -> Result<()> {
    if !status.is_ended() {
        return Ok(());
    }
    // Work paid for: a milestone released, or an hourly week billed.
    let paid = store::milestones_of(txn, &[contract])
        .await?
        .iter()
        .any(|m| m.released_minor > 0)
        || !store::invoices_of(txn, contract).await?.is_empty();
    if !paid {
        return Ok(());
    }
    let close_at = inner.clock.now() + Duration::days(i64::from(inner.review_window_days));
    if store::open_reviews(txn, contract, close_at).await? {
        let subject = contract.to_string();
        inner
            .timers
            .schedule(txn, REVIEWS_CLOSE, &subject, close_at, &subject)
            .await?;
    }
    Ok(())
}

/// Publishes the contract's reviews not yet visible, each announced.
pub async fn publish(inner: &Inner, txn: &Txn, contract: ContractId) -> Result<()> {
    let now = inner.clock.now();
    for review in store::publish_reviews(txn, contract, now).await? {
        let event = published(&review);
        inner
            .outbox
            .publish(txn, "contract", &event.contract_id, &event)
            .await?;
    }
    inner
        .timers
        .forget(txn, REVIEWS_CLOSE, &contract.to_string());
    Ok(())
}

fn published(review: &ReviewRow) -> pb::ReviewPublished {
    let role = match review.reviewer_role.as_str() {
        "CLIENT" => pb::ReviewerRole::Client,
        "FREELANCER" => pb::ReviewerRole::Freelancer,
        _ => pb::ReviewerRole::Unspecified,
    };
    pb::ReviewPublished {
        review_id: review.id.to_string(),
        contract_id: review.contract_id.to_string(),
        reviewer_id: review.reviewer_id.to_string(),
        reviewee_id: review.reviewee_id.to_string(),
        reviewer_role: role as i32,
        rating: review.rating,
        comment: review.comment.clone(),
        gig_id: review.gig_id.map(|id| id.to_string()).unwrap_or_default(),
    }
}
