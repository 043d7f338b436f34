//! `openwarp bench-load`: member pages under a fixed request rate, served by
//! one or more real `openwarp serve` processes sharing one database.
//!
//! It sets everything up itself and tears it down afterwards:
//!
//! 1. a fresh database: a temporary SQLite file, or a new database on the
//!    PostgreSQL server given by `--postgres-url` (dropped at the end);
//! 2. the demo's WARP seeded into it (its councils, named users, estates
//!    and advisories, as `openwarp demo` does), optionally with more
//!    councils (`--extra-councils`) and more advisories (`--advisories`);
//! 3. `--instances` child processes of this very binary running `serve` on
//!    loopback ports, sharing nothing but the database;
//! 4. member users signed in through the real sign-in form (cookie
//!    sessions), then an **open-loop** load: request `i` is due at
//!    `start + i / rate` whatever happened to the ones before it, and its
//!    latency is measured from that due time, not from when it was sent, so
//!    a server that stalls is charged for the requests queued behind the
//!    stall (no coordinated omission). Requests go round-robin over the
//!    instances and cycle through the dashboard, My exposure and an advisory
//!    search.
//!
//! The children are started with `kill_on_drop`, so an error or Ctrl-C
//! (which drops the run) stops them too.

use crate::cli::BenchLoadArgs;
use anyhow::{Context, bail};
use hdrhistogram::Histogram;
use openwarp_core::{Email, Password, Role};
use openwarp_store::{NewUser, Store};
use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::process::{Child, Command};
use tokio::time::Instant;

/// Search words for `/advisories?q=`: vendors and products the demo estates
/// and advisories name, a CVE year, and a word that matches nothing.
const SEARCHES: &[&str] = &[
    "fortinet",
    "log4j",
    "microsoft",
    "apache",
    "CVE-2024",
    "openssl",
    "citrix",
    "nothing-matches-this",
];

/// The member pages the load cycles through, in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Page {
    Dashboard,
    Exposure,
    Search,
}

impl Page {
    const ALL: [Page; 3] = [Page::Dashboard, Page::Exposure, Page::Search];

    fn label(self) -> &'static str {
        match self {
            Page::Dashboard => "dashboard (/dashboard)",
            Page::Exposure => "My exposure (/orgs/{id}/exposure)",
            Page::Search => "advisory search (/advisories?q=)",
        }
    }

    fn path(self, n: usize, session: &Session) -> String {
        match self {
            Page::Dashboard => "/dashboard".into(),
            Page::Exposure => session.exposure.clone(),
            Page::Search => format!("/advisories?q={}", SEARCHES[n % SEARCHES.len()]),
        }
    }
}

pub async fn run(args: &BenchLoadArgs) -> anyhow::Result<()> {
    let dir = tempdir()?;
    let database = match &args.postgres_url {
        None => Database::Sqlite(format!(
            "sqlite://{}",
            dir.path.join("bench-load.db").display()
        )),
        Some(server) => Database::create_postgres(server).await?,
    };
    let outcome = tokio::select! {
        outcome = bench(args, database.url(), &dir.path) => outcome,
        _ = tokio::signal::ctrl_c() => Err(anyhow::anyhow!("interrupted; the servers were stopped")),
    };
    // The children were killed when `bench` was dropped or returned.
    database.drop_postgres().await;
    outcome
}

/// A temporary folder, removed on drop (the SQLite file and the servers'
/// working directory).
struct TempDir {
    path: PathBuf,
}

fn tempdir() -> anyhow::Result<TempDir> {
    let path = std::env::temp_dir().join(format!("openwarp-bench-load-{}", std::process::id()));
    std::fs::create_dir_all(&path)
        .with_context(|| format!("creating the temporary folder {}", path.display()))?;
    Ok(TempDir { path })
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.path);
    }
}

enum Database {
    Sqlite(String),
    Postgres {
        server: String,
        name: String,
        url: String,
    },
}

