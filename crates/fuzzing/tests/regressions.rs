//! Replays, on stable Rust and in the ordinary test run, every input kept in
//! `regressions/<target>/`: inputs that once crashed a parser or broke an
//! invariant (found by `cargo xtask fuzz`), and inputs written by hand to
//! pin an edge. A folder must be named after a target.

#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)] // tests: failing loudly is the point

use std::path::Path;

#[test]
fn every_kept_input_runs_through_its_target_without_a_panic() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("regressions");
    let mut replayed = 0;
    for dir in std::fs::read_dir(&root).expect("regressions folder") {
        let dir = dir.expect("entry").path();
        if !dir.is_dir() {
            continue;
        }
        let name = dir
            .file_name()
            .and_then(|n| n.to_str())
            .expect("utf-8 name");
        let body = openwarp_fuzzing::target(name)
            .unwrap_or_else(|| panic!("regressions/{name} is not named after a fuzz target"));
        for file in std::fs::read_dir(&dir).expect("target folder") {
            let file = file.expect("entry").path();
            let data = std::fs::read(&file).expect("input");
            body(&data);
            replayed += 1;
        }
    }
    assert!(replayed > 0, "no inputs under {}", root.display());
}

#[test]
fn targets_are_named_once() {
    let mut names: Vec<&str> = openwarp_fuzzing::TARGETS.iter().map(|(n, _)| *n).collect();
    let all = names.len();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), all);
    for name in &names {
        assert!(
            Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("../../fuzz/fuzz_targets")
                .join(format!("{name}.rs"))
                .is_file(),
            "fuzz/fuzz_targets/{name}.rs is missing"
        );
    }
}
