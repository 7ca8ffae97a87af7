//! Accounts: their status machine, and parsing of the fields people type.

use frevix_platform::auth::{Role, Roles};
use frevix_platform::error::FieldViolations;
use frevix_proto::identity::v1 as pb;

/// Where an account is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AccountStatus {
    PendingVerification,
    Active,
    Suspended,
}

impl AccountStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            AccountStatus::PendingVerification => "PENDING_VERIFICATION",
            AccountStatus::Active => "ACTIVE",
            AccountStatus::Suspended => "SUSPENDED",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "PENDING_VERIFICATION" => Some(AccountStatus::PendingVerification),
            "ACTIVE" => Some(AccountStatus::Active),
            "SUSPENDED" => Some(AccountStatus::Suspended),
            _ => None,
        }
    }

    pub fn from_proto(status: pb::AccountStatus) -> Option<Self> {
        match status {
            pb::AccountStatus::Unspecified => None,
            pb::AccountStatus::PendingVerification => Some(AccountStatus::PendingVerification),
            pb::AccountStatus::Active => Some(AccountStatus::Active),
            pb::AccountStatus::Suspended => Some(AccountStatus::Suspended),
        }
    }

    pub fn to_proto(self) -> pb::AccountStatus {
        match self {
            AccountStatus::PendingVerification => pb::AccountStatus::PendingVerification,
            AccountStatus::Active => pb::AccountStatus::Active,
            AccountStatus::Suspended => pb::AccountStatus::Suspended,
        }
    }
}

/// Why an account with the right password still may not log in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LoginRefusal {
    EmailNotVerified,
    Suspended,
}

/// Whether an account in `status` may log in or refresh.
pub fn may_log_in(status: AccountStatus) -> Result<(), LoginRefusal> {
    match status {
        AccountStatus::Active => Ok(()),
        AccountStatus::PendingVerification => Err(LoginRefusal::EmailNotVerified),
        AccountStatus::Suspended => Err(LoginRefusal::Suspended),
    }
}

/// A normalized (trimmed, lower-cased) and valid email address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Email(String);

impl Email {
    pub fn parse(field: &str, text: &str, violations: &mut FieldViolations) -> Option<Email> {
        let normalized = text.trim().to_lowercase();
        if normalized.is_empty() {
            violations.add(field, "is required");
            return None;
        }
        if normalized.len() > 254 || !email_address::EmailAddress::is_valid(&normalized) {
            violations.add(
                field,
                "must be a valid email address of at most 254 characters",
            );
            return None;
        }
        Some(Email(normalized))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// The name other users see: 1 to 80 characters, no control characters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DisplayName(String);

impl DisplayName {
    pub fn parse(field: &str, text: &str, violations: &mut FieldViolations) -> Option<DisplayName> {
        let trimmed = text.trim();
        let length = trimmed.chars().count();
        if length == 0 || length > 80 {
            violations.add(field, "must be 1 to 80 characters");
            return None;
        }
        if let Some(problem) = frevix_platform::text::label_problem(trimmed) {
            violations.add(field, problem);
            return None;
        }
        Some(DisplayName(trimmed.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Parses the roles a person may choose: a non-empty subset of CLIENT and
/// FREELANCER. ADMIN is granted only by an operator.
pub fn parse_chosen_roles(
    field: &str,
    roles: &[i32],
    violations: &mut FieldViolations,
) -> Option<Roles> {
    if !violations.check_len(field, roles.len(), 3) {
        return None;
    }
    let mut chosen = Roles::default();
    for value in roles {
        match pb::Role::try_from(*value) {
            Ok(pb::Role::Client) => chosen.insert(Role::Client),
            Ok(pb::Role::Freelancer) => chosen.insert(Role::Freelancer),
            Ok(pb::Role::Admin) => {
                violations.add(field, "ROLE_ADMIN cannot be chosen; an operator grants it");
                return None;
            }
            Ok(pb::Role::Unspecified) | Err(_) => {
                violations.add(field, "must contain only ROLE_CLIENT and ROLE_FREELANCER");
                return None;
            }
        }
    }
    if !chosen.client && !chosen.freelancer {
        violations.add(field, "must contain ROLE_CLIENT, ROLE_FREELANCER or both");
        return None;
    }
    Some(chosen)
}

pub fn role_to_proto(role: Role) -> pb::Role {
    match role {
        Role::Client => pb::Role::Client,
        Role::Freelancer => pb::Role::Freelancer,
        Role::Admin => pb::Role::Admin,
    }
}

pub fn role_from_proto(role: pb::Role) -> Option<Role> {
    match role {
        pb::Role::Client => Some(Role::Client),
        pb::Role::Freelancer => Some(Role::Freelancer),
        pb::Role::Admin => Some(Role::Admin),
        pb::Role::Unspecified => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn emails_are_trimmed_and_lower_cased() {
        let mut violations = FieldViolations::new();
        let email = Email::parse("email", "  Ada@Example.COM ", &mut violations).unwrap();
        assert_eq!(email.as_str(), "ada@example.com");
        assert!(Email::parse("email", "not-an-email", &mut violations).is_none());
        assert_eq!(violations.iter().count(), 1);
    }

    #[test]
    fn admin_and_empty_role_sets_are_refused() {
        let mut violations = FieldViolations::new();
        assert!(parse_chosen_roles("roles", &[pb::Role::Admin as i32], &mut violations).is_none());
        assert!(parse_chosen_roles("roles", &[], &mut violations).is_none());
        let both = parse_chosen_roles(
            "roles",
            &[pb::Role::Client as i32, pb::Role::Freelancer as i32],
            &mut FieldViolations::new(),
        )
        .unwrap();
        assert!(both.client && both.freelancer && !both.admin);
    }

    #[test]
    fn only_active_accounts_log_in() {
        assert_eq!(may_log_in(AccountStatus::Active), Ok(()));
        assert_eq!(
            may_log_in(AccountStatus::PendingVerification),
            Err(LoginRefusal::EmailNotVerified)
        );
        assert_eq!(
            may_log_in(AccountStatus::Suspended),
            Err(LoginRefusal::Suspended)
        );
    }
}
