//! Frevix's protobuf contracts as Rust types: one module per protobuf package,
//! generated at build time from `proto/`, plus the encoded descriptor set that
//! server reflection serves so grpcurl and `buf curl` need no local files.

// Generated code: its shape is prost's and tonic's, not ours.
#![allow(clippy::all, clippy::pedantic, missing_docs)]

pub mod codec;

/// The Frevix packages, nested as their protobuf names are (`frevix.*.v1`)
/// so generated code finds `google.rpc` beside them; re-exported below at
/// the crate root (`frevix_proto::messaging::v1`).
pub mod frevix {
    /// Shared types: money, paging, the event envelope.
    pub mod common {
        pub mod v1 {
            tonic::include_proto!("frevix.common.v1");
        }
    }

    /// Accounts, sessions and tokens.
    pub mod identity {
        pub mod v1 {
            tonic::include_proto!("frevix.identity.v1");
        }
    }

    /// Catalog, profiles, gigs.
    pub mod marketplace {
        pub mod v1 {
            tonic::include_proto!("frevix.marketplace.v1");
        }
    }

    /// Conversations and messages.
    pub mod messaging {
        pub mod v1 {
            tonic::include_proto!("frevix.messaging.v1");
        }
    }

    /// Contracts, milestones, cancellations, disputes, reviews.
    pub mod contracts {
        pub mod v1 {
            tonic::include_proto!("frevix.contracts.v1");
        }
    }

    /// Escrow funding, releases, refunds, balances.
    pub mod payments {
        pub mod v1 {
            tonic::include_proto!("frevix.payments.v1");
        }
    }
}

pub use frevix::{common, contracts, identity, marketplace, messaging, payments};

/// Google's common API types the contracts use (`google.rpc.Code`).
pub mod google {
    pub mod rpc {
        tonic::include_proto!("google.rpc");
    }
}

/// Every Frevix protobuf file and its imports, encoded as a
/// `google.protobuf.FileDescriptorSet`.
pub const FILE_DESCRIPTOR_SET: &[u8] =
    include_bytes!(concat!(env!("OUT_DIR"), "/frevix_descriptor.bin"));
