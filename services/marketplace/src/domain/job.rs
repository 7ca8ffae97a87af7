//! Jobs and proposals: what valid ones are, and their status machines.
//! A job is OPEN → CLOSED or FILLED; a proposal is SUBMITTED ⇄ SHORTLISTED
//! → DECLINED, WITHDRAWN or ACCEPTED.

use frevix_platform::error::FieldViolations;
use frevix_platform::money::{Currency, Money};
use frevix_proto::common::v1 as common;
use frevix_proto::marketplace::v1 as pb;

use super::gig::MAX_PRICE_MINOR;
use super::ids::CategoryId;
use super::text::bounded;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum JobStatus {
    Open,
    Closed,
    Filled,
}

impl JobStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            JobStatus::Open => "OPEN",
            JobStatus::Closed => "CLOSED",
            JobStatus::Filled => "FILLED",
        }
    }

    pub fn parse(text: &str) -> Self {
        match text {
            "OPEN" => JobStatus::Open,
            "FILLED" => JobStatus::Filled,
            _ => JobStatus::Closed,
        }
    }

    pub fn to_proto(self) -> pb::JobStatus {
        match self {
            JobStatus::Open => pb::JobStatus::Open,
            JobStatus::Closed => pb::JobStatus::Closed,
            JobStatus::Filled => pb::JobStatus::Filled,
        }
    }

    pub fn from_proto(status: pb::JobStatus) -> Option<Self> {
        match status {
            pb::JobStatus::Unspecified => None,
            pb::JobStatus::Open => Some(JobStatus::Open),
            pb::JobStatus::Closed => Some(JobStatus::Closed),
            pb::JobStatus::Filled => Some(JobStatus::Filled),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProposalStatus {
    Submitted,
    Shortlisted,
    Declined,
    Withdrawn,
    Accepted,
}

impl ProposalStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            ProposalStatus::Submitted => "SUBMITTED",
            ProposalStatus::Shortlisted => "SHORTLISTED",
            ProposalStatus::Declined => "DECLINED",
            ProposalStatus::Withdrawn => "WITHDRAWN",
            ProposalStatus::Accepted => "ACCEPTED",
        }
    }

    pub fn parse(text: &str) -> Self {
        match text {
            "SUBMITTED" => ProposalStatus::Submitted,
            "SHORTLISTED" => ProposalStatus::Shortlisted,
            "ACCEPTED" => ProposalStatus::Accepted,
            "WITHDRAWN" => ProposalStatus::Withdrawn,
            _ => ProposalStatus::Declined,
        }
    }

    pub fn to_proto(self) -> pb::ProposalStatus {
        match self {
            ProposalStatus::Submitted => pb::ProposalStatus::Submitted,
            ProposalStatus::Shortlisted => pb::ProposalStatus::Shortlisted,
            ProposalStatus::Declined => pb::ProposalStatus::Declined,
            ProposalStatus::Withdrawn => pb::ProposalStatus::Withdrawn,
            ProposalStatus::Accepted => pb::ProposalStatus::Accepted,
        }
    }

    pub fn from_proto(status: pb::ProposalStatus) -> Option<Self> {
        match status {
            pb::ProposalStatus::Unspecified => None,
            pb::ProposalStatus::Submitted => Some(ProposalStatus::Submitted),
            pb::ProposalStatus::Shortlisted => Some(ProposalStatus::Shortlisted),
            pb::ProposalStatus::Declined => Some(ProposalStatus::Declined),
            pb::ProposalStatus::Withdrawn => Some(ProposalStatus::Withdrawn),
            pb::ProposalStatus::Accepted => Some(ProposalStatus::Accepted),
        }
    }

    /// Still in the running.
    pub fn is_active(self) -> bool {
        matches!(
            self,
            ProposalStatus::Submitted | ProposalStatus::Shortlisted
        )
    }
}

/// What someone asks of a proposal.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProposalAction {
    Shortlist,
    Decline,
    Withdraw,
    Accept,
}

