//! Authentication shared by every service: access tokens are ES256 JWTs that
//! identity signs; each service verifies them again (defence in depth behind
//! Envoy, and because services are reached directly in development), turns
//! them into a typed [`Principal`], and lets only an explicit allow-list of
//! public RPCs through without one.

mod claims;
mod deny;
pub mod deny_feed;
mod jwks;
mod layer;
mod stream_guard;
mod verified;
mod verifier;

pub use claims::{AccessClaims, Principal, Role, Roles, STEP_UP_WINDOW, StepUp, require_step_up};
pub use deny::{Denial, DenyList};
pub use jwks::RemoteJwks;
pub use layer::{Authenticator, authenticate, principal};
pub use stream_guard::{Guarded, Renewal, guard};
pub use verifier::{AuthError, KeySet, TokenVerifier};
