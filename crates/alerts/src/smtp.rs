//! The SMTP edge: hands rendered e-mails to the configured mail server
//! (lettre over tokio, TLS by rustls), and says whether a failure is worth
//! retrying. A 5xx reply (mailbox unknown, message refused) will fail the
//! same way next time, so it is permanent and the delivery is dead-lettered
//! at once; everything else (connection refused, timeouts, 4xx "try later")
//! is transient and retried with backoff.

use crate::render::Email;
use lettre::message::header::{HeaderName, HeaderValue};
use lettre::message::{Mailbox, MultiPart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{AsyncSmtpTransport, AsyncTransport, Message, Tokio1Executor};
use serde::{Deserialize, Serialize};
use std::fmt;
use std::time::Duration;

/// How the connection to the mail server is protected.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SmtpSecurity {
    /// Plain SMTP, no TLS: only for a relay on the same host or in tests.
    None,
    /// Plain connection upgraded with STARTTLS, which is required (port 587).
    #[default]
    Starttls,
    /// TLS from the first byte ("SMTPS", port 465).
    Tls,
}

/// Where and as whom to send e-mail.
#[derive(Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SmtpConfig {
    /// The mail server's host name (checked against its TLS certificate).
    pub host: String,
    #[serde(default = "default_port")]
    pub port: u16,
    #[serde(default)]
    pub security: SmtpSecurity,
    /// Sign in with these when both are given.
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub password: Option<String>,
    /// The sender address, e.g. `alerts@warp.example.gov.uk`.
    pub from_address: String,
    /// The sender's display name, e.g. `SEGWARP alerts`.
    #[serde(default)]
    pub from_name: Option<String>,
    /// Give up on one connection or command after this many seconds.
    #[serde(default = "default_timeout")]
    pub timeout_seconds: u64,
}

fn default_port() -> u16 {
    587
}

fn default_timeout() -> u64 {
    30
}

/// The password never appears in logs or `{:?}` output.
impl fmt::Debug for SmtpConfig {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SmtpConfig")
            .field("host", &self.host)
            .field("port", &self.port)
            .field("security", &self.security)
            .field("username", &self.username)
            .field("password", &self.password.as_ref().map(|_| "********"))
            .field("from_address", &self.from_address)
            .field("from_name", &self.from_name)
            .field("timeout_seconds", &self.timeout_seconds)
            .finish()
    }
}

/// What went wrong sending one e-mail (or setting up to send any).
#[derive(Debug, thiserror::Error)]
pub enum SmtpError {
    /// The `[alerts.smtp]` settings cannot work.
    #[error("SMTP configuration: {0}")]
    Config(String),
    /// The recipient's address cannot be written in an e-mail.
    #[error("invalid recipient address {address:?}: {reason}")]
    Recipient { address: String, reason: String },
    #[error("building the message: {0}")]
    Message(String),
    /// The server refused for good (a 5xx reply).
    #[error("the mail server refused the message: {0}")]
    Refused(String),
    /// Connection trouble, a timeout or a 4xx reply: try again later.
    #[error("sending failed (will retry): {0}")]
    Transient(String),
}

impl SmtpError {
    /// Whether retrying cannot help.
    pub fn is_permanent(&self) -> bool {
        !matches!(self, SmtpError::Transient(_))
    }
}

impl SmtpConfig {
    /// Refuse settings that could never send (checked at start-up).
    pub fn validate(&self) -> Result<(), SmtpError> {
        if self.host.trim().is_empty() {
            return Err(SmtpError::Config("host is required".into()));
        }
        if self.port == 0 {
            return Err(SmtpError::Config("port must be 1–65535".into()));
        }
        if self.timeout_seconds == 0 {
            return Err(SmtpError::Config(
                "timeout_seconds must be at least 1".into(),
            ));
        }
        if self.username.is_some() != self.password.is_some() {
            return Err(SmtpError::Config(
                "username and password go together: give both or neither".into(),
            ));
        }
        self.sender()?;
        Ok(())
    }

