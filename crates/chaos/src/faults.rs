//! The fault driver. Its schedule is a pure function of the seed — which
//! service dies after which pause, how long it stays down, when the broker
//! and the database restart — so a printed seed replays the same faults
//! (the sagas' interleaving with them is the machine's).

use std::path::Path;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::bail;
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};

use crate::mesh::{Mesh, SERVICES, repo};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// SIGKILL a service, start it again after `down`.
    Kill { service: usize, down: Duration },
    /// Stop nats-server and start it again (its JetStream store kept).
    RestartNats,
    /// Restart PostgreSQL with a fast shutdown (clients cut off).
    RestartPostgres,
}

/// Each fault after a pause.
#[derive(Debug, Clone)]
pub struct Plan(pub Vec<(Duration, Fault)>);

impl Plan {
    pub fn new(seed: u64, kills: usize, restarts: bool) -> Plan {
        let mut rng = StdRng::seed_from_u64(seed);
        let mut faults: Vec<Fault> = (0..kills)
            .map(|_| Fault::Kill {
                service: rng.gen_range(0..SERVICES.len()),
                down: Duration::from_millis(rng.gen_range(100..3_000)),
            })
            .collect();
        if restarts {
            // Somewhere in the middle, when sagas are under way.
            for fault in [Fault::RestartNats, Fault::RestartPostgres] {
                let at = rng.gen_range(faults.len() / 4..=faults.len() * 3 / 4);
                faults.insert(at, fault);
            }
        }
        Plan(
            faults
                .into_iter()
                .map(|fault| (Duration::from_millis(rng.gen_range(500..3_000)), fault))
                .collect(),
        )
    }
}

/// What the driver did.
#[derive(Debug, Default, Clone)]
pub struct Done {
    pub kills: usize,
    pub killed: [usize; SERVICES.len()],
    pub nats_restarts: usize,
    pub postgres_restarts: usize,
}

/// Applies `plan`; every service runs again when it returns.
pub async fn drive(plan: Plan, mesh: Arc<Mesh>) -> anyhow::Result<Done> {
    let mut done = Done::default();
    let total = plan.0.len();
    for (step, (pause, fault)) in plan.0.into_iter().enumerate() {
        tokio::time::sleep(pause).await;
        let started = Instant::now();
        match fault {
            Fault::Kill { service, down } => {
                mesh.kill_service(service).await?;
                tokio::time::sleep(down).await;
                mesh.start_service(service).await?;
                done.kills += 1;
                done.killed[service] += 1;
            }
            Fault::RestartNats => {
                restart("restart-nats").await?;
                done.nats_restarts += 1;
            }
            Fault::RestartPostgres => {
                restart("restart-pg").await?;
                done.postgres_restarts += 1;
            }
        }
        println!(
            "chaos: fault {}/{total} {fault:?} ({:.1} s)",
            step + 1,
            started.elapsed().as_secs_f64()
        );
    }
    Ok(done)
}

/// `scripts/test-services.sh <what>`, with this run's environment (which
/// points it at the private servers it started for the run).
async fn restart(what: &str) -> anyhow::Result<()> {
    let script = repo().join("scripts/test-services.sh");
    let status = tokio::process::Command::new("bash")
        .arg(&script)
        .arg(what)
        .stdout(std::process::Stdio::null())
        .status()
        .await?;
    if !status.success() {
        bail!("{} {what} failed: {status}", Path::new(&script).display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_replays_the_same_schedule() {
        let plan = |seed| Plan::new(seed, 30, true).0;
        assert_eq!(plan(7), plan(7));
        assert_ne!(plan(7), plan(8));
        let faults = plan(7);
        assert_eq!(faults.len(), 32);
        let kills = faults
            .iter()
            .filter(|(_, fault)| matches!(fault, Fault::Kill { .. }))
            .count();
        assert_eq!(kills, 30);
        for restart in [Fault::RestartNats, Fault::RestartPostgres] {
            assert_eq!(faults.iter().filter(|(_, f)| *f == restart).count(), 1);
        }
    }
}
