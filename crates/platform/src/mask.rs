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
    fn a_path_named_twice_counts_once() {
        let mut v = FieldViolations::new();
        let paths = update_paths(mask(&["bio", "bio"]), &["title", "bio"], &mut v);
        assert_eq!(paths, ["bio"]);
        assert!(v.is_empty());
    }
}