    fn sender(&self) -> Result<Mailbox, SmtpError> {
        let address =
            self.from_address.trim().parse().map_err(|e| {
                SmtpError::Config(format!("from_address {:?}: {e}", self.from_address))
            })?;
        Ok(Mailbox::new(
            self.from_name
                .as_ref()
                .map(|n| n.trim().to_string())
                .filter(|n| !n.is_empty()),
            address,
        ))
    }
}

/// A connection pool to the mail server and the sender it writes as.
#[derive(Clone)]
pub struct Mailer {
    transport: AsyncSmtpTransport<Tokio1Executor>,
    from: Mailbox,
    timeout: Duration,
}

impl fmt::Debug for Mailer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Mailer").field("from", &self.from).finish()
    }
}

impl Mailer {
    /// Set up (no connection is made until the first send), with lettre's
    /// default pool of connections.
    pub fn new(cfg: &SmtpConfig) -> Result<Mailer, SmtpError> {
        Mailer::with_connections(cfg, 10)
    }

    /// Set up with a pool of up to `connections` connections: as many as
    /// sends in flight. Each message costs a few round trips and, as lettre
    /// writes the body and its terminator separately, often a delayed-ACK
    /// wait (about 40 ms on Linux), so throughput grows with connections.
    pub fn with_connections(cfg: &SmtpConfig, connections: u32) -> Result<Mailer, SmtpError> {
        cfg.validate()?;
        let host = cfg.host.trim();
        let builder = match cfg.security {
            SmtpSecurity::None => AsyncSmtpTransport::<Tokio1Executor>::builder_dangerous(host),
            SmtpSecurity::Starttls => AsyncSmtpTransport::<Tokio1Executor>::starttls_relay(host)
                .map_err(|e| SmtpError::Config(format!("STARTTLS to {host}: {e}")))?,
            SmtpSecurity::Tls => AsyncSmtpTransport::<Tokio1Executor>::relay(host)
                .map_err(|e| SmtpError::Config(format!("TLS to {host}: {e}")))?,
        };
        let timeout = Duration::from_secs(cfg.timeout_seconds);
        let mut builder = builder.port(cfg.port).timeout(Some(timeout));
        if let (Some(user), Some(password)) = (&cfg.username, &cfg.password) {
            builder = builder.credentials(Credentials::new(user.clone(), password.clone()));
        }
        builder = builder
            .pool_config(lettre::transport::smtp::PoolConfig::new().max_size(connections.max(1)));
        Ok(Mailer {
            transport: builder.build(),
            from: cfg.sender()?,
            timeout,
        })
    }

