//! ReconcileLedger: an ADMIN compares the books with the provider.

use chrono::{DateTime, Duration};
use frevix_platform::auth::{Role, require_step_up};
use frevix_platform::error::{ApiError, FieldViolations};
use frevix_platform::request::caller_with;
use frevix_proto::payments::v1 as pb;
use tonic::Request;

use crate::Inner;
use crate::error::{PaymentsError, Result};
use crate::reconcile::{self, ReconcileError};

/// The longest period one call compares.
const MAX_DAYS: i64 = 93;

fn time(
    at: Option<&prost_types::Timestamp>,
    field: &str,
    violations: &mut FieldViolations,
) -> Option<DateTime<chrono::Utc>> {
    let parsed = at.and_then(|at| {
        u32::try_from(at.nanos)
            .ok()
            .and_then(|nanos| DateTime::from_timestamp(at.seconds, nanos))
    });
    violations.check(parsed.is_some(), field, "must be a valid time");
    parsed
}

pub async fn reconcile_ledger(
    inner: &Inner,
    request: Request<pb::ReconcileLedgerRequest>,
) -> Result<pb::ReconcileLedgerResponse> {
    let admin = caller_with(&request, Role::Admin)?;
    require_step_up(&admin, true).map_err(|step_up| {
        ApiError::precondition(step_up.reason(), "session", step_up.message())
    })?;
    let request = request.get_ref();
    let mut violations = FieldViolations::new();
    let from = time(request.from.as_ref(), "from", &mut violations);
    let until = time(request.until.as_ref(), "until", &mut violations);
    if let (Some(from), Some(until)) = (from, until) {
        violations.check(
            from < until && until - from <= Duration::days(MAX_DAYS),
            "until",
            "must be after from, by at most 93 days",
        );
    }
    let (from, until) = violations.finish((from, until))?;
    let (Some(from), Some(until)) = (from, until) else {
        return Err(ApiError::internal("times checked above").into());
    };
    let report = match reconcile::reconcile(&inner.db, inner.provider.as_ref(), from, until).await {
        Ok(report) => report,
        Err(ReconcileError::Provider(error)) => return Err(PaymentsError::from(error)),
        Err(ReconcileError::Db(error)) => return Err(error.into()),
    };
    let checked =
        |kind| i32::try_from(report.checked.get(kind).copied().unwrap_or(0)).unwrap_or(i32::MAX);
    Ok(pb::ReconcileLedgerResponse {
        charges_checked: checked("charge"),
        refunds_checked: checked("refund"),
        transfers_checked: checked("transfer"),
        differences: report
            .differences
            .iter()
            .map(|d| pb::ReconcileDifference {
                kind: d.kind.as_str().to_owned(),
                id: d.id.clone(),
                description: d.description.clone(),
            })
            .collect(),
    })
}
