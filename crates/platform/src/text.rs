//! Text that people choose for others to see (display names, titles, file
//! names) must look like what it is: no characters that show nothing or
//! turn the text around (a right-to-left override makes `gpj.exe` read as
//! `exe.jpg`), and at least something visible.

/// Characters that show nothing, or only change the order of what is shown.
pub fn is_invisible(c: char) -> bool {
    is_direction_control(c)
        || matches!(
            c,
            '\u{00AD}'            // soft hyphen
                | '\u{034F}'      // combining grapheme joiner
                | '\u{115F}' | '\u{1160}' | '\u{3164}' | '\u{FFA0}' // Hangul fillers
                | '\u{180E}'      // Mongolian vowel separator
                | '\u{200B}'..='\u{200D}' // zero-width space, non-joiner, joiner
                | '\u{2060}'..='\u{2064}' // word joiner, invisible operators
                | '\u{FEFF}'      // zero-width no-break space
        )
}

/// Marks, embeddings, overrides and isolates of the bidirectional algorithm.
pub fn is_direction_control(c: char) -> bool {
    matches!(
        c,
        '\u{061C}' | '\u{200E}' | '\u{200F}' | '\u{202A}'..='\u{202E}' | '\u{2066}'..='\u{2069}'
    )
}

/// What is wrong with `name` as a label others will read, if anything. The
/// joiners (U+200C, U+200D) are allowed between visible characters: some
/// scripts and emoji sequences need them.
pub fn label_problem(name: &str) -> Option<&'static str> {
    if name.chars().any(char::is_control) {
        return Some("must not contain control characters");
    }
    let joiner = |c: char| matches!(c, '\u{200C}' | '\u{200D}');
    if name.chars().any(|c| is_invisible(c) && !joiner(c)) {
        return Some("must not contain invisible or direction-changing characters");
    }
    if !name.chars().any(|c| !c.is_whitespace() && !is_invisible(c)) {
        return Some("must contain visible characters");
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spoofing_labels_are_refused_and_real_ones_pass() {
        for bad in [
            "invoice\u{202E}gpj.exe",
            "\u{200B}\u{200B}",
            "\u{3164}",
            "ad\u{200B}min",
            "tab\there",
        ] {
            assert!(label_problem(bad).is_some(), "{bad:?}");
        }
        for good in ["Ada Lovelace", "محمد", "Zoë 👩‍💻", "नमस्ते", "Ĉu ne?"]
        {
            assert_eq!(label_problem(good), None, "{good:?}");
        }
    }
}
