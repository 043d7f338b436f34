//! Throwaway PostgreSQL clusters built from Debian's server binaries.
//!
//! A cluster lives in a fresh directory under the system temp dir, listens on
//! a free port on 127.0.0.1 with `trust` authentication for the `postgres`
//! superuser, and is stopped and deleted when its [`Cluster`] guard drops.

use std::io::BufRead;
use std::net::{Ipv4Addr, SocketAddr, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{Context, Result, bail};

use crate::util::{Apt, display_command, is_executable, is_root, run_captured};

/// Where Debian installs the server binaries, one directory per major version.
const PG_LIB_DIR: &str = "/usr/lib/postgresql";
/// The OS user that owns the cluster when we run as root (PostgreSQL refuses
/// to run as root).
const PG_OS_USER: &str = "postgres";
/// How long to wait for the server to accept TCP connections.
const TCP_READY_TIMEOUT: Duration = Duration::from_secs(30);
/// Server settings: reachable over TCP only on loopback, and fast rather
/// than durable since the data is thrown away.
const SERVER_SETTINGS: &[&str] = &[
    "listen_addresses=127.0.0.1",
    "fsync=off",
    "synchronous_commit=off",
    "full_page_writes=off",
    "max_connections=200",
];

/// `cargo xtask postgres`: run a cluster until Enter is pressed.
pub fn run_interactive() -> Result<()> {
    let cluster = Cluster::start(&mut Apt::new())?;
    let url = cluster.url();
    println!("PostgreSQL {} is running at:", cluster.version());
    println!();
    println!("    {url}");
    println!();
    println!("Run the tests against it with:");
    println!();
    println!("    OPENWARP_TEST_POSTGRES_URL={url} cargo test --workspace");
    println!();
    println!("Press Enter (or close stdin) to stop it and delete its data.");
    println!(
        "(Ctrl-C would leave the server running in {}.)",
        cluster.dir.display()
    );
    let mut line = String::new();
    std::io::stdin()
        .lock()
        .read_line(&mut line)
        .context("failed to read stdin")?;
    drop(cluster);
    println!("PostgreSQL stopped and cleaned up.");
    Ok(())
}

/// The server binaries of one installed PostgreSQL version.
#[derive(Debug)]
struct Binaries {
    version: String,
    initdb: PathBuf,
    pg_ctl: PathBuf,
}

impl Binaries {
    /// Find the newest installed version, installing the `postgresql`
    /// package if there is none (root only).
    fn ensure(apt: &mut Apt) -> Result<Self> {
        if let Some(found) = Self::find_newest()? {
            return Ok(found);
        }
        eprintln!("xtask: no PostgreSQL server binaries under {PG_LIB_DIR}");
        apt.install(&["postgresql"])
            .context("failed to install PostgreSQL")?;
        Self::find_newest()?.with_context(|| {
            format!("PostgreSQL was installed but no {PG_LIB_DIR}/*/bin/initdb was found")
        })
    }

    /// The highest-numbered `/usr/lib/postgresql/<version>/bin` that has
    /// both `initdb` and `pg_ctl`.
    fn find_newest() -> Result<Option<Self>> {
        let entries = match std::fs::read_dir(PG_LIB_DIR) {
            Ok(entries) => entries,
            Err(err) if err.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(err) => return Err(err).with_context(|| format!("failed to list {PG_LIB_DIR}")),
        };
        let mut best: Option<(Vec<u32>, Self)> = None;
        for entry in entries {
            let entry = entry.with_context(|| format!("failed to list {PG_LIB_DIR}"))?;
            let version = entry.file_name().to_string_lossy().into_owned();
            let Some(key) = version_key(&version) else {
                continue;
            };
            let bin = entry.path().join("bin");
            let candidate = Self {
                initdb: bin.join("initdb"),
                pg_ctl: bin.join("pg_ctl"),
                version,
            };
            if !is_executable(&candidate.initdb) || !is_executable(&candidate.pg_ctl) {
                continue;
            }
            if best.as_ref().is_none_or(|(best_key, _)| key > *best_key) {
                best = Some((key, candidate));
            }
        }
        Ok(best.map(|(_, binaries)| binaries))
    }
}

/// `"15"` -> `[15]`, `"9.6"` -> `[9, 6]`; `None` for non-version names.
fn version_key(name: &str) -> Option<Vec<u32>> {
    name.split('.').map(|part| part.parse().ok()).collect()
}

/// A running throwaway cluster. Dropping it stops the server and deletes
/// its directory, whether or not startup completed.
#[derive(Debug)]
pub struct Cluster {
    version: String,
    pg_ctl: PathBuf,
    dir: PathBuf,
    port: u16,
    /// Run server commands through `runuser -u postgres` (we are root).
    as_postgres_user: bool,
}

impl Cluster {
    /// Create, initialise and start a fresh cluster, installing PostgreSQL
    /// first if needed.
    pub fn start(apt: &mut Apt) -> Result<Self> {
        let binaries = Binaries::ensure(apt)?;
        let as_postgres_user = is_root()?;
        if as_postgres_user {
            check_os_user_exists()?;
        }
        let dir = create_cluster_dir()?;
        // From here on the guard owns the directory and cleans it up.
        let mut cluster = Self {
            version: binaries.version,
            pg_ctl: binaries.pg_ctl,
            dir,
            port: 0,
            as_postgres_user,
        };
        if as_postgres_user {
            cluster.chown_to_postgres()?;
        }
        cluster.initdb(&binaries.initdb)?;
        cluster.port = free_port()?;
        cluster.start_server()?;
        wait_for_tcp(cluster.port, TCP_READY_TIMEOUT)?;
        Ok(cluster)
    }

    /// Superuser connection URL; tests create their own databases with it.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    /// The installed major version in use, e.g. `15`.
    pub fn version(&self) -> &str {
        &self.version
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.join("data")
    }

    fn socket_dir(&self) -> PathBuf {
        self.dir.join("sock")
    }

    fn log_file(&self) -> PathBuf {
        self.dir.join("log")
    }

    /// A command for a server binary, run as the `postgres` OS user when we
    /// are root, from the cluster directory (readable by that user).
    fn server_command(&self, program: &Path) -> Command {
        let mut command = if self.as_postgres_user {
            let mut command = Command::new("runuser");
            command.args(["-u", PG_OS_USER, "--"]).arg(program);
            command
        } else {
            Command::new(program)
        };
        command.current_dir(&self.dir);
        command
    }

    fn chown_to_postgres(&self) -> Result<()> {
        run_captured(
            Command::new("chown")
                .arg("-R")
                .arg(format!("{PG_OS_USER}:{PG_OS_USER}"))
                .arg(&self.dir),
        )
        .map(drop)
        .context("failed to hand the cluster directory to the postgres user")
    }

    fn initdb(&self, initdb: &Path) -> Result<()> {
        let mut command = self.server_command(initdb);
        command.arg("-D").arg(self.data_dir()).args([
            "-A",
            "trust",
            "-U",
            "postgres",
            "-E",
            "UTF8",
            "--no-locale",
        ]);
        run_captured(&mut command)
            .map(drop)
            .context("initdb failed")
    }

    fn start_server(&self) -> Result<()> {
        let socket_dir = self.socket_dir();
        let socket_dir = socket_dir.to_string_lossy();
        if socket_dir.contains('\'') {
            bail!("cluster directory {} contains a quote", self.dir.display());
        }
        // pg_ctl hands `-o` to a shell, hence the quoting of the path.
        let mut options = format!("-p {} -k '{socket_dir}'", self.port);
        for setting in SERVER_SETTINGS {
            options.push_str(" -c ");
            options.push_str(setting);
        }
        let mut command = self.server_command(&self.pg_ctl);
        command
            .arg("-D")
            .arg(self.data_dir())
            .arg("-l")
            .arg(self.log_file())
            .args(["-w", "-t", "60", "-o", &options, "start"]);
        if let Err(err) = run_captured(&mut command) {
            let log = std::fs::read_to_string(self.log_file())
                .unwrap_or_else(|read_err| format!("(could not read the log: {read_err})"));
            return Err(err).context(format!(
                "PostgreSQL failed to start; server log {}:\n{log}",
                self.log_file().display()
            ));
        }
        Ok(())
    }

    fn stop_server(&self) -> Result<()> {
        let mut command = self.server_command(&self.pg_ctl);
        command
            .arg("-D")
            .arg(self.data_dir())
            .args(["-m", "immediate", "-w", "stop"]);
        run_captured(&mut command).map(drop)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        // The PID file exists from the moment the postmaster starts, so this
        // also stops a server whose startup timed out.
        if self.data_dir().join("postmaster.pid").exists()
            && let Err(err) = self.stop_server()
        {
            eprintln!("xtask: warning: failed to stop PostgreSQL: {err:#}");
        }
        if let Err(err) = std::fs::remove_dir_all(&self.dir) {
            eprintln!(
                "xtask: warning: failed to remove {}: {err}",
                self.dir.display()
            );
        }
    }
}

fn check_os_user_exists() -> Result<()> {
    let mut command = Command::new("id");
    command.args(["-u", PG_OS_USER]);
    run_captured(&mut command).map(drop).with_context(|| {
        format!(
            "running as root but there is no `{PG_OS_USER}` OS user to run the server \
             (`{}` failed)",
            display_command(&command)
        )
    })
}

/// Create `<tmp>/openwarp-pg-<pid>-<nanos>` with its `sock` subdirectory
/// (`initdb` creates `data` itself).
fn create_cluster_dir() -> Result<PathBuf> {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|elapsed| elapsed.as_nanos())
        .unwrap_or_default();
    let dir = std::env::temp_dir().join(format!("openwarp-pg-{}-{nanos}", std::process::id()));
    std::fs::create_dir(&dir).with_context(|| format!("failed to create {}", dir.display()))?;
    let sock = dir.join("sock");
    if let Err(err) = std::fs::create_dir(&sock) {
        let _ = std::fs::remove_dir_all(&dir);
        return Err(err).with_context(|| format!("failed to create {}", sock.display()));
    }
    Ok(dir)
}

