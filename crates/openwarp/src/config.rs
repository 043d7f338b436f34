//! Configuration: built-in defaults, then an optional TOML file, then
//! `OPENWARP_*` environment variables (`__` separates nested keys, e.g.
//! `OPENWARP_FEES__COUNTY=1200`), later sources winning.
//!
//! Unknown keys are refused rather than ignored: a misspelt `secure_cookie`
//! silently falling back to a default is exactly the kind of mistake that
//! ships an insecure deployment. `crates/openwarp/openwarp.example.toml`
//! documents every key.

use figment::Figment;
use figment::providers::{Env, Format, Serialized, Toml};
use openwarp_core::FeeSchedule;
use openwarp_web::WebConfig;
use serde::{Deserialize, Serialize};
use std::fmt;
use std::path::{Path, PathBuf};

/// The file read when `--config` is not given, if it exists.
pub const DEFAULT_FILE: &str = "openwarp.toml";
/// Prefix of the environment variables that override the file.
pub const ENV_PREFIX: &str = "OPENWARP_";

/// Everything `openwarp serve` and the admin commands need.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    /// `sqlite://PATH` or `postgres://USER:PASSWORD@HOST/DB`.
    pub database_url: String,
    /// Address the HTTP server binds, e.g. `127.0.0.1:8080`.
    pub listen: String,
    /// Address users reach this instance on; links in e-mails start with it.
    pub public_url: String,
    pub secure_cookies: bool,
    pub trust_proxy_headers: bool,
    /// Bearer token Prometheus presents at `/metrics`; without one only
    /// the machine itself (a loopback address) may scrape.
    pub metrics_token: Option<String>,
    /// A file holding the key (32 bytes, base64) that seals the secrets
    /// openwarp must use again — second-factor keys, webhook signing
    /// secrets, peer WARPs' credentials — in the database. Make one with
    /// `openwarp secrets-key new PATH`; keep it (and a copy of it) apart
    /// from the database and its backups. Without it they are stored as
    /// they are.
    pub secrets_key_file: Option<String>,
    pub log_format: LogFormat,
    pub warp: WarpSection,
    pub fees: FeeSchedule,
    pub sessions: SessionSection,
    /// Live advisory feeds polled by `serve` (`[[feeds]]` tables).
    pub feeds: Vec<openwarp_feeds::FeedSource>,
    /// Sending alerts by e-mail and webhook (`[alerts]`, `[alerts.smtp]`).
    pub alerts: AlertsSection,
    /// `openwarp demo` only: operators may sign in without a second factor
    /// (they can still set one up). Not a configuration key: production
    /// always requires one of operators.
    #[serde(skip)]
    pub demo_operators_without_mfa: bool,
}

/// How log lines are written to standard error.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LogFormat {
    /// Human-readable lines, for a terminal or journald.
    #[default]
    Text,
    /// One JSON object per line, for log shippers.
    Json,
}

/// Who this WARP is.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct WarpSection {
    pub name: String,
    pub region: String,
}

/// Lifetimes of sessions and one-time links.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SessionSection {
    /// Sign users out after this many minutes without activity.
    pub idle_minutes: i64,
    /// Sign users out this many hours after they signed in, however active.
    pub absolute_hours: i64,
    /// Invitation links stay valid this many days.
    pub invitation_days: i64,
    /// Password-reset links stay valid this many hours.
    pub reset_hours: i64,
}

/// How `serve` delivers alerts. Without `smtp`, e-mail alerts are kept
/// (pending) until it is configured; webhooks are sent regardless.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AlertsSection {
    pub smtp: Option<openwarp_alerts::SmtpConfig>,
    /// Look for due deliveries this often when the queue is empty.
    pub poll_milliseconds: u64,
    /// The first retry of a failed delivery waits this long; each later one
    /// twice as long (capped at 4 hours; given up after 10 attempts).
    pub retry_base_seconds: i64,
    /// Deliveries claimed at once by one instance.
    pub batch_size: i64,
    /// Sends in flight at once per instance.
    pub concurrency: usize,
    /// How long an instance holds the deliveries it claimed; if it dies,
    /// another instance sends them after this long.
    pub lease_seconds: i64,
}

