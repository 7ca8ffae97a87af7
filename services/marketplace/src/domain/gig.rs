//! Gigs: what a valid gig is, and the status machine
//! DRAFT → PUBLISHED ⇄ PAUSED → ARCHIVED.

use frevix_platform::error::FieldViolations;
use frevix_platform::money::Money;
use frevix_proto::common::v1 as common;
use frevix_proto::marketplace::v1 as pb;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::text::bounded;

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

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Package {
    /// 1 basic, 2 standard, 3 premium.
    pub tier: i32,
    pub name: String,
    pub description: String,
    pub currency: String,
    pub price_minor: i64,
    pub delivery_days: i32,
    pub revisions: i32,
    pub features: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Extra {
    pub id: Uuid,
    pub title: String,
    pub currency: String,
    pub price_minor: i64,
    pub extra_days: i32,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Question {
    pub id: Uuid,
    pub question: String,
    pub required: bool,
}

/// Everything of a gig its owner edits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GigContent {
    pub title: String,
    pub description: String,
    pub category_id: Uuid,
    pub tags: Vec<String>,
    pub packages: Vec<Package>,
    pub extras: Vec<Extra>,
    pub requirements: Vec<Question>,
    pub gallery: Vec<Uuid>,
}

/// The fields an update may name.
pub const UPDATABLE: &[&str] = &[
    "title",
    "description",
    "category_id",
    "tags",
    "packages",
    "extras",
    "requirements",
    "gallery_media_ids",
];

impl GigContent {
    /// Parses every field of `gig` (a create).
    pub fn parse(gig: &pb::Gig, violations: &mut FieldViolations) -> Option<GigContent> {
        let content = GigContent {
            title: parse_title(gig, violations).unwrap_or_default(),
            description: parse_description(gig, violations).unwrap_or_default(),
            category_id: parse_category(gig, violations).unwrap_or_default(),
            tags: parse_tags(gig, violations).unwrap_or_default(),
            packages: parse_packages(gig, violations).unwrap_or_default(),
            extras: parse_extras(gig, &[], violations).unwrap_or_default(),
            requirements: parse_requirements(gig, &[], violations).unwrap_or_default(),
            gallery: parse_gallery(gig, violations).unwrap_or_default(),
        };
        content.check_currencies(violations);
        violations.is_empty().then_some(content)
    }

    /// Applies the fields named by `paths` from `gig` onto a copy of self.
    pub fn patch(
        &self,
        gig: &pb::Gig,
        paths: &[String],
        violations: &mut FieldViolations,
    ) -> Option<GigContent> {
        let mut next = self.clone();
        for path in paths {
            match path.as_str() {
                "title" => next.title = parse_title(gig, violations).unwrap_or_default(),
                "description" => {
                    next.description = parse_description(gig, violations).unwrap_or_default()
                }
                "category_id" => {
                    next.category_id = parse_category(gig, violations).unwrap_or_default()
                }
                "tags" => next.tags = parse_tags(gig, violations).unwrap_or_default(),
                "packages" => next.packages = parse_packages(gig, violations).unwrap_or_default(),
                "extras" => {
                    next.extras = parse_extras(gig, &self.extras, violations).unwrap_or_default()
                }
                "requirements" => {
                    next.requirements =
                        parse_requirements(gig, &self.requirements, violations).unwrap_or_default()
                }
                "gallery_media_ids" => {
                    next.gallery = parse_gallery(gig, violations).unwrap_or_default()
                }
                other => violations.add(
                    "update_mask.paths",
                    format!("`{other}` cannot be updated; use {}", UPDATABLE.join(", ")),
                ),
            }
        }
        next.check_currencies(violations);
        violations.is_empty().then_some(next)
    }

    fn check_currencies(&self, violations: &mut FieldViolations) {
        // Without valid packages there is nothing to compare with (and that
        // is reported already).
        let Some(currency) = self.currency() else {
            return;
        };
        if self.extras.iter().any(|extra| &extra.currency != currency) {
            violations.add("gig.extras", "must be priced in the packages' currency");
        }
    }

    /// The currency of the packages.
    pub fn currency(&self) -> Option<&String> {
        self.packages.first().map(|p| &p.currency)
    }

    /// The cheapest package price (search filters and sorts on it).
    pub fn min_price_minor(&self) -> i64 {
        self.packages
            .iter()
            .map(|p| p.price_minor)
            .min()
            .unwrap_or(0)
    }

    /// The fastest delivery.
    pub fn min_delivery_days(&self) -> i32 {
        self.packages
            .iter()
            .map(|p| p.delivery_days)
            .min()
            .unwrap_or(0)
    }
}

fn parse_title(gig: &pb::Gig, v: &mut FieldViolations) -> Option<String> {
    bounded("gig.title", &gig.title, 10, 100, v)
}

fn parse_description(gig: &pb::Gig, v: &mut FieldViolations) -> Option<String> {
    bounded("gig.description", &gig.description, 20, 5000, v)
}

fn parse_category(gig: &pb::Gig, v: &mut FieldViolations) -> Option<Uuid> {
    frevix_platform::ids::parse_uuid("gig.category_id", &gig.category_id, v)
}

fn parse_tags(gig: &pb::Gig, v: &mut FieldViolations) -> Option<Vec<String>> {
    if gig.tags.len() > 5 {
        v.add("gig.tags", "must be at most 5");
        return None;
    }
    let mut tags = Vec::new();
    for (i, tag) in gig.tags.iter().enumerate() {
        let tag = bounded(&format!("gig.tags[{i}]"), &tag.to_lowercase(), 2, 30, v)?;
        if !tags.contains(&tag) {
            tags.push(tag);
        }
    }
    Some(tags)
}

fn money(
    field: &str,
    value: Option<&common::Money>,
    v: &mut FieldViolations,
) -> Option<(String, i64)> {
    Money::parse_positive(field, value, MAX_PRICE_MINOR, v)
        .map(|m| (m.currency.code().to_owned(), m.minor_units))
}

fn parse_packages(gig: &pb::Gig, v: &mut FieldViolations) -> Option<Vec<Package>> {
    if gig.packages.is_empty() || gig.packages.len() > 3 {
        v.add("gig.packages", "must hold 1 to 3 packages");
        return None;
    }
    let before = v.iter().count();
    let mut packages = Vec::new();
    for (i, package) in gig.packages.iter().enumerate() {
        let field = |name: &str| format!("gig.packages[{i}].{name}");
        let tier = match pb::PackageTier::try_from(package.tier) {
            Ok(pb::PackageTier::Basic | pb::PackageTier::Standard | pb::PackageTier::Premium) => {
                package.tier
            }
            _ => {
                v.add(field("tier"), "must be BASIC, STANDARD or PREMIUM");
                0
            }
        };
        let name = bounded(&field("name"), &package.name, 1, 40, v);
        let description = bounded(&field("description"), &package.description, 0, 500, v);
        let price = money(&field("price"), package.price.as_ref(), v);
        if !(1..=90).contains(&package.delivery_days) {
            v.add(field("delivery_days"), "must be 1 to 90");
        }
        if !(0..=20).contains(&package.revisions) {
            v.add(field("revisions"), "must be 0 to 20");
        }
        if package.features.len() > 10 {
            v.add(field("features"), "must be at most 10");
        }
        let features: Vec<String> = package
            .features
            .iter()
            .enumerate()
            .filter_map(|(j, f)| bounded(&format!("gig.packages[{i}].features[{j}]"), f, 1, 60, v))
            .collect();
        if let (Some(name), Some(description), Some((currency, price_minor))) =
            (name, description, price)
        {
            packages.push(Package {
                tier,
                name,
                description,
                currency,
                price_minor,
                delivery_days: package.delivery_days,
                revisions: package.revisions,
                features,
            });
        }
    }
    if v.iter().count() > before {
        return None;
    }
    packages.sort_by_key(|p| p.tier);
    if packages.windows(2).any(|w| w[0].tier == w[1].tier) {
        v.add("gig.packages", "must have each tier at most once");
    } else if packages.windows(2).any(|w| w[0].currency != w[1].currency) {
        v.add("gig.packages", "must all be priced in one currency");
    } else if packages
        .windows(2)
        .any(|w| w[0].price_minor >= w[1].price_minor)
    {
        v.add(
            "gig.packages",
            "prices must rise from BASIC to STANDARD to PREMIUM",
        );
    }
    (v.iter().count() == before).then_some(packages)
}

fn keep_or_new_id(text: &str, known: &[Uuid]) -> Uuid {
    Uuid::parse_str(text)
        .ok()
        .filter(|id| known.contains(id))
        .unwrap_or_else(Uuid::now_v7)
}

fn parse_extras(gig: &pb::Gig, existing: &[Extra], v: &mut FieldViolations) -> Option<Vec<Extra>> {
    if gig.extras.len() > 10 {
        v.add("gig.extras", "must be at most 10");
        return None;
    }
    let known: Vec<Uuid> = existing.iter().map(|e| e.id).collect();
    let before = v.iter().count();
    let mut extras = Vec::new();
    for (i, extra) in gig.extras.iter().enumerate() {
        let title = bounded(&format!("gig.extras[{i}].title"), &extra.title, 1, 80, v);
        let price = money(&format!("gig.extras[{i}].price"), extra.price.as_ref(), v);
        if !(0..=30).contains(&extra.extra_days) {
            v.add(format!("gig.extras[{i}].extra_days"), "must be 0 to 30");
        }
        if let (Some(title), Some((currency, price_minor))) = (title, price) {
            extras.push(Extra {
                id: keep_or_new_id(&extra.id, &known),
                title,
                currency,
                price_minor,
                extra_days: extra.extra_days,
            });
        }
    }
    (v.iter().count() == before).then_some(extras)
}

fn parse_requirements(
    gig: &pb::Gig,
    existing: &[Question],
    v: &mut FieldViolations,
) -> Option<Vec<Question>> {
    if gig.requirements.len() > 10 {
        v.add("gig.requirements", "must be at most 10");
        return None;
    }
    let known: Vec<Uuid> = existing.iter().map(|q| q.id).collect();
    let before = v.iter().count();
    let questions: Vec<Question> = gig
        .requirements
        .iter()
        .enumerate()
        .filter_map(|(i, q)| {
            bounded(
                &format!("gig.requirements[{i}].question"),
                &q.question,
                5,
                500,
                v,
            )
            .map(|question| Question {
                id: keep_or_new_id(&q.id, &known),
                question,
                required: q.required,
            })
        })
        .collect();
    (v.iter().count() == before).then_some(questions)
}

fn parse_gallery(gig: &pb::Gig, v: &mut FieldViolations) -> Option<Vec<Uuid>> {
    if gig.gallery_media_ids.len() > 10 {
        v.add("gig.gallery_media_ids", "must be at most 10");
        return None;
    }
    let before = v.iter().count();
    let ids: Vec<Uuid> = gig
        .gallery_media_ids
        .iter()
        .enumerate()
        .filter_map(|(i, id)| {
            frevix_platform::ids::parse_uuid(&format!("gig.gallery_media_ids[{i}]"), id, v)
        })
        .collect();
    (v.iter().count() == before).then_some(ids)
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
        assert_eq!(content.min_price_minor(), 10_000);
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
