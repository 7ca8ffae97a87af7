//! Identity's own typed ids (accounts and sessions are the platform's,
//! since tokens carry them): a code's id cannot be passed where a refresh
//! token's is meant.

frevix_platform::typed_id!(
    /// A mailed one-time code (verification or password reset).
    CodeId
);
frevix_platform::typed_id!(
    /// One refresh token of a session's rotation chain.
    RefreshTokenId
);
frevix_platform::typed_id!(
    /// An entry of an account's security log.
    SecurityEventId
);
