//! Fleet operations on the emulator: 2,000 tokens in 50 workspaces,
//! inventoried and rotated in one call each with bounded concurrency, then
//! the same with faults on ~10% of the tokens, every failure's "old secret
//! still valid / already dead" checked against the server itself.
#![allow(clippy::unwrap_used, clippy::too_many_lines)]

mod common;

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{ADMIN, options, with};
use wayfinder_emulator::{Emulator, Fault};
use wayfinder_tokens::fleet::{InventoryQuery, RotateOptions, TokenRef};
use wayfinder_tokens::{Client, ClientOptions, CreateOptions, ErrorKind, Front, Secret};

const WORKSPACES: usize = 50;
const PER_WORKSPACE: usize = 40;

async fn fleet_emulator() -> Emulator {
    (0..WORKSPACES)
        .fold(Emulator::builder().admin_token(ADMIN), |b, i| {
            b.workspace(format!("fleet{i:02}"))
        })
        .start()
        .await
        .unwrap()
}

fn admin(emu: &Emulator, max_retries: u32) -> Client {
    with(ClientOptions {
        max_retries: Some(max_retries),
        ..options(emu, ADMIN)
    })
}

/// Creates the fleet; returns each token's first secret.
async fn populate(client: &Client) -> HashMap<TokenRef, Secret> {
    let mut tasks = tokio::task::JoinSet::new();
    for w in 0..WORKSPACES {
        let client = client.clone();
        tasks.spawn(async move {
            let mut made = Vec::new();
            for t in 0..PER_WORKSPACE {
                let (workspace, name) = (format!("fleet{w:02}"), format!("t{t:03}"));
                let issued = client
                    .create_workspace_access_token(&name, Some(&workspace), &CreateOptions::default())
                    .await
                    .unwrap();
                made.push((TokenRef { workspace, name }, issued.token.unwrap()));
            }
            made
        });
    }
    let mut secrets = HashMap::new();
    while let Some(made) = tasks.join_next().await {
        secrets.extend(made.unwrap());
    }
    secrets
}

