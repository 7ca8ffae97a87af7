//! Resident memory of idle Chat streams in one messaging process, in the two
//! shapes a process meets them:
//! - each stream on its own HTTP/2 connection, as phones connecting
//!   directly hold them (10,000 by default: each side of a connection is an
//!   open file, and this host allows 20,000 per process);
//! - many streams on each connection, as Envoy carries them upstream
//!   (100,000 by default, 100 per connection).
//!
//! The figure is the process's resident memory after the streams are open
//! and settled, less what it held before, per stream. Every stream is
//! checked to be open at the end (a closed one would make the figure look
//! better than it is).
//!
//! `FREVIX_BENCH_CHAT_DIRECT` and `FREVIX_BENCH_CHAT_MULTIPLEXED` set the
//! stream counts (0 skips a shape), `FREVIX_BENCH_CHAT_PER_CONNECTION` the
//! multiplexed shape's streams per connection.

use std::sync::Arc;
use std::time::Duration;

use frevix_proto::messaging::v1::messaging_service_client::MessagingServiceClient;
use frevix_testkit::{TestApp, TestUser};
use tonic::transport::Channel;

use crate::overload::env_or;

/// Streams each idle account holds: the server is told to allow that many.
pub const STREAMS_PER_ACCOUNT: usize = 1000;

/// An open Chat stream (its frames and its answers).
pub use frevix_testkit::ChatDevice as Device;

/// A new connection to the (running) messaging process.
pub async fn connect(port: u16) -> Channel {
    Channel::from_shared(format!("http://127.0.0.1:{port}"))
        .unwrap()
        .connect()
        .await
        .unwrap()
}

/// Opens a Chat stream on `channel` and says Hello.
pub async fn open_device(channel: Channel, token: &str) -> Device {
    Device::open(MessagingServiceClient::new(channel), token).await
}

/// `streams` Chat streams of `users` (round robin), `per_connection` on each
/// connection, opened many at a time.
pub async fn open_many(
    port: u16,
    users: &[TestUser],
    streams: usize,
    per_connection: usize,
) -> Vec<Device> {
    let per_connection = per_connection.max(1);
    let mut devices = Vec::with_capacity(streams);
    let mut channel = None;
    let mut opened = Vec::new();
    for i in 0..streams {
        if i % per_connection == 0 {
            channel = Some(connect(port).await);
        }
        let channel = channel.clone().unwrap();
        let token = users[i % users.len()].access_token.clone();
        opened.push(tokio::spawn(
            async move { open_device(channel, &token).await },
        ));
        if opened.len() == 512 {
            for task in opened.drain(..) {
                devices.push(task.await.unwrap());
            }
        }
    }
    for task in opened {
        devices.push(task.await.unwrap());
    }
    devices
}

pub fn rss_kib(pid: u32) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmRSS:"))
        .and_then(|rest| rest.split_whitespace().next())
        .and_then(|kib| kib.parse().ok())
        .unwrap_or(0)
}

/// Opens `streams` idle streams on the process `pid` listening on `port`,
/// prints their memory and returns them, checked to be open.
pub async fn measure(
    port: u16,
    pid: u32,
    users: &[TestUser],
    streams: usize,
    per_connection: usize,
) -> Vec<Device> {
    let before = rss_kib(pid);
    let mut devices = open_many(port, users, streams, per_connection).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = rss_kib(pid);
    assert_open(&mut devices).await;
    let connections = streams.div_ceil(per_connection.max(1));
    println!(
        "chat      {streams} idle Chat streams on {connections} connections: messaging resident {:.0} MiB (from {:.0} MiB), {:.1} KiB per stream",
        after as f64 / 1024.0,
        before as f64 / 1024.0,
        (after.saturating_sub(before)) as f64 / streams as f64
    );
    devices
}

/// Panics if any stream has ended (a stream limit closing streams would
/// otherwise pass for memory saved).
async fn assert_open(devices: &mut [Device]) {
    use tokio_stream::StreamExt as _;
    let mut ended = 0;
    for device in devices.iter_mut() {
        // Whatever is waiting (the Hello's answer, presence) is read; a
        // stream that has ended answers None or an error at once.
        loop {
            match tokio::time::timeout(Duration::ZERO, device.events.next()).await {
                Ok(Some(Ok(_))) => continue,
                Ok(_) => {
                    ended += 1;
                    break;
                }
                Err(_) => break,
            }
        }
    }
    assert_eq!(ended, 0, "{ended} of {} idle streams ended", devices.len());
}

/// The multiplexed shape in a messaging process of its own, stopped after.
pub async fn multiplexed(
    app: &Arc<TestApp>,
    binary: &str,
    users: &[TestUser],
    env: &[(&str, &str)],
) {
    let streams: usize = env_or("FREVIX_BENCH_CHAT_MULTIPLEXED", 100_000);
    let per_connection: usize = env_or("FREVIX_BENCH_CHAT_PER_CONNECTION", 100);
    if streams == 0 {
        return;
    }
    let replica = app
        .spawn_process("messaging", std::path::Path::new(binary), env)
        .await;
    let (mut child, port) = (replica.child, replica.port);
    let pid = child.id().unwrap();
    let devices = measure(port, pid, users, streams, per_connection).await;
    drop(devices);
    child.start_kill().unwrap();
    let _ = child.wait().await;
}
