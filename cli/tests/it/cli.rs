//! The CLI front against the emulator: every seed flag, output formats and
//! exit codes.

use std::path::{Path, PathBuf};

use crate::support::{ADMIN, emulator};
use wayfinder_tokens::Secret;
use wayfinder_tokens::config::{Config, DEFAULT_LOCK_TIMEOUT, User};
use wayfinder_tokens_cli::{CliOutput, run};

/// A config file whose current profile is the emulator's admin.
fn admin_config(dir: &Path, url: &str) -> PathBuf {
    let path = dir.join("config");
    let mut config = Config::default();
    config.set_profile("admin", url, &Secret::new(ADMIN), Some("dev"), true);
    config.users.insert(
        "admin".into(),
        User {
            token: Some(Secret::new(ADMIN)),
            ..User::default()
        },
    );
    wayfinder_tokens::config::replace(&path, DEFAULT_LOCK_TIMEOUT, &config).unwrap();
    path
}

async fn wf(config: &Path, args: &[&str]) -> CliOutput {
    let mut argv: Vec<String> = args.iter().map(|s| s.to_string()).collect();
    argv.extend(["--config".to_owned(), config.display().to_string()]);
    run(argv).await
}

#[tokio::test]
async fn create_prints_env_by_default_and_every_format_on_request() {
    let emu = emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let config = admin_config(dir.path(), emu.url());

    let out = wf(
        &config,
        &[
            "create",
            "workspaceaccesstoken",
            "ci-deploy",
            "-d",
            "My deployment token",
        ],
    )
    .await;
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stdout
            .starts_with("# Workspace access token \"ci-deploy\" for workspace \"dev\"")
    );
    assert!(out.stdout.contains("WAYFINDER_WORKSPACE = dev\n"));
    assert!(out.stdout.contains(&format!("WAYFINDER_SERVER    = {}\n", emu.url())));

    let out = wf(
        &config,
        &["create", "-w", "prod", "workspaceaccesstoken", "b", "-o", "export"],
    )
    .await;
    assert_eq!(out.code, 0, "{out:?}");
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(lines[0].starts_with("WAYFINDER_SERVER="));
    assert!(lines[1].starts_with("WAYFINDER_TOKEN=ey"));
    assert_eq!(lines[2], "WAYFINDER_WORKSPACE=prod");

    let out = wf(&config, &["create", "workspaceaccesstoken", "c", "--show-token"]).await;
    assert_eq!(out.stdout.lines().count(), 1);
    assert!(out.stdout.starts_with("ey"));

    let out = wf(&config, &["create", "workspaceaccesstoken", "d", "--show-config"]).await;
    let parsed = Config::parse(&out.stdout, Path::new("stdout")).unwrap();
    assert_eq!(parsed.current_profile.as_deref(), Some("d"));

    for (name, format) in [("e", "json"), ("f", "yaml"), ("g", "shell")] {
        let out = wf(&config, &["create", "workspaceaccesstoken", name, "-o", format]).await;
        assert_eq!(out.code, 0, "{format}: {out:?}");
        match format {
            "json" => assert!(serde_json::from_str::<serde_json::Value>(&out.stdout).unwrap()["token"].is_string()),
            "yaml" => assert!(out.stdout.contains("token: ey")),
            _ => assert!(out.stdout.contains("export WAYFINDER_TOKEN='ey")),
        }
    }
    let out = wf(&config, &["list", "workspaceaccesstokens", "-o", "table"]).await;
    assert!(out.stdout.starts_with("NAME"));
    assert!(!out.stdout.contains("ey"), "tables never show a token");

    let out = wf(&config, &["create", "workspaceaccesstoken", "ci-deploy"]).await;
    assert_eq!(out.code, 1, "a duplicate is an API error");
    assert!(out.stderr.starts_with("error: "));
    assert!(out.stderr.contains("reset"), "{}", out.stderr);

    let out = wf(
        &config,
        &[
            "create",
            "workspaceaccesstoken",
            "ci-deploy",
            "--reset-token",
            "--show-token",
        ],
    )
    .await;
    assert_eq!(out.code, 0, "{out:?}");
}

