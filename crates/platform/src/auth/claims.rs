//! What an access token says, and the principal a verified token becomes.

use serde::{Deserialize, Serialize};

use crate::ids::{AccountId, SessionId};

/// A role an account holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Role {
    Client,
    Freelancer,
    Admin,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Client => "CLIENT",
            Role::Freelancer => "FREELANCER",
            Role::Admin => "ADMIN",
        }
    }
}

/// The set of roles of one account.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash)]
pub struct Roles {
    pub client: bool,
    pub freelancer: bool,
    pub admin: bool,
}

impl Roles {
    pub fn contains(self, role: Role) -> bool {
        match role {
            Role::Client => self.client,
            Role::Freelancer => self.freelancer,
            Role::Admin => self.admin,
        }
    }

    pub fn insert(&mut self, role: Role) {
        match role {
            Role::Client => self.client = true,
            Role::Freelancer => self.freelancer = true,
            Role::Admin => self.admin = true,
        }
    }

    /// The roles held, in a fixed order.
    pub fn to_vec(self) -> Vec<Role> {
        [Role::Client, Role::Freelancer, Role::Admin]
            .into_iter()
            .filter(|role| self.contains(*role))
            .collect()
    }

    pub fn from_roles(roles: impl IntoIterator<Item = Role>) -> Self {
        let mut set = Roles::default();
        for role in roles {
            set.insert(role);
        }
        set
    }
}

/// The claims of a Frevix access token.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessClaims {
    /// The account id.
    pub sub: String,
    /// The login session id.
    pub sid: String,
    pub roles: Vec<Role>,
    pub iss: String,
    pub aud: String,
    /// Issued at, seconds since the epoch.
    pub iat: i64,
    /// Expires at, seconds since the epoch.
    pub exp: i64,
    /// Token id.
    pub jti: String,
}

/// Who is calling: what a verified access token proves.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    pub account_id: AccountId,
    pub session_id: SessionId,
    pub roles: Roles,
    /// When the token stops being valid (a stream opened with it ends then,
    /// unless the client sends a fresh token on it).
    pub expires_at: chrono::DateTime<chrono::Utc>,
}

impl Principal {
    pub fn is_admin(&self) -> bool {
        self.roles.admin
    }
}
