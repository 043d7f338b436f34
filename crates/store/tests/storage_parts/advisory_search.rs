//! Advisory search by index (FTS5 trigram on SQLite, pg_trgm on PostgreSQL)
//! on every backend: the answers are exactly those of the plain meaning —
//! every word, lower-cased, is a substring of the lower-cased search text,
//! `%`, `_` and `\` taken literally — for prefixes, middles of words, case,
//! short words, no match and several words; the index follows every change
//! of an advisory; and migration 0020 indexes advisories already stored.

use super::t0;
use chrono::Duration;
use openwarp_advisory::{Affected, RecordState, SourceKind, SourceRecord};
use openwarp_store::testing::{TestDb, all_backends, all_backends_at};
use openwarp_store::{AdvisoryFilter, KnownRecords, Store};
use std::collections::BTreeSet;

fn record(id: &str, title: &str, vendor: &str, product: &str, days_ago: i64) -> SourceRecord {
    SourceRecord {
        source: SourceKind::Nvd,
        record_id: id.into(),
        vuln_id: id.into(),
        aliases: vec![],
        state: RecordState::Published,
        title: Some(title.into()),
        description: Some(format!("{title}. Details.")),
        published: Some(t0() - Duration::days(days_ago + 1)),
        modified: Some(t0() - Duration::days(days_ago)),
        publisher: Some("test".into()),
        cvss: vec![],
        cwes: vec![],
        references: vec![],
        affected: vec![Affected::Kev {
            vendor: vendor.into(),
            product: product.into(),
        }],
        remediations: vec![],
        kev: None,
        tlp: None,
    }
}

/// Advisories whose texts hold the cases: wildcard characters, a
/// backslash, double quotes, non-ASCII capitals, FTS5 syntax.
fn corpus() -> Vec<SourceRecord> {
    let mut go = record(
        "GO-2025-0004",
        "Crash in the AND-parser (NEAR/2 * ^start)",
        "Golang",
        "Net",
        4,
    );
    go.aliases = vec!["GHSA-abcd-efgh-ijkl".into()];
    vec![
        record(
            "CVE-2025-1111",
            "Remote code execution in FortiOS SSL-VPN",
            "Fortinet",
            "FortiOS",
            1,
        ),
        record(
            "CVE-2025-2222",
            "100% CPU in my_server behind the Über-Gateway",
            "Example",
            "my_server",
            2,
        ),
        record(
            "CVE-2025-3333",
            r#"Path traversal in the back\slash handler of the "quoted" parser"#,
            "Example",
            "Handler",
            3,
        ),
        go,
        record(
            "CVE-2015-0001",
            "Denial of service in OpenSSL 1.0.1",
            "OpenSSL",
            "OpenSSL",
            400,
        ),
    ]
}

/// The search as it has always been meant, computed apart from the
/// database: every word (at most eight) is a substring, ignoring case.
fn expected(texts: &[(String, String)], q: &str) -> BTreeSet<String> {
    let words: Vec<String> = q
        .split_whitespace()
        .take(8)
        .map(str::to_lowercase)
        .collect();
    texts
        .iter()
        .filter(|(_, text)| words.iter().all(|w| text.contains(w.as_str())))
        .map(|(id, _)| id.clone())
        .collect()
}

async fn found(s: &Store, q: &str) -> (BTreeSet<String>, i64) {
    let page = s
        .list_advisories(
            &AdvisoryFilter {
                text: Some(q.into()),
                include_rejected: true,
                ..Default::default()
            },
            500,
            0,
        )
        .await
        .expect("search");
    (
        page.rows.into_iter().map(|r| r.vuln_id).collect(),
        page.total,
    )
}

/// Every advisory's id and stored search text, straight from the table.
async fn texts(db: &TestDb) -> Vec<(String, String)> {
    db.text_rows("SELECT vuln_id, search_text FROM advisories")
        .await
        .into_iter()
        .map(|r| {
            let mut r = r.into_iter().map(Option::unwrap_or_default);
            (r.next().unwrap_or_default(), r.next().unwrap_or_default())
        })
        .collect()
}

/// On SQLite, the FTS5 index agrees with its content table.
async fn index_is_sound(db: &TestDb) {
    if db.backend() == openwarp_store::Backend::Sqlite {
        db.text_rows(
            "INSERT INTO advisory_search_fts (advisory_search_fts) VALUES ('integrity-check')",
        )
        .await;
        let counts = db
            .text_rows(
                "SELECT CAST((SELECT COUNT(*) FROM advisories) AS TEXT), \
                 CAST((SELECT COUNT(*) FROM advisory_search) AS TEXT)",
            )
            .await;
        assert_eq!(counts[0][0], counts[0][1], "one search row per advisory");
    }
}

const QUERIES: &[&str] = &[
    // Prefixes and middles of words, ids, vendor:product.
    "forti",
    "rtio",
    "ateway",
    "cve-2025",
    "2025-1",
    "fortinet:fortios",
    "ssl-vpn",
    "vpn",
    "ghsa-abcd",
    // Case.
    "FORTIOS",
    "OpenSSL",
    "über",
    "ÜBER-gate",
    // LIKE's wildcards and escape character are literal.
    "100%",
    "%",
    "1%0",
    "my_server",
    "_",
    "y_s",
    "1_0",
    r"back\slash",
    r"\",
    r"k\s",
    // Double quotes and FTS5 syntax are text.
    r#""quoted""#,
    r#"""#,
    "and-parser",
    "near/2",
    "*",
    "^start",
    "and",
    "or",
    // Short words (no trigram).
    "ss",
    "in",
    "ü",
    "1",
    "go",
    // Nothing.
    "nothing-matches-this",
    "zzz",
    "fortios-x",
    // Several words, long and short.
    "forti ssl",
    "remote VPN execution",
    "100% über",
    "forti über",
    "in ss",
    r"traversal \",
    "openssl 1.0.1 denial",
    "of the in a",
];

