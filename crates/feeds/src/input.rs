//! Reading inputs: expand folders, decompress by magic bytes.

use std::io::Read;
use std::path::{Path, PathBuf};

#[derive(Debug, thiserror::Error)]
pub enum InputError {
    #[error("{path}: {source}")]
    Io {
        path: String,
        source: std::io::Error,
    },
    #[error("{path}: the {codec} stream is corrupt or truncated: {reason}")]
    Decompress {
        path: String,
        codec: &'static str,
        reason: String,
    },
    #[error("{path}: larger than {limit} bytes once decompressed")]
    TooLarge { path: String, limit: u64 },
}

/// Largest decompressed input we accept, so a hostile archive cannot exhaust memory.
pub const MAX_DECOMPRESSED: u64 = 4 * 1024 * 1024 * 1024;

/// Decompress `raw` if it starts with a gzip or xz header; otherwise return it.
pub fn decompress(name: &str, raw: Vec<u8>) -> Result<Vec<u8>, InputError> {
    let codec = if raw.starts_with(&[0x1f, 0x8b]) {
        "gzip"
    } else if raw.starts_with(&[0xfd, b'7', b'z', b'X', b'Z', 0x00]) {
        "xz"
    } else {
        return Ok(raw);
    };
    let mut out = Vec::with_capacity(raw.len().saturating_mul(6));
    let result = match codec {
        "gzip" => flate2::read::MultiGzDecoder::new(&raw[..])
            .take(MAX_DECOMPRESSED + 1)
            .read_to_end(&mut out),
        _ => liblzma::read::XzDecoder::new_multi_decoder(&raw[..])
            .take(MAX_DECOMPRESSED + 1)
            .read_to_end(&mut out),
    };
    result.map_err(|e| InputError::Decompress {
        path: name.to_string(),
        codec,
        reason: e.to_string(),
    })?;
    if out.len() as u64 > MAX_DECOMPRESSED {
        return Err(InputError::TooLarge {
            path: name.to_string(),
            limit: MAX_DECOMPRESSED,
        });
    }
    Ok(out)
}

/// Files named by `paths`: files as given, folders walked recursively (sorted,
/// hidden entries skipped).
pub fn expand_paths(paths: &[PathBuf]) -> Result<Vec<PathBuf>, InputError> {
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|source| InputError::Io {
            path: p.display().to_string(),
            source,
        })?;
        if meta.is_dir() {
            walk(p, &mut out)?;
        } else {
            out.push(p.clone());
        }
    }
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> Result<(), InputError> {
    let io = |source| InputError::Io {
        path: dir.display().to_string(),
        source,
    };
    let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)
        .map_err(io)?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            !p.file_name()
                .and_then(|n| n.to_str())
                .is_some_and(|n| n.starts_with('.'))
        })
        .collect();
    entries.sort();
    for p in entries {
        if p.is_dir() {
            walk(&p, out)?;
        } else {
            out.push(p);
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::io::Write;

    #[test]
    fn decompresses_by_content_not_name() {
        let text = b"{\"hello\":1}".to_vec();
        assert_eq!(
            decompress("plain.gz", text.clone()).ok(),
            Some(text.clone())
        );
        let mut gz = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        gz.write_all(&text).ok();
        let gz = gz.finish().unwrap_or_default();
        assert_eq!(
            decompress("no-extension", gz.clone()).ok(),
            Some(text.clone())
        );
        let mut xz = liblzma::write::XzEncoder::new(Vec::new(), 1);
        xz.write_all(&text).ok();
        let xz = xz.finish().unwrap_or_default();
        assert_eq!(decompress("x", xz).ok(), Some(text));
        let truncated = gz[..gz.len() / 2].to_vec();
        assert!(matches!(
            decompress("cut.gz", truncated),
            Err(InputError::Decompress { .. })
        ));
    }
}