impl Default for AlertsSection {
    fn default() -> Self {
        AlertsSection {
            smtp: None,
            poll_milliseconds: 1000,
            retry_base_seconds: 30,
            batch_size: 50,
            concurrency: 16,
            lease_seconds: 120,
        }
    }
}

impl Default for Config {
    fn default() -> Self {
        Config {
            database_url: "sqlite://openwarp.db".into(),
            listen: "127.0.0.1:8080".into(),
            public_url: "http://127.0.0.1:8080".into(),
            secure_cookies: false,
            trust_proxy_headers: false,
            metrics_token: None,
            secrets_key_file: None,
            log_format: LogFormat::Text,
            warp: WarpSection::default(),
            fees: FeeSchedule::default(),
            sessions: SessionSection::default(),
            feeds: Vec::new(),
            alerts: AlertsSection::default(),
            demo_operators_without_mfa: false,
        }
    }
}

impl Default for WarpSection {
    fn default() -> Self {
        WarpSection {
            name: "openwarp".into(),
            region: String::new(),
        }
    }
}

impl Default for SessionSection {
    fn default() -> Self {
        SessionSection {
            idle_minutes: 480,
            absolute_hours: 12,
            invitation_days: 7,
            reset_hours: 24,
        }
    }
}

/// Configuration that cannot be used; always names the key or file at fault.
#[derive(Debug)]
pub enum ConfigError {
    /// `--config` names a file that is not there.
    MissingFile(PathBuf),
    /// A source could not be parsed, or has an unknown key or a wrong type.
    Parse(Box<figment::Error>),
    /// Parsed, but a value is out of range.
    Invalid { field: String, message: String },
}

