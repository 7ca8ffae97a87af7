//! How a row's nested values with amounts are kept as JSON text: minor
//! units beside a currency code (a gig's packages and extras carry their
//! own; a proposal's milestones are in the proposal's currency). These are
//! the shapes rows already hold, apart from the domain's types, so the
//! domain can speak `Money` while stored rows stay readable; they change
//! only with a migration.

use frevix_platform::money::{Currency, Money};
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::{from_json, to_json};
use crate::domain::gig::{Extra, Package};
use crate::domain::job::Milestone;

#[derive(Serialize, Deserialize)]
struct PackageRecord {
    tier: i32,
    name: String,
    description: String,
    currency: String,
    price_minor: i64,
    delivery_days: i32,
    revisions: i32,
    features: Vec<String>,
}

#[derive(Serialize, Deserialize)]
struct ExtraRecord {
    id: Uuid,
    title: String,
    currency: String,
    price_minor: i64,
    extra_days: i32,
}

#[derive(Serialize, Deserialize)]
struct MilestoneRecord {
    title: String,
    amount_minor: i64,
    due_in_days: i32,
}

/// A stored amount; one in a currency no longer supported is dropped with
/// its item (and said so), never shown in another currency.
fn stored(code: &str, minor_units: i64, what: &str) -> Option<Money> {
    let money = Money::from_stored(code, minor_units);
    if money.is_none() {
        tracing::warn!(code, what, "a stored amount's currency is not supported");
    }
    money
}

pub fn packages_json(packages: &[Package]) -> String {
    let records: Vec<PackageRecord> = packages
        .iter()
        .map(|p| PackageRecord {
            tier: p.tier,
            name: p.name.clone(),
            description: p.description.clone(),
            currency: p.price.currency.code().to_owned(),
            price_minor: p.price.minor_units,
            delivery_days: p.delivery_days,
            revisions: p.revisions,
            features: p.features.clone(),
        })
        .collect();
    to_json(&records)
}

pub fn packages_from(text: &str) -> Vec<Package> {
    from_json::<Vec<PackageRecord>>(text)
        .into_iter()
        .filter_map(|p| {
            Some(Package {
                price: stored(&p.currency, p.price_minor, "package")?,
                tier: p.tier,
                name: p.name,
                description: p.description,
                delivery_days: p.delivery_days,
                revisions: p.revisions,
                features: p.features,
            })
        })
        .collect()
}

pub fn extras_json(extras: &[Extra]) -> String {
    let records: Vec<ExtraRecord> = extras
        .iter()
        .map(|e| ExtraRecord {
            id: e.id,
            title: e.title.clone(),
            currency: e.price.currency.code().to_owned(),
            price_minor: e.price.minor_units,
            extra_days: e.extra_days,
        })
        .collect();
    to_json(&records)
}

pub fn extras_from(text: &str) -> Vec<Extra> {
    from_json::<Vec<ExtraRecord>>(text)
        .into_iter()
        .filter_map(|e| {
            Some(Extra {
                price: stored(&e.currency, e.price_minor, "extra")?,
                id: e.id,
                title: e.title,
                extra_days: e.extra_days,
            })
        })
        .collect()
}

pub fn milestones_json(milestones: &[Milestone]) -> String {
    let records: Vec<MilestoneRecord> = milestones
        .iter()
        .map(|m| MilestoneRecord {
            title: m.title.clone(),
            amount_minor: m.amount.minor_units,
            due_in_days: m.due_in_days,
        })
        .collect();
    to_json(&records)
}

/// A proposal's milestones, in its `currency`.
pub fn milestones_from(text: &str, currency: Currency) -> Vec<Milestone> {
    from_json::<Vec<MilestoneRecord>>(text)
        .into_iter()
        .map(|m| Milestone {
            title: m.title,
            amount: Money::new(currency, m.amount_minor),
            due_in_days: m.due_in_days,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stored_packages_and_milestones_read_back_as_written() {
        let usd = |minor| Money::new(Currency::USD, minor);
        let packages = vec![Package {
            tier: 1,
            name: "Basic".into(),
            description: "A logo".into(),
            price: usd(5000),
            delivery_days: 3,
            revisions: 1,
            features: vec!["vector".into()],
        }];
        let json = packages_json(&packages);
        // The shape rows already hold.
        assert!(
            json.contains(r#""currency":"USD","price_minor":5000"#),
            "{json}"
        );
        assert_eq!(packages_from(&json), packages);
        let milestones = vec![Milestone {
            title: "Draft".into(),
            amount: usd(700),
            due_in_days: 4,
        }];
        let json = milestones_json(&milestones);
        assert_eq!(milestones_from(&json, Currency::USD), milestones);
    }
}
