#![allow(clippy::expect_used, clippy::panic)] // test support: failing loudly is the point
//! Test support (feature `testing`): a real SMTP server on loopback, so tests
//! assert on what a mail server actually received rather than on what we
//! meant to send.
//!
//! The server is Python's `aiosmtpd` (an independent, maintained RFC 5321
//! implementation) with its `Mailbox` handler, which files every message it
//! accepts in a Maildir. Our handler subclass refuses recipients whose
//! address starts with `bounce` (`550 5.1.1`), so tests can see a permanent
//! failure. `cargo xtask ci` installs aiosmtpd in a venv and names its Python
//! in `OPENWARP_TEST_SMTP_PYTHON`; a `python3` that can import aiosmtpd is
//! used otherwise. Under `CI=true` a missing server is a failure, not a skip.

use std::net::{Ipv4Addr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Names the Python interpreter that has aiosmtpd.
pub const PYTHON_VAR: &str = "OPENWARP_TEST_SMTP_PYTHON";

/// The handler: aiosmtpd's Mailbox, refusing `bounce…` recipients.
const HANDLER: &str = r#"
from aiosmtpd.handlers import Mailbox as _Mailbox

class Mailbox(_Mailbox):
    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        if address.lower().startswith("bounce"):
            return "550 5.1.1 <%s>: no such mailbox here" % address
        envelope.rcpt_tos.append(address)
        return "250 OK"
"#;

fn under_ci() -> bool {
    std::env::var("CI").is_ok_and(|v| v == "true")
}

/// The Python to run aiosmtpd with, or `None` (outside CI) with a note on
/// why the test is skipped. Panics under CI when there is none.
pub fn python() -> Option<PathBuf> {
    let candidates: Vec<PathBuf> = match std::env::var(PYTHON_VAR) {
        Ok(p) if !p.is_empty() => vec![PathBuf::from(p)],
        _ => xtask_venv()
            .into_iter()
            .chain([PathBuf::from("python3")])
            .collect(),
    };
    for python in candidates {
        let ok = Command::new(&python)
            .args(["-c", "import aiosmtpd"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            return Some(python);
        }
    }
    let why = format!(
        "no Python with aiosmtpd ({PYTHON_VAR} unset or wrong, and python3 cannot import aiosmtpd)"
    );
    if under_ci() {
        panic!("{why}, but CI=true: the SMTP tests must run in CI (use `cargo xtask ci`)");
    }
    eprintln!("note: {why}; SKIPPING the SMTP test (run `cargo xtask ci` to include it)");
    None
}

/// The venv `cargo xtask ci` made (`target/xtask-venv`), found from the
/// test executable (`target/debug/deps/…`), so a plain `cargo test` after
/// one CI run finds it too.
fn xtask_venv() -> Option<PathBuf> {
    let exe = std::env::current_exe().ok()?;
    exe.ancestors()
        .map(|dir| dir.join("xtask-venv").join("bin").join("python"))
        .find(|p| p.is_file())
}

/// A port on 127.0.0.1 that was free a moment ago.
pub fn free_port() -> u16 {
    TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("find a free port")
}

/// A running aiosmtpd; stopped when dropped. Its Maildir outlives restarts
/// on the same [`SmtpServer`] value.
pub struct SmtpServer {
    python: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
    child: Option<Child>,
}

impl SmtpServer {
    /// Start on a free port, or `None` when aiosmtpd is unavailable outside CI.
    pub fn start() -> Option<SmtpServer> {
        SmtpServer::start_on(free_port())
    }

    /// Start on `port` (e.g. one a test kept "down" until now).
    pub fn start_on(port: u16) -> Option<SmtpServer> {
        let mut server = SmtpServer::stopped(port)?;
        server.restart();
        Some(server)
    }

    /// Prepare a server on `port` without starting it: mail sent there is
    /// refused at the TCP level until [`SmtpServer::restart`].
    pub fn stopped(port: u16) -> Option<SmtpServer> {
        let python = python()?;
        let dir = tempfile::tempdir().expect("temporary directory for the Maildir");
        std::fs::write(dir.path().join("openwarp_test_smtp.py"), HANDLER)
            .expect("write the SMTP handler");
        Some(SmtpServer {
            python,
            dir,
            port,
            child: None,
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    fn maildir(&self) -> PathBuf {
        self.dir.path().join("maildir")
    }

    /// Start (again) on the same port and Maildir; waits until it answers.
    pub fn restart(&mut self) {
        self.stop();
        let log = std::fs::File::create(self.dir.path().join("aiosmtpd.log"))
            .expect("create the SMTP server log");
        let child = Command::new(&self.python)
            .args(["-m", "aiosmtpd", "-n", "-l"])
            .arg(format!("127.0.0.1:{}", self.port))
            .args(["-c", "openwarp_test_smtp.Mailbox"])
            .arg(self.maildir())
            .env("PYTHONPATH", self.dir.path())
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log handle"))
            .stderr(log)
            .spawn()
            .expect("start aiosmtpd");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect((Ipv4Addr::LOCALHOST, self.port)).is_err() {
            if let Some(child) = &mut self.child
                && let Ok(Some(status)) = child.try_wait()
            {
                panic!(
                    "aiosmtpd exited at start ({status}): {}",
                    std::fs::read_to_string(self.dir.path().join("aiosmtpd.log"))
                        .unwrap_or_default()
                );
            }
            assert!(
                Instant::now() < deadline,
                "aiosmtpd did not listen on port {} within 20 s",
                self.port
            );
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stop the server (messages received so far stay readable).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Every message received so far, raw (in no meaningful order: Maildir
    /// names sort by arrival only to the second).
    pub fn messages(&self) -> Vec<Vec<u8>> {
        let mut files: Vec<PathBuf> = ["new", "cur"]
            .iter()
            .filter_map(|sub| std::fs::read_dir(self.maildir().join(sub)).ok())
            .flatten()
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.is_file())
            .collect();
        files.sort();
        files.iter().filter_map(|p| std::fs::read(p).ok()).collect()
    }

    /// Wait until at least `n` messages arrived (or `timeout` passed), then
    /// return them all.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Vec<u8>> {
        let deadline = Instant::now() + timeout;
        loop {
            let got = self.messages();
            if got.len() >= n || Instant::now() >= deadline {
                return got;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// The Maildir's path, for a failing test to point at.
    pub fn path(&self) -> &Path {
        self.dir.path()
    }
}

impl Drop for SmtpServer {
    fn drop(&mut self) {
        self.stop();
    }
}
