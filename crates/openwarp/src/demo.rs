//! `openwarp demo`: a local SQLite database seeded with a realistic South
//! East England WARP ("SEGWARP"), so anyone can try openwarp in one command.
//!
//! All demo data is created by [`seed`], the one place later features extend
//! (advisories, incidents…). Organisation names and e-mail domains are the
//! real councils'; every *person* is fictional (surnames are birds, trees and
//! plants so nobody mistakes them for real officers), and telephone numbers
//! are in Ofcom's range reserved for drama (01632 960xxx).

use crate::cli::DemoArgs;
use crate::config::Config;
use crate::serve;
use CouncilType::{County, DistrictBorough, OtherPublicSector, Unitary};
use MembershipStatus::{Active, Lapsed, Pending};
use anyhow::Context;
use chrono::{Duration, NaiveDate};
use openwarp_core::{
    Contact, CouncilType, Email, Governance, MembershipStatus, OrgId, OrganisationDraft, Password,
    Role,
};
use openwarp_store::{AuditEntry, NewUser, Store, crypto};
use std::net::{IpAddr, Ipv4Addr, SocketAddr};

/// The shared password of every demo account (meets the core password policy).
pub const DEMO_PASSWORD: &str = "warp-demo-2026!";
/// The demo operator; its presence means the demo data is already there.
pub const OPERATOR_EMAIL: &str = "operator@segwarp.example";
const OPERATOR_NAME: &str = "Olu Operator";
/// A second operator, who reviews and publishes what the first writes.
pub const REVIEWER_EMAIL: &str = "reviewer@segwarp.example";
const REVIEWER_NAME: &str = "Rosa Reviewer";

/// One demo member organisation and its people.
struct DemoOrg {
    name: &'static str,
    kind: CouncilType,
    /// The organisation's real e-mail domain; demo users are `lead@`, `user1@`…
    domain: &'static str,
    employers_member: bool,
    status: MembershipStatus,
    /// Renewal date relative to the day of seeding (negative: overdue).
    renewal_in_days: i64,
    /// Senior officer responsible for cyber security (e.g. the SIRO).
    senior_officer: &'static str,
    /// Lead member (councillor) for cyber security, without "Cllr".
    lead_member: &'static str,
    /// The member lead's display name (`lead@domain`).
    lead: &'static str,
    /// Member users' display names (`user1@domain`, `user2@domain`).
    users: &'static [&'static str],
}

/// SEGWARP's members: 5 counties, 8 unitaries, 12 districts and boroughs and
/// one fire and rescue service. Most belong to the employers' organisation;
/// one is joining (pending), one has lapsed; renewals spread over the year
/// with some overdue and several due within the 60-day notice window.
const ORGS: &[DemoOrg] = &[
    DemoOrg {
        name: "Kent County Council",
        kind: County,
        domain: "kent.gov.uk",
        employers_member: true,
        status: Active,
        renewal_in_days: 200,
        senior_officer: "Sunita Sparrow",
        lead_member: "Geoffrey Gannet",
        lead: "Kate Kestrel",
        users: &["Tom Teal", "Amira Avocet"],
    },
    DemoOrg {
        name: "Surrey County Council",
        kind: County,
        domain: "surreycc.gov.uk",
        employers_member: true,
        status: Active,
        renewal_in_days: 35,
        senior_officer: "Martin Merlin",
        lead_member: "Helen Heron",
        lead: "Rachel Redwing",
        users: &["Ben Bunting"],
    },
    DemoOrg {
        name: "East Sussex County Council",
        kind: County,
        domain: "eastsussex.gov.uk",
        employers_member: true,
        status: Active,
        renewal_in_days: 150,
        senior_officer: "Fiona Fieldfare",
        lead_member: "Peter Plover",
        lead: "Dan Dunlin",
        users: &["Sophie Siskin", "Hugo Hawthorn"],
    },
    DemoOrg {
        name: "West Sussex County Council",
        kind: County,
        domain: "westsussex.gov.uk",
        employers_member: true,
        status: Active,
        renewal_in_days: 260,
        senior_officer: "Andrew Alder",
        lead_member: "Margaret Mallard",
        lead: "Nadia Nightjar",
        users: &["Owen Osprey"],
    },
    DemoOrg {
        name: "Hampshire County Council",
        kind: County,
        domain: "hants.gov.uk",
        employers_member: true,
        status: Active,
        renewal_in_days: 90,
        senior_officer: "Claire Curlew",
        lead_member: "Richard Rook",
        lead: "Stuart Stonechat",
        users: &["Lucy Linnet", "Raj Rowan"],
    },
    DemoOrg {
        name: "Medway Council",
        kind: Unitary,
        domain: "medway.gov.uk",
        employers_member: true,
        status: Active,
        renewal_in_days: -12,
        senior_officer: "Gareth Goldcrest",
        lead_member: "Anita Aspen",
        lead: "Chloe Chaffinch",
        users: &["Marcus Moorhen"],
    },
    DemoOrg {
        name: "Brighton & Hove City Council",
        kind: Unitary,
        domain: "brighton-hove.gov.uk",
        employers_member: true,
        status: Active,
        renewal_in_days: 48,
        senior_officer: "Imogen Ibis",
        lead_member: "Sam Sandpiper",
        lead: "Leo Lapwing",
        users: &["Wendy Whimbrel", "Jack Jackdaw"],
    },
    DemoOrg {
        name: "Portsmouth City Council",
        kind: Unitary,
        domain: "portsmouthcc.gov.uk",
        employers_member: true,
        status: Active,
        renewal_in_days: 120,
        senior_officer: "Neil Nuthatch",
        lead_member: "Grace Grebe",
        lead: "Mei Meadowsweet",
        users: &["Callum Crane"],
    },
    DemoOrg {
        name: "Southampton City Council",
        kind: Unitary,
        domain: "southampton.gov.uk",
        employers_member: true,
        status: Active,
        renewal_in_days: 300,
        senior_officer: "Joanne Juniper",
        lead_member: "Victor Vetch",
        lead: "Ryan Reedwarbler",
        users: &["Ellie Egret"],
    },
    DemoOrg {
        name: "Isle of Wight Council",
        kind: Unitary,
        domain: "iow.gov.uk",
        employers_member: false,
        status: Active,
        renewal_in_days: 75,
        senior_officer: "Malcolm Maple",
        lead_member: "Ruth Rosefinch",
        lead: "Tessa Tern",
        users: &["Dylan Dipper"],
    },
    DemoOrg {
        name: "Reading Borough Council",
        kind: Unitary,
        domain: "reading.gov.uk",
        employers_member: true,
        status: Active,
        renewal_in_days: 180,
        senior_officer: "Harpreet Hazel",
        lead_member: "Oliver Oriole",
        lead: "Siobhan Shrike",
        users: &["Arjun Ashtree", "Hannah Hobby"],
    },
    DemoOrg {
        name: "Slough Borough Council",
        kind: Unitary,
        domain: "slough.gov.uk",
        employers_member: false,
        status: Lapsed,
        renewal_in_days: -45,
        senior_officer: "Derek Dotterel",
        lead_member: "Farah Fulmar",
        lead: "Paul Puffin",
        users: &["Aisha Auk"],
    },
    DemoOrg {
        name: "Milton Keynes City Council",
        kind: Unitary,
        domain: "milton-keynes.gov.uk",
        employers_member: false,
        status: Pending,
        renewal_in_days: 21,
        senior_officer: "Kirsty Kittiwake",
        lead_member: "Jonathan Jay",
        lead: "Samir Swift",
        users: &["Laura Larch"],
    },
    DemoOrg {
        name: "Ashford Borough Council",
        kind: DistrictBorough,
        domain: "ashford.gov.uk",
        employers_member: true,
        status: Active,
        renewal_in_days: 15,
        senior_officer: "Bernard Bittern",
        lead_member: "Diane Dove",
        lead: "Mark Moss",
        users: &["Emily Elder", "George Gorse"],
    },
    DemoOrg {
        name: "Canterbury City Council",
        kind: DistrictBorough,
        domain: "canterbury.gov.uk",
        employers_member: true,
        status: Active,
        renewal_in_days: 230,
        senior_officer: "Bernadette Bramble",
        lead_member: "Hugh Hornbeam",
        lead: "Jasmine Jacana",
        users: &["Nathan Nettle"],
    },
    DemoOrg {
        name: "Dover District Council",
        kind: DistrictBorough,
        domain: "dover.gov.uk",
        employers_member: true,
        status: Active,
        renewal_in_days: 55,
        senior_officer: "Trevor Treecreeper",
        lead_member: "Sandra Sedge",
        lead: "Kieran Kingfisher",
        users: &["Holly Hollyhock"],
    },
    DemoOrg {
        name: "Maidstone Borough Council",
        kind: DistrictBorough,
        domain: "maidstone.gov.uk",
        employers_member: true,
        status: Active,
        renewal_in_days: 140,
        senior_officer: "Louise Lichen",
        lead_member: "Dennis Dunnock",
        lead: "Ravi Raven",
        users: &["Megan Mistle", "Isaac Ivy"],
    },
    DemoOrg {
        name: "Sevenoaks District Council",
        kind: DistrictBorough,
        domain: "sevenoaks.gov.uk",
        employers_member: true,
        status: Active,
        renewal_in_days: 330,
        senior_officer: "Philip Pipit",
        lead_member: "Caroline Cowslip",
        lead: "Abigail Acorn",
        users: &["Connor Coot"],
    },
    DemoOrg {
        name: "Tunbridge Wells Borough Council",
        kind: DistrictBorough,
        domain: "tunbridgewells.gov.uk",
        employers_member: true,
        status: Active,
        renewal_in_days: -3,
        senior_officer: "Yvonne Yew",
        lead_member: "Edward Eider",
        lead: "Femi Foxglove",
        users: &["Rosie Redstart"],
    },
    DemoOrg {
        name: "Guildford Borough Council",
        kind: DistrictBorough,
        domain: "guildford.gov.uk",
        employers_member: true,
        status: Active,
        renewal_in_days: 100,
        senior_officer: "Simon Sorrel",
        lead_member: "Patricia Partridge",
        lead: "Charlotte Chiffchaff",
        users: &["Toby Thrush", "Nia Nightingale"],
    },
    DemoOrg {
        name: "Woking Borough Council",
        kind: DistrictBorough,
        domain: "woking.gov.uk",
        employers_member: false,
        status: Active,
        renewal_in_days: 210,
        senior_officer: "Graham Greenfinch",
        lead_member: "Shabana Shelduck",
        lead: "Liam Lavender",
        users: &["Freya Fern"],
    },
    DemoOrg {
        name: "Crawley Borough Council",
        kind: DistrictBorough,
        domain: "crawley.gov.uk",
        employers_member: true,
        status: Active,
        renewal_in_days: 42,
        senior_officer: "Vikram Vole",
        lead_member: "Julie Jasmine",
        lead: "Eleanor Elm",
        users: &["Adam Aster"],
    },
    DemoOrg {
        name: "Horsham District Council",
        kind: DistrictBorough,
        domain: "horsham.gov.uk",
        employers_member: true,
        status: Active,
        renewal_in_days: 160,
        senior_officer: "Rebecca Reed",
        lead_member: "Ian Ibex",
        lead: "Tariq Tansy",
        users: &["Poppy Primrose", "Daniel Daisy"],
    },
    DemoOrg {
        name: "Lewes District Council",
        kind: DistrictBorough,
        domain: "lewes-eastbourne.gov.uk",
        employers_member: true,
        status: Active,
        renewal_in_days: 275,
        senior_officer: "Moira Mulberry",
        lead_member: "Colin Cormorant",
        lead: "Helen Hawfinch",
        users: &["Sean Samphire"],
    },
    DemoOrg {
        name: "Wealden District Council",
        kind: DistrictBorough,
        domain: "wealden.gov.uk",
        employers_member: true,
        status: Active,
        renewal_in_days: 190,
        senior_officer: "Keith Knapweed",
        lead_member: "Barbara Blackcap",
        lead: "Jade Jay",
        users: &["Ethan Emberwort"],
    },
    DemoOrg {
        name: "Kent Fire and Rescue Service",
        kind: OtherPublicSector,
        domain: "kent.fire-uk.org",
        employers_member: false,
        status: Active,
        renewal_in_days: 110,
        senior_officer: "Chris Chough",
        lead_member: "Norman Nightshade",
        lead: "Anita Anemone",
        users: &["Joe Juniper"],
    },
];

