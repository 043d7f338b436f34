//! Tell a file's format by its content, not its name.

use serde::Serialize;

/// The formats openwarp can ingest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    /// NVD CVE API 2.0 response or yearly feed (`vulnerabilities[].cve`).
    Nvd,
    /// A single CVE JSON 5 record.
    Cve5,
    /// CVE JSON 5 records, one per line.
    Cve5Lines,
    /// CISA KEV catalogue JSON.
    Kev,
    /// One CSAF 2.0 document.
    Csaf,
    /// CSAF 2.0 documents, one per line.
    CsafLines,
    /// One OSV record.
    Osv,
    /// OSV records, one per line.
    OsvLines,
    /// FIRST EPSS CSV.
    Epss,
}

impl Format {
    pub fn label(self) -> &'static str {
        match self {
            Format::Nvd => "NVD CVE API 2.0",
            Format::Cve5 | Format::Cve5Lines => "CVE JSON 5",
            Format::Kev => "CISA KEV",
            Format::Csaf | Format::CsafLines => "CSAF 2.0",
            Format::Osv | Format::OsvLines => "OSV",
            Format::Epss => "EPSS CSV",
        }
    }
}

/// Look at the start of a (decompressed) file and say what it is. Only the
/// first object's keys are inspected, so this is cheap on large files.
pub fn detect(bytes: &[u8]) -> Option<Format> {
    let text = leading_text(bytes);
    let trimmed = text.trim_start_matches('\u{feff}').trim_start();
    if trimmed.starts_with("#model_version") || trimmed.starts_with("cve,epss,percentile") {
        return Some(Format::Epss);
    }
    if !trimmed.starts_with('{') {
        return None;
    }
    // JSON Lines: a complete object on the first line, and another line after it.
    let first_line = trimmed.lines().next().unwrap_or("");
    let is_lines = trimmed.len() > first_line.len()
        && serde_json::from_str::<serde::de::IgnoredAny>(first_line).is_ok()
        && trimmed[first_line.len()..].trim_start().starts_with('{');
    let head = if is_lines { first_line } else { trimmed };
    let has = |key: &str| head.contains(&format!("\"{key}\""));
    // A JSON Schema describing one of the formats names the same keys; it is not data.
    if has("$schema") && (has("properties") || has("definitions") || has("$defs")) {
        return None;
    }
    let lines = |single: Format, many: Format| if is_lines { many } else { single };
    if has("vulnerabilities") && (has("NVD_CVE") || has("resultsPerPage")) {
        Some(Format::Nvd)
    } else if has("dataType") && head.contains("CVE_RECORD") {
        Some(lines(Format::Cve5, Format::Cve5Lines))
    } else if has("catalogVersion") && has("vulnerabilities") {
        Some(Format::Kev)
    } else if has("csaf_version") {
        Some(lines(Format::Csaf, Format::CsafLines))
    } else if has("id")
        && ((has("schema_version") && (has("affected") || has("modified")))
            || (has("modified") && (has("affected") || has("aliases"))))
    {
        Some(lines(Format::Osv, Format::OsvLines))
    } else {
        None
    }
}

/// Up to the first 64 KiB as text (lossy at the cut).
fn leading_text(bytes: &[u8]) -> std::borrow::Cow<'_, str> {
    let cut = bytes.len().min(64 * 1024);
    String::from_utf8_lossy(&bytes[..cut])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_content() {
        assert_eq!(detect(b"#model_version:v2025.03.14,score_date:2026-01-30T12:55:00Z\ncve,epss,percentile\n"), Some(Format::Epss));
        assert_eq!(
            detect(br#"{"resultsPerPage":1,"format":"NVD_CVE","vulnerabilities":[]}"#),
            Some(Format::Nvd)
        );
        assert_eq!(
            detect(br#"{"dataType":"CVE_RECORD","dataVersion":"5.1","cveMetadata":{}}"#),
            Some(Format::Cve5)
        );
        assert_eq!(
            detect(b"{\"dataType\":\"CVE_RECORD\"}\n{\"dataType\":\"CVE_RECORD\"}\n"),
            Some(Format::Cve5Lines)
        );
        assert_eq!(
            detect(
                br#"{"title":"CISA Catalog","catalogVersion":"2025.08.25","vulnerabilities":[]}"#
            ),
            Some(Format::Kev)
        );
        assert_eq!(
            detect(br#"{"document":{"csaf_version":"2.0"}}"#),
            Some(Format::Csaf)
        );
        assert_eq!(
            detect(
                br#"{"schema_version":"1.3.1","id":"GO-2020-0001","modified":"x","affected":[]}"#
            ),
            Some(Format::Osv)
        );
        assert_eq!(
            detect(br#"{"$schema":"http://json-schema.org/draft-07/schema#","properties":{"catalogVersion":{},"vulnerabilities":{}}}"#),
            None
        );
        assert_eq!(detect(b"hello"), None);
        assert_eq!(detect(b"{\"something\":1}"), None);
        assert_eq!(detect(b""), None);
    }
}
