//! The command line's cases of `tests/vectors/bad_inputs.json`: each exits
//! with the code the vector names, says why on stderr, and sends nothing.

use serde_json::Value;

use crate::support::{admin_config, argv_with_config, emulator};
use crate::vectors::load;

#[tokio::test]
async fn every_bad_command_line_exits_before_any_request() {
    let doc = load("bad_inputs.json");
    let cases: Vec<&Value> = doc["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == "cli")
        .collect();
    assert!(cases.len() >= 5, "the vectors hold command lines");
    let emu = emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let config = admin_config(dir.path(), emu.url());
    for case in cases {
        let out = wayfinder_tokens_cli::run(argv_with_config(case, &config)).await;
        assert_eq!(
            i64::from(out.code),
            case["exit"].as_i64().unwrap(),
            "{}: {out:?}",
            case["case"]
        );
        assert!(!out.stderr.is_empty(), "{}", case["case"]);
    }
    assert_eq!(emu.stats().total, 0, "a bad command line reached the network");
}

/// The server's words reach the terminal as it wrote them: an option's name
/// in them is never turned into a flag.
#[tokio::test]
async fn server_words_reach_the_terminal_as_sent() {
    let doc = load("bad_inputs.json");
    let cases: Vec<&Value> = doc["cases"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["kind"] == "answer" && c.get("message_contains").is_some())
        .collect();
    assert!(cases.len() >= 2);
    let emu = emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let config = admin_config(dir.path(), emu.url());
    for case in cases {
        let mut spec = case["fault"].clone();
        spec["path_prefix"] = "/resources".into();
        emu.clear_faults();
        emu.inject_fault(serde_json::from_value(spec).unwrap()).unwrap();
        let config = config.display().to_string();
        let out = wayfinder_tokens_cli::run(["list", "workspaceaccesstokens", "--config", &config]).await;
        assert_eq!(out.code, 1, "{}: {out:?}", case["case"]);
        assert!(
            out.stderr.contains(case["message_contains"].as_str().unwrap()),
            "{out:?}"
        );
        for field_error in case
            .get("server_field_errors")
            .and_then(Value::as_array)
            .into_iter()
            .flatten()
        {
            assert!(out.stderr.contains(field_error["message"].as_str().unwrap()), "{out:?}");
        }
    }
}
