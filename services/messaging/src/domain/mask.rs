//! Contact details are hidden in conversations between people who have no
//! funded contract yet, so deals are not taken off the platform before the
//! money is safe in escrow. Emails, phone numbers and links or handles of
//! outside messengers become a placeholder; the original text is kept for
//! moderation.
//!
//! Text is looked at as a reader sees it, not as its code points are
//! written: compatibility forms are folded (NFKC: full-width `０１２` and
//! `＠` become `012` and `@`), invisible characters (zero-width spaces and
//! joiners, soft hyphens, bidi controls) are dropped, and spelled-out
//! digits ("five five five ...") count as digits. When something is hidden
//! the answer is that folded text with placeholders.

use std::sync::LazyLock;

use frevix_platform::text::is_invisible;
use regex::Regex;
use unicode_normalization::UnicodeNormalization as _;

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

/// `text` as a reader sees it: NFKC, without invisible characters.
pub fn fold(text: &str) -> String {
    text.nfkc().filter(|c| !is_invisible(*c)).collect()
}

/// Number words that stand for digits.
static NUMBER_WORD: LazyLock<Option<Regex>> = LazyLock::new(|| {
    Regex::new(r"(?i)\b(zero|one|two|three|four|five|six|seven|eight|nine)\b").ok()
});

fn spelled_digits_as_digits(text: &str) -> String {
    let Some(words) = NUMBER_WORD.as_ref() else {
        return text.to_owned();
    };
    words
        .replace_all(text, |found: &regex::Captures<'_>| {
            match found[1].to_ascii_lowercase().as_str() {
                "zero" => "0",
                "one" => "1",
                "two" => "2",
                "three" => "3",
                "four" => "4",
                "five" => "5",
                "six" => "6",
                "seven" => "7",
                "eight" => "8",
                _ => "9",
            }
            .to_owned()
        })
        .into_owned()
}

/// `text` with contact details hidden, or `None` when it has none.
pub fn mask(text: &str) -> Option<String> {
    let folded = fold(text);
    // Spelled digits only matter when they make a number: the digits form
    // is used when (and only when) it reveals more than the words do.
    mask_folded(&folded).or_else(|| {
        let digits = spelled_digits_as_digits(&folded);
        if digits == folded {
            None
        } else {
            mask_folded(&digits)
        }
    })
}

fn mask_folded(text: &str) -> Option<String> {
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
    fn sees_through_wide_invisible_and_spelled_out_characters() {
        for text in [
            // Full-width digits and at sign.
            "call ０１７１ ２３４５６７８",
            "bob.smith＠example.com",
            // Zero-width spaces and joiners inside the details.
            "bob\u{200B}@\u{200D}example\u{2060}.com",
            "+1 415\u{200B}555\u{FEFF}0134",
            // A bidi override to hide the order of the digits.
            "my number \u{202E}4310555514\u{202C}",
            // Digits written as words.
            "call me at four one five five five five zero one three four",
        ] {
            let masked = mask(text).unwrap_or_else(|| panic!("not masked: {text:?}"));
            assert!(masked.contains(PLACEHOLDER), "{text:?} → {masked}");
            assert!(!masked.contains("bob"), "{text:?} → {masked}");
            assert!(!masked.contains("555"), "{text:?} → {masked}");
            assert!(!masked.chars().any(is_invisible), "{text:?} → {masked:?}");
        }
    }

    #[test]
    fn a_few_number_words_are_just_words() {
        assert_eq!(mask("one logo, two revisions, three days"), None);
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