/// What [`seed`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SeedSummary {
    /// The operator account already existed, so nothing was touched.
    pub already_seeded: bool,
    pub organisations_created: usize,
    pub users_created: usize,
}

/// Real advisories compiled into the binary: the widely exploited CVEs of
/// `demo/` plus the parsers' test fixtures, so every source shows up.
const DEMO_ADVISORIES: &[(&str, &[u8])] = &[
    (
        "cve5-widely-exploited.jsonl.xz",
        include_bytes!("../demo/cve5-widely-exploited.jsonl.xz"),
    ),
    (
        "kev-widely-exploited.json",
        include_bytes!("../demo/kev-widely-exploited.json"),
    ),
    (
        "epss-widely-exploited.csv",
        include_bytes!("../demo/epss-widely-exploited.csv"),
    ),
    (
        "nvd_api_xz_backdoor_with_ssvc_metric.json",
        include_bytes!(
            "../../advisory/tests/fixtures/nvd/nvd_api_xz_backdoor_with_ssvc_metric.json"
        ),
    ),
    (
        "nvd_api_esp32_firmware_on_hardware_bounds.json",
        include_bytes!(
            "../../advisory/tests/fixtures/nvd/nvd_api_esp32_firmware_on_hardware_bounds.json"
        ),
    ),
    (
        "nvd_feed_2015_and_node_and_cvss_v2_v30.json",
        include_bytes!(
            "../../advisory/tests/fixtures/nvd/nvd_feed_2015_and_node_and_cvss_v2_v30.json"
        ),
    ),
    (
        "nvd_feed_2026_firmware_on_hardware_and_rejected.json",
        include_bytes!(
            "../../advisory/tests/fixtures/nvd/nvd_feed_2026_firmware_on_hardware_and_rejected.json"
        ),
    ),
    (
        "cve5_log4shell_changes_and_cisa_adp_cvss.json",
        include_bytes!(
            "../../advisory/tests/fixtures/cve5/cve5_log4shell_changes_and_cisa_adp_cvss.json"
        ),
    ),
    (
        "cve5_5_2_xz_package_name_collection_url.json",
        include_bytes!(
            "../../advisory/tests/fixtures/cve5/cve5_5_2_xz_package_name_collection_url.json"
        ),
    ),
    (
        "cve5_linux_git_ranges_default_status_cpe_applicability.json",
        include_bytes!(
            "../../advisory/tests/fixtures/cve5/cve5_linux_git_ranges_default_status_cpe_applicability.json"
        ),
    ),
    (
        "cve5_lines_ranges_adp_v4_na_rejected.jsonl",
        include_bytes!(
            "../../advisory/tests/fixtures/cve5/cve5_lines_ranges_adp_v4_na_rejected.jsonl"
        ),
    ),
    (
        "kev_catalogue_five_real_entries_notes_urls_ransomware.json",
        include_bytes!(
            "../../advisory/tests/fixtures/kev/kev_catalogue_five_real_entries_notes_urls_ransomware.json"
        ),
    ),
    (
        "cisa_va_24_201_01_vex_relationship_fixed.json",
        include_bytes!(
            "../../advisory/tests/fixtures/csaf/cisa_va_24_201_01_vex_relationship_fixed.json"
        ),
    ),
    (
        "cisa_icsa_23_194_02_vers_range_interim.json",
        include_bytes!(
            "../../advisory/tests/fixtures/csaf/cisa_icsa_23_194_02_vers_range_interim.json"
        ),
    ),
    (
        "cisa_icsma_18_240_01_free_text_range.json",
        include_bytes!(
            "../../advisory/tests/fixtures/csaf/cisa_icsma_18_240_01_free_text_range.json"
        ),
    ),
    (
        "cisa_lines_va_24_254_01_and_va_24_262_01.jsonl",
        include_bytes!(
            "../../advisory/tests/fixtures/csaf/cisa_lines_va_24_254_01_and_va_24_262_01.jsonl"
        ),
    ),
    (
        "redhat_rhsa_2022_0011_relationships_cpe.json",
        include_bytes!(
            "../../advisory/tests/fixtures/csaf/redhat_rhsa_2022_0011_relationships_cpe.json"
        ),
    ),
    (
        "oasis_vex_uc08_fixed_not_affected_recommended.json",
        include_bytes!(
            "../../advisory/tests/fixtures/csaf/oasis_vex_uc08_fixed_not_affected_recommended.json"
        ),
    ),
    (
        "go_stdlib_and_x_net_reopened_range.json",
        include_bytes!("../../advisory/tests/fixtures/osv/go_stdlib_and_x_net_reopened_range.json"),
    ),
    (
        "go_cilium_three_fixed_branches.jsonl",
        include_bytes!("../../advisory/tests/fixtures/osv/go_cilium_three_fixed_branches.jsonl"),
    ),
    (
        "go_withdrawn_kubernetes_proxy.jsonl",
        include_bytes!("../../advisory/tests/fixtures/osv/go_withdrawn_kubernetes_proxy.jsonl"),
    ),
    (
        "bitnami_tomcat_cpes_cvss3.json",
        include_bytes!("../../advisory/tests/fixtures/osv/bitnami_tomcat_cpes_cvss3.json"),
    ),
    (
        "bitnami_apisix_cvss4_last_affected.jsonl",
        include_bytes!(
            "../../advisory/tests/fixtures/osv/bitnami_apisix_cvss4_last_affected.jsonl"
        ),
    ),
];

/// What loading the demo advisories did.
#[derive(Debug, Default)]
pub struct AdvisoryLoad {
    pub files: usize,
    pub counts: openwarp_store::IngestCounts,
    pub epss: u64,
    /// Files or records that failed; empty for the shipped data.
    pub problems: Vec<String>,
}

impl std::fmt::Display for AdvisoryLoad {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "loaded {} demo advisory files: {} records new, {} changed, {} unchanged; {} EPSS scores",
            self.files, self.counts.new, self.counts.changed, self.counts.unchanged, self.epss
        )?;
        for p in &self.problems {
            write!(f, "\n  problem: {p}")?;
        }
        Ok(())
    }
}

/// A real KEV entry held back from the demo's catalogue (CVE-2024-21762,
/// FortiOS), for showing — and testing — what happens when CISA adds a
/// vulnerability that members are exposed to: a follow-up alert to the
/// named users of every council running an affected FortiOS. (Outside tests,
/// ingest `crates/openwarp/demo/kev-new-entry-fortios.json` into a running demo.)
#[cfg(test)]
pub const KEV_NEW_ENTRY: (&str, &[u8]) = (
    "kev-new-entry-fortios.json",
    include_bytes!("../demo/kev-new-entry-fortios.json"),
);

/// Ingest the compiled-in advisories. Idempotent: unchanged records are skipped.
pub async fn ingest_advisories(store: &Store) -> anyhow::Result<AdvisoryLoad> {
    let mut load = AdvisoryLoad::default();
    let mut known = openwarp_store::KnownRecords::default();
    for (name, bytes) in DEMO_ADVISORIES {
        let data = openwarp_feeds::decompress(name, bytes.to_vec())?;
        let report = openwarp_feeds::ingest_bytes(
            store,
            name,
            data,
            &mut known,
            openwarp_feeds::IngestOptions::default(),
            &(),
        )
        .await;
        if report.storage_failed {
            anyhow::bail!("{name}: {}", report.error.unwrap_or_default());
        }
        if let Some(e) = report.error {
            load.problems.push(format!("{name}: {e}"));
        }
        load.problems
            .extend(report.rejected.iter().map(|r| format!("{name}: {r}")));
        load.files += 1;
        load.counts += report.counts;
        load.epss += report.epss_scores;
    }
    Ok(load)
}

/// A demo account worth showing on start-up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignIn {
    pub role: Role,
    pub email: String,
    pub organisation: Option<&'static str>,
}

/// `openwarp demo`: bind, create or reuse the database, seed, print how to
/// sign in, serve until Ctrl-C.
pub async fn run(args: &DemoArgs) -> anyhow::Result<()> {
    let listener = serve::bind(&args.listen).await?;
    let address = listener.local_addr().context("reading the bound address")?;
    let mut config = demo_config(&args.database, address);
    if let Some(port) = args.smtp_port {
        config.alerts.smtp = Some(openwarp_alerts::SmtpConfig {
            host: "127.0.0.1".into(),
            port,
            security: openwarp_alerts::SmtpSecurity::None,
            username: None,
            password: None,
            from_address: "alerts@segwarp.example".into(),
            from_name: Some("SEGWARP alerts".into()),
            timeout_seconds: 10,
        });
    }
    config.secrets_key_file = demo_secrets_key(&config.database_url)?;
    let store = serve::open_configured(&config).await?;
    let today = openwarp_store::now().date_naive();
    let summary = seed(&store, today).await.context("seeding the demo data")?;
    println!("{}", describe(&summary, &config.database_url));
    let items = seed_estates(&store)
        .await
        .context("seeding the demo inventories")?;
    if items > 0 {
        println!("Gave the demo councils {items} inventory items and their suppliers.");
    }
    // The demo's corpus is the members' baseline, not news: it records what
    // they are exposed to without alerting. Alerts come from what changes
    // afterwards (try `openwarp ingest crates/openwarp/demo/kev-new-entry-fortios.json`).
    let advisories = ingest_advisories(&store.without_alerts())
        .await
        .context("loading the demo advisories")?;
    println!("{advisories}");
    let warp = seed_warp_advisories(&store)
        .await
        .context("seeding the demo WARP advisories")?;
    if warp > 0 {
        println!("Wrote {warp} WARP advisories (one published, one awaiting review).");
    }
    let polls = seed_polls(&store).await.context("seeding the demo polls")?;
    if polls > 0 {
        println!("Asked {polls} questions and polls (one open and anonymous, one closed).");
    }
    let incidents = seed_incidents(&store, &config.warp.region)
        .await
        .context("seeding the demo incidents")?;
    if incidents > 0 {
        println!(
            "Reported {incidents} incidents (one through a shared ICT service, its other users warned)."
        );
    }
    let news = seed_news_and_links(&store)
        .await
        .context("seeding the demo news and links")?;
    if news > 0 {
        println!("Posted the demo news and useful links ({news} in all).");
    }
    let posts = seed_discussion(&store)
        .await
        .context("seeding the demo discussion")?;
    if posts > 0 {
        println!(
            "Started the demo discussion: topics PSN, Cloud, GDPR and Incidents ({posts} posts)."
        );
    }
    // Assessments (issue 8)
    let assessments = seed_assessments(&store)
        .await
        .context("seeding the demo self-assessments")?;
    if assessments > 0 {
        println!(
            "Submitted {assessments} self-assessments over the past year (the regional benchmark shows; Kent has one to finish)."
        );
    }
    // End of assessments (issue 8)
    let meetings = seed_meetings(&store)
        .await
        .context("seeding the demo meetings")?;
    if meetings > 0 {
        println!(
            "Scheduled {meetings} meetings (two past, with outlines; the next with its agenda)."
        );
    }
    // Federation (issue 9)
    if crate::demo_federation::seed_federation(&store)
        .await
        .context("seeding the demo peer WARP")?
    {
        println!("Added a demo TAXII peer and let one shared incident leave the WARP.");
    }
    print!(
        "{}",
        crate::demo_federation::banner_lines(
            config.base_url(),
            &openwarp_web::taxii::collection_id_at(
                config.base_url(),
                &config.warp.name,
                openwarp_core::federation::Collection::Partners,
            ),
        )
    );
    // End of federation (issue 9)
    println!("{}", banner(config.base_url(), &config.database_url));
    serve::run(listener, store, &config).await
}

