//! Frevix contracts: the agreement between a client and a freelancer and
//! every step of it. Two ways in (a gig order placed by a buyer, a job
//! contract from an accepted proposal), one engine: milestones funded into
//! escrow, delivered, revised, approved (or approved by the clock),
//! released; cancellation, disputes, reviews.
//!
//! This crate grows in slices; the rules come first ([`domain`]), as pure
//! functions with property tests, so the API and the store that follow only
//! ask them.

pub mod domain;
