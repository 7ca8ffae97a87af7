//! One integration-test binary for payments: every file here is a module,
//! so the whole stack is linked once for all of them.

// A failed expectation should panic in a test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod books;
mod chargebacks;
mod ending;
mod funding;
mod hire;
mod hourly;
mod ledger_rules;
mod payouts;
mod provider_refunds;
mod receipts;
mod reconciling;
mod stripe;
mod stripe_webhooks;
mod support;
mod terms;
