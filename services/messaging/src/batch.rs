//! The queue behind the send path's batching (the lookups before a send
//! and the group commit after it): take one item, waiting for it, then
//! whatever else is already queued. Nothing waits to fill a batch, so a
//! lone item goes at once and items pile up only while the database is busy.

use tokio::sync::{Mutex, mpsc};

/// The next batch of at most `max` items; None once every sender is gone.
pub async fn next<T>(receiver: &Mutex<mpsc::Receiver<T>>, max: usize) -> Option<Vec<T>> {
    let mut receiver = receiver.lock().await;
    let mut batch = vec![receiver.recv().await?];
    while batch.len() < max {
        match receiver.try_recv() {
            Ok(item) => batch.push(item),
            Err(_) => break,
        }
    }
    Some(batch)
}
