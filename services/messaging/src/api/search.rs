//! SearchMessages: full-text search over the caller's conversations,
//! newest first, in keyset pages.

use frevix_platform::error::FieldViolations;
use frevix_platform::paging::{PageLimits, fingerprint, finish_page, parse_page};
use frevix_proto::messaging::v1 as pb;
use tonic::Request;
use uuid::Uuid;

use super::{caller, membership};
use crate::Inner;
use crate::convert;
use crate::domain::{ConversationId, MessageId};
use crate::error::Result;
use crate::store;

const LIMITS: PageLimits = PageLimits {
    default_size: 20,
    max_size: 100,
};

pub async fn search(
    inner: &Inner,
    request: Request<pb::SearchMessagesRequest>,
) -> Result<pb::SearchMessagesResponse> {
    let me = caller(&request)?;
    let req = request.into_inner();
    let mut violations = FieldViolations::new();
    let query = req.query.trim();
    let words = store::search::words(query);
    if query.chars().count() > 200 {
        violations.add("query", "must be at most 200 characters");
    } else if words.is_empty() {
        violations.add("query", "must contain a word");
    }
    let conversation = if req.conversation_id.is_empty() {
        None
    } else {
        ConversationId::parse_field("conversation_id", &req.conversation_id, &mut violations)
    };
    let filters = fingerprint(&(me, &words, conversation.map(|c| c.0)));
    let page = parse_page::<Uuid>(req.page.as_ref(), LIMITS, &filters, &mut violations);
    let after = page.after.map(MessageId);
    violations.finish(())?;
    if let Some(conversation) = conversation {
        membership(inner, conversation, me).await?;
    }
    let rows =
        store::search::search(&inner.db, me, &words, conversation, after, page.size + 1).await?;
    let (rows, page) = finish_page(rows, page.size, &filters, |row| row.id);
    Ok(pb::SearchMessagesResponse {
        messages: rows.iter().map(convert::message).collect(),
        page: Some(page),
    })
}
