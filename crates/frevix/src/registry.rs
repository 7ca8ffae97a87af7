//! Every service this binary runs. `frevix serve`, `frevix migrate`,
//! `frevix events tail`, the configuration, the test kit and the
//! benchmarks all loop over this list, so adding a service is its crate
//! plus one line here (then its Envoy routes and Kubernetes files, which a
//! test checks against this list).
//!
//! Each line names the configuration section (also the service's name) and
//! the type implementing [`frevix_platform::service::Service`]. The macro
//! writes the [`FrevixConfig`] struct with one typed section per service
//! and the [`SERVICES`] list.

use crate::entry::registry;

registry! {
    identity: frevix_identity::Identity,
    marketplace: frevix_marketplace::Marketplace,
    contracts: frevix_contracts::Contracts,
    messaging: frevix_messaging::Messaging,
    payments: frevix_payments::Payments,
}

/// The registered service called `name`.
pub fn service(name: &str) -> Option<&'static ServiceEntry> {
    SERVICES.iter().copied().find(|entry| entry.name() == name)
}

/// The names of every service, for messages.
pub fn names() -> Vec<&'static str> {
    SERVICES.iter().map(|entry| entry.name()).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_section_is_named_after_its_service() {
        for entry in SERVICES {
            assert_eq!(entry.section_key(), entry.name());
        }
        let mut names = names();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), SERVICES.len(), "a service registered twice");
    }
}
