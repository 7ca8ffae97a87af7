//! The `frevix` binary as a library, so tests and benchmarks boot exactly
//! what operators run: [`config`] loads and checks the settings, [`app`]
//! assembles one service (the mesh) or all of them (the all-in-one shape).

pub mod app;
pub mod config;
pub mod entry;
pub mod registry;
pub mod seed;
