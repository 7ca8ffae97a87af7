//! Reconciliation: the books against the provider's own records for a
//! period. Every charge, refund and transfer on either side must be on the
//! other with the same amount and currency; each that is not is reported.
//! Both sides are read a day wider than the period, so a move recorded
//! just inside it on one side and just outside on the other (the provider
//! creates an intent before its charge succeeds) is not a difference.

use std::collections::BTreeMap;

use chrono::{DateTime, Duration, Utc};
use sea_orm::ConnectionTrait;

use crate::provider::{PaymentProvider, ProviderError, ProviderRecord, RecordKind};
use crate::store::views;

/// One disagreement between the books and the provider.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Difference {
    pub kind: RecordKind,
    /// The provider's id of the charge, refund or transfer.
    pub id: String,
    pub description: String,
}

/// What a reconciliation found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Moves compared, per kind (on either side, in the period).
    pub checked: BTreeMap<&'static str, usize>,
    pub differences: Vec<Difference>,
}

#[derive(Debug, thiserror::Error)]
pub enum ReconcileError {
    #[error(transparent)]
    Provider(#[from] ProviderError),
    #[error(transparent)]
    Db(#[from] sea_orm::DbErr),
}

/// A move as either side records it.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Move {
    amount_minor: i64,
    currency: String,
    at: DateTime<Utc>,
}

fn kind_of(ledger_kind: &str) -> Option<RecordKind> {
    match ledger_kind {
        "fund" => Some(RecordKind::Charge),
        "payout" => Some(RecordKind::Transfer),
        "refund" => Some(RecordKind::Refund),
        _ => None,
    }
}

/// Compares the books with the provider from `from` until `until`.
pub async fn reconcile(
    db: &impl ConnectionTrait,
    provider: &dyn PaymentProvider,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Result<Report, ReconcileError> {
    let margin = Duration::days(1);
    let mut books = BTreeMap::new();
    for (kind, id, amount_minor, currency, at) in
        views::provider_moves(db, from - margin, until + margin).await?
    {
        if let Some(kind) = kind_of(&kind) {
            books.insert(
                (kind, id),
                Move {
                    amount_minor,
                    currency,
                    at,
                },
            );
        }
    }
    let mut theirs = BTreeMap::new();
    for ProviderRecord {
        kind,
        id,
        amount_minor,
        currency,
        created,
    } in provider.records(from - margin, until + margin).await?
    {
        theirs.insert(
            (kind, id),
            Move {
                amount_minor,
                currency,
                at: created,
            },
        );
    }
    Ok(compare(&books, &theirs, from, until))
}

fn compare(
    books: &BTreeMap<(RecordKind, String), Move>,
    theirs: &BTreeMap<(RecordKind, String), Move>,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
) -> Report {
    let within = |m: &Move| m.at >= from && m.at < until;
    let mut report = Report::default();
    let mut differ = |kind: RecordKind, id: &str, description: String| {
        report.differences.push(Difference {
            kind,
            id: id.to_owned(),
            description,
        });
    };
    let mut checked: BTreeMap<&'static str, usize> = BTreeMap::new();
    for ((kind, id), ours) in books.iter().filter(|(_, m)| within(m)) {
        *checked.entry(kind.as_str()).or_default() += 1;
        match theirs.get(&(*kind, id.clone())) {
            None => differ(
                *kind,
                id,
                format!(
                    "{} {id} is in the books but not at the provider",
                    kind.as_str()
                ),
            ),
            Some(them)
                if them.amount_minor != ours.amount_minor || them.currency != ours.currency =>
            {
                differ(
                    *kind,
                    id,
                    format!(
                        "{} {id}: the books say {} {}, the provider {} {}",
                        kind.as_str(),
                        ours.amount_minor,
                        ours.currency,
                        them.amount_minor,
                        them.currency
                    ),
                )
            }
            Some(_) => {}
        }
    }
    for ((kind, id), them) in theirs.iter().filter(|(_, m)| within(m)) {
        if !books.contains_key(&(*kind, id.clone())) {
            *checked.entry(kind.as_str()).or_default() += 1;
            differ(
                *kind,
                id,
                format!(
                    "{} {id} of {} {} is at the provider but not in the books",
                    kind.as_str(),
                    them.amount_minor,
                    them.currency
                ),
            );
        }
    }
    report.checked = checked;
    report
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(hours: i64) -> DateTime<Utc> {
        DateTime::from_timestamp(1_800_000_000, 0).unwrap_or_default() + Duration::hours(hours)
    }

    fn moved(amount: i64, hours: i64) -> Move {
        Move {
            amount_minor: amount,
            currency: "USD".into(),
            at: at(hours),
        }
    }

    #[test]
    fn every_disagreement_is_reported_once_and_edges_are_not() {
        let key = |kind, id: &str| (kind, id.to_owned());
        let books = BTreeMap::from([
            (key(RecordKind::Charge, "ch_1"), moved(100, 1)),
            (key(RecordKind::Charge, "ch_2"), moved(200, 2)),
            (key(RecordKind::Transfer, "tr_1"), moved(90, 3)),
            // Just inside the period in the books, just outside at the
            // provider: the same move.
            (key(RecordKind::Charge, "ch_edge"), moved(50, 0)),
        ]);
        let theirs = BTreeMap::from([
            (key(RecordKind::Charge, "ch_1"), moved(100, 1)),
            (key(RecordKind::Charge, "ch_2"), moved(250, 2)),
            (key(RecordKind::Refund, "re_1"), moved(40, 4)),
            (key(RecordKind::Charge, "ch_edge"), moved(50, -1)),
        ]);
        let report = compare(&books, &theirs, at(0), at(10));
        let ids: Vec<_> = report.differences.iter().map(|d| d.id.as_str()).collect();
        assert_eq!(ids, ["ch_2", "tr_1", "re_1"]);
        assert_eq!(report.checked.get("charge"), Some(&3));
    }
}
