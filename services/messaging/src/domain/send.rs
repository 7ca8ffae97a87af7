//! What a message must be to be sent, and who may send it where. The API
//! parses a request into a [`Draft`], asks the store for the conversation's
//! facts ([`Member`]s, its last sequence) and these rules for the answer,
//! so every path that sends (SendMessage and Chat's send frames) obeys the
//! same ones.

use frevix_platform::error::{ApiError, FieldViolations};
use frevix_proto::messaging::v1 as pb;
use uuid::Uuid;

use super::{ConversationId, ConversationKind, MediaId};

/// Text longer than this is refused.
pub const MAX_TEXT: usize = 5000;
/// Files one message may carry.
pub const MAX_ATTACHMENTS: usize = 10;
/// The longest client message id (the app's key for a resend).
pub const MAX_CLIENT_ID: usize = 64;

/// A send request that passed its field checks.
#[derive(Debug, PartialEq, Eq)]
pub struct Draft<'a> {
    pub conversation: ConversationId,
    /// Trimmed; empty only when files are attached.
    pub text: &'a str,
    pub client_message_id: &'a str,
    /// 0: not a reply.
    pub reply_to: i64,
    /// Without repeats, in the order given.
    pub attachments: Vec<MediaId>,
}

impl<'a> Draft<'a> {
    /// Checks every field, reporting all that are wrong at once.
    pub fn parse(req: &'a pb::SendMessageRequest) -> Result<Self, FieldViolations> {
        let mut violations = FieldViolations::new();
        let conversation =
            ConversationId::parse_field("conversation_id", &req.conversation_id, &mut violations);
        let text = req.text.trim();
        let empty_allowed = !req.attachment_ids.is_empty();
        if (text.is_empty() && !empty_allowed) || !text_fits(text) {
            violations.add(
                "text",
                "must be 1 to 5,000 characters (it may be empty with attachments)",
            );
        }
        let client_message_id = req.client_message_id.trim();
        if client_message_id.is_empty() || client_message_id.len() > MAX_CLIENT_ID {
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
            if let Some(media) =
                MediaId::parse_field(&format!("attachment_ids[{i}]"), media, &mut violations)
                && !attachments.contains(&media)
            {
                attachments.push(media);
            }
        }
        let conversation = violations.finish(conversation)?;
        Ok(Draft {
            conversation: conversation.unwrap_or(ConversationId(Uuid::nil())),
            text,
            client_message_id,
            reply_to: req.reply_to_sequence,
            attachments,
        })
    }
}

/// Whether `text` is within the length a message may have.
pub fn text_fits(text: &str) -> bool {
    text.chars().count() <= MAX_TEXT
}

/// A member of the conversation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Member {
    pub account: Uuid,
    pub archived: bool,
    /// In a direct conversation, this member blocked the other one (false
    /// elsewhere: blocks do not silence groups and contracts).
    pub blocks_other: bool,
}

/// Whether `me` is among `members` (anyone else is told the conversation
/// does not exist).
pub fn is_member(members: &[Member], me: Uuid) -> bool {
    members.iter().any(|m| m.account == me)
}

/// The members other than the sender: who is notified.
pub fn recipients(members: &[Member], me: Uuid) -> Vec<Uuid> {
    members
        .iter()
        .map(|m| m.account)
        .filter(|m| *m != me)
        .collect()
}

/// INVALID_ARGUMENT unless the reply names a message that exists.
pub fn check_reply(reply_to: i64, last_seq: i64) -> Result<(), FieldViolations> {
    if reply_to > last_seq {
        return Err(FieldViolations::single(
            "reply_to_sequence",
            format!("must be 0 to {last_seq}, the conversation's last sequence"),
        ));
    }
    Ok(())
}

