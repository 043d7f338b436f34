//! OSV records (<https://ossf.github.io/osv-schema/>): the Go vulnerability
//! database, Bitnami's, the GitHub advisory database, PyPA and the rest.
//!
//! Three ways in: one record per file ([`parse`], which also takes a JSON
//! array of records), JSON Lines ([`parse_lines`]), or one record as text
//! ([`parse_record`]).
//!
//! Each record keeps its `affected[]` entries losslessly as
//! [`Affected::Osv`]: package, purl, every range with its events in order,
//! explicit versions, CPEs the database gives (Bitnami's
//! `database_specific.cpes`) and per-package CVSS. A part of a record we
//! cannot use (an unknown range type, a malformed event list, a CVSS vector
//! that does not parse, a `database_specific` of an unexpected shape) is
//! skipped and the record kept; [`parse`] and [`parse_lines`] report each
//! such skip as a [`Rejection`] carrying the record's position and id, with a
//! reason saying that the record itself was kept.

use crate::cvss;
use crate::model::{
    Affected, CvssScore, OsvAffected, OsvEvent, OsvRange, OsvRangeKind, ParseError, Parsed,
    RecordState, Reference, Rejection, SourceKind, SourceRecord, is_cve_id, normalise_cwe,
};
use crate::time::parse_timestamp;
use chrono::{DateTime, Datelike, Utc};
use serde::{Deserialize, Deserializer};
use serde_json::value::RawValue;
use std::collections::HashMap;

/// Parse one OSV record from text. Parts of the record that had to be skipped
/// (see the module documentation) are dropped silently here; use [`parse`] to
/// hear about them.
pub fn parse_record(json: &str) -> Result<SourceRecord, String> {
    match read_record(json.as_bytes(), &mut ScoreCache::default()) {
        Ok((record, _skipped)) => Ok(record),
        Err(failure) => Err(failure.reason),
    }
}

/// Parse an OSV file: one record (position 0), or a JSON array of records
/// (position = 0-based index in the array).
pub fn parse(bytes: &[u8], sink: &mut dyn FnMut(Parsed)) -> Result<(), ParseError> {
    let bytes = strip_bom(bytes);
    match first_significant_byte(bytes) {
        Some(b'[') => {
            let items: Vec<&RawValue> =
                serde_json::from_slice(bytes).map_err(|e| ParseError::Json(e.to_string()))?;
            let mut cache = ScoreCache::default();
            for (position, item) in items.iter().enumerate() {
                emit(
                    read_record(item.get().as_bytes(), &mut cache),
                    position,
                    sink,
                );
            }
            Ok(())
        }
        Some(b'{') => {
            let outcome = read_record(bytes, &mut ScoreCache::default());
            match &outcome {
                Err(f) if f.syntax => return Err(ParseError::Json(f.message.clone())),
                Err(f) if f.record_id.is_none() && !has_top_level_id(bytes) => {
                    return Err(ParseError::WrongShape {
                        expected: "OSV",
                        reason: "the object has no `id`".into(),
                    });
                }
                _ => {}
            }
            emit(outcome, 0, sink);
            Ok(())
        }
        Some(other) => Err(ParseError::WrongShape {
            expected: "OSV",
            reason: format!(
                "the document starts with {:?}, not an object or an array",
                char::from(other)
            ),
        }),
        None => Err(ParseError::WrongShape {
            expected: "OSV",
            reason: "the document is empty".into(),
        }),
    }
}

