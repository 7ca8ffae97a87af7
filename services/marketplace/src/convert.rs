//! Stored rows to protobuf messages, for answers and for events.

use chrono::{DateTime, Utc};
use frevix_platform::money::Money;
use frevix_proto::common::v1 as common;
use frevix_proto::marketplace::v1 as pb;

use crate::domain::job::Budget;
use crate::store::catalog::{CategoryRow, SkillRow};
use crate::store::from_json;
use crate::store::gigs::{GigRow, content_of, status_of};
use crate::store::jobs::{
    JobRow, ProposalRow, budget_of, job_status, proposal_content, proposal_status,
};
use crate::store::profiles::{ClientRow, FreelancerRow};

pub fn timestamp(at: DateTime<Utc>) -> prost_types::Timestamp {
    prost_types::Timestamp {
        seconds: at.timestamp(),
        nanos: i32::try_from(at.timestamp_subsec_nanos()).unwrap_or(0),
    }
}

fn money(currency: &str, minor_units: i64) -> Option<common::Money> {
    Some(common::Money {
        currency_code: currency.to_owned(),
        minor_units,
    })
}

fn price(money: Money) -> Option<common::Money> {
    Some(money.into())
}

fn average(sum: i64, count: i32) -> f64 {
    if count == 0 {
        0.0
    } else {
        // Two decimals are all a star rating needs.
        ((sum as f64 / f64::from(count)) * 100.0).round() / 100.0
    }
}

pub fn category(row: &CategoryRow) -> pb::Category {
    pb::Category {
        id: row.id.to_string(),
        parent_id: row.parent_id.map(|id| id.to_string()).unwrap_or_default(),
        name: row.name.clone(),
        slug: row.slug.clone(),
        children: Vec::new(),
    }
}

pub fn skill(row: &SkillRow) -> pb::Skill {
    pb::Skill {
        id: row.id.to_string(),
        name: row.name.clone(),
        slug: row.slug.clone(),
    }
}

pub fn freelancer(row: &FreelancerRow) -> pb::FreelancerProfile {
    let portfolio: Vec<crate::domain::profile::PortfolioItem> = from_json(&row.portfolio);
    pb::FreelancerProfile {
        account_id: row.account_id.to_string(),
        display_name: row.display_name.clone(),
        headline: row.headline.clone(),
        bio: row.bio.clone(),
        skills: from_json(&row.skills),
        hourly_rate: row
            .hourly_rate_currency
            .as_deref()
            .zip(row.hourly_rate_minor)
            .and_then(|(currency, minor)| money(currency, minor)),
        experience_level: row.experience_level,
        languages: from_json(&row.languages),
        country: row.country.clone(),
        availability: row.availability,
        back_on: row.back_on.map(timestamp),
        portfolio: portfolio
            .into_iter()
            .map(|item| pb::PortfolioItem {
                title: item.title,
                description: item.description,
                link: item.link,
                media_ids: item.media_ids.iter().map(ToString::to_string).collect(),
            })
            .collect(),
        avatar_media_id: row
            .avatar_media_id
            .map(|id| id.to_string())
            .unwrap_or_default(),
        average_rating: average(row.rating_sum, row.review_count),
        review_count: row.review_count,
        completed_contracts: row.completed_contracts,
        create_time: Some(timestamp(row.created_at)),
        update_time: Some(timestamp(row.updated_at)),
    }
}

pub fn client(row: &ClientRow) -> pb::ClientProfile {
    pb::ClientProfile {
        account_id: row.account_id.to_string(),
        display_name: row.display_name.clone(),
        company_name: row.company_name.clone(),
        website: row.website.clone(),
        country: row.country.clone(),
        about: row.about.clone(),
        jobs_posted: row.jobs_posted,
        hires: row.hires,
        create_time: Some(timestamp(row.created_at)),
        update_time: Some(timestamp(row.updated_at)),
    }
}

pub fn gig(row: &GigRow, seller_display_name: &str) -> pb::Gig {
    let content = content_of(row);
    pb::Gig {
        id: row.id.to_string(),
        seller_id: row.seller_id.to_string(),
        seller_display_name: seller_display_name.to_owned(),
        title: content.title,
        description: content.description,
        category_id: content.category_id.to_string(),
        tags: content.tags,
        packages: content
            .packages
            .into_iter()
            .map(|p| pb::GigPackage {
                tier: p.tier,
                name: p.name,
                description: p.description,
                price: price(p.price),
                delivery_days: p.delivery_days,
                revisions: p.revisions,
                features: p.features,
            })
            .collect(),
        extras: content
            .extras
            .into_iter()
            .map(|e| pb::GigExtra {
                id: e.id.to_string(),
                title: e.title,
                price: price(e.price),
                extra_days: e.extra_days,
            })
            .collect(),
        requirements: content
            .requirements
            .into_iter()
            .map(|q| pb::RequirementQuestion {
                id: q.id.to_string(),
                question: q.question,
                required: q.required,
            })
            .collect(),
        gallery_media_ids: content.gallery.iter().map(ToString::to_string).collect(),
        status: status_of(row).to_proto() as i32,
        average_rating: average(row.rating_sum, row.review_count),
        review_count: row.review_count,
        create_time: Some(timestamp(row.created_at)),
        update_time: Some(timestamp(row.updated_at)),
    }
}

pub fn job(row: &JobRow) -> pb::Job {
    let budget = budget_of(row).map(|budget| match budget {
        Budget::Fixed(amount) => pb::job::Budget::FixedPrice(amount.into()),
        Budget::Hourly { min, max } => pb::job::Budget::Hourly(pb::HourlyRange {
            min: price(min),
            max: price(max),
        }),
    });
    pb::Job {
        id: row.id.to_string(),
        client_id: row.client_id.to_string(),
        title: row.title.clone(),
        description: row.description.clone(),
        category_id: row.category_id.to_string(),
        skills: from_json(&row.skills),
        budget,
        expected_duration: row.expected_duration,
        experience_level: row.experience_level,
        visibility: row.visibility,
        status: job_status(row).to_proto() as i32,
        proposal_count: row.proposal_count,
        create_time: Some(timestamp(row.created_at)),
        update_time: Some(timestamp(row.updated_at)),
    }
}

pub fn milestones(row: &ProposalRow) -> Vec<pb::ProposedMilestone> {
    proposal_content(row)
        .map(|content| content.milestones)
        .unwrap_or_default()
        .into_iter()
        .map(|m| pb::ProposedMilestone {
            title: m.title,
            amount: price(m.amount),
            due_in_days: m.due_in_days,
        })
        .collect()
}

pub fn bid(row: &ProposalRow) -> Option<common::Money> {
    money(&row.currency, row.bid_minor)
}

pub fn proposal(row: &ProposalRow, freelancer_display_name: &str) -> pb::Proposal {
    pb::Proposal {
        id: row.id.to_string(),
        job_id: row.job_id.to_string(),
        freelancer_id: row.freelancer_id.to_string(),
        freelancer_display_name: freelancer_display_name.to_owned(),
        cover_letter: row.cover_letter.clone(),
        bid: bid(row),
        estimated_days: row.estimated_days,
        milestones: milestones(row),
        status: proposal_status(row).to_proto() as i32,
        create_time: Some(timestamp(row.created_at)),
        update_time: Some(timestamp(row.updated_at)),
    }
}