#[tokio::test]
async fn dry_run_renders_the_resource() {
    let emu = emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let config = admin_config(dir.path(), emu.url());
    let out = wf(
        &config,
        &["create", "workspaceaccesstoken", "dry", "--dry-run", "-d", "x"],
    )
    .await;
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("kind: WorkspaceAccessToken"), "{}", out.stdout);
    assert!(out.stdout.contains("description: x"));
    for invented in ["creationTimestamp", "resourceVersion", "uid", "generation"] {
        assert!(!out.stdout.contains(invented), "{invented}: {}", out.stdout);
    }
    let out = wf(
        &config,
        &["create", "workspaceaccesstoken", "dry", "--dry-run", "-o", "json"],
    )
    .await;
    assert!(serde_json::from_str::<serde_json::Value>(&out.stdout).is_ok());
    let out = wf(&config, &["list", "workspaceaccesstokens", "-o", "json"]).await;
    assert_eq!(out.stdout.trim(), "[]");
}

#[tokio::test]
async fn compatibility_flags_are_accepted() {
    let emu = emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let config = admin_config(dir.path(), emu.url());
    let out = wf(
        &config,
        &[
            "create",
            "workspaceaccesstoken",
            "compat",
            "--non-interactive",
            "--force",
            "--no-wait",
            "--verbose",
            "--profile",
            "admin",
            "--expires-in",
            "90d",
            "-o",
            "export",
        ],
    )
    .await;
    assert_eq!(out.code, 0, "{out:?}");
    let out = wf(&config, &["create", "workspaceaccesstoken", "x", "-o", "template"]).await;
    assert_eq!(out.code, 2);
    assert!(out.stderr.contains("template"));
}

#[tokio::test]
async fn get_list_delete_assign_whoami() {
    let emu = emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let config = admin_config(dir.path(), emu.url());
    wf(&config, &["create", "workspaceaccesstoken", "a", "-d", "first"]).await;
    wf(&config, &["create", "workspaceaccesstoken", "b"]).await;
    wf(&config, &["create", "platformaccesstoken", "p"]).await;

    let out = wf(&config, &["list", "workspaceaccesstokens"]).await;
    assert_eq!(out.code, 0, "{out:?}");
    let lines: Vec<&str> = out.stdout.lines().collect();
    assert_eq!(lines.len(), 3);
    assert!(lines[0].starts_with("NAME"));
    assert!(lines[1].starts_with("a ") && lines[1].contains("first"));
    let out = wf(&config, &["list", "workspaceaccesstokens", "--show-headers=false"]).await;
    assert_eq!(out.stdout.lines().count(), 2);
    let out = wf(&config, &["list", "platformaccesstokens", "-o", "yaml"]).await;
    assert!(out.stdout.contains("name: p"));

    let out = wf(&config, &["get", "workspaceaccesstoken", "a", "-o", "json"]).await;
    let obj: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(obj["spec"]["description"], "first");
    let out = wf(&config, &["get", "workspaceaccesstoken", "zzz"]).await;
    assert_eq!(out.code, 1);
    assert!(out.stderr.contains("not found"));

    let out = wf(
        &config,
        &[
            "assign",
            "accessrole",
            "--workspace-access-token",
            "a",
            "--role",
            "cluster.deployer",
            "--cluster",
            "c1",
        ],
    )
    .await;
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("access role    cluster.deployer (cluster c1)"));
    let out = wf(
        &config,
        &[
            "assign",
            "wayfinderrole",
            "--platform-access-token",
            "p",
            "--role",
            "platform.accesstokenmanager",
            "-o",
            "json",
        ],
    )
    .await;
    let roles: serde_json::Value = serde_json::from_str(&out.stdout).unwrap();
    assert_eq!(roles["wayfinderRoles"][0], "platform.accesstokenmanager");

    let out = wf(&config, &["delete", "workspaceaccesstoken", "b"]).await;
    assert_eq!(out.stdout, "workspaceaccesstoken \"b\" deleted\n");
    let out = wf(&config, &["whoami"]).await;
    assert!(out.stdout.starts_with("admin"), "{out:?}");
}

