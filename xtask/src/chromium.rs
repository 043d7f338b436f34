//! Chromium + ChromeDriver for the browser tests, from Debian's packages.

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, Result};

use crate::util::{Apt, find_on_path, is_executable, run_captured};

/// Debian's packages providing `/usr/bin/chromium` and `/usr/bin/chromedriver`.
const PACKAGES: &[&str] = &["chromium", "chromium-driver"];

/// A checked Chromium + ChromeDriver pair.
#[derive(Debug)]
pub struct Browser {
    pub chromium: PathBuf,
    pub chromedriver: PathBuf,
    pub chromium_version: String,
    pub chromedriver_version: String,
}

impl Browser {
    /// Locate both binaries, installing the packages if either is missing
    /// (root only), and check that they run.
    pub fn ensure(apt: &mut Apt) -> Result<Self> {
        let (chromium, chromedriver) = match (locate_chromium(), locate_chromedriver()) {
            (Some(chromium), Some(chromedriver)) => (chromium, chromedriver),
            _ => {
                eprintln!("xtask: Chromium and/or ChromeDriver not found");
                apt.install(PACKAGES)
                    .context("failed to install Chromium and ChromeDriver")?;
                (
                    locate_chromium().context("Chromium is still missing after installing it")?,
                    locate_chromedriver()
                        .context("ChromeDriver is still missing after installing it")?,
                )
            }
        };
        let chromedriver_version = version_of(&chromedriver)?;
        let chromium_version = version_of(&chromium)?;
        Ok(Self {
            chromium,
            chromedriver,
            chromium_version,
            chromedriver_version,
        })
    }

    /// Print both paths and versions.
    pub fn describe(&self) {
        println!(
            "chromium:     {} ({})",
            self.chromium.display(),
            self.chromium_version
        );
        println!(
            "chromedriver: {} ({})",
            self.chromedriver.display(),
            self.chromedriver_version
        );
    }
}

/// `cargo xtask browser-deps`.
pub fn run_browser_deps() -> Result<()> {
    Browser::ensure(&mut Apt::new())?.describe();
    Ok(())
}

fn locate_chromium() -> Option<PathBuf> {
    locate("/usr/bin/chromium", &["chromium", "chromium-browser"])
}

fn locate_chromedriver() -> Option<PathBuf> {
    locate("/usr/bin/chromedriver", &["chromedriver"])
}

/// The well-known Debian path if present, else the first of `names` on `PATH`.
fn locate(default: &str, names: &[&str]) -> Option<PathBuf> {
    let default = Path::new(default);
    if is_executable(default) {
        return Some(default.to_path_buf());
    }
    names.iter().find_map(find_on_path)
}

/// First line of `<binary> --version`, failing if the binary does not run.
fn version_of(binary: &Path) -> Result<String> {
    let stdout = run_captured(Command::new(binary).arg("--version"))
        .with_context(|| format!("{} does not run", binary.display()))?;
    Ok(stdout.lines().next().unwrap_or_default().trim().to_owned())
}