/// A TCP port on 127.0.0.1 that was free a moment ago.
fn free_port() -> Result<u16> {
    let listener = TcpListener::bind((Ipv4Addr::LOCALHOST, 0))
        .context("failed to bind a probe socket to find a free port")?;
    let port = listener
        .local_addr()
        .context("failed to read the probe socket's port")?
        .port();
    Ok(port)
}

/// Wait until something accepts TCP connections on 127.0.0.1:`port`.
fn wait_for_tcp(port: u16, timeout: Duration) -> Result<()> {
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    let deadline = Instant::now() + timeout;
    loop {
        match TcpStream::connect_timeout(&addr, Duration::from_secs(1)) {
            Ok(_) => return Ok(()),
            Err(err) if Instant::now() >= deadline => {
                return Err(err).with_context(|| {
                    format!("PostgreSQL does not accept connections on {addr} after {timeout:?}")
                });
            }
            Err(_) => std::thread::sleep(Duration::from_millis(100)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::version_key;

    #[test]
    fn version_keys_order_numerically() {
        assert_eq!(version_key("15"), Some(vec![15]));
        assert_eq!(version_key("9.6"), Some(vec![9, 6]));
        assert_eq!(version_key("README"), None);
        assert!(version_key("16") > version_key("9.6"));
        assert!(version_key("10") > version_key("9"));
    }
}
