//! SendMessage, GetMessages, MarkRead.

use chrono::Utc;
use frevix_platform::error::{ApiError, FieldViolations};
use frevix_platform::shed::{Permit, Refusals};
use frevix_proto::messaging::v1 as pb;
use tonic::Request;
use uuid::Uuid;

use super::{caller, membership};
use crate::Inner;
use crate::convert;
use crate::domain::send::{self, Draft};
use crate::domain::{ConversationId, MediaId, MessageId, MessageKind, mask};
use crate::error::Result;
use crate::hub::Live;
use crate::store::sending::SendFacts;
use crate::store::{self, MessageRow};
use crate::writer::NewMessage;

pub async fn send(
    inner: &Inner,
    request: Request<pb::SendMessageRequest>,
) -> Result<pb::SendMessageResponse> {
    let me = caller(&request)?;
    let message = send_as(inner, me, request.get_ref()).await?;
    Ok(pb::SendMessageResponse {
        message: Some(message),
    })
}

/// Checks and stores a message from `me`, then tells the members' feeds:
/// the one path of SendMessage and of Chat's send frames. Past the send
/// path's capacity a send is refused (UNAVAILABLE `OVER_CAPACITY`, nothing
/// stored) rather than queued behind more than it can do.
pub(crate) async fn send_as(
    inner: &Inner,
    me: Uuid,
    req: &pb::SendMessageRequest,
) -> Result<pb::Message> {
    let turn = turn(inner).await.ok_or(ApiError::OverCapacity)?;
    send_admitted(inner, me, req, turn).await
}

/// Sends refused for capacity (logged as a rate).
pub(crate) static REFUSED: Refusals = Refusals::new("chat sends");

/// A turn of the send path, waiting at most `messaging.send_wait_ms`;
/// None (the refusal counted) when none came.
pub(crate) async fn turn(inner: &Inner) -> Option<Permit> {
    let turn = inner.send_turns.acquire(inner.send_wait).await;
    if turn.is_none() {
        REFUSED.note();
    }
    turn
}

/// [`send_as`] for a send that already holds its turn.
pub(crate) async fn send_admitted(
    inner: &Inner,
    me: Uuid,
    req: &pb::SendMessageRequest,
    turn: Permit,
) -> Result<pb::Message> {
    let sent = store_and_tell(inner, me, req).await;
    // Only sends that went the whole way teach the limit their latency.
    if sent.is_ok() {
        turn.done();
    }
    sent
}

async fn store_and_tell(
    inner: &Inner,
    me: Uuid,
    req: &pb::SendMessageRequest,
) -> Result<pb::Message> {
    let draft = Draft::parse(req)?;
    let conversation = draft.conversation;
    let client_id = draft.client_message_id;
    let facts = inner
        .facts
        .of(conversation)
        .await?
        .filter(|facts| send::is_member(&facts.members, me))
        .ok_or(ApiError::NotFound("conversation"))?;
    if let Err(refusal) = check(inner, me, &draft, &facts).await {
        // A resend of a stored message is answered whatever would refuse
        // a new one (a limit reached since, a block): the app must learn
        // its message is in.
        if let Some(stored) =
            store::find_by_client_id(&inner.db, conversation, me, client_id).await?
        {
            return Ok(convert::message(&stored));
        }
        return Err(refusal);
    }
    let others = send::recipients(&facts.members, me);
    let (shown, original) = masked_text(inner, me, &others, draft.text).await?;
    let new = NewMessage {
        row: MessageRow {
            id: MessageId::generate().0,
            conversation_id: conversation.0,
            // Assigned by the writer.
            seq: 0,
            sender_id: me,
            client_message_id: client_id.to_owned(),
            masked: original.is_some(),
            text: shown,
            original_text: original,
            created_at: Utc::now(),
            kind: MessageKind::User.as_str().to_owned(),
            reply_to_seq: draft.reply_to,
            attachments: draft
                .attachments
                .iter()
                .map(|id| id.to_string())
                .collect::<Vec<_>>()
                .join(" "),
            edited_at: None,
            deleted: false,
            system_code: String::new(),
            changed_seq: 0,
        },
        recipients: others,
        unarchive: facts.members.iter().any(|m| m.archived),
        attachments: draft.attachments,
    };
    let written = inner.writer.write(new).await?;
    let message = convert::message(&written.row);
    // A resend's original was delivered when it was stored.
    if written.resend {
        return Ok(message);
    }
    inner.facts.stored(conversation, written.row.seq);
    let members: Vec<Uuid> = facts.members.iter().map(|m| m.account).collect();
    inner
        .hub
        .publish(&members, Live::Message(message.clone()))
        .await;
    Ok(message)
}

/// Whether `me` may send `draft` now: a reply names a message that exists,
/// attachments are the sender's, no block stands between direct members,
/// and the sender is within their rate. A resend that any of these would
/// refuse is answered with its stored original by the caller.
async fn check(inner: &Inner, me: Uuid, draft: &Draft<'_>, facts: &SendFacts) -> Result<()> {
    let mut last_seq = facts.last_seq;
    if draft.reply_to > last_seq {
        // A message this replica has not seen stored: ask the database.
        last_seq = inner
            .facts
            .load(draft.conversation)
            .await?
            .map_or(last_seq, |fresh| fresh.last_seq);
    }
    send::check_reply(draft.reply_to, last_seq)?;
    check_attachments(inner, me, draft.conversation, &draft.attachments).await?;
    send::check_not_blocked(facts.kind, &facts.members, me)?;
    inner
        .sends
        .check(&me.to_string())
        .map_err(ApiError::RateLimited)?;
    Ok(())
}

