//! sea-orm entities of identity's tables.

pub mod accounts;
pub mod email_codes;
pub mod login_attempts;
pub mod refresh_tokens;
pub mod sessions;
pub mod signing_keys;