/// The demo seals its secrets like production: with a key kept beside its
/// SQLite file (`openwarp-demo.db.key`), made on first run. None for a
/// database elsewhere.
fn demo_secrets_key(database_url: &str) -> anyhow::Result<Option<String>> {
    let Some(file) = database_url
        .strip_prefix("sqlite://")
        .or_else(|| database_url.strip_prefix("sqlite:"))
        .map(|f| f.split('?').next().unwrap_or(f))
        .filter(|f| !f.is_empty() && *f != ":memory:")
    else {
        return Ok(None);
    };
    let key = format!("{file}.key");
    if !std::path::Path::new(&key).exists() {
        serve::new_secrets_key(std::path::Path::new(&key))?;
    }
    Ok(Some(key))
}

/// The demo's fixed configuration: SEGWARP, default fees, links pointing at
/// the address actually bound. Deliberately ignores `openwarp.toml` so the
/// demo behaves the same wherever it is started.
fn demo_config(database_url: &str, address: SocketAddr) -> Config {
    let mut config = Config {
        database_url: database_url.to_string(),
        listen: address.to_string(),
        public_url: public_url(address),
        ..Config::default()
    };
    config.warp.name = "SEGWARP".into();
    config.warp.region = "South East England".into();
    // So a newcomer can look around without an authenticator app; the
    // account page offers to set one up, and `serve` always requires it.
    config.demo_operators_without_mfa = true;
    config
}

/// A URL a browser on this machine can open: "all interfaces" becomes loopback.
fn public_url(address: SocketAddr) -> String {
    let mut shown = address;
    if address.ip().is_unspecified() {
        shown.set_ip(IpAddr::V4(Ipv4Addr::LOCALHOST));
    }
    format!("http://{shown}")
}

/// Create the demo WARP in `store`, with renewal dates relative to `today`.
///
/// Idempotent: when the demo operator exists, nothing is done. Otherwise each
/// organisation and user is created only if missing, and the operator last, so
/// an interrupted seed completes on the next run instead of clashing.
pub async fn seed(store: &Store, today: NaiveDate) -> anyhow::Result<SeedSummary> {
    let mut summary = SeedSummary {
        already_seeded: false,
        organisations_created: 0,
        users_created: 0,
    };
    if user_exists(store, OPERATOR_EMAIL).await? {
        summary.already_seeded = true;
        return Ok(summary);
    }
    let hash = demo_password_hash().await?;
    for (index, org) in ORGS.iter().enumerate() {
        let org_id = ensure_org(store, org, index, today, &mut summary).await?;
        for (email, name, role) in org_people(org) {
            let user = demo_user(&email, name, role, Some(org_id), &hash)?;
            ensure_user(store, &user, &mut summary).await?;
        }
    }
    let reviewer = demo_user(REVIEWER_EMAIL, REVIEWER_NAME, Role::Operator, None, &hash)?;
    ensure_user(store, &reviewer, &mut summary).await?;
    let operator = demo_user(OPERATOR_EMAIL, OPERATOR_NAME, Role::Operator, None, &hash)?;
    ensure_user(store, &operator, &mut summary).await?;
    audit_seed(store, &summary).await?;
    Ok(summary)
}

/// The demo's meetings, scheduled by the operator: SEGWARP's March and July
/// 2026 meetings in London with outlines of discussions like those SEGWARP
/// publishes (and minutes, members only), and the next meeting in the
/// usual March/July/November pattern with an agenda and 40 places.
/// Skipped when any meeting exists.
pub async fn seed_meetings(store: &Store) -> anyhow::Result<usize> {
    use chrono::{Datelike, TimeZone, Utc};
    use openwarp_core::meeting::{AgendaItemInput, MeetingInput, MinutesInput, parse_outline};
    let now = openwarp_store::now();
    if !store.list_meetings(false, now, 1).await?.is_empty()
        || !store.list_meetings(true, now, 1).await?.is_empty()
    {
        return Ok(0);
    }
    let operator = store
        .find_user_by_email(OPERATOR_EMAIL)
        .await?
        .context("the demo operator is missing")?
        .user;
    let at = |y: i32, m: u32, d: u32, h: u32| {
        Utc.with_ymd_and_hms(y, m, d, h, 0, 0)
            .single()
            .context("a valid demo meeting time")
    };
    let meeting = |title: &str, start: chrono::DateTime<Utc>, capacity: &str, description: &str| {
        MeetingInput {
            title: title.into(),
            starts_at: start.to_rfc3339(),
            ends_at: (start + Duration::hours(5) + Duration::minutes(30)).to_rfc3339(),
            venue: "Local Government House, Smith Square, London".into(),
            online_url: "https://meet.segwarp.example/members".into(),
            capacity: capacity.into(),
            description: description.into(),
        }
        .validate()
        .map_err(|e| anyhow::anyhow!("demo meeting: {e}"))
    };
    let past = [
        (
            "SEGWARP March 2026 meeting",
            at(2026, 3, 18, 10)?,
            "PSN compliance: what the latest health checks found\n\
             Cloud security: moving line-of-business systems to SaaS\n\
             Cyber Essentials for councils: scope and the supply chain\n\
             Incident lessons from a member: a compromised supplier account\n\
             The NCSC's Cyber Assessment Framework for local government",
            "Welcome and the WARP's report since November.\n\
             Discussed PSN compliance findings; two members will share their remediation plans.\n\
             A member described how a supplier's compromised account was used to send invoices \
             with changed bank details, and how it was caught.",
        ),
        (
            "SEGWARP July 2026 meeting",
            at(2026, 7, 15, 10)?,
            "Ransomware: rehearsing recovery with backups offline\n\
             Email security: DMARC at p=reject across members\n\
             Cyber Essentials Plus: members' experience of the assessment\n\
             Incident lessons from a member: phishing against payroll staff",
            "Members compared ransomware recovery exercises; three have tested restores from \
             offline backups this year.\n\
             DMARC: most members are at p=quarantine; the WARP will circulate a step-by-step note.",
        ),
    ];
    let mut created = 0;
    for (title, start, topics, minutes) in past {
        let m = store
            .create_meeting(
                &meeting(title, start, "", "Members' meeting.")?,
                operator.id,
                now,
            )
            .await?;
        let topics = parse_outline(topics).map_err(|e| anyhow::anyhow!("demo outline: {e}"))?;
        store.set_meeting_outline(m.id, &topics, now).await?;
        let minutes = MinutesInput {
            text: minutes.into(),
            tlp: "amber".into(),
        }
        .validate()
        .map_err(|e| anyhow::anyhow!("demo minutes: {e}"))?;
        store.set_meeting_minutes(m.id, &minutes, now).await?;
        created += 1;
    }
    // The next meeting in SEGWARP's pattern: the third week of March, July
    // or November, at least a week away.
    let mut next = None;
    'found: for year in now.year()..=now.year() + 1 {
        for month in [3, 7, 11] {
            let start = at(year, month, 18, 10)?;
            if start > now + Duration::days(7) {
                next = Some(start);
                break 'found;
            }
        }
    }
    let start = next.unwrap_or(now + Duration::days(60));
    let title = format!("SEGWARP {} meeting", start.format("%B %Y"));
    let upcoming = store
        .create_meeting(
            &meeting(
                &title,
                start,
                "40",
                "Lunch is provided. Bring photo ID for the building; tell us about dietary needs when you answer.",
            )?,
            operator.id,
            now,
        )
        .await?;
    let agenda = [
        ("Welcome and the WARP's report", "SEGWARP", "", "member"),
        (
            "Threat briefing for local government",
            "",
            "NCSC",
            "government",
        ),
        (
            "Securing Microsoft 365 tenancies: what we see in councils",
            "",
            "A managed security provider",
            "industry",
        ),
        ("Incident lessons from a member", "", "", "member"),
        ("Round table: members' news and questions", "", "", "member"),
    ];
    for (title, speaker, organisation, presenter) in agenda {
        let item = AgendaItemInput {
            title: title.into(),
            speaker: speaker.into(),
            organisation: organisation.into(),
            presenter: presenter.into(),
            position: String::new(),
        }
        .validate()
        .map_err(|e| anyhow::anyhow!("demo agenda item: {e}"))?;
        store.add_agenda_item(upcoming.id, &item, now).await?;
    }
    Ok(created + 1)
}

/// The demo's WARP advisories, written by the operator: one published by the
/// second operator after review (so it went to every member), one waiting
/// for review. Skipped when any WARP advisory exists. The invented content
/// follows the kind of notes SEGWARP sends; the CVE and links are real.
pub async fn seed_warp_advisories(store: &Store) -> anyhow::Result<usize> {
    use openwarp_core::warp_advisory::{LinkInput, WarpAdvisoryInput};
    let existing = store
        .warp_advisories(&openwarp_store::WarpAdvisoryFilter::default())
        .await?;
    if !existing.is_empty() {
        return Ok(0);
    }
    let author = store
        .find_user_by_email(OPERATOR_EMAIL)
        .await?
        .context("the demo operator is missing")?
        .user;
    let reviewer = match store.find_user_by_email(REVIEWER_EMAIL).await? {
        Some(u) => u.user,
        None => {
            let hash = demo_password_hash().await?;
            let user = demo_user(REVIEWER_EMAIL, REVIEWER_NAME, Role::Operator, None, &hash)?;
            store.create_user(&user, openwarp_store::now()).await?
        }
    };
    let now = openwarp_store::now();
    let published = WarpAdvisoryInput {
        title: "Payroll phishing: fake \"pay slip\" e-mails to council staff".into(),
        summary: "Two members report e-mails to finance and HR staff that imitate a payroll \
                  provider's pay-slip notice and lead to a credential-harvesting page. \
                  The sending domains change daily."
            .into(),
        action: "Warn finance and HR staff today; block the reported domains at the mail \
                 gateway; check sign-in logs for the accounts of anyone who clicked and \
                 reset their passwords."
            .into(),
        tlp: "green".into(),
        priority: "P2".into(),
        audience: "all".into(),
        products: Vec::new(),
        cves: Vec::new(),
        links: vec![LinkInput {
            label: "NCSC: phishing attacks — defending your organisation".into(),
            url: "https://www.ncsc.gov.uk/guidance/phishing".into(),
        }],
    }
    .validate()
    .map_err(|e| anyhow::anyhow!("demo WARP advisory: {e:?}"))?;
    let a = store
        .create_warp_advisory(&published, author.id, now)
        .await?;
    store.submit_warp_advisory(a.id, author.id, now).await?;
    store.publish_warp_advisory(a.id, reviewer.id, now).await?;

    let in_review = WarpAdvisoryInput {
        title: "FortiOS SSL-VPN: check for compromise, not only for the patch".into(),
        summary: "Attackers who exploited CVE-2024-21762 before patching kept access through \
                  symbolic links that survive upgrades. Councils running FortiGate SSL-VPN \
                  should look for them even where the fix is installed."
            .into(),
        action: "Upgrade to a fixed FortiOS release, then follow Fortinet's guidance on the \
                 symbolic-link persistence and reset VPN credentials if any is found."
            .into(),
        tlp: "amber".into(),
        priority: "P1".into(),
        audience: "products".into(),
        products: vec!["fortinet:fortios".into()],
        cves: vec!["CVE-2024-21762".into()],
        links: vec![LinkInput {
            label: "Fortinet PSIRT FG-IR-24-015".into(),
            url: "https://fortiguard.fortinet.com/psirt/FG-IR-24-015".into(),
        }],
    }
    .validate()
    .map_err(|e| anyhow::anyhow!("demo WARP advisory: {e:?}"))?;
    let b = store
        .create_warp_advisory(&in_review, author.id, now)
        .await?;
    store.submit_warp_advisory(b.id, author.id, now).await?;
    Ok(2)
}

