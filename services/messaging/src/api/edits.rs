//! EditMessage, DeleteMessage, ListMessageEdits. Only the sender changes a
//! message: edits within the configured window, each earlier text kept and
//! visible to members; a delete empties the text and attachments and drops
//! the earlier texts, for everyone, while the sequence stays so no client
//! sees a gap. Members' feeds hear of each change.

use chrono::Utc;
use frevix_platform::db::Txn;
use frevix_platform::error::{ApiError, FieldViolations};
use frevix_proto::messaging::v1 as pb;
use tonic::Request;
use uuid::Uuid;

use super::messages::masked_text;
use super::{caller, membership};
use crate::Inner;
use crate::convert;
use crate::domain::{ConversationId, MediaId, MessageKind, send};
use crate::error::{MessagingError, Result};
use crate::hub::Live;
use crate::store::{self, MessageRow};

/// Parses the conversation and sequence of a message request.
fn target(
    conversation_id: &str,
    sequence: i64,
    mut violations: FieldViolations,
) -> Result<(ConversationId, i64)> {
    let conversation =
        ConversationId::parse_field("conversation_id", conversation_id, &mut violations);
    if sequence < 1 {
        violations.add("sequence", "must be at least 1");
    }
    Ok((
        violations
            .finish(conversation)?
            .unwrap_or(ConversationId(Uuid::nil())),
        sequence,
    ))
}

/// The message, if `me` is a member.
async fn find(
    inner: &Inner,
    me: Uuid,
    conversation: ConversationId,
    seq: i64,
) -> Result<MessageRow> {
    membership(inner, conversation, me).await?;
    store::message_at(&inner.db, conversation, seq)
        .await?
        .ok_or(ApiError::NotFound("message").into())
}

/// The message, if `me` sent it and it can still change.
async fn own(
    inner: &Inner,
    me: Uuid,
    conversation: ConversationId,
    seq: i64,
) -> Result<MessageRow> {
    let row = find(inner, me, conversation, seq).await?;
    if MessageKind::parse(&row.kind) == MessageKind::System {
        return Err(ApiError::precondition(
            "SYSTEM_MESSAGE",
            "sequence",
            "system messages cannot be changed",
        )
        .into());
    }
    if row.sender_id != me {
        return Err(ApiError::permission_denied(
            "NOT_SENDER",
            "only the sender can change a message",
        )
        .into());
    }
    if row.deleted {
        return Err(ApiError::precondition(
            "MESSAGE_DELETED",
            "sequence",
            "the message was deleted",
        )
        .into());
    }
    Ok(row)
}

async fn announce(inner: &Inner, row: &MessageRow) -> Result<pb::Message> {
    let change_sequence = row.changed_seq;
    let message = convert::message(row);
    let members: Vec<Uuid> = store::member_ids(&inner.db, row.conversation()).await?;
    inner
        .hub
        .publish(
            &members,
            Live::Changed(pb::MessageChanged {
                message: Some(message.clone()),
                change_sequence,
            }),
        )
        .await;
    Ok(message)
}

pub async fn edit(
    inner: &Inner,
    request: Request<pb::EditMessageRequest>,
) -> Result<pb::EditMessageResponse> {
    let me = caller(&request)?;
    let req = request.into_inner();
    let text = req.text.trim();
    let mut violations = FieldViolations::new();
    violations.check(
        !text.is_empty() && send::text_fits(text),
        "text",
        "must be 1 to 5,000 characters",
    );
    let (conversation, seq) = target(&req.conversation_id, req.sequence, violations)?;
    let row = own(inner, me, conversation, seq).await?;
    let now = Utc::now();
    if now - row.created_at > inner.edit_window {
        return Err(ApiError::precondition(
            "EDIT_WINDOW_PASSED",
            "sequence",
            format!(
                "messages can be edited for {} minutes after sending",
                inner.edit_window.num_minutes()
            ),
        )
        .into());
    }
    let others: Vec<Uuid> = store::member_ids(&inner.db, conversation)
        .await?
        .into_iter()
        .filter(|m| *m != me)
        .collect();
    let (shown, original) = masked_text(inner, me, &others, text).await?;
    if shown == row.text {
        return Ok(pb::EditMessageResponse {
            message: Some(convert::message(&row)),
        });
    }
    let txn = Txn::begin(&inner.db).await?;
    store::insert_edit(&txn, row.typed_id(), row.text.clone(), now).await?;
    let changed_seq = store::next_change_seq(&txn, conversation).await?;
    let updated = store::update_message(
        &txn,
        MessageRow {
            changed_seq,
            masked: original.is_some(),
            text: shown,
            original_text: original,
            edited_at: Some(now),
            ..row
        },
    )
    .await?;
    txn.commit().await?;
    Ok(pb::EditMessageResponse {
        message: Some(announce(inner, &updated).await?),
    })
}

pub async fn delete(
    inner: &Inner,
    request: Request<pb::DeleteMessageRequest>,
) -> Result<pb::DeleteMessageResponse> {
    let me = caller(&request)?;
    let req = request.into_inner();
    let (conversation, seq) = target(&req.conversation_id, req.sequence, FieldViolations::new())?;
    let row = match own(inner, me, conversation, seq).await {
        // Deleting again answers the deleted message.
        Err(MessagingError::Api(ApiError::FailedPrecondition {
            reason: "MESSAGE_DELETED",
            ..
        })) => {
            let row = find(inner, me, conversation, seq).await?;
            return Ok(pb::DeleteMessageResponse {
                message: Some(convert::message(&row)),
            });
        }
        other => other?,
    };
    let txn = Txn::begin(&inner.db).await?;
    store::delete_edits(&txn, row.typed_id()).await?;
    // Its files leave the conversation with it, unless another message there
    // still carries them (their uploader keeps them either way).
    for media in row
        .attachments
        .split_whitespace()
        .filter_map(|id| id.parse::<MediaId>().ok())
    {
        if !store::still_attached(&txn, conversation, row.typed_id(), media).await? {
            store::media::unlink(&txn, media, store::media::CONVERSATION, conversation.0).await?;
        }
    }
    let changed_seq = store::next_change_seq(&txn, conversation).await?;
    let updated = store::update_message(
        &txn,
        MessageRow {
            changed_seq,
            text: String::new(),
            original_text: None,
            attachments: String::new(),
            masked: false,
            deleted: true,
            ..row
        },
    )
    .await?;
    txn.commit().await?;
    Ok(pb::DeleteMessageResponse {
        message: Some(announce(inner, &updated).await?),
    })
}

pub async fn list_edits(
    inner: &Inner,
    request: Request<pb::ListMessageEditsRequest>,
) -> Result<pb::ListMessageEditsResponse> {
    let me = caller(&request)?;
    let req = request.into_inner();
    let (conversation, seq) = target(&req.conversation_id, req.sequence, FieldViolations::new())?;
    let row = find(inner, me, conversation, seq).await?;
    let edits = store::edits_of(&inner.db, row.typed_id()).await?;
    Ok(pb::ListMessageEditsResponse {
        edits: edits
            .into_iter()
            .map(|edit| pb::MessageEdit {
                text: edit.text,
                replace_time: Some(convert::timestamp(edit.replaced_at)),
            })
            .collect(),
    })
}
