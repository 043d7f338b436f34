//! The KEV parser over both catalogue snapshots, their difference, and the
//! CSV edition.

use crate::support;
use openwarp_advisory::kev;
use openwarp_advisory::model::{KevEntry, Parsed, SourceRecord};
use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

fn parse(path: &std::path::Path) -> (kev::KevCatalog, Vec<SourceRecord>) {
    let bytes = support::read(path);
    let mut records = Vec::new();
    let mut rejected = Vec::new();
    let start = Instant::now();
    let catalog = kev::parse(&bytes, &mut |p| match p {
        Parsed::Record(r) => records.push(*r),
        Parsed::Rejected(r) => rejected.push(r.to_string()),
        Parsed::Epss(_) => panic!("EPSS from KEV"),
        Parsed::Warning(w) => panic!("unexpected warning: {w}"),
    })
    .unwrap();
    let secs = start.elapsed().as_secs_f64().max(1e-9);
    let value_start = Instant::now();
    let _: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
    let value_secs = value_start.elapsed().as_secs_f64().max(1e-9);
    eprintln!(
        "kev {}: catalogue {} ({}), {} records, {} rejected, {} bytes in {secs:.4}s ({:.0} MB/s, {:.0} records/s); serde_json::Value {value_secs:.4}s (ratio {:.2})",
        path.file_name().unwrap().to_string_lossy(),
        catalog.catalog_version,
        catalog
            .date_released
            .map(|d| d.to_rfc3339())
            .unwrap_or_default(),
        records.len(),
        rejected.len(),
        bytes.len(),
        bytes.len() as f64 / secs / 1e6,
        records.len() as f64 / secs,
        secs / value_secs,
    );
    assert!(rejected.is_empty(), "{rejected:#?}");
    (catalog, records)
}

fn entries(records: &[SourceRecord]) -> BTreeMap<String, KevEntry> {
    let map: BTreeMap<String, KevEntry> = records
        .iter()
        .map(|r| (r.record_id.clone(), r.kev.clone().unwrap()))
        .collect();
    assert_eq!(map.len(), records.len(), "CVE ids unique");
    map
}

#[test]
fn kev_catalogues_and_their_difference() {
    let Some(dir) = support::corpus_dir() else {
        return;
    };
    let dir = dir.join("kev");

    let (earlier, earlier_records) = parse(&dir.join("known_exploited_vulnerabilities.json"));
    assert_eq!(earlier.catalog_version, "2025.08.25");
    assert_eq!(
        earlier.title,
        "CISA Catalog of Known Exploited Vulnerabilities"
    );
    assert_eq!(
        earlier.date_released.map(|d| d.to_rfc3339()).as_deref(),
        Some("2025-08-25T17:04:19.979600+00:00")
    );
    assert_eq!(earlier.count, Some(1404));
    assert_eq!(earlier_records.len(), 1404);

    let (later, later_records) =
        parse(&dir.join("known_exploited_vulnerabilities-2026-03-snapshot.json"));
    assert_eq!(later.catalog_version, "2026.03.13");
    assert_eq!(later.count, Some(1542));
    assert_eq!(later_records.len(), 1542);

    for r in earlier_records.iter().chain(&later_records) {
        assert_eq!(r.record_id, r.vuln_id);
        assert_eq!(r.publisher.as_deref(), Some("CISA"));
        assert!(r.published.is_some() && r.title.is_some() && r.description.is_some());
        assert!(r.references.iter().all(|u| u.url.starts_with("http")));
    }
    let with_refs = later_records
        .iter()
        .filter(|r| !r.references.is_empty())
        .count();
    let ransomware = later_records
        .iter()
        .filter(|r| r.kev.as_ref().unwrap().known_ransomware_campaign_use == "Known")
        .count();
    eprintln!(
        "kev 2026.03.13: {with_refs} entries with URLs in notes, {ransomware} with known ransomware use"
    );

    // The difference between the snapshots.
    let old = entries(&earlier_records);
    let new = entries(&later_records);
    let added: Vec<&String> = new.keys().filter(|k| !old.contains_key(*k)).collect();
    let removed: Vec<&String> = old.keys().filter(|k| !new.contains_key(*k)).collect();
    let changed: Vec<(&String, Vec<&str>)> = old
        .iter()
        .filter_map(|(id, o)| {
            let n = new.get(id)?;
            let mut fields = Vec::new();
            for (name, differs) in [
                ("vendorProject", o.vendor_project != n.vendor_project),
                ("product", o.product != n.product),
                (
                    "vulnerabilityName",
                    o.vulnerability_name != n.vulnerability_name,
                ),
                ("dateAdded", o.date_added != n.date_added),
                (
                    "shortDescription",
                    o.short_description != n.short_description,
                ),
                ("requiredAction", o.required_action != n.required_action),
                ("dueDate", o.due_date != n.due_date),
                (
                    "knownRansomwareCampaignUse",
                    o.known_ransomware_campaign_use != n.known_ransomware_campaign_use,
                ),
                ("notes", o.notes != n.notes),
                ("cwes", o.cwes != n.cwes),
            ] {
                if differs {
                    fields.push(name);
                }
            }
            (!fields.is_empty()).then_some((id, fields))
        })
        .collect();
    eprintln!(
        "kev delta 2025.08.25 -> 2026.03.13: {} added, {} removed, {} changed",
        added.len(),
        removed.len(),
        changed.len()
    );
    eprintln!("kev added: {added:?}");
    for (id, fields) in &changed {
        eprintln!("kev changed {id}: {}", fields.join(", "));
    }
    assert_eq!(later_records.len() - earlier_records.len(), 138);
    assert!(
        removed.is_empty(),
        "CVE ids removed from the later catalogue: {removed:?}"
    );
    assert_eq!(added.len(), 138);
    assert_eq!(changed.len(), 31);

    // The CSV edition lists the same CVE ids.
    let csv = String::from_utf8(support::read(
        &dir.join("known_exploited_vulnerabilities.csv"),
    ))
    .unwrap();
    let mut lines = csv.lines();
    assert!(lines.next().unwrap().starts_with("cveID,"));
    let csv_ids: BTreeSet<&str> = lines
        .filter_map(|l| l.split_once(',').map(|(id, _)| id))
        .filter(|id| id.starts_with("CVE-"))
        .collect();
    let json_ids: BTreeSet<&str> = old.keys().map(String::as_str).collect();
    assert_eq!(csv_ids.len(), 1404);
    assert_eq!(csv_ids, json_ids);
}
