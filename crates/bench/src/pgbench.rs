//! The baseline every database benchmark here is a ratio to: pgbench
//! running a transaction of the measured path's shape, 8 clients, on the
//! same PostgreSQL in the same run.

/// Transactions/s of pgbench running `script` (its tables made by the
/// caller) against `url` for `seconds`; `name` names the script's file.
pub async fn tps(url: &str, name: &str, script: &str, seconds: u64) -> f64 {
    let path = std::env::temp_dir().join(format!("frevix-bench-{name}.sql"));
    std::fs::write(&path, script).unwrap();
    let output = tokio::process::Command::new("pgbench")
        .args(["-n", "-c", "8", "-j", "2", "-T", &seconds.to_string(), "-f"])
        .arg(&path)
        .arg(url)
        .output()
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout);
    text.lines()
        .find(|line| line.starts_with("tps = "))
        .and_then(|line| line.split_whitespace().nth(2))
        .and_then(|tps| tps.parse().ok())
        .unwrap_or_else(|| {
            panic!(
                "pgbench said: {text}{}",
                String::from_utf8_lossy(&output.stderr)
            )
        })
}
