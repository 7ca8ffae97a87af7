//! OpenDirectConversation, ListConversations, GetConversation.

use chrono::{DateTime, Utc};
use frevix_platform::db::Txn;
use frevix_platform::db::is_unique_violation;
use frevix_platform::error::{ApiError, FieldViolations};
use frevix_platform::paging::{PageLimits, fingerprint, finish_page, parse_page};
use frevix_proto::messaging::v1 as pb;
use tonic::Request;
use uuid::Uuid;

use super::{caller, membership, parse_id};
use crate::Inner;
use crate::convert;
use crate::domain::ConversationKind;
use crate::error::Result;
use crate::store::{self, ConversationRow, NewConversation};

const LIMITS: PageLimits = PageLimits {
    default_size: 20,
    max_size: 100,
};

/// Conversations as the caller sees them (members, last message, unread).
pub(super) async fn view(
    inner: &Inner,
    rows: &[ConversationRow],
    me: Uuid,
) -> Result<Vec<pb::Conversation>> {
    let members = store::members_of(
        &inner.db,
        rows.iter().map(ConversationRow::typed_id).collect(),
    )
    .await?;
    let mut views = Vec::with_capacity(rows.len());
    for row in rows {
        let Some(mine) = members
            .iter()
            .find(|m| m.conversation_id == row.id && m.account_id == me)
        else {
            continue;
        };
        let last = store::message_at(&inner.db, row.typed_id(), row.last_seq).await?;
        views.push(convert::conversation(row, &members, mine, last.as_ref()));
    }
    Ok(views)
}

pub async fn open_direct(
    inner: &Inner,
    request: Request<pb::OpenDirectConversationRequest>,
) -> Result<pb::OpenDirectConversationResponse> {
    let me = caller(&request)?;
    let other = parse_id("account_id", &request.get_ref().account_id)?;
    if other == me {
        return Err(FieldViolations::single("account_id", "must be someone else's account").into());
    }
    // Only real accounts: a conversation with a made-up id would be a
    // probe (it used to answer with presence) and clutter.
    if store::safety::account(&inner.db, other).await?.is_none() {
        return Err(ApiError::NotFound("account").into());
    }
    let (low, high) = if me < other { (me, other) } else { (other, me) };
    let key = format!("{}:{}", low.simple(), high.simple());
    let row = match store::find_by_direct_key(&inner.db, &key).await? {
        Some(row) => row,
        None => {
            let members = [me, other];
            let new = NewConversation {
                kind: ConversationKind::Direct,
                direct_key: Some(key.clone()),
                contract_id: None,
                title: String::new(),
                members: &members,
                admins: &[],
            };
            let txn = Txn::begin(&inner.db).await?;
            match store::insert_conversation(&txn, new, Utc::now()).await {
                Ok(row) => {
                    txn.commit().await?;
                    row
                }
                // Both opened it at once: the other call made it.
                Err(error) if is_unique_violation(&error) => {
                    drop(txn);
                    store::find_by_direct_key(&inner.db, &key)
                        .await?
                        .ok_or(ApiError::NotFound("conversation"))?
                }
                Err(error) => return Err(error.into()),
            }
        }
    };
    let mut views = view(inner, &[row], me).await?;
    Ok(pb::OpenDirectConversationResponse {
        conversation: views.pop(),
    })
}

pub async fn list(
    inner: &Inner,
    request: Request<pb::ListConversationsRequest>,
) -> Result<pb::ListConversationsResponse> {
    let me = caller(&request)?;
    let mut violations = FieldViolations::new();
    let archived = request.get_ref().archived;
    let filters = fingerprint(&(me, archived));
    let page = parse_page::<(DateTime<Utc>, Uuid)>(
        request.get_ref().page.as_ref(),
        LIMITS,
        &filters,
        &mut violations,
    );
    violations.finish(())?;
    let rows = store::list_for_member(&inner.db, me, archived, page.after, page.size + 1).await?;
    let (rows, page) = finish_page(rows, page.size, &filters, |row| {
        (row.last_activity_at, row.id)
    });
    Ok(pb::ListConversationsResponse {
        conversations: view(inner, &rows, me).await?,
        page: Some(page),
    })
}

pub async fn get(
    inner: &Inner,
    request: Request<pb::GetConversationRequest>,
) -> Result<pb::GetConversationResponse> {
    let me = caller(&request)?;
    let id = parse_id("conversation_id", &request.get_ref().conversation_id)?;
    let (row, _) = membership(inner, id, me).await?;
    let mut views = view(inner, &[row], me).await?;
    Ok(pb::GetConversationResponse {
        conversation: views.pop(),
    })
}

pub async fn update_settings(
    inner: &Inner,
    request: Request<pb::UpdateConversationSettingsRequest>,
) -> Result<pb::UpdateConversationSettingsResponse> {
    let me = caller(&request)?;
    let req = request.into_inner();
    let id = parse_id("conversation_id", &req.conversation_id)?;
    membership(inner, id, me).await?;
    store::set_settings(&inner.db, id, me, req.archived, req.muted).await?;
    if req.archived.is_some() {
        inner.facts.forget(id).await;
    }
    let (row, _) = membership(inner, id, me).await?;
    let mut views = view(inner, &[row], me).await?;
    Ok(pb::UpdateConversationSettingsResponse {
        conversation: views.pop(),
    })
}