#[tokio::test]
async fn indexed_search_gives_the_same_answers_as_like() {
    for db in all_backends().await {
        let s = &db.store;
        let mut known = KnownRecords::default();
        s.upsert_records(&corpus(), &mut known, t0())
            .await
            .expect("ingest");
        let texts = texts(&db).await;
        assert_eq!(texts.len(), 5);
        for q in QUERIES {
            let want = expected(&texts, q);
            let (got, total) = found(s, q).await;
            assert_eq!(got, want, "{} q={q:?}", db.backend().name());
            assert_eq!(total, want.len() as i64, "{} q={q:?}", db.backend().name());
        }
        // A few answers spelt out, so the oracle cannot drift with the code.
        assert_eq!(found(s, "FORTI").await.0.len(), 1);
        assert_eq!(found(s, "100%").await.0, expected(&texts, "cve-2025-2222"));
        assert!(found(s, "1_0").await.0.is_empty());
        assert_eq!(found(s, "cve").await.0.len(), 4);
        // A NUL character (as `%00` in a URL) matches nothing, and fails nothing.
        assert!(found(s, "forti\0os").await.0.is_empty());
        assert!(found(s, "in \0").await.0.is_empty());
        index_is_sound(&db).await;
    }
}

#[tokio::test]
async fn the_index_follows_changed_and_replaced_advisories() {
    for db in all_backends().await {
        let s = &db.store;
        let name = db.backend().name();
        let mut known = KnownRecords::default();
        let first = record(
            "CVE-2025-5555",
            "Overflow in Widgetron",
            "Acme",
            "Widgetron",
            5,
        );
        let mut other = record(
            "GO-2025-0006",
            "Leak in the Sprocket cache",
            "Acme",
            "Sprocket",
            5,
        );
        s.upsert_records(&[first.clone(), other.clone()], &mut known, t0())
            .await
            .expect("ingest");
        assert_eq!(found(s, "widgetron").await.0.len(), 1, "{name}");

        // A newer version renames the product and changes the title.
        let mut changed = record(
            "CVE-2025-5555",
            "Use after free in Gizmotron",
            "Acme",
            "Gizmotron",
            1,
        );
        changed.modified = Some(t0());
        s.upsert_records(&[changed], &mut known, t0() + Duration::hours(1))
            .await
            .expect("update");
        assert!(found(s, "widgetron").await.0.is_empty(), "{name}");
        assert!(found(s, "overflow").await.0.is_empty(), "{name}");
        assert_eq!(
            found(s, "gizmo free").await.0,
            BTreeSet::from(["CVE-2025-5555".to_string()]),
            "{name}"
        );

        // The GO record learns its CVE: its own advisory goes, and the
        // search finds the CVE's instead (the GO id is now an alias).
        other.vuln_id = "CVE-2025-6666".into();
        other.aliases = vec!["GO-2025-0006".into()];
        other.modified = Some(t0());
        s.upsert_records(&[other], &mut known, t0() + Duration::hours(2))
            .await
            .expect("move");
        assert!(
            s.advisory("GO-2025-0006").await.expect("get").is_none(),
            "{name}"
        );
        assert_eq!(
            found(s, "sprocket").await.0,
            BTreeSet::from(["CVE-2025-6666".to_string()]),
            "{name}"
        );
        assert_eq!(
            found(s, "go-2025-0006").await.0,
            BTreeSet::from(["CVE-2025-6666".to_string()]),
            "{name}"
        );
        let texts = texts(&db).await;
        for q in [
            "acme",
            "gizmotron",
            "widgetron",
            "leak",
            "cve-2025",
            "go-",
            "in",
        ] {
            assert_eq!(found(s, q).await.0, expected(&texts, q), "{name} q={q:?}");
        }
        index_is_sound(&db).await;
    }
}

#[tokio::test]
async fn migration_0020_indexes_the_advisories_already_stored() {
    for db in all_backends_at(19).await {
        let s = &db.store;
        let name = db.backend().name();
        let mut known = KnownRecords::default();
        s.upsert_records(&corpus(), &mut known, t0())
            .await
            .expect("ingest before the migration");
        s.migrate().await.expect("migrate a database with data");
        let texts = texts(&db).await;
        for q in ["forti", "100%", "über", "ss", "cve-2025 in", "zzz"] {
            assert_eq!(found(s, q).await.0, expected(&texts, q), "{name} q={q:?}");
        }
        index_is_sound(&db).await;
        // And it keeps following after the migration.
        let mut renamed = record(
            "CVE-2025-1111",
            "Heap overflow in FortiWeb",
            "Fortinet",
            "FortiWeb",
            0,
        );
        renamed.modified = Some(t0() + Duration::hours(1));
        s.upsert_records(&[renamed], &mut known, t0() + Duration::hours(1))
            .await
            .expect("update");
        assert!(found(s, "fortios").await.0.is_empty(), "{name}");
        assert_eq!(found(s, "fortiweb").await.0.len(), 1, "{name}");
        index_is_sound(&db).await;
    }
}