async fn works(emu: &Emulator, secret: &Secret) -> bool {
    let client = with(ClientOptions {
        max_retries: Some(0),
        ..options(emu, secret.expose())
    });
    match client.whoami().await {
        Ok(_) => true,
        Err(e) if e.kind() == ErrorKind::Unauthenticated => false,
        Err(e) => panic!("cannot tell: {e}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn inventory_and_rotate_two_thousand_tokens_with_bounded_concurrency() {
    let emu = fleet_emulator().await;
    let client = admin(&emu, 3);
    let first = populate(&client).await;
    assert_eq!(client.list_workspaces().await.unwrap().len(), WORKSPACES);

    emu.reset_stats();
    let started = Instant::now();
    let inventory = client
        .inventory(&InventoryQuery {
            concurrency: Some(16),
            ..InventoryQuery::default()
        })
        .await
        .unwrap();
    let inventory_time = started.elapsed();
    assert_eq!(inventory.len(), WORKSPACES * PER_WORKSPACE);
    assert!(inventory.iter().all(|e| e.generation == 1 && e.age_seconds >= 0));
    let peak = emu.stats().peak_in_flight;
    assert!((1..=16).contains(&peak), "inventory peak in flight {peak}");

    emu.reset_stats();
    let done = Arc::new(AtomicUsize::new(0));
    let seen = Arc::clone(&done);
    let progress: wayfinder_tokens::fleet::ProgressFn = Arc::new(move |p| {
        assert_eq!(p.total, WORKSPACES * PER_WORKSPACE);
        seen.fetch_max(p.done, Ordering::SeqCst);
    });
    let targets: Vec<TokenRef> = inventory.iter().map(|e| e.target()).collect();
    let started = Instant::now();
    let report = client
        .rotate_workspace_access_tokens(&targets, &RotateOptions::default(), Some(progress), None)
        .await
        .unwrap();
    let rotate_time = started.elapsed();
    assert_eq!(report.rotated.len(), targets.len());
    assert!(report.failed.is_empty());
    assert_eq!(done.load(Ordering::SeqCst), targets.len());
    let peak = emu.stats().peak_in_flight;
    assert!((1..=8).contains(&peak), "rotation peak in flight {peak}");
    println!(
        "inventory of {} tokens in {WORKSPACES} workspaces: {inventory_time:?}; rotate-all: {rotate_time:?}; \
         peak in flight {peak} (limit 8)",
        targets.len()
    );
    // The new secrets work and the old ones do not (a sample of each).
    for issued in report.rotated.iter().step_by(97) {
        assert!(works(&emu, issued.token.as_ref().unwrap()).await);
        let old = &first[&TokenRef {
            workspace: issued.workspace.clone().unwrap(),
            name: issued.name.clone(),
        }];
        assert!(!works(&emu, old).await);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn with_faults_every_token_ends_rotated_or_reported_in_its_true_state() {
    let emu = fleet_emulator().await;
    let client = admin(&emu, 2);
    let first = populate(&client).await;
    let collection = |t: &TokenRef| {
        format!(
            "/resources/accesstokens.appvia.io/v2beta1/workspaces/{}/workspaceaccesstokens/{}",
            t.workspace, t.name
        )
    };
    let mut targets: Vec<TokenRef> = first.keys().cloned().collect();
    targets.sort_by(|a, b| (&a.workspace, &a.name).cmp(&(&b.workspace, &b.name)));
    // ~10% of the tokens meet a fault: some recover through retries, some do not.
    for (i, t) in targets.iter().enumerate().filter(|(i, _)| i % 10 == 3) {
        let issue = format!("{}/token", collection(t));
        let fault = match (i / 10) % 6 {
            0 => Fault {
                status: Some(429),
                retry_after_s: Some(0),
                times: 1,
                ..Fault::new(issue)
            },
            1 => Fault {
                status: Some(503),
                times: 1,
                ..Fault::new(issue)
            },
            2 => Fault {
                status: Some(503),
                times: 9,
                ..Fault::new(collection(t))
            },
            3 => Fault {
                drop_connection: true,
                times: 9,
                ..Fault::new(issue)
            },
            4 => Fault {
                drop_answer: true,
                times: 9,
                ..Fault::new(issue)
            },
            _ => Fault {
                status: Some(429),
                retry_after_s: Some(0),
                times: 9,
                ..Fault::new(issue)
            },
        };
        emu.inject_fault(fault).unwrap();
    }
    let report = client
        .rotate_workspace_access_tokens(
            &targets,
            &RotateOptions {
                concurrency: Some(8),
                dry_run: false,
            },
            None,
            None,
        )
        .await
        .unwrap();
    emu.clear_faults();
    assert_eq!(report.rotated.len() + report.failed.len(), targets.len());
    assert!(!report.failed.is_empty() && report.rotated.len() > targets.len() * 8 / 10);

    let after: HashMap<TokenRef, i64> = client
        .inventory(&InventoryQuery::default())
        .await
        .unwrap()
        .into_iter()
        .map(|e| (e.target(), e.generation))
        .collect();
    let (mut valid, mut dead) = (0, 0);
    for failure in &report.failed {
        let old = &first[&failure.target];
        let truly_valid = works(&emu, old).await;
        assert_eq!(
            failure.old_secret_valid,
            Some(truly_valid),
            "{:?}: {}",
            failure.target,
            failure.error
        );
        assert_eq!(after[&failure.target] == 1, truly_valid, "{:?}", failure.target);
        assert!(failure.recovery(Front::Python).contains(&failure.target.name));
        if truly_valid { valid += 1 } else { dead += 1 }
    }
    assert!(
        valid > 0 && dead > 0,
        "both states are exercised: {valid} valid, {dead} dead"
    );
    for issued in &report.rotated {
        let target = TokenRef {
            workspace: issued.workspace.clone().unwrap(),
            name: issued.name.clone(),
        };
        let generation = issued.resource.status.as_ref().and_then(|s| s.generation).unwrap();
        assert_eq!(
            after[&target], generation,
            "{target:?}: the report's generation is the server's"
        );
    }
    for issued in report.rotated.iter().step_by(53) {
        assert!(works(&emu, issued.token.as_ref().unwrap()).await);
    }
    let lines = report.to_jsonl(Front::Cli).unwrap();
    assert_eq!(lines.lines().count(), targets.len());
    println!(
        "{} rotated, {valid} failed with the old secret valid, {dead} failed with it dead",
        report.rotated.len()
    );
}

/// The names an inventory of workspace fleet00 finds for `query`.
async fn only(client: &Client, query: InventoryQuery) -> Vec<String> {
    let query = InventoryQuery {
        workspaces: Some(vec!["fleet00".into()]),
        ..query
    };
    client
        .inventory(&query)
        .await
        .unwrap()
        .into_iter()
        .map(|e| e.name)
        .collect()
}

#[tokio::test]
async fn filters_dry_runs_env_files_and_bad_options() {
    let emu = fleet_emulator().await;
    let client = admin(&emu, 0);
    for (name, expires) in [("ci-a", Some(3 * 86400)), ("ci-b", Some(60 * 86400)), ("ops-c", None)] {
        let options = CreateOptions {
            expires_in: expires.map(Duration::from_secs),
            ..CreateOptions::default()
        };
        client
            .create_workspace_access_token(name, Some("fleet00"), &options)
            .await
            .unwrap();
    }
    let week = Duration::from_secs(7 * 86400);
    assert_eq!(
        only(
            &client,
            InventoryQuery {
                expiring_within: Some(week),
                ..Default::default()
            }
        )
        .await,
        ["ci-a"]
    );
    assert_eq!(
        only(
            &client,
            InventoryQuery {
                names: vec!["ci-*".into()],
                ..Default::default()
            }
        )
        .await,
        ["ci-a", "ci-b"]
    );
    assert!(
        only(
            &client,
            InventoryQuery {
                older_than: Some(week),
                ..Default::default()
            }
        )
        .await
        .is_empty()
    );
    assert_eq!(
        only(
            &client,
            InventoryQuery {
                older_than: Some(Duration::ZERO),
                ..Default::default()
            }
        )
        .await
        .len(),
        3
    );

    let targets = vec![TokenRef {
        workspace: "fleet00".into(),
        name: "ci-a".into(),
    }];
    emu.reset_stats();
    let dry = client
        .rotate_workspace_access_tokens(
            &targets,
            &RotateOptions {
                dry_run: true,
                ..Default::default()
            },
            None,
            None,
        )
        .await
        .unwrap();
    assert_eq!((dry.would_rotate.len(), emu.stats().total), (1, 0));

    let report = client
        .rotate_workspace_access_tokens(&targets, &RotateOptions::default(), None, None)
        .await
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("secrets");
    let written = report.write_env_dir(&out).unwrap();
    assert_eq!(written.len(), 1);
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(std::fs::metadata(&out).unwrap().permissions().mode() & 0o777, 0o700);
    assert_eq!(
        std::fs::metadata(&written[0]).unwrap().permissions().mode() & 0o777,
        0o600
    );
    assert!(
        std::fs::read_to_string(&written[0])
            .unwrap()
            .contains("WAYFINDER_TOKEN=")
    );
    let link = dir.path().join("link");
    std::os::unix::fs::symlink(&out, &link).unwrap();
    assert!(report.write_env_dir(&link).is_err());

    emu.reset_stats();
    for bad in [
        RotateOptions {
            concurrency: Some(0),
            ..Default::default()
        },
        RotateOptions {
            concurrency: Some(100_000),
            ..Default::default()
        },
    ] {
        let e = client
            .rotate_workspace_access_tokens(&targets, &bad, None, None)
            .await
            .unwrap_err();
        assert_eq!(e.kind(), ErrorKind::Validation);
    }
    // A token that does not exist fails with no valid old secret, and nothing else is touched.
    let missing = vec![TokenRef {
        workspace: "fleet00".into(),
        name: "never-made".into(),
    }];
    let report = client
        .rotate_workspace_access_tokens(&missing, &RotateOptions::default(), None, None)
        .await
        .unwrap();
    assert_eq!(report.failed[0].old_secret_valid, Some(false));
    assert_eq!(report.failed[0].error.kind(), ErrorKind::NotFound);
    emu.reset_stats();
    let bad_name = vec![TokenRef {
        workspace: "fleet00".into(),
        name: "Bad_Name".into(),
    }];
    let e = client
        .rotate_workspace_access_tokens(&bad_name, &RotateOptions::default(), None, None)
        .await
        .unwrap_err();
    assert_eq!(e.field_errors()[0].field, "name");
    let e = client
        .inventory(&InventoryQuery {
            names: vec!["[".into()],
            ..Default::default()
        })
        .await
        .unwrap_err();
    assert_eq!(e.kind(), ErrorKind::Validation);
    assert_eq!(emu.stats().total, 0, "bad input reached the server");
}

#[tokio::test]
async fn cancelling_a_batch_reports_what_was_done_and_what_was_not_started() {
    let emu = fleet_emulator().await;
    let client = admin(&emu, 0);
    let mut targets = Vec::new();
    for t in 0..20 {
        let name = format!("c{t:02}");
        client
            .create_workspace_access_token(&name, Some("fleet01"), &CreateOptions::default())
            .await
            .unwrap();
        targets.push(TokenRef {
            workspace: "fleet01".into(),
            name,
        });
    }
    emu.inject_fault(Fault {
        delay_ms: Some(300),
        times: 100,
        ..Fault::new("/resources/accesstokens.appvia.io/v2beta1/workspaces/fleet01/workspaceaccesstokens/c")
    })
    .unwrap();
    let cancel = Arc::new(tokio::sync::Notify::new());
    let trigger = Arc::clone(&cancel);
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(400)).await;
        trigger.notify_one();
    });
    let report = client
        .rotate_workspace_access_tokens(
            &targets,
            &RotateOptions {
                concurrency: Some(2),
                dry_run: false,
            },
            None,
            Some(cancel),
        )
        .await
        .unwrap();
    assert!(!report.not_started.is_empty());
    assert_eq!(
        report.rotated.len() + report.failed.len() + report.not_started.len(),
        20
    );
    for t in &report.not_started {
        let object = client
            .get_workspace_access_token(&t.name, Some(&t.workspace))
            .await
            .unwrap();
        assert_eq!(object.status.unwrap().generation, Some(1), "{t:?} was touched");
    }
}
