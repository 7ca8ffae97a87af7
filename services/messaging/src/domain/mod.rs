//! Messaging's rules, free of storage and transport: what a message must
//! be to be sent and who may send it, what contact details are hidden
//! before a contract is funded, what an uploaded file must be, and the
//! kinds of conversations and messages. The API asks the store for facts
//! and these functions for answers.

pub mod content;
pub mod ids;
pub mod kinds;
pub mod mask;
pub mod send;

pub use ids::{ConversationId, MediaId, MessageId};
pub use kinds::{ConversationKind, EmailState, MessageKind};
