//! `make chaos`: Frevix's promises about money and messages, tested the way
//! they fail in production. The mesh runs as it does in `make mesh`; N
//! hire sagas go through Envoy as apps would, retrying with idempotency
//! keys; meanwhile a fault driver, from a printed seed, SIGKILLs services
//! at random moments and starts them again, restarts NATS and PostgreSQL
//! once each, and the Stripe stand-in fails, loses, stalls, duplicates,
//! reorders, delays and drops. Then the checker ([`check`]) reads back every
//! promise. Exits non-zero on any anomaly or failed saga.

mod admin;
mod api;
mod check;
mod faults;
mod mesh;
mod people;
mod saga;
mod soak;
mod steps;

use std::net::{IpAddr, Ipv4Addr};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Parser;
use frevix_stripe_standin::Faults;
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tonic::Code;

use crate::admin::Admin;
use crate::api::{Api, Seen};
use crate::faults::Plan;
use crate::mesh::{ADMIN_EMAIL, ADMIN_PASSWORD, Mesh, SERVICES};
use crate::saga::{Ending, Saga, Way};

#[derive(Parser)]
#[command(
    about = "Hire sagas through the mesh under a seeded fault schedule, then a check that nothing was lost or doubled."
)]
struct Args {
    /// The fault schedule's seed; the same seed replays the same faults [random].
    #[arg(long, env = "FREVIX_CHAOS_SEED")]
    seed: Option<u64>,
    /// Sagas to run at least (more start until the last fault is done).
    #[arg(long, default_value_t = 100)]
    sagas: usize,
    /// Services to SIGKILL (each started again after a moment).
    #[arg(long, default_value_t = 30)]
    kills: usize,
    /// Sagas under way at once.
    #[arg(long, default_value_t = 12)]
    concurrency: usize,
    /// Leave out the NATS and PostgreSQL restarts.
    #[arg(long)]
    no_restarts: bool,
    /// A soak instead: sagas without any fault for this many minutes, the
    /// services' memory, files, connections, outboxes and the consumers'
    /// lag sampled throughout and their slopes reported.
    #[arg(long, default_value_t = 0)]
    soak_minutes: u64,
    /// The `frevix` binary the services run.
    #[arg(long, env = "FREVIX_CHAOS_BIN")]
    frevix: PathBuf,
    /// Where logs, mail and media go (emptied first).
    #[arg(long, default_value = "target/chaos/run")]
    dir: PathBuf,
    /// PostgreSQL (a private one the run may restart).
    #[arg(long, env = "FREVIX_TEST_DATABASE_URL")]
    postgres: String,
    /// NATS JetStream (a private one the run may restart).
    #[arg(long, env = "FREVIX_TEST_NATS_URL")]
    nats: String,
}

fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let clean = runtime.block_on(run(args))?;
    std::process::exit(if clean { 0 } else { 1 });
}

/// The provider on a bad day, all run long.
fn bad_day() -> Faults {
    Faults {
        fail_rate: 0.05,
        lose_rate: 0.05,
        stall_rate: 0.02,
        stall: Duration::from_secs(5),
        duplicate_rate: 0.1,
        drop_rate: 0.1,
        reorder: true,
        delay: Duration::from_millis(300),
    }
}

