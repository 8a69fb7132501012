//! Delivery end to end: GitHub through the emulator's routes, Vault through
//! a real OpenBao server, a command, files; faults at each step, and the
//! recovery store holding the secret whenever a destination lacks it.

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use wayfinder_emulator::{Emulator, Fault};
use wayfinder_tokens::deliver::{Deliverer, Environment, RecoveryStore, Spec};
use wayfinder_tokens::{Client, ErrorKind, IssuedToken};

use crate::common::{self, ADMIN};

pub(crate) const BAO_TOKEN: &str = "bao-root-canary-77c2";

/// An OpenBao dev server for the whole test binary; it stops when the binary
/// exits (a watchdog shell kills it once its parent, this process, is gone).
pub(crate) fn openbao() -> &'static str {
    static ADDR: OnceLock<String> = OnceLock::new();
    ADDR.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let bao = std::env::var_os("WAYFINDER_TEST_BAO")
            .map(PathBuf::from)
            .unwrap_or_else(|| root.join(".venv/bin/bao"));
        assert!(
            bao.exists(),
            "OpenBao is not installed at {}: run `make install`",
            bao.display()
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let addr = format!("127.0.0.1:{port}");
        let script = format!(
            "\"$0\" server -dev -dev-root-token-id={BAO_TOKEN} -dev-listen-address={addr} >/dev/null 2>&1 & child=$!; \
             while kill -0 $PPID 2>/dev/null && [ $PPID != 1 ]; do sleep 1; done; kill $child"
        );
        // Not waited for: the watchdog lives as long as this process and ends after it.
        #[allow(clippy::zombie_processes)]
        Command::new("sh")
            .args(["-c", &script])
            .arg(&bao)
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        for _ in 0..100 {
            if std::net::TcpStream::connect(&addr).is_ok() {
                return format!("http://{addr}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("OpenBao did not start on {addr}");
    })
}

pub(crate) fn environment(pairs: &[(&str, String)]) -> Environment {
    let map: HashMap<String, String> = pairs.iter().map(|(k, v)| ((*k).to_owned(), v.clone())).collect();
    Arc::new(move |name: &str| map.get(name).cloned())
}

pub(crate) fn github_env(emulator: &Emulator) -> Vec<(&'static str, String)> {
    vec![
        ("GITHUB_TOKEN", ADMIN.to_owned()),
        ("GITHUB_API_URL", format!("{}/github", emulator.url())),
        ("PATH", std::env::var("PATH").unwrap_or_default()),
        ("VAULT_ADDR", openbao().to_owned()),
        ("VAULT_TOKEN", BAO_TOKEN.to_owned()),
    ]
}

fn deliverer(emulator: &Emulator, state: &Path) -> Deliverer {
    Deliverer::new(
        environment(&github_env(emulator)),
        RecoveryStore::open(&state.join("recovery")).unwrap(),
    )
}

async fn issue(client: &Client, name: &str) -> IssuedToken {
    client
        .create_workspace_access_token(name, None, &common::described("delivered"))
        .await
        .unwrap()
}

pub(crate) async fn github_state(emulator: &Emulator) -> serde_json::Value {
    reqwest::Client::new()
        .get(format!("{}/emulator/github", emulator.url()))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

fn destinations(specs: &[&str], issued: &IssuedToken) -> Vec<wayfinder_tokens::deliver::Destination> {
    specs
        .iter()
        .map(|s| {
            Spec::parse(s)
                .unwrap()
                .resolve(&issued.name, issued.workspace.as_deref())
                .unwrap()
        })
        .collect()
}

/// The delivered secret works: whoami through it.
async fn authenticates(emulator: &Emulator, secret: &str) {
    let client = common::with(common::options(emulator, secret));
    client.whoami().await.unwrap();
}

#[tokio::test]
async fn github_repository_environment_and_organisation_get_the_sealed_secret_and_variables() {
    let emulator = common::emulator().await;
    let state = tempfile::tempdir().unwrap();
    let client = common::admin(&emulator);
    let issued = issue(&client, "app-deploy").await;
    let deliverer = deliverer(&emulator, state.path());
    let specs = [
        "github:acme/app",
        "github:acme/app@prod?prefix=PROD_",
        "github-org:acme?visibility=selected&repositories=app,web",
    ];
    let prepared = deliverer.prepare(destinations(&specs, &issued)).await.unwrap();
    let report = deliverer.deliver(&prepared, &issued).await;
    assert!(report.is_complete(), "{report:?}");
    assert_eq!(report.recovery, None);
    assert_eq!(
        std::fs::read_dir(deliverer.store().dir()).unwrap().count(),
        0,
        "the recovery file is removed"
    );

    let github = github_state(&emulator).await;
    let secret = issued.token.as_ref().unwrap().expose();
    for key in [
        "repos/acme/app/actions/WAYFINDER_TOKEN",
        "repos/acme/app/environments/prod/PROD_WAYFINDER_TOKEN",
        "orgs/acme/actions/WAYFINDER_TOKEN",
    ] {
        assert_eq!(github["secrets"][key]["value"], secret, "{key} opens to the secret");
        assert_ne!(github["secrets"][key]["encrypted_value"], secret);
    }
    assert_eq!(
        github["secrets"]["orgs/acme/actions/WAYFINDER_TOKEN"]["visibility"],
        "selected"
    );
    assert_eq!(
        github["variables"]["repos/acme/app/actions/WAYFINDER_SERVER"]["value"],
        emulator.url()
    );
    assert_eq!(
        github["variables"]["repos/acme/app/actions/WAYFINDER_WORKSPACE"]["value"],
        "dev"
    );
    assert_eq!(
        github["variables"]["repos/acme/app/environments/prod/PROD_WAYFINDER_WORKSPACE"]["value"],
        "dev"
    );
    assert!(
        github["secrets"]
            .get("repos/acme/app/actions/WAYFINDER_SERVER")
            .is_none(),
        "companions are variables"
    );
    authenticates(
        &emulator,
        github["secrets"]["repos/acme/app/actions/WAYFINDER_TOKEN"]["value"]
            .as_str()
            .unwrap(),
    )
    .await;

    // Delivering again (a rotation) updates the variables in place.
    let reissued = client.reset_workspace_access_token("app-deploy", None).await.unwrap();
    let report = deliverer.deliver(&prepared, &reissued).await;
    assert!(report.is_complete(), "{report:?}");
    let github = github_state(&emulator).await;
    assert_eq!(
        github["secrets"]["repos/acme/app/actions/WAYFINDER_TOKEN"]["value"],
        reissued.token.as_ref().unwrap().expose()
    );
}

#[tokio::test]
async fn vault_gets_the_values_with_check_and_set_and_labels_never_the_secret() {
    let emulator = common::emulator().await;
    let state = tempfile::tempdir().unwrap();
    let client = common::admin(&emulator);
    let issued = issue(&client, "vault-app").await;
    let deliverer = deliverer(&emulator, state.path());
    let path = format!("ci/{}/{}", std::process::id(), issued.name);
    let spec = format!("vault:secret/ci/{}/{{name}}", std::process::id());
    let prepared = deliverer.prepare(destinations(&[&spec], &issued)).await.unwrap();
    let report = deliverer.deliver(&prepared, &issued).await;
    assert!(report.is_complete(), "{report:?}");
    assert_eq!(report.outcomes[0].result.as_ref().unwrap(), "version 1");

    let http = reqwest::Client::new();
    let read = |what: &'static str| {
        let url = format!("{}/v1/secret/{what}/{path}", openbao());
        let http = http.clone();
        async move {
            http.get(url)
                .header("x-vault-token", BAO_TOKEN)
                .send()
                .await
                .unwrap()
                .json::<serde_json::Value>()
                .await
                .unwrap()
        }
    };
    let data = read("data").await;
    let secret = issued.token.as_ref().unwrap().expose();
    assert_eq!(data["data"]["data"]["WAYFINDER_TOKEN"], secret);
    assert_eq!(data["data"]["data"]["WAYFINDER_WORKSPACE"], "dev");
    let metadata = read("metadata").await;
    let custom = &metadata["data"]["custom_metadata"];
    assert_eq!(custom["wayfinder-token"], "vault-app");
    assert_eq!(custom["wayfinder-workspace"], "dev");
    assert!(custom["wayfinder-generation"].as_str().is_some());
    assert!(
        !metadata.to_string().contains(secret),
        "metadata never holds the secret"
    );
    authenticates(&emulator, data["data"]["data"]["WAYFINDER_TOKEN"].as_str().unwrap()).await;

    // Another writer between preflight and write: check-and-set refuses, nothing is overwritten,
    // and the new secret waits in the recovery store.
    let prepared = deliverer.prepare(destinations(&[&spec], &issued)).await.unwrap();
    http.post(format!("{}/v1/secret/data/{path}", openbao()))
        .header("x-vault-token", BAO_TOKEN)
        .json(&serde_json::json!({"data": {"WAYFINDER_TOKEN": "someone else"}}))
        .send()
        .await
        .unwrap();
    let reissued = client.reset_workspace_access_token("vault-app", None).await.unwrap();
    let report = deliverer.deliver(&prepared, &reissued).await;
    let (_, error) = report.failed().next().expect("a CAS conflict");
    assert_eq!(error.kind(), ErrorKind::AlreadyExists, "{error}");
    assert!(error.to_string().contains("check-and-set"), "{error}");
    assert!(
        error
            .to_string()
            .contains(&format!("deliver to vault:secret/ci/{}/vault-app", std::process::id())),
        "{error}"
    );
    assert_eq!(read("data").await["data"]["data"]["WAYFINDER_TOKEN"], "someone else");
    let pending = deliverer.store().pending().unwrap();
    assert_eq!(pending.len(), 1);
    assert_eq!(pending[0].token.expose(), reissued.token.as_ref().unwrap().expose());

    // Finishing the pending delivery reads the new version and writes.
    let reports = deliverer.deliver_pending().await.unwrap();
    assert!(reports[0].is_complete(), "{reports:?}");
    assert!(deliverer.store().pending().unwrap().is_empty());
    assert_eq!(
        read("data").await["data"]["data"]["WAYFINDER_TOKEN"],
        reissued.token.as_ref().unwrap().expose()
    );
}

#[tokio::test]
async fn a_vault_token_without_write_capability_fails_preflight() {
    let emulator = common::emulator().await;
    let state = tempfile::tempdir().unwrap();
    let http = reqwest::Client::new();
    // A token whose policy may only read.
    http.put(format!(
        "{}/v1/sys/policies/acl/read-only-{}",
        openbao(),
        std::process::id()
    ))
    .header("x-vault-token", BAO_TOKEN)
    .json(&serde_json::json!({"policy": "path \"secret/*\" { capabilities = [\"read\"] }"}))
    .send()
    .await
    .unwrap();
    let created: serde_json::Value = http
        .post(format!("{}/v1/auth/token/create", openbao()))
        .header("x-vault-token", BAO_TOKEN)
        .json(&serde_json::json!({"policies": [format!("read-only-{}", std::process::id())]}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let weak = created["auth"]["client_token"].as_str().unwrap().to_owned();
    let mut env = github_env(&emulator);
    env.retain(|(k, _)| *k != "VAULT_TOKEN");
    env.push(("VAULT_TOKEN", weak.clone()));
    let deliverer = Deliverer::new(environment(&env), RecoveryStore::open(&state.path().join("r")).unwrap());
    let spec = Spec::parse("vault:secret/ci/weak")
        .unwrap()
        .resolve("x", Some("dev"))
        .unwrap();
    let error = deliverer.prepare(vec![spec]).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::PermissionDenied, "{error}");
    assert!(error.to_string().contains("may not create and update"), "{error}");
    assert!(
        !error.to_string().contains(&weak),
        "the Vault token never appears: {error}"
    );
}

#[tokio::test]
async fn a_command_gets_the_secret_on_stdin_only() {
    let emulator = common::emulator().await;
    let state = tempfile::tempdir().unwrap();
    let client = common::admin(&emulator);
    let issued = issue(&client, "cmd-app").await;
    let out = state.path().join("out");
    std::fs::create_dir(&out).unwrap();
    let script = format!(
        "cmd:sh -c 'cat > {0}/stdin; env > {0}/env; printf \"%s\\n\" \"$0\" \"$@\" > {0}/args; echo stored; echo warning >&2' x y",
        out.display()
    );
    let deliverer = {
        let mut env = github_env(&emulator);
        env.push(("WAYFINDER_TOKEN", ADMIN.to_owned()));
        Deliverer::new(environment(&env), RecoveryStore::open(&state.path().join("r")).unwrap())
    };
    // The deliverer's environment is where settings are read; the child inherits this process's.
    let prepared = deliverer.prepare(destinations(&[&script], &issued)).await.unwrap();
    let report = deliverer.deliver(&prepared, &issued).await;
    assert!(report.is_complete(), "{report:?}");
    let said = report.outcomes[0].result.as_ref().unwrap();
    assert!(said.contains("stored") && said.contains("warning"), "{said}");
    let secret = issued.token.as_ref().unwrap().expose();
    assert_eq!(std::fs::read_to_string(out.join("stdin")).unwrap(), secret);
    let env = std::fs::read_to_string(out.join("env")).unwrap();
    assert!(!env.contains(secret), "not in the environment");
    assert!(!env.contains("WAYFINDER_TOKEN="), "nor this process's own credential");
    assert!(env.contains("WAYFINDER_WORKSPACE=dev"), "the companions are: {env}");
    assert!(!std::fs::read_to_string(out.join("args")).unwrap().contains(secret));

    // A failing command: the report has its status and redacted output; the secret waits.
    let echo = "cmd:sh -c 'cat; exit 3'";
    let prepared = deliverer.prepare(destinations(&[echo], &issued)).await.unwrap();
    let report = deliverer.deliver(&prepared, &issued).await;
    let (_, error) = report.failed().next().unwrap();
    assert!(error.to_string().contains("exited with status 3"), "{error}");
    assert!(
        error.to_string().contains("<redacted>") && !error.to_string().contains(secret),
        "{error}"
    );
    assert!(report.recovery.is_some());

    let missing = Spec::parse("cmd:no-such-program-here --x")
        .unwrap()
        .resolve("a", Some("dev"))
        .unwrap();
    let error = deliverer.prepare(vec![missing]).await.unwrap_err();
    assert!(error.to_string().contains("not found"), "{error}");
}

#[cfg(unix)]
#[tokio::test]
async fn files_are_private_and_atomic_in_both_formats() {
    use std::os::unix::fs::PermissionsExt;
    let emulator = common::emulator().await;
    let state = tempfile::tempdir().unwrap();
    let client = common::admin(&emulator);
    let issued = issue(&client, "file-app").await;
    let deliverer = deliverer(&emulator, state.path());
    let dir = state.path().display().to_string();
    let specs = [
        format!("file:{dir}/{{name}}.env?prefix=CI_"),
        format!("file:{dir}/{{workspace}}-{{name}}.yaml?format=kubernetes"),
    ];
    let specs: Vec<&str> = specs.iter().map(String::as_str).collect();
    let prepared = deliverer.prepare(destinations(&specs, &issued)).await.unwrap();
    assert!(deliverer.deliver(&prepared, &issued).await.is_complete());
    let secret = issued.token.as_ref().unwrap().expose();
    let env = state.path().join("file-app.env");
    assert_eq!(std::fs::metadata(&env).unwrap().permissions().mode() & 0o777, 0o600);
    let text = std::fs::read_to_string(&env).unwrap();
    assert!(text.contains(&format!("CI_WAYFINDER_TOKEN={secret}")), "{text}");
    let manifest: serde_json::Value =
        yaml_serde::from_str(&std::fs::read_to_string(state.path().join("dev-file-app.yaml")).unwrap()).unwrap();
    assert_eq!(manifest["kind"], "Secret");
    assert_eq!(manifest["stringData"]["WAYFINDER_TOKEN"], secret);
    assert_eq!(manifest["metadata"]["labels"]["wayfinder-tokens/token"], "file-app");
    assert_eq!(manifest["metadata"]["labels"]["wayfinder-tokens/workspace"], "dev");

    // A link in the file's place is refused before anything is issued.
    std::os::unix::fs::symlink("/tmp/elsewhere", state.path().join("link.env")).unwrap();
    let link = Spec::parse(&format!("file:{dir}/link.env"))
        .unwrap()
        .resolve("a", Some("dev"))
        .unwrap();
    assert!(
        deliverer
            .prepare(vec![link])
            .await
            .unwrap_err()
            .to_string()
            .contains("symbolic link")
    );
}

#[tokio::test]
async fn github_faults_are_retried_or_leave_the_secret_in_the_recovery_store() {
    let emulator = common::emulator().await;
    let state = tempfile::tempdir().unwrap();
    let client = common::admin(&emulator);
    let issued = issue(&client, "faulty").await;
    let deliverer = deliverer(&emulator, state.path()).with_timeout(Duration::from_secs(2));
    let prepared = deliverer
        .prepare(destinations(&["github:acme/faulty", "github:acme/other"], &issued))
        .await
        .unwrap();

    // A 502 and a secondary rate limit (403 with retry-after) are retried.
    emulator
        .inject_fault(Fault {
            status: Some(502),
            ..Fault::new("/github/repos/acme/faulty/actions/secrets/WAYFINDER_TOKEN")
        })
        .unwrap();
    emulator
        .inject_fault(Fault {
            status: Some(403),
            retry_after_s: Some(1),
            ..Fault::new("/github/repos/acme/faulty/actions/variables")
        })
        .unwrap();
    emulator
        .inject_fault(Fault {
            status: Some(429),
            retry_after_s: Some(1),
            ..Fault::new("/github/repos/acme/other/actions/secrets/WAYFINDER_TOKEN")
        })
        .unwrap();
    // An answer slower than the deadline is retried too (the PUT is safe to repeat).
    emulator
        .inject_fault(Fault {
            delay_ms: Some(3000),
            ..Fault::new("/github/repos/acme/faulty/actions/variables/WAYFINDER_SERVER")
        })
        .unwrap();
    let report = deliverer.deliver(&prepared, &issued).await;
    assert!(report.is_complete(), "{report:?}");

    // A 403 without a rate limit is final; the first destination still gets the secret.
    emulator
        .inject_fault(Fault {
            status: Some(403),
            times: 10,
            ..Fault::new("/github/repos/acme/other/actions/secrets/WAYFINDER_TOKEN")
        })
        .unwrap();
    let reissued = client.reset_workspace_access_token("faulty", None).await.unwrap();
    let report = deliverer.deliver(&prepared, &reissued).await;
    assert_eq!(report.delivered().collect::<Vec<_>>(), ["github:acme/faulty"]);
    let (failed, error) = report.failed().next().unwrap();
    assert_eq!(failed, "github:acme/other");
    assert_eq!(error.kind(), ErrorKind::PermissionDenied, "{error}");
    let recovery = report.recovery.clone().expect("the secret waits");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(
            std::fs::metadata(&recovery).unwrap().permissions().mode() & 0o777,
            0o600
        );
        assert_eq!(
            std::fs::metadata(deliverer.store().dir()).unwrap().permissions().mode() & 0o777,
            0o700
        );
    }
    let pending = deliverer.store().pending().unwrap();
    assert_eq!(pending[0].undelivered().collect::<Vec<_>>(), ["github:acme/other"]);
    emulator.clear_faults();
    let reports = deliverer.deliver_pending().await.unwrap();
    assert!(reports[0].is_complete(), "{reports:?}");
    assert_eq!(reports[0].outcomes.len(), 2);
    assert!(!recovery.exists());
    let github = github_state(&emulator).await;
    assert_eq!(
        github["secrets"]["repos/acme/other/actions/WAYFINDER_TOKEN"]["value"],
        reissued.token.as_ref().unwrap().expose()
    );
    let counts = emulator.stats();
    assert_eq!(
        counts.count("PUT", "/github/repos/acme/faulty/actions/secrets/WAYFINDER_TOKEN"),
        3,
        "not written again by the pending delivery"
    );
}

#[tokio::test]
async fn a_key_that_changes_after_preflight_is_refused_and_the_secret_waits() {
    let emulator = common::emulator().await;
    let state = tempfile::tempdir().unwrap();
    let client = common::admin(&emulator);
    let issued = issue(&client, "rekeyed").await;
    let deliverer = deliverer(&emulator, state.path());
    let prepared = deliverer
        .prepare(destinations(&["github:acme/rekeyed"], &issued))
        .await
        .unwrap();
    reqwest::Client::new()
        .post(format!("{}/emulator/github/rotate-key", emulator.url()))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
    let report = deliverer.deliver(&prepared, &issued).await;
    let (_, error) = report.failed().next().unwrap();
    assert!(error.to_string().contains("public key changed"), "{error}");
    assert!(deliverer.deliver_pending().await.unwrap()[0].is_complete());
}

#[tokio::test]
async fn preflight_refuses_before_anything_is_issued() {
    let emulator = common::emulator().await;
    let state = tempfile::tempdir().unwrap();
    let store = RecoveryStore::open(&state.path().join("r")).unwrap();
    let spec = |s: &str| Spec::parse(s).unwrap().resolve("app", Some("dev")).unwrap();

    let none = Deliverer::new(environment(&[]), store.clone());
    let error = none.prepare(vec![spec("github:acme/app")]).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Config);
    assert!(error.to_string().contains("GITHUB_TOKEN"), "{error}");
    assert!(error.to_string().starts_with("deliver to github:acme/app: "), "{error}");
    let error = none.prepare(vec![spec("vault:secret/x")]).await.unwrap_err();
    assert!(error.to_string().contains("VAULT_ADDR"), "{error}");

    let wrong = Deliverer::new(
        environment(&[
            ("GITHUB_TOKEN", "wrong-token-canary-1234".into()),
            ("GITHUB_API_URL", format!("{}/github", emulator.url())),
        ]),
        store.clone(),
    );
    let error = wrong.prepare(vec![spec("github:acme/app")]).await.unwrap_err();
    assert_eq!(error.kind(), ErrorKind::Unauthenticated, "{error}");
    assert!(!error.to_string().contains("wrong-token-canary"), "{error}");

    let remote = Deliverer::new(
        environment(&[
            ("GITHUB_TOKEN", "t".repeat(20)),
            ("GITHUB_API_URL", "http://github.example.com/api/v3".into()),
        ]),
        store.clone(),
    );
    let error = remote.prepare(vec![spec("github:acme/app")]).await.unwrap_err();
    assert!(error.to_string().contains("plain HTTP"), "{error}");
    let remote = Deliverer::new(
        environment(&[
            ("VAULT_TOKEN", "t".repeat(20)),
            ("VAULT_ADDR", "http://vault.example.com:8200".into()),
        ]),
        store.clone(),
    );
    assert!(
        remote
            .prepare(vec![spec("vault:secret/x")])
            .await
            .unwrap_err()
            .to_string()
            .contains("plain HTTP")
    );

    // A public key of the wrong length.
    emulator
        .inject_fault(Fault {
            status: Some(200),
            body: Some(r#"{"key_id":"1","key":"AAAA"}"#.into()),
            ..Fault::new("/github/repos/acme/app/actions/secrets/public-key")
        })
        .unwrap();
    let error = deliverer(&emulator, state.path())
        .prepare(vec![spec("github:acme/app")])
        .await
        .unwrap_err();
    assert!(error.to_string().contains("3 bytes, not the 32"), "{error}");
}

#[cfg(unix)]
#[test]
fn the_recovery_folder_must_be_private() {
    use std::os::unix::fs::PermissionsExt;
    let state = tempfile::tempdir().unwrap();
    let open = state.path().join("open");
    std::fs::create_dir(&open).unwrap();
    std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o755)).unwrap();
    assert!(
        RecoveryStore::open(&open)
            .unwrap_err()
            .to_string()
            .contains("chmod 700")
    );
    std::os::unix::fs::symlink(state.path(), state.path().join("link")).unwrap();
    assert!(RecoveryStore::open(&state.path().join("link")).is_err());
    let env = |pairs: &'static [(&str, &str)]| {
        move |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| (*v).to_owned())
    };
    assert_eq!(
        RecoveryStore::default_dir(&env(&[("XDG_STATE_HOME", "/s"), ("HOME", "/h")])).unwrap(),
        Path::new("/s/wayfinder-tokens")
    );
    assert_eq!(
        RecoveryStore::default_dir(&env(&[("HOME", "/h")])).unwrap(),
        Path::new("/h/.local/state/wayfinder-tokens")
    );
    assert!(RecoveryStore::default_dir(&env(&[])).is_err());
}

