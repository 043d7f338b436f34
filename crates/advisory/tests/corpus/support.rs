//! Finding and decompressing corpus files.

use std::io::Read;
use std::path::{Path, PathBuf};

/// `../shared/data` beside the repository, if present. Under `CI=true` its
/// absence is a failure.
pub fn corpus_dir() -> Option<PathBuf> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data");
    if dir.is_dir() {
        return Some(dir);
    }
    if std::env::var("CI").is_ok_and(|v| v == "true") {
        panic!("the corpus {} is missing but CI=true", dir.display());
    }
    eprintln!("note: {} not found; skipping corpus tests", dir.display());
    None
}

/// A corpus file, decompressed by its extension (`.gz`, `.xz`, or plain).
pub fn read(path: &Path) -> Vec<u8> {
    let raw = std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let mut out = Vec::new();
    match path.extension().and_then(|e| e.to_str()) {
        Some("gz") => {
            flate2::read::GzDecoder::new(&raw[..])
                .read_to_end(&mut out)
                .expect("gunzip");
        }
        Some("xz") => {
            liblzma::read::XzDecoder::new(&raw[..])
                .read_to_end(&mut out)
                .expect("unxz");
        }
        _ => out = raw,
    }
    out
}

/// Every file under `dir` (recursively) whose name ends with `suffix`, sorted.
pub fn files(dir: &Path, suffix: &str) -> Vec<PathBuf> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.to_string_lossy().ends_with(suffix) {
                out.push(p);
            }
        }
    }
    out.sort();
    out
}
