//! ListSessions, RevokeSession.

use chrono::Utc;
use frevix_platform::db::Txn;
use frevix_platform::error::{ApiError, FieldViolations};
use frevix_platform::ids::SessionId;
use frevix_platform::paging::{PageLimits, fingerprint, finish_page, parse_page};
use frevix_proto::identity::v1 as pb;
use tonic::Request;
use uuid::Uuid;

use super::convert;
use crate::Inner;
use crate::error::Result;
use crate::store::sessions;

const LIMITS: PageLimits = PageLimits {
    default_size: 20,
    max_size: 100,
};

pub async fn list_sessions(
    inner: &Inner,
    request: Request<pb::ListSessionsRequest>,
) -> Result<pb::ListSessionsResponse> {
    let (principal, _) = inner.live_caller(&request).await?;
    let req = request.into_inner();
    let mut violations = FieldViolations::new();
    let filters = fingerprint(&principal.account_id.0);
    let page = parse_page::<Uuid>(req.page.as_ref(), LIMITS, &filters, &mut violations);
    violations.finish(())?;
    let rows = sessions::list_live_sessions(
        &inner.db,
        principal.account_id,
        page.after.map(SessionId),
        page.size + 1,
        Utc::now(),
    )
    .await?;
    let (rows, page) = finish_page(rows, page.size, &filters, |row| row.id);
    Ok(pb::ListSessionsResponse {
        sessions: rows
            .iter()
            .map(|row| convert::session(row, principal.session_id))
            .collect(),
        page: Some(page),
    })
}

pub async fn revoke_session(
    inner: &Inner,
    request: Request<pb::RevokeSessionRequest>,
) -> Result<pb::RevokeSessionResponse> {
    let (principal, _) = inner.live_caller(&request).await?;
    let mut violations = FieldViolations::new();
    let id = SessionId::parse_field("session_id", &request.get_ref().session_id, &mut violations);
    let id = violations
        .finish(id)?
        .ok_or(ApiError::NotFound("session"))?;
    let txn = Txn::begin(&inner.db).await?;
    if !inner
        .end_session(
            &txn,
            principal.account_id,
            id,
            "revoked_by_user",
            Utc::now(),
        )
        .await?
    {
        return Err(ApiError::NotFound("session").into());
    }
    txn.commit().await?;
    Ok(pb::RevokeSessionResponse {})
}