impl fmt::Display for ConfigError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ConfigError::MissingFile(path) => {
                write!(
                    f,
                    "--config: cannot read '{}': no such file",
                    path.display()
                )
            }
            ConfigError::Parse(e) => write!(f, "configuration: {e}"),
            ConfigError::Invalid { field, message } => {
                write!(f, "configuration: {field}: {message}")
            }
        }
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// Load from defaults ← `file` (or `./openwarp.toml` if present) ← environment.
    pub fn load(file: Option<&Path>) -> Result<Config, ConfigError> {
        let file = match file {
            Some(path) if !path.is_file() => {
                return Err(ConfigError::MissingFile(path.to_path_buf()));
            }
            Some(path) => Some(path.to_path_buf()),
            None => Some(PathBuf::from(DEFAULT_FILE)).filter(|p| p.is_file()),
        };
        let mut figment = Figment::from(Serialized::defaults(Config::default()));
        if let Some(file) = file {
            figment = figment.merge(Toml::file_exact(file));
        }
        let config: Config = figment
            .merge(environment())
            .extract()
            .map_err(|e| ConfigError::Parse(Box::new(e)))?;
        config.validate()?;
        Ok(config)
    }

    /// Refuse values that would only fail later, in front of a user.
    pub fn validate(&self) -> Result<(), ConfigError> {
        self.fees.validate().map_err(|e| ConfigError::Invalid {
            field: format!("fees.{}", e.field),
            message: format!("must be between {} and {} (got {})", e.min, e.max, e.value),
        })?;
        let invalid = |field: &str, message: &str| ConfigError::Invalid {
            field: field.to_string(),
            message: message.to_string(),
        };
        if self.database_url.trim().is_empty() {
            return Err(invalid("database_url", "is required"));
        }
        openwarp_feeds::validate_sources(&self.feeds).map_err(|e| ConfigError::Invalid {
            field: "feeds".into(),
            message: e.to_string(),
        })?;
        if !(self.public_url.starts_with("http://") || self.public_url.starts_with("https://")) {
            return Err(invalid("public_url", "must start with http:// or https://"));
        }
        let positive = [
            ("sessions.idle_minutes", self.sessions.idle_minutes),
            ("sessions.absolute_hours", self.sessions.absolute_hours),
            ("sessions.invitation_days", self.sessions.invitation_days),
            ("sessions.reset_hours", self.sessions.reset_hours),
        ];
        for (field, value) in positive {
            if value <= 0 {
                return Err(invalid(field, "must be a positive whole number"));
            }
        }
        self.validate_alerts()
    }

    fn validate_alerts(&self) -> Result<(), ConfigError> {
        let a = &self.alerts;
        let invalid = |field: &str, message: String| ConfigError::Invalid {
            field: format!("alerts.{field}"),
            message,
        };
        if let Some(smtp) = &a.smtp {
            smtp.validate()
                .map_err(|e| invalid("smtp", e.to_string()))?;
        }
        if !(10..=60_000).contains(&a.poll_milliseconds) {
            return Err(invalid(
                "poll_milliseconds",
                "must be between 10 and 60000".into(),
            ));
        }
        if !(1..=3600).contains(&a.retry_base_seconds) {
            return Err(invalid(
                "retry_base_seconds",
                "must be between 1 and 3600".into(),
            ));
        }
        if !(1..=1000).contains(&a.batch_size) {
            return Err(invalid("batch_size", "must be between 1 and 1000".into()));
        }
        if !(1..=64).contains(&a.concurrency) {
            return Err(invalid("concurrency", "must be between 1 and 64".into()));
        }
        if !(5..=3600).contains(&a.lease_seconds) {
            return Err(invalid(
                "lease_seconds",
                "must be between 5 and 3600".into(),
            ));
        }
        Ok(())
    }

    /// The public URL without a trailing slash, ready to append `/reset/…`.
    pub fn base_url(&self) -> &str {
        self.public_url.trim_end_matches('/')
    }

    /// The settings the alerts worker runs with.
    pub fn alerts(&self) -> openwarp_alerts::AlertsConfig {
        let a = &self.alerts;
        let mut c = openwarp_alerts::AlertsConfig::new(self.base_url(), &self.warp.name);
        c.smtp = a.smtp.clone();
        c.poll_interval = std::time::Duration::from_millis(a.poll_milliseconds);
        c.retry_base = chrono::Duration::seconds(a.retry_base_seconds);
        c.batch_size = a.batch_size;
        c.concurrency = a.concurrency;
        c.lease = chrono::Duration::seconds(a.lease_seconds);
        c
    }

    /// The settings the web layer runs with.
    pub fn web(&self) -> WebConfig {
        WebConfig {
            warp_name: self.warp.name.clone(),
            warp_region: self.warp.region.clone(),
            public_url: self.base_url().to_string(),
            fees: self.fees.clone(),
            secure_cookies: self.secure_cookies,
            trust_proxy_headers: self.trust_proxy_headers,
            metrics_token: self.metrics_token.clone(),
            operators_need_mfa: !self.demo_operators_without_mfa,
            rate_limits: true,
            session_idle_minutes: self.sessions.idle_minutes,
            session_absolute_hours: self.sessions.absolute_hours,
            invitation_days: self.sessions.invitation_days,
            reset_hours: self.sessions.reset_hours,
        }
    }
}

/// `OPENWARP_*` variables as configuration keys. `OPENWARP_CONFIG` (the file
/// name itself) and `OPENWARP_TEST_*` (the test harness's own settings, e.g.
/// `OPENWARP_TEST_POSTGRES_URL`) are not configuration keys, so they are left
/// out rather than rejected as unknown.
fn environment() -> Env {
    Env::prefixed(ENV_PREFIX)
        .filter(|key| {
            let key = key.as_str().to_ascii_lowercase();
            key != "config" && !key.starts_with("test_")
        })
        .split("__")
}

#[cfg(test)]
#[allow(clippy::result_large_err)] // figment's `Jail` closures must return `figment::Result`
mod tests {
    use super::*;
    use figment::Jail;

    /// Run `f` in an empty directory with no `OPENWARP_*` variables set.
    fn jailed(f: impl FnOnce(&mut Jail) -> figment::Result<()>) {
        Jail::expect_with(|jail| {
            jail.clear_env();
            f(jail)
        });
    }

    fn load(file: Option<&str>) -> Result<Config, ConfigError> {
        Config::load(file.map(Path::new))
    }

    #[test]
    fn defaults_apply_without_file_or_environment() {
        jailed(|_| {
            let config = load(None).expect("defaults load");
            assert_eq!(config, Config::default());
            assert_eq!(config.database_url, "sqlite://openwarp.db");
            assert_eq!(config.fees, FeeSchedule::default());
            assert_eq!(config.sessions.reset_hours, 24);
            Ok(())
        });
    }