#[tokio::test]
async fn bad_input_exits_2_before_any_request() {
    let emu = emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let config = admin_config(dir.path(), emu.url());
    for args in [
        vec!["create", "workspaceaccesstoken", "Bad_Name"],
        vec!["create", "workspaceaccesstoken", "ok", "-w", "Bad WS"],
        vec!["create", "workspaceaccesstoken", "ok", "--expires-in", "soon"],
        vec!["create", "workspaceaccesstoken", "ok", "-d", "line\nbreak"],
        vec![
            "assign",
            "accessrole",
            "--workspace-access-token",
            "ok",
            "--role",
            "BAD",
        ],
        vec!["create", "workspaceaccesstoken", "ok", "--profile", "nope"],
    ] {
        let out = wf(&config, &args).await;
        assert_eq!(out.code, 2, "{args:?}: {out:?}");
        assert!(out.stderr.starts_with("error: "), "{out:?}");
    }
    assert_eq!(emu.stats().total, 0);
}

#[tokio::test]
async fn save_profile_from_the_cli_and_use_it() {
    let emu = emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let config = admin_config(dir.path(), emu.url());
    let out = wf(
        &config,
        &[
            "create",
            "workspaceaccesstoken",
            "saved",
            "--save-profile",
            "-o",
            "export",
        ],
    )
    .await;
    assert_eq!(out.code, 0, "{out:?}");
    let out = wf(&config, &["whoami", "--profile", "saved"]).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.contains("WorkspaceAccessToken"), "{}", out.stdout);
    let loaded = Config::load(&config).unwrap();
    assert_eq!(loaded.current_profile.as_deref(), Some("admin"));
    assert!(loaded.profiles.contains_key("saved"));
}

