//! What a valid gig is: its title, description, tags, packages (prices
//! rising with the tier), extras, requirement questions and gallery,
//! parsed from a request with every bad field reported.

use frevix_platform::error::FieldViolations;
use frevix_platform::money::{Currency, Money};
use frevix_proto::common::v1 as common;
use frevix_proto::marketplace::v1 as pb;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::MAX_PRICE_MINOR;
use crate::domain::ids::CategoryId;
use crate::domain::text::bounded;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Package {
    /// 1 basic, 2 standard, 3 premium.
    pub tier: i32,
    pub name: String,
    pub description: String,
    pub price: Money,
    pub delivery_days: i32,
    pub revisions: i32,
    pub features: Vec<String>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Extra {
    pub id: Uuid,
    pub title: String,
    pub price: Money,
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
    pub category_id: CategoryId,
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
    /// A gig holding nothing yet: an update's named fields are checked
    /// against it before the gig itself is looked up.
    pub fn blank() -> Self {
        GigContent {
            title: String::new(),
            description: String::new(),
            category_id: CategoryId(Uuid::nil()),
            tags: Vec::new(),
            packages: Vec::new(),
            extras: Vec::new(),
            requirements: Vec::new(),
            gallery: Vec::new(),
        }
    }

    /// Parses every field of `gig` (a create).
    pub fn parse(gig: &pb::Gig, violations: &mut FieldViolations) -> Option<GigContent> {
        let content = GigContent {
            title: parse_title(gig, violations).unwrap_or_default(),
            description: parse_description(gig, violations).unwrap_or_default(),
            category_id: parse_category(gig, violations).unwrap_or(CategoryId(Uuid::nil())),
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
                    next.category_id =
                        parse_category(gig, violations).unwrap_or(CategoryId(Uuid::nil()))
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
        if self
            .extras
            .iter()
            .any(|extra| extra.price.currency != currency)
        {
            violations.add("gig.extras", "must be priced in the packages' currency");
        }
    }

    /// The currency of the packages.
    pub fn currency(&self) -> Option<Currency> {
        self.packages.first().map(|p| p.price.currency)
    }

    /// The cheapest package price (search filters and sorts on it).
    pub fn min_price(&self) -> Option<Money> {
        self.packages
            .iter()
            .map(|p| p.price)
            .min_by_key(|price| price.minor_units)
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

fn parse_category(gig: &pb::Gig, v: &mut FieldViolations) -> Option<CategoryId> {
    CategoryId::parse_field("gig.category_id", &gig.category_id, v)
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

fn money(field: &str, value: Option<&common::Money>, v: &mut FieldViolations) -> Option<Money> {
    Money::parse_positive(field, value, MAX_PRICE_MINOR, v)
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
        if let (Some(name), Some(description), Some(price)) = (name, description, price) {
            packages.push(Package {
                tier,
                name,
                description,
                price,
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
    } else if packages
        .windows(2)
        .any(|w| w[0].price.currency != w[1].price.currency)
    {
        v.add("gig.packages", "must all be priced in one currency");
    } else if packages
        .windows(2)
        .any(|w| w[0].price.minor_units >= w[1].price.minor_units)
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
        if let (Some(title), Some(price)) = (title, price) {
            extras.push(Extra {
                id: keep_or_new_id(&extra.id, &known),
                title,
                price,
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
