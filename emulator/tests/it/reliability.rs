//! The emulator under load and after a crash: 64 concurrent clients for 30 s
//! of creates, resets and exchanges get no 5xx; after a SIGKILL of an
//! emulator running on a `--data` file, every token whose issue was
//! answered still exchanges on restart.

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;
use wayfinder_emulator::Emulator;

const ADMIN: &str = "admin-reliability";
const COLLECTION: &str = "/resources/accesstokens.appvia.io/v2beta1/workspaces";

async fn create_and_issue(http: &reqwest::Client, url: &str, ws: &str, name: &str) -> (StatusCode, Option<String>) {
    let collection = format!("{url}{COLLECTION}/{ws}/workspaceaccesstokens");
    let created = http
        .post(&collection)
        .bearer_auth(ADMIN)
        .json(&json!({"metadata": {"name": name}}))
        .send()
        .await;
    match created {
        Ok(r) if r.status().is_success() => {}
        Ok(r) => return (r.status(), None),
        Err(_) => return (StatusCode::BAD_GATEWAY, None),
    }
    match http
        .post(format!("{collection}/{name}/token"))
        .bearer_auth(ADMIN)
        .send()
        .await
    {
        Ok(r) if r.status().is_success() => {
            let body: serde_json::Value = r.json().await.unwrap_or_default();
            (StatusCode::OK, body["token"].as_str().map(str::to_owned))
        }
        Ok(r) => (r.status(), None),
        Err(_) => (StatusCode::BAD_GATEWAY, None),
    }
}

async fn exchange(http: &reqwest::Client, url: &str, token: &str) -> StatusCode {
    http.post(format!("{url}/api/v2/exchange?ttl=30m0s"))
        .bearer_auth(token)
        .send()
        .await
        .map(|r| r.status())
        .unwrap_or(StatusCode::BAD_GATEWAY)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sixty_four_clients_for_thirty_seconds_get_no_server_errors() {
    let emulator = (0..8)
        .fold(Emulator::builder().admin_token(ADMIN), |b, i| {
            b.workspace(format!("ws{i}"))
        })
        .start()
        .await
        .unwrap();
    let url = emulator.url().to_owned();
    let statuses: Arc<Mutex<BTreeMap<u16, u64>>> = Arc::default();
    let deadline = Instant::now() + Duration::from_secs(30);
    let mut tasks = Vec::new();
    for client in 0..64 {
        let (url, statuses) = (url.clone(), Arc::clone(&statuses));
        tasks.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            let mut seen = BTreeMap::new();
            let mut i = 0;
            while Instant::now() < deadline {
                let (ws, name) = (format!("ws{}", client % 8), format!("c{client}-{i}"));
                let (status, token) = create_and_issue(&http, &url, &ws, &name).await;
                *seen.entry(status.as_u16()).or_insert(0u64) += 2;
                if let Some(token) = token {
                    *seen.entry(exchange(&http, &url, &token).await.as_u16()).or_insert(0) += 1;
                    let reset = http
                        .post(format!("{url}{COLLECTION}/{ws}/workspaceaccesstokens/{name}/token"))
                        .bearer_auth(ADMIN)
                        .send()
                        .await
                        .map(|r| r.status().as_u16())
                        .unwrap_or(502);
                    *seen.entry(reset).or_insert(0) += 1;
                    // The first secret was reset: it must now be refused, not fail.
                    *seen.entry(exchange(&http, &url, &token).await.as_u16()).or_insert(0) += 1;
                }
                i += 1;
            }
            let mut all = statuses.lock().unwrap();
            for (status, count) in seen {
                *all.entry(status).or_insert(0) += count;
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let statuses = statuses.lock().unwrap().clone();
    let total: u64 = statuses.values().sum();
    let server_errors: u64 = statuses.iter().filter(|(s, _)| **s >= 500).map(|(_, c)| c).sum();
    println!("64 clients, 30 s: {total} requests, by status {statuses:?}");
    assert_eq!(server_errors, 0, "{statuses:?}");
    assert!(
        statuses.get(&401).copied().unwrap_or(0) > 0,
        "reset secrets were refused"
    );
    assert!(total > 1000, "the load loop ran: {total}");
}

fn start_binary(data: &std::path::Path) -> (Child, String) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wayfinder-emulator"))
        .args(["--quiet", "--admin-token", ADMIN, "--workspace", "crash", "--data"])
        .arg(data)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let url = first.split_whitespace().nth(2).unwrap().to_owned();
    (child, url)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tokens_answered_before_a_sigkill_still_exchange_after_restart() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("emulator.db");
    let (mut child, url) = start_binary(&data);
    let answered: Arc<Mutex<Vec<String>>> = Arc::default();
    let mut writers = Vec::new();
    for w in 0..8 {
        let (url, answered) = (url.clone(), Arc::clone(&answered));
        writers.push(tokio::spawn(async move {
            let http = reqwest::Client::new();
            for i in 0.. {
                match create_and_issue(&http, &url, "crash", &format!("w{w}-{i}")).await {
                    (StatusCode::OK, Some(token)) => answered.lock().unwrap().push(token),
                    _ => return, // the server is gone
                }
            }
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    child.kill().unwrap(); // SIGKILL, mid-flight
    child.wait().unwrap();
    for writer in writers {
        writer.await.unwrap();
    }
    let answered = answered.lock().unwrap().clone();
    assert!(
        answered.len() > 50,
        "only {} tokens were issued before the kill",
        answered.len()
    );

    let (mut restarted, url) = start_binary(&data);
    let http = reqwest::Client::new();
    let mut refused = 0;
    for token in &answered {
        if exchange(&http, &url, token).await != StatusCode::OK {
            refused += 1;
        }
    }
    restarted.kill().unwrap();
    restarted.wait().unwrap();
    println!(
        "{} tokens answered before SIGKILL; {refused} refused after restart",
        answered.len()
    );
    assert_eq!(refused, 0);
}
