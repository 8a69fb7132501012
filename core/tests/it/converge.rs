//! Tokens as code end to end: a spec planned and applied against the
//! emulator, its GitHub routes and a real OpenBao; a second apply that
//! writes nothing; an apply stopped halfway finished by the next; slots
//! keeping every reader working through rotations.

use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use wayfinder_emulator::{Emulator, Fault};
use wayfinder_tokens::converge::{self, Action, Drift, PlanOptions, Reason, TokenSpec};
use wayfinder_tokens::deliver::{Deliverer, RecoveryStore};

use crate::common::{self, ADMIN};
use crate::deliver::{BAO_TOKEN, environment, github_env, github_state, openbao};

fn deliverer(emulator: &Emulator, state: &Path) -> Deliverer {
    Deliverer::new(
        environment(&github_env(emulator)),
        RecoveryStore::open(&state.join("recovery")).unwrap(),
    )
}

/// A vault path no other test (or run) uses.
fn unique(test: &str) -> String {
    format!("converge/{}/{test}", std::process::id())
}

fn spec(text: &str) -> TokenSpec {
    TokenSpec::parse(text, "tokens.yaml").unwrap()
}

async fn vault(path: &str, what: &str) -> serde_json::Value {
    reqwest::Client::new()
        .get(format!("{}/v1/secret/{what}/{path}", openbao()))
        .header("x-vault-token", BAO_TOKEN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap()
}

/// Requests the emulator counted that change something (anything but GET).
async fn writes(emulator: &Emulator) -> Vec<(String, u64)> {
    let stats: serde_json::Value = reqwest::Client::new()
        .get(format!("{}/emulator/stats", emulator.url()))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    stats["requests"]
        .as_object()
        .unwrap()
        .iter()
        .filter(|(k, _)| !k.starts_with("GET "))
        .map(|(k, v)| (k.clone(), v.as_u64().unwrap()))
        .collect()
}

async fn reset_stats(emulator: &Emulator) {
    reqwest::Client::new()
        .delete(format!("{}/emulator/stats", emulator.url()))
        .bearer_auth(ADMIN)
        .send()
        .await
        .unwrap();
}

fn two_tokens(base: &str) -> String {
    format!(
        "apiVersion: wayfinder-tokens/v1
tokens:
  - name: app-deploy
    workspace: ops
    description: Deploys the app
    roles:
      wayfinder: [workspace.accesstokenmanager]
      access:
        - {{ role: namespace.admin, cluster: prod-eu, namespace: payments }}
    deliver:
      - github:acme/app@prod
      - vault:secret/{base}/{{workspace}}/{{name}}
    rotate: {{ maxAge: 30d }}
  - name: web
    workspace: other
    deliver: [vault:secret/{base}/web]
    rotate: {{ strategy: slots }}
"
    )
}

#[tokio::test]
async fn apply_converges_and_a_second_apply_writes_nothing() {
    let emulator = common::emulator().await;
    let state = tempfile::tempdir().unwrap();
    let client = common::admin(&emulator);
    let deliverer = deliverer(&emulator, state.path());
    let base = unique("twice");
    let spec = spec(&two_tokens(&base));
    let options = PlanOptions::default();

    let plan = converge::plan(&client, &deliverer, &spec, &options).await.unwrap();
    let verbs: Vec<(&str, &str)> = plan
        .changes
        .iter()
        .map(|c| {
            let verb = match &c.action {
                Action::Create { .. } => "create",
                Action::Grant { .. } => "grant",
                Action::Deliver { .. } => "deliver",
                Action::Rotate { .. } => "rotate",
                Action::Discard { .. } => "discard",
            };
            (c.target.as_str(), verb)
        })
        .collect();
    assert_eq!(
        verbs,
        [
            ("app-deploy", "create"),
            ("app-deploy", "grant"),
            ("app-deploy", "grant"),
            ("app-deploy", "deliver"),
            ("web-a", "create"),
            ("web-a", "deliver"),
            ("web-b", "create"),
        ]
    );
    let (_, report) = converge::apply(&client, &deliverer, &spec, &options).await.unwrap();
    assert!(report.ok(), "{report:?}");
    let roles = client
        .get_workspace_access_token_roles("app-deploy", Some("ops"))
        .await
        .unwrap();
    assert_eq!(roles.wayfinder_roles, ["workspace.accesstokenmanager"]);
    assert_eq!(roles.access_roles.len(), 1);
    let web = vault(&format!("{base}/web"), "metadata").await;
    assert_eq!(web["data"]["custom_metadata"]["wayfinder-token"], "web-a");

    // The second time: nothing to do, and nothing written anywhere.
    let vault_before = vault(&format!("{base}/ops/app-deploy"), "metadata").await["data"]["current_version"].clone();
    let github_before = github_state(&emulator).await;
    reset_stats(&emulator).await;
    let (again, report) = converge::apply(&client, &deliverer, &spec, &options).await.unwrap();
    assert!(again.changes.is_empty(), "{:?}", again.changes);
    assert!(report.applied.is_empty());
    assert_eq!(writes(&emulator).await, [], "no write to Wayfinder or GitHub");
    assert_eq!(github_state(&emulator).await, github_before);
    let vault_after = vault(&format!("{base}/ops/app-deploy"), "metadata").await["data"]["current_version"].clone();
    assert_eq!(vault_after, vault_before, "no new Vault version");
    // Bounded: one list per workspace, one roles read per Wayfinder token,
    // one metadata read per destination.
    assert_eq!(again.requests.wayfinder, 2 + 3);
    assert_eq!(again.requests.destinations, 3);
    assert!(std::fs::read_dir(deliverer.store().dir()).unwrap().next().is_none());
}

#[tokio::test]
async fn drift_is_reported_and_left_alone_and_outside_resets_are_repaired() {
    let emulator = common::emulator().await;
    let state = tempfile::tempdir().unwrap();
    let client = common::admin(&emulator);
    let deliverer = deliverer(&emulator, state.path());
    let base = unique("drift");
    let spec = spec(&two_tokens(&base));
    let options = PlanOptions::default();
    converge::apply(&client, &deliverer, &spec, &options).await.unwrap();

    client
        .assign_wayfinder_role("app-deploy", "workspace.viewer", Some("ops"))
        .await
        .unwrap();
    client
        .create_workspace_access_token("stray", Some("ops"), &common::described("not in the spec"))
        .await
        .unwrap();
    // GitHub's updated_at is judged with two seconds of slack for the clocks
    // (docs/tokens-as-code.md): a reset outside must come later than that.
    tokio::time::sleep(Duration::from_millis(3100)).await;
    client
        .reset_workspace_access_token("app-deploy", Some("ops"))
        .await
        .unwrap();
    let plan = converge::plan(&client, &deliverer, &spec, &options).await.unwrap();
    assert!(plan.drift.contains(&Drift::Unmanaged {
        workspace: Some("ops".into()),
        name: "stray".into()
    }));
    assert!(
        plan.drift
            .iter()
            .any(|d| matches!(d, Drift::Role { role, .. } if role == "workspace.viewer"))
    );
    // The reset outside made both destinations stale: one rotation, then delivery.
    let rotate = plan
        .changes
        .iter()
        .find(|c| matches!(c.action, Action::Rotate { .. }))
        .unwrap();
    let Action::Rotate { reasons, recreate, .. } = &rotate.action else {
        unreachable!()
    };
    assert!(!recreate);
    assert_eq!(reasons.len(), 2, "{reasons:?}");
    assert!(reasons.iter().all(|r| matches!(r, Reason::Stale { .. })), "{reasons:?}");
    let report = converge::apply_plan(&client, &deliverer, &plan).await.unwrap();
    assert!(report.ok(), "{report:?}");
    let plan = converge::plan(&client, &deliverer, &spec, &options).await.unwrap();
    assert!(plan.changes.is_empty(), "{:?}", plan.changes);
    assert_eq!(plan.drift.len(), 2, "drift stays: apply never revokes or deletes");

    // A plan made before something changed is refused, not applied.
    let stale = converge::plan(
        &client,
        &deliverer,
        &spec,
        &PlanOptions {
            rotate: vec!["web".into()],
            ..PlanOptions::default()
        },
    )
    .await
    .unwrap();
    client
        .delete_workspace_access_token("web-b", Some("other"))
        .await
        .unwrap();
    let e = converge::apply_plan(&client, &deliverer, &stale).await.unwrap_err();
    assert!(e.message().contains("out of date"), "{e}");
}

#[tokio::test]
async fn an_apply_stopped_by_a_fault_is_finished_by_the_next_without_a_second_reset() {
    let emulator = common::emulator().await;
    let state = tempfile::tempdir().unwrap();
    let client = common::admin(&emulator);
    let deliverer = deliverer(&emulator, state.path());
    let base = unique("fault");
    let spec = spec(&two_tokens(&base));
    converge::apply(&client, &deliverer, &spec, &PlanOptions::default())
        .await
        .unwrap();
    let generation = |client: wayfinder_tokens::Client| async move {
        client
            .get_workspace_access_token("app-deploy", Some("ops"))
            .await
            .unwrap()
            .generation()
    };
    let before = generation(client.clone()).await;

    // GitHub fails every write past the retries: Vault gets the new secret, GitHub does not.
    emulator
        .inject_fault(Fault {
            status: Some(502),
            times: 50,
            ..Fault::new("/github/repos/acme/app/environments/prod/variables")
        })
        .unwrap();
    let rotate = PlanOptions {
        rotate: vec!["app-deploy".into()],
        ..PlanOptions::default()
    };
    let (_, report) = converge::apply(&client, &deliverer, &spec, &rotate).await.unwrap();
    assert!(!report.ok());
    assert_eq!(generation(client.clone()).await, before + 1);
    assert_eq!(deliverer.store().pending().unwrap().len(), 1, "the secret waits");
    emulator.clear_faults();

    let plan = converge::plan(&client, &deliverer, &spec, &PlanOptions::default())
        .await
        .unwrap();
    let actions: Vec<&Action> = plan.changes.iter().map(|c| &c.action).collect();
    assert_eq!(
        actions,
        [&Action::Deliver {
            destinations: vec!["github:acme/app@prod".into()],
            pending: true
        }],
        "finishing, not rotating again"
    );
    let (_, report) = converge::apply(&client, &deliverer, &spec, &PlanOptions::default())
        .await
        .unwrap();
    assert!(report.ok(), "{report:?}");
    assert_eq!(generation(client.clone()).await, before + 1, "no second reset");
    assert!(deliverer.store().pending().unwrap().is_empty());
    let plan = converge::plan(&client, &deliverer, &spec, &PlanOptions::default())
        .await
        .unwrap();
    assert!(plan.changes.is_empty(), "{:?}", plan.changes);
}

/// Reads what a Vault destination holds every few milliseconds and
/// authenticates with it, while `rotations` rotations run; returns the
/// failures and the longest run of them.
async fn readers_through_rotations(strategy: &str, rotations: usize) -> (usize, usize, Duration) {
    let emulator = common::emulator().await;
    let state = tempfile::tempdir().unwrap();
    let client = common::admin(&emulator);
    let deliverer = deliverer(&emulator, state.path());
    let path = unique(&format!("reader-{strategy}"));
    // A slow store first (a CI system taking a moment): with a reset, the
    // old secret is dead for at least that long before Vault has the new one.
    let spec = spec(&format!(
        "apiVersion: wayfinder-tokens/v1
tokens:
  - name: svc
    workspace: ops
    roles: {{ wayfinder: [workspace.viewer] }}
    deliver:
      - \"cmd:sh -c 'cat >/dev/null; sleep 0.2'\"
      - vault:secret/{path}
    rotate: {{ strategy: {strategy} }}
"
    ));
    converge::apply(&client, &deliverer, &spec, &PlanOptions::default())
        .await
        .unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let reader = {
        let (stop, url) = (stop.clone(), emulator.url().to_owned());
        tokio::spawn(async move {
            let (mut reads, mut failures) = (0usize, 0usize);
            let (mut longest, mut since): (Duration, Option<Instant>) = (Duration::ZERO, None);
            while !stop.load(Ordering::Relaxed) {
                let data = vault(&path, "data").await;
                let secret = data["data"]["data"]["WAYFINDER_TOKEN"].as_str().unwrap().to_owned();
                let mut options = common::options_at(&url, &secret);
                options.workspace = Some("ops".into());
                let works = common::with(options).whoami().await.is_ok();
                reads += 1;
                match (works, since) {
                    (false, None) => {
                        failures += 1;
                        since = Some(Instant::now());
                    }
                    (false, Some(_)) => failures += 1,
                    (true, Some(start)) => {
                        longest = longest.max(start.elapsed());
                        since = None;
                    }
                    (true, None) => {}
                }
                tokio::time::sleep(Duration::from_millis(3)).await;
            }
            (reads, failures, longest)
        })
    };
    let rotate = PlanOptions {
        rotate: vec!["svc".into()],
        ..PlanOptions::default()
    };
    for _ in 0..rotations {
        let (plan, report) = converge::apply(&client, &deliverer, &spec, &rotate).await.unwrap();
        assert!(report.ok(), "{report:?}");
        assert!(plan.changes.iter().any(|c| matches!(c.action, Action::Rotate { .. })));
    }
    tokio::time::sleep(Duration::from_millis(50)).await;
    stop.store(true, Ordering::Relaxed);
    reader.await.unwrap()
}

#[tokio::test]
async fn slots_keep_every_reader_working_and_a_reset_shows_the_window() {
    let (reads, failures, _) = readers_through_rotations("slots", 20).await;
    eprintln!("slots: {reads} reads through 20 rotations, {failures} failures");
    assert!(reads > 100, "the reader ran ({reads} reads)");
    assert_eq!(failures, 0, "slots: every read authenticated");

    let (reads, failures, longest) = readers_through_rotations("reset", 20).await;
    eprintln!(
        "reset: {reads} reads through 20 rotations, {failures} failures, longest window {} ms",
        longest.as_millis()
    );
    assert!(failures > 0, "a reset kills the old secret before the new one arrives");
}
