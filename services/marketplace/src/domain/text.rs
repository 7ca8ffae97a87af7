//! Checks on the free text people type, shared by gigs and profiles.

use frevix_platform::error::FieldViolations;

/// Trimmed `text` if it has `min..=max` characters and no control characters
/// other than newlines and tabs.
pub fn bounded(
    field: &str,
    text: &str,
    min: usize,
    max: usize,
    violations: &mut FieldViolations,
) -> Option<String> {
    let trimmed = text.trim();
    let length = trimmed.chars().count();
    if length < min || length > max {
        let rule = if min == 0 {
            format!("must be at most {max} characters")
        } else {
            format!("must be {min} to {max} characters")
        };
        violations.add(field, rule);
        return None;
    }
    if trimmed
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        violations.add(field, "must not contain control characters");
        return None;
    }
    Some(trimmed.to_owned())
}

/// An http(s) URL of at most 500 characters, or empty.
pub fn url(field: &str, text: &str, violations: &mut FieldViolations) -> Option<String> {
    let trimmed = text.trim();
    if trimmed.is_empty() {
        return Some(String::new());
    }
    let valid = (trimmed.starts_with("https://") || trimmed.starts_with("http://"))
        && trimmed.len() <= 500
        && !trimmed.contains(char::is_whitespace)
        && trimmed
            .split("://")
            .nth(1)
            .is_some_and(|rest| rest.len() > 3 && rest.contains('.'));
    if valid {
        Some(trimmed.to_owned())
    } else {
        violations.add(field, "must be an http(s) URL of at most 500 characters");
        None
    }
}

/// An upper-case ISO 3166-1 alpha-2 country code, or empty.
pub fn country(field: &str, text: &str, violations: &mut FieldViolations) -> Option<String> {
    let upper = text.trim().to_ascii_uppercase();
    if upper.is_empty() || (upper.len() == 2 && upper.bytes().all(|b| b.is_ascii_uppercase())) {
        Some(upper)
    } else {
        violations.add(field, "must be an ISO 3166-1 alpha-2 code such as DE");
        None
    }
}

/// Skill slugs as given (trimmed, lower-cased), each once in the order first
/// named; a list longer than 15 is refused whole, unread.
pub fn skills(field: &str, given: &[String], violations: &mut FieldViolations) -> Vec<String> {
    let mut skills: Vec<String> = Vec::new();
    if !violations.check_len(field, given.len(), 15) {
        return skills;
    }
    for skill in given {
        let skill = skill.trim().to_lowercase();
        if !skills.contains(&skill) {
            skills.push(skill);
        }
    }
    skills
}

/// A lower-case ISO 639-1 language code.
pub fn language(field: &str, text: &str, violations: &mut FieldViolations) -> Option<String> {
    let lower = text.trim().to_ascii_lowercase();
    if lower.len() == 2 && lower.bytes().all(|b| b.is_ascii_lowercase()) {
        Some(lower)
    } else {
        violations.add(field, "must be an ISO 639-1 code such as en");
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_is_trimmed_and_bounded() {
        let mut violations = FieldViolations::new();
        assert_eq!(
            bounded("f", "  hi  ", 1, 5, &mut violations).as_deref(),
            Some("hi")
        );
        assert!(bounded("f", "toolong", 1, 5, &mut violations).is_none());
        assert!(bounded("f", "bad\u{7}", 1, 5, &mut violations).is_none());
        assert_eq!(violations.iter().count(), 2);
    }

    #[test]
    fn urls_countries_and_languages_are_checked() {
        let mut violations = FieldViolations::new();
        assert!(url("u", "https://frevix.dev/x", &mut violations).is_some());
        assert!(url("u", "javascript:alert(1)", &mut violations).is_none());
        assert_eq!(country("c", "de", &mut violations).as_deref(), Some("DE"));
        assert!(country("c", "Germany", &mut violations).is_none());
        assert_eq!(language("l", "EN", &mut violations).as_deref(), Some("en"));
        assert_eq!(violations.iter().count(), 2);
    }

    #[test]
    fn only_ascii_letters_make_a_code() {
        // "ß" upper-cases to "SS" and the Kelvin sign lower-cases to "k":
        // neither is a code someone typed.
        let mut violations = FieldViolations::new();
        assert!(country("c", "ß", &mut violations).is_none());
        assert!(language("l", "\u{212A}o", &mut violations).is_none());
        assert_eq!(violations.iter().count(), 2);
    }

    #[test]
    fn skills_are_kept_once_in_order_and_an_oversized_list_is_refused() {
        let mut violations = FieldViolations::new();
        let given: Vec<String> = ["Rust", "go", " rust ", "Go", "sql"]
            .map(String::from)
            .into();
        assert_eq!(skills("s", &given, &mut violations), ["rust", "go", "sql"]);
        assert!(violations.is_empty());
        let many = vec!["x".to_owned(); 16];
        assert!(skills("s", &many, &mut violations).is_empty());
        assert_eq!(
            violations.to_string(),
            "s: must have at most 15 entries (has 16)"
        );
    }
}
