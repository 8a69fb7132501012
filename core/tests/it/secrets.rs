//! A canary token pushed through success and error paths never shows up in
//! logs (at trace level), error messages or Debug output; redirects to
//! another origin never carry the Authorization header; exposed config files
//! draw a warning. This file installs a process-wide logger, so it is its
//! own test binary.

use std::sync::{Arc, Mutex};

use crate::common::{ADMIN, admin, emulator, options, with};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use wayfinder_emulator::Fault;
use wayfinder_tokens::{ClientOptions, CreateOptions, Error};

static LOGS: Mutex<Vec<String>> = Mutex::new(Vec::new());

struct Capture;

impl log::Log for Capture {
    fn enabled(&self, _: &log::Metadata<'_>) -> bool {
        true
    }
    fn log(&self, record: &log::Record<'_>) {
        LOGS.lock()
            .unwrap()
            .push(format!("{} {} {}", record.level(), record.target(), record.args()));
    }
    fn flush(&self) {}
}

fn install_logger() {
    let _ = log::set_logger(&Capture);
    log::set_max_level(log::LevelFilter::Trace);
}

fn logs() -> Vec<String> {
    LOGS.lock().unwrap().clone()
}

#[tokio::test]
async fn canaries_never_leak() {
    install_logger();
    let emu = emulator().await;
    let client = admin(&emu);
    let mut secrets = vec![ADMIN.to_owned()];
    let mut errors: Vec<Error> = Vec::new();

    let issued = client
        .create_workspace_access_token("canary", None, &CreateOptions::default())
        .await
        .unwrap();
    let secret = issued.token.clone().unwrap();
    secrets.push(secret.expose().to_owned());
    let pipeline = with(options(&emu, secret.expose()));
    pipeline.whoami().await.unwrap();
    let reset = client.reset_workspace_access_token("canary", None).await.unwrap();
    secrets.push(reset.token.clone().unwrap().expose().to_owned());

    // Error paths: stale secret, conflict, not found, faults, bad input.
    errors.push(pipeline.whoami().await.unwrap_err());
    errors.push(
        client
            .create_workspace_access_token("canary", None, &CreateOptions::default())
            .await
            .unwrap_err(),
    );
    errors.push(client.get_workspace_access_token("missing", None).await.unwrap_err());
    for fault in [
        Fault {
            status: Some(500),
            ..Fault::new("/")
        },
        Fault {
            malformed_body: true,
            ..Fault::new("/")
        },
        Fault {
            status: Some(429),
            times: 10,
            ..Fault::new("/")
        },
        Fault {
            drop_connection: true,
            times: 10,
            ..Fault::new("/")
        },
    ] {
        emu.clear_faults();
        emu.inject_fault(fault).unwrap();
        errors.push(
            with(ClientOptions {
                max_retries: Some(1),
                ..options(&emu, ADMIN)
            })
            .list_workspace_access_tokens(None)
            .await
            .unwrap_err(),
        );
    }
    emu.clear_faults();
    errors.push(with(options(&emu, "bad\ntoken")).whoami().await.unwrap_err());

    let logs = logs();
    assert!(
        logs.iter().any(|l| l.contains("GET /api/v2/whoami")),
        "debug logs were captured"
    );
    assert!(logs.iter().any(|l| l.contains("attempt")), "{logs:?}");
    assert!(
        logs.iter()
            .any(|l| l.starts_with("INFO") && l.contains("credentials for") && l.contains("from arguments")),
        "the credentials' source is logged at INFO: {logs:?}"
    );
    assert!(
        logs.iter().any(|l| l.starts_with("INFO") && l.contains("retrying in")),
        "each retry is logged at INFO: {logs:?}"
    );
    for secret in &secrets {
        for line in &logs {
            assert!(!line.contains(secret.as_str()), "a secret reached a log line: {line}");
        }
        for e in &errors {
            assert!(!e.to_string().contains(secret.as_str()), "{e}");
            assert!(!format!("{e:?}").contains(secret.as_str()), "{e:?}");
        }
        assert!(!format!("{client:?}").contains(secret.as_str()));
        assert!(!format!("{issued:?}").contains(secret.as_str()));
        assert!(!format!("{:?}", client.settings()).contains(secret.as_str()));
    }
    assert!(errors.len() >= 8);
}

#[tokio::test]
async fn exposed_config_files_draw_a_warning() {
    install_logger();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("exposed-config");
    std::fs::write(
        &path,
        "current-profile: a\nprofiles: {a: {server: s, user: u}}\nservers: {s: {server: 'https://x.example.com'}}\nusers: {u: {token: t}}\n",
    )
    .unwrap();
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let load = || {
            wayfinder_tokens::Client::new(&ClientOptions {
                config_path: Some(path.clone()),
                ..ClientOptions::default()
            })
            .unwrap()
        };
        let warnings = || {
            logs()
                .iter()
                .filter(|l| l.starts_with("WARN") && l.contains("exposed-config") && l.contains("chmod 600"))
                .count()
        };
        // The vendor's client writes 0640: group access is no warning.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
        load();
        assert_eq!(warnings(), 0, "{:?}", logs());
        // Readable by others: one warning per process per file.
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o644)).unwrap();
        load();
        load();
        assert_eq!(warnings(), 1, "{:?}", logs());
    }
}