/// Parse OSV records one per line (JSON Lines). Positions are 1-based line
/// numbers; blank lines are skipped; a line that is not valid JSON is
/// rejected and the rest of the file proceeds.
pub fn parse_lines(bytes: &[u8], sink: &mut dyn FnMut(Parsed)) -> Result<(), ParseError> {
    let bytes = strip_bom(bytes);
    match first_significant_byte(bytes) {
        Some(b'{') => {}
        Some(other) => {
            return Err(ParseError::WrongShape {
                expected: "OSV JSON Lines",
                reason: format!(
                    "the first line starts with {:?}, not an object",
                    char::from(other)
                ),
            });
        }
        None => {
            return Err(ParseError::WrongShape {
                expected: "OSV JSON Lines",
                reason: "the document is empty".into(),
            });
        }
    }
    let mut cache = ScoreCache::default();
    for (index, line) in bytes.split(|&b| b == b'\n').enumerate() {
        let line = line.trim_ascii();
        if line.is_empty() {
            continue;
        }
        emit(read_record(line, &mut cache), index + 1, sink);
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Wire types: only the fields we use; everything else is skipped by serde.

#[derive(Deserialize)]
struct RawRecord {
    #[serde(default)]
    id: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    aliases: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    upstream: Vec<String>,
    #[serde(default)]
    summary: Option<String>,
    #[serde(default)]
    details: Option<String>,
    #[serde(default)]
    published: Option<String>,
    #[serde(default)]
    modified: Option<String>,
    #[serde(default)]
    withdrawn: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    severity: Vec<RawSeverity>,
    #[serde(default, deserialize_with = "nullable")]
    affected: Vec<RawAffected>,
    #[serde(default, deserialize_with = "nullable")]
    references: Vec<RawReference>,
    /// Free-form per database; read leniently afterwards.
    #[serde(default)]
    database_specific: Option<Box<RawValue>>,
}

#[derive(Deserialize)]
struct RawSeverity {
    #[serde(rename = "type")]
    kind: String,
    score: String,
}

#[derive(Deserialize)]
struct RawAffected {
    #[serde(default)]
    package: Option<RawPackage>,
    #[serde(default, deserialize_with = "nullable")]
    severity: Vec<RawSeverity>,
    #[serde(default, deserialize_with = "nullable")]
    ranges: Vec<RawRange>,
    #[serde(default, deserialize_with = "nullable")]
    versions: Vec<String>,
    #[serde(default)]
    database_specific: Option<Box<RawValue>>,
}

#[derive(Deserialize)]
struct RawPackage {
    #[serde(default)]
    ecosystem: Option<String>,
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    purl: Option<String>,
}

#[derive(Deserialize)]
struct RawRange {
    #[serde(rename = "type")]
    kind: String,
    #[serde(default)]
    repo: Option<String>,
    #[serde(default, deserialize_with = "nullable")]
    events: Vec<RawEvent>,
}

#[derive(Deserialize)]
struct RawEvent {
    #[serde(default)]
    introduced: Option<String>,
    #[serde(default)]
    fixed: Option<String>,
    #[serde(default)]
    last_affected: Option<String>,
    #[serde(default)]
    limit: Option<String>,
}

#[derive(Deserialize)]
struct RawReference {
    #[serde(rename = "type", default)]
    kind: Option<String>,
    url: String,
}

/// The parts of `database_specific` we read (GHSA's `cwe_ids`, Bitnami's `cpes`).
#[derive(Deserialize, Default)]
struct DatabaseSpecific {
    #[serde(default, deserialize_with = "nullable")]
    cpes: Vec<String>,
    #[serde(default, deserialize_with = "nullable")]
    cwe_ids: Vec<String>,
}

/// Just the id, to name a record that failed to parse.
#[derive(Deserialize)]
struct IdOnly {
    #[serde(default)]
    id: Option<String>,
}

/// `null` reads as the default (empty list), as some producers write it.
fn nullable<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Option::<T>::deserialize(d).map(Option::unwrap_or_default)
}

// ---------------------------------------------------------------------------
// Building the record.

/// Why a record could not be read.
struct Failure {
    /// The bytes are not JSON at all (rather than JSON of the wrong shape).
    syntax: bool,
    record_id: Option<String>,
    /// The serde message, without position.
    message: String,
    /// What to tell the user: field path and problem.
    reason: String,
}

type Outcome = Result<(SourceRecord, Vec<String>), Failure>;

fn emit(outcome: Outcome, position: usize, sink: &mut dyn FnMut(Parsed)) {
    match outcome {
        Ok((record, skipped)) => {
            let record_id = record.record_id.clone();
            sink(Parsed::Record(Box::new(record)));
            for reason in skipped {
                sink(Parsed::Warning(Rejection {
                    position,
                    record_id: Some(record_id.clone()),
                    reason,
                }));
            }
        }
        Err(failure) => sink(Parsed::Rejected(Rejection {
            position,
            record_id: failure.record_id,
            reason: failure.reason,
        })),
    }
}

fn read_record(bytes: &[u8], cache: &mut ScoreCache) -> Outcome {
    if let Some(first) = first_significant_byte(bytes).filter(|&b| b != b'{') {
        let syntax = serde_json::from_slice::<serde::de::IgnoredAny>(bytes).is_err();
        let message = format!(
            "the record is not a JSON object (it starts with {:?})",
            char::from(first)
        );
        return Err(Failure {
            syntax,
            record_id: None,
            reason: if syntax {
                format!("not valid JSON: {message}")
            } else {
                message.clone()
            },
            message,
        });
    }
    let raw: RawRecord = match serde_json::from_slice(bytes) {
        Ok(raw) => raw,
        Err(e) => {
            let record_id = serde_json::from_slice::<IdOnly>(bytes)
                .ok()
                .and_then(|r| r.id);
            let syntax = matches!(
                e.classify(),
                serde_json::error::Category::Syntax | serde_json::error::Category::Eof
            );
            let (message, reason) = describe_json_error(bytes, &e);
            let reason = if syntax {
                format!("not valid JSON: {reason}")
            } else {
                reason
            };
            return Err(Failure {
                syntax,
                record_id,
                message,
                reason,
            });
        }
    };
    build(raw, cache)
}

fn build(raw: RawRecord, cache: &mut ScoreCache) -> Outcome {
    let id = raw.id.as_deref().map(str::trim).unwrap_or_default();
    if id.is_empty() {
        return Err(Failure {
            syntax: false,
            record_id: None,
            message: "missing id".into(),
            reason: "id: missing or empty".into(),
        });
    }
    let id = id.to_string();
    let reject = |reason: String| Failure {
        syntax: false,
        record_id: Some(id.clone()),
        message: reason.clone(),
        reason,
    };
    let published = timestamp("published", raw.published.as_deref()).map_err(reject)?;
    let modified = timestamp("modified", raw.modified.as_deref()).map_err(reject)?;
    let mut skipped = Vec::new();
    let state = match raw.withdrawn.as_deref().map(str::trim) {
        None | Some("") => RecordState::Published,
        Some(at) => {
            let parsed = parse_timestamp(at);
            if parsed.is_none() {
                skipped.push(format!(
                    "withdrawn: {at:?} is not a timestamp; the record was kept as withdrawn without a date"
                ));
            }
            RecordState::Withdrawn { at: parsed }
        }
    };

    // The vulnerability: the record's own CVE id, else its first CVE alias,
    // else an upstream CVE, else the record's id.
    let vuln_id = if is_cve_id(&id) {
        id.clone()
    } else {
        raw.aliases
            .iter()
            .chain(raw.upstream.iter())
            .map(|a| a.trim())
            .find(|a| is_cve_id(a))
            .unwrap_or(&id)
            .to_string()
    };
    let mut aliases: Vec<String> = Vec::new();
    for alias in raw
        .aliases
        .iter()
        .chain(raw.upstream.iter())
        .chain(std::iter::once(&id))
    {
        let alias = alias.trim();
        if !alias.is_empty() && alias != vuln_id && !aliases.iter().any(|a| a == alias) {
            aliases.push(alias.to_string());
        }
    }

    let publisher = database_prefix(&id).to_string();

    let record_db = match &raw.database_specific {
        Some(raw_db) => read_database_specific(raw_db, "database_specific", &mut skipped),
        None => DatabaseSpecific::default(),
    };

    let mut cvss = scores(&raw.severity, &publisher, "severity", &mut skipped, cache);

    let mut affected = Vec::with_capacity(raw.affected.len());
    for (i, a) in raw.affected.into_iter().enumerate() {
        let (ecosystem, name, purl) = match a.package {
            Some(p) => (
                p.ecosystem.unwrap_or_default(),
                p.name.unwrap_or_default(),
                p.purl.filter(|s| !s.trim().is_empty()),
            ),
            None => (String::new(), String::new(), None),
        };
        let mut ranges = Vec::with_capacity(a.ranges.len());
        for (j, r) in a.ranges.into_iter().enumerate() {
            match range(r) {
                Ok(range) => ranges.push(range),
                Err(why) => skipped.push(format!(
                    "affected[{i}].ranges[{j}] skipped ({why}); the record was kept"
                )),
            }
        }
        let own_db = a.database_specific.as_ref().map(|raw_db| {
            read_database_specific(
                raw_db,
                &format!("affected[{i}].database_specific"),
                &mut skipped,
            )
        });
        let cpes = match own_db {
            Some(db) if !db.cpes.is_empty() => db.cpes,
            _ => record_db.cpes.clone(),
        };
        let severity = scores(
            &a.severity,
            &publisher,
            &format!("affected[{i}].severity"),
            &mut skipped,
            cache,
        );
        affected.push(Affected::Osv(OsvAffected {
            ecosystem,
            name,
            purl,
            ranges,
            versions: a.versions,
            cpes,
            severity,
        }));
    }

    // OSV puts severity either on the record or on each package. When only
    // packages carry it (Bitnami), the record's severity is theirs.
    if cvss.is_empty() {
        for a in &affected {
            if let Affected::Osv(a) = a {
                for s in &a.severity {
                    if !cvss.iter().any(|c| c.vector == s.vector) {
                        cvss.push(s.clone());
                    }
                }
            }
        }
    }

    let mut cwes: Vec<String> = Vec::new();
    for cwe in record_db.cwe_ids.iter().filter_map(|c| normalise_cwe(c)) {
        if !cwes.contains(&cwe) {
            cwes.push(cwe);
        }
    }

    let mut references: Vec<Reference> = Vec::with_capacity(raw.references.len());
    for r in raw.references {
        let url = r.url.trim();
        if url.is_empty() {
            continue;
        }
        let tags: Vec<String> = r
            .kind
            .map(|k| k.trim().to_string())
            .filter(|k| !k.is_empty())
            .into_iter()
            .collect();
        match references.iter_mut().find(|x| x.url == url) {
            Some(existing) => {
                for t in tags {
                    if !existing.tags.contains(&t) {
                        existing.tags.push(t);
                    }
                }
            }
            None => references.push(Reference {
                url: url.to_string(),
                tags,
            }),
        }
    }

    let record = SourceRecord {
        source: SourceKind::Osv,
        record_id: id,
        vuln_id,
        aliases,
        state,
        title: non_empty(raw.summary),
        description: non_empty(raw.details),
        published,
        modified,
        publisher: Some(publisher),
        cvss,
        cwes,
        references,
        affected,
        remediations: Vec::new(),
        kev: None,
        tlp: None,
    };
    Ok((record, skipped))
}

fn range(r: RawRange) -> Result<OsvRange, String> {
    let kind = match r.kind.trim() {
        "SEMVER" => OsvRangeKind::Semver,
        "ECOSYSTEM" => OsvRangeKind::Ecosystem,
        "GIT" => OsvRangeKind::Git,
        other => return Err(format!("unknown range type {other:?}")),
    };
    if r.events.is_empty() {
        return Err("no events".into());
    }
    let mut events = Vec::with_capacity(r.events.len());
    for (k, e) in r.events.into_iter().enumerate() {
        let mut found = [
            e.introduced.map(OsvEvent::Introduced),
            e.fixed.map(OsvEvent::Fixed),
            e.last_affected.map(OsvEvent::LastAffected),
            e.limit.map(OsvEvent::Limit),
        ]
        .into_iter()
        .flatten();
        match (found.next(), found.next()) {
            (Some(event), None) => events.push(event),
            (None, _) => {
                return Err(format!(
                    "events[{k}] has none of introduced, fixed, last_affected, limit"
                ));
            }
            (Some(_), Some(_)) => {
                return Err(format!(
                    "events[{k}] has more than one of introduced, fixed, last_affected, limit"
                ));
            }
        }
    }
    Ok(OsvRange {
        kind,
        repo: r.repo.filter(|s| !s.trim().is_empty()),
        events,
    })
}

/// Scores already computed in this file: a database repeats the same few
/// thousand vectors across its records, and scoring dominates otherwise.
#[derive(Default)]
struct ScoreCache {
    scores: HashMap<(String, String), Result<CvssScore, String>>,
}

impl ScoreCache {
    const LIMIT: usize = 16_384;

    fn assess(&mut self, vector: &str, assessor: &str) -> Result<CvssScore, String> {
        let key = (vector.to_string(), assessor.to_string());
        if let Some(known) = self.scores.get(&key) {
            return known.clone();
        }
        let result = cvss::assess(vector, assessor, None, None).map_err(|e| e.to_string());
        if self.scores.len() >= Self::LIMIT {
            self.scores.clear();
        }
        self.scores.insert(key, result.clone());
        result
    }
}

/// CVSS vectors from an OSV `severity` list. Other types (`Ubuntu`…) are
/// ignored; a vector that does not parse is skipped and noted.
fn scores(
    list: &[RawSeverity],
    assessor: &str,
    path: &str,
    skipped: &mut Vec<String>,
    cache: &mut ScoreCache,
) -> Vec<CvssScore> {
    let mut out: Vec<CvssScore> = Vec::new();
    for (i, s) in list.iter().enumerate() {
        if !matches!(s.kind.trim(), "CVSS_V2" | "CVSS_V3" | "CVSS_V4") {
            continue;
        }
        match cache.assess(&s.score, assessor) {
            Ok(score) => {
                if !out.iter().any(|c| c.vector == score.vector) {
                    out.push(score);
                }
            }
            Err(e) => skipped.push(format!("{path}[{i}] skipped ({e}); the record was kept")),
        }
    }
    out
}

fn read_database_specific(
    raw: &RawValue,
    path: &str,
    skipped: &mut Vec<String>,
) -> DatabaseSpecific {
    let text = raw.get();
    if !text.starts_with('{') {
        // Free-form by the specification; nothing of ours in a non-object.
        return DatabaseSpecific::default();
    }
    match serde_json::from_str::<DatabaseSpecific>(text) {
        Ok(db) => db,
        Err(e) => {
            let (_, reason) = describe_json_error(text.as_bytes(), &e);
            skipped.push(format!("{path} ignored ({reason}); the record was kept"));
            DatabaseSpecific::default()
        }
    }
}

/// A timestamp field: absent or empty is `None`; Go's zero time
/// (`0001-01-01T00:00:00Z`, written for "unknown") is `None`; anything else
/// must parse.
fn timestamp(field: &str, value: Option<&str>) -> Result<Option<DateTime<Utc>>, String> {
    let Some(value) = value.map(str::trim).filter(|v| !v.is_empty()) else {
        return Ok(None);
    };
    match parse_timestamp(value) {
        Some(t) if t.year() <= 1 => Ok(None),
        Some(t) => Ok(Some(t)),
        None => Err(format!("{field}: {value:?} is not a timestamp")),
    }
}

/// The database an OSV id comes from: its prefix (`GO`, `GHSA`, `BIT`, `PYSEC`…).
fn database_prefix(id: &str) -> &str {
    id.split_once('-')
        .map(|(p, _)| p)
        .filter(|p| !p.is_empty())
        .unwrap_or(id)
}

fn non_empty(s: Option<String>) -> Option<String> {
    s.filter(|s| !s.trim().is_empty())
}

fn strip_bom(bytes: &[u8]) -> &[u8] {
    bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes)
}

