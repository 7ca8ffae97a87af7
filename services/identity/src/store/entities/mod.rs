//! sea-orm entities of identity's tables.

pub mod accounts;
pub mod email_codes;
pub mod login_attempts;
pub mod recovery_codes;
pub mod refresh_tokens;
pub mod security_events;
pub mod sessions;
pub mod signing_keys;
pub mod two_factor;
