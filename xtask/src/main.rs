//! `cargo xtask`: developer and CI automation for the openwarp workspace.
//!
//! This binary replaces shell scripts with plain Rust so the same steps run
//! identically on a developer machine and in CI (`.ci/run` calls
//! `cargo xtask ci` on a clean clone with `CI=true`). It is invoked through the
//! cargo alias in `.cargo/config.toml` and depends only on `std` and `anyhow`.
//!
//! Subcommands:
//!
//! * `ci [--no-postgres] [--no-browser]`: formatting check, clippy, then the
//!   whole test suite against a throwaway PostgreSQL cluster and a real
//!   Chromium + ChromeDriver, whose locations reach the tests through the
//!   `OPENWARP_TEST_POSTGRES_URL`, `OPENWARP_TEST_CHROMEDRIVER` and
//!   `OPENWARP_TEST_CHROMIUM` environment variables, and a Python venv with
//!   aiosmtpd (a real SMTP server for the alert tests), named by
//!   `OPENWARP_TEST_SMTP_PYTHON`.
//! * `fuzz [--seconds N] [TARGET...]`: build the cargo-fuzz targets in
//!   `fuzz/` and run each (or the named ones) for N seconds (default 20),
//!   seeded from the real samples; a crash fails and says how to keep it as
//!   a regression test.
//! * `postgres`: start a throwaway PostgreSQL cluster, print its URL and keep
//!   it running until Enter is pressed (or stdin closes).
//! * `smtp-deps`: install (if needed, in `target/xtask-venv`) and check
//!   aiosmtpd, then print the interpreter the alert tests use.
//! * `browser-deps`: install (if needed, via apt) and check Chromium and
//!   ChromeDriver, then print their paths and versions.

mod chromium;
mod ci;
mod fuzz;
mod postgres;
mod smtp;
mod util;

use std::process::ExitCode;

use anyhow::{Result, bail};

const USAGE: &str = "\
usage: cargo xtask <command>

commands:
  ci [--no-postgres] [--no-browser]
                  run the full CI pipeline: fmt check, clippy, and tests against a
                  throwaway PostgreSQL cluster and Chromium/ChromeDriver
                  (the --no-* flags skip provisioning; refused when CI=true)
  fuzz [--seconds N] [TARGET...]
                  fuzz every parser (or the named targets) for N seconds each
                  (default 20) with cargo-fuzz on nightly; corpus seeded from
                  the real samples
  postgres        start a throwaway PostgreSQL cluster, print its URL and keep it
                  running until Enter is pressed
  browser-deps    install/check Chromium and ChromeDriver and print their versions
  smtp-deps       install/check aiosmtpd (a real SMTP server for the alert tests)
                  in a Python venv under target/ and print its interpreter
  help            print this message";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("xtask: error: {err:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &[String]) -> Result<()> {
    let Some((command, rest)) = args.split_first() else {
        eprintln!("{USAGE}");
        bail!("no command given");
    };
    match command.as_str() {
        "ci" => ci::run(&ci::Options::parse(rest)?),
        "fuzz" => fuzz::run(&fuzz::Options::parse(rest)?),
        "postgres" => {
            no_extra_args(command, rest)?;
            postgres::run_interactive()
        }
        "browser-deps" => {
            no_extra_args(command, rest)?;
            chromium::run_browser_deps()
        }
        "smtp-deps" => {
            no_extra_args(command, rest)?;
            let python = smtp::ensure(&mut util::Apt::new())?;
            println!(
                "aiosmtpd {} in {}",
                smtp::version(&python),
                python.display()
            );
            println!();
            println!("Run the alert tests with it:");
            println!();
            println!(
                "    {}={} cargo test -p openwarp-alerts",
                smtp::ENV_SMTP_PYTHON,
                python.display()
            );
            Ok(())
        }
        "help" | "--help" | "-h" => {
            println!("{USAGE}");
            Ok(())
        }
        other => {
            eprintln!("{USAGE}");
            bail!("unknown command `{other}`")
        }
    }
}

fn no_extra_args(command: &str, rest: &[String]) -> Result<()> {
    if let Some(arg) = rest.first() {
        bail!("`{command}` takes no arguments, got `{arg}`");
    }
    Ok(())
}