#[tokio::test]
async fn output_template_renders_go_templates_on_what_json_shows() {
    let emu = emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let config = admin_config(dir.path(), emu.url());
    let out = wf(
        &config,
        &[
            "create",
            "workspaceaccesstoken",
            "templated",
            "-o",
            "template",
            "--template",
            "{{.metadata.name}}|gen={{.status.generation}}|{{.nope}}|{{.token}}",
        ],
    )
    .await;
    assert_eq!(out.code, 0, "{out:?}");
    let parts: Vec<&str> = out.stdout.split('|').collect();
    assert_eq!(&parts[..3], ["templated", "gen=1", "<no value>"], "{out:?}");
    assert!(parts[3].starts_with("ey"), "the secret is in the data");

    // A template that would drop the one-time secret is refused before any request,
    // on a create as on a reset.
    emu.reset_stats();
    for reset in [false, true] {
        let mut args = vec![
            "create",
            "workspaceaccesstoken",
            "templated",
            "--template",
            "{{.metadata.name}}",
        ];
        if reset {
            args.push("--reset-token");
        }
        let out = wf(&config, &args).await;
        assert_eq!(out.code, 2, "{out:?}");
        assert!(out.stderr.contains("does not print the new secret"), "{out:?}");
    }
    assert_eq!(emu.stats().total, 0);

    let file = dir.path().join("names.tmpl");
    std::fs::write(&file, "{{range .}}{{.metadata.name}}\n{{end}}").unwrap();
    let out = wf(
        &config,
        &[
            "list",
            "workspaceaccesstokens",
            "--template-file",
            file.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!((out.code, out.stdout.as_str()), (0, "templated\n"), "{out:?}");
    let out = wf(
        &config,
        &["get", "workspaceaccesstoken", "templated", "--template", "{{.spec}}"],
    )
    .await;
    assert_eq!(out.stdout, "map[]");
}

#[tokio::test]
async fn a_template_that_cannot_render_fails_before_any_request() {
    let emu = emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let config = admin_config(dir.path(), emu.url());
    let missing = dir.path().join("missing.tmpl");
    for args in [
        vec!["create", "workspaceaccesstoken", "t", "--template", "{{.name"],
        vec!["create", "workspaceaccesstoken", "t", "--template", "{{nofunc}}"],
        vec![
            "create",
            "workspaceaccesstoken",
            "t",
            "--template",
            "{{index .metadata.name 99}}",
        ],
        vec!["create", "workspaceaccesstoken", "t", "-o", "template"],
        vec!["create", "workspaceaccesstoken", "t", "-o", "json", "--template", "x"],
        vec!["create", "workspaceaccesstoken", "t", "--show-token", "--template", "x"],
        vec!["list", "workspaceaccesstokens", "--template", "{{end}}"],
        vec![
            "create",
            "workspaceaccesstoken",
            "t",
            "--template-file",
            missing.to_str().unwrap(),
        ],
    ] {
        let out = wf(&config, &args).await;
        assert_eq!(out.code, 2, "{args:?}: {out:?}");
        assert!(out.stderr.starts_with("error: "), "{out:?}");
    }
    assert_eq!(emu.stats().total, 0);
}

#[tokio::test]
async fn a_template_failing_after_the_create_still_prints_the_secret() {
    let emu = emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let config = admin_config(dir.path(), emu.url());
    // The rehearsal's stand-in server URL is longer than the emulator's, so
    // this index passes there and fails on the real token.
    assert!(emu.url().len() < 26);
    let out = wf(
        &config,
        &[
            "create",
            "workspaceaccesstoken",
            "late",
            "--template",
            "{{.token}}{{index .server 25}}",
        ],
    )
    .await;
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stdout.contains("WAYFINDER_TOKEN     = ey"), "{out:?}");
    assert!(out.stderr.contains("template failed"), "{out:?}");
    assert!(out.stderr.contains("store the secret now"), "{out:?}");
}

#[tokio::test]
async fn every_command_explains_itself_with_examples() {
    let help = run(["create", "workspaceaccesstoken", "--help"]).await;
    assert_eq!(help.code, 0);
    let text = help.stdout.split_whitespace().collect::<Vec<_>>().join(" ");
    for needle in [
        "no permissions",
        "cannot be retrieved later",
        "--show-config -d",
        "--show-config -o export > token.env",
        "--reset-token",
        "assign accessrole",
        "assign wayfinderrole",
        "WAYFINDER_CONFIG",
    ] {
        assert!(text.contains(needle), "{needle}: {}", help.stdout);
    }
    for command in [
        vec!["create", "platformaccesstoken", "--help"],
        vec!["get", "workspaceaccesstoken", "--help"],
        vec!["delete", "platformaccesstoken", "--help"],
        vec!["list", "workspaceaccesstokens", "--help"],
        vec!["assign", "accessrole", "--help"],
        vec!["assign", "wayfinderrole", "--help"],
    ] {
        let out = run(command.clone()).await;
        assert_eq!(out.code, 0, "{command:?}");
        assert!(out.stdout.contains("Examples:\n  # "), "{command:?}: {}", out.stdout);
    }
    // Short help stays short.
    let short = run(["create", "workspaceaccesstoken", "-h"]).await;
    assert!(!short.stdout.contains("Examples:"));
}

#[tokio::test]
async fn fleet_list_and_rotate_from_the_command_line() {
    let emu = emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let config = admin_config(dir.path(), emu.url());
    for (ws, name) in [("dev", "ci-a"), ("dev", "ops-b"), ("prod", "ci-c")] {
        let out = wf(&config, &["create", "workspaceaccesstoken", name, "-w", ws]).await;
        assert_eq!(out.code, 0, "{out:?}");
    }
    let out = wf(&config, &["list", "workspaceaccesstokens", "--all-workspaces"]).await;
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stdout.starts_with("WORKSPACE   NAME"), "{out:?}");
    assert_eq!(out.stdout.lines().count(), 4, "{}", out.stdout);

    let out = wf(
        &config,
        &[
            "rotate",
            "workspaceaccesstokens",
            "--all-workspaces",
            "ci-*",
            "-o",
            "jsonl",
        ],
    )
    .await;
    assert_eq!(out.code, 0, "{out:?}");
    let lines: Vec<serde_json::Value> = out.stdout.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
    assert_eq!(lines.len(), 2);
    assert!(
        lines
            .iter()
            .all(|l| l["status"] == "rotated" && l["token"].as_str().unwrap().starts_with("ey"))
    );
    assert!(out.stderr.contains("2 rotated, 0 failed"), "{out:?}");
    assert!(!out.stderr.contains("ey"), "a secret on stderr: {}", out.stderr);

    // A failure: exit 1, the old secret's state and the recovery call on stderr.
    emu.inject_fault(wayfinder_emulator::Fault {
        status: Some(500),
        times: 50,
        ..wayfinder_emulator::Fault::new(
            "/resources/accesstokens.appvia.io/v2beta1/workspaces/dev/workspaceaccesstokens/ops-b/token",
        )
    })
    .unwrap();
    let secrets = dir.path().join("secrets");
    let out = wf(
        &config,
        &[
            "rotate",
            "workspaceaccesstokens",
            "-w",
            "dev",
            "--output-dir",
            secrets.to_str().unwrap(),
        ],
    )
    .await;
    assert_eq!(out.code, 1, "{out:?}");
    assert!(out.stderr.contains("still valid"), "{out:?}");
    assert!(out.stderr.contains("--reset-token"), "{out:?}");
    assert_eq!(std::fs::read_dir(&secrets).unwrap().count(), 1);
    emu.clear_faults();

    emu.reset_stats();
    for bad in [
        vec!["rotate", "workspaceaccesstokens", "--all-workspaces"],
        vec![
            "rotate",
            "workspaceaccesstokens",
            "-w",
            "dev",
            "--all-workspaces",
            "-o",
            "jsonl",
        ],
        vec!["rotate", "workspaceaccesstokens", "--all-workspaces", "-o", "json"],
        vec![
            "rotate",
            "workspaceaccesstokens",
            "--all-workspaces",
            "--older-than",
            "soon",
            "-o",
            "jsonl",
        ],
    ] {
        let out = wf(&config, &bad).await;
        assert_eq!(out.code, 2, "{bad:?}: {out:?}");
    }
    assert_eq!(emu.stats().total, 0);
    let dry = wf(
        &config,
        &["rotate", "workspaceaccesstokens", "--all-workspaces", "--dry-run"],
    )
    .await;
    assert_eq!(dry.code, 0, "{dry:?}");
    assert!(dry.stderr.contains("3 would rotate"), "{dry:?}");
}

