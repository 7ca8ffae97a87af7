//! What payments knows of a contract, from contracts' events: its parties,
//! its currency, and what may be charged (each milestone's amount, each
//! approved hourly week's invoice). Payments never takes an amount from a
//! client: it charges what these terms say.

use frevix_platform::money::{Currency, Money};
use frevix_proto::common::v1 as common;
use frevix_proto::contracts::v1 as contracts;
use uuid::Uuid;

/// Why an event cannot be read as terms (a bug upstream: the consumer
/// keeps the event and retries, so nothing is lost meanwhile).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct TermsError(pub String);

/// How a contract is paid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Billing {
    /// Milestone by milestone (gig orders and fixed-price jobs).
    Milestones,
    /// Weekly invoices at a rate.
    Hourly {
        rate: Money,
        weekly_limit_minutes: i32,
    },
}

/// One milestone as agreed: what funding it charges.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MilestoneTerms {
    pub id: Uuid,
    pub position: i32,
    pub title: String,
    pub amount: Money,
}

/// A contract as payments keeps it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ContractTerms {
    pub id: Uuid,
    pub client: Uuid,
    pub freelancer: Uuid,
    pub currency: Currency,
    pub billing: Billing,
    pub milestones: Vec<MilestoneTerms>,
}

/// An approved week of an hourly contract, to be charged.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvoiceTerms {
    pub id: Uuid,
    pub contract: Uuid,
    pub week_start: String,
    pub minutes: i32,
    pub amount: Money,
}

fn id(field: &str, text: &str) -> Result<Uuid, TermsError> {
    Uuid::parse_str(text).map_err(|_| TermsError(format!("{field} is not a UUID: {text:?}")))
}

fn money(field: &str, money: Option<&common::Money>) -> Result<Money, TermsError> {
    money
        .and_then(|m| Money::from_stored(&m.currency_code, m.minor_units))
        .filter(|m| m.minor_units > 0)
        .ok_or_else(|| TermsError(format!("{field} is not a positive amount")))
}

/// A milestone of `currency` from contracts' message.
pub fn milestone(
    field: &str,
    milestone: &contracts::Milestone,
    currency: Option<Currency>,
) -> Result<MilestoneTerms, TermsError> {
    let amount = money(&format!("{field}.amount"), milestone.amount.as_ref())?;
    if currency.is_some_and(|currency| currency != amount.currency) {
        return Err(TermsError(format!(
            "{field} is in {}, not the contract's currency",
            amount.currency.code()
        )));
    }
    Ok(MilestoneTerms {
        id: id(&format!("{field}.id"), &milestone.id)?,
        position: milestone.position,
        title: milestone.title.chars().take(200).collect(),
        amount,
    })
}

impl ContractTerms {
    /// The terms ContractCreated announces: milestones (at least one, one
    /// currency) or hourly terms.
    pub fn from_event(event: &contracts::ContractCreated) -> Result<Self, TermsError> {
        let billing = match &event.hourly {
            Some(hourly) => Billing::Hourly {
                rate: money("hourly.rate", hourly.rate.as_ref())?,
                weekly_limit_minutes: hourly.weekly_limit_minutes,
            },
            None => Billing::Milestones,
        };
        let mut currency = match billing {
            Billing::Hourly { rate, .. } => Some(rate.currency),
            Billing::Milestones => None,
        };
        let mut milestones = Vec::with_capacity(event.milestones.len());
        for (i, m) in event.milestones.iter().enumerate() {
            let terms = milestone(&format!("milestones[{i}]"), m, currency)?;
            currency = Some(terms.amount.currency);
            milestones.push(terms);
        }
        let currency = currency.ok_or_else(|| {
            TermsError("a contract with neither milestones nor hourly terms".to_owned())
        })?;
        Ok(Self {
            id: id("contract_id", &event.contract_id)?,
            client: id("client_id", &event.client_id)?,
            freelancer: id("freelancer_id", &event.freelancer_id)?,
            currency,
            billing,
            milestones,
        })
    }
}

impl InvoiceTerms {
    pub fn from_event(event: &contracts::HourlyInvoiceApproved) -> Result<Self, TermsError> {
        Ok(Self {
            id: id("invoice_id", &event.invoice_id)?,
            contract: id("contract_id", &event.contract_id)?,
            week_start: event.week_start.chars().take(10).collect(),
            minutes: event.minutes,
            amount: money("amount", event.amount.as_ref())?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd(minor_units: i64) -> Option<common::Money> {
        Some(common::Money {
            currency_code: "USD".into(),
            minor_units,
        })
    }

    fn created() -> contracts::ContractCreated {
        contracts::ContractCreated {
            contract_id: Uuid::now_v7().to_string(),
            client_id: Uuid::now_v7().to_string(),
            freelancer_id: Uuid::now_v7().to_string(),
            milestones: vec![contracts::Milestone {
                id: Uuid::now_v7().to_string(),
                title: "Design".into(),
                amount: usd(50_000),
                position: 1,
                ..Default::default()
            }],
            ..Default::default()
        }
    }

    #[test]
    fn a_fixed_price_contract_is_billed_by_its_milestones() {
        let terms = ContractTerms::from_event(&created()).unwrap();
        assert_eq!(terms.billing, Billing::Milestones);
        assert_eq!(terms.currency, Currency::USD);
        assert_eq!(terms.milestones[0].amount.minor_units, 50_000);
    }

    #[test]
    fn an_hourly_contract_is_billed_at_its_rate() {
        let mut event = created();
        event.milestones.clear();
        event.hourly = Some(contracts::HourlyTerms {
            rate: usd(4_000),
            weekly_limit_minutes: 600,
            paused: false,
        });
        let terms = ContractTerms::from_event(&event).unwrap();
        assert!(matches!(
            terms.billing,
            Billing::Hourly {
                weekly_limit_minutes: 600,
                ..
            }
        ));
    }

    #[test]
    fn unreadable_terms_are_refused() {
        let mut mixed = created();
        let mut second = mixed.milestones[0].clone();
        second.amount = Some(common::Money {
            currency_code: "EUR".into(),
            minor_units: 1_000,
        });
        mixed.milestones.push(second);
        let mut empty = created();
        empty.milestones.clear();
        let mut free = created();
        free.milestones[0].amount = usd(0);
        let mut bad_id = created();
        bad_id.client_id = "someone".into();
        for event in [mixed, empty, free, bad_id] {
            assert!(ContractTerms::from_event(&event).is_err(), "{event:?}");
        }
    }
}
