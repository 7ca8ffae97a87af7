//! The soak (`make soak`): sagas without faults for a long while, and every
//! few seconds a sample of what leaks when something leaks — each service's
//! resident memory and open files, its database connections, its outbox
//! rows waiting, and the consumers' lag. At the end, each series' slope
//! (least squares, per minute) beside its mean: flat is the goal.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use sea_orm::{ConnectionTrait as _, Statement};
use tokio::sync::watch;

use crate::mesh::{Mesh, SERVICES, database_url};

/// Series name → (minutes since the start, value).
pub type Series = BTreeMap<String, Vec<(f64, f64)>>;

/// Samples every `every` until `over` turns true.
pub async fn sample(mesh: Arc<Mesh>, every: Duration, mut over: watch::Receiver<bool>) -> Series {
    let started = Instant::now();
    let mut series = Series::new();
    loop {
        let at = started.elapsed().as_secs_f64() / 60.0;
        match one(&mesh).await {
            Ok(values) => {
                for (name, value) in values {
                    series.entry(name).or_default().push((at, value));
                }
            }
            Err(error) => println!("chaos: soak sample failed: {error:#}"),
        }
        if tokio::time::timeout(every, over.wait_for(|over| *over))
            .await
            .is_ok()
        {
            return series;
        }
    }
}

async fn one(mesh: &Mesh) -> anyhow::Result<Vec<(String, f64)>> {
    let mut values = Vec::new();
    for (name, pid) in mesh.pids().await {
        let status = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
        let rss_kib = status
            .lines()
            .find_map(|line| line.strip_prefix("VmRSS:"))
            .and_then(|rest| rest.split_whitespace().next())
            .and_then(|kib| kib.parse::<f64>().ok())
            .unwrap_or(0.0);
        values.push((format!("{name} memory MiB"), rss_kib / 1024.0));
        let files = std::fs::read_dir(format!("/proc/{pid}/fd"))?.count();
        values.push((format!("{name} open files"), files as f64));
    }
    let server = sea_orm::Database::connect(&mesh.postgres).await?;
    for service in SERVICES {
        let connections = server
            .query_one_raw(Statement::from_string(
                server.get_database_backend(),
                format!("SELECT count(*) FROM pg_stat_activity WHERE datname = 'chaos_{service}'"),
            ))
            .await?
            .and_then(|row| row.try_get_by_index::<i64>(0).ok())
            .unwrap_or(0);
        values.push((format!("{service} db connections"), connections as f64));
        let db = sea_orm::Database::connect(database_url(&mesh.postgres, service)).await?;
        let waiting = db
            .query_one_raw(Statement::from_string(
                db.get_database_backend(),
                "SELECT count(*) FROM outbox WHERE published_at IS NULL".to_owned(),
            ))
            .await?
            .and_then(|row| row.try_get_by_index::<i64>(0).ok())
            .unwrap_or(0);
        values.push((format!("{service} outbox waiting"), waiting as f64));
        db.close().await?;
    }
    server.close().await?;
    values.push(("consumers lag".to_owned(), lag(mesh).await? as f64));
    Ok(values)
}

/// Messages not yet delivered or not yet acknowledged, over all durable
/// consumers.
async fn lag(mesh: &Mesh) -> anyhow::Result<u64> {
    use tokio_stream::StreamExt as _;
    let client = async_nats::connect(&mesh.nats).await?;
    let jetstream = async_nats::jetstream::new(client);
    let names: Vec<String> = jetstream.stream_names().collect::<Result<_, _>>().await?;
    let mut lag = 0;
    for name in names {
        let stream = jetstream.get_stream(&name).await?;
        let consumers: Vec<_> = stream.consumers().collect::<Result<_, _>>().await?;
        for info in consumers.iter().filter(|i| i.config.durable_name.is_some()) {
            lag += info.num_pending + info.num_ack_pending as u64;
        }
    }
    Ok(lag)
}

/// The least-squares slope of `points` (value per minute).
pub fn slope(points: &[(f64, f64)]) -> f64 {
    let n = points.len() as f64;
    if n < 2.0 {
        return 0.0;
    }
    let (mean_x, mean_y) = (
        points.iter().map(|p| p.0).sum::<f64>() / n,
        points.iter().map(|p| p.1).sum::<f64>() / n,
    );
    let covariance: f64 = points
        .iter()
        .map(|(x, y)| (x - mean_x) * (y - mean_y))
        .sum();
    let variance: f64 = points.iter().map(|(x, _)| (x - mean_x).powi(2)).sum();
    if variance == 0.0 {
        0.0
    } else {
        covariance / variance
    }
}

/// One line per series: its mean, first and last value, and slope, the
/// warm-up (first fifth) left out of the slope.
pub fn report(series: &Series) {
    for (name, points) in series {
        let warm = points.len() / 5;
        let settled = &points[warm..];
        let mean = settled.iter().map(|p| p.1).sum::<f64>() / settled.len().max(1) as f64;
        let (first, last) = (
            settled.first().map_or(0.0, |p| p.1),
            settled.last().map_or(0.0, |p| p.1),
        );
        println!(
            "chaos: soak {name:<28} mean {mean:>9.1}  first {first:>9.1}  last {last:>9.1}  slope {:>+8.3}/min",
            slope(settled)
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_line_has_its_slope_and_a_flat_series_none() {
        let line: Vec<(f64, f64)> = (0..10)
            .map(|i| (f64::from(i), 3.0 * f64::from(i) + 7.0))
            .collect();
        assert!((slope(&line) - 3.0).abs() < 1e-9);
        let flat: Vec<(f64, f64)> = (0..10).map(|i| (f64::from(i), 42.0)).collect();
        assert_eq!(slope(&flat), 0.0);
        assert_eq!(slope(&[(1.0, 5.0)]), 0.0);
    }
}
