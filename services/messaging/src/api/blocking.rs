//! BlockAccount, UnblockAccount, ListBlockedAccounts. A block stops direct
//! messages both ways and stops the blocked account adding the blocker to
//! groups. Contract conversations stay open: the work and any dispute
//! need them.

use chrono::Utc;
use frevix_platform::error::{ApiError, FieldViolations};
use frevix_proto::messaging::v1 as pb;
use tonic::Request;

use super::{caller, parse_id};
use crate::Inner;
use crate::error::Result;
use crate::store;

/// Accounts one account may block.
const MAX_BLOCKS: usize = 1000;

pub async fn block(
    inner: &Inner,
    request: Request<pb::BlockAccountRequest>,
) -> Result<pb::BlockAccountResponse> {
    let me = caller(&request)?;
    let other = parse_id("account_id", &request.get_ref().account_id)?;
    if other == me {
        return Err(FieldViolations::single("account_id", "you cannot block yourself").into());
    }
    let blocked = store::safety::blocked_by(&inner.db, me).await?;
    if blocked.len() >= MAX_BLOCKS && !blocked.contains(&other) {
        return Err(ApiError::precondition(
            "TOO_MANY_BLOCKS",
            "account_id",
            format!("at most {MAX_BLOCKS} accounts can be blocked; unblock some first"),
        )
        .into());
    }
    store::safety::block(&inner.db, me, other, Utc::now()).await?;
    inner.facts.forget_account(me).await;
    Ok(pb::BlockAccountResponse {})
}

pub async fn unblock(
    inner: &Inner,
    request: Request<pb::UnblockAccountRequest>,
) -> Result<pb::UnblockAccountResponse> {
    let me = caller(&request)?;
    let other = parse_id("account_id", &request.get_ref().account_id)?;
    store::safety::unblock(&inner.db, me, other).await?;
    inner.facts.forget_account(me).await;
    Ok(pb::UnblockAccountResponse {})
}

pub async fn list(
    inner: &Inner,
    request: Request<pb::ListBlockedAccountsRequest>,
) -> Result<pb::ListBlockedAccountsResponse> {
    let me = caller(&request)?;
    Ok(pb::ListBlockedAccountsResponse {
        account_ids: store::safety::blocked_by(&inner.db, me)
            .await?
            .into_iter()
            .map(|id| id.to_string())
            .collect(),
    })
}