fn first_significant_byte(bytes: &[u8]) -> Option<u8> {
    bytes.iter().copied().find(|b| !b.is_ascii_whitespace())
}

/// Whether a JSON object has an `id` key at its top level (cheap check used
/// only when a single-record file failed to give an id).
fn has_top_level_id(bytes: &[u8]) -> bool {
    #[derive(Deserialize)]
    struct Probe {
        id: Option<serde::de::IgnoredAny>,
    }
    serde_json::from_slice::<Probe>(bytes).is_ok_and(|p| p.id.is_some())
}

// ---------------------------------------------------------------------------
// Error locations: serde_json says "line 1 column 523"; users want
// "affected[0].ranges[0].events[1].fixed".

/// The serde message without its position, and a reason with the JSON path
/// of the failing value in front (`affected[0].package: missing field \`name\``).
pub(crate) fn describe_json_error(json: &[u8], e: &serde_json::Error) -> (String, String) {
    let full = e.to_string();
    let message = match full.rfind(" at line ") {
        Some(cut) => full.get(..cut).unwrap_or(&full).to_string(),
        None => full.clone(),
    };
    let offset = byte_offset(json, e.line(), e.column());
    let path = json_path_at(json, offset);
    let reason = if path.is_empty() {
        message.clone()
    } else {
        format!("{path}: {message}")
    };
    (message, reason)
}

