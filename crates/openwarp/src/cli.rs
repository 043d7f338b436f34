//! The command line: what an operator can type, parsed by clap.
//!
//! Closed sets (roles, organisation types, statuses) are offered as possible
//! values so `--help` lists them and clap refuses a typo with exit status 2
//! before anything runs; the domain core still validates every value again.

use clap::builder::PossibleValuesParser;
use clap::{Args, Parser, Subcommand};
use openwarp_core::{CouncilType, MembershipStatus, Role};
use std::path::PathBuf;

/// openwarp: a Warning, Advice and Reporting Point for UK local government.
#[derive(Debug, Parser)]
#[command(name = "openwarp", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web application (migrates the database first).
    Serve(ServeArgs),
    /// Apply any pending database migrations, then exit.
    Migrate(ConfigArgs),
    /// Match every member inventory against the whole stored corpus again
    /// (matching is incremental in normal running; use after an upgrade).
    Rematch(ConfigArgs),
    /// Try openwarp locally: a seeded SQLite database with demo accounts.
    Demo(DemoArgs),
    /// Manage named users from the command line (e.g. the first operator).
    #[command(subcommand)]
    User(UserCommand),
    /// Manage member organisations from the command line.
    #[command(subcommand)]
    Org(OrgCommand),
    /// Load advisories from files, folders or URLs (NVD, CVE 5, KEV, CSAF,
    /// OSV, EPSS; plain, .gz or .xz), recognised by content.
    Ingest(IngestArgs),
    /// Measure parsing speed over advisory files against plain
    /// `serde_json::Value` parsing of the same bytes (nothing is stored).
    BenchParse(BenchParseArgs),
    /// Measure matching over the advisory corpus for generated, reproducible
    /// member inventories: full re-match, one changed advisory, one changed
    /// item (nothing is stored).
    BenchMatch(BenchMatchArgs),
    /// Measure alert fan-out: one P1 KEV update to thousands of named
    /// users (ingest to queued), and daily digests for hundreds of councils.
    BenchAlerts(BenchAlertsArgs),
    /// Measure member pages under a fixed request rate: a fresh seeded
    /// database, N `serve` instances on loopback, signed-in members, an
    /// open-loop load; prints throughput and latency percentiles.
    BenchLoad(BenchLoadArgs),
    /// Copy the database, consistently, while openwarp runs (SQLite: a
    /// compact snapshot file; PostgreSQL: pg_dump's custom format).
    Backup(BackupArgs),
    /// Replace the database with a backup, after checking it (stop
    /// `openwarp serve` first; the replaced SQLite file is kept beside it).
    Restore(RestoreArgs),
    /// The audit log: check its hash chain.
    #[command(subcommand)]
    Audit(AuditCommand),
    /// The key that seals stored secrets (`secrets_key_file`).
    #[command(subcommand)]
    SecretsKey(SecretsKeyCommand),
    /// Load the NVD Official CPE Dictionary (CPE 2.3 XML; plain, .gz or .xz)
    /// so inventory suggestions include products no advisory names yet.
    CpeDictionary(CpeDictionaryArgs),
    // Assessments (issue 8)
    /// Check a self-assessment framework file (TOML) and install it, so
    /// members can take it; a bad file is refused with its line and reason.
    AssessmentFramework(AssessmentFrameworkArgs),
    // End of assessments (issue 8)
}

// Assessments (issue 8)
#[derive(Debug, Args)]
pub struct AssessmentFrameworkArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Only check the file; do not install it (no database needed).
    #[arg(long)]
    pub check: bool,
    /// The framework file, e.g. frameworks/my-framework.toml.
    #[arg(value_name = "PATH")]
    pub path: PathBuf,
}
// End of assessments (issue 8)

#[derive(Debug, Args)]
pub struct CpeDictionaryArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// The dictionary file (e.g. official-cpe-dictionary_v2.3.xml.gz).
    #[arg(value_name = "PATH")]
    pub path: PathBuf,
}

#[derive(Debug, Args)]
pub struct BenchAlertsArgs {
    /// Member councils.
    #[arg(long, default_value_t = 400, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub orgs: u32,
    /// Named users, spread evenly over the councils.
    #[arg(long, default_value_t = 4000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub users: u32,
    /// A new, empty database to use (default: a temporary SQLite file).
    #[arg(long, value_name = "URL")]
    pub database: Option<String>,
    /// Also deliver every message to the SMTP server on 127.0.0.1 at this
    /// port (one that accepts and discards, e.g. aiosmtpd's Sink handler).
    #[arg(long, value_name = "PORT")]
    pub smtp: Option<u16>,
    /// Sends in flight at once (and SMTP connections), as `[alerts] concurrency`.
    #[arg(long, default_value_t = 16, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub concurrency: u32,
}

