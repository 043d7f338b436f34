//! Operations commands: `backup`, `restore` and `audit verify`.
//!
//! SQLite backups are taken by the store (`VACUUM INTO`, consistent while
//! `serve` runs) and checked by opening the copy read-only. A restore checks
//! the file first (integrity, made by openwarp, not from a newer version,
//! audit chain whole), folds the current database's write-ahead log into it,
//! moves it aside (never deleting it), puts the backup in its place and
//! migrates it. PostgreSQL goes through its own tools, `pg_dump` and
//! `pg_restore`, found on `PATH` or in Debian's `/usr/lib/postgresql/*/bin`.

use crate::cli::RestoreArgs;
use crate::config::Config;
use crate::failure::bad_input;
use crate::serve::open_configured;
use anyhow::{Context, bail};
use openwarp_store::{DatabaseFacts, Store, inspect_sqlite_backup, redact_url};
use std::path::{Path, PathBuf};
use std::process::Command;

/// The file behind a `sqlite:` URL (`sqlite://path?options`).
fn sqlite_path(url: &str) -> Option<PathBuf> {
    let rest = url.strip_prefix("sqlite:")?;
    let rest = rest.strip_prefix("//").unwrap_or(rest);
    let path = rest.split('?').next().unwrap_or_default();
    (!path.is_empty() && path != ":memory:").then(|| PathBuf::from(path))
}

fn is_postgres(url: &str) -> bool {
    url.starts_with("postgres:") || url.starts_with("postgresql:")
}

fn describe(f: &DatabaseFacts) -> String {
    let audit = match &f.audit.broken {
        None if f.audit.head_seq == 0 && f.audit.head_hash.is_empty() => {
            "audit log not chained yet (chained on first start)".to_string()
        }
        None => format!(
            "audit chain whole ({} entries, newest hash {})",
            f.audit.entries, f.audit.head_hash
        ),
        Some(b) => format!("audit chain BROKEN at entry {}: {}", b.seq, b.reason),
    };
    format!(
        "schema {}, {} organisations, {} users, {} advisories; {audit}",
        f.schema_version, f.organisations, f.users, f.advisories
    )
}

/// `openwarp backup DEST`.
pub async fn backup(config: &Config, dest: &Path) -> anyhow::Result<()> {
    if dest.exists() {
        return Err(bad_input(
            "dest",
            format!(
                "{} already exists; a backup never overwrites a file",
                dest.display()
            ),
        ));
    }
    if is_postgres(&config.database_url) {
        let pg_dump = postgres_tool("pg_dump")?;
        run(Command::new(pg_dump)
            .args(["--format=custom", "--no-owner", "--file"])
            .arg(dest)
            .arg(&config.database_url))
        .context("pg_dump")?;
        println!(
            "Backed up {} to {} (pg_dump custom format; restore with `openwarp restore`).",
            redact_url(&config.database_url),
            dest.display()
        );
        return Ok(());
    }
    let store = open_configured(config).await?;
    store
        .backup_sqlite(dest)
        .await
        .with_context(|| format!("writing the backup {}", dest.display()))?;
    store.close().await;
    let facts = inspect_sqlite_backup(dest)
        .await
        .with_context(|| format!("checking the backup {}", dest.display()))?;
    println!("Backed up to {}: {}.", dest.display(), describe(&facts));
    Ok(())
}

