//! Reviews: what each side rates, when reviews may be written, and when
//! they become visible.
//!
//! Reviews open once a contract has ended with money paid to the
//! freelancer (completed, or cancelled with a release) and stay open for a
//! window (14 days by default). They are **double-blind**: a review is seen
//! only by its author until the other party has reviewed too, or the window
//! closes; then both are published at once, so neither side writes in
//! answer to the other's.

use super::Party;

/// What a review rates besides the overall score.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
pub enum Aspect {
    Communication,
    Quality,
    Value,
    Clarity,
    PaymentPromptness,
}

impl Aspect {
    /// The aspects the reviewer on `side` rates: a client rates the
    /// freelancer's work, a freelancer rates the client as an employer.
    pub fn rated_by(side: Party) -> &'static [Aspect] {
        match side {
            Party::Client => &[Aspect::Communication, Aspect::Quality, Aspect::Value],
            Party::Freelancer => &[
                Aspect::Communication,
                Aspect::Clarity,
                Aspect::PaymentPromptness,
            ],
        }
    }
}

/// A score: 1 to 5 stars.
pub const STARS: std::ops::RangeInclusive<i32> = 1..=5;

/// Why the ratings of a review are not acceptable, per field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RatingProblem {
    /// The overall rating is not 1 to 5.
    Overall,
    /// Sub-rating `index` is of an aspect this side does not rate, or
    /// rated twice.
    Aspect(usize),
    /// Sub-rating `index` is not 1 to 5.
    Stars(usize),
}

/// Checks a review's overall rating and sub-ratings by the reviewer on
/// `side`; every problem found.
pub fn check_ratings(
    side: Party,
    overall: i32,
    sub: &[(Option<Aspect>, i32)],
) -> Vec<RatingProblem> {
    let mut problems = Vec::new();
    if !STARS.contains(&overall) {
        problems.push(RatingProblem::Overall);
    }
    let mut seen = Vec::new();
    for (i, (aspect, stars)) in sub.iter().enumerate() {
        match aspect {
            Some(aspect) if Aspect::rated_by(side).contains(aspect) && !seen.contains(aspect) => {
                seen.push(*aspect);
            }
            _ => problems.push(RatingProblem::Aspect(i)),
        }
        if !STARS.contains(stars) {
            problems.push(RatingProblem::Stars(i));
        }
    }
    problems
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_side_rates_its_own_aspects_once() {
        let good = [(Some(Aspect::Quality), 5), (Some(Aspect::Value), 4)];
        assert!(check_ratings(Party::Client, 5, &good).is_empty());
        assert_eq!(
            check_ratings(Party::Freelancer, 5, &good),
            [RatingProblem::Aspect(0), RatingProblem::Aspect(1)]
        );
        let twice = [
            (Some(Aspect::Communication), 5),
            (Some(Aspect::Communication), 1),
        ];
        assert_eq!(
            check_ratings(Party::Freelancer, 4, &twice),
            [RatingProblem::Aspect(1)]
        );
    }

    #[test]
    fn stars_are_one_to_five() {
        assert_eq!(
            check_ratings(Party::Client, 0, &[(Some(Aspect::Quality), 6)]),
            [RatingProblem::Overall, RatingProblem::Stars(0)]
        );
        assert_eq!(
            check_ratings(Party::Client, 3, &[(None, 3)]),
            [RatingProblem::Aspect(0)]
        );
    }
}
