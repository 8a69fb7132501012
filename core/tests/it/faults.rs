//! Retries, timeouts and broken answers, through the emulator's fault
//! injection on real sockets. Attempt counts come from the emulator's stats.

use std::time::{Duration, Instant};

use crate::common::{ADMIN, admin, emulator, options, with};
use wayfinder_emulator::Fault;
use wayfinder_tokens::{ClientOptions, CreateOptions, Error};

const WHOAMI: &str = "/api/v2/whoami";
const COLLECTION: &str = "/resources/accesstokens.appvia.io/v2beta1/workspaces/dev/workspaceaccesstokens";

fn fault(prefix: &str) -> Fault {
    Fault::new(prefix)
}

#[tokio::test]
async fn retries_429_and_503_honouring_retry_after() {
    let emu = emulator().await;
    let client = admin(&emu);
    client.whoami().await.unwrap(); // discovery out of the way
    emu.inject_fault(Fault {
        status: Some(429),
        retry_after_s: Some(1),
        ..fault(WHOAMI)
    })
    .unwrap();
    emu.inject_fault(Fault {
        status: Some(503),
        ..fault(WHOAMI)
    })
    .unwrap();
    let started = Instant::now();
    client.whoami().await.unwrap();
    assert!(
        started.elapsed() >= Duration::from_secs(1),
        "Retry-After was not honoured"
    );
    assert_eq!(emu.stats().count("GET", WHOAMI), 4);
}

#[tokio::test]
async fn gives_up_after_the_bound() {
    let emu = emulator().await;
    let client = with(ClientOptions {
        max_retries: Some(2),
        ..options(&emu, ADMIN)
    });
    client.whoami().await.unwrap();
    emu.inject_fault(Fault {
        status: Some(429),
        times: 50,
        ..fault(WHOAMI)
    })
    .unwrap();
    let err = client.whoami().await.unwrap_err();
    assert_eq!(err.code(), "RATE_LIMITED");
    assert_eq!(err.status(), Some(429));
    assert_eq!(emu.stats().count("GET", WHOAMI), 1 + 3);

    emu.clear_faults();
    emu.inject_fault(Fault {
        status: Some(503),
        times: 50,
        ..fault(WHOAMI)
    })
    .unwrap();
    let err = client.whoami().await.unwrap_err();
    assert_eq!(err.code(), "SERVER");
    assert_eq!(err.status(), Some(503));
    assert_eq!(emu.stats().count("GET", WHOAMI), 4 + 3);
}

#[tokio::test]
async fn zero_retries_means_one_attempt() {
    let emu = emulator().await;
    let client = with(ClientOptions {
        max_retries: Some(0),
        ..options(&emu, ADMIN)
    });
    client.whoami().await.unwrap();
    emu.inject_fault(Fault {
        status: Some(503),
        ..fault(WHOAMI)
    })
    .unwrap();
    assert_eq!(client.whoami().await.unwrap_err().status(), Some(503));
    assert_eq!(emu.stats().count("GET", WHOAMI), 2);
}

#[tokio::test]
async fn a_delay_beyond_the_timeout_is_a_timeout_error_not_retried() {
    let emu = emulator().await;
    let client = with(ClientOptions {
        timeout: Some(Duration::from_millis(300)),
        ..options(&emu, ADMIN)
    });
    client.whoami().await.unwrap();
    emu.inject_fault(Fault {
        delay_ms: Some(2000),
        ..fault(WHOAMI)
    })
    .unwrap();
    let err = client.whoami().await.unwrap_err();
    assert_eq!(err.code(), "TIMEOUT");
    assert!(matches!(err, Error::Timeout { .. }));
    assert_eq!(emu.stats().count("GET", WHOAMI), 2);
}

#[tokio::test]
async fn a_dropped_connection_is_retried_for_safe_requests() {
    let emu = emulator().await;
    let client = admin(&emu);
    client.whoami().await.unwrap();
    emu.inject_fault(Fault {
        drop_connection: true,
        ..fault(WHOAMI)
    })
    .unwrap();
    client.whoami().await.unwrap();
    assert_eq!(emu.stats().count("GET", WHOAMI), 3);
}