/// `openwarp restore SOURCE [--force]`.
pub async fn restore(config: &Config, args: &RestoreArgs) -> anyhow::Result<()> {
    let source = &args.source;
    if is_postgres(&config.database_url) {
        if !args.force {
            return Err(bad_input(
                "--force",
                "restoring replaces every table of the configured PostgreSQL database; stop openwarp and pass --force",
            ));
        }
        if !source.is_file() {
            return Err(bad_input(
                "source",
                format!("{} does not exist", source.display()),
            ));
        }
        let pg_restore = postgres_tool("pg_restore")?;
        run(Command::new(pg_restore)
            .args([
                "--clean",
                "--if-exists",
                "--no-owner",
                "--single-transaction",
                "--dbname",
            ])
            .arg(&config.database_url)
            .arg(source))
        .context("pg_restore")?;
        let store = open_configured(config).await?;
        let facts = store.facts().await?;
        store.close().await;
        println!(
            "Restored {} from {}: {}.",
            redact_url(&config.database_url),
            source.display(),
            describe(&facts)
        );
        return Ok(());
    }
    let Some(target) = sqlite_path(&config.database_url) else {
        return Err(bad_input(
            "database_url",
            format!(
                "{} names no database file to restore into",
                redact_url(&config.database_url)
            ),
        ));
    };
    let facts = inspect_sqlite_backup(source)
        .await
        .map_err(|e| bad_input("source", e))?;
    if target.exists() && !args.force {
        return Err(bad_input(
            "--force",
            format!(
                "{} exists and would be replaced (it is kept beside it as a .before-restore file); stop openwarp and pass --force",
                target.display()
            ),
        ));
    }
    let staging = with_suffix(&target, ".restoring");
    std::fs::copy(source, &staging)
        .with_context(|| format!("copying {} to {}", source.display(), staging.display()))?;
    std::fs::File::open(&staging)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("syncing {}", staging.display()))?;
    let mut kept = None;
    if target.exists() {
        // Fold the write-ahead log into the file, so the copy kept aside is
        // the whole database on its own.
        let current = Store::connect(&config.database_url).await?;
        current.checkpoint().await?;
        current.close().await;
        let aside = with_suffix(
            &target,
            &format!(
                ".before-restore-{}",
                chrono::Utc::now().format("%Y%m%dT%H%M%SZ")
            ),
        );
        for ext in ["", "-wal", "-shm"] {
            let from = with_suffix(&target, ext);
            if from.exists() {
                std::fs::rename(&from, with_suffix(&aside, ext))
                    .with_context(|| format!("moving {} aside", from.display()))?;
            }
        }
        kept = Some(aside);
    }
    std::fs::rename(&staging, &target)
        .with_context(|| format!("moving {} into place", staging.display()))?;
    let store = open_configured(config).await?;
    let after = store.facts().await?;
    store.close().await;
    println!(
        "Restored {} from {} (backup: {}).",
        target.display(),
        source.display(),
        describe(&facts)
    );
    println!("Now: {}.", describe(&after));
    if let Some(aside) = kept {
        println!("The database it replaced is kept as {}.", aside.display());
    }
    Ok(())
}

/// `openwarp audit verify`.
pub async fn verify_audit(config: &Config) -> anyhow::Result<()> {
    let store = open_configured(config).await?;
    let check = store.verify_audit_chain().await?;
    store.close().await;
    match check.broken {
        None => {
            println!(
                "The audit chain is whole: {} entries; newest hash {} (entry {}).",
                check.entries, check.head_hash, check.head_seq
            );
            Ok(())
        }
        Some(b) => bail!(
            "the audit chain is broken at entry {}: {} ({} entries checked)",
            b.seq,
            b.reason,
            check.entries
        ),
    }
}

fn with_suffix(path: &Path, suffix: &str) -> PathBuf {
    let mut s = path.as_os_str().to_owned();
    s.push(suffix);
    PathBuf::from(s)
}

fn run(command: &mut Command) -> anyhow::Result<()> {
    let status = command
        .status()
        .with_context(|| format!("starting {:?}", command.get_program()))?;
    if !status.success() {
        bail!("{:?} failed ({status})", command.get_program());
    }
    Ok(())
}

/// A PostgreSQL client tool: on `PATH`, or the newest in Debian's
/// `/usr/lib/postgresql/<version>/bin`.
fn postgres_tool(name: &str) -> anyhow::Result<PathBuf> {
    if let Some(path) = std::env::var_os("PATH")
        .into_iter()
        .flat_map(|p| std::env::split_paths(&p).collect::<Vec<_>>())
        .map(|d| d.join(name))
        .find(|p| p.is_file())
    {
        return Ok(path);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse().ok()?;
            let tool = e.path().join("bin").join(name);
            tool.is_file().then_some((v, tool))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, p)| p).ok_or_else(|| {
        bad_input(
            "database_url",
            format!("{name} is needed for a PostgreSQL database but is not installed (Debian: apt-get install postgresql-client)"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sqlite_urls_name_their_file() {
        assert_eq!(
            sqlite_path("sqlite://openwarp.db"),
            Some(PathBuf::from("openwarp.db"))
        );
        assert_eq!(
            sqlite_path("sqlite:///var/lib/openwarp/openwarp.db?mode=rwc"),
            Some(PathBuf::from("/var/lib/openwarp/openwarp.db"))
        );
        assert_eq!(sqlite_path("sqlite::memory:"), None);
        assert_eq!(sqlite_path("postgres://x@y/z"), None);
    }
}
