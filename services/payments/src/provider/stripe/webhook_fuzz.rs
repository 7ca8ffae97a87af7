//! Property tests of the webhook signature check, the one thing between
//! the internet and payments' inbox: a delivery signed with the endpoint's
//! secret in the last 300 s is taken; any other header, any changed byte
//! of a signed body, another secret or an old timestamp is refused, and no
//! input panics.

use frevix_stripe_standin::signature;
use proptest::prelude::*;
use serde_json::json;

use super::verified;

const SECRET: &str = "whsec_fuzz";

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

/// A `payment_intent.succeeded` as Stripe sends it.
fn event(id: &str, amount: i64) -> String {
    json!({
        "id": id,
        "object": "event",
        "api_version": "2026-09-30.endive",
        "created": now(),
        "livemode": false,
        "pending_webhooks": 1,
        "type": "payment_intent.succeeded",
        "data": { "object": {
            "id": "pi_fuzz",
            "object": "payment_intent",
            "amount": amount,
            "amount_capturable": 0,
            "amount_received": amount,
            "capture_method": "automatic",
            "confirmation_method": "automatic",
            "created": now(),
            "currency": "usd",
            "livemode": false,
            "metadata": {},
            "payment_method_types": ["card"],
            "status": "succeeded",
        }},
    })
    .to_string()
}

proptest! {
    #[test]
    fn a_delivery_signed_with_the_secret_just_now_is_taken(
        id in "evt_[A-Za-z0-9]{1,24}",
        amount in 1..i64::MAX,
    ) {
        let body = event(&id, amount);
        let header = signature(&body, SECRET, now());
        let taken = verified(body.as_bytes(), Some(&header), SECRET);
        prop_assert_eq!(taken.map(|event| event.id.to_string()), Ok(id));
    }

    #[test]
    fn any_changed_byte_of_a_signed_body_is_refused(at in any::<usize>(), to in any::<u8>()) {
        let body = event("evt_signed", 5_000);
        let header = signature(&body, SECRET, now());
        let mut changed = body.into_bytes();
        let at = at % changed.len();
        prop_assume!(changed[at] != to);
        changed[at] = to;
        prop_assert!(verified(&changed, Some(&header), SECRET).is_err());
    }

    #[test]
    fn another_secret_or_an_old_timestamp_is_refused(
        secret in "whsec_[a-z0-9]{0,20}",
        age in 301_i64..10_000_000,
    ) {
        let body = event("evt_signed", 5_000);
        prop_assume!(secret != SECRET);
        let forged = signature(&body, &secret, now());
        prop_assert!(verified(body.as_bytes(), Some(&forged), SECRET).is_err());
        let stale = signature(&body, SECRET, now() - age);
        prop_assert!(verified(body.as_bytes(), Some(&stale), SECRET).is_err());
    }

    #[test]
    fn any_header_is_refused_unless_it_signs_the_body(
        header in prop_oneof![
            any::<String>(),
            "t=[0-9]{0,12},v1=[0-9a-f]{0,64}",
            "(t=[0-9]{10},)?(v1=[0-9a-f]{64},?){0,3}(v0=[a-z]*)?",
        ],
        body in prop_oneof![Just(event("evt_signed", 5_000)), any::<String>()],
    ) {
        prop_assert!(verified(body.as_bytes(), Some(&header), SECRET).is_err());
        prop_assert!(verified(body.as_bytes(), None, SECRET).is_err());
    }

    #[test]
    fn a_signed_body_that_is_not_an_event_is_refused_not_a_panic(
        body in prop::collection::vec(any::<u8>(), 0..300),
    ) {
        let text = String::from_utf8_lossy(&body).into_owned();
        let header = signature(&text, SECRET, now());
        prop_assert!(verified(&body, Some(&header), SECRET).is_err());
    }
}
