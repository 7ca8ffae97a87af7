//! Get and update freelancer and client profiles.

use chrono::Utc;
use frevix_platform::auth::Role;
use frevix_platform::auth::deny_feed::is_account_suspended;
use frevix_platform::db::Txn;
use frevix_platform::error::{ApiError, FieldViolations};
use frevix_platform::ids::AccountId;
use frevix_platform::mask::update_paths;
use frevix_proto::marketplace::v1 as pb;
use tonic::Request;

use super::caller_with;
use crate::Inner;
use crate::convert;
use crate::domain::profile::{CLIENT_UPDATABLE, FREELANCER_UPDATABLE};
use crate::error::Result;
use crate::store::{catalog, profiles};

fn account_id(text: &str) -> Result<AccountId> {
    Ok(frevix_platform::request::parse_id("account_id", text)?)
}

pub async fn get_freelancer(
    inner: &Inner,
    request: Request<pb::GetFreelancerProfileRequest>,
) -> Result<pb::GetFreelancerProfileResponse> {
    let id = account_id(&request.get_ref().account_id)?;
    let row = profiles::find_freelancer(&inner.db, id)
        .await?
        .ok_or(ApiError::NotFound("freelancer_profile"))?;
    if is_account_suspended(&inner.db, id).await? {
        return Err(ApiError::NotFound("freelancer_profile").into());
    }
    Ok(pb::GetFreelancerProfileResponse {
        profile: Some(convert::freelancer(&row)),
    })
}

pub async fn update_freelancer(
    inner: &Inner,
    request: Request<pb::UpdateFreelancerProfileRequest>,
) -> Result<pb::UpdateFreelancerProfileResponse> {
    let caller = caller_with(&request, Role::Freelancer)?;
    let req = request.into_inner();
    let mut violations = FieldViolations::new();
    let changes = req.profile.unwrap_or_else(|| {
        violations.add("profile", "is required");
        Default::default()
    });
    let id = caller.account_id;
    let now = Utc::now();
    profiles::ensure_freelancer(&inner.db, id, "", now).await?;
    let row = profiles::find_freelancer(&inner.db, id)
        .await?
        .ok_or(ApiError::NotFound("freelancer_profile"))?;
    let paths = update_paths(req.update_mask, FREELANCER_UPDATABLE, &mut violations);
    let fields = profiles::freelancer_fields(&row).patch(&changes, &paths, &mut violations);
    if let Some(fields) = &fields {
        let unknown = catalog::unknown_skills(&inner.db, &fields.skills).await?;
        if !unknown.is_empty() {
            violations.add(
                "profile.skills",
                format!(
                    "not in the catalog: {} (see SearchSkills)",
                    unknown.join(", ")
                ),
            );
        }
    }
    let fields = violations
        .finish(fields)?
        .ok_or(ApiError::NotFound("freelancer_profile"))?;
    // The profile and its event commit together.
    let txn = Txn::begin(&inner.db).await?;
    profiles::update_freelancer(&txn, id, &fields, now).await?;
    let row = profiles::find_freelancer(&txn, id)
        .await?
        .ok_or(ApiError::NotFound("freelancer_profile"))?;
    let profile = convert::freelancer(&row);
    inner
        .outbox
        .publish(
            &txn,
            "freelancer_profile",
            &id.to_string(),
            &pb::FreelancerProfileUpdated {
                profile: Some(profile.clone()),
            },
        )
        .await?;
    txn.commit().await?;
    Ok(pb::UpdateFreelancerProfileResponse {
        profile: Some(profile),
    })
}

pub async fn get_client(
    inner: &Inner,
    request: Request<pb::GetClientProfileRequest>,
) -> Result<pb::GetClientProfileResponse> {
    let id = account_id(&request.get_ref().account_id)?;
    let row = profiles::find_client(&inner.db, id)
        .await?
        .ok_or(ApiError::NotFound("client_profile"))?;
    Ok(pb::GetClientProfileResponse {
        profile: Some(convert::client(&row)),
    })
}

pub async fn update_client(
    inner: &Inner,
    request: Request<pb::UpdateClientProfileRequest>,
) -> Result<pb::UpdateClientProfileResponse> {
    let caller = caller_with(&request, Role::Client)?;
    let req = request.into_inner();
    let mut violations = FieldViolations::new();
    let changes = req.profile.unwrap_or_else(|| {
        violations.add("profile", "is required");
        Default::default()
    });
    let id = caller.account_id;
    let now = Utc::now();
    profiles::ensure_client(&inner.db, id, "", now).await?;
    let row = profiles::find_client(&inner.db, id)
        .await?
        .ok_or(ApiError::NotFound("client_profile"))?;
    let paths = update_paths(req.update_mask, CLIENT_UPDATABLE, &mut violations);
    let fields = profiles::client_fields(&row).patch(&changes, &paths, &mut violations);
    let fields = violations
        .finish(fields)?
        .ok_or(ApiError::NotFound("client_profile"))?;
    profiles::update_client(&inner.db, id, &fields, now).await?;
    let row = profiles::find_client(&inner.db, id)
        .await?
        .ok_or(ApiError::NotFound("client_profile"))?;
    Ok(pb::UpdateClientProfileResponse {
        profile: Some(convert::client(&row)),
    })
}
