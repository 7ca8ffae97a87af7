//! What every handler first asks of its request: who calls (with a role,
//! when the RPC needs one) and which resource it names, as typed ids, each
//! failure already the status clients expect.

use tonic::Request;
use uuid::Uuid;

use crate::auth::{AuthError, Principal, Role};
use crate::error::{ApiError, FieldViolations};

/// The caller of an authenticated RPC.
pub fn caller<T>(request: &Request<T>) -> Result<Principal, ApiError> {
    request
        .extensions()
        .get::<Principal>()
        .cloned()
        .ok_or(ApiError::Unauthenticated(AuthError::Missing))
}

/// The caller, who must hold `role`: PERMISSION_DENIED
/// `FREELANCER_ROLE_REQUIRED`, `CLIENT_ROLE_REQUIRED` or `ADMIN_REQUIRED`
/// otherwise.
pub fn caller_with<T>(request: &Request<T>, role: Role) -> Result<Principal, ApiError> {
    let caller = caller(request)?;
    if caller.roles.contains(role) {
        return Ok(caller);
    }
    Err(match role {
        Role::Freelancer => ApiError::permission_denied(
            "FREELANCER_ROLE_REQUIRED",
            "only FREELANCER accounts may do this; add the role with UpdateAccount",
        ),
        Role::Client => ApiError::permission_denied(
            "CLIENT_ROLE_REQUIRED",
            "only CLIENT accounts may do this; add the role with UpdateAccount",
        ),
        Role::Admin => ApiError::permission_denied("ADMIN_REQUIRED", "only an ADMIN may do this"),
    })
}

/// The id in request field `field`, as its type: INVALID_ARGUMENT naming
/// the field when it is not a UUID.
pub fn parse_id<I: From<Uuid>>(field: &str, text: &str) -> Result<I, ApiError> {
    let mut violations = FieldViolations::new();
    let id = crate::ids::parse_uuid(field, text, &mut violations);
    match (violations.finish(()), id) {
        (Ok(()), Some(id)) => Ok(I::from(id)),
        (Err(violations), _) => Err(violations.into()),
        (Ok(()), None) => Err(FieldViolations::single(field, "must be a UUID").into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ids::AccountId;

    #[test]
    fn a_bad_id_names_its_field() {
        let error = parse_id::<AccountId>("gig_id", "not-a-uuid").unwrap_err();
        let ApiError::InvalidArgument(violations) = error else {
            panic!("{error:?}")
        };
        assert_eq!(violations.iter().next().map(|(f, _)| f), Some("gig_id"));
        let id = Uuid::now_v7();
        assert_eq!(
            parse_id::<AccountId>("gig_id", &id.to_string()).unwrap(),
            AccountId(id)
        );
    }

    #[test]
    fn a_caller_without_the_role_is_told_which_one() {
        let request = Request::new(());
        assert!(matches!(
            caller_with(&request, Role::Client),
            Err(ApiError::Unauthenticated(AuthError::Missing))
        ));
    }
}
