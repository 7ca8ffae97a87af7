//! Per-test JetStream isolation: every test gets its own subject prefix (and
//! so its own streams and lease buckets) on the shared NATS server, deleted
//! when it ends.

use async_nats::jetstream;
use tokio_stream::StreamExt as _;

/// Where tests find NATS with JetStream; `make test` sets it.
pub fn nats_url() -> String {
    std::env::var("FREVIX_TEST_NATS_URL").unwrap_or_else(|_| "nats://127.0.0.1:4222".to_owned())
}

/// A unique subject prefix whose streams are deleted on drop.
pub struct TestStreams {
    pub url: String,
    pub prefix: String,
}

impl TestStreams {
    pub fn new() -> Self {
        Self::at(nats_url())
    }

    pub fn at(url: String) -> Self {
        let prefix = format!("t{}", &uuid::Uuid::new_v4().simple().to_string()[..11]);
        Self { url, prefix }
    }
}

impl Default for TestStreams {
    fn default() -> Self {
        Self::new()
    }
}

impl Drop for TestStreams {
    fn drop(&mut self) {
        let url = self.url.clone();
        let stream_prefix = format!("{}_", self.prefix.to_uppercase());
        // Lease buckets (presence) are streams named `KV_<bucket>`.
        let bucket_prefix = format!("KV_{stream_prefix}");
        crate::finish_in_thread(async move {
            let connect = async_nats::ConnectOptions::new().connect(url.as_str());
            let Ok(Ok(client)) =
                tokio::time::timeout(std::time::Duration::from_secs(2), connect).await
            else {
                return;
            };
            let js = jetstream::new(client);
            let mut names = js.stream_names();
            let mut doomed = Vec::new();
            while let Some(Ok(name)) = names.next().await {
                if name.starts_with(&stream_prefix) || name.starts_with(&bucket_prefix) {
                    doomed.push(name);
                }
            }
            for name in doomed {
                let _ = js.delete_stream(&name).await;
            }
        });
    }
}
