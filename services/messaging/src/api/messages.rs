//! SendMessage, GetMessages, MarkRead.

use chrono::Utc;
use frevix_platform::db::is_unique_violation;
use frevix_platform::error::{ApiError, FieldViolations};
use frevix_proto::messaging::v1 as pb;
use tonic::Request;
use uuid::Uuid;

use super::{caller, membership, parse_id};
use crate::Inner;
use crate::convert;
use crate::error::{MessagingError, Result};
use crate::hub::Live;
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
/// the one path of SendMessage and of Chat's send frames.
pub(crate) async fn send_as(
    inner: &Inner,
    me: Uuid,
    req: &pb::SendMessageRequest,
) -> Result<pb::Message> {
    let mut violations = FieldViolations::new();
    let conversation =
        frevix_platform::ids::parse_uuid("conversation_id", &req.conversation_id, &mut violations);
    let text = req.text.trim();
    let empty_allowed = !req.attachment_ids.is_empty();
    if (text.is_empty() && !empty_allowed) || text.chars().count() > MAX_TEXT {
        violations.add(
            "text",
            "must be 1 to 5,000 characters (it may be empty with attachments)",
        );
    }
    let client_id = req.client_message_id.trim();
    if client_id.is_empty() || client_id.len() > 64 {
        violations.add("client_message_id", "must be 1 to 64 characters");
    }
    if req.reply_to_sequence < 0 {
        violations.add("reply_to_sequence", "must not be negative");
    }
    if req.attachment_ids.len() > MAX_ATTACHMENTS {
        violations.add("attachment_ids", "at most 10 attachments a message");
    }
    let mut attachments = Vec::new();
    for (i, media) in req.attachment_ids.iter().enumerate() {
        if let Some(media) = frevix_platform::ids::parse_uuid(
            &format!("attachment_ids[{i}]"),
            media,
            &mut violations,
        ) && !attachments.contains(&media)
        {
            attachments.push(media);
        }
    }
    let conversation = violations.finish(conversation)?.unwrap_or_default();
    let lookup = store::sending::Lookup {
        conversation,
        sender: me,
        client_message_id: client_id.to_owned(),
    };
    let context = inner
        .lookups
        .context(lookup)
        .await?
        .filter(|c| c.members.iter().any(|m| m.account == me))
        .ok_or(ApiError::NotFound("conversation"))?;
    if context.existing.is_some()
        && let Some(stored) =
            store::find_by_client_id(&inner.db, conversation, me, client_id).await?
    {
        return Ok(convert::message(&stored));
    }
    if req.reply_to_sequence > context.last_seq {
        return Err(FieldViolations::single(
            "reply_to_sequence",
            format!(
                "must be 0 to {}, the conversation's last sequence",
                context.last_seq
            ),
        )
        .into());
    }
    check_attachments(inner, me, conversation, &attachments).await?;
    let archived = context.members.iter().any(|m| m.archived);
    let members: Vec<Uuid> = context.members.iter().map(|m| m.account).collect();
    let others: Vec<Uuid> = members.iter().copied().filter(|m| *m != me).collect();
    if context.kind == "DIRECT" {
        check_not_blocked(&context.members)?;
    }
    // Only new messages count against the limit; resends are free.
    inner
        .sends
        .check(&me.to_string())
        .map_err(ApiError::RateLimited)?;
    let (shown, original) = masked_text(inner, me, &others, text).await?;
    let new = NewMessage {
        row: MessageRow {
            id: Uuid::now_v7(),
            conversation_id: conversation,
            // Assigned by the writer.
            seq: 0,
            sender_id: me,
            client_message_id: client_id.to_owned(),
            masked: original.is_some(),
            text: shown,
            original_text: original,
            created_at: Utc::now(),
            kind: "USER".to_owned(),
            reply_to_seq: req.reply_to_sequence,
            attachments: attachments
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
        unarchive: archived,
        attachments,
    };
    let row = match inner.writer.write(new).await {
        Ok(row) => row,
        // A racing resend with the same client id won: answer its message.
        Err(MessagingError::Api(error)) if error.db_error().is_some_and(is_unique_violation) => {
            store::find_by_client_id(&inner.db, conversation, me, client_id)
                .await?
                .ok_or(ApiError::NotFound("conversation"))?
        }
        Err(error) => return Err(error),
    };
    let message = convert::message(&row);
    inner
        .hub
        .publish(&members, Live::Message(message.clone()))
        .await;
    Ok(message)
}

/// Text longer than this is refused.
pub(crate) const MAX_TEXT: usize = 5000;
const MAX_ATTACHMENTS: usize = 10;

/// INVALID_ARGUMENT unless every attachment is a medium `me` uploaded, or
/// one already attached in this conversation (forwarding within it).
async fn check_attachments(
    inner: &Inner,
    me: Uuid,
    conversation: Uuid,
    attachments: &[Uuid],
) -> Result<()> {
    if attachments.is_empty() {
        return Ok(());
    }
    let found = store::media::find_many(&inner.db, attachments).await?;
    let mut violations = FieldViolations::new();
    for (i, id) in attachments.iter().enumerate() {
        let mine = found.iter().any(|m| m.id == *id && m.owner_id == me);
        let here = !mine
            && store::media::links(&inner.db, *id)
                .await?
                .iter()
                .any(|link| {
                    link.place == store::media::CONVERSATION && link.place_id == conversation
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

/// FAILED_PRECONDITION when the sender blocked the other member of a direct
/// conversation, or was blocked by them.
fn check_not_blocked(members: &[store::sending::Member]) -> Result<()> {
    if let Some(other) = members.iter().find(|m| m.blocked_by_sender) {
        return Err(ApiError::precondition(
            "YOU_BLOCKED_ACCOUNT",
            other.account.to_string(),
            "you blocked this account; unblock it to write to it",
        )
        .into());
    }
    if members.iter().any(|m| m.blocks_sender) {
        return Err(ApiError::precondition(
            "BLOCKED",
            "conversation",
            "this account does not accept messages from you",
        )
        .into());
    }
    Ok(())
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
    let Some(masked) = crate::mask::mask(text) else {
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
    let conversation = parse_id("conversation_id", &req.conversation_id)?;
    let mut violations = FieldViolations::new();
    let limit = match req.limit {
        0 => 50,
        n if (1..=200).contains(&n) => u64::try_from(n).unwrap_or(50),
        _ => {
            violations.add("limit", "must be 1 to 200");
            50
        }
    };
    if req.after_sequence < 0 || req.before_sequence < 0 {
        violations.add("after_sequence", "sequences are not negative");
    }
    violations.finish(())?;
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
    let conversation = parse_id("conversation_id", &req.conversation_id)?;
    let (row, _) = membership(inner, conversation, me).await?;
    if req.up_to_sequence < 0 || req.up_to_sequence > row.last_seq {
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
