//! Messaging persistence: conversations, their members with read
//! positions, and messages numbered per conversation at commit.

pub mod contacts;
mod conversations;
pub mod entities;
pub mod feed;
pub mod media;
mod messages;
pub mod migration;
mod migration_features;
mod migration_search_pending;
mod migration_thumbnails;
mod migrator;
pub mod notes;
pub mod safety;
pub mod search;
pub mod sending;
mod sequences;

pub use entities::conversations::Model as ConversationRow;
pub use entities::members::Model as MemberRow;
pub use entities::messages::Model as MessageRow;
pub use migrator::Migrator;

pub use conversations::*;
pub use messages::*;
pub use sequences::*;

use crate::domain::{ConversationId, MediaId, MessageId};

/// The typed ids of stored rows.
impl ConversationRow {
    pub fn typed_id(&self) -> ConversationId {
        ConversationId(self.id)
    }
}

impl MemberRow {
    pub fn conversation(&self) -> ConversationId {
        ConversationId(self.conversation_id)
    }
}

impl MessageRow {
    pub fn typed_id(&self) -> MessageId {
        MessageId(self.id)
    }

    pub fn conversation(&self) -> ConversationId {
        ConversationId(self.conversation_id)
    }
}

impl media::MediaRow {
    pub fn typed_id(&self) -> MediaId {
        MediaId(self.id)
    }
}
