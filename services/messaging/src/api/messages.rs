//! SendMessage, GetMessages, MarkRead.

use chrono::Utc;
use frevix_platform::db::is_unique_violation;
use frevix_platform::error::FieldViolations;
use frevix_proto::messaging::v1 as pb;
use sea_orm::TransactionTrait;
use tonic::Request;
use uuid::Uuid;

use super::{caller, membership, parse_id};
use crate::Inner;
use crate::convert;
use crate::error::{MessagingError, Result};
use crate::hub::Live;
use crate::store::{self, MessageRow};

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
/// the one path of SendMessage and of Connect's send frames.
pub(crate) async fn send_as(
    inner: &Inner,
    me: Uuid,
    req: &pb::SendMessageRequest,
) -> Result<pb::Message> {
    let mut violations = FieldViolations::new();
    let conversation =
        frevix_platform::ids::parse_uuid("conversation_id", &req.conversation_id, &mut violations);
    let text = req.text.trim();
    if text.is_empty() || text.chars().count() > 5000 {
        violations.add("text", "must be 1 to 5,000 characters");
    }
    let client_id = req.client_message_id.trim();
    if client_id.is_empty() || client_id.len() > 64 {
        violations.add("client_message_id", "must be 1 to 64 characters");
    }
    let conversation = violations.finish(conversation)?.unwrap_or_default();
    membership(inner, conversation, me).await?;
    if let Some(stored) = store::find_by_client_id(&inner.db, conversation, me, client_id).await? {
        return Ok(convert::message(&stored));
    }
    // Only new messages count against the limit; resends are free.
    inner
        .sends
        .check(&me.to_string())
        .map_err(MessagingError::RateLimited)?;
    let now = Utc::now();
    let stored: Result<MessageRow> = async {
        let txn = inner.db.begin().await?;
        let seq = store::next_seq(&txn, conversation, now).await?;
        let row = store::insert_message(
            &txn,
            MessageRow {
                id: Uuid::now_v7(),
                conversation_id: conversation,
                seq,
                sender_id: me,
                client_message_id: client_id.to_owned(),
                text: text.to_owned(),
                created_at: now,
            },
        )
        .await?;
        let members = store::members_of(&txn, vec![conversation]).await?;
        let event = frevix_proto::messaging::v1::MessageSent {
            message_id: row.id.to_string(),
            conversation_id: conversation.to_string(),
            sequence: seq,
            sender_id: me.to_string(),
            recipient_ids: members
                .iter()
                .filter(|m| m.account_id != me)
                .map(|m| m.account_id.to_string())
                .collect(),
        };
        inner
            .outbox
            .publish(&txn, "conversation", &conversation.to_string(), &event)
            .await?;
        txn.commit().await?;
        Ok(row)
    }
    .await;
    let row = match stored {
        Ok(row) => row,
        // A racing resend with the same client id won: answer its message.
        Err(MessagingError::Database(error)) if is_unique_violation(&error) => {
            store::find_by_client_id(&inner.db, conversation, me, client_id)
                .await?
                .ok_or(MessagingError::ConversationNotFound)?
        }
        Err(error) => return Err(error),
    };
    inner.outbox.committed();
    let members: Vec<Uuid> = store::members_of(&inner.db, vec![conversation])
        .await?
        .into_iter()
        .map(|m| m.account_id)
        .collect();
    let message = convert::message(&row);
    inner.hub.publish(&members, &Live::Message(message.clone()));
    Ok(message)
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
    let members: Vec<Uuid> = store::members_of(&inner.db, vec![conversation])
        .await?
        .into_iter()
        .map(|m| m.account_id)
        .collect();
    inner.hub.publish(
        &members,
        &Live::Read(pb::ReadReceipt {
            conversation_id: conversation.to_string(),
            reader_id: me.to_string(),
            up_to_sequence: req.up_to_sequence,
        }),
    );
    Ok(())
}