/// The demo's group questions and polls: an open anonymous poll, a closed
/// named poll with its results, and a question to the group with a couple
/// of answers. Skipped when any poll exists.
pub async fn seed_polls(store: &Store) -> anyhow::Result<usize> {
    use openwarp_core::poll::{BallotInput, PollDraft, PollInput, PollKind};
    let operator = store
        .find_user_by_email(OPERATOR_EMAIL)
        .await?
        .context("the demo operator is missing")?
        .user;
    if !store.polls(operator.id, 1).await?.is_empty() {
        return Ok(0);
    }
    let member = |email: &'static str| async move {
        store
            .find_user_by_email(email)
            .await?
            .map(|u| u.user)
            .with_context(|| format!("the demo user {email} is missing"))
    };
    let kate = member("lead@kent.gov.uk").await?;
    let tom = member("user1@kent.gov.uk").await?;
    let medway = member("lead@medway.gov.uk").await?;
    let surrey = member("lead@surreycc.gov.uk").await?;
    let brighton = member("lead@brighton-hove.gov.uk").await?;
    let now = openwarp_store::now();
    let days = chrono::Duration::days;
    let invalid = |e| anyhow::anyhow!("demo poll: {e:?}");

    // Open, anonymous: a few have voted already.
    let filtering = PollInput {
        kind: "single".into(),
        question: "Which e-mail filtering service do you use?".into(),
        details: "We are comparing costs before renewals in the spring.".into(),
        options: vec![
            "Mimecast\nMicrosoft Defender for Office 365\nProofpoint\nSomething else".into(),
        ],
        closes_at: (now + days(21)).format("%Y-%m-%d").to_string(),
        anonymous: true,
    }
    .validate(now)
    .map_err(invalid)?;
    let (open, _) = store.create_poll(&filtering, kate.id, now).await?;
    for (voter, choice) in [(&medway, 0), (&surrey, 1), (&brighton, 1)] {
        store
            .cast_ballot(open.id, voter.id, BallotInput::Choices(vec![choice]), now)
            .await?;
    }

    // Closed, named: asked by an operator last month, with its results.
    let asked = now - days(40);
    let meeting = PollDraft {
        kind: PollKind::Multiple,
        question: "Which topics should the November meeting cover?".into(),
        details: "Choose as many as you like.".into(),
        options: vec![
            "PSN compliance".into(),
            "Cloud e-mail security".into(),
            "Cyber Assessment Framework for local government".into(),
            "Incident response exercises".into(),
        ],
        closes_at: Some(asked + days(14)),
        anonymous: false,
    };
    let (closed, _) = store.create_poll(&meeting, operator.id, asked).await?;
    for (voter, choices) in [
        (&kate, vec![1, 2]),
        (&medway, vec![2]),
        (&surrey, vec![0, 2, 3]),
        (&brighton, vec![3]),
    ] {
        store
            .cast_ballot(
                closed.id,
                voter.id,
                BallotInput::Choices(choices),
                asked + days(2),
            )
            .await?;
    }

    // A question to the group, named, with two answers.
    let question = PollInput {
        kind: "question".into(),
        question: "Has anyone moved their backups to immutable storage? What did you choose?"
            .into(),
        details: "Our insurer is asking about ransomware resilience.".into(),
        options: Vec::new(),
        closes_at: String::new(),
        anonymous: false,
    }
    .validate(now)
    .map_err(invalid)?;
    let (q, _) = store.create_poll(&question, tom.id, now - days(3)).await?;
    for (voter, answer) in [
        (
            &surrey,
            "Yes: object lock on our cloud backup copy, 30 days. Happy to share our test plan.",
        ),
        (
            &medway,
            "Not yet; we keep an offline tape copy weekly while we compare options.",
        ),
    ] {
        store
            .cast_ballot(
                q.id,
                voter.id,
                BallotInput::Answer(answer.into()),
                now - days(2),
            )
            .await?;
    }
    Ok(3)
}

/// The demo's news and library: two national updates in our own words and
/// a library of real public guidance (the NCSC, the LGA, the ICO, Action
/// Fraud, CISA) with tags. Each part is skipped when it already has
/// anything, so a second run adds nothing. Returns what was added.
/// The demo's discussion: topics PSN, Cloud, GDPR and Incidents, and a few
/// threads with replies between demo members (one thread locked by an
/// operator). Idempotent: does nothing if any topic exists. Returns the
/// posts written.
pub async fn seed_discussion(store: &Store) -> anyhow::Result<usize> {
    use openwarp_core::discussion::{validate_post, validate_thread, validate_topic};
    if !store.topics().await?.is_empty() {
        return Ok(0);
    }
    let member = |email: &'static str| async move {
        store
            .find_user_by_email(email)
            .await?
            .map(|u| u.user)
            .with_context(|| format!("the demo user {email} is missing"))
    };
    let operator = member(OPERATOR_EMAIL).await?;
    let kate = member("lead@kent.gov.uk").await?;
    let tom = member("user1@kent.gov.uk").await?;
    let medway = member("lead@medway.gov.uk").await?;
    let surrey = member("lead@surreycc.gov.uk").await?;
    let brighton = member("lead@brighton-hove.gov.uk").await?;
    let invalid = |e| anyhow::anyhow!("demo discussion: {e:?}");
    let now = openwarp_store::now();
    let hours = chrono::Duration::hours;

    let mut topics = std::collections::BTreeMap::new();
    for (name, description) in [
        (
            "PSN",
            "Public Services Network compliance: IT health checks, CoCo, remediation plans",
        ),
        (
            "Cloud",
            "Microsoft 365, cloud e-mail and SaaS: configuration, security and contracts",
        ),
        (
            "GDPR",
            "Data protection: DPIAs, breaches, the ICO and data sharing",
        ),
        (
            "Incidents",
            "Lessons from incidents and exercises (share details through Incidents, not here)",
        ),
    ] {
        let draft = validate_topic(name, description).map_err(invalid)?;
        let t = store
            .create_topic(&draft, operator.id, now - hours(24 * 30))
            .await?;
        topics.insert(name, t.id);
    }

    type Thread<'a> = (
        &'a str,
        &'a str,
        &'a openwarp_store::User,
        &'a str,
        Vec<(&'a openwarp_store::User, &'a str)>,
    );
    let threads: Vec<Thread> = vec![
        (
            "PSN",
            "IT health check scope for 2027",
            &kate,
            "Our ITHC supplier wants to include **all** of the corporate Wi-Fi this year. \
             Has anyone else had the scope widened, and did the PSN team accept a phased plan?",
            vec![
                (
                    &medway,
                    "Yes — we agreed a _phased_ remediation plan and the PSN team accepted it \
                           as long as high-risk items were fixed within 30 days.",
                ),
                (
                    &surrey,
                    "Same here. Keep the remediation action plan short and dated; \
                           they read the dates first.",
                ),
                (&kate, "Thanks both, that is really helpful."),
            ],
        ),
        (
            "Cloud",
            "Conditional access for members' devices",
            &brighton,
            "How are councils handling councillors' own devices in Microsoft 365? \
             We are looking at:\n\n- app protection policies\n- web-only access to e-mail\n- full enrolment",
            vec![
                (
                    &tom,
                    "We went web-only for personal devices. Councillors barely noticed. \
                        See the [NCSC device guidance](https://www.ncsc.gov.uk/collection/device-security-guidance).",
                ),
                (
                    &medway,
                    "App protection policies for us, with a PIN. Enrolment was a hard sell.",
                ),
            ],
        ),
        (
            "GDPR",
            "DPIA template for CCTV upgrades",
            &surrey,
            "Does anyone have a DPIA template they are happy to share for a CCTV upgrade \
             with number-plate recognition?",
            vec![(
                &kate,
                "I will bring ours to the next meeting; it was reviewed by our DPO last year.",
            )],
        ),
        (
            "Incidents",
            "Tabletop exercise: ransomware on a Friday night",
            &operator,
            "The WARP ran a tabletop exercise last month. Three lessons: **know who can authorise \
             taking systems offline**, keep offline copies of contact lists, and rehearse the \
             press statement.",
            vec![(
                &medway,
                "We found the same about contact lists — ours were only in SharePoint.",
            )],
        ),
    ];

    let mut posts = 0;
    let mut at = now - hours(24 * 20);
    for (topic, title, by, body, replies) in threads {
        let draft = validate_thread(title, body).map_err(invalid)?;
        let (id, _) = store
            .create_thread(topics[topic], &draft, by.id, at)
            .await?;
        posts += 1;
        for (who, text) in replies {
            at += hours(5);
            let text = validate_post(text).map_err(invalid)?;
            store
                .reply(id, &text, who.id, at)
                .await
                .map_err(|e| anyhow::anyhow!("demo reply: {e}"))?;
            posts += 1;
        }
        if topic == "Incidents" {
            store.set_thread_locked(id, true, operator.id, at).await?;
        }
        at += hours(24);
    }
    Ok(posts)
}

