//! `cargo xtask fuzz`: build the cargo-fuzz targets in `fuzz/` (nightly,
//! libFuzzer, no sanitizer: the workspace forbids `unsafe`, so what we look
//! for is panics, broken invariants, hangs and memory blow-ups) and run each
//! for a bounded time, its corpus seeded from the real samples in the repo
//! and, when present, in `../shared/data`.
//!
//! What it installs, once, under `target/`: nothing but `cargo-fuzz`
//! (`target/tools/bin`). The nightly toolchain comes from rustup.
//!
//! A crash, timeout or out-of-memory input fails the run; the input is kept
//! in `target/fuzz-artifacts/<target>/` and the message says how to make it a
//! regression test (`crates/fuzzing/regressions/<target>/`, replayed by
//! `cargo test` on stable).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{Context, Result, bail};

use crate::util::{display_command, is_ci, run_captured, run_inherit, workspace_root};

/// The cargo-fuzz release we install (pinned so CI is repeatable).
const CARGO_FUZZ_VERSION: &str = "0.13.2";
/// Seconds per target when none are given.
pub const DEFAULT_SECONDS: u64 = 20;

/// Where each target's seeds come from: files or folders, relative to the
/// workspace root. `../shared/…` paths are optional outside CI.
const SEEDS: &[(&str, &[&str])] = &[
    (
        "nvd",
        &[
            "crates/advisory/tests/fixtures/nvd",
            "crates/feeds/tests/fixtures",
        ],
    ),
    ("cve5", &["crates/advisory/tests/fixtures/cve5"]),
    (
        "kev",
        &[
            "crates/advisory/tests/fixtures/kev",
            "crates/store/tests/fixtures",
        ],
    ),
    (
        "csaf",
        &[
            "crates/advisory/tests/fixtures/csaf",
            "../shared/data/csaf/oasis-csaf-2.0-examples",
        ],
    ),
    ("osv", &["crates/advisory/tests/fixtures/osv"]),
    ("epss", &["crates/advisory/tests/fixtures/epss"]),
    (
        "advisory_any",
        &[
            "crates/advisory/tests/fixtures/nvd",
            "crates/advisory/tests/fixtures/cve5",
            "crates/advisory/tests/fixtures/kev",
            "crates/advisory/tests/fixtures/csaf",
            "crates/advisory/tests/fixtures/osv",
            "crates/advisory/tests/fixtures/epss",
        ],
    ),
    ("cyclonedx", &["crates/matching/tests/fixtures/sbom"]),
    ("inventory_csv", &[]),
    ("cpe", &[]),
    ("cpe_dictionary", &["crates/advisory/tests/fixtures/cpe"]),
    ("version", &[]),
    ("cvss", &[]),
    ("purl", &[]),
    (
        "stix",
        &["../shared/data/stix/oasis-cti-documentation-examples"],
    ),
    ("markdown", &[]),
    ("indicator", &[]),
    ("taxii", &[]),
    (
        "assessment_framework",
        &[
            "crates/core/frameworks/council-caf.toml",
            "crates/core/src/assessment/testdata/mini-framework.toml",
        ],
    ),
];

/// Every target's name.
pub fn all_targets() -> Vec<String> {
    SEEDS.iter().map(|(t, _)| (*t).to_string()).collect()
}

/// Options of `cargo xtask fuzz`.
#[derive(Debug)]
pub struct Options {
    pub seconds: u64,
    pub targets: Vec<String>,
}

impl Options {
    pub fn parse(args: &[String]) -> Result<Self> {
        let mut options = Self {
            seconds: DEFAULT_SECONDS,
            targets: Vec::new(),
        };
        let mut args = args.iter();
        while let Some(arg) = args.next() {
            match arg.as_str() {
                "--seconds" => {
                    let value = args.next().context("--seconds needs a number")?;
                    options.seconds = value.parse().ok().filter(|s| *s > 0).with_context(|| {
                        format!("--seconds: `{value}` is not a positive number")
                    })?;
                }
                name if SEEDS.iter().any(|(t, _)| *t == name) => {
                    options.targets.push(name.to_string());
                }
                other => bail!(
                    "unknown fuzz target or option `{other}`; targets: {}",
                    SEEDS.iter().map(|(t, _)| *t).collect::<Vec<_>>().join(", ")
                ),
            }
        }
        if options.targets.is_empty() {
            options.targets = all_targets();
        }
        Ok(options)
    }
}

