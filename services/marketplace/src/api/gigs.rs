//! Gigs: create, update, read, list, and the status actions.

use chrono::Utc;
use frevix_platform::auth::deny_feed::is_account_suspended;
use frevix_platform::auth::{Principal, Role, principal};
use frevix_platform::db::Txn;
use frevix_platform::db::idempotency::{IdempotencyKey, Keyed, Start};
use frevix_platform::error::{ApiError, FieldViolations};
use frevix_platform::ids::AccountId;
use frevix_platform::mask::{on_masked, update_paths};
use frevix_platform::paging::{PageLimits, fingerprint, finish_page, parse_page};
use frevix_proto::marketplace::v1 as pb;
use tonic::Request;
use uuid::Uuid;

use super::caller_with;
use crate::Inner;
use crate::convert;
use crate::domain::gig::{self, GigAction, GigContent, GigStatus, transition};
use crate::domain::ids::GigId;
use crate::error::Result;
use crate::events::publish::gig_event;
use crate::store::gigs::{self, GigRow, content_of, status_of};
use crate::store::{catalog, profiles};

const LIMITS: PageLimits = PageLimits {
    default_size: 20,
    max_size: 100,
};

const CREATE_SCOPE: &str = "marketplace.CreateGig";

async fn seller_name(inner: &Inner, seller: AccountId) -> Result<String> {
    Ok(profiles::find_freelancer(&inner.db, seller)
        .await?
        .map(|p| p.display_name)
        .unwrap_or_default())
}

async fn check_category(inner: &Inner, content: &GigContent) -> Result<()> {
    match catalog::find_category(&inner.db, content.category_id).await? {
        Some(row) if row.parent_id.is_some() => Ok(()),
        _ => Err(FieldViolations::single(
            "gig.category_id",
            "must be a subcategory from ListCategories",
        )
        .into()),
    }
}

pub async fn create_gig(
    inner: &Inner,
    request: Request<pb::CreateGigRequest>,
) -> Result<pb::CreateGigResponse> {
    let caller = caller_with(&request, Role::Freelancer)?;
    let mut violations = FieldViolations::new();
    let key = IdempotencyKey::from_metadata(request.metadata(), &mut violations);
    let req = request.into_inner();
    let Some(gig) = &req.gig else {
        return Err(FieldViolations::single("gig", "is required").into());
    };
    let content = GigContent::parse(gig, &mut violations);
    let content = violations
        .finish(content)?
        .ok_or(ApiError::NotFound("gig"))?;
    let keyed = Keyed::new(format!("{CREATE_SCOPE}:{}", caller.account_id), key, &req);
    if let Some(answer) = keyed.replay(&inner.db).await? {
        return Ok(answer);
    }
    check_category(inner, &content).await?;
    let seller = caller.account_id;
    let now = Utc::now();
    profiles::ensure_freelancer(&inner.db, seller, "", now).await?;
    let name = seller_name(inner, seller).await?;
    let once = match keyed.begin(&inner.db).await? {
        Start::Replay(answer) => return Ok(answer),
        Start::Run(once) => once,
    };
    let row = gigs::insert_gig(&once, GigId::generate(), caller.account_id, &content, now).await?;
    let response = pb::CreateGigResponse {
        gig: Some(convert::gig(&row, &name)),
    };
    once.finish(&response).await?;
    tracing::info!(gig_id = %row.id, seller_id = %seller, "gig drafted");
    Ok(response)
}

fn gig_id(text: &str, field: &str) -> Result<GigId> {
    Ok(frevix_platform::request::parse_id(field, text)?)
}

/// The gig, if `caller` owns it. Someone else's gig they cannot see is
/// NOT_FOUND; one they can see is PERMISSION_DENIED.
async fn owned_gig(inner: &Inner, caller: &Principal, id: GigId) -> Result<GigRow> {
    let row = gigs::find_gig(&inner.db, id)
        .await?
        .ok_or(ApiError::NotFound("gig"))?;
    if row.seller_id == caller.account_id.0 {
        return Ok(row);
    }
    if status_of(&row).is_public() {
        Err(
            ApiError::permission_denied("NOT_GIG_OWNER", "only the seller may change this gig")
                .into(),
        )
    } else {
        Err(ApiError::NotFound("gig").into())
    }
}

