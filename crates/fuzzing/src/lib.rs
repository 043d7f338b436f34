//! The bodies of openwarp's fuzz targets: one function per parser that takes
//! raw bytes, as a feed, an upload or a peer would send them, runs the parser
//! and checks what must hold whatever the input.
//!
//! # Why a crate of its own
//! cargo-fuzz needs nightly and a sanitizer build, so its binaries live in
//! `fuzz/`, outside the workspace, and are only thin wrappers around
//! [`TARGETS`]. Keeping the bodies here, inside the workspace, means that
//! clippy checks them, and that `tests/regressions.rs` replays every input a
//! fuzzer has ever found (`regressions/<target>/`) on stable Rust in the
//! ordinary test run. A crash found by `cargo xtask fuzz` therefore becomes
//! a regression test by copying one file.
//!
//! # What a body checks
//! Every parser must return (an error is fine) and never panic. Beyond that,
//! each body checks the invariants a caller relies on: a CPE name that parses
//! formats to a name that parses to the same thing; version comparison is a
//! total order; rendered Markdown never carries a script; a refused record
//! always says why.

// A fuzz oracle reports a broken invariant by panicking: that is its job.
#![allow(clippy::panic)]

use openwarp_advisory::{Parsed, cpe, cpedict, csaf, cve5, cvss, epss, kev, nvd, osv, version};
use openwarp_matching::{purl, sbom, table};
use std::cmp::Ordering;

