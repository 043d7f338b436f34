//! `cargo xtask ci`: the full CI run.
//!
//! Steps run in order and the first failure stops the run: formatting check,
//! clippy, provisioning of PostgreSQL, Chromium + ChromeDriver and aiosmtpd
//! (a real SMTP server, in a Python venv), then
//! `cargo test --workspace` pointed at them through environment variables,
//! then a short bounded run of every fuzz target (`cargo xtask fuzz`).
//! The PostgreSQL cluster is stopped and deleted after the tests in every case.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};

use crate::chromium::Browser;
use crate::fuzz;
use crate::postgres::Cluster;
use crate::smtp;
use crate::util::{Apt, cargo, is_ci, run_inherit};

/// Superuser URL of the throwaway PostgreSQL cluster.
pub const ENV_POSTGRES_URL: &str = "OPENWARP_TEST_POSTGRES_URL";
/// Path of the ChromeDriver binary.
pub const ENV_CHROMEDRIVER: &str = "OPENWARP_TEST_CHROMEDRIVER";
/// Path of the Chromium binary.
pub const ENV_CHROMIUM: &str = "OPENWARP_TEST_CHROMIUM";

/// How long each fuzz target runs in CI: long enough to catch shallow
/// crashes on every commit; longer runs are `cargo xtask fuzz --seconds N`.
const CI_FUZZ_SECONDS: u64 = 10;

/// Command-line options of `cargo xtask ci`.
#[derive(Debug, Default)]
pub struct Options {
    no_postgres: bool,
    no_browser: bool,
}

impl Options {
    /// Parse the arguments after `ci`. Skipping provisioning is refused under
    /// `CI=true`, where every test must run.
    pub fn parse(args: &[String]) -> Result<Self> {
        let mut options = Self::default();
        for arg in args {
            match arg.as_str() {
                "--no-postgres" => options.no_postgres = true,
                "--no-browser" => options.no_browser = true,
                other => bail!("unknown option `{other}` for `ci`"),
            }
        }
        if is_ci() && (options.no_postgres || options.no_browser) {
            bail!("--no-postgres / --no-browser are not allowed when CI=true");
        }
        Ok(options)
    }
}

/// Run the whole pipeline and print the timing summary, also on failure.
pub fn run(options: &Options) -> Result<()> {
    let started = Instant::now();
    let mut timings = Timings::default();
    let result = run_steps(options, &mut timings);
    timings.print_summary(started.elapsed(), &result);
    result
}

fn run_steps(options: &Options, timings: &mut Timings) -> Result<()> {
    timings.step("fmt", "cargo fmt --all -- --check", || {
        run_inherit(cargo().args(["fmt", "--all", "--", "--check"]))
    })?;
    timings.step(
        "clippy",
        "cargo clippy --workspace --all-targets -- -D warnings",
        || {
            run_inherit(cargo().args([
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ]))
        },
    )?;

    let mut apt = Apt::new();
    let mut test_env: Vec<(&str, String)> = Vec::new();

    // Bound to a variable so the guard lives until the end of this function:
    // the cluster is stopped and deleted however the tests end.
    let cluster = if options.no_postgres {
        timings.skip("postgres", "PostgreSQL provisioning (--no-postgres)");
        None
    } else {
        timings.step("postgres", "provision PostgreSQL", || {
            optional("PostgreSQL", Cluster::start(&mut apt))
        })?
    };
    if let Some(cluster) = &cluster {
        println!("PostgreSQL {} at {}", cluster.version(), cluster.url());
        test_env.push((ENV_POSTGRES_URL, cluster.url()));
    }

    let browser = if options.no_browser {
        timings.skip("browser", "Chromium provisioning (--no-browser)");
        None
    } else {
        timings.step("browser", "provision Chromium + ChromeDriver", || {
            optional("Chromium + ChromeDriver", Browser::ensure(&mut apt))
        })?
    };
    if let Some(browser) = &browser {
        browser.describe();
        test_env.push((ENV_CHROMEDRIVER, path_string(&browser.chromedriver)?));
        test_env.push((ENV_CHROMIUM, path_string(&browser.chromium)?));
    }

    let smtp_python = timings.step("smtp", "provision aiosmtpd (Python venv)", || {
        optional("aiosmtpd", smtp::ensure(&mut apt))
    })?;
    if let Some(python) = &smtp_python {
        println!("{} in {}", smtp::version(python), python.display());
        test_env.push((smtp::ENV_SMTP_PYTHON, path_string(python)?));
    }

    timings.step("test", "cargo test --workspace", || {
        for (name, value) in &test_env {
            println!("    {name}={value}");
        }
        run_inherit(
            cargo()
                .args(["test", "--workspace"])
                .envs(test_env.iter().cloned()),
        )
    })?;
    drop(cluster);
    timings.step(
        "fuzz",
        "fuzz every parser (cargo-fuzz, 10 s per target)",
        || {
            fuzz::run(&fuzz::Options {
                seconds: CI_FUZZ_SECONDS,
                targets: fuzz::all_targets(),
            })
        },
    )?;
    Ok(())
}

