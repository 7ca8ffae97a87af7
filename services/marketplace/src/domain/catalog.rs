//! Categories and skills: their ids are derived from their slugs, so seeds
//! and every replica agree on them.

use uuid::Uuid;

/// Namespace of catalog ids (UUIDv5 of the slug).
const NAMESPACE: Uuid = Uuid::from_u128(0x6a1f_2f0e_8e2b_4f7c_9a51_0d6c_1b2e_7f41);

pub fn id_of(slug: &str) -> Uuid {
    Uuid::new_v5(&NAMESPACE, slug.as_bytes())
}

/// A URL-friendly slug: lower-case ASCII letters and digits joined by dashes.
pub fn slugify(name: &str) -> String {
    let mut slug = String::new();
    for c in name.chars() {
        if c.is_ascii_alphanumeric() {
            slug.push(c.to_ascii_lowercase());
        } else if !slug.ends_with('-') && !slug.is_empty() {
            slug.push('-');
        }
    }
    slug.trim_end_matches('-').to_owned()
}

/// The seeded tree: top-level categories with their subcategories.
pub const SEED_CATEGORIES: &[(&str, &[&str])] = &[
    (
        "Programming & Tech",
        &[
            "Web Development",
            "Mobile Apps",
            "DevOps & Cloud",
            "Data & AI",
        ],
    ),
    (
        "Design",
        &[
            "Logo Design",
            "UI/UX Design",
            "Illustration",
            "Brand Identity",
        ],
    ),
    (
        "Writing & Translation",
        &["Copywriting", "Translation", "Technical Writing"],
    ),
    (
        "Digital Marketing",
        &["SEO", "Social Media Marketing", "Email Marketing"],
    ),
    (
        "Video & Audio",
        &["Video Editing", "Voice Over", "Podcast Production"],
    ),
];

/// The seeded skills.
pub const SEED_SKILLS: &[&str] = &[
    "Rust",
    "Go",
    "Python",
    "TypeScript",
    "JavaScript",
    "React",
    "Vue",
    "Svelte",
    "Node.js",
    "PostgreSQL",
    "Kubernetes",
    "Docker",
    "AWS",
    "Terraform",
    "gRPC",
    "Swift",
    "Kotlin",
    "Flutter",
    "Machine Learning",
    "Data Analysis",
    "Figma",
    "Illustrator",
    "Photoshop",
    "Logo Design",
    "UI Design",
    "UX Research",
    "Copywriting",
    "Technical Writing",
    "German Translation",
    "Spanish Translation",
    "SEO",
    "Google Ads",
    "Email Marketing",
    "Video Editing",
    "After Effects",
    "Voice Over",
    "Podcast Editing",
    "WordPress",
    "Shopify",
    "Solidity",
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slugs_are_url_friendly() {
        assert_eq!(slugify("UI/UX Design"), "ui-ux-design");
        assert_eq!(slugify("  Node.js "), "node-js");
        assert_eq!(slugify("Programming & Tech"), "programming-tech");
    }

    #[test]
    fn ids_are_stable() {
        assert_eq!(id_of("rust"), id_of("rust"));
        assert_ne!(id_of("rust"), id_of("go"));
    }
}
