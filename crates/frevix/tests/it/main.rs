//! One integration-test binary for the `frevix` binary and the whole process: server, gateway, mesh, migrate, seed-demo: every file
//! here is a module, so the whole stack is linked once for all of them
//! rather than once per file.

// A failed expectation should panic in a test.
#![allow(clippy::unwrap_used, clippy::expect_used)]

mod authorization;
mod contract_rules;
mod crash_driver;
mod deployment;
mod fuzz;
mod gateway;
mod gateway_rest;
mod mail_outbox;
mod messaging_mesh;
mod messaging_mesh_facts;
mod migrate;
mod overload;
mod ownership;
mod payments_crash;
mod protocol_abuse;
mod reconcile;
mod rest_paths;
mod seed_demo;
mod server;
mod world;
mod world_parts;