    /// Build the MIME message for `email` to `to`.
    pub fn message(&self, to: Mailbox, email: &Email) -> Result<Message, SmtpError> {
        Message::builder()
            .from(self.from.clone())
            .to(to)
            .subject(email.subject.clone())
            .message_id(Some(email.message_id.clone()))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe"),
                format!("<{}>", email.unsubscribe_url),
            ))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("List-Unsubscribe-Post"),
                "List-Unsubscribe=One-Click".to_string(),
            ))
            .raw_header(HeaderValue::new(
                HeaderName::new_from_ascii_str("Auto-Submitted"),
                "auto-generated".to_string(),
            ))
            .multipart(MultiPart::alternative_plain_html(
                email.text.clone(),
                email.html.clone(),
            ))
            .map_err(|e| SmtpError::Message(e.to_string()))
    }

    /// Send `email` to one person.
    pub async fn send(
        &self,
        to_address: &str,
        to_name: &str,
        email: &Email,
    ) -> Result<(), SmtpError> {
        let address = to_address
            .trim()
            .parse()
            .map_err(|e: lettre::address::AddressError| SmtpError::Recipient {
                address: to_address.to_string(),
                reason: e.to_string(),
            })?;
        let name = to_name.trim();
        let to = Mailbox::new((!name.is_empty()).then(|| name.to_string()), address);
        let message = self.message(to, email)?;
        // lettre's timeout applies per command; this bounds the whole send.
        let overall = self.timeout * 4;
        match tokio::time::timeout(overall, self.transport.send(message)).await {
            Err(_) => Err(SmtpError::Transient(format!(
                "no answer within {} s",
                overall.as_secs()
            ))),
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) if e.is_permanent() => Err(SmtpError::Refused(e.to_string())),
            Ok(Err(e)) => Err(SmtpError::Transient(e.to_string())),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg() -> SmtpConfig {
        SmtpConfig {
            host: "mail.example.gov.uk".into(),
            port: 587,
            security: SmtpSecurity::Starttls,
            username: Some("warp".into()),
            password: Some("hunter2".into()),
            from_address: "alerts@warp.example.gov.uk".into(),
            from_name: Some("SEGWARP alerts".into()),
            timeout_seconds: 30,
        }
    }

    #[test]
    fn the_password_is_not_shown() {
        let shown = format!("{:?}", cfg());
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(shown.contains("********"));
    }

    // lettre's connection pool needs a runtime, even to be dropped.
    #[tokio::test]
    async fn bad_settings_are_refused_by_name() {
        let mut c = cfg();
        c.from_address = "not an address".into();
        assert!(
            Mailer::new(&c)
                .unwrap_err()
                .to_string()
                .contains("from_address")
        );
        let mut c = cfg();
        c.password = None;
        assert!(
            Mailer::new(&c)
                .unwrap_err()
                .to_string()
                .contains("username and password")
        );
        let mut c = cfg();
        c.timeout_seconds = 0;
        assert!(c.validate().is_err());
        assert!(Mailer::new(&cfg()).is_ok());
    }

    #[test]
    fn unknown_keys_are_refused() {
        let err = serde_json::from_str::<SmtpConfig>(
            r#"{"host":"h","from_address":"a@b.c","pasword":"x"}"#,
        )
        .unwrap_err();
        assert!(err.to_string().contains("pasword"), "{err}");
        let ok: SmtpConfig =
            serde_json::from_str(r#"{"host":"h","from_address":"a@b.c","security":"tls"}"#)
                .unwrap();
        assert_eq!(
            (ok.port, ok.security, ok.timeout_seconds),
            (587, SmtpSecurity::Tls, 30)
        );
    }

    #[tokio::test]
    async fn messages_carry_the_headers_receivers_need() {
        let m = Mailer::new(&cfg()).unwrap();
        let email = Email {
            subject: "[TLP:CLEAR] P1: CVE-1".into(),
            text: "text".into(),
            html: "<p>html</p>".into(),
            message_id: "<alert.1.email.user.2@warp.example.gov.uk>".into(),
            unsubscribe_url: "https://warp.example.gov.uk/unsubscribe?u=2&s=abc".into(),
        };
        let to = Mailbox::new(Some("Ann".into()), "ann@example.gov.uk".parse().unwrap());
        let raw = String::from_utf8(m.message(to, &email).unwrap().formatted()).unwrap();
        assert!(
            raw.contains("Message-ID: <alert.1.email.user.2@warp.example.gov.uk>"),
            "{raw}"
        );
        assert!(
            raw.contains("List-Unsubscribe: <https://warp.example.gov.uk/unsubscribe?u=2&s=abc>"),
            "{raw}"
        );
        assert!(
            raw.contains("List-Unsubscribe-Post: List-Unsubscribe=One-Click"),
            "{raw}"
        );
        assert!(raw.contains("multipart/alternative"), "{raw}");
        assert!(
            raw.contains("From: \"SEGWARP alerts\" <alerts@warp.example.gov.uk>"),
            "{raw}"
        );
    }
}