#[derive(Debug, Args)]
pub struct BenchLoadArgs {
    /// A PostgreSQL server to use (a new database is created on it and
    /// dropped at the end). Default: a temporary SQLite file.
    #[arg(long, value_name = "URL")]
    pub postgres_url: Option<String>,
    /// `openwarp serve` processes to start, sharing the one database.
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=64))]
    pub instances: u32,
    /// Requests per second offered (open loop: sent on schedule whatever
    /// the answers do).
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub rate: u32,
    /// Length of the measured run.
    #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub seconds: u64,
    /// Seconds of load before the measured run, not counted.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u64).range(0..=600))]
    pub warmup: u64,
    /// Member users to sign in; requests take their sessions in turn.
    #[arg(long, default_value_t = 24, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub users: u32,
    /// Councils to add to the demo's (a lead and two users each, with one
    /// of the demo's estates).
    #[arg(long, default_value_t = 0, value_parser = clap::value_parser!(u32).range(0..=10_000))]
    pub extra_councils: u32,
    /// Advisory files or folders to load too, as a baseline (e.g.
    /// ../shared/data/kev ../shared/data/nvd/nvdcve-2.0-2024.json.gz).
    #[arg(long, value_name = "PATH", num_args = 1..)]
    pub advisories: Vec<PathBuf>,
    /// A request not answered within this many seconds counts as an error.
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u64).range(1..=600))]
    pub timeout_seconds: u64,
}

#[derive(Debug, Args)]
pub struct BenchMatchArgs {
    /// Advisory files or folders to read (e.g. ../shared/data/nvd ../shared/data/cve5 ../shared/data/osv).
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,
    /// Member organisations to generate.
    #[arg(long, default_value_t = 400, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub orgs: u32,
    /// Inventory items per organisation.
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub items: u32,
    /// Seed for the generated inventories and samples.
    #[arg(long, default_value_t = 2026)]
    pub seed: u64,
    /// Changed advisories and changed items to time.
    #[arg(long, default_value_t = 1000, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub samples: u32,
    /// Threads for the full re-match (the incremental timings use one).
    #[arg(long, default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=256))]
    pub threads: u32,
    /// Also measure through a real database (a new, empty one: e.g.
    /// sqlite:///tmp/bench.db or a PostgreSQL URL): ingest the corpus, add
    /// every inventory, then time changed advisories and items end to end.
    #[arg(long, value_name = "URL")]
    pub database: Option<String>,
}

#[derive(Debug, Args)]
pub struct BenchParseArgs {
    /// Files or folders to read (e.g. ../shared/data).
    #[arg(value_name = "PATH", required = true)]
    pub paths: Vec<PathBuf>,
    /// Repeat each measurement this many times and keep the fastest.
    #[arg(long, default_value_t = 3, value_parser = clap::value_parser!(u32).range(1..=20))]
    pub repeat: u32,
}

#[derive(Debug, Args)]
pub struct IngestArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Files or folders to read (folders are walked and files openwarp does
    /// not recognise in them are listed and skipped), or http(s) URLs of
    /// single documents, fetched with conditional GET and retries.
    #[arg(value_name = "PATH|URL", required = true)]
    pub paths: Vec<PathBuf>,
    /// Do not draw a progress bar.
    #[arg(long)]
    pub quiet: bool,
    /// Records per database transaction.
    #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub batch_size: u32,
    /// Record what members are exposed to without alerting anyone: for a
    /// first load of a feed's history, which is not news. Later ingests are
    /// compared with this baseline and alert as usual.
    #[arg(long)]
    pub baseline: bool,
}

#[derive(Debug, Args)]
pub struct BackupArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// The backup file to write (must not exist yet).
    pub dest: PathBuf,
}

#[derive(Debug, Args)]
pub struct RestoreArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// The backup file to restore from.
    pub source: PathBuf,
    /// Replace the existing database (required when there is one).
    #[arg(long)]
    pub force: bool,
}

#[derive(Debug, Subcommand)]
pub enum AuditCommand {
    /// Walk the audit log's hash chain; exit status 1 when it is broken.
    Verify(ConfigArgs),
}

/// Where to find the configuration file.
#[derive(Debug, Clone, Default, Args)]
pub struct ConfigArgs {
    /// Configuration file (TOML). Default: ./openwarp.toml when present.
    #[arg(long, value_name = "FILE", env = "OPENWARP_CONFIG")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// Address to listen on, overriding `listen` in the configuration.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<String>,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Address to listen on.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8080")]
    pub listen: String,
    /// Database to create (or reuse) for the demo.
    #[arg(long, value_name = "URL", default_value = "sqlite://openwarp-demo.db")]
    pub database: String,
    /// Send the demo's alert e-mails to this plain-SMTP port on 127.0.0.1
    /// (a local mail catcher, e.g. `python -m aiosmtpd -n -l 127.0.0.1:2525`).
    /// Without it e-mail alerts wait, pending, on the Deliveries page.
    #[arg(long, value_name = "PORT")]
    pub smtp_port: Option<u16>,
}

