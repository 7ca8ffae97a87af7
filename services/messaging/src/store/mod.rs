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
pub mod notes;
pub mod safety;
pub mod search;
pub mod sending;
mod sequences;

pub use entities::conversations::Model as ConversationRow;
pub use entities::members::Model as MemberRow;
pub use entities::messages::Model as MessageRow;
pub use migration::Migrator;

pub use conversations::*;
pub use messages::*;
pub use sequences::*;