impl Database {
    /// A new, empty database on `server`, named after this process.
    async fn create_postgres(server: &str) -> anyhow::Result<Database> {
        use sqlx::Connection;
        let name = format!(
            "openwarp_bench_load_{}_{}",
            std::process::id(),
            chrono::Utc::now().timestamp()
        );
        let shown = openwarp_store::redact_url(server);
        let mut admin = sqlx::PgConnection::connect(server)
            .await
            .with_context(|| format!("--postgres-url: connecting to {shown}"))?;
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .with_context(|| format!("--postgres-url: creating the database {name} on {shown}"))?;
        let _ = admin.close().await;
        let base = server.rsplit_once('/').map_or(server, |(b, _)| b);
        Ok(Database::Postgres {
            server: server.to_string(),
            url: format!("{base}/{name}"),
            name,
        })
    }

    fn url(&self) -> &str {
        match self {
            Database::Sqlite(url) => url,
            Database::Postgres { url, .. } => url,
        }
    }

    /// Drop the benchmark's PostgreSQL database (SQLite's file goes with the
    /// temporary folder). Failing to is reported, not fatal.
    async fn drop_postgres(&self) {
        use sqlx::Connection;
        let Database::Postgres { server, name, .. } = self else {
            return;
        };
        let dropped = async {
            let mut admin = sqlx::PgConnection::connect(server).await?;
            sqlx::query(sqlx::AssertSqlSafe(format!(
                "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
            )))
            .execute(&mut admin)
            .await?;
            admin.close().await
        }
        .await;
        if let Err(error) = dropped {
            eprintln!("could not drop the benchmark database {name}: {error}");
        }
    }
}

async fn bench(args: &BenchLoadArgs, url: &str, dir: &std::path::Path) -> anyhow::Result<()> {
    let started = std::time::Instant::now();
    let store = crate::serve::open_store(url).await?;
    let seeded = seed(&store, args).await?;
    let backend = store.backend().name();
    store.close().await;
    println!(
        "bench-load on {backend}: seeded {} councils, {} users, {} inventory items, {} advisory records in {:.1} s",
        seeded.councils,
        seeded.users,
        seeded.items,
        seeded.records,
        started.elapsed().as_secs_f64()
    );

    let servers = start_servers(args.instances as usize, url, dir).await?;
    println!(
        "started {} `openwarp serve` instance(s): {}",
        servers.bases.len(),
        servers.bases.join(", ")
    );
    let client = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .pool_max_idle_per_host(1024)
        .timeout(Duration::from_secs(args.timeout_seconds))
        .build()
        .context("building the HTTP client")?;
    let sessions = sign_in(
        &client,
        &servers.bases,
        &seeded.members,
        args.users as usize,
    )
    .await?;
    println!(
        "signed in {} member users through the sign-in form",
        sessions.len()
    );

    let plan = Plan {
        client,
        bases: servers.bases.clone(),
        sessions,
        rate: f64::from(args.rate),
    };
    if args.warmup > 0 {
        let _ = plan.drive(Duration::from_secs(args.warmup)).await?;
    }
    let results = plan
        .drive(Duration::from_secs(args.seconds))
        .await
        .context("driving the load")?;
    print!(
        "{}",
        results.table(args.rate, args.seconds, servers.bases.len(), backend)
    );
    servers.stop().await;
    Ok(())
}

/// What the benchmark database holds.
struct Seeded {
    councils: usize,
    users: usize,
    items: usize,
    /// Advisory source records (NVD, CVE 5, KEV… one each).
    records: usize,
    /// Member users (e-mail addresses) whose organisation lets them sign in.
    members: Vec<String>,
}

