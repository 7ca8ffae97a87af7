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
    /// When the holder last proved who they are (OIDC's `auth_time`):
    /// login or reauthentication, not refresh. 0 in older tokens.
    #[serde(default)]
    pub auth_time: i64,
    /// Whether that proof included a second factor.
    #[serde(default)]
    pub mfa: bool,
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
    /// When the holder last proved who they are (see `auth_time`).
    pub authenticated_at: chrono::DateTime<chrono::Utc>,
    /// Whether that proof included a second factor.
    pub second_factor: bool,
}

/// How recent an authentication sensitive actions need (step-up).
pub const STEP_UP_WINDOW: chrono::Duration = chrono::Duration::minutes(10);

impl Principal {
    pub fn is_admin(&self) -> bool {
        self.roles.admin
    }

    /// Whether the holder proved who they are within [`STEP_UP_WINDOW`].
    pub fn authenticated_recently(&self, now: chrono::DateTime<chrono::Utc>) -> bool {
        now - self.authenticated_at <= STEP_UP_WINDOW
    }
}

/// Why a sensitive action needs the caller to prove themselves first;
/// answered as FAILED_PRECONDITION with [`StepUp::reason`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StepUp {
    /// The session did not sign in with a second factor.
    TwoFactorRequired,
    /// The last proof is older than [`STEP_UP_WINDOW`].
    ReauthenticationRequired,
}

impl StepUp {
    pub fn reason(self) -> &'static str {
        match self {
            StepUp::TwoFactorRequired => "TWO_FACTOR_REQUIRED",
            StepUp::ReauthenticationRequired => "REAUTHENTICATION_REQUIRED",
        }
    }

    pub fn message(self) -> &'static str {
        match self {
            StepUp::TwoFactorRequired => {
                "this needs a sign-in with two-factor authentication: turn it on, then sign in with a code"
            }
            StepUp::ReauthenticationRequired => {
                "this needs a recent authentication: call Reauthenticate, then retry within 10 minutes"
            }
        }
    }
}

/// `Ok` when `principal` authenticated within [`STEP_UP_WINDOW`] (and with
/// a second factor when `second_factor` is asked): what ADMIN actions and
/// payout accounts require.
pub fn require_step_up(principal: &Principal, second_factor: bool) -> Result<(), StepUp> {
    if second_factor && !principal.second_factor {
        return Err(StepUp::TwoFactorRequired);
    }
    if !principal.authenticated_recently(chrono::Utc::now()) {
        return Err(StepUp::ReauthenticationRequired);
    }
    Ok(())
}