#[tokio::test]
async fn the_creating_post_is_never_replayed_after_it_may_have_arrived() {
    let emu = emulator().await;
    let client = admin(&emu);
    client.whoami().await.unwrap();
    emu.inject_fault(Fault {
        drop_connection: true,
        ..fault(COLLECTION)
    })
    .unwrap();
    let err = client
        .create_workspace_access_token("once", None, &CreateOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "TRANSPORT");
    assert_eq!(emu.stats().count("POST", COLLECTION), 1, "the create was replayed");
}

#[tokio::test]
async fn issuing_the_secret_is_retried_and_a_lost_issue_says_how_to_recover() {
    let emu = emulator().await;
    let client = admin(&emu);
    let token_path = format!("{COLLECTION}/retried/token");
    emu.inject_fault(Fault {
        drop_connection: true,
        ..fault(&token_path)
    })
    .unwrap();
    let issued = client
        .create_workspace_access_token("retried", None, &CreateOptions::default())
        .await
        .unwrap();
    assert!(issued.token.is_some());
    assert_eq!(emu.stats().count("POST", &token_path), 2);
    let working = with(options(&emu, issued.token.as_ref().unwrap().expose()));
    working.whoami().await.unwrap();

    // Every attempt of the issue fails: the object exists, and the error says
    // how to get a secret; a reset then works.
    let lost_path = format!("{COLLECTION}/lost/token");
    emu.inject_fault(Fault {
        status: Some(503),
        times: 10,
        ..fault(&lost_path)
    })
    .unwrap();
    let err = client
        .create_workspace_access_token("lost", None, &CreateOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "SERVER");
    assert!(
        err.to_string()
            .contains("reset_workspace_access_token(\"lost\", workspace)"),
        "{err}"
    );
    emu.clear_faults();
    let recovered = client.reset_workspace_access_token("lost", None).await.unwrap();
    with(options(&emu, recovered.token.as_ref().unwrap().expose()))
        .whoami()
        .await
        .unwrap();
}

#[tokio::test]
async fn malformed_and_oversized_answers_are_clear_errors() {
    let emu = emulator().await;
    let client = admin(&emu);
    client.whoami().await.unwrap();
    emu.inject_fault(Fault {
        malformed_body: true,
        ..fault(WHOAMI)
    })
    .unwrap();
    let err = client.whoami().await.unwrap_err();
    assert_eq!(err.code(), "SERVER");
    assert!(err.to_string().contains("not valid JSON"), "{err}");

    // Cut short, or followed by more than JSON: still not JSON. JSON of
    // another shape is named by what was expected.
    for (body, says) in [
        (r#"{"items": ["#, "not valid JSON"),
        (r#"{"items": []} and more"#, "not valid JSON"),
        (r#"{"items": 7}"#, "the server's list is not understood"),
    ] {
        emu.inject_fault(Fault {
            status: Some(200),
            body: Some(body.to_owned()),
            ..fault("/resources")
        })
        .unwrap();
        let err = client.list_workspace_access_tokens(None).await.unwrap_err();
        assert_eq!(err.code(), "SERVER", "{body}");
        assert!(err.to_string().contains(says), "{body}: {err}");
    }

    emu.inject_fault(Fault {
        status: Some(500),
        malformed_body: true,
        ..fault(WHOAMI)
    })
    .unwrap();
    let err = client.whoami().await.unwrap_err();
    assert_eq!(err.status(), Some(500));

    emu.inject_fault(Fault {
        status: Some(502),
        body_bytes: Some(10 * 1024 * 1024),
        ..fault(WHOAMI)
    })
    .unwrap();
    let err = client.whoami().await.unwrap_err();
    assert_eq!(err.status(), Some(502));
    assert!(err.to_string().contains("larger than"), "{err}");

    emu.inject_fault(Fault {
        body_bytes: Some(40 * 1024 * 1024),
        ..fault(WHOAMI)
    })
    .unwrap();
    let err = client.whoami().await.unwrap_err();
    assert!(err.to_string().contains("larger than"), "{err}");
}

#[tokio::test]
async fn unreachable_servers_are_transport_errors_after_retries() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    drop(listener);
    let client = with(ClientOptions {
        server: Some(format!("http://127.0.0.1:{port}")),
        token: Some("t".into()),
        workspace: Some("dev".into()),
        max_retries: Some(1),
        ..ClientOptions::default()
    });
    let err = client.whoami().await.unwrap_err();
    assert_eq!(err.code(), "TRANSPORT");
    assert!(err.to_string().contains("/apiinfo"), "{err}");
}