/// A provisioning result: required under `CI=true`; otherwise a failure
/// only skips the tests that need it, with a loud warning.
fn optional<T>(what: &str, result: Result<T>) -> Result<Option<T>> {
    match result {
        Ok(value) => Ok(Some(value)),
        Err(err) if is_ci() => Err(err).context(format!(
            "failed to provision {what}, which CI=true requires"
        )),
        Err(err) => {
            eprintln!();
            eprintln!("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!");
            eprintln!("!!! WARNING: failed to provision {what}: {err:#}");
            eprintln!("!!! Tests that need {what} will be SKIPPED (this would fail under CI).");
            eprintln!("!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!");
            eprintln!();
            Ok(None)
        }
    }
}

fn path_string(path: &std::path::Path) -> Result<String> {
    path.to_str()
        .map(str::to_owned)
        .with_context(|| format!("path {} is not valid UTF-8", path.display()))
}

/// How each step went, for the closing summary.
#[derive(Debug, Default)]
struct Timings {
    steps: Vec<(&'static str, Outcome)>,
}

#[derive(Debug)]
enum Outcome {
    Done(Duration),
    Failed(Duration),
    Skipped,
}

impl Timings {
    /// Run one step under a `==>` banner and record its duration.
    fn step<T>(
        &mut self,
        name: &'static str,
        title: &str,
        body: impl FnOnce() -> Result<T>,
    ) -> Result<T> {
        println!("==> {title}");
        let started = Instant::now();
        let result = body();
        let elapsed = started.elapsed();
        let outcome = match result {
            Ok(_) => Outcome::Done(elapsed),
            Err(_) => Outcome::Failed(elapsed),
        };
        self.steps.push((name, outcome));
        result.with_context(|| format!("step `{name}` failed"))
    }

    fn skip(&mut self, name: &'static str, title: &str) {
        println!("==> skipping {title}");
        self.steps.push((name, Outcome::Skipped));
    }

    fn print_summary(&self, total: Duration, result: &Result<()>) {
        let parts: Vec<String> = self
            .steps
            .iter()
            .map(|(name, outcome)| match outcome {
                Outcome::Done(elapsed) => format!("{name} {:.1}s", elapsed.as_secs_f64()),
                Outcome::Failed(elapsed) => {
                    format!("{name} FAILED after {:.1}s", elapsed.as_secs_f64())
                }
                Outcome::Skipped => format!("{name} skipped"),
            })
            .collect();
        let verdict = if result.is_ok() { "ok" } else { "FAILED" };
        println!(
            "==> ci {verdict}: {} (total {:.1}s)",
            parts.join(", "),
            total.as_secs_f64()
        );
    }
}
