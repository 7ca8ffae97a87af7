//! SubmitReview, ReplyToReview and ListReviews: each party reviews the
//! other once while reviews are open, double-blind (see
//! `domain::review`); the reviewee may answer a published review once;
//! anyone may read the published ones.

use chrono::{DateTime, Utc};
use frevix_platform::error::{ApiError, FieldViolations};
use frevix_platform::ids::parse_uuid;
use frevix_platform::paging::{PageLimits, fingerprint, finish_page, parse_page};
use frevix_platform::request::caller;
use frevix_proto::contracts::v1 as pb;
use tonic::Request;
use uuid::Uuid;

use super::acting::{begin, finish, party_of, text};
use crate::Inner;
use crate::convert;
use crate::domain::review::{Aspect, RatingProblem, check_ratings};
use crate::domain::{ContractId, Party};
use crate::error::Result;
use crate::reviewing;
use crate::store::{self, ReviewFilter, ReviewRow};

const MAX_COMMENT: usize = 5000;
const MAX_REPLY: usize = 2000;
const LIMITS: PageLimits = PageLimits {
    default_size: 20,
    max_size: 100,
};

fn aspect(value: i32) -> Option<Aspect> {
    match pb::ReviewAspect::try_from(value).ok()? {
        pb::ReviewAspect::Communication => Some(Aspect::Communication),
        pb::ReviewAspect::Quality => Some(Aspect::Quality),
        pb::ReviewAspect::Value => Some(Aspect::Value),
        pb::ReviewAspect::Clarity => Some(Aspect::Clarity),
        pb::ReviewAspect::PaymentPromptness => Some(Aspect::PaymentPromptness),
        pb::ReviewAspect::Unspecified => None,
    }
}

fn role_name(side: Party) -> &'static str {
    match side {
        Party::Client => "CLIENT",
        Party::Freelancer => "FREELANCER",
    }
}

pub async fn submit(
    inner: &Inner,
    request: Request<pb::SubmitReviewRequest>,
) -> Result<pb::SubmitReviewResponse> {
    let caller = caller(&request)?;
    let req = request.get_ref();
    let mut violations = FieldViolations::new();
    let id = ContractId::parse_field("contract_id", &req.contract_id, &mut violations);
    let comment = text("comment", &req.comment, 0, MAX_COMMENT, &mut violations);
    violations.check((1..=5).contains(&req.rating), "rating", "must be 1 to 5");
    if req.sub_ratings.len() > Aspect::rated_by(Party::Client).len() {
        violations.add("sub_ratings", "at most 3, one per aspect");
    } else {
        for (i, sub) in req.sub_ratings.iter().enumerate() {
            if aspect(sub.aspect).is_none() {
                violations.add(format!("sub_ratings[{i}].aspect"), "is not an aspect");
            }
            if !(1..=5).contains(&sub.rating) {
                violations.add(format!("sub_ratings[{i}].rating"), "must be 1 to 5");
            }
        }
    }
    let Some(id) = id else {
        return Err(ApiError::from(violations).into());
    };
    // Whose review it is decides which aspects it rates: those checks join
    // the ones above, once the contract is found.
    let change = begin(inner, &caller, id).await?;
    let side = party_of(&change.contract, &caller)?;
    let sub: Vec<(Option<Aspect>, i32)> = req
        .sub_ratings
        .iter()
        .map(|s| (aspect(s.aspect), s.rating))
        .collect();
    let mut ratings = FieldViolations::new();
    for problem in check_ratings(side, req.rating, &sub) {
        match problem {
            RatingProblem::Overall => ratings.add("rating", "must be 1 to 5"),
            RatingProblem::Aspect(i) => ratings.add(
                format!("sub_ratings[{i}].aspect"),
                "is not an aspect this side rates, or is rated twice",
            ),
            RatingProblem::Stars(i) => {
                ratings.add(format!("sub_ratings[{i}].rating"), "must be 1 to 5");
            }
        }
    }
    violations.absorb(ratings);
    let comment = violations.finish(comment)?;
    let now = inner.clock.now();
    match change.contract.reviews_close_at {
        None => {
            return Err(ApiError::precondition(
                "REVIEWS_NOT_OPEN",
                id.to_string(),
                "reviews open once the contract ends with the work paid for",
            )
            .into());
        }
        Some(close) if close <= now => {
            return Err(ApiError::precondition(
                "REVIEW_WINDOW_CLOSED",
                id.to_string(),
                "the time to review this contract has passed",
            )
            .into());
        }
        Some(_) => {}
    }
    let written = store::reviews_of(&change.txn, id).await?;
    if written.iter().any(|r| r.reviewer_id == caller.account_id.0) {
        // ALREADY_EXISTS, as for anything created twice: a retry whose
        // first answer was lost learns its review is there.
        return Err(ApiError::AlreadyExists {
            reason: "ALREADY_REVIEWED",
            message: "you have reviewed this contract; a review is written once".to_owned(),
        }
        .into());
    }
    let contract = &change.contract;
    let reviewee = match side {
        Party::Client => contract.freelancer_id,
        Party::Freelancer => contract.client_id,
    };
    let ratings: Vec<(Aspect, i32)> = sub
        .iter()
        .filter_map(|(aspect, stars)| aspect.map(|a| (a, *stars)))
        .collect();
    store::insert_review(
        &change.txn,
        ReviewRow {
            id: Uuid::now_v7(),
            contract_id: id.0,
            reviewer_id: caller.account_id.0,
            reviewee_id: reviewee,
            reviewer_role: role_name(side).to_owned(),
            rating: req.rating,
            sub_ratings: serde_json::to_string(&ratings).unwrap_or_else(|_| "[]".to_owned()),
            comment,
            gig_id: contract.gig_id,
            submitted_at: now,
            published_at: None,
            reply: String::new(),
            reply_at: None,
        },
    )
    .await?;
    store::add_timeline(
        &change.txn,
        id,
        now,
        Some(caller.account_id),
        "REVIEW_SUBMITTED",
        None,
        "A review was written".to_owned(),
    )
    .await?;
    // The other side reviewed already: both become visible now.
    if !written.is_empty() {
        reviewing::publish(inner, &change.txn, id).await?;
    }
    Ok(pb::SubmitReviewResponse {
        contract: Some(finish(inner, change).await?),
    })
}

