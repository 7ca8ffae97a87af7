//! The deployment files follow the registry: every registered service has
//! its Envoy cluster on its mesh port, its Kubernetes workload and its
//! migration Job, and `make mesh` starts it.

use frevix::registry::SERVICES;
use frevix_testkit::repo;

fn read(path: &str) -> String {
    std::fs::read_to_string(repo().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

#[test]
fn every_registered_service_is_routed_deployed_and_migrated() {
    let render = read("gateway-envoy/render.py");
    let kustomization = read("k8s/base/kustomization.yaml");
    let jobs = read("k8s/base/migrate/jobs.yaml");
    for entry in SERVICES {
        let (name, port) = (entry.name(), entry.mesh_port());
        let cluster = format!("\"{name}\": ([\"frevix.{name}.v1.\"], \"127.0.0.1\", {port}),");
        assert!(
            render.contains(&cluster),
            "gateway-envoy/render.py has no cluster {cluster}"
        );
        assert!(
            kustomization.contains(&format!("  - {name}.yaml")),
            "k8s/base/kustomization.yaml does not list {name}.yaml"
        );
        let workload = read(&format!("k8s/base/{name}.yaml"));
        assert!(
            workload.contains(&format!("containerPort: {port}")),
            "k8s/base/{name}.yaml does not listen on {port}"
        );
        assert!(
            jobs.contains(&format!("args: [migrate, {name}]")),
            "k8s/base/migrate/jobs.yaml has no migration Job for {name}"
        );
    }
}