/// The demo WARP (as `openwarp demo` seeds it), plus `--extra-councils`
/// councils with the demo's estates and three users each, plus any
/// `--advisories` files, all as a baseline (nothing alerts).
async fn seed(store: &Store, args: &BenchLoadArgs) -> anyhow::Result<Seeded> {
    let today = openwarp_store::now().date_naive();
    crate::demo::seed(store, today)
        .await
        .context("seeding the demo WARP")?;
    crate::demo::seed_estates(store)
        .await
        .context("seeding the demo inventories")?;
    add_councils(store, args.extra_councils as usize, today).await?;
    let quiet = store.without_alerts();
    crate::demo::ingest_advisories(&quiet)
        .await
        .context("loading the demo advisories")?;
    if !args.advisories.is_empty() {
        let files = openwarp_feeds::expand_paths(&args.advisories)
            .map_err(|e| anyhow::anyhow!("--advisories: {e}"))?;
        let mut known = openwarp_store::KnownRecords::default();
        for file in &files {
            let report = openwarp_feeds::ingest_path(
                &quiet,
                file,
                &mut known,
                openwarp_feeds::IngestOptions::default(),
                &(),
            )
            .await;
            if let Some(error) = report.error.filter(|_| !report.unrecognised) {
                bail!("--advisories: {}: {error}", report.name);
            }
        }
    }
    crate::demo::seed_warp_advisories(store)
        .await
        .context("seeding the demo WARP advisories")?;
    crate::demo::seed_news_and_links(store)
        .await
        .context("seeding the demo news")?;

    let mut members = Vec::new();
    let mut users = 0;
    let mut items = 0;
    let orgs = store.list_orgs().await?;
    for org in &orgs {
        let people = store.list_users(Some(org.id)).await?;
        users += people.len();
        items += store.list_items(org.id).await?.len();
        if org.status.allows_sign_in() {
            members.extend(people.into_iter().filter(|u| !u.disabled).map(|u| u.email));
        }
    }
    let records = store
        .advisory_counts()
        .await?
        .iter()
        .map(|(_, n)| *n as usize)
        .sum();
    Ok(Seeded {
        councils: orgs.len(),
        users,
        items,
        records,
        members,
    })
}

/// `n` more district councils, each with a lead and two users (the demo
/// password) and one of the demo's estates.
async fn add_councils(store: &Store, n: usize, today: chrono::NaiveDate) -> anyhow::Result<()> {
    if n == 0 {
        return Ok(());
    }
    let email = Email::parse(crate::demo::OPERATOR_EMAIL)
        .map_err(|e| anyhow::anyhow!("demo operator e-mail: {e}"))?;
    let password = Password::new(crate::demo::DEMO_PASSWORD, &email)
        .map_err(|e| anyhow::anyhow!("demo password: {e}"))?;
    let hash =
        tokio::task::spawn_blocking(move || openwarp_store::crypto::hash_password(&password))
            .await
            .context("hashing the demo password")?
            .context("hashing the demo password")?;
    let t = openwarp_store::now();
    for i in 0..n {
        let name = format!("Bench District Council {:04}", i + 1);
        let draft = openwarp_core::membership::OrganisationInput {
            name: name.clone(),
            council_type: "district_borough".into(),
            employers_member: true,
            renewal_date: (today + chrono::Duration::days(100 + (i % 200) as i64)).to_string(),
            senior_officer_name: "Bench Officer".into(),
            senior_officer_email: format!("siro@bench{i}.example"),
            ..Default::default()
        }
        .validate()
        .map_err(|e| anyhow::anyhow!("bench council {name}: {e:?}"))?;
        let org = store.create_org(&draft, t).await?.id;
        for (local, role) in [
            ("lead", Role::MemberLead),
            ("user1", Role::MemberUser),
            ("user2", Role::MemberUser),
        ] {
            let address = format!("{local}@bench{i}.example");
            store
                .create_user(
                    &NewUser {
                        email: Email::parse(&address)
                            .map_err(|e| anyhow::anyhow!("bench e-mail {address}: {e}"))?,
                        display_name: format!("Bench {local} {i}"),
                        role,
                        org_id: Some(org),
                        password_hash: hash.clone(),
                    },
                    t,
                )
                .await?;
        }
        crate::demo_estate::seed(store, org, &name, i).await?;
    }
    Ok(())
}

/// The running `serve` children and where they listen.
struct Servers {
    children: Vec<Child>,
    bases: Vec<String>,
}