/// moto's server (Secrets Manager on loopback) for the whole test binary, stopped with it.
fn moto() -> &'static str {
    static URL: OnceLock<String> = OnceLock::new();
    URL.get_or_init(|| {
        let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
        let binary = root.join(".venv/bin/moto_server");
        assert!(
            binary.exists(),
            "moto's server is not installed at {}: run `make install`",
            binary.display()
        );
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let script = format!(
            "\"$0\" -H 127.0.0.1 -p {port} >/dev/null 2>&1 & child=$!; \
             while kill -0 $PPID 2>/dev/null && [ $PPID != 1 ]; do sleep 1; done; kill $child"
        );
        // Not waited for: the watchdog lives as long as this process and ends after it.
        #[allow(clippy::zombie_processes)]
        Command::new("sh")
            .args(["-c", &script])
            .arg(&binary)
            .stdin(Stdio::null())
            .spawn()
            .unwrap();
        let addr = format!("127.0.0.1:{port}");
        for _ in 0..200 {
            if std::net::TcpStream::connect(&addr).is_ok() {
                return format!("http://{addr}");
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("moto's server did not start on {addr}");
    })
}

#[tokio::test]
async fn aws_secrets_manager_gets_a_new_current_version_each_time() {
    let emulator = common::emulator().await;
    let state = tempfile::tempdir().unwrap();
    let client = common::admin(&emulator);
    let issued = issue(&client, "aws-app").await;
    let mut env = github_env(&emulator);
    env.extend([
        ("AWS_ENDPOINT_URL", moto().to_owned()),
        ("AWS_ACCESS_KEY_ID", "testing".to_owned()),
        ("AWS_SECRET_ACCESS_KEY", "aws-secret-canary-5d1e".to_owned()),
        ("AWS_REGION", "us-east-1".to_owned()),
    ]);
    let deliverer = Deliverer::new(environment(&env), RecoveryStore::open(&state.path().join("r")).unwrap());
    let spec = format!("aws:ci/{}/{{name}}", std::process::id());
    let prepared = deliverer.prepare(destinations(&[&spec], &issued)).await.unwrap();
    let report = deliverer.deliver(&prepared, &issued).await;
    assert!(report.is_complete(), "{report:?}");
    assert!(report.outcomes[0].result.as_ref().unwrap().ends_with("is AWSCURRENT"));

    // Present now: a new version is put, and again verified.
    let reissued = client.reset_workspace_access_token("aws-app", None).await.unwrap();
    let prepared = deliverer.prepare(destinations(&[&spec], &reissued)).await.unwrap();
    let report = deliverer.deliver(&prepared, &reissued).await;
    assert!(report.is_complete(), "{report:?}");
    assert!(!format!("{report:?}").contains("aws-secret-canary"));
}

#[tokio::test]
async fn a_command_past_its_deadline_is_stopped_and_the_secret_waits() {
    let emulator = common::emulator().await;
    let state = tempfile::tempdir().unwrap();
    let client = common::admin(&emulator);
    let issued = issue(&client, "slow-cmd").await;
    let deliverer = deliverer(&emulator, state.path()).with_command_timeout(Duration::from_millis(300));
    let prepared = deliverer
        .prepare(destinations(&["cmd:sleep 30"], &issued))
        .await
        .unwrap();
    let started = std::time::Instant::now();
    let report = deliverer.deliver(&prepared, &issued).await;
    let (_, error) = report.failed().next().expect("stopped");
    assert_eq!(error.kind(), ErrorKind::Timeout, "{error}");
    assert!(
        started.elapsed() < Duration::from_secs(25),
        "stopped at its deadline, not when it ended"
    );
    assert!(report.recovery.is_some());
}