/// FAILED_PRECONDITION when, in a direct conversation, the sender `me`
/// blocked the other member or was blocked by them. Groups and contracts are
/// not silenced by a block (a contract's parties must be able to talk).
pub fn check_not_blocked(
    kind: ConversationKind,
    members: &[Member],
    me: Uuid,
) -> Result<(), ApiError> {
    if kind != ConversationKind::Direct {
        return Ok(());
    }
    let mut others = members.iter().filter(|m| m.account != me);
    let i_block = members.iter().any(|m| m.account == me && m.blocks_other);
    if i_block && let Some(other) = others.clone().next() {
        return Err(ApiError::precondition(
            "YOU_BLOCKED_ACCOUNT",
            other.account.to_string(),
            "you blocked this account; unblock it to write to it",
        ));
    }
    if others.any(|m| m.blocks_other) {
        return Err(ApiError::precondition(
            "BLOCKED",
            "conversation",
            "this account does not accept messages from you",
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request() -> pb::SendMessageRequest {
        pb::SendMessageRequest {
            conversation_id: Uuid::now_v7().to_string(),
            text: "  hello  ".into(),
            client_message_id: "c1".into(),
            ..Default::default()
        }
    }

    fn fields(error: FieldViolations) -> Vec<String> {
        error.iter().map(|(field, _)| field.to_owned()).collect()
    }

    #[test]
    fn a_draft_is_trimmed_and_keeps_each_attachment_once() {
        let media = Uuid::now_v7().to_string();
        let req = pb::SendMessageRequest {
            attachment_ids: vec![media.clone(), media.clone()],
            ..request()
        };
        let draft = Draft::parse(&req).unwrap();
        assert_eq!(draft.text, "hello");
        assert_eq!(draft.attachments.len(), 1);
    }

    #[test]
    fn every_wrong_field_is_reported_at_once() {
        let req = pb::SendMessageRequest {
            conversation_id: "nope".into(),
            text: "x".repeat(MAX_TEXT + 1),
            client_message_id: " ".into(),
            reply_to_sequence: -1,
            attachment_ids: vec!["bad".into()],
        };
        let error = Draft::parse(&req).unwrap_err();
        assert_eq!(
            fields(error),
            [
                "conversation_id",
                "text",
                "client_message_id",
                "reply_to_sequence",
                "attachment_ids[0]"
            ]
        );
    }

    #[test]
    fn empty_text_needs_an_attachment() {
        let req = pb::SendMessageRequest {
            text: " ".into(),
            ..request()
        };
        assert_eq!(fields(Draft::parse(&req).unwrap_err()), ["text"]);
        let req = pb::SendMessageRequest {
            text: String::new(),
            attachment_ids: vec![Uuid::now_v7().to_string()],
            ..request()
        };
        assert!(Draft::parse(&req).is_ok());
    }

    fn member(blocks_other: bool) -> Member {
        Member {
            account: Uuid::now_v7(),
            archived: false,
            blocks_other,
        }
    }

    #[test]
    fn a_block_silences_direct_conversations_only() {
        // The sender is the first member.
        let blocked = [member(false), member(true)];
        let me = blocked[0].account;
        let error = check_not_blocked(ConversationKind::Direct, &blocked, me).unwrap_err();
        assert!(
            matches!(
                error,
                ApiError::FailedPrecondition {
                    reason: "BLOCKED",
                    ..
                }
            ),
            "{error:?}"
        );
        let blocking = [member(true), member(false)];
        let error = check_not_blocked(ConversationKind::Direct, &blocking, blocking[0].account)
            .unwrap_err();
        assert!(
            matches!(
                error,
                ApiError::FailedPrecondition {
                    reason: "YOU_BLOCKED_ACCOUNT",
                    ..
                }
            ),
            "{error:?}"
        );
        // The message names whom the sender blocked.
        assert!(format!("{error:?}").contains(&blocking[1].account.to_string()));
        assert!(
            check_not_blocked(
                ConversationKind::Direct,
                &[member(false), member(false)],
                me
            )
            .is_ok()
        );
        assert!(check_not_blocked(ConversationKind::Group, &blocked, me).is_ok());
        assert!(
            check_not_blocked(ConversationKind::Contract, &blocking, blocking[0].account).is_ok()
        );
    }

    #[test]
    fn a_reply_names_an_existing_message() {
        assert!(check_reply(0, 0).is_ok());
        assert!(check_reply(5, 5).is_ok());
        assert!(check_reply(6, 5).is_err());
    }

    #[test]
    fn recipients_are_everyone_but_the_sender() {
        let members = [member(false), member(false)];
        let me = members[0].account;
        assert!(is_member(&members, me));
        assert!(!is_member(&members, Uuid::now_v7()));
        assert_eq!(recipients(&members, me), [members[1].account]);
    }
}