/// Byte offset of serde_json's 1-based `line` and `column` (bytes within the line).
fn byte_offset(json: &[u8], line: usize, column: usize) -> usize {
    let mut start = 0;
    if line > 1 {
        let mut seen = 1;
        for (i, &b) in json.iter().enumerate() {
            if b == b'\n' {
                seen += 1;
                if seen == line {
                    start = i + 1;
                    break;
                }
            }
        }
    }
    start.saturating_add(column).min(json.len())
}

enum Frame {
    Object { key: Option<String>, in_value: bool },
    Array { index: usize },
}

/// The path (`affected[0].ranges[1].type`) of the innermost value open at
/// byte `offset`, by scanning the JSON up to it.
pub(crate) fn json_path_at(json: &[u8], offset: usize) -> String {
    let mut stack: Vec<Frame> = Vec::new();
    let end = offset.min(json.len());
    let mut i = 0;
    while i < end {
        let Some(&b) = json.get(i) else { break };
        match b {
            b'"' => {
                let start = i + 1;
                let mut j = start;
                while let Some(&c) = json.get(j) {
                    match c {
                        b'\\' => j += 2,
                        b'"' => break,
                        _ => j += 1,
                    }
                }
                if let Some(Frame::Object {
                    key,
                    in_value: false,
                }) = stack.last_mut()
                {
                    let text = json.get(start..j.min(json.len())).unwrap_or_default();
                    *key = Some(String::from_utf8_lossy(text).into_owned());
                }
                i = j + 1;
                continue;
            }
            b'{' => stack.push(Frame::Object {
                key: None,
                in_value: false,
            }),
            b'[' => stack.push(Frame::Array { index: 0 }),
            b'}' | b']' => {
                stack.pop();
            }
            b':' => {
                if let Some(Frame::Object { in_value, .. }) = stack.last_mut() {
                    *in_value = true;
                }
            }
            b',' => match stack.last_mut() {
                Some(Frame::Object { in_value, .. }) => *in_value = false,
                Some(Frame::Array { index }) => *index += 1,
                None => {}
            },
            _ => {}
        }
        i += 1;
    }
    let mut path = String::new();
    for frame in &stack {
        match frame {
            Frame::Object { key: Some(k), .. } => {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(k);
            }
            Frame::Object { key: None, .. } => {}
            Frame::Array { index } => {
                path.push('[');
                path.push_str(&index.to_string());
                path.push(']');
            }
        }
    }
    path
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

    use super::*;
    use crate::model::{CvssVersion, Severity};

    const GO_TWO_PACKAGES: &str =
        include_str!("../tests/fixtures/osv/go_stdlib_and_x_net_reopened_range.json");
    const GO_THREE_BRANCHES: &str =
        include_str!("../tests/fixtures/osv/go_cilium_three_fixed_branches.jsonl");
    const GO_WITHDRAWN: &str =
        include_str!("../tests/fixtures/osv/go_withdrawn_kubernetes_proxy.jsonl");
    const GO_DUPLICATE_ALIAS: &str =
        include_str!("../tests/fixtures/osv/go_duplicate_cve_alias.jsonl");
    const BITNAMI_TOMCAT: &str =
        include_str!("../tests/fixtures/osv/bitnami_tomcat_cpes_cvss3.json");
    const BITNAMI_APISIX: &str =
        include_str!("../tests/fixtures/osv/bitnami_apisix_cvss4_last_affected.jsonl");

    fn all(bytes: &[u8], lines: bool) -> Vec<Parsed> {
        let mut out = Vec::new();
        let result = if lines {
            parse_lines(bytes, &mut |p| out.push(p))
        } else {
            parse(bytes, &mut |p| out.push(p))
        };
        result.unwrap();
        out
    }

    fn records(items: &[Parsed]) -> Vec<&SourceRecord> {
        items
            .iter()
            .filter_map(|p| match p {
                Parsed::Record(r) => Some(r.as_ref()),
                _ => None,
            })
            .collect()
    }

    fn rejections(items: &[Parsed]) -> Vec<&Rejection> {
        items
            .iter()
            .filter_map(|p| match p {
                Parsed::Rejected(r) => Some(r),
                _ => None,
            })
            .collect()
    }

    fn warnings(items: &[Parsed]) -> Vec<&Rejection> {
        items
            .iter()
            .filter_map(|p| match p {
                Parsed::Warning(r) => Some(r),
                _ => None,
            })
            .collect()
    }

    fn osv(a: &Affected) -> &OsvAffected {
        match a {
            Affected::Osv(a) => a,
            other => panic!("not OSV: {other:?}"),
        }
    }

    fn introduced(v: &str) -> OsvEvent {
        OsvEvent::Introduced(v.into())
    }
    fn fixed(v: &str) -> OsvEvent {
        OsvEvent::Fixed(v.into())
    }

    #[test]
    fn go_record_with_two_packages_and_a_reopened_range() {
        let r = parse_record(GO_TWO_PACKAGES).unwrap();
        assert_eq!(r.source, SourceKind::Osv);
        assert_eq!(r.record_id, "GO-2022-0969");
        assert_eq!(r.vuln_id, "CVE-2022-27664");
        assert_eq!(r.aliases, ["GHSA-69cg-p879-7622", "GO-2022-0969"]);
        assert_eq!(r.publisher.as_deref(), Some("GO"));
        assert_eq!(r.state, RecordState::Published);
        assert_eq!(
            r.title.as_deref(),
            Some("Denial of service in net/http and golang.org/x/net/http2")
        );
        assert!(
            r.description
                .as_deref()
                .unwrap()
                .starts_with("HTTP/2 server connections")
        );
        assert_eq!(
            r.published.map(|t| t.to_rfc3339()).as_deref(),
            Some("2022-09-12T20:23:06+00:00")
        );
        // Go writes the zero time for "unknown".
        assert_eq!(r.modified, None);
        assert!(r.cvss.is_empty());
        assert_eq!(r.affected.len(), 2);
        let stdlib = osv(&r.affected[0]);
        assert_eq!(
            (stdlib.ecosystem.as_str(), stdlib.name.as_str()),
            ("Go", "stdlib")
        );
        assert_eq!(stdlib.purl, None);
        assert_eq!(stdlib.ranges.len(), 1);
        assert_eq!(stdlib.ranges[0].kind, OsvRangeKind::Semver);
        assert_eq!(
            stdlib.ranges[0].events,
            [
                introduced("0"),
                fixed("1.18.6"),
                introduced("1.19.0-0"),
                fixed("1.19.1")
            ]
        );
        let xnet = osv(&r.affected[1]);
        assert_eq!(xnet.name, "golang.org/x/net");
        assert_eq!(
            xnet.ranges[0].events,
            [introduced("0"), fixed("0.0.0-20220906165146-f3363e06e74c")]
        );
        assert!(xnet.cpes.is_empty() && xnet.versions.is_empty());
        assert_eq!(r.references.len(), 3);
        assert_eq!(r.references[1].url, "https://go.dev/issue/54658");
        assert_eq!(r.references[1].tags, ["REPORT"]);
    }

    #[test]
    fn go_record_with_three_fixed_branches_as_json_lines() {
        let items = all(GO_THREE_BRANCHES.as_bytes(), true);
        assert!(rejections(&items).is_empty());
        let r = records(&items)[0];
        assert_eq!(r.record_id, "GO-2024-2666");
        assert_eq!(r.vuln_id, "CVE-2024-28860");
        let a = osv(&r.affected[0]);
        assert_eq!(
            a.ranges[0].events,
            [
                introduced("0"),
                fixed("1.13.14"),
                introduced("1.14.0"),
                fixed("1.14.9"),
                introduced("1.15.0"),
                fixed("1.15.3")
            ]
        );
    }

    #[test]
    fn withdrawn_record_keeps_its_date() {
        let r = parse_record(GO_WITHDRAWN.trim()).unwrap();
        assert_eq!(r.record_id, "GO-2022-0617");
        assert_eq!(r.vuln_id, "CVE-2020-8562");
        assert_eq!(
            r.state,
            RecordState::Withdrawn {
                at: parse_timestamp("2024-08-21T16:25:56Z")
            }
        );
        assert_eq!(r.published, None);
        // A range with only an introduced event: every version from 0.
        assert_eq!(osv(&r.affected[0]).ranges[0].events, [introduced("0")]);
    }

    #[test]
    fn duplicate_cve_alias_is_not_repeated() {
        let r = parse_record(GO_DUPLICATE_ALIAS.trim()).unwrap();
        assert_eq!(r.vuln_id, "CVE-2025-68120");
        assert_eq!(r.aliases, ["GO-2025-4249"]);
    }

    #[test]
    fn bitnami_record_carries_cpes_and_per_package_cvss() {
        let items = all(BITNAMI_TOMCAT.as_bytes(), false);
        assert!(rejections(&items).is_empty());
        let r = records(&items)[0];
        assert_eq!(r.record_id, "BIT-tomcat-2021-24122");
        assert_eq!(r.vuln_id, "CVE-2021-24122");
        assert_eq!(r.aliases, ["BIT-tomcat-2021-24122"]);
        assert_eq!(r.publisher.as_deref(), Some("BIT"));
        assert_eq!(
            r.title.as_deref(),
            Some("Apache Tomcat information disclosure")
        );
        let a = osv(&r.affected[0]);
        assert_eq!(
            (a.ecosystem.as_str(), a.name.as_str()),
            ("Bitnami", "tomcat")
        );
        assert_eq!(a.purl.as_deref(), Some("pkg:bitnami/tomcat"));
        assert_eq!(
            a.ranges[0].events,
            [
                introduced("7.0.0"),
                fixed("7.0.107"),
                introduced("8.5.0"),
                fixed("8.5.60"),
                introduced("9.0.1"),
                fixed("9.0.40")
            ]
        );
        assert_eq!(a.cpes[0], "cpe:2.3:a:apache:tomcat:*:*:*:*:*:*:*:*");
        assert!(a.cpes.len() > 5, "{:?}", a.cpes);
        assert_eq!(a.severity.len(), 1);
        assert_eq!(a.severity[0].version, CvssVersion::V31);
        assert_eq!(a.severity[0].base_score, 5.9);
        assert_eq!(a.severity[0].severity, Severity::Medium);
        assert_eq!(a.severity[0].assessor, "BIT");
        // Lifted to the record, which has no severity of its own.
        assert_eq!(r.max_cvss().map(|s| s.base_score), Some(5.9));
    }

    #[test]
    fn bitnami_cvss4_vector_and_last_affected() {
        let r = parse_record(BITNAMI_APISIX.trim()).unwrap();
        assert_eq!(r.record_id, "BIT-apisix-2026-47341");
        let a = osv(&r.affected[0]);
        assert_eq!(
            a.ranges[0].events,
            [
                introduced("3.11.0"),
                OsvEvent::LastAffected("3.17.0".into())
            ]
        );
        assert_eq!(a.severity[0].version, CvssVersion::V40);
        assert!(a.severity[0].base_score > 0.0 && a.severity[0].base_score < 7.0);
        assert_eq!(a.cpes, ["cpe:2.3:a:apache:apisix:*:*:*:*:*:*:*:*"]);
        assert_eq!(
            r.modified.map(|t| t.to_rfc3339()).as_deref(),
            Some("2026-06-23T15:08:27.870+00:00")
        );
    }

    #[test]
    fn json_lines_with_blank_and_bad_lines() {
        let text = format!(
            "{}\n\n{{\"id\": \"GO-X\", \"aliases\": 5}}\nnot json\n{}\n",
            GO_WITHDRAWN.trim(),
            BITNAMI_APISIX.trim()
        );
        let items = all(text.as_bytes(), true);
        let recs = records(&items);
        assert_eq!(
            recs.iter()
                .map(|r| r.record_id.as_str())
                .collect::<Vec<_>>(),
            ["GO-2022-0617", "BIT-apisix-2026-47341"]
        );
        let rej = rejections(&items);
        assert_eq!(rej.len(), 2, "{rej:?}");
        assert_eq!(rej[0].position, 3);
        assert_eq!(rej[0].record_id.as_deref(), Some("GO-X"));
        assert!(
            rej[0].reason.starts_with("aliases: invalid type"),
            "{}",
            rej[0].reason
        );
        assert_eq!(rej[1].position, 4);
        assert!(
            rej[1].reason.starts_with("not valid JSON"),
            "{}",
            rej[1].reason
        );
    }

    #[test]
    fn top_level_array_positions_and_precise_paths() {
        let bad = GO_TWO_PACKAGES.replacen("\"fixed\": \"1.19.1\"", "\"fixed\": 119", 1);
        assert_ne!(bad, GO_TWO_PACKAGES);
        let text = format!("[{}, {}, 7]", BITNAMI_TOMCAT, bad);
        let items = all(text.as_bytes(), false);
        let recs = records(&items);
        assert_eq!(recs.len(), 1);
        assert_eq!(recs[0].record_id, "BIT-tomcat-2021-24122");
        let rej = rejections(&items);
        assert_eq!(rej.len(), 2);
        assert_eq!(rej[0].position, 1);
        assert_eq!(rej[0].record_id.as_deref(), Some("GO-2022-0969"));
        assert!(
            rej[0]
                .reason
                .starts_with("affected[0].ranges[0].events[3].fixed: invalid type: integer `119`"),
            "{}",
            rej[0].reason
        );
        assert_eq!(rej[1].position, 2);
        assert_eq!(
            rej[1].reason,
            "the record is not a JSON object (it starts with '7')"
        );
        let missing = GO_TWO_PACKAGES.replacen("\"type\": \"SEMVER\",", "", 1);
        let err = parse_record(&missing).unwrap_err();
        assert!(
            err.starts_with("affected[0].ranges[0]: missing field `type`"),
            "{err}"
        );
    }

    #[test]
    fn unknown_range_type_and_bad_vector_are_skipped_not_fatal() {
        let text = BITNAMI_APISIX
            .trim()
            .replacen("\"type\":\"SEMVER\"", "\"type\":\"CALVER\"", 1)
            .replacen("CVSS:4.0/AV:N", "CVSS:4.0/AV:Q", 1)
            .replacen(
                "\"severity\":[",
                "\"severity\":[{\"type\":\"Ubuntu\",\"score\":\"medium\"},",
                1,
            );
        let items = all(text.as_bytes(), true);
        let recs = records(&items);
        assert_eq!(recs.len(), 1);
        let a = osv(&recs[0].affected[0]);
        assert!(a.ranges.is_empty() && a.severity.is_empty());
        assert_eq!(a.cpes.len(), 1);
        assert!(rejections(&items).is_empty());
        let rej = warnings(&items);
        assert_eq!(rej.len(), 2, "{rej:?}");
        assert!(rej.iter().all(|r| r.position == 1
            && r.record_id.as_deref() == Some("BIT-apisix-2026-47341")
            && r.reason.contains("the record was kept")));
        assert!(
            rej[0]
                .reason
                .starts_with("affected[0].ranges[0] skipped (unknown range type \"CALVER\")")
        );
        assert!(
            rej[1].reason.starts_with("affected[0].severity[1] skipped"),
            "{}",
            rej[1].reason
        );
    }

    #[test]
    fn ids_cwes_upstream_and_git_ranges() {
        // A GHSA-shaped record (constructed; no GHSA data in the corpus).
        let json = r#"{"id":"GHSA-xxxx-yyyy-zzzz","modified":"2024-01-02T03:04:05Z",
            "aliases":["PYSEC-2024-1"],"upstream":["CVE-2024-0001","GHSA-xxxx-yyyy-zzzz"],
            "severity":[{"type":"CVSS_V3","score":"CVSS:3.1/AV:N/AC:L/PR:N/UI:N/S:U/C:H/I:H/A:H"}],
            "affected":[{"package":{"ecosystem":"PyPI","name":"demo"},"versions":["1.0","1.1"],
              "database_specific":{"cpes":["cpe:2.3:a:demo:demo:*:*:*:*:*:*:*:*"]},
              "ranges":[{"type":"GIT","repo":"https://example.org/demo","events":[{"introduced":"0"},{"limit":"abc"}]},
                        {"type":"ECOSYSTEM","events":[{"introduced":"1.0","fixed":"1.2"}]}]}],
            "database_specific":{"cwe_ids":["CWE-79","79","CWE-89"],"severity":"HIGH"}}"#;
        let mut items = Vec::new();
        parse(json.as_bytes(), &mut |p| items.push(p)).unwrap();
        let r = records(&items)[0];
        assert_eq!(r.vuln_id, "CVE-2024-0001");
        assert_eq!(r.aliases, ["PYSEC-2024-1", "GHSA-xxxx-yyyy-zzzz"]);
        assert_eq!(r.publisher.as_deref(), Some("GHSA"));
        assert_eq!(r.cwes, ["CWE-79", "CWE-89"]);
        assert_eq!(r.cvss[0].base_score, 9.8);
        let a = osv(&r.affected[0]);
        assert_eq!(a.versions, ["1.0", "1.1"]);
        assert_eq!(a.cpes, ["cpe:2.3:a:demo:demo:*:*:*:*:*:*:*:*"]);
        assert_eq!(a.ranges.len(), 1);
        assert_eq!(a.ranges[0].kind, OsvRangeKind::Git);
        assert_eq!(
            a.ranges[0].repo.as_deref(),
            Some("https://example.org/demo")
        );
        assert_eq!(
            a.ranges[0].events,
            [introduced("0"), OsvEvent::Limit("abc".into())]
        );
        assert!(rejections(&items).is_empty());
        let rej = warnings(&items);
        assert_eq!(rej.len(), 1);
        assert!(
            rej[0].reason.contains("events[0] has more than one"),
            "{}",
            rej[0].reason
        );
    }

    #[test]
    fn whole_file_problems() {
        let mut sink = |_p: Parsed| {};
        assert!(matches!(
            parse(b"", &mut sink),
            Err(ParseError::WrongShape { .. })
        ));
        assert!(matches!(
            parse(b"42", &mut sink),
            Err(ParseError::WrongShape { .. })
        ));
        assert!(matches!(
            parse(b"{\"id\": ", &mut sink),
            Err(ParseError::Json(_))
        ));
        assert!(matches!(
            parse(b"[1, 2", &mut sink),
            Err(ParseError::Json(_))
        ));
        assert!(matches!(
            parse(br#"{"catalogVersion":"x","vulnerabilities":[]}"#, &mut sink),
            Err(ParseError::WrongShape { .. })
        ));
        assert!(matches!(
            parse_lines(b"[]", &mut sink),
            Err(ParseError::WrongShape { .. })
        ));
        assert!(matches!(
            parse_lines(b"  \n", &mut sink),
            Err(ParseError::WrongShape { .. })
        ));
        assert!(
            parse_record("{\"id\":\"\"}")
                .unwrap_err()
                .contains("id: missing")
        );
        assert!(
            parse_record(r#"{"id":"GO-1","modified":"yesterday"}"#)
                .unwrap_err()
                .contains("modified: \"yesterday\" is not a timestamp")
        );
    }

    #[test]
    fn json_paths() {
        let j = br#"{"a":[{"b":1},{"c":[true,"x\"y",{"d":null}]}]}"#;
        let at = |needle: &str| {
            let pos = j
                .windows(needle.len())
                .position(|w| w == needle.as_bytes())
                .unwrap();
            json_path_at(j, pos + needle.len())
        };
        assert_eq!(at("1"), "a[0].b");
        assert_eq!(at("true"), "a[1].c[0]");
        assert_eq!(at("y\""), "a[1].c[1]");
        assert_eq!(at("null"), "a[1].c[2].d");
        assert_eq!(json_path_at(j, 0), "");
        assert_eq!(json_path_at(j, 10_000), "");
    }
}
