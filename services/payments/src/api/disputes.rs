//! ListChargebacks: card disputes, for ADMINs.

use chrono::{DateTime, Utc};
use frevix_platform::auth::{Role, require_step_up};
use frevix_platform::error::{ApiError, FieldViolations};
use frevix_platform::paging::{PageLimits, fingerprint, finish_page, parse_page};
use frevix_platform::request::caller_with;
use frevix_proto::payments::v1 as pb;
use tonic::Request;

use crate::Inner;
use crate::convert::{money, timestamp};
use crate::error::Result;
use crate::store::chargebacks::{self, ChargebackRow};

const LIMITS: PageLimits = PageLimits {
    default_size: 20,
    max_size: 100,
};

fn message(row: &ChargebackRow) -> pb::Chargeback {
    pb::Chargeback {
        id: row.id.clone(),
        charge_id: row.charge_id.clone(),
        contract_id: row.contract_id.to_string(),
        milestone_id: row.milestone_id.to_string(),
        amount: money(&row.currency, row.amount_minor),
        reason: row.reason.clone(),
        status: row.status.clone(),
        held: money(&row.currency, row.held_minor),
        open_time: Some(timestamp(row.opened_at)),
        close_time: row.closed_at.map(timestamp),
    }
}

pub async fn list(
    inner: &Inner,
    request: Request<pb::ListChargebacksRequest>,
) -> Result<pb::ListChargebacksResponse> {
    let admin = caller_with(&request, Role::Admin)?;
    require_step_up(&admin, true).map_err(|step_up| {
        ApiError::precondition(step_up.reason(), "session", step_up.message())
    })?;
    let request = request.get_ref();
    let mut violations = FieldViolations::new();
    let status = match request.status.as_str() {
        "" => None,
        known @ ("open" | "won" | "lost") => Some(known),
        _ => {
            violations.add("status", "must be open, won, lost or empty");
            None
        }
    };
    let filters = fingerprint(&status);
    let page = parse_page::<(DateTime<Utc>, String)>(
        request.page.as_ref(),
        LIMITS,
        &filters,
        &mut violations,
    );
    violations.finish(())?;
    let rows = chargebacks::list(&inner.db, status, page.after, page.size + 1).await?;
    let (rows, page) = finish_page(rows, page.size, &filters, |row| {
        (row.opened_at, row.id.clone())
    });
    Ok(pb::ListChargebacksResponse {
        chargebacks: rows.iter().map(message).collect(),
        page: Some(page),
    })
}
