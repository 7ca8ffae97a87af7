//! `frevix payments reconcile`: the books against the payment provider's
//! records for a period, printed one difference a line; exits with an
//! error when they differ (for a scheduled job to alert on).

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use chrono::{DateTime, NaiveDate, Utc};
use frevix::config::{FrevixConfig, Shape};
use frevix_platform::db::connect_and_migrate;
use secrecy::ExposeSecret;

fn day(text: &str) -> anyhow::Result<DateTime<Utc>> {
    let date = NaiveDate::parse_from_str(text, "%Y-%m-%d")
        .with_context(|| format!("{text:?} is not a date like 2026-11-30"))?;
    Ok(date.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc())
}

pub async fn run(
    file: Option<&Path>,
    from: &str,
    until: &str,
    data_dir: Option<PathBuf>,
) -> anyhow::Result<()> {
    let (from, until) = (day(from)?, day(until)?);
    anyhow::ensure!(from < until, "--until must be after --from");
    let shape =
        if data_dir.is_some() || std::env::var_os("FREVIX_PAYMENTS__DATABASE__URL").is_none() {
            Shape::AllInOne
        } else {
            Shape::of::<frevix_payments::Payments>()
        };
    let mut config: FrevixConfig = frevix_platform::config::load(&FrevixConfig::default(), file)?;
    if let Some(dir) = data_dir {
        config.data_dir = dir;
    }
    config.resolve(shape);
    let db = connect_and_migrate::<frevix_payments::Migrator>(
        config.payments.database.url.expose_secret(),
        1,
    )
    .await
    .context("payments database")?;
    let provider = frevix_payments::open_provider(&config.payments, &config.data_dir)
        .await
        .map_err(|e| anyhow::anyhow!("payment provider: {e}"))?;
    let report = frevix_payments::reconcile::reconcile(&db, provider.as_ref(), from, until).await?;
    for (kind, count) in &report.checked {
        println!("{kind}s checked: {count}");
    }
    for difference in &report.differences {
        println!("DIFFERENCE {}", difference.description);
    }
    anyhow::ensure!(
        report.differences.is_empty(),
        "{} difference(s) between the books and the provider",
        report.differences.len()
    );
    println!("the books agree with the provider");
    Ok(())
}
