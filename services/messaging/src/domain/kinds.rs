//! The kinds of conversations and messages, stored as their names.

use frevix_proto::messaging::v1 as pb;

/// How a conversation came to be, which decides who may join and write.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConversationKind {
    /// Two accounts; either may block the other.
    Direct,
    /// Named, with admins who add and remove members.
    Group,
    /// A contract's parties, opened from contracts' events.
    Contract,
}

impl ConversationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ConversationKind::Direct => "DIRECT",
            ConversationKind::Group => "GROUP",
            ConversationKind::Contract => "CONTRACT",
        }
    }

    /// The stored name; anything unknown reads as direct, the most
    /// restricted kind.
    pub fn parse(text: &str) -> Self {
        match text {
            "GROUP" => ConversationKind::Group,
            "CONTRACT" => ConversationKind::Contract,
            _ => ConversationKind::Direct,
        }
    }

    pub fn to_proto(self) -> pb::ConversationKind {
        match self {
            ConversationKind::Direct => pb::ConversationKind::Direct,
            ConversationKind::Group => pb::ConversationKind::Group,
            ConversationKind::Contract => pb::ConversationKind::Contract,
        }
    }
}

/// Who wrote a message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    /// A member; it may be edited and deleted by them.
    User,
    /// Frevix (a contract's milestone, a payment): never edited.
    System,
}

impl MessageKind {
    pub fn as_str(self) -> &'static str {
        match self {
            MessageKind::User => "USER",
            MessageKind::System => "SYSTEM",
        }
    }

    pub fn parse(text: &str) -> Self {
        match text {
            "SYSTEM" => MessageKind::System,
            _ => MessageKind::User,
        }
    }
}

/// Where a notification's mail stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EmailState {
    /// Not to be mailed (the account wants it in the app only).
    None,
    /// To be mailed by the notification mailer.
    Pending,
    Sent,
}

impl EmailState {
    pub fn as_str(self) -> &'static str {
        match self {
            EmailState::None => "NONE",
            EmailState::Pending => "PENDING",
            EmailState::Sent => "SENT",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_read_back_as_stored() {
        for kind in [
            ConversationKind::Direct,
            ConversationKind::Group,
            ConversationKind::Contract,
        ] {
            assert_eq!(ConversationKind::parse(kind.as_str()), kind);
        }
        for kind in [MessageKind::User, MessageKind::System] {
            assert_eq!(MessageKind::parse(kind.as_str()), kind);
        }
        let states = [EmailState::None, EmailState::Pending, EmailState::Sent];
        let mut names: Vec<_> = states.iter().map(|state| state.as_str()).collect();
        names.dedup();
        assert_eq!(names.len(), states.len());
    }
}