/// Build every target, then fuzz the chosen ones for `seconds` each.
pub fn run(options: &Options) -> Result<()> {
    let root = workspace_root();
    check_targets_match(&root)?;
    let cargo_fuzz = ensure_cargo_fuzz(&root)?;
    ensure_nightly()?;
    let target_dir = root.join("target/fuzz");
    run_inherit(
        Command::new("rustup")
            .args(["run", "nightly"])
            .arg(&cargo_fuzz)
            .args(["fuzz", "build", "--release", "--debug-assertions"])
            .args(["--sanitizer", "none", "--target-dir"])
            .arg(&target_dir)
            .current_dir(root.join("fuzz"))
            .env_remove("RUSTUP_TOOLCHAIN")
            .env_remove("CARGO")
            .env_remove("RUSTC")
            .env_remove("RUSTFLAGS")
            .env_remove("CARGO_TARGET_DIR"),
    )?;
    let binaries = target_dir.join(host_triple()?).join("release");
    let mut report = Vec::new();
    for target in &options.targets {
        let runs = fuzz_one(&root, &binaries, target, options.seconds)?;
        report.push(format!("{target} {runs} runs"));
    }
    println!(
        "==> fuzz ok, {} s per target: {}",
        options.seconds,
        report.join(", ")
    );
    Ok(())
}

/// The targets in `fuzz/fuzz_targets` are exactly those this file seeds.
fn check_targets_match(root: &Path) -> Result<()> {
    let mut on_disk: Vec<String> = std::fs::read_dir(root.join("fuzz/fuzz_targets"))
        .context("reading fuzz/fuzz_targets")?
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            e.file_name()
                .to_str()
                .and_then(|n| n.strip_suffix(".rs"))
                .map(str::to_owned)
        })
        .collect();
    on_disk.sort();
    let mut known: Vec<String> = SEEDS.iter().map(|(t, _)| (*t).to_string()).collect();
    known.sort();
    if on_disk != known {
        bail!(
            "fuzz/fuzz_targets has {on_disk:?} but xtask seeds {known:?}: add the new target to SEEDS in xtask/src/fuzz.rs"
        );
    }
    Ok(())
}

/// `cargo-fuzz` under `target/tools`, installed on first use.
fn ensure_cargo_fuzz(root: &Path) -> Result<PathBuf> {
    let tools = root.join("target/tools");
    let binary = tools.join("bin/cargo-fuzz");
    if binary.is_file() {
        return Ok(binary);
    }
    run_inherit(
        Command::new("cargo")
            .args(["install", "--locked", "cargo-fuzz", "--version"])
            .arg(CARGO_FUZZ_VERSION)
            .arg("--root")
            .arg(&tools)
            .env_remove("RUSTUP_TOOLCHAIN")
            .env_remove("CARGO_TARGET_DIR"),
    )
    .context("installing cargo-fuzz")?;
    Ok(binary)
}

/// The nightly toolchain (libFuzzer's coverage instrumentation needs it).
fn ensure_nightly() -> Result<()> {
    let list = run_captured(Command::new("rustup").args(["toolchain", "list"]))?;
    if list.lines().any(|l| l.starts_with("nightly")) {
        return Ok(());
    }
    run_inherit(Command::new("rustup").args([
        "toolchain",
        "install",
        "nightly",
        "--profile",
        "minimal",
    ]))
    .context("installing the nightly toolchain for cargo-fuzz")
}