pub async fn seed_news_and_links(store: &Store) -> anyhow::Result<usize> {
    use openwarp_core::news::{LinkInput, NewsInput};
    let operator = store
        .find_user_by_email(OPERATOR_EMAIL)
        .await?
        .context("the demo operator is missing")?
        .user;
    let now = openwarp_store::now();
    let invalid = |e| anyhow::anyhow!("demo news: {e:?}");
    let mut added = 0;
    if store.news(true, 1).await?.is_empty() {
        let items = [
            (
                Duration::days(21),
                "Cyber Essentials: check the requirements before you renew",
                "The Cyber Essentials requirements for IT infrastructure are revised from time to time, \
                 and an assessment follows the version in force when it starts. If your certificate \
                 is due for renewal, read the current requirements first.\n\n\
                 Points that catch councils out: every cloud service in scope needs multi-factor \
                 authentication where the service offers it, unsupported software must be removed \
                 or put out of scope, and critical or high-risk updates must be applied within 14 days \
                 of release.\n\n\
                 If you want to compare notes with another member before your assessment, ask the \
                 group on the Polls page.",
                "https://www.ncsc.gov.uk/cyberessentials/overview",
            ),
            (
                Duration::days(3),
                "The NCSC's Cyber Assessment Framework and local government",
                "The Cyber Assessment Framework (CAF) is the NCSC's set of outcomes for organisations \
                 that run important services: managing security risk, protecting against attack, \
                 detecting events and minimising the impact of incidents. Work to use it as the basis \
                 of cyber assurance for English councils continues, with a profile setting out what \
                 good looks like for local government.\n\n\
                 The CAF asks for evidence of outcomes rather than a checklist, so the work is in \
                 knowing your essential functions and the systems behind them. Your inventory in \
                 openwarp is a good start.\n\n\
                 We will discuss experiences of self-assessment at the next meeting. The framework, \
                 its guidance and the indicators of good practice are in the library under the tag \"caf\".",
                "https://www.ncsc.gov.uk/collection/cyber-assessment-framework",
            ),
        ];
        for (ago, title, body, source) in items {
            let draft = NewsInput {
                title: title.into(),
                body: body.into(),
                source_url: source.into(),
                published: true,
            }
            .validate()
            .map_err(invalid)?;
            store.create_news(&draft, operator.id, now - ago).await?;
            added += 1;
        }
    }
    if store.links(&Default::default()).await?.is_empty() {
        let links = [
            (
                "Cyber Assessment Framework (CAF)",
                "https://www.ncsc.gov.uk/collection/cyber-assessment-framework",
                "The NCSC's outcomes for organisations that run essential functions, with guidance \
                 and indicators of good practice for self-assessment.",
                "ncsc caf assurance governance",
                "guidance",
            ),
            (
                "10 Steps to Cyber Security",
                "https://www.ncsc.gov.uk/collection/10-steps",
                "The NCSC's summary of what an organisation should do to protect itself, from risk \
                 management to incident management.",
                "ncsc governance risk",
                "guidance",
            ),
            (
                "Cyber Security Board Toolkit",
                "https://www.ncsc.gov.uk/collection/board-toolkit",
                "Helps boards and senior leaders, and councillors, discuss cyber security with \
                 their technical teams.",
                "ncsc board governance councillors",
                "guidance",
            ),
            (
                "Cyber Essentials",
                "https://www.ncsc.gov.uk/cyberessentials/overview",
                "The government-backed scheme of basic technical controls, and how to be certified.",
                "ncsc cyber-essentials certification",
                "guidance",
            ),
            (
                "LGA: cyber security",
                "https://www.local.gov.uk/our-support/cyber-digital-and-technology/cyber-security",
                "The Local Government Association's cyber security support for councils.",
                "lga local-government",
                "link",
            ),
            (
                "ICO: report a personal data breach",
                "https://ico.org.uk/for-organisations/report-a-breach/",
                "Reportable breaches go to the ICO within 72 hours of becoming aware of them.",
                "ico gdpr incident-response",
                "link",
            ),
            (
                "Action Fraud",
                "https://www.actionfraud.police.uk/",
                "The national reporting centre for fraud and cyber crime in England, Wales and \
                 Northern Ireland.",
                "police reporting incident-response",
                "link",
            ),
            (
                "CISA Known Exploited Vulnerabilities catalog",
                "https://www.cisa.gov/known-exploited-vulnerabilities-catalog",
                "Vulnerabilities known to be exploited in the wild; openwarp raises an exposure's \
                 priority when its CVE is listed here.",
                "cisa kev vulnerabilities",
                "link",
            ),
            (
                "NCSC Early Warning",
                "https://www.ncsc.gov.uk/information/early-warning-service",
                "A free NCSC service that tells UK organisations about potential attacks and \
                 vulnerable services on their networks.",
                "ncsc monitoring vulnerabilities",
                "link",
            ),
        ];
        for (title, url, description, tags, kind) in links {
            let draft = LinkInput {
                title: title.into(),
                url: url.into(),
                description: description.into(),
                tags: tags.into(),
                kind: kind.into(),
            }
            .validate()
            .map_err(invalid)?;
            store.create_link(&draft, operator.id, now).await?;
            added += 1;
        }
    }
    Ok(added)
}

/// The demo's incidents, as the Kent case went: a borough council reports a
/// compromise of the shared ICT service it uses, at TLP:AMBER with personal
/// data involved (the ICO clock runs), and the other councils using that
/// service are warned at once without being told who reported it. Plus a
/// closed phishing incident whose sanitised version and lessons learnt were
/// shared with every member. Skipped when any incident exists.
pub async fn seed_incidents(store: &Store, region: &str) -> anyhow::Result<usize> {
    use openwarp_core::incident::{IncidentInput, SanitisedInput};
    if !store
        .incidents(&openwarp_store::IncidentFilter {
            all: true,
            limit: Some(1),
            ..Default::default()
        })
        .await?
        .is_empty()
    {
        return Ok(0);
    }
    let now = openwarp_store::now();
    let member = |org: &'static str| async move {
        let o = store
            .find_org_by_name(org)
            .await?
            .with_context(|| format!("{org} is missing"))?;
        let user = store
            .list_users(Some(o.id))
            .await?
            .into_iter()
            .find(|u| u.role == Role::MemberUser)
            .with_context(|| format!("{org} has no member user"))?;
        anyhow::Ok((o.id, user.id))
    };
    let time = |hours_ago: i64| {
        (now - Duration::hours(hours_ago))
            .format("%Y-%m-%dT%H:%M")
            .to_string()
    };

    let (maidstone, reporter) = member("Maidstone Borough Council").await?;
    let kent_case = IncidentInput {
        title: "Ransomware through the shared ICT service".into(),
        summary: "File and application servers hosted by Mid Kent ICT were encrypted overnight. \
                  The service desk's remote-support tool was used to reach them. Council tax and \
                  benefits records are on the affected servers. Services are down; the supplier is \
                  restoring from backups."
            .into(),
        category: "supplier_compromise".into(),
        started_at: time(30),
        detected_at: time(20),
        affected_services: "Council tax, benefits, planning portal".into(),
        supplier: "Mid Kent ICT".into(),
        personal_data: true,
        status: "open".into(),
        indicators: vec![
            "203.0.113.47\nupdate-remote-support.example\n\
                          5f4dcc3b5aa765d61d8327deb882cf99a1f1e0b7c2a4f1d9e8b7c6a5d4e3f201"
                .into(),
        ],
        tlp: "amber".into(),
    }
    .validate(now)
    .map_err(|e| anyhow::anyhow!("demo incident: {e:?}"))?;
    store
        .create_incident(maidstone, reporter, &kent_case, region, now)
        .await?;

    let (canterbury, reporter) = member("Canterbury City Council").await?;
    let phishing = IncidentInput {
        title: "Invoice-fraud e-mails from a compromised supplier mailbox".into(),
        summary: "A regular supplier's mailbox was compromised and sent our accounts payable team \
                  a request to change bank details. The change was caught by a call-back check; no \
                  payment was made."
            .into(),
        category: "phishing_bec".into(),
        started_at: time(24 * 40),
        detected_at: time(24 * 40 - 3),
        affected_services: "Accounts payable".into(),
        supplier: String::new(),
        personal_data: false,
        status: "closed".into(),
        indicators: vec!["accounts@supplier-payments.example".into()],
        tlp: "amber".into(),
    }
    .validate(now)
    .map_err(|e| anyhow::anyhow!("demo incident: {e:?}"))?;
    let inc = store
        .create_incident(
            canterbury,
            reporter,
            &phishing,
            region,
            now - Duration::days(40),
        )
        .await?;
    let sanitised = SanitisedInput {
        title: "Bank-detail change request from a compromised supplier mailbox".into(),
        summary:
            "A member received a convincing request to change a supplier's bank details, sent \
                  from the supplier's real (compromised) mailbox. A call-back to a known number \
                  stopped it."
                .into(),
        tlp: "green".into(),
        attribution: "anonymous".into(),
        share_indicators: true,
        ..SanitisedInput::default()
    }
    .validate()
    .map_err(|e| anyhow::anyhow!("demo sanitised version: {e:?}"))?;
    store
        .set_sanitised_version(
            &inc.public_id,
            &sanitised,
            true,
            reporter,
            now - Duration::days(39),
        )
        .await?;
    store
        .set_lessons(
            &inc.public_id,
            "Never act on a bank-detail change without calling the supplier on a number you already \
             hold. Treat urgency in a payment request as a warning sign, and tell the WARP: others \
             may be targeted by the same mailbox.",
            true,
            reporter,
            now - Duration::days(30),
        )
        .await?;
    Ok(2)
}

/// Give every demo organisation its estate and suppliers (skipping any that
/// already have an inventory). Returns how many items were added.
pub async fn seed_estates(store: &Store) -> anyhow::Result<usize> {
    let mut added = 0;
    for (index, org) in ORGS.iter().enumerate() {
        if let Some(found) = store
            .find_org_by_name(org.name)
            .await
            .with_context(|| format!("looking up {}", org.name))?
        {
            added += crate::demo_estate::seed(store, found.id, org.name, index).await?;
        }
    }
    Ok(added)
}

/// One argon2 hash for every demo account: hashing is slow by design, and
/// doing it ~60 times would make the demo take seconds to start.
async fn demo_password_hash() -> anyhow::Result<String> {
    let email =
        Email::parse(OPERATOR_EMAIL).map_err(|e| anyhow::anyhow!("demo operator e-mail: {e}"))?;
    let password =
        Password::new(DEMO_PASSWORD, &email).map_err(|e| anyhow::anyhow!("demo password: {e}"))?;
    tokio::task::spawn_blocking(move || crypto::hash_password(&password))
        .await
        .context("hashing the demo password")?
        .context("hashing the demo password")
}

async fn user_exists(store: &Store, email: &str) -> anyhow::Result<bool> {
    Ok(store
        .find_user_by_email(email)
        .await
        .with_context(|| format!("looking up {email}"))?
        .is_some())
}

/// The organisation's id, creating it first if it is not there yet.
async fn ensure_org(
    store: &Store,
    org: &DemoOrg,
    index: usize,
    today: NaiveDate,
    summary: &mut SeedSummary,
) -> anyhow::Result<OrgId> {
    let existing = store
        .find_org_by_name(org.name)
        .await
        .with_context(|| format!("looking up {}", org.name))?;
    if let Some(found) = existing {
        return Ok(found.id);
    }
    let created = store
        .create_org(&draft(org, index, today), openwarp_store::now())
        .await
        .with_context(|| format!("creating {}", org.name))?;
    summary.organisations_created += 1;
    Ok(created.id)
}

/// The stored form of a demo organisation, with plausible governance contacts.
fn draft(org: &DemoOrg, index: usize, today: NaiveDate) -> OrganisationDraft {
    OrganisationDraft {
        name: org.name.to_string(),
        council_type: org.kind,
        employers_member: org.employers_member,
        status: org.status,
        renewal_date: today + Duration::days(org.renewal_in_days),
        governance: Governance {
            senior_officer: Contact {
                name: org.senior_officer.to_string(),
                email: format!("{}@{}", dotted(org.senior_officer), org.domain),
                phone: drama_phone(index * 2),
            },
            lead_member: Contact {
                name: format!("Cllr {}", org.lead_member),
                email: format!("cllr.{}@{}", dotted(org.lead_member), org.domain),
                phone: drama_phone(index * 2 + 1),
            },
        },
    }
}

/// `"Sunita Sparrow"` → `"sunita.sparrow"`, for an e-mail local part.
fn dotted(name: &str) -> String {
    name.split_whitespace()
        .map(|w| {
            w.chars()
                .filter(char::is_ascii_alphanumeric)
                .collect::<String>()
        })
        .collect::<Vec<_>>()
        .join(".")
        .to_lowercase()
}

/// A number from Ofcom's drama range, so no real telephone ever rings.
fn drama_phone(n: usize) -> String {
    format!("01632 960{:03}", n % 1000)
}

