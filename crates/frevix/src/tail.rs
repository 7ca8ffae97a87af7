//! `frevix events tail`: events as JSON lines, for operators and developers.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use frevix::config::{FrevixConfig, Shape};
use frevix_platform::events::{EventBus, Tail, event_json};
use secrecy::ExposeSecret;

/// Every producing service built so far.
const PRODUCERS: &[&str] = &[
    frevix_identity::PRODUCER,
    frevix_marketplace::PRODUCER,
    frevix_messaging::PRODUCER,
];

pub async fn run(
    config_file: Option<&Path>,
    service: Option<String>,
    from_start: bool,
    data_dir: Option<PathBuf>,
) -> anyhow::Result<()> {
    let mut config: FrevixConfig =
        frevix_platform::config::load(&FrevixConfig::default(), config_file)?;
    if let Some(dir) = data_dir {
        config.data_dir = dir;
    }
    config.resolve(Shape::AllInOne);
    let producers: Vec<String> = match service {
        Some(service) if PRODUCERS.contains(&service.as_str()) => vec![service],
        Some(service) => anyhow::bail!(
            "unknown service {service}; producers: {}",
            PRODUCERS.join(", ")
        ),
        None => PRODUCERS.iter().map(|p| (*p).to_owned()).collect(),
    };
    let bus = EventBus::connect(&config.events).await?;
    let mut tails = Vec::new();
    for producer in &producers {
        let tail = match &bus {
            EventBus::JetStream(js) => Tail::jetstream(js, producer, from_start).await?,
            EventBus::InProcess(_) => {
                let url = database_url(&config, producer)
                    .with_context(|| format!("{producer} has no database"))?;
                let db = frevix_platform::sea_orm::Database::connect(url.as_str())
                    .await
                    .with_context(|| format!("{producer} database"))?;
                Tail::outbox(db, from_start).await?
            }
        };
        tails.push(tail);
    }
    let (lines, mut printed) = tokio::sync::mpsc::channel::<String>(1024);
    for mut tail in tails {
        let lines = lines.clone();
        tokio::spawn(async move {
            while let Ok(event) = tail.next().await {
                if lines.send(event_json(&event).to_string()).await.is_err() {
                    return;
                }
            }
        });
    }
    drop(lines);
    while let Some(line) = printed.recv().await {
        println!("{line}");
    }
    Ok(())
}

/// The database holding `producer`'s outbox.
fn database_url(config: &FrevixConfig, producer: &str) -> Option<String> {
    match producer {
        "identity" => Some(config.identity.database.url.expose_secret().to_owned()),
        "marketplace" => Some(config.marketplace.database.url.expose_secret().to_owned()),
        "messaging" => Some(config.messaging.database.url.expose_secret().to_owned()),
        _ => None,
    }
}
