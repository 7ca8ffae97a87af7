//! ListTransactions: the caller's money movements, newest first, each from
//! the caller's side (the client paid, was refunded, released; the
//! freelancer earned).

use chrono::{DateTime, Utc};
use frevix_platform::error::FieldViolations;
use frevix_platform::ids::parse_uuid;
use frevix_platform::paging::{PageLimits, fingerprint, finish_page, parse_page};
use frevix_platform::request::caller;
use frevix_proto::payments::v1 as pb;
use tonic::Request;
use uuid::Uuid;

use crate::Inner;
use crate::convert::{money, timestamp};
use crate::error::Result;
use crate::ledger::{Account, AccountKind};
use crate::store::views::{self, HistoryFilter, Moved};

const LIMITS: PageLimits = PageLimits {
    default_size: 20,
    max_size: 100,
};

type Cursor = (DateTime<Utc>, String);

pub async fn list(
    inner: &Inner,
    request: Request<pb::ListTransactionsRequest>,
) -> Result<pb::ListTransactionsResponse> {
    let caller = caller(&request)?;
    let request = request.get_ref();
    let mut violations = FieldViolations::new();
    let contract = if request.contract_id.is_empty() {
        None
    } else {
        parse_uuid("contract_id", &request.contract_id, &mut violations)
    };
    let since = time(request.since.as_ref(), "since", &mut violations);
    let until = time(request.until.as_ref(), "until", &mut violations);
    if let (Some(since), Some(until)) = (since, until) {
        violations.check(since < until, "until", "must be after since");
    }
    let filters = fingerprint(&(contract, since, until));
    let page = parse_page::<Cursor>(request.page.as_ref(), LIMITS, &filters, &mut violations);
    violations.finish(())?;
    let party = caller.account_id.0;
    let moved = views::history(
        &inner.db,
        &HistoryFilter {
            party,
            contract,
            since,
            until,
            after: page.after,
            limit: page.size + 1,
        },
    )
    .await?;
    let (moved, page) = finish_page(moved, page.size, &filters, |m| (m.created_at, m.id.clone()));
    Ok(pb::ListTransactionsResponse {
        transactions: moved.iter().map(|m| seen_by(m, party)).collect(),
        page: Some(page),
    })
}

fn time(
    at: Option<&prost_types::Timestamp>,
    field: &str,
    violations: &mut FieldViolations,
) -> Option<DateTime<Utc>> {
    let at = at?;
    let parsed = u32::try_from(at.nanos)
        .ok()
        .and_then(|nanos| DateTime::from_timestamp(at.seconds, nanos));
    violations.check(parsed.is_some(), field, "must be a valid time");
    parsed
}

/// The sum of the entries on accounts of `kind`.
fn sum(moved: &Moved, kind: AccountKind) -> i64 {
    moved
        .entries
        .iter()
        .filter(|(key, _)| Account::parse(key).is_some_and(|a| a.kind == kind))
        .map(|(_, amount)| amount)
        .sum()
}

/// One transaction as `party` sees it.
fn seen_by(moved: &Moved, party: Uuid) -> pb::Transaction {
    let as_client = moved.client_id == party;
    let fee = sum(moved, AccountKind::PlatformRevenue);
    let out_of_escrow = -sum(moved, AccountKind::Escrow);
    let refunded = sum(moved, AccountKind::ClientRefunds);
    let (kind, amount, fee, refunded) = match (moved.kind.as_str(), as_client) {
        ("fund", _) => (
            pb::TransactionType::Payment,
            sum(moved, AccountKind::Escrow),
            0,
            0,
        ),
        ("refund" | "chargeback_lost", _) => (pb::TransactionType::Refund, refunded, 0, 0),
        ("payout", _) => (
            pb::TransactionType::Payout,
            sum(moved, AccountKind::FreelancerPaidOut),
            0,
            0,
        ),
        ("release", true) => (pb::TransactionType::Release, out_of_escrow, fee, 0),
        ("settle", true) => (
            pb::TransactionType::Settlement,
            out_of_escrow - refunded,
            fee,
            refunded,
        ),
        (_, _) => (
            pb::TransactionType::Earning,
            sum(moved, AccountKind::FreelancerPayable),
            fee,
            0,
        ),
    };
    let optional = |minor: i64| {
        (minor != 0)
            .then(|| money(&moved.currency, minor))
            .flatten()
    };
    pb::Transaction {
        id: moved.id.clone(),
        r#type: kind.into(),
        contract_id: moved.contract_id.to_string(),
        milestone_id: moved
            .milestone_id
            .map(|id| id.to_string())
            .unwrap_or_default(),
        amount: money(&moved.currency, amount),
        fee: optional(fee),
        created_at: Some(timestamp(moved.created_at)),
        refunded: optional(refunded),
    }
}
