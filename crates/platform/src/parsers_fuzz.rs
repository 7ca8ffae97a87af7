//! Property tests of the parsers every request passes through — page
//! tokens, field masks, money, ids — fed anything a caller can send. None
//! panics; each accepts exactly what it documents and says why it refuses
//! the rest. (The API fuzz drives the same code through the server; these
//! reach the corners a descriptor-built request seldom does.)

use frevix_proto::common::v1 as pb;
use proptest::prelude::*;
use prost_types::FieldMask;

use crate::error::FieldViolations;
use crate::ids::parse_uuid;
use crate::mask::update_paths;
use crate::money::{Currency, Money};
use crate::paging::{Page, PageLimits, fingerprint, next_token, parse_page};

const LIMITS: PageLimits = PageLimits {
    default_size: 20,
    max_size: 100,
};

type Cursor = (i64, String);

fn page_of(size: i32, token: String, fp: &str) -> (Page<Cursor>, FieldViolations) {
    let mut violations = FieldViolations::new();
    let request = pb::PageRequest {
        page_size: size,
        page_token: token,
    };
    let page = parse_page(Some(&request), LIMITS, fp, &mut violations);
    (page, violations)
}

/// Texts a caller might send: anything, or near-misses of valid forms.
fn text() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<String>(),
        "[A-Za-z0-9_-]{0,200}",
        "[0-9a-f-]{30,40}",
        Just(String::new()),
    ]
}

proptest! {
    #[test]
    fn any_page_size_becomes_a_size_within_the_limits(size in any::<i32>()) {
        let (page, violations) = page_of(size, String::new(), "f");
        prop_assert!((1..=LIMITS.max_size).contains(&page.size));
        let valid = (0..=LIMITS.max_size as i32).contains(&size);
        prop_assert_eq!(violations.is_empty(), valid);
    }

    #[test]
    fn any_token_text_is_refused_with_a_reason_or_gives_a_cursor(token in text()) {
        let (page, violations) = page_of(10, token.clone(), "f");
        if token.is_empty() {
            prop_assert!(page.after.is_none() && violations.is_empty());
        } else {
            // Either a cursor, or none and a violation naming the token.
            prop_assert_eq!(page.after.is_some(), violations.is_empty());
        }
    }

    #[test]
    fn a_token_gives_back_its_cursor_and_only_for_its_filters(
        n in any::<i64>(),
        s in any::<String>(),
        filters in any::<String>(),
        others in any::<String>(),
    ) {
        let fp = fingerprint(&filters);
        let token = next_token(&(n, s.clone()), &fp);
        let (page, violations) = page_of(5, token.clone(), &fp);
        prop_assert!(violations.is_empty());
        prop_assert_eq!(page.after, Some((n, s)));
        if others != filters {
            let (page, violations) = page_of(5, token, &fingerprint(&others));
            prop_assert!(page.after.is_none());
            prop_assert!(!violations.is_empty());
        }
    }

    #[test]
    fn a_tampered_token_never_panics(
        n in any::<i64>(),
        at in any::<usize>(),
        with in any::<char>(),
    ) {
        let fp = fingerprint(&"filters");
        let mut token: Vec<char> = next_token(&(n, "x".to_owned()), &fp).chars().collect();
        let at = at % token.len();
        token[at] = with;
        let (page, violations) = page_of(5, token.into_iter().collect(), &fp);
        prop_assert_eq!(page.after.is_some(), violations.is_empty());
    }

    #[test]
    fn a_mask_gives_each_path_once_and_never_more_than_can_be_named(
        paths in prop::collection::vec(text(), 0..40),
    ) {
        let updatable = ["title", "description", "price", "tags"];
        let mut violations = FieldViolations::new();
        let mask = Some(FieldMask { paths: paths.clone() });
        let unique = update_paths(mask, &updatable, &mut violations);
        prop_assert!(unique.len() <= updatable.len());
        let mut sorted = unique.clone();
        sorted.sort();
        sorted.dedup();
        prop_assert_eq!(sorted.len(), unique.len(), "a path given twice");
        prop_assert!(unique.iter().all(|p| paths.contains(p)));
        let refused = paths.is_empty() || paths.len() > updatable.len();
        prop_assert_eq!(!violations.is_empty(), refused);
        prop_assert_eq!(unique.is_empty(), refused);
    }

    #[test]
    fn an_amount_is_taken_only_in_a_known_currency_and_within_bounds(
        code in prop_oneof![text(), Just("USD".to_owned()), Just("JPY".to_owned()), "[A-Z]{3}"],
        minor_units in any::<i64>(),
        max in 1..i64::MAX,
    ) {
        let mut violations = FieldViolations::new();
        let value = pb::Money { currency_code: code.clone(), minor_units };
        let parsed = Money::parse_positive("price", Some(&value), max, &mut violations);
        let valid = Currency::from_code(&code).is_some() && minor_units >= 1 && minor_units <= max;
        prop_assert_eq!(parsed.is_some(), valid);
        prop_assert_eq!(violations.is_empty(), valid);
        if let Some(money) = parsed {
            prop_assert_eq!(money.minor_units, minor_units);
            prop_assert_eq!(money.currency.code(), code.as_str());
        }
    }

    #[test]
    fn money_arithmetic_overflows_into_an_error_never_a_wrong_sum(
        a in any::<i64>(),
        b in any::<i64>(),
    ) {
        let usd = |n| Money::new(Currency::USD, n);
        let other = |code, n| Currency::from_code(code).map(|c| Money::new(c, n));
        prop_assert_eq!(usd(a).checked_add(usd(b)).ok().map(|m| m.minor_units), a.checked_add(b));
        prop_assert_eq!(usd(a).checked_sub(usd(b)).ok().map(|m| m.minor_units), a.checked_sub(b));
        prop_assert!(other("EUR", b).is_some_and(|eur| usd(a).checked_add(eur).is_err()));
        // Any amount prints, the extremes too.
        prop_assert!(usd(a).to_string().starts_with("USD "));
        let printed = other("JPY", a).map(|jpy| jpy.to_string());
        prop_assert_eq!(printed, Some(format!("JPY {}", a)));
    }

    #[test]
    fn an_id_is_taken_only_when_it_is_a_uuid(id in text()) {
        let mut violations = FieldViolations::new();
        let parsed = parse_uuid("gig_id", &id, &mut violations);
        prop_assert_eq!(parsed.is_some(), uuid::Uuid::parse_str(&id).is_ok());
        prop_assert_eq!(violations.is_empty(), parsed.is_some());
    }
}
