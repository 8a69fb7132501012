//! The `wayfinder-emulator` binary: first line, request log, clean stop.

use std::io::{BufRead, BufReader, Read};
use std::process::{Command, Stdio};

#[test]
fn prints_url_logs_requests_without_tokens_and_stops_on_sigterm() {
    let mut child = Command::new(env!("CARGO_BIN_EXE_wayfinder-emulator"))
        .args(["--admin-token", "canary-admin-token", "--user", "alice:pw@dev"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut first = String::new();
    stdout.read_line(&mut first).unwrap();
    let rest = first.strip_prefix("listening on http://127.0.0.1:").unwrap();
    let (port, admin) = rest.trim().split_once(' ').unwrap();
    assert!(port.parse::<u16>().is_ok(), "{first}");
    assert_eq!(admin, "admin-token=canary-admin-token");

    let url = format!("http://127.0.0.1:{port}/api/v2/whoami");
    let status = std::thread::spawn(move || {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .unwrap();
        rt.block_on(async {
            reqwest::Client::new()
                .get(url)
                .bearer_auth("canary-admin-token")
                .send()
                .await
                .unwrap()
                .status()
        })
    })
    .join()
    .unwrap();
    assert_eq!(status, 200);

    let pid = child.id().to_string();
    assert!(Command::new("kill").args(["-TERM", &pid]).status().unwrap().success());
    let exit = child.wait().unwrap();
    assert!(exit.success(), "{exit:?}");
    let mut log = String::new();
    child.stderr.take().unwrap().read_to_string(&mut log).unwrap();
    assert!(log.contains("GET /api/v2/whoami 200"), "{log}");
    assert!(!log.contains("canary-admin-token"), "{log}");
}

#[test]
fn refuses_bad_arguments() {
    let out = Command::new(env!("CARGO_BIN_EXE_wayfinder-emulator"))
        .args(["--user", "no-password"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let out = Command::new(env!("CARGO_BIN_EXE_wayfinder-emulator"))
        .args(["--api-group-version", "bad"])
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
}

#[cfg(unix)]
#[test]
fn refuses_a_data_file_others_can_read_and_a_link_at_the_ca_path() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data.db");
    std::fs::write(&data, b"").unwrap();
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o644)).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_wayfinder-emulator"))
        .arg("--data")
        .arg(&data)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("mode 0644") && err.contains("signing key"), "{err}");

    let target = dir.path().join("precious");
    std::fs::write(&target, b"keep me").unwrap();
    let link = dir.path().join("ca.pem");
    std::os::unix::fs::symlink(&target, &link).unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_wayfinder-emulator"))
        .arg("--tls-self-signed")
        .arg("--tls-ca-out")
        .arg(&link)
        .output()
        .unwrap();
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(1), "{err}");
    assert!(err.contains("symbolic link"), "{err}");
    assert_eq!(std::fs::read(&target).unwrap(), b"keep me");
}
