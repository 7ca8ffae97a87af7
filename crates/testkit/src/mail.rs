//! Captured mail. With PostgreSQL the app sends real SMTP to an aiosmtpd
//! server that writes a maildir; with SQLite it writes `.eml` files as the
//! all-in-one shape does. Either way each message is a file to read.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};

/// A real SMTP server (aiosmtpd) writing every message into a maildir.
pub struct SmtpSink {
    pub port: u16,
    _child: Child,
}

fn python() -> PathBuf {
    if let Ok(python) = std::env::var("FREVIX_TEST_PYTHON") {
        return PathBuf::from(python);
    }
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python")
}

impl SmtpSink {
    pub async fn start(maildir: &Path) -> SmtpSink {
        let port = {
            let probe = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            probe.local_addr().unwrap().port()
        };
        let python = python();
        let child = Command::new(&python)
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{port}"))
            .args(["-c", "aiosmtpd.handlers.Mailbox"])
            .arg(maildir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap_or_else(|e| {
                panic!(
                    "cannot start aiosmtpd with {}: {e} (run scripts/tools.sh)",
                    python.display()
                )
            });
        let deadline = Instant::now() + Duration::from_secs(15);
        while tokio::net::TcpStream::connect(("127.0.0.1", port))
            .await
            .is_err()
        {
            assert!(
                Instant::now() < deadline,
                "aiosmtpd did not start on port {port}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        SmtpSink {
            port,
            _child: child,
        }
    }
}

/// One captured message.
#[derive(Debug, Clone)]
pub struct CapturedMail {
    pub to: String,
    pub subject: String,
    pub raw: String,
}

/// Every message under `dir` addressed to `to`, oldest first.
pub fn read_mail(dir: &Path, to: &str) -> Vec<CapturedMail> {
    let mut files = Vec::new();
    collect(dir, &mut files);
    let mut found: Vec<(std::time::SystemTime, PathBuf, CapturedMail)> = files
        .into_iter()
        .filter_map(|path| {
            let raw = std::fs::read_to_string(&path).ok()?;
            let header = |name: &str| {
                raw.lines()
                    .take_while(|line| !line.is_empty())
                    .find_map(|line| line.strip_prefix(name).map(|v| v.trim().to_owned()))
            };
            let recipient = header("To:")?;
            if !recipient.to_lowercase().contains(&to.to_lowercase()) {
                return None;
            }
            let modified = std::fs::metadata(&path).and_then(|m| m.modified()).ok()?;
            let mail = CapturedMail {
                to: recipient,
                subject: header("Subject:").unwrap_or_default(),
                raw,
            };
            Some((modified, path, mail))
        })
        .collect();
    found.sort_by(|a, b| (a.0, &a.1).cmp(&(b.0, &b.1)));
    found.into_iter().map(|(_, _, mail)| mail).collect()
}

fn collect(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            collect(&path, out);
        } else {
            out.push(path);
        }
    }
}

/// The six-digit code in a Frevix code mail.
pub fn code_in(mail: &CapturedMail) -> Option<String> {
    mail.raw.lines().find_map(|line| {
        let candidate = line.trim();
        (line.starts_with("    ")
            && candidate.len() == 6
            && candidate.bytes().all(|b| b.is_ascii_digit()))
        .then(|| candidate.to_owned())
    })
}
