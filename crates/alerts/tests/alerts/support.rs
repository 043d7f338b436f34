//! A member with named users and an inventory item, advisories that hit
//! it, and a worker configuration pointed at the test servers.

use chrono::{DateTime, Duration, TimeZone, Utc};
use openwarp_advisory::{Parsed, SourceRecord};
use openwarp_alerts::{AlertsConfig, SmtpConfig, SmtpSecurity};
use openwarp_core::membership::OrganisationInput;
use openwarp_core::{Email, OrgId, Role, UserId};
use openwarp_matching::inventory::ItemFields;
use openwarp_store::{KnownRecords, NewUser, Store};

pub const PUBLIC_URL: &str = "https://warp.example.gov.uk";

/// When the advisories arrive.
pub fn t1() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 23, 9, 30, 0)
        .single()
        .unwrap()
}

pub fn ms(n: i64) -> Duration {
    Duration::milliseconds(n)
}

const LOG4SHELL: &[u8] = include_bytes!(
    "../../../advisory/tests/fixtures/cve5/cve5_log4shell_changes_and_cisa_adp_cvss.json"
);
/// The Log4Shell entry of the 2025-08-25 KEV catalogue, in its envelope.
const KEV: &[u8] = include_bytes!("../../../store/tests/fixtures/kev_log4shell_entry.json");

fn records(bytes: &[u8]) -> Vec<SourceRecord> {
    let mut out = Vec::new();
    openwarp_advisory::parse::parse_any(bytes, &mut |p| {
        if let Parsed::Record(r) = p {
            out.push(*r);
        }
    })
    .expect("fixture parses");
    out
}

/// Log4Shell's CVE record alone: critical, not (yet) known exploited: P2.
pub fn cve_record() -> Vec<SourceRecord> {
    records(LOG4SHELL)
}

/// Log4Shell's CVE record and its KEV entry: exploited and internet-facing: P1.
pub fn cve_and_kev() -> Vec<SourceRecord> {
    let mut all = records(LOG4SHELL);
    all.extend(
        records(KEV)
            .into_iter()
            .filter(|r| r.vuln_id == "CVE-2021-44228"),
    );
    all
}

pub struct Member {
    pub org: OrgId,
    pub users: Vec<(UserId, String)>,
}

/// Kent County Council with the given named users (the first is the
/// member lead), all on the default subscription (P1 at once, the rest in
/// a daily digest), and an internet-facing Log4j 2.14.1.
pub async fn kent(s: &Store, emails: &[&str]) -> Member {
    let draft = OrganisationInput {
        name: "Kent County Council".into(),
        council_type: "county".into(),
        employers_member: true,
        renewal_date: "2027-04-01".into(),
        senior_officer_name: "Sam Officer".into(),
        senior_officer_email: "sam.officer@kent.gov.uk".into(),
        ..OrganisationInput::default()
    }
    .validate()
    .expect("valid draft");
    let org = s.create_org(&draft, t1()).await.expect("org").id;
    let mut users = Vec::new();
    for (i, addr) in emails.iter().enumerate() {
        let local = addr.split('@').next().unwrap_or("x");
        let u = s
            .create_user(
                &NewUser {
                    email: Email::parse(addr).expect("valid e-mail"),
                    display_name: format!("{} Tester", capitalise(local)),
                    role: if i == 0 {
                        Role::MemberLead
                    } else {
                        Role::MemberUser
                    },
                    org_id: Some(org),
                    password_hash: "$argon2id$placeholder".into(),
                },
                t1(),
            )
            .await
            .expect("create user");
        users.push((u.id, addr.to_string()));
    }
    let log4j = ItemFields {
        name: "Payroll server".into(),
        vendor: Some("Apache Software Foundation".into()),
        product: Some("Apache Log4j2".into()),
        version: Some("2.14.1".into()),
        internet_facing: true,
        owner: Some("ICT Ops".into()),
        ..ItemFields::default()
    }
    .validate()
    .expect("valid item");
    s.add_items(org, &[log4j], "manual", None, t1())
        .await
        .expect("add item");
    Member { org, users }
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    c.next()
        .map(|f| f.to_uppercase().chain(c).collect())
        .unwrap_or_default()
}

/// Ingest `records` at `now`, as a feed would.
pub async fn ingest(s: &Store, recs: &[SourceRecord], now: DateTime<Utc>) {
    s.upsert_records(recs, &mut KnownRecords::default(), now)
        .await
        .expect("ingest");
}

/// A worker sending to the SMTP server on `port` (if any), retrying after
/// 200 ms, 400 ms, …
pub fn config(smtp_port: Option<u16>) -> AlertsConfig {
    let mut c = AlertsConfig::new(PUBLIC_URL, "SEGWARP");
    c.smtp = smtp_port.map(|port| SmtpConfig {
        host: "127.0.0.1".into(),
        port,
        security: SmtpSecurity::None,
        username: None,
        password: None,
        from_address: "alerts@warp.example.gov.uk".into(),
        from_name: Some("SEGWARP alerts".into()),
        timeout_seconds: 5,
    });
    c.retry_base = ms(200);
    c
}

/// A received message, parsed.
pub struct Received {
    pub subject: String,
    pub from: String,
    pub to: String,
    pub message_id: String,
    pub list_unsubscribe: String,
    pub list_unsubscribe_post: String,
    pub text: String,
    pub html: String,
}

pub fn parse(raw: &[u8]) -> Received {
    let m = mail_parser::MessageParser::default()
        .parse(raw)
        .expect("a parsable message");
    let header = |name: &str| {
        m.header_raw(name)
            .map(|v| v.trim().to_string())
            .unwrap_or_default()
    };
    let addr = |a: Option<&mail_parser::Address>| {
        a.and_then(|a| a.first())
            .and_then(|a| a.address())
            .unwrap_or_default()
            .to_string()
    };
    Received {
        subject: m.subject().unwrap_or_default().to_string(),
        from: addr(m.from()),
        to: addr(m.to()),
        message_id: m.message_id().unwrap_or_default().to_string(),
        list_unsubscribe: header("List-Unsubscribe"),
        list_unsubscribe_post: header("List-Unsubscribe-Post"),
        text: m.body_text(0).map(|b| b.into_owned()).unwrap_or_default(),
        html: m.body_html(0).map(|b| b.into_owned()).unwrap_or_default(),
    }
}
