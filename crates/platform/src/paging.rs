//! Opaque page tokens for keyset pagination. A token carries the sort key of
//! the last item served plus a fingerprint of the filters it was issued for,
//! so pages stay stable while rows are inserted and a token cannot be replayed
//! against different filters. Clients must treat tokens as opaque.

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use frevix_proto::common::v1 as pb;
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::error::FieldViolations;

/// Page-size bounds of one list RPC.
#[derive(Debug, Clone, Copy)]
pub struct PageLimits {
    pub default_size: u64,
    pub max_size: u64,
}

/// A parsed page request: how many items and where to start.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<C> {
    pub size: u64,
    /// The sort key of the last item of the previous page, if any.
    pub after: Option<C>,
}

#[derive(Serialize, serde::Deserialize)]
struct Token<C> {
    /// Fingerprint of the filters.
    f: String,
    /// Cursor: the sort key of the last item served.
    c: C,
}

/// Fingerprint of a list request's filters, used to bind tokens to them.
pub fn fingerprint(filters: &impl Serialize) -> String {
    let json = serde_json::to_vec(filters).unwrap_or_default();
    let digest = Sha256::digest(json);
    URL_SAFE_NO_PAD.encode(&digest[..9])
}

/// Parses `page` (the request's `page` field), recording violations under
/// `page.page_size` and `page.page_token`.
pub fn parse_page<C: DeserializeOwned>(
    page: Option<&pb::PageRequest>,
    limits: PageLimits,
    filters_fingerprint: &str,
    violations: &mut FieldViolations,
) -> Page<C> {
    let default = pb::PageRequest::default();
    let page = page.unwrap_or(&default);
    let size = match page.page_size {
        0 => limits.default_size,
        n if n < 0 => {
            violations.add("page.page_size", "must not be negative");
            limits.default_size
        }
        n if n as u64 > limits.max_size => {
            violations.add(
                "page.page_size",
                format!("must be at most {}", limits.max_size),
            );
            limits.default_size
        }
        n => n as u64,
    };
    let after = if page.page_token.is_empty() {
        None
    } else {
        match decode::<C>(&page.page_token) {
            Some(token) if token.f == filters_fingerprint => Some(token.c),
            Some(_) => {
                violations.add(
                    "page.page_token",
                    "was issued for different filters; start again without a token",
                );
                None
            }
            None => {
                violations.add("page.page_token", "is not a token this RPC issued");
                None
            }
        }
    };
    Page { size, after }
}

fn decode<C: DeserializeOwned>(token: &str) -> Option<Token<C>> {
    let bytes = URL_SAFE_NO_PAD.decode(token).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// The token for the page after the one ending with `last`.
pub fn next_token<C: Serialize>(last: &C, filters_fingerprint: &str) -> String {
    let token = Token {
        f: filters_fingerprint.to_owned(),
        c: last,
    };
    URL_SAFE_NO_PAD.encode(serde_json::to_vec(&token).unwrap_or_default())
}

/// Builds the page response for `items` fetched with `size + 1` rows: the
/// extra row only tells whether another page exists and is dropped.
pub fn finish_page<T, C: Serialize>(
    mut items: Vec<T>,
    size: u64,
    filters_fingerprint: &str,
    cursor_of: impl Fn(&T) -> C,
) -> (Vec<T>, pb::PageResponse) {
    let has_more = items.len() as u64 > size;
    items.truncate(size as usize);
    let next_page_token = match (has_more, items.last()) {
        (true, Some(last)) => next_token(&cursor_of(last), filters_fingerprint),
        _ => String::new(),
    };
    (items, pb::PageResponse { next_page_token })
}

#[cfg(test)]
mod tests {
    use super::*;

    const LIMITS: PageLimits = PageLimits {
        default_size: 20,
        max_size: 100,
    };

    #[test]
    fn a_token_round_trips_with_the_same_filters() {
        let fp = fingerprint(&("a", 1));
        let token = next_token(&(7_i64, "x".to_owned()), &fp);
        let mut violations = FieldViolations::new();
        let request = pb::PageRequest {
            page_size: 5,
            page_token: token,
        };
        let page: Page<(i64, String)> = parse_page(Some(&request), LIMITS, &fp, &mut violations);
        assert!(violations.is_empty());
        assert_eq!(page.size, 5);
        assert_eq!(page.after, Some((7, "x".to_owned())));
    }

    #[test]
    fn a_token_from_other_filters_or_garbage_is_rejected() {
        let token = next_token(&1_i64, &fingerprint(&"a"));
        for bad in [token, "not-a-token".to_owned()] {
            let mut violations = FieldViolations::new();
            let request = pb::PageRequest {
                page_size: 0,
                page_token: bad,
            };
            let _: Page<i64> =
                parse_page(Some(&request), LIMITS, &fingerprint(&"b"), &mut violations);
            assert_eq!(
                violations.iter().next().map(|v| v.0),
                Some("page.page_token")
            );
        }
    }

    #[test]
    fn page_sizes_out_of_bounds_are_rejected() {
        for size in [-1, 101] {
            let mut violations = FieldViolations::new();
            let request = pb::PageRequest {
                page_size: size,
                page_token: String::new(),
            };
            let _: Page<i64> = parse_page(Some(&request), LIMITS, "", &mut violations);
            assert_eq!(
                violations.iter().next().map(|v| v.0),
                Some("page.page_size")
            );
        }
    }

    #[test]
    fn the_extra_row_makes_a_next_token() {
        let (items, page) = finish_page(vec![1, 2, 3], 2, "f", |i| *i);
        assert_eq!(items, [1, 2]);
        assert!(!page.next_page_token.is_empty());
        let (items, page) = finish_page(vec![1, 2], 2, "f", |i| *i);
        assert_eq!(items, [1, 2]);
        assert!(page.next_page_token.is_empty());
    }
}