#[tokio::test]
async fn show_config_with_export_prints_what_export_prints() {
    let emu = emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let config = admin_config(dir.path(), emu.url());
    let out = wf(
        &config,
        &[
            "create",
            "workspaceaccesstoken",
            "exported",
            "--show-config",
            "-o",
            "export",
        ],
    )
    .await;
    assert_eq!(out.code, 0, "{out:?}");
    let keys: Vec<&str> = out.stdout.lines().map(|l| l.split('=').next().unwrap()).collect();
    assert_eq!(
        keys,
        ["WAYFINDER_SERVER", "WAYFINDER_TOKEN", "WAYFINDER_WORKSPACE"],
        "{out:?}"
    );
    // Other pairings stay refused, before any request.
    let out = wf(
        &config,
        &["create", "workspaceaccesstoken", "other", "--show-config", "-o", "json"],
    )
    .await;
    assert_eq!(out.code, 2, "{out:?}");
}

#[tokio::test]
async fn deliver_specs_are_checked_before_any_request_and_a_dry_run_names_where_they_would_go() {
    let emulator = emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let config = admin_config(dir.path(), emulator.url());
    for (spec, words) in [
        ("s3:bucket", "unknown scheme"),
        ("vault:secret/../x", "`..`"),
        ("github:acme/app?prefix=lower", "prefix"),
        ("vault:secret/{nmae}", "{nmae}, which does not exist"),
    ] {
        let out = wf(&config, &["create", "workspaceaccesstoken", "app", "--deliver", spec]).await;
        assert_eq!(out.code, 2, "{spec}: {out:?}");
        assert!(
            out.stderr.contains("--deliver") && out.stderr.contains(words),
            "{spec}: {}",
            out.stderr
        );
    }
    let out = wf(
        &config,
        &[
            "create",
            "platformaccesstoken",
            "bot",
            "--deliver",
            "vault:secret/{workspace}/{name}",
        ],
    )
    .await;
    assert_eq!(out.code, 2, "{out:?}");
    assert!(out.stderr.contains("has no workspace"), "{}", out.stderr);
    assert_eq!(
        emulator.stats().count_suffix("POST", "/workspaceaccesstokens"),
        0,
        "nothing was created"
    );

    let out = wf(
        &config,
        &[
            "create",
            "workspaceaccesstoken",
            "app",
            "--dry-run",
            "--deliver",
            "github:acme/app@prod?prefix=PROD_",
            "--deliver",
            "vault:secret/ci/{workspace}/{name}",
        ],
    )
    .await;
    assert_eq!(out.code, 0, "{out:?}");
    assert!(out.stderr.contains("would deliver PROD_WAYFINDER_SERVER, PROD_WAYFINDER_TOKEN, PROD_WAYFINDER_WORKSPACE to github:acme/app@prod?prefix=PROD_"), "{}", out.stderr);
    assert!(out.stderr.contains("to vault:secret/ci/dev/app"), "{}", out.stderr);

    // rotate fills the placeholders in per token.
    for name in ["r1", "r2"] {
        wf(&config, &["create", "workspaceaccesstoken", name]).await;
    }
    let out = wf(
        &config,
        &[
            "rotate",
            "workspaceaccesstokens",
            "-w",
            "dev",
            "r*",
            "--dry-run",
            "--deliver",
            "file:/tmp/{workspace}.{name}.env",
        ],
    )
    .await;
    assert_eq!(out.code, 0, "{out:?}");
    assert!(
        out.stderr.contains("to file:/tmp/dev.r1.env") && out.stderr.contains("to file:/tmp/dev.r2.env"),
        "{}",
        out.stderr
    );
}

#[tokio::test]
async fn kubernetes_output_is_a_secret_manifest() {
    let emulator = emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let config = admin_config(dir.path(), emulator.url());
    let out = wf(
        &config,
        &["create", "workspaceaccesstoken", "k8s-app", "-o", "kubernetes"],
    )
    .await;
    assert_eq!(out.code, 0, "{out:?}");
    let manifest: serde_json::Value = yaml_serde::from_str(&out.stdout).unwrap();
    assert_eq!(manifest["apiVersion"], "v1");
    assert_eq!(manifest["kind"], "Secret");
    assert_eq!(manifest["metadata"]["name"], "k8s-app");
    assert_eq!(manifest["metadata"]["labels"]["wayfinder-tokens/workspace"], "dev");
    assert_eq!(manifest["metadata"]["labels"]["wayfinder-tokens/generation"], "1");
    let secret = manifest["stringData"]["WAYFINDER_TOKEN"].as_str().unwrap();
    crate::support::works(&emulator, secret).await;
}
