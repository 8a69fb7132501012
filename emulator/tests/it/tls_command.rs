//! `wayfinder-emulator --tls`: an HTTPS listener whose CA is written where
//! `--tls-ca-out` says, for any client to trust.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

#[tokio::test]
async fn the_tls_listener_serves_https_and_writes_its_ca() {
    let dir = tempfile::tempdir().unwrap();
    let ca_path = dir.path().join("ca.pem");
    let mut child = Command::new(env!("CARGO_BIN_EXE_wayfinder-emulator"))
        .args(["--quiet", "--tls", "--admin-token", "tls-admin", "--tls-ca-out"])
        .arg(&ca_path)
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut first = String::new();
    BufReader::new(child.stdout.take().unwrap())
        .read_line(&mut first)
        .unwrap();
    let url = first.split_whitespace().nth(2).unwrap().to_owned();
    assert!(url.starts_with("https://127.0.0.1:"), "{first}");
    let ca = std::fs::read(&ca_path).unwrap();
    let http = reqwest::Client::builder()
        .tls_certs_only(reqwest::Certificate::from_pem_bundle(&ca).unwrap())
        .build()
        .unwrap();
    let info = http.get(format!("{url}/apiinfo")).send().await.unwrap();
    assert_eq!(info.status(), 200);
    child.kill().unwrap();
    child.wait().unwrap();

    let refused = Command::new(env!("CARGO_BIN_EXE_wayfinder-emulator"))
        .args(["--tls", "--tls-self-signed"])
        .output()
        .unwrap();
    assert_eq!(refused.status.code(), Some(2));
}