fn host_triple() -> Result<String> {
    let out = run_captured(Command::new("rustc").args(["-vV"]))?;
    out.lines()
        .find_map(|l| l.strip_prefix("host: "))
        .map(str::to_owned)
        .context("rustc -vV printed no host line")
}

/// Seed the corpus and fuzz one target; returns how many inputs it ran.
fn fuzz_one(root: &Path, binaries: &Path, target: &str, seconds: u64) -> Result<u64> {
    let corpus = root.join("target/fuzz-corpus").join(target);
    let artifacts = root.join("target/fuzz-artifacts").join(target);
    std::fs::create_dir_all(&corpus)?;
    std::fs::create_dir_all(&artifacts)?;
    let seeds = SEEDS
        .iter()
        .find(|(t, _)| *t == target)
        .map_or(&[][..], |(_, s)| *s);
    let mut sources: Vec<PathBuf> = seeds.iter().map(|s| root.join(s)).collect();
    sources.push(root.join("crates/fuzzing/regressions").join(target));
    let mut seeded = 0;
    for source in &sources {
        if !source.exists() {
            if source.starts_with(root.join("../shared")) && !is_ci() {
                eprintln!("xtask: {} is absent; seeding without it", source.display());
                continue;
            }
            if source.starts_with(root.join("crates/fuzzing/regressions")) {
                continue;
            }
            bail!("seed {} is missing", source.display());
        }
        seeded += copy_seeds(source, &corpus)?;
    }
    let binary = binaries.join(target);
    let mut command = Command::new(&binary);
    command
        .arg(&corpus)
        .arg(format!("-max_total_time={seconds}"))
        .arg("-max_len=65536")
        .arg("-timeout=10")
        .arg("-rss_limit_mb=2048")
        .arg("-print_final_stats=1")
        .arg(format!("-artifact_prefix={}/", artifacts.display()));
    println!(
        "==> fuzz {target} for {seconds} s ({seeded} seeds): {}",
        display_command(&command)
    );
    let started = Instant::now();
    let output = command
        .output()
        .with_context(|| format!("starting {}", binary.display()))?;
    let stderr = String::from_utf8_lossy(&output.stderr);
    if !output.status.success() {
        eprintln!("{stderr}");
        let found: Vec<String> = std::fs::read_dir(&artifacts)?
            .filter_map(|e| e.ok())
            .map(|e| e.path().display().to_string())
            .collect();
        bail!(
            "fuzz target `{target}` failed after {:.0} s ({}). Inputs kept: {}. \
             Copy the input into crates/fuzzing/regressions/{target}/ with a name saying what it shows, \
             fix the parser, and `cargo test -p openwarp-fuzzing` replays it from then on.",
            started.elapsed().as_secs_f64(),
            output.status,
            found.join(", ")
        );
    }
    let runs = stderr
        .lines()
        .find_map(|l| l.strip_prefix("stat::number_of_executed_units:"))
        .and_then(|n| n.trim().parse().ok())
        .unwrap_or(0);
    Ok(runs)
}

/// Copy a seed file, or the files of a seed folder, into the corpus (named
/// as they are; libFuzzer renames what it adds by content hash).
fn copy_seeds(source: &Path, corpus: &Path) -> Result<usize> {
    let files: Vec<PathBuf> = if source.is_dir() {
        std::fs::read_dir(source)?
            .filter_map(|e| e.ok())
            .map(|e| e.path())
            .filter(|p| {
                p.is_file()
                    && !p
                        .file_name()
                        .is_some_and(|n| n == "README.md" || n == "SOURCE.md")
            })
            .collect()
    } else {
        vec![source.to_path_buf()]
    };
    let mut copied = 0;
    for file in files {
        let Some(name) = file.file_name() else {
            continue;
        };
        let dest = corpus.join(format!("seed-{}", name.to_string_lossy()));
        std::fs::copy(&file, &dest).with_context(|| format!("copying seed {}", file.display()))?;
        copied += 1;
    }
    Ok(copied)
}
