//! A real SMTP server for the alert tests: Python's `aiosmtpd` (from PyPI),
//! installed in a virtual environment under the target directory so it
//! survives between runs and never touches the system's Python packages.
//! The tests start it themselves (one server per test, on a free loopback
//! port) with the interpreter named in `OPENWARP_TEST_SMTP_PYTHON`.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use anyhow::{Context, Result, bail};

use crate::util::{Apt, find_on_path, run_captured, run_inherit, workspace_root};

/// The interpreter that can `import aiosmtpd`.
pub const ENV_SMTP_PYTHON: &str = "OPENWARP_TEST_SMTP_PYTHON";

/// `target/xtask-venv` (or under `CARGO_TARGET_DIR`).
fn venv_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| workspace_root().join("target"))
        .join("xtask-venv")
}

fn has_aiosmtpd(python: &Path) -> bool {
    python.is_file()
        && Command::new(python)
            .args(["-c", "import aiosmtpd"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success())
}

/// The venv's Python with aiosmtpd, creating the venv and installing
/// aiosmtpd when missing (and Debian's python3/python3-venv if needed).
pub fn ensure(apt: &mut Apt) -> Result<PathBuf> {
    let venv = venv_dir();
    let python = venv.join("bin").join("python");
    if has_aiosmtpd(&python) {
        return Ok(python);
    }
    if !python.is_file() {
        if find_on_path("python3").is_none() {
            apt.install(&["python3", "python3-venv"])
                .context("installing Python for aiosmtpd")?;
        }
        if create_venv(&venv).is_err() {
            // Debian ships `venv` without ensurepip unless python3-venv is in.
            let _ = std::fs::remove_dir_all(&venv);
            apt.install(&["python3-venv"])
                .context("installing python3-venv for aiosmtpd")?;
            create_venv(&venv)?;
        }
    }
    run_inherit(Command::new(&python).args([
        "-m",
        "pip",
        "install",
        "--quiet",
        "--disable-pip-version-check",
        "aiosmtpd",
    ]))
    .context("installing aiosmtpd from PyPI")?;
    if !has_aiosmtpd(&python) {
        bail!(
            "aiosmtpd was installed but {} cannot import it",
            python.display()
        );
    }
    Ok(python)
}

fn create_venv(venv: &Path) -> Result<()> {
    run_captured(Command::new("python3").arg("-m").arg("venv").arg(venv))
        .map(|_| ())
        .with_context(|| format!("creating a Python venv in {}", venv.display()))
}

/// aiosmtpd's version, for the CI log.
pub fn version(python: &Path) -> String {
    run_captured(Command::new(python).args(["-m", "aiosmtpd", "--version"]))
        .map(|v| v.trim().to_string())
        .unwrap_or_else(|_| "unknown version".into())
}
