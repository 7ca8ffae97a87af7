//! Marketplace rules, free of I/O: what a valid gig and profile are, and the
//! gig status machine.

pub mod catalog;
pub mod gig;
pub mod ids;
pub mod job;
pub mod profile;
pub mod text;
