//! Replays every seed (`fuzz/corpus/<target>/`) and every input that once found a bug
//! (`fuzz/regressions/<target>/`) through the fuzz harnesses, so that plain `cargo test`
//! keeps what the fuzzer checked, without cargo-fuzz or a nightly compiler.

use std::path::{Path, PathBuf};

use sageflow::fuzzing::TARGETS;

fn inputs(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .map(|e| e.expect("readable directory entry").path())
        .filter(|p| p.is_file())
        .collect();
    files.sort();
    files
}

fn replay(kind: &str) -> usize {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("fuzz")
        .join(kind);
    let mut n = 0;
    for (target, harness) in TARGETS {
        for file in inputs(&root.join(target)) {
            let data = std::fs::read(&file).expect("readable input");
            // A panic names the input, so the failing file is the first thing one sees.
            let outcome = std::panic::catch_unwind(|| harness(&data));
            assert!(outcome.is_ok(), "{target}: {} fails", file.display());
            n += 1;
        }
    }
    n
}

#[test]
fn every_seed_passes_its_harness() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("fuzz/corpus");
    for (target, _) in TARGETS {
        assert!(
            !inputs(&root.join(target)).is_empty(),
            "fuzz/corpus/{target} has no seed"
        );
    }
    assert!(replay("corpus") > 0);
}

#[test]
fn every_regression_input_passes_its_harness() {
    replay("regressions");
}

#[test]
fn every_corpus_directory_is_a_target() {
    for kind in ["corpus", "regressions"] {
        let root = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("fuzz")
            .join(kind);
        let Ok(entries) = std::fs::read_dir(&root) else {
            continue;
        };
        for e in entries {
            let name = e.expect("entry").file_name().to_string_lossy().into_owned();
            assert!(
                TARGETS.iter().any(|(t, _)| *t == name),
                "fuzz/{kind}/{name} is not a fuzz target, so its inputs would never run"
            );
        }
    }
}
