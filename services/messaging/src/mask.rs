//! Contact details are hidden in conversations between people who have no
//! funded contract yet, so deals are not taken off the platform before the
//! money is safe in escrow. Emails, phone numbers and links or handles of
//! outside messengers become a placeholder; the original text is kept for
//! moderation.

use std::sync::LazyLock;

use regex::Regex;

/// What a hidden detail is replaced with.
pub const PLACEHOLDER: &str = "[contact details hidden until a contract is funded]";

static PATTERNS: LazyLock<Vec<Regex>> = LazyLock::new(|| {
    [
        // Email addresses, also written with " at " / " dot ".
        r"(?i)[a-z0-9._%+-]+\s*(?:@|\(at\)|\[at\]|\sat\s)\s*[a-z0-9-]+(?:\s*(?:\.|\(dot\)|\[dot\]|\sdot\s)\s*[a-z0-9-]+)*\s*(?:\.|\(dot\)|\[dot\]|\sdot\s)\s*[a-z]{2,}\b",
        // Links to outside messengers.
        r"(?i)\b(?:https?://)?(?:www\.)?(?:t\.me|telegram\.(?:me|org|dog)|wa\.me|chat\.whatsapp\.com|api\.whatsapp\.com|m\.me|discord\.gg|discord(?:app)?\.com/users|signal\.me|join\.skype\.com|viber\.click|line\.me|weixin\.qq\.com)(?:/\S*)?",
        // Handles named with a messenger: "telegram: @bob", "skype is bob.smith".
        r"(?i)\b(?:telegram|tg|whats\s?app|skype|discord|signal|viber|wechat|line\s+id|snapchat|instagram|insta)\b\s*(?:id|handle|name|is|me|at|on|:|-)*\s*[:@]?\s*@?[a-z0-9._#-]{3,}",
        // Skype URIs.
        r"(?i)\b(?:skype|tel|callto|sms):\S+",
    ]
    .iter()
    .filter_map(|pattern| Regex::new(pattern).ok())
    .collect()
});

/// Phone numbers: 7 to 15 digits, possibly with +, spaces, dots, dashes or
/// parentheses between them.
static PHONE: LazyLock<Option<Regex>> =
    LazyLock::new(|| Regex::new(r"\+?\(?\d[\d\s().\-]{5,20}\d").ok());

/// Dates look like phone numbers to the pattern above.
static DATE: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"^(?:\d{4}[-./]\d{1,2}[-./]\d{1,2}|\d{1,2}[-./]\d{1,2}[-./]\d{2,4})$").ok()
});

/// `text` with contact details hidden, or `None` when it has none.
pub fn mask(text: &str) -> Option<String> {
    let mut masked = text.to_owned();
    let mut changed = false;
    for pattern in PATTERNS.iter() {
        if pattern.is_match(&masked) {
            masked = pattern.replace_all(&masked, PLACEHOLDER).into_owned();
            changed = true;
        }
    }
    if let Some(phone) = PHONE.as_ref() {
        let replaced = phone.replace_all(&masked, |found: &regex::Captures<'_>| {
            let digits = found[0].chars().filter(char::is_ascii_digit).count();
            let date = DATE
                .as_ref()
                .is_some_and(|date| date.is_match(found[0].trim()));
            if (7..=15).contains(&digits) && !date {
                PLACEHOLDER.to_owned()
            } else {
                found[0].to_owned()
            }
        });
        if replaced != masked {
            masked = replaced.into_owned();
            changed = true;
        }
    }
    changed.then_some(masked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hides_emails_phones_and_messengers() {
        for text in [
            "write me at bob.smith@example.com",
            "bob (at) example (dot) com",
            "call +1 (415) 555-0134 tomorrow",
            "my number is 0171 2345678",
            "ping me on t.me/bobsmith",
            "https://wa.me/14155550134",
            "telegram: @bob_smith",
            "my skype is bob.smith42",
        ] {
            let masked = mask(text).unwrap_or_else(|| panic!("not masked: {text}"));
            assert!(masked.contains(PLACEHOLDER), "{text} → {masked}");
            assert!(!masked.contains("bob"), "{text} → {masked}");
            assert!(!masked.contains("555"), "{text} → {masked}");
        }
    }

    #[test]
    fn leaves_ordinary_text_alone() {
        for text in [
            "The logo needs 3 revisions by 2026-12-01.",
            "Budget is 1500 USD, delivery in 14 days.",
            "I use Figma and Illustrator; see my portfolio on Frevix.",
            "Version 2.0.1 is live",
        ] {
            assert_eq!(mask(text), None, "{text}");
        }
    }
}
