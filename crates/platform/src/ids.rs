//! Typed ids: every id is a UUID wrapped in its own type so an account id can
//! never be passed where a session id is expected. Services declare theirs
//! with [`typed_id!`]; the ids every service needs (accounts, sessions) live
//! here because the authenticated principal carries them.

use uuid::Uuid;

use crate::error::FieldViolations;

/// Declares a UUID newtype with parsing that reports a field violation.
#[macro_export]
macro_rules! typed_id {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub struct $name(pub ::uuid::Uuid);

        impl $name {
            /// A new time-ordered id (UUIDv7), so inserts stay index-friendly.
            pub fn generate() -> Self {
                Self(::uuid::Uuid::now_v7())
            }

            /// Parses a request field, recording a violation when it is not a UUID.
            pub fn parse_field(
                field: &str,
                text: &str,
                violations: &mut $crate::error::FieldViolations,
            ) -> Option<Self> {
                $crate::ids::parse_uuid(field, text, violations).map(Self)
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                ::std::fmt::Display::fmt(&self.0, f)
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = ::uuid::Error;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                ::uuid::Uuid::parse_str(s).map(Self)
            }
        }

        impl From<::uuid::Uuid> for $name {
            fn from(id: ::uuid::Uuid) -> Self {
                Self(id)
            }
        }

        impl From<$name> for ::uuid::Uuid {
            fn from(id: $name) -> Self {
                id.0
            }
        }

        /// Lets a store filter by the typed id (`Column::Id.eq(id)`).
        impl From<$name> for $crate::sea_orm::Value {
            fn from(id: $name) -> Self {
                id.0.into()
            }
        }
    };
}

/// Parses `text` as a UUID for `field`; an empty or malformed value is a
/// violation. Only the hyphenated form (8-4-4-4-12 hex digits, either case)
/// is an id: the form the contract's `buf.validate` `uuid` rule accepts, so
/// a client checking that rule and the server agree on every value.
pub fn parse_uuid(field: &str, text: &str, violations: &mut FieldViolations) -> Option<Uuid> {
    if text.is_empty() {
        violations.add(field, "is required");
        return None;
    }
    match Uuid::parse_str(text) {
        Ok(id) if text.len() == 36 => Some(id),
        _ => {
            violations.add(field, "must be a UUID (8-4-4-4-12 hex digits)");
            None
        }
    }
}

typed_id!(
    /// An account in identity; the `sub` of an access token.
    AccountId
);
typed_id!(
    /// A login session in identity; the `sid` of an access token.
    SessionId
);

/// Namespace of contract ids derived from what they were made from.
const CONTRACT_NAMESPACE: uuid::Uuid =
    uuid::Uuid::from_u128(0x3c0e_52a1_9b1d_4e0a_8f6e_2b7d_91c4_a55e);

/// The id of the contract an accepted proposal becomes: the same on every
/// replay, so a client can poll for it at once and a redelivered event
/// creates nothing twice.
pub fn contract_id_for_proposal(proposal_id: uuid::Uuid) -> uuid::Uuid {
    uuid::Uuid::new_v5(
        &CONTRACT_NAMESPACE,
        format!("proposal:{proposal_id}").as_bytes(),
    )
}

/// The id of a contract's conversation: derived from the contract's, so
/// that contracts can name it (GetContract) without asking messaging, and
/// messaging opens it once however its events arrive.
pub fn conversation_id_for_contract(contract_id: uuid::Uuid) -> uuid::Uuid {
    uuid::Uuid::new_v5(
        &CONTRACT_NAMESPACE,
        format!("conversation:{contract_id}").as_bytes(),
    )
}