pub async fn update_gig(
    inner: &Inner,
    request: Request<pb::UpdateGigRequest>,
) -> Result<pb::UpdateGigResponse> {
    let caller = principal(&request).map_err(|_| frevix_platform::auth::AuthError::Missing)?;
    let req = request.into_inner();
    let mut violations = FieldViolations::new();
    let gig = &req.gig.unwrap_or_else(|| {
        violations.add("gig", "is required");
        pb::Gig::default()
    });
    let id = GigId::parse_field("gig.id", &gig.id, &mut violations);
    let paths = update_paths(req.update_mask, gig::UPDATABLE, &mut violations);
    // The named fields' own rules, before the gig is looked up.
    let mut alone = FieldViolations::new();
    GigContent::blank().patch(gig, &paths, &mut alone);
    on_masked(&alone, "gig", &paths, &mut violations);
    let Some(id) = id else {
        return Err(ApiError::from(violations).into());
    };
    // Who may change it is answered first; then every field at once.
    let row = owned_gig(inner, &caller, id).await?;
    let status = status_of(&row);
    if status == GigStatus::Archived {
        return Err(
            ApiError::precondition("GIG_ARCHIVED", "gig", "an archived gig cannot change").into(),
        );
    }
    let mut whole = FieldViolations::new();
    let content = content_of(&row).patch(gig, &paths, &mut whole);
    violations.absorb(whole);
    let content = violations
        .finish(content)?
        .ok_or(ApiError::NotFound("gig"))?;
    check_category(inner, &content).await?;
    let now = Utc::now();
    let name = seller_name(inner, AccountId(row.seller_id)).await?;
    let txn = Txn::begin(&inner.db).await?;
    gigs::update_content(&txn, id, &content, now).await?;
    let row = gigs::find_gig(&txn, id)
        .await?
        .ok_or(ApiError::NotFound("gig"))?;
    if matches!(status, GigStatus::Published | GigStatus::Paused) {
        gig_event(
            &inner.outbox,
            &txn,
            &row,
            &name,
            crate::domain::gig::GigEvent::Updated,
        )
        .await?;
    }
    txn.commit().await?;
    Ok(pb::UpdateGigResponse {
        gig: Some(convert::gig(&row, &name)),
    })
}

pub async fn get_gig(
    inner: &Inner,
    request: Request<pb::GetGigRequest>,
) -> Result<pb::GetGigResponse> {
    let viewer = principal(&request).ok();
    let id = gig_id(&request.get_ref().gig_id, "gig_id")?;
    let row = gigs::find_gig(&inner.db, id)
        .await?
        .ok_or(ApiError::NotFound("gig"))?;
    let own = viewer.is_some_and(|v| v.account_id.0 == row.seller_id);
    if !own
        && (!status_of(&row).is_public()
            || is_account_suspended(&inner.db, AccountId(row.seller_id)).await?)
    {
        return Err(ApiError::NotFound("gig").into());
    }
    let name = seller_name(inner, AccountId(row.seller_id)).await?;
    Ok(pb::GetGigResponse {
        gig: Some(convert::gig(&row, &name)),
    })
}

pub async fn list_my_gigs(
    inner: &Inner,
    request: Request<pb::ListMyGigsRequest>,
) -> Result<pb::ListMyGigsResponse> {
    let caller = principal(&request).map_err(|_| frevix_platform::auth::AuthError::Missing)?;
    let req = request.into_inner();
    let mut violations = FieldViolations::new();
    let status = match pb::GigStatus::try_from(req.status) {
        Ok(status) => GigStatus::from_proto(status),
        Err(_) => {
            violations.add("status", "is not a known status");
            None
        }
    };
    let filters = fingerprint(&(caller.account_id.0, req.status));
    let page = parse_page::<Uuid>(req.page.as_ref(), LIMITS, &filters, &mut violations);
    violations.finish(())?;
    let seller = caller.account_id;
    let after = page.after.map(GigId);
    let rows =
        gigs::list_seller_gigs(&inner.db, caller.account_id, status, after, page.size + 1).await?;
    let (rows, page) = finish_page(rows, page.size, &filters, |row| row.id);
    let name = seller_name(inner, seller).await?;
    Ok(pb::ListMyGigsResponse {
        gigs: rows.iter().map(|row| convert::gig(row, &name)).collect(),
        page: Some(page),
    })
}

pub async fn change_status<T>(
    inner: &Inner,
    request: &Request<T>,
    id_text: &str,
    action: GigAction,
) -> Result<pb::Gig> {
    let caller = principal(request).map_err(|_| frevix_platform::auth::AuthError::Missing)?;
    let id = gig_id(id_text, "gig_id")?;
    let row = owned_gig(inner, &caller, id).await?;
    let from = status_of(&row);
    let (to, event) = transition(from, action)?;
    let name = seller_name(inner, AccountId(row.seller_id)).await?;
    let Some(event) = event else {
        return Ok(convert::gig(&row, &name));
    };
    let now = Utc::now();
    let txn = Txn::begin(&inner.db).await?;
    if !gigs::update_status(&txn, id, from, to, now).await? {
        return Err(ApiError::precondition(
            "GIG_CHANGED",
            "gig",
            "the gig changed meanwhile; read it again",
        )
        .into());
    }
    let row = gigs::find_gig(&txn, id)
        .await?
        .ok_or(ApiError::NotFound("gig"))?;
    gig_event(&inner.outbox, &txn, &row, &name, event).await?;
    txn.commit().await?;
    tracing::info!(gig_id = %id, status = to.as_str(), "gig status changed");
    Ok(convert::gig(&row, &name))
}