async fn run(args: Args) -> anyhow::Result<bool> {
    let seed = args.seed.unwrap_or_else(rand::random);
    println!("chaos: seed {seed} (FREVIX_CHAOS_SEED={seed} replays the same faults)");
    let soak = (args.soak_minutes > 0).then(|| Duration::from_secs(args.soak_minutes * 60));
    let plan = match soak {
        Some(_) => Plan(Vec::new()),
        None => Plan::new(seed, args.kills, !args.no_restarts),
    };
    let _ = std::fs::remove_dir_all(&args.dir);
    let mesh = Arc::new(Mesh::start(&args.dir, &args.frevix, &args.postgres, &args.nats).await?);
    println!(
        "chaos: the mesh is up; logs in {}",
        args.dir.join("logs").display()
    );
    let seen = Arc::new(Seen::default());
    let gateway = mesh.gateway_url();
    let operator = Api::connect(&gateway, IpAddr::V4(Ipv4Addr::LOCALHOST), seen.clone())?;
    let admin = Arc::new(Admin::sign_in(&operator, ADMIN_EMAIL, ADMIN_PASSWORD).await?);
    if soak.is_none() {
        mesh.standin.set_faults(bad_day());
    }
    let (soak_over, soak_over_rx) = tokio::sync::watch::channel(false);
    let sampler = soak.map(|_| {
        tokio::spawn(soak::sample(
            mesh.clone(),
            Duration::from_secs(15),
            soak_over_rx,
        ))
    });

    let started = Instant::now();
    let fault_driver = tokio::spawn(faults::drive(plan, mesh.clone()));
    let mut endings = StdRng::seed_from_u64(seed.rotate_left(17));
    let slots = Arc::new(Semaphore::new(args.concurrency.max(1)));
    let mut sagas = JoinSet::new();
    // At least --sagas, and more until the fault schedule has run out, so
    // every fault lands while sagas are under way.
    let mut index = 0;
    let more = |index: usize, faults_done: bool| match soak {
        Some(length) => started.elapsed() < length,
        None => index < args.sagas || !faults_done,
    };
    while more(index, fault_driver.is_finished()) {
        let ending = match endings.gen_range(0..10) {
            0..=5 => Ending::Completed,
            6 | 7 => Ending::Cancelled,
            _ => Ending::Disputed,
        };
        let way = if endings.gen_bool(0.5) {
            Way::GigOrder
        } else {
            Way::Job
        };
        let slot = slots.clone().acquire_owned().await?;
        // Each saga's app from an address of its own.
        let from = IpAddr::V4(Ipv4Addr::new(
            127,
            1,
            (index / 200) as u8,
            (index % 200 + 1) as u8,
        ));
        let saga = Saga {
            name: format!("s{index:04}"),
            way,
            ending,
            api: Api::connect(&gateway, from, seen.clone())?,
            mail: mesh.mail_dir(),
            admin: admin.clone(),
        };
        sagas.spawn(async move {
            let name = saga.name.clone();
            let outcome = saga.run().await;
            drop(slot);
            (name, outcome)
        });
        index += 1;
    }
    let mut outcomes = Vec::new();
    let mut failed = Vec::new();
    while let Some(joined) = sagas.join_next().await {
        match joined? {
            (_, Ok(outcome)) => outcomes.push(outcome),
            (name, Err(error)) => {
                println!("chaos: saga {name} failed: {error:#}");
                failed.push(name);
            }
        }
    }
    let sagas_took = started.elapsed();
    let _ = soak_over.send(true);
    let series = match sampler {
        Some(sampler) => Some(sampler.await?),
        None => None,
    };
    let done = fault_driver.await??;
    // What the provider still holds back is delivered now.
    mesh.standin.set_faults(Faults::default());
    let (settled, anomalies) = check::settle(
        &mesh,
        &operator,
        &outcomes,
        failed.is_empty(),
        Duration::from_secs(300),
    )
    .await;
    mesh.stop().await;

    report(&outcomes, failed.len(), &done, sagas_took, settled, &seen);
    if let Some(series) = &series {
        soak::report(series);
    }
    let totals = mesh.standin.totals();
    println!(
        "chaos: the provider made {} charges, {} refunds, {} transfers; {} webhooks delivered",
        totals.charges,
        totals.refunds,
        totals.transfers,
        mesh.standin.deliveries().len()
    );
    let mut anomalies = anomalies;
    // Retried so the sagas go on, but each a finding: a fault of ours, or a
    // good token refused (an app would sign its user out).
    for (rpc, code, times) in seen.snapshot() {
        if matches!(code, Code::Internal | Code::Unknown | Code::Unauthenticated) {
            anomalies.push(format!("{rpc} answered {code:?} {times} times"));
        }
    }
    for anomaly in &anomalies {
        println!("chaos: ANOMALY {anomaly}");
    }
    let clean = anomalies.is_empty() && failed.is_empty();
    println!(
        "chaos: {} (seed {seed})",
        if clean { "no anomalies" } else { "FAILED" }
    );
    Ok(clean)
}

fn report(
    outcomes: &[saga::Outcome],
    failed: usize,
    done: &faults::Done,
    sagas_took: Duration,
    settled: Duration,
    seen: &Seen,
) {
    let of = |ending: Ending| outcomes.iter().filter(|o| o.ending == ending).count();
    let jobs = outcomes.iter().filter(|o| o.way == Way::Job).count();
    println!(
        "chaos: {} sagas ended ({} gig orders, {jobs} job contracts; {} completed, {} cancelled, {} disputed), {failed} failed, in {:.0} s",
        outcomes.len(),
        outcomes.len() - jobs,
        of(Ending::Completed),
        of(Ending::Cancelled),
        of(Ending::Disputed),
        sagas_took.as_secs_f64()
    );
    let mut took: Vec<Duration> = outcomes.iter().map(|o| o.took).collect();
    took.sort();
    if let (Some(median), Some(slowest)) = (took.get(took.len() / 2), took.last()) {
        println!(
            "chaos: a saga took {:.1} s (median), {:.1} s at most",
            median.as_secs_f64(),
            slowest.as_secs_f64()
        );
    }
    let killed: Vec<String> = SERVICES
        .iter()
        .zip(done.killed)
        .map(|(name, kills)| format!("{name} {kills}"))
        .collect();
    println!(
        "chaos: faults: {} kills ({}), NATS restarted {}, PostgreSQL restarted {}",
        done.kills,
        killed.join(", "),
        done.nats_restarts,
        done.postgres_restarts
    );
    println!(
        "chaos: settled {:.1} s after the last saga",
        settled.as_secs_f64()
    );
    // By code, the RPCs that answered it: INTERNAL or UNAUTHENTICATED
    // while a peer restarts would be findings.
    let mut by_code: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for (rpc, code, times) in seen.snapshot() {
        by_code
            .entry(format!("{code:?}"))
            .or_default()
            .push(format!("{rpc} x{times}"));
    }
    for (code, rpcs) in by_code {
        println!(
            "chaos: answered {code} (then retried or expected): {}",
            rpcs.join(", ")
        );
    }
}
