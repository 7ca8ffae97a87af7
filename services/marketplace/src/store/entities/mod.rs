//! sea-orm entities of marketplace's tables.

pub mod categories;
pub mod client_profiles;
pub mod freelancer_profiles;
pub mod gigs;
pub mod jobs;
pub mod proposals;
pub mod skills;
