//! SetTyping, GetPresence, SetPresenceVisibility: what is shown about
//! people right now. Typing is not stored; it goes to the other members'
//! feeds and lapses on the client after a few seconds. Presence is shown
//! only to people who share a conversation with the account, and never
//! when the account hides it.

use frevix_platform::error::{ApiError, FieldViolations};
use frevix_proto::messaging::v1 as pb;
use tonic::Request;
use uuid::Uuid;

use super::{caller, membership, parse_id};
use crate::Inner;
use crate::error::Result;
use crate::hub::Live;
use crate::presence::Presence;
use crate::store;

pub async fn set_typing(
    inner: &Inner,
    request: Request<pb::SetTypingRequest>,
) -> Result<pb::SetTypingResponse> {
    let me = caller(&request)?;
    typing_as(inner, me, request.get_ref()).await?;
    Ok(pb::SetTypingResponse {})
}

/// The one path of SetTyping and Chat's typing frames.
pub(crate) async fn typing_as(inner: &Inner, me: Uuid, req: &pb::SetTypingRequest) -> Result<()> {
    let conversation = parse_id("conversation_id", &req.conversation_id)?;
    membership(inner, conversation, me).await?;
    inner
        .typing
        .check(&me.to_string())
        .map_err(ApiError::RateLimited)?;
    let others: Vec<Uuid> = store::member_ids(&inner.db, conversation)
        .await?
        .into_iter()
        .filter(|m| *m != me)
        .collect();
    inner
        .hub
        .publish(
            &others,
            Live::Typing(pb::Typing {
                conversation_id: conversation.to_string(),
                account_id: me.to_string(),
                typing: req.typing,
            }),
        )
        .await;
    Ok(())
}

pub async fn get_presence(
    inner: &Inner,
    request: Request<pb::GetPresenceRequest>,
) -> Result<pb::GetPresenceResponse> {
    let me = caller(&request)?;
    let ids = &request.get_ref().account_ids;
    let mut violations = FieldViolations::new();
    if ids.is_empty() {
        violations.add("account_ids", "must list 1 to 100 accounts");
    }
    let mut accounts = Vec::new();
    let ids = if violations.check_len("account_ids", ids.len(), 100) {
        ids.as_slice()
    } else {
        &[]
    };
    for (i, id) in ids.iter().enumerate() {
        if let Some(account) =
            frevix_platform::ids::parse_uuid(&format!("account_ids[{i}]"), id, &mut violations)
        {
            accounts.push(account);
        }
    }
    violations.finish(())?;
    // Only people the caller has talked with see anything; everyone else
    // is told so, whatever the account's state.
    let contacts =
        store::contacts::talked_with(&inner.db, me, Some(&accounts), accounts.len()).await?;
    let mut presences = Vec::with_capacity(accounts.len());
    for account in accounts {
        if account != me && !contacts.contains(&account) {
            presences.push(pb::Presence {
                account_id: account.to_string(),
                state: pb::PresenceState::NotShared as i32,
                last_seen_time: None,
            });
            continue;
        }
        let view = inner.presence.view(account).await?;
        presences.push(Presence::message(account, &view));
    }
    Ok(pb::GetPresenceResponse { presences })
}

pub async fn set_visibility(
    inner: &Inner,
    request: Request<pb::SetPresenceVisibilityRequest>,
) -> Result<pb::SetPresenceVisibilityResponse> {
    let me = caller(&request)?;
    store::safety::set_presence_hidden(&inner.db, me, !request.get_ref().visible).await?;
    inner.presence.announce(me).await?;
    Ok(pb::SetPresenceVisibilityResponse {})
}
