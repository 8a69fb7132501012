//! Off the happy path on the command line: server text never reaches the
//! terminal raw, and the one-time secret always reaches the user.

use wayfinder_emulator::Fault;
use wayfinder_tokens::config;
use wayfinder_tokens_cli::run;

use crate::support::{admin_config, emulator, works};

fn fault_body(path: &str, status: u16, body: String) -> Fault {
    Fault {
        status: Some(status),
        body: Some(body),
        ..Fault::new(path)
    }
}

#[tokio::test]
async fn server_text_cannot_reach_the_terminal_raw() {
    let emu = emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let path = admin_config(dir.path(), emu.url());
    let config = path.display().to_string();
    let evil = "a\u{1b}]0;owned\u{7}b\rc\u{1b}[2J";
    let object = serde_json::json!({
        "apiVersion": "accesstokens.appvia.io/v2beta1", "kind": "WorkspaceAccessToken",
        "metadata": {"name": evil, "namespace": evil, "creationTimestamp": evil},
        "spec": {"description": evil},
    });
    // An answer to a `get` must name the token asked for; its other fields are still hostile.
    let mut named_x = object.clone();
    named_x["metadata"]["name"] = serde_json::json!("x");
    let cases: [(&str, serde_json::Value, Vec<&str>); 6] = [
        (
            "/resources",
            serde_json::json!({"items": [object.clone()]}),
            vec!["list", "workspaceaccesstokens"],
        ),
        ("/resources", named_x.clone(), vec!["get", "workspaceaccesstoken", "x"]),
        (
            "/resources",
            named_x.clone(),
            vec![
                "get",
                "workspaceaccesstoken",
                "x",
                "--template",
                "{{.spec.description}}|{{.metadata.namespace}}",
            ],
        ),
        (
            "/resources",
            serde_json::json!({"items": [object.clone()]}),
            vec![
                "list",
                "workspaceaccesstokens",
                "--template",
                "{{range .}}{{.metadata.name}}{{end}}",
            ],
        ),
        (
            "/api/v2/whoami",
            serde_json::json!({"authMethod": evil, "username": evil, "workspaces": [evil], "subjectKind": evil}),
            vec!["whoami"],
        ),
        (
            "/resources",
            serde_json::json!({"accessRoles": [{"role": evil, "cluster": evil, "namespace": evil}], "wayfinderRoles": [evil]}),
            vec![
                "assign",
                "wayfinderrole",
                "--workspace-access-token",
                "x",
                "--role",
                "viewer",
            ],
        ),
    ];
    for (prefix, body, args) in cases {
        emu.inject_fault(fault_body(prefix, 200, body.to_string())).unwrap();
        let mut argv: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        argv.extend(["--config".to_owned(), config.clone()]);
        let out = run(argv).await;
        assert_eq!(out.code, 0, "{args:?}: {out:?}");
        let raw = out.stdout.chars().any(|c| c.is_control() && c != '\n');
        assert!(!raw, "{args:?} printed a control character: {:?}", out.stdout);
        assert!(out.stdout.contains('a'), "{out:?}");
    }
}

#[tokio::test]
async fn formats_that_would_drop_the_secret_are_refused_before_any_request() {
    let emu = emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let path = admin_config(dir.path(), emu.url());
    let config = path.display().to_string();
    let out = run([
        "create",
        "workspaceaccesstoken",
        "t",
        "-o",
        "table",
        "--config",
        &config,
    ])
    .await;
    assert_eq!(out.code, 2, "{out:?}");
    assert!(
        out.stderr.contains("env, export"),
        "names the formats that carry it: {out:?}"
    );
    assert_eq!(emu.stats().total, 0, "nothing was sent");
    let dry = run([
        "create",
        "workspaceaccesstoken",
        "t",
        "-o",
        "table",
        "--dry-run",
        "--config",
        &config,
    ])
    .await;
    assert_eq!(dry.code, 0, "a dry run has no secret to lose: {dry:?}");
}

#[tokio::test]
async fn a_failed_save_profile_still_prints_the_secret() {
    let emu = emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let path = admin_config(dir.path(), emu.url());
    // The lock cannot be taken: its path is a folder.
    std::fs::remove_file(config::lock_path(&path)).unwrap();
    std::fs::create_dir(config::lock_path(&path)).unwrap();
    let config = path.display().to_string();
    let out = run([
        "create",
        "workspaceaccesstoken",
        "saved",
        "--save-profile",
        "--show-token",
        "--config",
        &config,
    ])
    .await;
    assert_eq!(out.code, 1, "{out:?}");
    let secret = out.stdout.trim();
    assert!(secret.starts_with("ey"), "the secret is printed: {out:?}");
    assert!(out.stderr.contains("secret is valid"), "{}", out.stderr);
    assert!(!out.stderr.contains(secret));
    // And it works.
    works(&emu, secret).await;
}