/// An action the proposal's status forbids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the proposal is {}, so it cannot be {}", .from.as_str().to_lowercase(), match .action {
    ProposalAction::Shortlist => "shortlisted",
    ProposalAction::Decline => "declined",
    ProposalAction::Withdraw => "withdrawn",
    ProposalAction::Accept => "accepted",
})]
pub struct IllegalProposalMove {
    pub from: ProposalStatus,
    pub action: ProposalAction,
}

/// The new status, and whether anything changed (repeating is harmless).
pub fn proposal_transition(
    from: ProposalStatus,
    action: ProposalAction,
) -> Result<(ProposalStatus, bool), IllegalProposalMove> {
    use ProposalAction::*;
    use ProposalStatus::*;
    match (from, action) {
        (Submitted, Shortlist) => Ok((Shortlisted, true)),
        (Shortlisted, Shortlist) => Ok((Shortlisted, false)),
        (Submitted | Shortlisted, Decline) => Ok((Declined, true)),
        (Declined, Decline) => Ok((Declined, false)),
        (Submitted | Shortlisted, Withdraw) => Ok((Withdrawn, true)),
        (Withdrawn, Withdraw) => Ok((Withdrawn, false)),
        (Submitted | Shortlisted, Accept) => Ok((Accepted, true)),
        (Accepted, Accept) => Ok((Accepted, false)),
        (from, action) => Err(IllegalProposalMove { from, action }),
    }
}

/// A job's budget.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Budget {
    /// The whole project's price.
    Fixed(Money),
    /// An hourly rate range, both ends in one currency.
    Hourly { min: Money, max: Money },
}

impl Budget {
    pub fn currency(&self) -> Currency {
        match self {
            Budget::Fixed(price) => price.currency,
            Budget::Hourly { min, .. } => min.currency,
        }
    }

    /// The lowest and highest amounts, in minor units (equal for a fixed price).
    pub fn range_minor(&self) -> (i64, i64) {
        match self {
            Budget::Fixed(price) => (price.minor_units, price.minor_units),
            Budget::Hourly { min, max } => (min.minor_units, max.minor_units),
        }
    }

    pub fn is_hourly(&self) -> bool {
        matches!(self, Budget::Hourly { .. })
    }
}

/// Everything of a job its owner writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JobContent {
    pub title: String,
    pub description: String,
    pub category_id: CategoryId,
    pub skills: Vec<String>,
    pub budget: Budget,
    pub expected_duration: i32,
    pub experience_level: i32,
    pub visibility: i32,
}

fn money(field: &str, value: Option<&common::Money>, v: &mut FieldViolations) -> Option<Money> {
    Money::parse_positive(field, value, MAX_PRICE_MINOR, v)
}

fn known_enum(field: &str, ok: bool, unspecified: bool, v: &mut FieldViolations) {
    if !ok {
        v.add(field, "is not a known value");
    } else if unspecified {
        v.add(field, "is required");
    }
}

