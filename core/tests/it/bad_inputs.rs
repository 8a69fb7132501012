//! `tests/vectors/bad_inputs.json`: every bad input gives the right error
//! class naming the right field; none panics, and none but the server
//! answers reaches the network.

use std::path::PathBuf;

use crate::common::{ADMIN, admin, emulator, options};
use serde_json::Value;
use wayfinder_emulator::Fault;
use wayfinder_tokens::{Argument, Client, ClientOptions, CreateOptions, Error, RustSpelling, Secret, names};

fn text(v: &Value, key: &str) -> Option<String> {
    v.get(key).and_then(Value::as_str).map(str::to_owned)
}

fn lifetime(v: &Value) -> Result<Option<std::time::Duration>, Error> {
    match v.get("expires_in") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) => names::parse_expires_in(Argument::ExpiresIn, s).map(Some),
        Some(n) => names::seconds(Argument::ExpiresIn, n.as_f64().unwrap_or(f64::NAN)).map(Some),
    }
}

fn check(case: &Value, result: Result<(), Error>) {
    let name = case["case"].as_str().unwrap();
    let err = result.expect_err(name);
    assert_eq!(err.code(), case["error"].as_str().unwrap(), "{name}: {err}");
    if let Some(field) = case["field"].as_str() {
        assert_eq!(
            err.field_errors().first().map(|f| f.field.key()),
            Some(field),
            "{name}: {err}"
        );
    }
    if let Some(status) = case.get("status") {
        assert_eq!(err.status().map(u64::from), status.as_u64(), "{name}: {err}");
    }
    if let Some(part) = case["message_contains"].as_str() {
        assert!(err.to_string().contains(part), "{name}: {err}");
    }
    if let Some(expected) = case.get("server_field_errors") {
        let got: Vec<Value> = err
            .field_errors()
            .iter()
            .map(|f| serde_json::json!({"field": f.field.key(), "code": f.code, "message": f.message(&RustSpelling)}))
            .collect();
        assert_eq!(&Value::from(got), expected, "{name}");
    }
}

#[tokio::test]
async fn every_bad_input_is_a_typed_error() {
    let doc: Value = serde_json::from_str(
        &std::fs::read_to_string(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../tests/vectors/bad_inputs.json"))
            .unwrap(),
    )
    .unwrap();
    let cases = doc["cases"].as_array().unwrap();
    assert!(cases.len() >= 40);
    let emu = emulator().await;
    let client = admin(&emu);
    let dir = tempfile::tempdir().unwrap();
    let mut counted = 0;

    for case in cases.iter().filter(|c| c["kind"] != "answer") {
        let args = &case["args"];
        match case["kind"].as_str().unwrap() {
            "create" => {
                let result = async {
                    let options = CreateOptions {
                        description: text(args, "description"),
                        expires_in: lifetime(args)?,
                        ..CreateOptions::default()
                    };
                    let workspace = text(args, "workspace");
                    client
                        .create_workspace_access_token(&text(args, "name").unwrap(), workspace.as_deref(), &options)
                        .await
                        .map(drop)
                }
                .await;
                check(case, result);
            }
            "assign_access_role" => {
                let (cluster, namespace) = (text(args, "cluster"), text(args, "namespace"));
                let result = client
                    .assign_access_role(
                        &text(args, "token").unwrap(),
                        &text(args, "role").unwrap(),
                        cluster.as_deref(),
                        namespace.as_deref(),
                        None,
                    )
                    .await;
                check(case, result.map(drop));
            }
            "client" => {
                let o = &case["options"];
                let options = ClientOptions {
                    server: text(o, "server"),
                    token: text(o, "token").map(Secret::new),
                    workspace: text(o, "workspace"),
                    api_group_version: text(o, "api_group_version"),
                    ca_certificate: text(o, "ca_certificate"),
                    ..ClientOptions::default()
                };
                check(case, Client::new(&options).map(drop));
            }
            "config" => {
                let path = dir.path().join(format!("config-{counted}"));
                std::fs::write(&path, case["file"].as_str().unwrap()).unwrap();
                let options = ClientOptions {
                    config_path: Some(path),
                    ..ClientOptions::default()
                };
                check(case, Client::new(&options).map(drop));
            }
            // The command line's cases are run by its own crate's tests.
            "cli" => {}
            other => panic!("unknown kind {other}"),
        }
        counted += 1;
    }
    assert_eq!(emu.stats().total, 0, "a bad input reached the network");

    let answers: Vec<&Value> = cases.iter().filter(|c| c["kind"] == "answer").collect();
    let flaky = wayfinder_tokens::Client::new(&ClientOptions {
        max_retries: Some(1),
        ..options(&emu, ADMIN)
    })
    .unwrap();
    flaky.whoami().await.unwrap();
    for case in &answers {
        let mut spec = case["fault"].clone();
        spec["path_prefix"] = "/resources".into();
        let fault: Fault = serde_json::from_value(spec).unwrap();
        emu.clear_faults();
        emu.inject_fault(fault).unwrap();
        check(case, flaky.list_workspace_access_tokens(None).await.map(drop));
        counted += 1;
    }
    emu.clear_faults();
    assert_eq!(counted, cases.len());
    println!(
        "{} bad inputs checked, {} of them server answers",
        counted,
        answers.len()
    );
}
