//! The field masks of partial updates (`google.protobuf.FieldMask`). A mask
//! is refused as a whole when it is empty or longer than the fields it can
//! name, before any path is looked at, so a request of a million paths costs
//! no more than one of three; paths named twice count once.

use prost_types::FieldMask;

use crate::error::FieldViolations;

/// The paths of `mask`, each once, or none (with a violation on
/// `update_mask`) when the mask is empty or longer than `updatable`.
pub fn update_paths(
    mask: Option<FieldMask>,
    updatable: &[&str],
    violations: &mut FieldViolations,
) -> Vec<String> {
    let paths = mask.map(|mask| mask.paths).unwrap_or_default();
    if paths.is_empty() {
        violations.add(
            "update_mask",
            format!("must name at least one of: {}", updatable.join(", ")),
        );
        return Vec::new();
    }
    if !violations.check_len("update_mask.paths", paths.len(), updatable.len()) {
        return Vec::new();
    }
    let mut unique: Vec<String> = Vec::with_capacity(paths.len());
    for path in paths {
        if !unique.contains(&path) {
            unique.push(path);
        }
    }
    unique
}

/// Adds to `into` those of `found` that fall on a masked field of
/// `resource` (`job.title`, `job.skills[2]`, …). An update checks the fields
/// it names before it looks the resource up, so a request with a bad id
/// and a bad title hears of both; what the other fields then hold is not
/// the change's fault, and is left out.
pub fn on_masked(
    found: &FieldViolations,
    resource: &str,
    paths: &[String],
    into: &mut FieldViolations,
) {
    for (field, description) in found.iter() {
        let masked = field
            .strip_prefix(resource)
            .and_then(|rest| rest.strip_prefix('.'))
            .is_some_and(|rest| {
                paths.iter().any(|path| {
                    rest.strip_prefix(path.as_str())
                        .is_some_and(|after| after.is_empty() || after.starts_with(['.', '[']))
                })
            });
        if masked {
            into.add(field, description);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn mask(paths: &[&str]) -> Option<FieldMask> {
        Some(FieldMask {
            paths: paths.iter().map(|p| (*p).to_owned()).collect(),
        })
    }

    #[test]
    fn an_empty_mask_asks_for_a_field() {
        let mut v = FieldViolations::new();
        assert!(update_paths(None, &["title"], &mut v).is_empty());
        assert_eq!(
            v.to_string(),
            "update_mask: must name at least one of: title"
        );
    }

    #[test]
    fn a_mask_longer_than_the_fields_is_refused_without_reading_it() {
        let mut v = FieldViolations::new();
        let paths = update_paths(mask(&["a"; 100_000]), &["title", "bio"], &mut v);
        assert!(paths.is_empty());
        assert_eq!(
            v.to_string(),
            "update_mask.paths: must have at most 2 entries (has 100000)"
        );
    }

    #[test]
    fn only_the_masked_fields_violations_are_kept() {
        let mut found = FieldViolations::new();
        found.add("job.title", "too short");
        found.add("job.titles", "not masked, only alike");
        found.add("job.skills[2]", "unknown");
        found.add("job.budget.fixed_price", "unmasked");
        found.add("title", "another resource's");
        let mut kept = FieldViolations::new();
        on_masked(&found, "job", &["title".into(), "skills".into()], &mut kept);
        assert_eq!(
            kept.to_string(),
            "job.title: too short; job.skills[2]: unknown"
        );
    }

    #[test]
    fn a_path_named_twice_counts_once() {
        let mut v = FieldViolations::new();
        let paths = update_paths(mask(&["bio", "bio"]), &["title", "bio"], &mut v);
        assert_eq!(paths, ["bio"]);
        assert!(v.is_empty());
    }
}