impl Servers {
    /// SIGTERM each child and wait for it (killed after 10 s); dropping
    /// `Servers` instead kills them at once.
    async fn stop(mut self) {
        for child in &self.children {
            if let Some(pid) = child.id() {
                let _ = std::process::Command::new("kill")
                    .args(["-TERM", &pid.to_string()])
                    .status();
            }
        }
        for child in &mut self.children {
            if tokio::time::timeout(Duration::from_secs(10), child.wait())
                .await
                .is_err()
            {
                let _ = child.kill().await;
            }
        }
    }
}

/// A port on loopback that was free a moment ago.
fn free_port() -> anyhow::Result<u16> {
    let listener =
        std::net::TcpListener::bind("127.0.0.1:0").context("finding a free loopback port")?;
    Ok(listener.local_addr()?.port())
}

async fn start_servers(n: usize, url: &str, dir: &std::path::Path) -> anyhow::Result<Servers> {
    let exe = std::env::current_exe().context("finding this program to start `serve`")?;
    let mut servers = Servers {
        children: Vec::new(),
        bases: Vec::new(),
    };
    for _ in 0..n {
        let port = free_port()?;
        let base = format!("http://127.0.0.1:{port}");
        let child = Command::new(&exe)
            .args(["serve", "--listen", &format!("127.0.0.1:{port}")])
            .current_dir(dir)
            .env_remove("OPENWARP_CONFIG")
            .env("OPENWARP_DATABASE_URL", url)
            .env("OPENWARP_PUBLIC_URL", &base)
            .env("OPENWARP_WARP__NAME", "SEGWARP")
            .env("RUST_LOG", "warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .context("starting `openwarp serve`")?;
        servers.children.push(child);
        servers.bases.push(base);
    }
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(60);
    for (i, base) in servers.bases.iter().enumerate() {
        loop {
            if let Some(status) = servers.children[i].try_wait()? {
                bail!("`openwarp serve` at {base} exited before it was ready ({status})");
            }
            let ready = client
                .get(format!("{base}/readyz"))
                .send()
                .await
                .is_ok_and(|r| r.status().is_success());
            if ready {
                break;
            }
            if Instant::now() > deadline {
                bail!("`openwarp serve` at {base} was not ready within 60 s");
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
    Ok(servers)
}

/// The value of cookie `name` among a response's `Set-Cookie` headers.
fn set_cookie(response: &reqwest::Response, name: &str) -> Option<String> {
    response
        .headers()
        .get_all(reqwest::header::SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .filter_map(|v| v.split(';').next())
        .filter_map(|pair| pair.split_once('='))
        .find(|(k, v)| k.trim() == name && !v.is_empty())
        .map(|(_, v)| v.to_string())
}

/// The hidden `csrf` field's value in a page.
fn csrf_field(html: &str) -> Option<String> {
    let at = html.find("name=\"csrf\"")?;
    let rest = &html[at..];
    let value = rest.find("value=\"")? + "value=\"".len();
    let end = rest[value..].find('"')?;
    Some(rest[value..value + end].to_string())
}

/// Sign `count` member users in (cycling over the instances), as a browser
/// would: fetch the form for its pre-session cookie and CSRF token, post the
/// demo password, keep the session cookie.
async fn sign_in(
    client: &reqwest::Client,
    bases: &[String],
    members: &[String],
    count: usize,
) -> anyhow::Result<Vec<Session>> {
    let mut sessions = Vec::new();
    for (n, email) in members.iter().take(count).enumerate() {
        let base = &bases[n % bases.len()];
        let form = client.get(format!("{base}/login")).send().await?;
        let pre = set_cookie(&form, "owp_pre")
            .with_context(|| format!("{base}/login set no pre-session cookie"))?;
        let html = form.text().await?;
        let csrf = csrf_field(&html).context("the sign-in form has no csrf field")?;
        let response = client
            .post(format!("{base}/login"))
            .header(reqwest::header::COOKIE, format!("owp_pre={pre}"))
            .form(&[
                ("csrf", csrf.as_str()),
                ("email", email.as_str()),
                ("password", crate::demo::DEMO_PASSWORD),
                ("next", "/dashboard"),
            ])
            .send()
            .await?;
        let status = response.status();
        let location = response
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let cookie = match set_cookie(&response, "owp_session") {
            Some(token) if status.is_redirection() && location == "/dashboard" => {
                format!("owp_session={token}")
            }
            _ => bail!("signing in {email} at {base} answered {status} (to {location:?})"),
        };
        // "My exposure" is the organisation's exposure list; /exposure
        // redirects there, so ask once and go straight to it under load.
        let mine = client
            .get(format!("{base}/exposure"))
            .header(reqwest::header::COOKIE, &cookie)
            .send()
            .await?;
        let exposure = mine
            .headers()
            .get(reqwest::header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .filter(|l| l.starts_with("/orgs/"))
            .with_context(|| format!("{email}: /exposure did not lead to an organisation's list"))?
            .to_string();
        sessions.push(Session { cookie, exposure });
    }
    if sessions.is_empty() {
        bail!("no member user to sign in");
    }
    Ok(sessions)
}

/// A signed-in member user.
struct Session {
    /// The `Cookie` header to send.
    cookie: String,
    /// Their organisation's exposure list, `/orgs/{id}/exposure`.
    exposure: String,
}

/// Latencies in microseconds, up to a minute.
fn histogram() -> anyhow::Result<Histogram<u64>> {
    Histogram::new_with_bounds(1, 60_000_000, 3).context("creating a latency histogram")
}

/// What one page (or all of them) did in the measured run.
struct Tally {
    latencies: Histogram<u64>,
    errors: u64,
}

impl Tally {
    fn new() -> anyhow::Result<Tally> {
        Ok(Tally {
            latencies: histogram()?,
            errors: 0,
        })
    }
}

struct Plan {
    client: reqwest::Client,
    bases: Vec<String>,
    sessions: Vec<Session>,
    rate: f64,
}

struct Results {
    pages: Vec<(Page, Tally)>,
    /// Wall-clock time from the first request's due time to the last answer.
    elapsed: Duration,
    /// The most the generator itself sent behind schedule.
    max_send_lag: Duration,
    errors_seen: Vec<String>,
}

impl Plan {
    /// Send requests at `rate` for `length`, each due at its own time, and
    /// wait for all of them.
    async fn drive(&self, length: Duration) -> anyhow::Result<Results> {
        let total = (self.rate * length.as_secs_f64()).round() as usize;
        let tallies: Arc<Mutex<Vec<Tally>>> = Arc::new(Mutex::new(
            Page::ALL
                .iter()
                .map(|_| Tally::new())
                .collect::<anyhow::Result<_>>()?,
        ));
        let errors_seen: Arc<Mutex<Vec<String>>> = Arc::default();
        let start = Instant::now() + Duration::from_millis(50);
        let mut max_send_lag = Duration::ZERO;
        let mut tasks = tokio::task::JoinSet::new();
        for i in 0..total {
            let due = start + Duration::from_secs_f64(i as f64 / self.rate);
            tokio::time::sleep_until(due).await;
            max_send_lag = max_send_lag.max(Instant::now().saturating_duration_since(due));
            let page_index = i % Page::ALL.len();
            let page = Page::ALL[page_index];
            let session = &self.sessions[(i / Page::ALL.len()) % self.sessions.len()];
            let url = format!(
                "{}{}",
                self.bases[i % self.bases.len()],
                page.path(i / Page::ALL.len(), session)
            );
            let request = self
                .client
                .get(&url)
                .header(reqwest::header::COOKIE, &session.cookie)
                .send();
            let tallies = Arc::clone(&tallies);
            let errors_seen = Arc::clone(&errors_seen);
            tasks.spawn(async move {
                let outcome = match request.await {
                    Ok(response) if response.status().is_success() => {
                        // The whole body, as a browser would read it.
                        response
                            .bytes()
                            .await
                            .map(|_| ())
                            .map_err(|e| e.to_string())
                    }
                    Ok(response) => Err(format!("{url}: HTTP {}", response.status())),
                    Err(e) => Err(format!("{url}: {e}")),
                };
                let took = Instant::now().saturating_duration_since(due);
                let mut tallies = tallies.lock().unwrap_or_else(|p| p.into_inner());
                let tally = &mut tallies[page_index];
                tally
                    .latencies
                    .saturating_record(took.as_micros().max(1) as u64);
                if let Err(e) = outcome {
                    tally.errors += 1;
                    let mut seen = errors_seen.lock().unwrap_or_else(|p| p.into_inner());
                    if seen.len() < 5 {
                        seen.push(e);
                    }
                }
            });
            // Reap finished requests as we go so the set stays small.
            while tasks.try_join_next().is_some() {}
        }
        while tasks.join_next().await.is_some() {}
        let elapsed = start.elapsed();
        let tallies = std::mem::take(&mut *tallies.lock().unwrap_or_else(|p| p.into_inner()));
        let errors_seen =
            std::mem::take(&mut *errors_seen.lock().unwrap_or_else(|p| p.into_inner()));
        Ok(Results {
            pages: Page::ALL.into_iter().zip(tallies).collect(),
            elapsed,
            max_send_lag,
            errors_seen,
        })
    }
}

fn ms(micros: u64) -> String {
    format!("{:.1}", micros as f64 / 1000.0)
}

impl Results {
    fn table(&self, rate: u32, seconds: u64, instances: usize, backend: &str) -> String {
        let mut out = format!(
            "\n{backend}, {instances} instance(s), {rate} requests/s offered for {seconds} s \
             (latency from each request's due time; ms):\n\n\
             | page | requests | errors | achieved/s | p50 | p90 | p99 | max |\n\
             |---|---|---|---|---|---|---|---|\n"
        );
        let secs = self.elapsed.as_secs_f64().max(1e-9);
        let row = |name: &str, t: &Tally| {
            let h = &t.latencies;
            format!(
                "| {name} | {} | {} | {:.0} | {} | {} | {} | {} |\n",
                h.len(),
                t.errors,
                (h.len() - t.errors) as f64 / secs,
                ms(h.value_at_quantile(0.50)),
                ms(h.value_at_quantile(0.90)),
                ms(h.value_at_quantile(0.99)),
                ms(h.max()),
            )
        };
        let mut all = Tally {
            latencies: Histogram::new_from(&self.pages[0].1.latencies),
            errors: 0,
        };
        for (page, tally) in &self.pages {
            out.push_str(&row(page.label(), tally));
            let _ = all.latencies.add(&tally.latencies);
            all.errors += tally.errors;
        }
        out.push_str(&row("**all**", &all));
        out.push_str(&format!(
            "\nthe generator sent at most {:.1} ms behind schedule\n",
            self.max_send_lag.as_secs_f64() * 1000.0
        ));
        for e in &self.errors_seen {
            out.push_str(&format!("error: {e}\n"));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_the_csrf_field_of_a_form() {
        let html =
            r#"<form><input type="hidden" name="csrf" value="abc123"><input name="email"></form>"#;
        assert_eq!(csrf_field(html).as_deref(), Some("abc123"));
        assert_eq!(csrf_field("<form></form>"), None);
    }

    #[test]
    fn pages_cycle_through_the_searches() {
        let session = Session {
            cookie: "owp_session=x".into(),
            exposure: "/orgs/7/exposure".into(),
        };
        assert_eq!(Page::Search.path(0, &session), "/advisories?q=fortinet");
        assert_eq!(Page::Exposure.path(3, &session), "/orgs/7/exposure");
        assert_eq!(
            Page::Search.path(SEARCHES.len() + 1, &session),
            "/advisories?q=log4j"
        );
        assert_eq!(Page::Dashboard.path(7, &session), "/dashboard");
    }
}
