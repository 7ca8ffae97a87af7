//! Messaging's typed ids: a message id cannot be passed where a
//! conversation id is meant. (Accounts are the platform's `AccountId`.)

frevix_platform::typed_id!(
    /// A conversation: direct, group, or a contract's.
    ConversationId
);
frevix_platform::typed_id!(
    /// A message in a conversation.
    MessageId
);
frevix_platform::typed_id!(
    /// An uploaded file (an attachment, a delivery's file).
    MediaId
);