pub async fn reply(
    inner: &Inner,
    request: Request<pb::ReplyToReviewRequest>,
) -> Result<pb::ReplyToReviewResponse> {
    let caller = caller(&request)?;
    let req = request.get_ref();
    let mut violations = FieldViolations::new();
    let id = parse_uuid("review_id", &req.review_id, &mut violations);
    let answer = text("reply", &req.reply, 1, MAX_REPLY, &mut violations);
    let id = violations.finish(id)?.ok_or(ApiError::NotFound("review"))?;
    let review = store::find_review(&inner.db, id)
        .await?
        .ok_or(ApiError::NotFound("review"))?;
    // Unpublished reviews are seen by their authors only.
    let visible = review.published_at.is_some() || review.reviewer_id == caller.account_id.0;
    if !visible {
        return Err(ApiError::NotFound("review").into());
    }
    if review.reviewee_id != caller.account_id.0 {
        return Err(ApiError::permission_denied(
            "REVIEWEE_ONLY",
            "only the reviewed party replies to a review",
        )
        .into());
    }
    let now = inner.clock.now();
    if !store::reply(&inner.db, id, &answer, now).await? {
        return Err(ApiError::precondition(
            "ALREADY_REPLIED",
            id.to_string(),
            "a review takes one reply",
        )
        .into());
    }
    let review = store::find_review(&inner.db, id)
        .await?
        .ok_or(ApiError::NotFound("review"))?;
    Ok(pb::ReplyToReviewResponse {
        review: Some(convert::review(&review)),
    })
}

pub async fn list(
    inner: &Inner,
    request: Request<pb::ListReviewsRequest>,
) -> Result<pb::ListReviewsResponse> {
    use pb::list_reviews_request::Subject;
    let req = request.get_ref();
    let mut violations = FieldViolations::new();
    let (reviewee, gig) = match &req.subject {
        Some(Subject::RevieweeId(id)) => (parse_uuid("reviewee_id", id, &mut violations), None),
        Some(Subject::GigId(id)) => (None, parse_uuid("gig_id", id, &mut violations)),
        None => {
            violations.add("subject", "give a reviewee_id or a gig_id");
            (None, None)
        }
    };
    let mut reviewer_role = match pb::ContractRole::try_from(req.reviewer_role) {
        Ok(pb::ContractRole::Unspecified) => None,
        Ok(pb::ContractRole::Client) => Some(role_name(Party::Client)),
        Ok(pb::ContractRole::Freelancer) => Some(role_name(Party::Freelancer)),
        Err(_) => {
            violations.add("reviewer_role", "must be CLIENT, FREELANCER or unspecified");
            None
        }
    };
    if gig.is_some() {
        // A gig's reviews are its buyers'; its seller's review of a buyer
        // is about the buyer.
        reviewer_role = Some(role_name(Party::Client));
    }
    let fingerprint = fingerprint(&(reviewee, gig, req.reviewer_role));
    let page = parse_page::<(DateTime<Utc>, Uuid)>(
        req.page.as_ref(),
        LIMITS,
        &fingerprint,
        &mut violations,
    );
    violations.finish(())?;
    let filter = ReviewFilter {
        reviewee,
        gig,
        reviewer_role,
    };
    let snapshot = store::snapshot(&inner.db).await?;
    let rows = store::list_reviews(&snapshot, &filter, page.after, page.size + 1).await?;
    let stars = store::star_counts(&snapshot, &filter).await?;
    snapshot.commit().await?;
    let (rows, page) = finish_page(rows, page.size, &fingerprint, |row| {
        (row.published_at.unwrap_or(row.submitted_at), row.id)
    });
    let star_counts: Vec<i64> = (1..=5)
        .map(|star| {
            stars
                .iter()
                .find(|(rating, _)| *rating == star)
                .map_or(0, |(_, count)| *count)
        })
        .collect();
    let count: i64 = star_counts.iter().sum();
    let total: i64 = star_counts
        .iter()
        .zip(1..)
        .map(|(count, star)| count * star)
        .sum();
    #[allow(clippy::cast_precision_loss)] // counts far below 2^52
    let average_rating = if count == 0 {
        0.0
    } else {
        total as f64 / count as f64
    };
    // Reviews are public; which contract one is about is its parties'
    // business (anyone else would learn a private id).
    let viewer = caller(&request).ok().map(|c| c.account_id.0);
    let reviews = rows
        .iter()
        .map(|row| {
            let mut review = convert::review(row);
            if viewer != Some(row.reviewer_id) && viewer != Some(row.reviewee_id) {
                review.contract_id.clear();
            }
            review
        })
        .collect();
    Ok(pb::ListReviewsResponse {
        reviews,
        summary: Some(pb::ReviewSummary {
            count,
            average_rating,
            star_counts,
        }),
        page: Some(page),
    })
}