/// The organisation's demo accounts: its member lead, then its member users.
fn org_people(org: &DemoOrg) -> Vec<(String, &'static str, Role)> {
    let lead = (format!("lead@{}", org.domain), org.lead, Role::MemberLead);
    let users = org.users.iter().enumerate().map(|(i, name)| {
        (
            format!("user{}@{}", i + 1, org.domain),
            *name,
            Role::MemberUser,
        )
    });
    std::iter::once(lead).chain(users).collect()
}

/// A demo account sharing the pre-computed password hash.
fn demo_user(
    email: &str,
    name: &str,
    role: Role,
    org_id: Option<OrgId>,
    hash: &str,
) -> anyhow::Result<NewUser> {
    Ok(NewUser {
        email: Email::parse(email).map_err(|e| anyhow::anyhow!("demo e-mail {email}: {e}"))?,
        display_name: name.to_string(),
        role,
        org_id,
        password_hash: hash.to_string(),
    })
}

/// Create `user` unless an account with that e-mail address exists.
async fn ensure_user(
    store: &Store,
    user: &NewUser,
    summary: &mut SeedSummary,
) -> anyhow::Result<()> {
    if user_exists(store, user.email.as_str()).await? {
        return Ok(());
    }
    store
        .create_user(user, openwarp_store::now())
        .await
        .with_context(|| format!("creating {}", user.email))?;
    summary.users_created += 1;
    Ok(())
}

/// Leave a trace in the audit log, so the demo's history starts with its seeding.
async fn audit_seed(store: &Store, summary: &SeedSummary) -> anyhow::Result<()> {
    let entry = AuditEntry {
        actor_user_id: None,
        actor: "cli",
        action: "demo.seed",
        org_id: None,
        target: "demo",
        detail: serde_json::json!({
            "organisations_created": summary.organisations_created,
            "users_created": summary.users_created,
        }),
        ip: None,
    };
    store
        .audit(entry, openwarp_store::now())
        .await
        .context("writing the audit entry demo.seed")
}

/// The accounts to show on start-up: the operator, two member leads (a county
/// and a district, to show the tenant boundary) and one member user.
pub fn sign_ins() -> Vec<SignIn> {
    let account = |role, email: &str, organisation| SignIn {
        role,
        email: email.to_string(),
        organisation,
    };
    vec![
        account(Role::Operator, OPERATOR_EMAIL, None),
        account(Role::Operator, REVIEWER_EMAIL, None),
        account(
            Role::MemberLead,
            "lead@kent.gov.uk",
            Some("Kent County Council"),
        ),
        account(
            Role::MemberLead,
            "lead@ashford.gov.uk",
            Some("Ashford Borough Council"),
        ),
        account(
            Role::MemberUser,
            "user1@kent.gov.uk",
            Some("Kent County Council"),
        ),
    ]
}

/// One line on what seeding did.
fn describe(summary: &SeedSummary, database_url: &str) -> String {
    let database = openwarp_store::redact_url(database_url);
    if summary.already_seeded {
        format!("demo data already present in {database}; not seeding again")
    } else {
        format!(
            "seeded {} organisations and {} users into {database}",
            summary.organisations_created, summary.users_created
        )
    }
}

/// The start-up message: where to go and how to sign in.
fn banner(url: &str, database_url: &str) -> String {
    let mut text = format!("openwarp demo is running at {url}\n");
    for s in sign_ins() {
        let role = match s.role {
            Role::Operator => "operator",
            Role::MemberLead => "member lead",
            Role::MemberUser => "member user",
        };
        let org = s.organisation.map(|o| format!("({o})")).unwrap_or_default();
        let line = format!("  {role:<12} {:<24} {org}", s.email);
        text.push_str(line.trim_end());
        text.push('\n');
    }
    text.push_str(&format!(
        "  password for all demo accounts: {DEMO_PASSWORD}\n"
    ));
    text.push_str("  to watch CISA add a vulnerability the councils run, and the alerts go out:\n");
    text.push_str(&format!(
        "    OPENWARP_DATABASE_URL={} openwarp ingest crates/openwarp/demo/kev-new-entry-fortios.json\n",
        openwarp_store::redact_url(database_url)
    ));
    text.push_str("  press Ctrl-C to stop");
    text
}

// Assessments (issue 8)
/// A number in `0..1000` from `text`, the same on every run (FNV-1a): the
/// demo's answers look varied but are reproducible.
fn demo_roll(text: &str) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in text.bytes() {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h % 1000
}

