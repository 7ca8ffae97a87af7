//! Freelancer and client profiles: the fields their owners edit.

use chrono::{DateTime, Utc};
use frevix_platform::error::FieldViolations;
use frevix_platform::money::Money;
use frevix_proto::marketplace::v1 as pb;
use serde::{Deserialize, Serialize};
use uuid::Uuid;

use super::text::{bounded, country, language, url};

/// Highest hourly rate, in minor units (10,000.00).
pub const MAX_HOURLY_MINOR: i64 = 1_000_000;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PortfolioItem {
    pub title: String,
    pub description: String,
    pub link: String,
    pub media_ids: Vec<Uuid>,
}

/// What a freelancer edits on their profile.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FreelancerFields {
    pub headline: String,
    pub bio: String,
    pub skills: Vec<String>,
    pub hourly_rate: Option<(String, i64)>,
    pub experience_level: i32,
    pub languages: Vec<String>,
    pub country: String,
    pub availability: i32,
    pub back_on: Option<DateTime<Utc>>,
    pub portfolio: Vec<PortfolioItem>,
    pub avatar_media_id: Option<Uuid>,
}

pub const FREELANCER_UPDATABLE: &[&str] = &[
    "headline",
    "bio",
    "skills",
    "hourly_rate",
    "experience_level",
    "languages",
    "country",
    "availability",
    "back_on",
    "portfolio",
    "avatar_media_id",
];

impl FreelancerFields {
    /// Applies the fields named by `paths` from `profile`; skill slugs are
    /// checked against the catalog by the caller.
    pub fn patch(
        &self,
        profile: &pb::FreelancerProfile,
        paths: &[String],
        v: &mut FieldViolations,
    ) -> Option<Self> {
        let mut next = self.clone();
        for path in paths {
            match path.as_str() {
                "headline" => {
                    next.headline = bounded("profile.headline", &profile.headline, 0, 120, v)
                        .unwrap_or_default()
                }
                "bio" => {
                    next.bio = bounded("profile.bio", &profile.bio, 0, 5000, v).unwrap_or_default()
                }
                "skills" => next.skills = super::text::skills("profile.skills", &profile.skills, v),
                "hourly_rate" => {
                    next.hourly_rate = match &profile.hourly_rate {
                        None => None,
                        Some(rate) => Money::parse_positive(
                            "profile.hourly_rate",
                            Some(rate),
                            MAX_HOURLY_MINOR,
                            v,
                        )
                        .map(|m| (m.currency.code().to_owned(), m.minor_units)),
                    }
                }
                "experience_level" => {
                    if pb::ExperienceLevel::try_from(profile.experience_level).is_err() {
                        v.add("profile.experience_level", "is not a known level");
                    }
                    next.experience_level = profile.experience_level;
                }
                "languages" => {
                    if profile.languages.len() > 10 {
                        v.add("profile.languages", "must be at most 10");
                    }
                    next.languages = profile
                        .languages
                        .iter()
                        .enumerate()
                        .filter_map(|(i, l)| language(&format!("profile.languages[{i}]"), l, v))
                        .collect();
                }
                "country" => {
                    next.country =
                        country("profile.country", &profile.country, v).unwrap_or_default()
                }
                "availability" => {
                    if pb::Availability::try_from(profile.availability).is_err() {
                        v.add("profile.availability", "is not a known availability");
                    }
                    next.availability = profile.availability;
                }
                "back_on" => {
                    next.back_on = profile.back_on.as_ref().and_then(|t| {
                        DateTime::from_timestamp(t.seconds, u32::try_from(t.nanos).unwrap_or(0))
                    });
                }
                "portfolio" => next.portfolio = parse_portfolio(&profile.portfolio, v),
                "avatar_media_id" => {
                    next.avatar_media_id = if profile.avatar_media_id.is_empty() {
                        None
                    } else {
                        frevix_platform::ids::parse_uuid(
                            "profile.avatar_media_id",
                            &profile.avatar_media_id,
                            v,
                        )
                    }
                }
                other => v.add(
                    "update_mask.paths",
                    format!(
                        "`{other}` cannot be updated; use {}",
                        FREELANCER_UPDATABLE.join(", ")
                    ),
                ),
            }
        }
        if next.availability == pb::Availability::Away as i32 && next.back_on.is_none() {
            v.add("profile.back_on", "is required when availability is AWAY");
        }
        v.is_empty().then_some(next)
    }
}

fn parse_portfolio(items: &[pb::PortfolioItem], v: &mut FieldViolations) -> Vec<PortfolioItem> {
    if items.len() > 20 {
        v.add("profile.portfolio", "must be at most 20 items");
        return Vec::new();
    }
    items
        .iter()
        .enumerate()
        .filter_map(|(i, item)| {
            // Every field is checked, so one answer names all that is wrong.
            let title = bounded(
                &format!("profile.portfolio[{i}].title"),
                &item.title,
                1,
                100,
                v,
            );
            let description = bounded(
                &format!("profile.portfolio[{i}].description"),
                &item.description,
                0,
                2000,
                v,
            );
            let link = url(&format!("profile.portfolio[{i}].link"), &item.link, v);
            let media_ids: Vec<Uuid> = if v.check_len(
                &format!("profile.portfolio[{i}].media_ids"),
                item.media_ids.len(),
                10,
            ) {
                item.media_ids
                    .iter()
                    .enumerate()
                    .filter_map(|(j, id)| {
                        frevix_platform::ids::parse_uuid(
                            &format!("profile.portfolio[{i}].media_ids[{j}]"),
                            id,
                            v,
                        )
                    })
                    .collect()
            } else {
                Vec::new()
            };
            let (title, description, link) = (title?, description?, link?);
            Some(PortfolioItem {
                title,
                description,
                link,
                media_ids,
            })
        })
        .collect()
}

/// What a client edits on their profile.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClientFields {
    pub company_name: String,
    pub website: String,
    pub country: String,
    pub about: String,
}

pub const CLIENT_UPDATABLE: &[&str] = &["company_name", "website", "country", "about"];

impl ClientFields {
    pub fn patch(
        &self,
        profile: &pb::ClientProfile,
        paths: &[String],
        v: &mut FieldViolations,
    ) -> Option<Self> {
        let mut next = self.clone();
        for path in paths {
            match path.as_str() {
                "company_name" => {
                    next.company_name =
                        bounded("profile.company_name", &profile.company_name, 0, 100, v)
                            .unwrap_or_default()
                }
                "website" => {
                    next.website = url("profile.website", &profile.website, v).unwrap_or_default()
                }
                "country" => {
                    next.country =
                        country("profile.country", &profile.country, v).unwrap_or_default()
                }
                "about" => {
                    next.about =
                        bounded("profile.about", &profile.about, 0, 2000, v).unwrap_or_default()
                }
                other => v.add(
                    "update_mask.paths",
                    format!(
                        "`{other}` cannot be updated; use {}",
                        CLIENT_UPDATABLE.join(", ")
                    ),
                ),
            }
        }
        v.is_empty().then_some(next)
    }
}