    #[test]
    fn the_example_file_is_the_defaults_written_out() {
        jailed(|jail| {
            jail.create_file("example.toml", include_str!("../openwarp.example.toml"))?;
            let config = load(Some("example.toml")).expect("example loads");
            assert_eq!(config, Config::default());
            Ok(())
        });
    }

    #[test]
    fn toml_file_overrides_defaults() {
        jailed(|jail| {
            jail.create_file(
                "openwarp.toml",
                r#"
                    database_url = "postgres://warp:secret@db/warp"
                    public_url = "https://warp.example.gov.uk/"
                    log_format = "json"
                    [warp]
                    name = "SEGWARP"
                    [fees]
                    county = 1200
                "#,
            )?;
            let config = load(None).expect("file loads");
            assert_eq!(config.database_url, "postgres://warp:secret@db/warp");
            assert_eq!(config.log_format, LogFormat::Json);
            assert_eq!(config.warp.name, "SEGWARP");
            assert_eq!(config.fees.county, 1200);
            assert_eq!(config.fees.unitary, 750, "unset fees keep defaults");
            let web = config.web();
            assert_eq!(web.public_url, "https://warp.example.gov.uk");
            assert_eq!(web.warp_name, "SEGWARP");
            Ok(())
        });
    }

    #[test]
    fn explicit_file_is_used_and_must_exist() {
        jailed(|jail| {
            jail.create_file("elsewhere.toml", "listen = \"0.0.0.0:9000\"")?;
            let config = load(Some("elsewhere.toml")).expect("loads");
            assert_eq!(config.listen, "0.0.0.0:9000");
            let err = load(Some("missing.toml")).expect_err("missing file");
            assert!(err.to_string().contains("missing.toml"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn environment_overrides_file() {
        jailed(|jail| {
            jail.create_file("openwarp.toml", "[fees]\ncounty = 1200\n")?;
            jail.set_env(
                "OPENWARP_DATABASE_URL",
                "sqlite:///var/lib/openwarp/warp.db",
            );
            jail.set_env("OPENWARP_WARP__NAME", "SEGWARP");
            jail.set_env("OPENWARP_FEES__COUNTY", 1500);
            jail.set_env("OPENWARP_SESSIONS__RESET_HOURS", 2);
            jail.set_env("OPENWARP_SECURE_COOKIES", true);
            jail.set_env("OPENWARP_TEST_POSTGRES_URL", "postgres://ignored");
            jail.set_env("OPENWARP_CONFIG", "openwarp.toml");
            let config = load(None).expect("env loads");
            assert_eq!(config.database_url, "sqlite:///var/lib/openwarp/warp.db");
            assert_eq!(config.warp.name, "SEGWARP");
            assert_eq!(config.fees.county, 1500);
            assert_eq!(config.sessions.reset_hours, 2);
            assert!(config.secure_cookies);
            Ok(())
        });
    }

    #[test]
    fn unknown_keys_are_rejected_by_name() {
        jailed(|jail| {
            jail.create_file("openwarp.toml", "secure_cookie = true\n")?;
            let err = load(None).expect_err("unknown key");
            assert!(err.to_string().contains("secure_cookie"), "{err}");
            Ok(())
        });
        jailed(|jail| {
            jail.create_file("openwarp.toml", "[fees]\nparish = 10\n")?;
            let err = load(None).expect_err("unknown fee");
            assert!(err.to_string().contains("parish"), "{err}");
            Ok(())
        });
        jailed(|jail| {
            jail.set_env("OPENWARP_DATABSE_URL", "sqlite://typo.db");
            let err = load(None).expect_err("unknown env key");
            assert!(err.to_string().contains("databse_url"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn bad_fees_are_rejected() {
        jailed(|jail| {
            jail.create_file("openwarp.toml", "[fees]\ncounty = -5\n")?;
            let err = load(None).expect_err("negative fee");
            let text = err.to_string();
            assert_eq!(
                text,
                "configuration: fees.county: must be between 0 and 1000000 (got -5)"
            );
            assert!(matches!(err, ConfigError::Invalid { .. }));
            Ok(())
        });
    }

    #[test]
    fn feeds_are_read_and_checked() {
        jailed(|jail| {
            jail.create_file(
                "openwarp.toml",
                "[[feeds]]\nname = \"cisa-kev\"\nkind = \"file\"\nurl = \"https://www.cisa.gov/kev.json\"\ninterval = \"1h\"\n",
            )?;
            let config = load(None).expect("valid feeds");
            assert_eq!(config.feeds.len(), 1);
            assert_eq!(config.feeds[0].name, "cisa-kev");
            jail.create_file(
                "openwarp.toml",
                "[[feeds]]\nname = \"KEV!\"\nkind = \"file\"\nurl = \"ftp://x\"\ninterval = \"1m\"\n",
            )?;
            let err = load(None).expect_err("bad feed");
            let text = err.to_string();
            assert!(text.starts_with("configuration: feeds: "), "{text}");
            assert!(
                text.contains("name") && text.contains("url") && text.contains("interval"),
                "{text}"
            );
            Ok(())
        });
    }

    #[test]
    fn alerts_are_read_from_file_and_environment() {
        jailed(|jail| {
            jail.create_file(
                "openwarp.toml",
                "public_url = \"https://warp.example.gov.uk/\"\n[warp]\nname = \"SEGWARP\"\n\
                 [alerts]\nretry_base_seconds = 60\n\
                 [alerts.smtp]\nhost = \"smtp.example.gov.uk\"\nsecurity = \"tls\"\nport = 465\n\
                 username = \"warp\"\nfrom_address = \"alerts@warp.example.gov.uk\"\n",
            )?;
            jail.set_env("OPENWARP_ALERTS__SMTP__PASSWORD", "hunter2");
            let config = load(None).expect("alerts load");
            let smtp = config.alerts.smtp.as_ref().expect("smtp");
            assert_eq!(smtp.host, "smtp.example.gov.uk");
            assert_eq!(smtp.security, openwarp_alerts::SmtpSecurity::Tls);
            assert_eq!(smtp.password.as_deref(), Some("hunter2"));
            assert_eq!(smtp.timeout_seconds, 30, "unset keys keep defaults");
            assert!(!format!("{config:?}").contains("hunter2"), "never shown");
            let worker = config.alerts();
            assert_eq!(worker.public_url, "https://warp.example.gov.uk");
            assert_eq!(worker.warp_name, "SEGWARP");
            assert_eq!(worker.retry_base, chrono::Duration::seconds(60));
            assert_eq!(worker.lease, openwarp_store::DELIVERY_LEASE);
            Ok(())
        });
        jailed(|jail| {
            jail.create_file(
                "openwarp.toml",
                "[alerts.smtp]\nhost = \"h\"\nfrom_address = \"a@b.example\"\nusername = \"u\"\n",
            )?;
            let err = load(None).expect_err("username without password");
            assert!(err.to_string().contains("alerts.smtp"), "{err}");
            jail.create_file(
                "openwarp.toml",
                "[alerts.smtp]\nhost = \"h\"\nfrom = \"x\"\n",
            )?;
            let err = load(None).expect_err("unknown smtp key");
            assert!(err.to_string().contains("from"), "{err}");
            jail.create_file("openwarp.toml", "[alerts]\nconcurrency = 0\n")?;
            let err = load(None).expect_err("zero concurrency");
            assert!(err.to_string().contains("alerts.concurrency"), "{err}");
            Ok(())
        });
    }

    #[test]
    fn other_bad_values_name_their_key() {
        jailed(|jail| {
            jail.set_env("OPENWARP_PUBLIC_URL", "warp.example.gov.uk");
            let err = load(None).expect_err("no scheme");
            assert!(err.to_string().contains("public_url"), "{err}");
            Ok(())
        });
        jailed(|jail| {
            jail.set_env("OPENWARP_SESSIONS__IDLE_MINUTES", 0);
            let err = load(None).expect_err("zero idle");
            assert!(err.to_string().contains("idle_minutes"), "{err}");
            Ok(())
        });
        jailed(|jail| {
            jail.set_env("OPENWARP_LOG_FORMAT", "xml");
            let err = load(None).expect_err("bad format");
            let text = err.to_string().to_lowercase();
            assert!(text.contains("log_format") && text.contains("xml"), "{err}");
            Ok(())
        });
    }
}