#[derive(Debug, Subcommand)]
pub enum SecretsKeyCommand {
    /// Write a new random key to PATH (readable by its owner only; an
    /// existing file is never replaced). Point `secrets_key_file` at it.
    New {
        /// Where to write the key, e.g. /etc/openwarp/secrets.key.
        #[arg(value_name = "PATH")]
        path: PathBuf,
    },
    /// Seal every stored secret under the key in NEW_PATH (made with `new`)
    /// instead of the configured one, all at once. Stop every instance
    /// first; then point `secrets_key_file` at NEW_PATH and start them.
    Rotate {
        #[command(flatten)]
        config: ConfigArgs,
        /// The new key file.
        #[arg(value_name = "NEW_PATH")]
        new_path: PathBuf,
    },
}

#[derive(Debug, Subcommand)]
pub enum UserCommand {
    /// Create a user directly. Without --password-stdin, prints a one-time
    /// link with which the person sets their own password.
    Add(UserAddArgs),
    /// Print a fresh one-time password-reset link for a user.
    ResetPassword(ResetPasswordArgs),
}

#[derive(Debug, Args)]
pub struct UserAddArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// The user's e-mail address (their sign-in name).
    #[arg(long)]
    pub email: String,
    /// The user's name as shown to others.
    #[arg(long)]
    pub name: String,
    /// What the user may do.
    #[arg(long, value_parser = role_names())]
    pub role: String,
    /// The member organisation (by name) for member_lead and member_user.
    #[arg(long, value_name = "ORG NAME")]
    pub org: Option<String>,
    /// Read the password from the first line of standard input.
    #[arg(long)]
    pub password_stdin: bool,
}

#[derive(Debug, Args)]
pub struct ResetPasswordArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// The user's e-mail address.
    #[arg(long)]
    pub email: String,
}

#[derive(Debug, Subcommand)]
pub enum OrgCommand {
    /// Add a member organisation and show its annual fee.
    Add(OrgAddArgs),
}

#[derive(Debug, Args)]
pub struct OrgAddArgs {
    #[command(flatten)]
    pub config: ConfigArgs,
    /// The organisation's name, e.g. "Ashford Borough Council".
    #[arg(long)]
    pub name: String,
    /// The kind of body, which decides the base fee.
    #[arg(long = "type", value_name = "TYPE", value_parser = council_type_names())]
    pub council_type: String,
    /// Not a member of the regional employers' organisation (fee premium applies).
    #[arg(long)]
    pub non_employers_member: bool,
    /// Membership status.
    #[arg(long, default_value = "active", value_parser = status_names())]
    pub status: String,
    /// Next renewal date, YYYY-MM-DD.
    #[arg(long, value_name = "YYYY-MM-DD")]
    pub renewal: String,
    /// Senior officer responsible for cyber security (e.g. the SIRO).
    #[arg(long, value_name = "NAME", default_value = "")]
    pub senior_officer_name: String,
    #[arg(long, value_name = "EMAIL", default_value = "")]
    pub senior_officer_email: String,
    #[arg(long, value_name = "PHONE", default_value = "")]
    pub senior_officer_phone: String,
    /// Lead member (councillor) responsible for cyber security.
    #[arg(long, value_name = "NAME", default_value = "")]
    pub lead_member_name: String,
    #[arg(long, value_name = "EMAIL", default_value = "")]
    pub lead_member_email: String,
    #[arg(long, value_name = "PHONE", default_value = "")]
    pub lead_member_phone: String,
}

/// Role names straight from the core, so the CLI never drifts from it.
fn role_names() -> PossibleValuesParser {
    PossibleValuesParser::new(Role::ALL.map(Role::as_str))
}

/// Organisation type names straight from the core.
fn council_type_names() -> PossibleValuesParser {
    PossibleValuesParser::new(CouncilType::ALL.map(CouncilType::as_str))
}

/// Membership status names straight from the core.
fn status_names() -> PossibleValuesParser {
    PossibleValuesParser::new(MembershipStatus::ALL.map(MembershipStatus::as_str))
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::CommandFactory;

    #[test]
    fn cli_definition_is_consistent() {
        Cli::command().debug_assert();
    }

    #[test]
    fn unknown_org_type_is_a_usage_error() {
        let err = Cli::try_parse_from([
            "openwarp",
            "org",
            "add",
            "--name",
            "X",
            "--type",
            "parish",
            "--renewal",
            "2027-01-01",
        ])
        .expect_err("parish is not a type");
        assert_eq!(err.exit_code(), 2);
    }

    #[test]
    fn demo_has_local_defaults() {
        let cli = Cli::try_parse_from(["openwarp", "demo"]).expect("parses");
        let Command::Demo(args) = cli.command else {
            panic!("expected demo");
        };
        assert_eq!(args.listen, "127.0.0.1:8080");
        assert_eq!(args.database, "sqlite://openwarp-demo.db");
    }
}