impl JobContent {
    pub fn parse(job: &pb::Job, v: &mut FieldViolations) -> Option<JobContent> {
        let title = bounded("job.title", &job.title, 10, 100, v);
        let description = bounded("job.description", &job.description, 50, 10_000, v);
        let category_id = CategoryId::parse_field("job.category_id", &job.category_id, v);
        let skills = super::text::skills("job.skills", &job.skills, v);
        let budget = match &job.budget {
            None => {
                v.add("job.budget", "is required: fixed_price or hourly");
                None
            }
            Some(pb::job::Budget::FixedPrice(price)) => {
                money("job.fixed_price", Some(price), v).map(Budget::Fixed)
            }
            Some(pb::job::Budget::Hourly(range)) => {
                let min = money("job.hourly.min", range.min.as_ref(), v);
                let max = money("job.hourly.max", range.max.as_ref(), v);
                match (min, max) {
                    (Some(min), Some(max)) => {
                        if min.currency != max.currency {
                            v.add("job.hourly.max", "must be in the currency of min");
                            None
                        } else if max.minor_units < min.minor_units {
                            v.add("job.hourly.max", "must be at least min");
                            None
                        } else {
                            Some(Budget::Hourly { min, max })
                        }
                    }
                    _ => None,
                }
            }
        };
        let duration = pb::ProjectDuration::try_from(job.expected_duration);
        known_enum(
            "job.expected_duration",
            duration.is_ok(),
            duration == Ok(pb::ProjectDuration::Unspecified),
            v,
        );
        let level = pb::ExperienceLevel::try_from(job.experience_level);
        known_enum("job.experience_level", level.is_ok(), false, v);
        let visibility = match pb::JobVisibility::try_from(job.visibility) {
            Ok(pb::JobVisibility::Unspecified) => pb::JobVisibility::Public as i32,
            Ok(_) => job.visibility,
            Err(_) => {
                v.add("job.visibility", "is not a known value");
                0
            }
        };
        let (Some(title), Some(description), Some(category_id), Some(budget)) =
            (title, description, category_id, budget)
        else {
            return None;
        };
        v.is_empty().then_some(JobContent {
            title,
            description,
            category_id,
            skills,
            budget,
            expected_duration: job.expected_duration,
            experience_level: job.experience_level,
            visibility,
        })
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Milestone {
    pub title: String,
    pub amount: Money,
    pub due_in_days: i32,
}

/// Everything of a proposal its freelancer writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProposalContent {
    pub cover_letter: String,
    /// In the job's currency.
    pub bid: Money,
    pub estimated_days: i32,
    pub milestones: Vec<Milestone>,
}

pub const PROPOSAL_UPDATABLE: &[&str] = &["cover_letter", "bid", "estimated_days", "milestones"];

impl ProposalContent {
    /// The checks that do not depend on the job, made before it is looked up
    /// so that a bad request learns about every field at once.
    pub fn check_shape(proposal: &pb::Proposal, v: &mut FieldViolations) {
        terms(proposal, v);
        if proposal.milestones.len() > 10 {
            v.add("proposal.milestones", "must hold 1 to 10 milestones");
            return;
        }
        for (i, m) in proposal.milestones.iter().enumerate() {
            milestone(i, m, v);
        }
    }