/// A fuzz target: its name (the folder of its corpus and regressions) and
/// its body.
pub type Target = (&'static str, fn(&[u8]));

/// Every fuzz target, by name.
pub const TARGETS: &[Target] = &[
    ("nvd", nvd_feed),
    ("cve5", cve5_record),
    ("kev", kev_catalog),
    ("csaf", csaf_document),
    ("osv", osv_record),
    ("epss", epss_scores),
    ("advisory_any", advisory_any),
    ("cyclonedx", cyclonedx_sbom),
    ("inventory_csv", inventory_csv),
    ("cpe", cpe_name),
    ("cpe_dictionary", cpe_dictionary),
    ("version", version_order),
    ("cvss", cvss_vector),
    ("purl", package_url),
    ("stix", stix_bundle),
    ("markdown", markdown),
    ("indicator", incident_indicator),
    ("taxii", taxii_envelope),
    ("assessment_framework", assessment_framework),
];

/// The body of the target called `name`.
pub fn target(name: &str) -> Option<fn(&[u8])> {
    TARGETS.iter().find(|(n, _)| *n == name).map(|(_, f)| *f)
}

/// Every record handed out is well formed enough to store; every refusal
/// says why.
fn check_parsed(p: Parsed) {
    match p {
        Parsed::Record(r) => {
            if r.record_id.trim().is_empty() || r.vuln_id.trim().is_empty() {
                panic!("a record was yielded without an id: {r:?}");
            }
        }
        Parsed::Rejected(r) | Parsed::Warning(r) => {
            if r.reason.trim().is_empty() {
                panic!("a rejection without a reason");
            }
        }
        Parsed::Epss(s) => {
            if !(0.0..=1.0).contains(&s.score) || !(0.0..=1.0).contains(&s.percentile) {
                panic!("EPSS score out of range: {s:?}");
            }
        }
    }
}

fn text(data: &[u8]) -> Option<&str> {
    std::str::from_utf8(data).ok()
}

/// An NVD 2.0 CVE API page or yearly feed.
pub fn nvd_feed(data: &[u8]) {
    let _ = nvd::parse(data, &mut check_parsed);
}

/// A CVE JSON 5 record, or records one per line.
pub fn cve5_record(data: &[u8]) {
    let _ = cve5::parse(data, &mut check_parsed);
    let _ = cve5::parse_lines(data, &mut check_parsed);
}

/// The CISA Known Exploited Vulnerabilities catalogue.
pub fn kev_catalog(data: &[u8]) {
    let _ = kev::parse(data, &mut check_parsed);
}

/// A CSAF 2.0 advisory, or documents one per line.
pub fn csaf_document(data: &[u8]) {
    let _ = csaf::parse(data, &mut check_parsed);
    let _ = csaf::parse_lines(data, &mut check_parsed);
}

/// An OSV record, a list of them, or records one per line.
pub fn osv_record(data: &[u8]) {
    let _ = osv::parse(data, &mut check_parsed);
    let _ = osv::parse_lines(data, &mut check_parsed);
}

/// A day of EPSS scores (CSV).
pub fn epss_scores(data: &[u8]) {
    let _ = epss::parse(data, &mut check_parsed);
}

/// Whatever arrives, as the ingest command reads it: detect, then parse.
pub fn advisory_any(data: &[u8]) {
    let _ = openwarp_advisory::parse::parse_any(data, &mut check_parsed);
}

/// A CycloneDX SBOM uploaded as an inventory.
pub fn cyclonedx_sbom(data: &[u8]) {
    let _ = sbom::read_cyclonedx(data);
}

/// An inventory uploaded as CSV.
pub fn inventory_csv(data: &[u8]) {
    let _ = table::read_csv(data);
}

/// A CPE 2.3 name, formatted string or URI binding: whatever parses formats
/// to a name that parses back to the same thing.
pub fn cpe_name(data: &[u8]) {
    let Some(s) = text(data) else { return };
    for parsed in [
        cpe::Wfn::parse(s),
        cpe::Wfn::parse_formatted(s),
        cpe::Wfn::parse_uri(s),
    ] {
        let Ok(wfn) = parsed else { continue };
        let formatted = wfn.to_string();
        match cpe::Wfn::parse_formatted(&formatted) {
            Ok(again) if again == wfn => {}
            Ok(again) => panic!("{s:?} formats to {formatted:?}, which reads back as {again:?}"),
            Err(e) => panic!("{s:?} formats to {formatted:?}, which does not parse: {e}"),
        }
        // A name without wildcards matches itself (the CPE matching
        // specification leaves a target with wildcards undefined).
        let concrete = !wfn.attributes().iter().any(cpe::AttrValue::has_wildcards);
        if concrete && !cpe::is_match(&wfn, &wfn) {
            panic!("{formatted} does not match itself");
        }
    }
}

/// The NVD CPE dictionary (XML).
pub fn cpe_dictionary(data: &[u8]) {
    let _ = cpedict::parse(data, &mut |p| {
        if p.vendor.is_empty() || p.product.is_empty() {
            panic!("a dictionary product without a vendor or product: {p:?}");
        }
    });
}

/// Two versions, split at the first newline: comparison is antisymmetric
/// and reflexive, so sorting and ranges behave.
pub fn version_order(data: &[u8]) {
    let Some(s) = text(data) else { return };
    let (a, b) = s.split_once('\n').unwrap_or((s, s));
    let ab = version::compare(a, b);
    let ba = version::compare(b, a);
    if ab != ba.reverse() {
        panic!("compare({a:?}, {b:?}) = {ab:?} but compare({b:?}, {a:?}) = {ba:?}");
    }
    if version::compare(a, a) != Ordering::Equal {
        panic!("{a:?} is not equal to itself");
    }
    let _ = version::Version::parse(a);
    let _ = version::Version::parse_known(b);
}

/// A CVSS vector (v2, v3.0, v3.1 or v4.0): a score, when there is one, is
/// between 0 and 10.
pub fn cvss_vector(data: &[u8]) {
    let Some(s) = text(data) else { return };
    if let Ok(score) = cvss::assess(s, "fuzz", None, None)
        && !(0.0..=10.0).contains(&score.base_score)
    {
        panic!("{s:?} scores {}", score.base_score);
    }
}

/// A package URL from an SBOM or an inventory row.
pub fn package_url(data: &[u8]) {
    if let Some(s) = text(data) {
        let _ = purl::Purl::parse(s);
    }
}

/// A STIX 2.1 bundle, as a peer WARP would send it.
pub fn stix_bundle(data: &[u8]) {
    if let Some(s) = text(data) {
        let _ = openwarp_stix::read_bundle(s);
    }
}

/// A discussion post: whatever is written, the HTML's tags carry no script,
/// frame or style, no event handler and no `javascript:` link. (Text that
/// merely looks like HTML is escaped, so only real tags start with `<`.)
pub fn markdown(data: &[u8]) {
    let Some(s) = text(data) else { return };
    if let Err(problem) = unsafe_html(&openwarp_core::discussion::render_markdown(s)) {
        panic!("{problem}");
    }
}

/// What makes `html` unsafe to show, if anything: a script, frame, style
/// or form tag, an event handler, or a script or data URL.
fn unsafe_html(html: &str) -> Result<(), String> {
    let html = html.to_ascii_lowercase();
    for tag in html.split('<').skip(1) {
        let tag = tag.split('>').next().unwrap_or_default();
        let name = tag
            .trim_start_matches('/')
            .split(|c: char| c.is_ascii_whitespace())
            .next()
            .unwrap_or_default();
        if matches!(
            name,
            "script" | "iframe" | "object" | "embed" | "style" | "form" | "input"
        ) {
            return Err(format!("rendered Markdown has a <{name}> tag: {html}"));
        }
        for (attr, value) in attributes(tag) {
            // What a browser would take as the scheme: control characters
            // and spaces inside it are ignored (`java\tscript:`).
            let scheme: String = value
                .chars()
                .filter(|c| !c.is_ascii_whitespace() && !c.is_ascii_control())
                .take_while(|c| *c != ':' && *c != '/' && *c != '?' && *c != '#')
                .collect();
            let has_scheme = value.contains(':')
                && value
                    .chars()
                    .filter(|c| !c.is_ascii_whitespace() && !c.is_ascii_control())
                    .nth(scheme.chars().count())
                    == Some(':');
            let dangerous_url = matches!(attr, "href" | "src" | "action" | "formaction")
                && has_scheme
                && matches!(scheme.as_str(), "javascript" | "vbscript" | "data");
            if attr.starts_with("on") || dangerous_url {
                return Err(format!(
                    "rendered Markdown has a dangerous attribute {attr}={value:?} in <{tag}>: {html}"
                ));
            }
        }
    }
    Ok(())
}

/// The attributes in the inside of a tag (`a href="x" title='y'`), as
/// (name, value) with the quotes removed (value empty when absent).
fn attributes(tag: &str) -> impl Iterator<Item = (&str, &str)> {
    let mut rest = tag
        .trim_start_matches('/')
        .trim_start_matches(|c: char| !c.is_ascii_whitespace());
    std::iter::from_fn(move || {
        rest = rest.trim_start_matches(|c: char| c.is_ascii_whitespace() || c == '/');
        if rest.is_empty() {
            return None;
        }
        let end = rest
            .find(|c: char| c.is_ascii_whitespace() || c == '=' || c == '/')
            .unwrap_or(rest.len());
        let (name, after) = rest.split_at(end);
        rest = after.trim_start();
        let mut value = "";
        if let Some(v) = rest.strip_prefix('=') {
            let v = v.trim_start();
            match v.chars().next() {
                Some(q @ ('"' | '\'')) => match v[1..].find(q) {
                    Some(i) => {
                        value = &v[1..i + 1];
                        rest = &v[i + 2..];
                    }
                    None => {
                        value = &v[1..];
                        rest = "";
                    }
                },
                _ => {
                    let end = v.find(|c: char| c.is_ascii_whitespace()).unwrap_or(v.len());
                    value = &v[..end];
                    rest = &v[end..];
                }
            }
        }
        Some((name, value))
    })
}

/// An indicator of compromise as typed into an incident report: what is
/// accepted is normalised, and normalising again changes nothing.
pub fn incident_indicator(data: &[u8]) {
    let Some(s) = text(data) else { return };
    if let Ok(i) = openwarp_core::incident::Indicator::parse(s) {
        match openwarp_core::incident::Indicator::parse(&i.value) {
            Ok(again) if again == i => {}
            other => panic!("{s:?} normalises to {i:?}, which reads back as {other:?}"),
        }
    }
}

/// A page of objects from a peer WARP's TAXII server, read as the poller
/// reads it: the envelope, then each object, its version and its TLP. A
/// TLP:RED marking anywhere on an object always reads as RED (so it is
/// refused at the border), whatever else it carries.
pub fn taxii_envelope(data: &[u8]) {
    use openwarp_stix::taxii::{Envelope, object_tlp, object_version};
    let Some(s) = text(data) else { return };
    let Ok(envelope) = serde_json::from_str::<Envelope>(s) else {
        return;
    };
    for value in envelope.objects {
        let red = value
            .get("object_marking_refs")
            .and_then(|r| r.as_array())
            .is_some_and(|refs| {
                refs.iter().any(|r| {
                    let id = r.as_str().unwrap_or_default();
                    id == openwarp_stix::tlp::marking_definition_id(openwarp_core::TlpLabel::Red)
                        || id == openwarp_stix::tlp::TLP_1_RED_ID
                })
            });
        let Ok(object) = openwarp_stix::StixObject::from_value(value) else {
            continue;
        };
        let _ = object_version(&object);
        let tlp = object_tlp(&object);
        if red
            && !matches!(object, openwarp_stix::StixObject::MarkingDefinition(_))
            && tlp != Some(openwarp_core::TlpLabel::Red)
        {
            panic!("an object marked TLP:RED reads as {tlp:?}");
        }
    }
}

/// An assessment framework file: refused with a reason, or every question
/// it defines can be found by its id.
pub fn assessment_framework(data: &[u8]) {
    let Some(s) = text(data) else { return };
    match openwarp_core::assessment::Framework::from_toml("fuzz.toml", s) {
        Ok(f) => {
            for p in f.principles() {
                for o in &p.outcomes {
                    for q in &o.questions {
                        if f.question(&q.id).is_none() {
                            panic!("question {} is defined but not found", q.id);
                        }
                    }
                }
            }
        }
        Err(e) => {
            if e.to_string().trim().is_empty() {
                panic!("a framework refused without a reason");
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::unsafe_html;

    #[test]
    fn the_html_oracle_catches_what_it_should_and_only_that() {
        for bad in [
            "<script>x</script>",
            "<p onclick=\"x\">a</p>",
            "<a href=\"javascript:alert(1)\">a</a>",
            "<a href=\"JaVa\tScript:alert(1)\">a</a>",
            "<img src='data:text/html,x'>",
            "<iframe src=\"https://x\"></iframe>",
        ] {
            assert!(unsafe_html(bad).is_err(), "{bad}");
        }
        for good in [
            "<p>a &lt;script&gt;</p>",
            "<a href=\"j%5d(javascript:alert(1))\" rel=\"noopener\">x</a>",
            "<a href=\"https://example.com/javascript:x\" title=\"on the road\">x</a>",
            "<code>onclick=</code>",
        ] {
            assert_eq!(unsafe_html(good), Ok(()), "{good}");
        }
    }
}