type Answer = Arc<dyn Fn(&str) -> String + Send + Sync>;

/// A minimal HTTP server: answers each request with `answer(request head)`
/// and records the heads it saw.
async fn tiny_server(answer: Answer) -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://127.0.0.1:{}", listener.local_addr().unwrap().port());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let record = Arc::clone(&seen);
    tokio::spawn(async move {
        while let Ok((mut socket, _)) = listener.accept().await {
            let mut buf = vec![0u8; 16 * 1024];
            let n = socket.read(&mut buf).await.unwrap_or(0);
            let head = String::from_utf8_lossy(&buf[..n]).into_owned();
            let reply = answer(&head);
            record.lock().unwrap().push(head);
            let _ = socket.write_all(reply.as_bytes()).await;
            let _ = socket.shutdown().await;
        }
    });
    (url, seen)
}

fn json_answer(body: &str) -> String {
    format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n{body}",
        body.len()
    )
}

#[tokio::test]
async fn redirects_to_another_origin_never_carry_the_authorization_header() {
    let (other, other_seen) = tiny_server(Arc::new(|_: &str| json_answer(r#"{"username":"x"}"#))).await;
    let target = format!("{other}/api/v2/whoami");
    let (origin, origin_seen) = tiny_server(Arc::new(move |head: &str| {
        if head.starts_with("GET /apiinfo ") {
            json_answer(r#"{"nonResourceAPI":"/api/v2","resourceAPI":"/resources"}"#)
        } else {
            format!("HTTP/1.1 307 Temporary Redirect\r\nlocation: {target}\r\ncontent-length: 0\r\nconnection: close\r\n\r\n")
        }
    }))
    .await;
    let client = with(ClientOptions {
        server: Some(origin),
        token: Some("redirect-canary".into()),
        ..ClientOptions::default()
    });
    let err = client.whoami().await.unwrap_err();
    assert!(err.to_string().contains("redirected"), "{err}");
    let origin_heads = origin_seen.lock().unwrap().clone();
    assert!(
        origin_heads
            .iter()
            .any(|h| h.starts_with("GET /api/v2/whoami") && h.contains("redirect-canary")),
        "the authenticated call reached the origin: {origin_heads:?}"
    );
    for head in other_seen.lock().unwrap().iter() {
        assert!(!head.to_lowercase().contains("authorization"), "{head}");
        assert!(!head.contains("redirect-canary"), "{head}");
    }
}

#[test]
fn plain_http_to_other_hosts_is_refused_unless_opted_in() {
    let refused = wayfinder_tokens::Client::new(&ClientOptions {
        server: Some("http://wayfinder.internal.example".into()),
        token: Some("t".into()),
        ..ClientOptions::default()
    })
    .unwrap_err();
    assert_eq!(refused.code(), "VALIDATION");
    assert_eq!(refused.field_errors()[0].field, "server");
    assert!(
        wayfinder_tokens::Client::new(&ClientOptions {
            server: Some("http://wayfinder.internal.example".into()),
            token: Some("t".into()),
            allow_insecure_http: true,
            ..ClientOptions::default()
        })
        .is_ok()
    );
}

#[tokio::test]
async fn a_token_that_cannot_be_a_header_is_refused_before_it_is_sent() {
    let (url, seen) = tiny_server(Arc::new(|head: &str| {
        if head.starts_with("GET /apiinfo ") {
            json_answer(r#"{"nonResourceAPI":"/api/v2","resourceAPI":"/resources"}"#)
        } else {
            json_answer(r#"{"username":"x"}"#)
        }
    }))
    .await;
    let client = with(ClientOptions {
        server: Some(url),
        token: Some("header-canary\r\nX-Injected: yes".into()),
        ..ClientOptions::default()
    });
    for _ in 0..2 {
        // The header is built once per token; every call is refused alike.
        let err = client.whoami().await.unwrap_err();
        assert!(matches!(&err, Error::Validation { .. }), "{err:?}");
        let fields: Vec<(String, String)> = err
            .field_errors()
            .iter()
            .map(|f| (f.field.key().to_owned(), f.code.clone()))
            .collect();
        assert_eq!(fields, [("token".to_owned(), "invalidValue".to_owned())], "{err}");
        assert!(!err.to_string().contains("header-canary"), "{err}");
    }
    for head in seen.lock().unwrap().iter() {
        assert!(
            !head.contains("header-canary") && !head.contains("X-Injected"),
            "{head}"
        );
    }
}
