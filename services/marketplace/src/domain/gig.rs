//! Gigs: the status machine DRAFT → PUBLISHED ⇄ PAUSED → ARCHIVED, and
//! ([`content`]) what a valid gig is.

mod content;

pub use content::*;

use frevix_proto::marketplace::v1 as pb;

/// Highest price of a package or extra, in minor units (1,000,000.00).
pub const MAX_PRICE_MINOR: i64 = 100_000_000;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GigStatus {
    Draft,
    Published,
    Paused,
    Archived,
}

impl GigStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            GigStatus::Draft => "DRAFT",
            GigStatus::Published => "PUBLISHED",
            GigStatus::Paused => "PAUSED",
            GigStatus::Archived => "ARCHIVED",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        match text {
            "DRAFT" => Some(GigStatus::Draft),
            "PUBLISHED" => Some(GigStatus::Published),
            "PAUSED" => Some(GigStatus::Paused),
            "ARCHIVED" => Some(GigStatus::Archived),
            _ => None,
        }
    }

    pub fn to_proto(self) -> pb::GigStatus {
        match self {
            GigStatus::Draft => pb::GigStatus::Draft,
            GigStatus::Published => pb::GigStatus::Published,
            GigStatus::Paused => pb::GigStatus::Paused,
            GigStatus::Archived => pb::GigStatus::Archived,
        }
    }

    pub fn from_proto(status: pb::GigStatus) -> Option<Self> {
        match status {
            pb::GigStatus::Unspecified => None,
            pb::GigStatus::Draft => Some(GigStatus::Draft),
            pb::GigStatus::Published => Some(GigStatus::Published),
            pb::GigStatus::Paused => Some(GigStatus::Paused),
            pb::GigStatus::Archived => Some(GigStatus::Archived),
        }
    }

    /// Whether buyers may see it.
    pub fn is_public(self) -> bool {
        self == GigStatus::Published
    }
}

/// What the owner asks of a gig's status.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GigAction {
    Publish,
    Pause,
    Archive,
}

/// What a status change announces.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GigEvent {
    Published,
    Updated,
    Archived,
}

/// An action the current status forbids.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("the gig is {}, so it cannot be {}", .from.as_str().to_lowercase(), match .action { GigAction::Publish => "published", GigAction::Pause => "paused", GigAction::Archive => "archived" })]
pub struct IllegalTransition {
    pub from: GigStatus,
    pub action: GigAction,
}

/// The new status and the event to publish (none when nothing changes:
/// repeating an action is harmless, so retries are safe).
pub fn transition(
    from: GigStatus,
    action: GigAction,
) -> Result<(GigStatus, Option<GigEvent>), IllegalTransition> {
    use GigStatus::*;
    match (from, action) {
        (Draft | Paused, GigAction::Publish) => Ok((Published, Some(GigEvent::Published))),
        (Published, GigAction::Publish) => Ok((Published, None)),
        (Published, GigAction::Pause) => Ok((Paused, Some(GigEvent::Updated))),
        (Paused, GigAction::Pause) => Ok((Paused, None)),
        (Draft | Published | Paused, GigAction::Archive) => {
            Ok((Archived, Some(GigEvent::Archived)))
        }
        (Archived, GigAction::Archive) => Ok((Archived, None)),
        (from, action) => Err(IllegalTransition { from, action }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use frevix_platform::error::FieldViolations;
    use frevix_proto::common::v1 as common;
    use uuid::Uuid;

    fn usd(minor: i64) -> Option<common::Money> {
        Some(common::Money {
            currency_code: "USD".into(),
            minor_units: minor,
        })
    }

    fn package(tier: pb::PackageTier, price: i64) -> pb::GigPackage {
        pb::GigPackage {
            tier: tier as i32,
            name: "Package".into(),
            description: String::new(),
            price: usd(price),
            delivery_days: 3,
            revisions: 1,
            features: vec![],
        }
    }

    fn gig() -> pb::Gig {
        pb::Gig {
            title: "I will build your API in Rust".into(),
            description: "A fast, well-tested gRPC service, documented.".into(),
            category_id: Uuid::new_v4().to_string(),
            tags: vec!["Rust".into(), "rust".into(), "grpc".into()],
            packages: vec![
                package(pb::PackageTier::Premium, 90_000),
                package(pb::PackageTier::Basic, 10_000),
            ],
            ..Default::default()
        }
    }

    #[test]
    fn a_valid_gig_is_normalized() {
        let content = GigContent::parse(&gig(), &mut FieldViolations::new()).unwrap();
        assert_eq!(content.tags, ["rust", "grpc"]);
        assert_eq!(
            content.packages.iter().map(|p| p.tier).collect::<Vec<_>>(),
            [1, 3]
        );
        assert_eq!(content.min_price().map(|p| p.minor_units), Some(10_000));
    }

    #[test]
    fn package_prices_must_rise_with_the_tier() {
        let mut bad = gig();
        bad.packages = vec![
            package(pb::PackageTier::Basic, 50_000),
            package(pb::PackageTier::Standard, 40_000),
        ];
        let mut violations = FieldViolations::new();
        assert!(GigContent::parse(&bad, &mut violations).is_none());
        assert_eq!(
            violations.iter().map(|(f, _)| f).collect::<Vec<_>>(),
            ["gig.packages"]
        );
    }

    #[test]
    fn the_status_machine_allows_only_its_transitions() {
        use GigAction::*;
        use GigStatus::*;
        assert_eq!(
            transition(Draft, Publish),
            Ok((Published, Some(GigEvent::Published)))
        );
        assert_eq!(
            transition(Published, Pause),
            Ok((Paused, Some(GigEvent::Updated)))
        );
        assert_eq!(
            transition(Paused, Publish),
            Ok((Published, Some(GigEvent::Published)))
        );
        assert_eq!(transition(Published, Publish), Ok((Published, None)));
        assert_eq!(
            transition(Paused, Archive),
            Ok((Archived, Some(GigEvent::Archived)))
        );
        assert!(transition(Draft, Pause).is_err());
        assert!(transition(Archived, Publish).is_err());
        assert_eq!(
            transition(Archived, Pause).unwrap_err().to_string(),
            "the gig is archived, so it cannot be paused"
        );
    }
}