/// A year of self-assessments: most members submitted about eleven and
/// about four months ago, improving in between; a few submitted only once,
/// more than a year ago (overdue), and a few never did — enough
/// organisations for the regional benchmark to show. Kent's working copy
/// has moved on since its last submission with three questions still to
/// answer, so its lead can complete and submit one. Idempotent: does
/// nothing if any member has submitted. Returns the submissions made.
pub async fn seed_assessments(store: &Store) -> anyhow::Result<usize> {
    use openwarp_core::assessment::framework::{SHIPPED_FILE, SHIPPED_SOURCE};
    use openwarp_core::assessment::{Answer, Answers, Framework, Grade};
    let framework = Framework::shipped().map_err(|e| anyhow::anyhow!("{e}"))?;
    if !store.region_submissions(&framework.id).await?.is_empty() {
        return Ok(0);
    }
    let now = openwarp_store::now();
    let answers = |org: &str, maturity: u64, round: u64| -> Answers {
        framework
            .questions()
            .map(|p| {
                let roll = demo_roll(&format!("{org}/{}/{round}", p.question.id));
                let bar = maturity + 120 * round;
                let grade = if roll + 150 < bar {
                    Grade::Achieved
                } else if roll < bar + 150 {
                    Grade::PartiallyAchieved
                } else {
                    Grade::NotAchieved
                };
                let evidence = if p.question.governance && grade != Grade::NotAchieved {
                    "Recorded in the constitution and the annual governance statement.".to_string()
                } else {
                    String::new()
                };
                (
                    p.question.id.clone(),
                    Answer {
                        grade: Some(grade),
                        evidence,
                    },
                )
            })
            .collect()
    };
    let mut made = 0;
    for (i, org) in ORGS.iter().enumerate() {
        // Rounds as days ago; none for those who never submitted.
        let rounds: &[i64] = match i % 7 {
            3 => &[],
            5 => &[450],
            1 => &[240],
            _ => &[330, 120],
        };
        if rounds.is_empty() {
            continue;
        }
        let Some(o) = store.find_org_by_name(org.name).await? else {
            continue;
        };
        let lead = store
            .find_user_by_email(&format!("lead@{}", org.domain))
            .await?
            .map(|u| u.user)
            .with_context(|| format!("the demo lead of {} is missing", org.name))?;
        let maturity = 250 + demo_roll(org.name) % 450;
        for (round, days) in rounds.iter().enumerate() {
            let at = now - Duration::days(*days);
            store
                .save_assessment_answers(
                    o.id,
                    &framework.id,
                    &answers(org.name, maturity, round as u64),
                    lead.id,
                    at,
                )
                .await?;
            store
                .submit_assessment(o.id, &framework, SHIPPED_FILE, SHIPPED_SOURCE, lead.id, at)
                .await
                .map_err(|e| anyhow::anyhow!("demo assessment for {}: {e}", org.name))?;
            made += 1;
        }
        if i == 0 {
            // Kent has started this year's: better, but three questions to go.
            let mut next = answers(org.name, maturity, rounds.len() as u64);
            for q in ["D1.b.1", "D1.c.1", "D2.a.1"] {
                if let Some(a) = next.get_mut(q) {
                    a.grade = None;
                }
            }
            store
                .save_assessment_answers(
                    o.id,
                    &framework.id,
                    &next,
                    lead.id,
                    now - Duration::days(2),
                )
                .await?;
        }
    }
    Ok(made)
}
// End of assessments (issue 8)

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    fn today() -> NaiveDate {
        NaiveDate::from_ymd_opt(2026, 5, 1).expect("valid date")
    }

    #[tokio::test]
    async fn demo_advisories_load_cleanly_and_idempotently() {
        let db = openwarp_store::testing::sqlite().await;
        let first = ingest_advisories(&db.store).await.expect("load");
        assert!(first.problems.is_empty(), "{first}");
        assert_eq!(first.files, DEMO_ADVISORIES.len());
        assert!(first.counts.new >= 60, "{first}");
        assert_eq!(first.epss, 21);
        let again = ingest_advisories(&db.store).await.expect("reload");
        assert_eq!((again.counts.new, again.counts.changed), (0, 0), "{again}");
        // A widely exploited CVE shows every source side by side.
        let moveit = db
            .store
            .advisory("CVE-2023-34362")
            .await
            .expect("get")
            .expect("MOVEit");
        assert!(moveit.row.kev_date_added.is_some());
        assert!(moveit.row.epss_score.is_some());
        let sources: Vec<_> = db
            .store
            .advisory_counts()
            .await
            .expect("counts")
            .into_iter()
            .map(|(s, _)| s)
            .collect();
        assert_eq!(sources, ["csaf", "cve5", "kev", "nvd", "osv"]);
    }

    #[test]
    fn demo_data_is_valid_and_varied() {
        assert!((24..=28).contains(&ORGS.len()), "{}", ORGS.len());
        let names: HashSet<_> = ORGS.iter().map(|o| o.name).collect();
        assert_eq!(names.len(), ORGS.len(), "organisation names are unique");
        let domains: HashSet<_> = ORGS.iter().map(|o| o.domain).collect();
        assert_eq!(domains.len(), ORGS.len(), "e-mail domains are unique");
        for (i, org) in ORGS.iter().enumerate() {
            let d = draft(org, i, today());
            let input = openwarp_core::membership::OrganisationInput::from(&d);
            assert_eq!(input.validate().as_ref(), Ok(&d), "{} validates", org.name);
            assert!((1..=2).contains(&org.users.len()), "{}", org.name);
            for (email, name, _) in org_people(org) {
                assert!(Email::parse(&email).is_ok(), "{email}");
                assert!(openwarp_core::account::display_name(name).is_ok());
            }
        }
        let email = Email::parse(OPERATOR_EMAIL).expect("operator e-mail");
        assert!(Password::new(DEMO_PASSWORD, &email).is_ok());
    }

    #[test]
    fn renewals_need_attention_somewhere_but_not_everywhere() {
        use openwarp_core::RenewalState;
        let states: Vec<_> = ORGS
            .iter()
            .map(|o| RenewalState::of(today() + Duration::days(o.renewal_in_days), today()))
            .collect();
        let overdue = states
            .iter()
            .filter(|s| matches!(s, RenewalState::Overdue(_)))
            .count();
        let due = states
            .iter()
            .filter(|s| matches!(s, RenewalState::DueSoon(_)))
            .count();
        assert!(
            overdue >= 2 && due >= 4,
            "overdue {overdue}, due soon {due}"
        );
        assert!(states.iter().filter(|s| !s.needs_attention()).count() > ORGS.len() / 2);
    }

    #[test]
    fn banner_lists_the_sign_ins_and_password() {
        let text = banner("http://127.0.0.1:8080", "sqlite://openwarp-demo.db");
        assert!(text.starts_with("openwarp demo is running at http://127.0.0.1:8080\n"));
        assert!(
            text.contains("  operator     operator@segwarp.example\n"),
            "{text}"
        );
        assert!(
            text.contains("  member lead  lead@kent.gov.uk         (Kent County Council)\n"),
            "{text}"
        );
        assert!(text.contains("  member user  user1@kent.gov.uk"), "{text}");
        assert!(text.contains("password for all demo accounts: warp-demo-2026!"));
        assert!(text.contains(
            "OPENWARP_DATABASE_URL=sqlite://openwarp-demo.db openwarp ingest crates/openwarp/demo/kev-new-entry-fortios.json"
        ));
    }

    #[test]
    fn public_url_is_browsable() {
        let any: SocketAddr = "0.0.0.0:8080".parse().expect("address");
        assert_eq!(public_url(any), "http://127.0.0.1:8080");
        let local: SocketAddr = "127.0.0.1:18080".parse().expect("address");
        let config = demo_config("sqlite://x.db", local);
        assert_eq!(config.public_url, "http://127.0.0.1:18080");
        assert_eq!(config.warp.name, "SEGWARP");
        assert_eq!(config.warp.region, "South East England");
        assert!(config.validate().is_ok());
    }

    #[tokio::test]
    async fn demo_members_see_prioritised_exposures_with_reasons() {
        let db = openwarp_store::testing::sqlite().await;
        let store = &db.store;
        seed(store, today()).await.expect("seed");
        let items = seed_estates(store).await.expect("estates");
        assert!(items > 26 * 8, "{items}");
        assert_eq!(seed_estates(store).await.expect("again"), 0, "idempotent");
        ingest_advisories(store).await.expect("advisories");
        let kent = store
            .find_org_by_name("Kent County Council")
            .await
            .expect("lookup")
            .expect("kent");
        let xs = store
            .list_exposures(kent.id, &openwarp_store::ExposureFilter::default())
            .await
            .expect("exposures");
        assert!(xs.len() >= 5, "{}", xs.len());
        // Most urgent first, each with its reason and line.
        assert!(xs.windows(2).all(|w| w[0].priority <= w[1].priority));
        assert_eq!(xs[0].priority, openwarp_matching::priority::Priority::P1);
        assert!(
            xs[0]
                .reason_sentence()
                .starts_with("P1 because it is being exploited")
        );
        // Windows Server 2019 build 5458 is before both fixes.
        for cve in ["CVE-2024-30051", "CVE-2024-38063"] {
            let x = xs
                .iter()
                .find(|x| x.vuln_id == cve && x.item_name == "File and print servers")
                .unwrap_or_else(|| panic!("{cve} on the file servers"));
            assert!(
                x.line.contains("affects your File and print servers"),
                "{}",
                x.line
            );
        }
        // The patched firewall and build server are not exposed.
        assert!(!xs.iter().any(|x| x.item_name.ends_with("(patched)")));
        // Every member with an inventory sees something, operators see who.
        let who = store
            .advisory_exposure("CVE-2024-38063")
            .await
            .expect("who");
        assert_eq!(who.len(), 26);
        let shared = store
            .members_using_supplier("Mid Kent ICT")
            .await
            .expect("supplier");
        assert_eq!(shared.len(), 3);
    }

    #[tokio::test]
    async fn a_new_kev_entry_alerts_the_members_running_it_once() {
        use openwarp_store::{AlertKind, DeliveryFilter};
        let db = openwarp_store::testing::sqlite().await;
        let store = &db.store;
        seed(store, today()).await.expect("seed");
        seed_estates(store).await.expect("estates");
        ingest_advisories(&store.without_alerts())
            .await
            .expect("advisories");
        let none = store
            .deliveries(&DeliveryFilter::default())
            .await
            .expect("deliveries");
        assert!(none.is_empty(), "the baseline alerts nobody: {none:?}");

        async fn ingest(
            store: &Store,
            known: &mut openwarp_store::KnownRecords,
        ) -> openwarp_feeds::FileReport {
            let (name, bytes) = KEV_NEW_ENTRY;
            openwarp_feeds::ingest_bytes(
                store,
                name,
                bytes.to_vec(),
                known,
                openwarp_feeds::IngestOptions::default(),
                &(),
            )
            .await
        }
        let mut known = openwarp_store::KnownRecords::default();
        let report = ingest(store, &mut known).await;
        assert!(report.error.is_none(), "{:?}", report.error);
        assert_eq!(report.counts.new, 1, "{:?}", report.counts);

        let kent = store
            .find_org_by_name("Kent County Council")
            .await
            .expect("lookup")
            .expect("kent");
        let alerts = store.alerts_for_org(kent.id, 10).await.expect("alerts");
        assert_eq!(alerts.len(), 1, "{alerts:#?}");
        let a = &alerts[0];
        assert_eq!(a.kind, AlertKind::Update);
        assert_eq!(a.vuln_id.as_deref(), Some("CVE-2024-21762"));
        assert_eq!(a.priority, openwarp_matching::priority::Priority::P1);
        assert_eq!(a.tlp, openwarp_core::TlpLabel::Clear);
        assert!(
            a.content.changes.iter().any(|c| c.starts_with(
                "Added to CISA's Known Exploited Vulnerabilities catalogue"
            )),
            "{:?}",
            a.content.changes
        );
        assert!(
            a.content.reason.starts_with("P1 because"),
            "{}",
            a.content.reason
        );
        assert!(
            a.content
                .path
                .starts_with(&format!("/orgs/{}/exposure/", kent.id.0))
        );
        // Every Kent user with default preferences (P1 at once) is queued once.
        let kent_deliveries = store
            .deliveries(&DeliveryFilter {
                org: Some(kent.id),
                ..DeliveryFilter::default()
            })
            .await
            .expect("deliveries");
        let users = store.list_users(Some(kent.id)).await.expect("users");
        assert_eq!(kent_deliveries.len(), users.len());
        let mut recipients: Vec<&str> = kent_deliveries
            .iter()
            .map(|d| d.recipient.as_str())
            .collect();
        recipients.sort_unstable();
        recipients.dedup();
        assert_eq!(recipients.len(), users.len(), "one delivery per user");

        // Hearing it again is not news.
        let before = store
            .deliveries(&DeliveryFilter::default())
            .await
            .expect("all");
        let mut fresh = openwarp_store::KnownRecords::default();
        ingest(store, &mut fresh).await;
        ingest_advisories(store).await.expect("advisories again");
        let after = store
            .deliveries(&DeliveryFilter::default())
            .await
            .expect("all");
        assert_eq!(before.len(), after.len());
    }

    /// Issue 5's "done when": in the demo, a new KEV entry that hits a seeded
    /// inventory produces one e-mail per named user of each council running
    /// it, read back from a real SMTP server, with the right priority,
    /// reason and TLP — and ingesting it again sends nothing more.
    #[tokio::test]
    async fn a_new_kev_entry_reaches_each_named_user_by_email_once() {
        use openwarp_alerts::testing::SmtpServer;
        use openwarp_alerts::{AlertsConfig, SmtpConfig, SmtpSecurity, deliver_due};
        let Some(smtp) = SmtpServer::start() else {
            return;
        };
        let db = openwarp_store::testing::sqlite().await;
        let store = &db.store;
        seed(store, today()).await.expect("seed");
        seed_estates(store).await.expect("estates");
        ingest_advisories(&store.without_alerts())
            .await
            .expect("advisories");
        async fn ingest_kev(store: &Store) -> openwarp_feeds::FileReport {
            let (name, bytes) = KEV_NEW_ENTRY;
            openwarp_feeds::ingest_bytes(
                store,
                name,
                bytes.to_vec(),
                &mut openwarp_store::KnownRecords::default(),
                openwarp_feeds::IngestOptions::default(),
                &(),
            )
            .await
        }
        assert!(ingest_kev(store).await.error.is_none());

        let mut cfg = AlertsConfig::new("http://127.0.0.1:8080", "SEGWARP");
        cfg.smtp = Some(SmtpConfig {
            host: "127.0.0.1".into(),
            port: smtp.port(),
            security: SmtpSecurity::None,
            username: None,
            password: None,
            from_address: "alerts@segwarp.example".into(),
            from_name: Some("SEGWARP alerts".into()),
            timeout_seconds: 10,
        });
        let pending = store.delivery_counts().await.expect("counts").pending;
        assert!(pending > 0);
        loop {
            let c = deliver_due(store, &cfg, openwarp_store::now())
                .await
                .expect("deliver");
            if c.claimed == 0 {
                break;
            }
        }
        let raw = smtp
            .wait_for(pending as usize, std::time::Duration::from_secs(30))
            .await;
        assert_eq!(
            raw.len(),
            pending as usize,
            "one message per queued delivery"
        );

        let kent = store
            .find_org_by_name("Kent County Council")
            .await
            .expect("lookup")
            .expect("kent");
        let kent_users = store.list_users(Some(kent.id)).await.expect("users");
        let mut seen_to = std::collections::BTreeMap::new();
        for bytes in &raw {
            let m = mail_parser::MessageParser::default()
                .parse(bytes)
                .expect("a parsable message");
            let to = m
                .to()
                .and_then(|a| a.first())
                .and_then(|a| a.address())
                .unwrap_or_default()
                .to_string();
            *seen_to.entry(to.clone()).or_insert(0) += 1;
            if !to.ends_with("@kent.gov.uk") {
                continue;
            }
            let subject = m.subject().unwrap_or_default();
            assert!(
                subject.starts_with("[TLP:CLEAR] P1: Update: CVE-2024-21762"),
                "{subject}"
            );
            let text = m.body_text(0).expect("a text part");
            let html = m.body_html(0).expect("an HTML part");
            for part in [text.as_ref(), html.as_ref()] {
                assert!(part.contains("TLP:CLEAR"), "{part}");
                assert!(part.contains("P1 because"), "{part}");
                assert!(part.contains("Known Exploited Vulnerabilities"), "{part}");
            }
        }
        for u in &kent_users {
            assert_eq!(
                seen_to.get(&u.email),
                Some(&1),
                "{} gets one e-mail",
                u.email
            );
        }
        assert!(
            seen_to.values().all(|n| *n == 1),
            "nobody twice: {seen_to:?}"
        );

        // The same entry again, then the worker again: nothing more.
        ingest_kev(store).await;
        let again = deliver_due(store, &cfg, openwarp_store::now())
            .await
            .expect("deliver");
        assert_eq!(again.claimed, 0);
        tokio::time::sleep(std::time::Duration::from_millis(300)).await;
        assert_eq!(smtp.messages().len(), raw.len());
    }

    #[tokio::test]
    async fn the_kent_case_warns_the_other_users_of_the_shared_service_anonymously() {
        use openwarp_core::incident::{IcoClock, SharingState, ico_clock};
        let db = openwarp_store::testing::sqlite().await;
        let store = &db.store;
        seed(store, today()).await.expect("seed");
        seed_estates(store).await.expect("estates");
        assert_eq!(
            seed_incidents(store, "South East England")
                .await
                .expect("incidents"),
            2
        );
        assert_eq!(
            seed_incidents(store, "South East England")
                .await
                .expect("again"),
            0
        );
        let all = store
            .incidents(&openwarp_store::IncidentFilter {
                all: true,
                ..Default::default()
            })
            .await
            .expect("list");
        let kent_case = all
            .iter()
            .find(|i| i.org_name == "Maidstone Borough Council")
            .expect("the Kent case");
        assert_eq!(kent_case.report.tlp, openwarp_core::TlpLabel::Amber);
        assert!(matches!(
            ico_clock(
                true,
                kent_case.report.detected_at,
                None,
                openwarp_store::now()
            ),
            IcoClock::Running {
                hours_left: 51 | 52,
                ..
            }
        ));
        let warned = store
            .incident_supplier_warnings(&kent_case.public_id)
            .await
            .expect("warned");
        let names: Vec<&str> = warned.iter().map(|w| w.org_name.as_str()).collect();
        assert_eq!(
            names,
            [
                "Sevenoaks District Council",
                "Tunbridge Wells Borough Council"
            ]
        );
        let sevenoaks = store
            .find_org_by_name("Sevenoaks District Council")
            .await
            .expect("lookup")
            .expect("sevenoaks");
        let alerts = store
            .alerts_for_org(sevenoaks.id, 10)
            .await
            .expect("alerts");
        let w = alerts
            .iter()
            .find(|a| a.title.starts_with("Supplier warning"))
            .expect("warned");
        assert!(
            w.content
                .summary
                .starts_with("A district or borough council in South East England has reported")
        );
        assert!(!w.content.summary.contains("Maidstone"));
        let shared = all
            .iter()
            .find(|i| i.org_name == "Canterbury City Council")
            .expect("shared one");
        assert_eq!(shared.sharing, SharingState::Shared);
        assert!(shared.lessons_shared);
    }

    #[tokio::test]
    async fn the_demo_has_past_meetings_with_outlines_and_the_next_with_an_agenda() {
        let db = openwarp_store::testing::sqlite().await;
        let store = &db.store;
        seed(store, today()).await.expect("seed");
        assert_eq!(seed_meetings(store).await.expect("meetings"), 3);
        assert_eq!(seed_meetings(store).await.expect("again"), 0);
        let now = openwarp_store::now();
        let archive = store.list_meetings(true, now, 10).await.expect("archive");
        assert!(archive.len() >= 2);
        let march = archive
            .iter()
            .find(|m| m.title == "SEGWARP March 2026 meeting")
            .expect("March");
        assert!(march.topics.iter().any(|t| t.starts_with("PSN compliance")));
        assert!(march.venue.as_deref().unwrap_or("").contains("London"));
        assert!(
            store
                .meeting_minutes(march.id)
                .await
                .expect("minutes")
                .is_some()
        );
        let upcoming = store.list_meetings(false, now, 10).await.expect("upcoming");
        let next = upcoming.last().expect("the next meeting");
        assert_eq!(next.capacity, Some(40));
        let agenda = store.agenda(next.id).await.expect("agenda");
        assert!(
            agenda
                .iter()
                .any(|i| i.organisation.as_deref() == Some("NCSC"))
        );
    }

    #[tokio::test]
    async fn the_demo_has_an_open_anonymous_poll_a_closed_one_and_a_question() {
        use openwarp_core::poll::PollKind;
        let db = openwarp_store::testing::sqlite().await;
        let store = &db.store;
        seed(store, today()).await.expect("seed");
        assert_eq!(seed_polls(store).await.expect("polls"), 3);
        assert_eq!(seed_polls(store).await.expect("again"), 0);
        let op = store
            .find_user_by_email(OPERATOR_EMAIL)
            .await
            .expect("lookup")
            .expect("operator")
            .user;
        let polls = store.polls(op.id, 10).await.expect("list");
        assert_eq!(polls.len(), 3);
        let at = openwarp_store::now();
        let open: Vec<_> = polls.iter().filter(|p| p.is_open(at)).collect();
        assert!(
            open.iter()
                .any(|p| p.anonymous && p.kind == PollKind::Single && p.responses == 3)
        );
        let closed = polls
            .iter()
            .find(|p| !p.is_open(at))
            .expect("a closed poll");
        let r = store.poll_results(closed.id, op.id).await.expect("results");
        assert_eq!(r.counts, [1, 1, 3, 2]);
        let q = polls
            .iter()
            .find(|p| p.kind == PollKind::Question)
            .expect("question");
        let r = store.poll_results(q.id, op.id).await.expect("results");
        assert_eq!(r.answers.len(), 2);
        assert!(r.answers.iter().all(|a| a.name.is_some()));
    }

    // Assessments (issue 8)
    #[tokio::test]
    async fn the_demo_has_a_year_of_assessments_and_a_regional_benchmark() {
        use openwarp_core::assessment::{Coverage, MIN_ORGS, unanswered};
        let db = openwarp_store::testing::sqlite().await;
        let store = &db.store;
        seed(store, today()).await.expect("seed");
        let made = seed_assessments(store).await.expect("assessments");
        assert!(made > 30, "{made}");
        assert_eq!(seed_assessments(store).await.expect("again"), 0);
        let region = store
            .region_submissions("council-caf")
            .await
            .expect("region");
        assert!(region.len() >= MIN_ORGS, "{}", region.len());
        let today = openwarp_store::now().date_naive();
        let coverage: Vec<Coverage> = region
            .iter()
            .map(|r| Coverage::of(Some(r.submitted_at.date_naive()), today))
            .collect();
        assert!(coverage.contains(&Coverage::Current));
        assert!(coverage.contains(&Coverage::Overdue));
        assert!(region.len() < ORGS.len(), "some never submitted");
        // Scores differ between members, and improve between rounds.
        let f = openwarp_core::assessment::Framework::shipped().expect("framework");
        let overall: HashSet<u32> = region
            .iter()
            .map(|r| {
                openwarp_core::assessment::score(&f, &r.answers)
                    .overall
                    .rounded()
            })
            .collect();
        assert!(overall.len() > 5, "{overall:?}");
        let kent = store
            .find_org_by_name("Kent County Council")
            .await
            .expect("find")
            .expect("kent");
        let copy = store
            .assessment_answers(kent.id, "council-caf")
            .await
            .expect("copy");
        assert_eq!(unanswered(&f, &copy.answers).len(), 3);
    }
    // End of assessments (issue 8)

    #[tokio::test]
    async fn the_demo_has_discussion_topics_and_threads_seeded_once() {
        let db = openwarp_store::testing::sqlite().await;
        let store = &db.store;
        seed(store, today()).await.expect("seed");
        assert_eq!(seed_discussion(store).await.expect("discussion"), 11);
        assert_eq!(seed_discussion(store).await.expect("again"), 0);
        let topics = store.topics().await.expect("topics");
        assert_eq!(
            topics.iter().map(|t| t.name.as_str()).collect::<Vec<_>>(),
            ["Cloud", "GDPR", "Incidents", "PSN"]
        );
        assert!(topics.iter().all(|t| t.threads == 1));
        let psn = store.topic("psn").await.expect("psn");
        let threads = store.threads(psn.id, 10).await.expect("threads");
        let t = store.thread(threads[0].id).await.expect("thread");
        assert_eq!(t.posts.len(), 4);
        assert!(
            t.posts[0]
                .html
                .as_deref()
                .unwrap_or_default()
                .contains("<strong>all</strong>")
        );
        let incidents = store.topic("incidents").await.expect("incidents");
        let locked = store.threads(incidents.id, 10).await.expect("threads");
        assert!(locked[0].locked);
    }

    #[tokio::test]
    async fn the_demo_has_news_and_a_tagged_library_seeded_once() {
        let db = openwarp_store::testing::sqlite().await;
        let store = &db.store;
        seed(store, today()).await.expect("seed");
        assert_eq!(seed_news_and_links(store).await.expect("news"), 11);
        assert_eq!(seed_news_and_links(store).await.expect("again"), 0);
        let news = store.news(false, 10).await.expect("news");
        assert_eq!(news.len(), 2);
        assert!(news[0].title.contains("Cyber Assessment Framework"));
        let caf = store
            .links(&openwarp_store::LinkFilter {
                q: String::new(),
                tag: "caf".into(),
            })
            .await
            .expect("links");
        assert_eq!(caf.len(), 1);
        let counts = store.link_tag_counts().await.expect("tags");
        assert!(counts.iter().any(|(t, n)| t == "ncsc" && *n == 5));
    }

    #[tokio::test]
    async fn the_demo_has_a_published_warp_advisory_and_one_awaiting_review() {
        use openwarp_core::warp_advisory::WarpStatus;
        let db = openwarp_store::testing::sqlite().await;
        let store = &db.store;
        seed(store, today()).await.expect("seed");
        seed_estates(store).await.expect("estates");
        assert_eq!(seed_warp_advisories(store).await.expect("warp"), 2);
        assert_eq!(seed_warp_advisories(store).await.expect("again"), 0);
        let all = store
            .warp_advisories(&openwarp_store::WarpAdvisoryFilter::default())
            .await
            .expect("list");
        let mut statuses: Vec<WarpStatus> = all.iter().map(|a| a.status).collect();
        statuses.sort_by_key(|s| s.as_str());
        assert_eq!(statuses, [WarpStatus::InReview, WarpStatus::Published]);
        // The published one reached every member, as an alert.
        let kent = store
            .find_org_by_name("Kent County Council")
            .await
            .expect("lookup")
            .expect("kent");
        let alerts = store.alerts_for_org(kent.id, 10).await.expect("alerts");
        assert_eq!(alerts.len(), 1);
        assert_eq!(alerts[0].kind, openwarp_store::AlertKind::Warp);
        assert_eq!(alerts[0].tlp, openwarp_core::TlpLabel::Green);
    }

    #[tokio::test]
    async fn seeding_a_fresh_database_builds_the_whole_warp() {
        let db = openwarp_store::testing::sqlite().await;
        let store = &db.store;
        let first = seed(store, today()).await.expect("seed");
        assert!(!first.already_seeded);
        assert_eq!(first.organisations_created, ORGS.len());

        let orgs = store.list_orgs().await.expect("orgs");
        assert_eq!(orgs.len(), 26);
        let kinds: HashSet<_> = orgs.iter().map(|o| o.council_type).collect();
        assert_eq!(kinds.len(), CouncilType::ALL.len(), "every type present");
        let statuses: HashSet<_> = orgs.iter().map(|o| o.status).collect();
        assert!(statuses.contains(&Pending) && statuses.contains(&Lapsed));
        assert!(orgs.iter().any(|o| !o.employers_member));
        assert!(orgs.iter().filter(|o| o.employers_member).count() > orgs.len() / 2);

        let mut users = 0;
        for org in &orgs {
            let members = store.list_users(Some(org.id)).await.expect("users");
            let leads = members
                .iter()
                .filter(|u| u.role == Role::MemberLead)
                .count();
            assert_eq!(leads, 1, "{} has one lead", org.name);
            assert!(
                members.iter().any(|u| u.role == Role::MemberUser),
                "{}",
                org.name
            );
            users += members.len();
        }
        let operators = store.list_users(None).await.expect("operators");
        assert_eq!(operators.len(), 2, "the operator and the reviewer");
        assert_eq!(first.users_created, users + 2);

        for s in sign_ins() {
            let found = store.find_user_by_email(&s.email).await.expect("lookup");
            let found = found.expect("sign-in exists");
            assert_eq!(found.user.role, s.role);
            assert!(crypto::verify_password(
                Some(&found.password_hash),
                DEMO_PASSWORD
            ));
        }

        let second = seed(store, today()).await.expect("seed again");
        assert!(second.already_seeded);
        assert_eq!((second.organisations_created, second.users_created), (0, 0));
        assert_eq!(store.list_orgs().await.expect("orgs").len(), 26);
        let log = store.audit_log(10, None).await.expect("audit");
        assert_eq!(log.iter().filter(|e| e.action == "demo.seed").count(), 1);
    }

    #[tokio::test]
    async fn an_interrupted_seed_completes_without_clashing() {
        let db = openwarp_store::testing::sqlite().await;
        let store = &db.store;
        store
            .create_org(&draft(&ORGS[0], 0, today()), openwarp_store::now())
            .await
            .expect("pre-existing org");
        let summary = seed(store, today()).await.expect("seed");
        assert_eq!(summary.organisations_created, ORGS.len() - 1);
        assert_eq!(store.list_orgs().await.expect("orgs").len(), ORGS.len());
    }
}
