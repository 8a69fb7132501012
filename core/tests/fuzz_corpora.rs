//! Replays the committed fuzz corpora (`fuzz/corpus/<target>/*`) through the
//! same properties the fuzz targets check, on stable, so a crash once found
//! stays fixed. `make fuzz` grows the corpora.
#![allow(clippy::unwrap_used, dead_code)]

include!("../../fuzz/properties.rs");

/// A fuzz target's property over one input.
type Property = fn(&[u8]);

#[test]
fn corpora_replay() {
    let root = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../fuzz/corpus");
    let targets: [(&str, Property); 4] = [
        ("config_parse", config_parse),
        ("jwt_claims", jwt_claims),
        ("error_decode", error_decode),
        ("render_roundtrip", render_roundtrip),
    ];
    for (target, property) in targets {
        let mut inputs = 0;
        for entry in std::fs::read_dir(root.join(target)).unwrap() {
            let path = entry.unwrap().path();
            property(&std::fs::read(&path).unwrap());
            inputs += 1;
        }
        assert!(inputs > 0, "{target} has no corpus");
        println!("{target}: {inputs} inputs replayed");
    }
}
