//! Admission of a Chat stream's send frames. A frame is admitted or
//! refused when it arrives, not once the frames before it are done (which
//! under load would make even a refusal wait): admitted, it takes a turn of
//! the send path and joins the stream's queue, whose sends are stored in
//! the order sent; refused (no turn within `messaging.send_wait_ms`, or the
//! stream's queue full), it is answered at once with `SendFailed`
//! UNAVAILABLE `OVER_CAPACITY` and nothing is stored.
//!
//! Once a frame of a conversation is refused, the stream's later frames of
//! that conversation are refused too until the refused one is sent again:
//! a resend can never land behind messages written after it.

use std::collections::HashMap;

use frevix_proto::messaging::v1 as pb;

/// Conversations a stream holds one refusal for; past this, refusals are
/// not remembered (the stream is shedding nearly everything anyway).
const MAX_HELD: usize = 256;

/// Refused sends a stream's later sends must wait for.
#[derive(Debug, Default)]
pub struct Holds {
    /// Conversation → the client id of its first refused send.
    refused: HashMap<String, String>,
}

impl Holds {
    /// Whether `send` must be refused because an earlier send of its
    /// conversation was and has not been sent again; the refused one
    /// itself, sent again, lifts the hold.
    pub fn blocks(&mut self, send: &pb::SendMessageRequest) -> bool {
        match self.refused.get(&send.conversation_id) {
            Some(first) if *first == send.client_message_id => {
                self.refused.remove(&send.conversation_id);
                false
            }
            Some(_) => true,
            None => false,
        }
    }

    /// `send` was refused for capacity: later sends of its conversation
    /// wait for it.
    pub fn refused(&mut self, send: &pb::SendMessageRequest) {
        if self.refused.len() < MAX_HELD || self.refused.contains_key(&send.conversation_id) {
            self.refused
                .entry(send.conversation_id.clone())
                .or_insert_with(|| send.client_message_id.clone());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn send(conversation: &str, id: &str) -> pb::SendMessageRequest {
        pb::SendMessageRequest {
            conversation_id: conversation.into(),
            client_message_id: id.into(),
            ..Default::default()
        }
    }

    #[test]
    fn a_refused_send_holds_its_conversation_until_it_is_sent_again() {
        let mut holds = Holds::default();
        assert!(!holds.blocks(&send("a", "1")));
        holds.refused(&send("a", "2"));
        assert!(holds.blocks(&send("a", "3")), "3 would land before 2");
        holds.refused(&send("a", "3"));
        assert!(!holds.blocks(&send("b", "9")), "other conversations go on");
        assert!(!holds.blocks(&send("a", "2")), "the refused one again");
        assert!(!holds.blocks(&send("a", "3")), "then the rest");
    }

    #[test]
    fn holds_are_bounded() {
        let mut holds = Holds::default();
        for i in 0..1_000 {
            holds.refused(&send(&format!("c{i}"), "1"));
        }
        assert_eq!(holds.refused.len(), MAX_HELD);
    }
}