    /// Parses a proposal for `budget` (its currency and kind decide the rules).
    pub fn parse(
        proposal: &pb::Proposal,
        budget: &Budget,
        v: &mut FieldViolations,
    ) -> Option<ProposalContent> {
        let (cover_letter, bid) = terms(proposal, v);
        let currency = budget.currency();
        if let Some(bid) = &bid
            && bid.currency != currency
        {
            v.add(
                "proposal.bid.currency_code",
                format!("must be the job's currency, {}", currency.code()),
            );
        }
        let milestones = parse_milestones(&proposal.milestones, budget, currency, v);
        let (Some(cover_letter), Some(bid)) = (cover_letter, bid) else {
            return None;
        };
        if !budget.is_hourly() {
            let sum: i64 = milestones.iter().map(|m| m.amount.minor_units).sum();
            if v.is_empty() && sum != bid.minor_units {
                v.add(
                    "proposal.milestones",
                    format!("must sum to the bid ({}), not {sum}", bid.minor_units),
                );
            }
        }
        v.is_empty().then_some(ProposalContent {
            cover_letter,
            bid,
            estimated_days: proposal.estimated_days,
            milestones,
        })
    }
}

fn parse_milestones(
    items: &[pb::ProposedMilestone],
    budget: &Budget,
    currency: Currency,
    v: &mut FieldViolations,
) -> Vec<Milestone> {
    if budget.is_hourly() {
        if !items.is_empty() {
            v.add("proposal.milestones", "must be empty for an hourly job");
        }
        return Vec::new();
    }
    if items.is_empty() || items.len() > 10 {
        v.add("proposal.milestones", "must hold 1 to 10 milestones");
        return Vec::new();
    }
    items
        .iter()
        .enumerate()
        .filter_map(|(i, m)| {
            let milestone = milestone(i, m, v);
            if let Some(milestone) = &milestone
                && milestone.amount.currency != currency
            {
                v.add(
                    format!("proposal.milestones[{i}].amount.currency_code"),
                    "must be the job's currency",
                );
            }
            milestone
        })
        .collect()
}

/// The cover letter and bid, and the estimate checked.
fn terms(proposal: &pb::Proposal, v: &mut FieldViolations) -> (Option<String>, Option<Money>) {
    let cover_letter = bounded("proposal.cover_letter", &proposal.cover_letter, 50, 5000, v);
    let bid = money("proposal.bid", proposal.bid.as_ref(), v);
    if !(1..=365).contains(&proposal.estimated_days) {
        v.add("proposal.estimated_days", "must be 1 to 365");
    }
    (cover_letter, bid)
}

/// One proposed milestone, whatever the job.
fn milestone(i: usize, m: &pb::ProposedMilestone, v: &mut FieldViolations) -> Option<Milestone> {
    let title = bounded(
        &format!("proposal.milestones[{i}].title"),
        &m.title,
        1,
        100,
        v,
    );
    let amount = money(
        &format!("proposal.milestones[{i}].amount"),
        m.amount.as_ref(),
        v,
    );
    if !(1..=365).contains(&m.due_in_days) {
        v.add(
            format!("proposal.milestones[{i}].due_in_days"),
            "must be 1 to 365",
        );
    }
    Some(Milestone {
        title: title?,
        amount: amount?,
        due_in_days: m.due_in_days,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn usd(minor: i64) -> Option<common::Money> {
        Some(common::Money {
            currency_code: "USD".into(),
            minor_units: minor,
        })
    }

    fn proposal(bid: i64, parts: &[i64]) -> pb::Proposal {
        pb::Proposal {
            cover_letter: "I have built this kind of thing many times before, happily.".into(),
            bid: usd(bid),
            estimated_days: 10,
            milestones: parts
                .iter()
                .map(|amount| pb::ProposedMilestone {
                    title: "Part".into(),
                    amount: usd(*amount),
                    due_in_days: 5,
                })
                .collect(),
            ..Default::default()
        }
    }

    fn fixed() -> Budget {
        Budget::Fixed(Money::new(Currency::USD, 100_000))
    }

    #[test]
    fn milestones_must_sum_to_the_bid() {
        let mut v = FieldViolations::new();
        assert!(ProposalContent::parse(&proposal(1000, &[400, 600]), &fixed(), &mut v).is_some());
        let mut v = FieldViolations::new();
        assert!(ProposalContent::parse(&proposal(1000, &[400, 500]), &fixed(), &mut v).is_none());
        assert_eq!(
            v.iter().map(|(f, _)| f).collect::<Vec<_>>(),
            ["proposal.milestones"]
        );
    }

    #[test]
    fn hourly_jobs_take_a_rate_and_no_milestones() {
        let hourly = Budget::Hourly {
            min: Money::new(Currency::USD, 1000),
            max: Money::new(Currency::USD, 5000),
        };
        let mut v = FieldViolations::new();
        assert!(ProposalContent::parse(&proposal(4000, &[]), &hourly, &mut v).is_some());
        let mut v = FieldViolations::new();
        assert!(ProposalContent::parse(&proposal(4000, &[4000]), &hourly, &mut v).is_none());
    }

    #[test]
    fn proposals_move_only_forward() {
        use ProposalAction::*;
        use ProposalStatus::*;
        assert_eq!(
            proposal_transition(Submitted, Shortlist),
            Ok((Shortlisted, true))
        );
        assert_eq!(
            proposal_transition(Shortlisted, Accept),
            Ok((Accepted, true))
        );
        assert_eq!(proposal_transition(Accepted, Accept), Ok((Accepted, false)));
        assert!(proposal_transition(Withdrawn, Accept).is_err());
        assert!(proposal_transition(Accepted, Withdraw).is_err());
    }
}
