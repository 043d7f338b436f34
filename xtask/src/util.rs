//! Small helpers shared by the subcommands: running processes, locating
//! executables and installing Debian packages.

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use anyhow::{Context, Result, bail};

/// The workspace root (the parent of this crate's directory).
pub fn workspace_root() -> PathBuf {
    let manifest_dir = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest_dir
        .parent()
        .map_or_else(|| manifest_dir.to_path_buf(), Path::to_path_buf)
}

/// Whether we run under CI (`CI=true`), where nothing may be skipped.
pub fn is_ci() -> bool {
    std::env::var("CI").is_ok_and(|value| value == "true")
}

/// The `cargo` binary that started us (falls back to `cargo` on `PATH`).
pub fn cargo() -> Command {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut command = Command::new(cargo);
    command.current_dir(workspace_root());
    command
}

/// Whether the current user is root, asked from `id -u` (no `libc` needed).
pub fn is_root() -> Result<bool> {
    let stdout = run_captured(Command::new("id").arg("-u"))?;
    Ok(stdout.trim() == "0")
}

/// Render a command line for messages.
pub fn display_command(command: &Command) -> String {
    let mut parts = vec![command.get_program().to_string_lossy().into_owned()];
    parts.extend(
        command
            .get_args()
            .map(|arg| arg.to_string_lossy().into_owned()),
    );
    parts.join(" ")
}

/// Run a command with inherited stdio and fail unless it exits successfully.
pub fn run_inherit(command: &mut Command) -> Result<()> {
    let shown = display_command(command);
    let status = command
        .status()
        .with_context(|| format!("failed to start `{shown}`"))?;
    if !status.success() {
        bail!("`{shown}` failed ({status})");
    }
    Ok(())
}

/// Run a command quietly and return its stdout. On failure the error carries
/// everything the command printed.
pub fn run_captured(command: &mut Command) -> Result<String> {
    let shown = display_command(command);
    let output = command
        .output()
        .with_context(|| format!("failed to start `{shown}`"))?;
    if !output.status.success() {
        bail!(
            "`{shown}` failed ({}):\n{}",
            output.status,
            combined_output(&output)
        );
    }
    Ok(String::from_utf8_lossy(&output.stdout).into_owned())
}

fn combined_output(output: &Output) -> String {
    let mut text = String::from_utf8_lossy(&output.stdout).into_owned();
    text.push_str(&String::from_utf8_lossy(&output.stderr));
    text
}

/// Look `name` up on `PATH`, like a shell would.
pub fn find_on_path(name: impl AsRef<OsStr>) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path)
        .map(|dir| dir.join(name.as_ref()))
        .find(|candidate| is_executable(candidate))
}

/// Whether `path` is a regular file with an execute bit set.
pub fn is_executable(path: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path)
        .is_ok_and(|meta| meta.is_file() && meta.permissions().mode() & 0o111 != 0)
}

/// Installs Debian packages with apt, running `apt-get update` at most once
/// per xtask run.
#[derive(Debug, Default)]
pub struct Apt {
    updated: bool,
}

impl Apt {
    pub fn new() -> Self {
        Self::default()
    }

    /// `apt-get install` the given packages (root only).
    pub fn install(&mut self, packages: &[&str]) -> Result<()> {
        if !is_root()? {
            bail!(
                "cannot install {} automatically: not running as root \
                 (install them with `sudo apt-get install {}`)",
                packages.join(", "),
                packages.join(" ")
            );
        }
        eprintln!("xtask: installing {} via apt-get", packages.join(", "));
        if !self.updated {
            run_inherit(Command::new("apt-get").args(["-q", "update"]))?;
            self.updated = true;
        }
        run_inherit(
            Command::new("apt-get")
                .env("DEBIAN_FRONTEND", "noninteractive")
                .args(["-q", "install", "-y", "--no-install-recommends"])
                .args(packages),
        )
    }
}
