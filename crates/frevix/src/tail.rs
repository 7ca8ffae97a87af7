//! `frevix events tail`: events as JSON lines, for operators and developers.

use std::path::{Path, PathBuf};

use anyhow::Context as _;
use frevix::config::{FrevixConfig, Shape};
use frevix::registry;
use frevix::registry::ServiceEntry;
use frevix_platform::events::{EventBus, Tail, event_json};
use secrecy::ExposeSecret;

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
    let producers: Vec<&'static ServiceEntry> = match service {
        Some(name) => match registry::service(&name) {
            Some(entry) => vec![entry],
            None => anyhow::bail!(
                "unknown service {name}; producers: {}",
                registry::names().join(", ")
            ),
        },
        None => registry::SERVICES.to_vec(),
    };
    let bus = EventBus::connect(&config.events).await?;
    let mut tails = Vec::new();
    for entry in producers {
        let producer = entry.name();
        let tail = match &bus {
            EventBus::JetStream(js) => Tail::jetstream(js, producer, from_start).await?,
            EventBus::InProcess(_) => {
                let url = entry.database(&config).url.expose_secret();
                let db = frevix_platform::sea_orm::Database::connect(url)
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
