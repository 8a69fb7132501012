//! Replays fuzz inputs through the same properties the fuzz targets check,
//! on stable, so a crash once found stays fixed: the committed
//! `fuzz/regressions/<target>/` (inputs that once crashed) and
//! `fuzz/seeds/<target>/` (hand-written starting points) always, and the
//! corpus `make fuzz` grows in `fuzz/corpus/<target>/` when it is present
//! (it is not committed).

use std::path::PathBuf;

include!("../../../fuzz/properties.rs");

/// A fuzz target's property over one input.
type Property = fn(&[u8]);

const TARGETS: [(&str, Property); 4] = [
    ("config_parse", config_parse),
    ("jwt_claims", jwt_claims),
    ("error_decode", error_decode),
    ("render_roundtrip", render_roundtrip),
];

fn fuzz_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz")
}

/// Runs `property` over every file in `dir` (none if it is absent); the count.
fn replay(dir: &Path, property: Property) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut inputs = 0;
    for entry in entries {
        let path = entry.unwrap().path();
        if path.file_name().is_some_and(|n| n.to_string_lossy().starts_with('.')) {
            continue;
        }
        property(&std::fs::read(&path).unwrap());
        inputs += 1;
    }
    inputs
}

#[test]
fn regressions_and_seeds_replay() {
    for (target, property) in TARGETS {
        let regressions = replay(&fuzz_dir().join("regressions").join(target), property);
        let seeds = replay(&fuzz_dir().join("seeds").join(target), property);
        assert!(seeds > 0, "{target} has no seed inputs");
        println!("{target}: {regressions} regressions, {seeds} seeds replayed");
    }
    assert!(
        fuzz_dir()
            .join("regressions/config_parse/complex-mapping-key")
            .is_file(),
        "the YAML complex-key crash stays a regression input"
    );
}

#[test]
fn grown_corpus_replays_when_present() {
    for (target, property) in TARGETS {
        let inputs = replay(&fuzz_dir().join("corpus").join(target), property);
        println!("{target}: {inputs} corpus inputs replayed");
    }
}