/// INVALID_ARGUMENT unless every attachment is a medium `me` uploaded, or
/// one already attached in this conversation (forwarding within it).
async fn check_attachments(
    inner: &Inner,
    me: Uuid,
    conversation: ConversationId,
    attachments: &[MediaId],
) -> Result<()> {
    if attachments.is_empty() {
        return Ok(());
    }
    let found = store::media::find_many(&inner.db, attachments).await?;
    let mut violations = FieldViolations::new();
    for (i, id) in attachments.iter().enumerate() {
        let mine = found
            .iter()
            .any(|m| m.typed_id() == *id && m.owner_id == me);
        let here = !mine
            && store::media::links(&inner.db, *id)
                .await?
                .iter()
                .any(|link| {
                    link.place == store::media::CONVERSATION && link.place_id == conversation.0
                });
        if !mine && !here {
            violations.add(
                format!("attachment_ids[{i}]"),
                "must be a file you uploaded (MediaService.Upload)",
            );
        }
    }
    Ok(violations.finish(())?)
}

/// The text members see and, when contact details were hidden because
/// `me` has no funded contract with every other member, the original.
pub(crate) async fn masked_text(
    inner: &Inner,
    me: Uuid,
    others: &[Uuid],
    text: &str,
) -> Result<(String, Option<String>)> {
    // Most messages hold nothing to hide: ask about contracts only when
    // something would be masked.
    let Some(masked) = mask::mask(text) else {
        return Ok((text.to_owned(), None));
    };
    if store::safety::funded_with_all(&inner.db, me, others).await? {
        return Ok((text.to_owned(), None));
    }
    Ok((masked, Some(text.to_owned())))
}

pub async fn get(
    inner: &Inner,
    request: Request<pb::GetMessagesRequest>,
) -> Result<pb::GetMessagesResponse> {
    let me = caller(&request)?;
    let req = request.into_inner();
    let mut violations = FieldViolations::new();
    let conversation =
        ConversationId::parse_field("conversation_id", &req.conversation_id, &mut violations);
    let limit = match req.limit {
        0 => 50,
        n if (1..=200).contains(&n) => u64::try_from(n).unwrap_or(50),
        _ => {
            violations.add("limit", "must be 1 to 200");
            50
        }
    };
    violations.check(
        req.after_sequence >= 0,
        "after_sequence",
        "must not be negative",
    );
    violations.check(
        req.before_sequence >= 0,
        "before_sequence",
        "must not be negative",
    );
    let conversation = violations
        .finish(conversation)?
        .ok_or(ApiError::NotFound("conversation"))?;
    membership(inner, conversation, me).await?;
    let backward = req.before_sequence > 0;
    let before = backward.then_some(req.before_sequence);
    let mut rows = store::messages_between(
        &inner.db,
        conversation,
        req.after_sequence,
        before,
        backward,
        limit + 1,
    )
    .await?;
    let more = rows.len() as u64 > limit;
    rows.truncate(usize::try_from(limit).unwrap_or(50));
    Ok(pb::GetMessagesResponse {
        messages: rows.iter().map(convert::message).collect(),
        more,
    })
}

pub async fn mark_read(
    inner: &Inner,
    request: Request<pb::MarkReadRequest>,
) -> Result<pb::MarkReadResponse> {
    let me = caller(&request)?;
    mark_read_as(inner, me, request.get_ref()).await?;
    Ok(pb::MarkReadResponse {})
}

/// Moves `me`'s read position and sends the receipt to the members' feeds.
pub(crate) async fn mark_read_as(inner: &Inner, me: Uuid, req: &pb::MarkReadRequest) -> Result<()> {
    let mut violations = FieldViolations::new();
    let conversation =
        ConversationId::parse_field("conversation_id", &req.conversation_id, &mut violations);
    violations.check(
        req.up_to_sequence >= 0,
        "up_to_sequence",
        "must not be negative",
    );
    let conversation = violations
        .finish(conversation)?
        .ok_or(ApiError::NotFound("conversation"))?;
    let (row, _) = membership(inner, conversation, me).await?;
    if req.up_to_sequence > row.last_seq {
        return Err(FieldViolations::single(
            "up_to_sequence",
            format!(
                "must be 0 to {}, the conversation's last sequence",
                row.last_seq
            ),
        )
        .into());
    }
    store::mark_read(&inner.db, conversation, me, req.up_to_sequence).await?;
    let members: Vec<Uuid> = store::member_ids(&inner.db, conversation).await?;
    inner
        .hub
        .publish(
            &members,
            Live::Read(pb::ReadReceipt {
                conversation_id: conversation.to_string(),
                reader_id: me.to_string(),
                up_to_sequence: req.up_to_sequence,
            }),
        )
        .await;
    Ok(())
}
