//! HTTPS against the emulator's TLS listener: a CA pinned in
//! `caCertificate` is trusted, a self-signed CA:TRUE server certificate
//! pinned byte for byte is accepted (as the `wf` CLI stores it), and an
//! unknown CA, a wrong host name or an expired certificate are refused with
//! a typed error before any request (or token) is sent.

use crate::common::ADMIN;
use rcgen::{BasicConstraints, CertificateParams, IsCa, Issuer, KeyPair};
use wayfinder_emulator::{Emulator, TlsMode};
use wayfinder_tokens::{Client, ClientOptions, ErrorKind, Secret};

async fn https(mode: TlsMode) -> Emulator {
    Emulator::builder().admin_token(ADMIN).tls(mode).start().await.unwrap()
}

fn client(url: &str, ca: Option<&str>) -> Client {
    Client::new(&ClientOptions {
        server: Some(url.to_owned()),
        token: Some(Secret::new(ADMIN)),
        workspace: Some("dev".into()),
        ca_certificate: ca.map(str::to_owned),
        max_retries: Some(2),
        ..ClientOptions::default()
    })
    .unwrap()
}

/// A CA, and a PEM chain + key for `names` signed by it.
fn signed_by_own_ca(names: &[&str], expired: bool) -> (String, TlsMode) {
    let ca_key = KeyPair::generate().unwrap();
    let mut ca = CertificateParams::new(Vec::new()).unwrap();
    ca.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    let ca_cert = ca.self_signed(&ca_key).unwrap();
    let issuer = Issuer::new(ca, ca_key);
    let key = KeyPair::generate().unwrap();
    let mut leaf = CertificateParams::new(names.iter().map(|n| n.to_string()).collect::<Vec<_>>()).unwrap();
    if expired {
        leaf.not_before = rcgen::date_time_ymd(2020, 1, 1);
        leaf.not_after = rcgen::date_time_ymd(2021, 1, 1);
    }
    let leaf = leaf.signed_by(&key, &issuer).unwrap();
    let mode = TlsMode::Pem {
        chain: leaf.pem() + &ca_cert.pem(),
        key: key.serialize_pem(),
    };
    (ca_cert.pem(), mode)
}

#[tokio::test]
async fn a_pinned_ca_is_trusted_and_connections_are_pooled() {
    let emu = https(TlsMode::Generated).await;
    assert!(emu.url().starts_with("https://127.0.0.1:"));
    let ca = emu.ca_certificate().unwrap().to_owned();
    let client = client(emu.url(), Some(&ca));
    for i in 0..10 {
        client
            .create_workspace_access_token(&format!("t{i}"), None, &Default::default())
            .await
            .unwrap();
    }
    let stats = emu.stats();
    assert_eq!(
        stats.count(
            "POST",
            "/resources/accesstokens.appvia.io/v2beta1/workspaces/dev/workspaceaccesstokens"
        ),
        10
    );
    assert_eq!(
        stats.tls_handshakes, 1,
        "one handshake per pooled connection, not per request"
    );
}

#[tokio::test]
async fn a_self_signed_ca_certificate_pinned_byte_for_byte_is_accepted() {
    let emu = https(TlsMode::SelfSignedCa).await;
    let pinned = emu.ca_certificate().unwrap().to_owned();
    // What rustls alone says of this certificate (the bug this pin fixes).
    let plain = reqwest::Client::builder()
        .tls_certs_merge(reqwest::Certificate::from_pem_bundle(pinned.as_bytes()).unwrap())
        .build()
        .unwrap();
    let refused = plain.get(format!("{}/apiinfo", emu.url())).send().await.unwrap_err();
    assert!(format!("{refused:?}").contains("CaUsedAsEndEntity"), "{refused:?}");
    let me = client(emu.url(), Some(&pinned)).whoami().await.unwrap();
    assert_eq!(me.username, "admin");
}

#[tokio::test]
async fn an_untrusted_certificate_is_refused_before_anything_is_sent() {
    let (expired_ca, expired) = signed_by_own_ca(&["localhost", "127.0.0.1"], true);
    let (wrong_name_ca, wrong_name) = signed_by_own_ca(&["wayfinder.example.com"], false);
    let (unrelated_ca, _) = signed_by_own_ca(&["127.0.0.1"], false);
    let generated = https(TlsMode::Generated).await;
    let self_signed = https(TlsMode::SelfSignedCa).await;
    let expired = https(expired).await;
    let wrong_name = https(wrong_name).await;
    let cases: [(&Emulator, Option<&str>, &str); 5] = [
        (&generated, None, "UnknownIssuer"),
        (&generated, Some(&unrelated_ca), "UnknownIssuer"),
        (&expired, Some(&expired_ca), "Expired"),
        (&wrong_name, Some(&wrong_name_ca), "NotValidForName"),
        // The wf CLI's self-signed certificate, but another one pinned.
        (&self_signed, Some(&unrelated_ca), "CaUsedAsEndEntity"),
    ];
    for (emu, ca, why) in cases {
        let err = client(emu.url(), ca).whoami().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Transport, "{why}: {err}");
        assert!(err.to_string().contains("not trusted"), "{why}: {err}");
        assert!(format!("{err:?}").contains(why), "{why}: {err:?}");
        assert!(!err.to_string().contains(ADMIN));
        assert_eq!(emu.stats().total, 0, "{why}: a request went out");
        assert_eq!(emu.stats().tls_handshakes, 0, "{why}");
    }
}

/// A self-signed CA:TRUE certificate for the loopback names (as the wf CLI
/// pins one), valid only between `from` and `until` (years).
fn self_signed_between(from: i32, until: i32) -> (String, TlsMode) {
    let key = KeyPair::generate().unwrap();
    let mut params = CertificateParams::new(vec!["localhost".to_owned(), "127.0.0.1".to_owned()]).unwrap();
    params.is_ca = IsCa::Ca(BasicConstraints::Unconstrained);
    params.not_before = rcgen::date_time_ymd(from, 1, 1);
    params.not_after = rcgen::date_time_ymd(until, 1, 1);
    let cert = params.self_signed(&key).unwrap();
    let mode = TlsMode::Pem {
        chain: cert.pem(),
        key: key.serialize_pem(),
    };
    (cert.pem(), mode)
}

#[tokio::test]
async fn a_pinned_certificate_outside_its_dates_is_refused() {
    for (from, until, why) in [(2020, 2021, "Expired"), (2090, 2091, "NotValidYet")] {
        let (pem, mode) = self_signed_between(from, until);
        let emu = https(mode).await;
        let err = client(emu.url(), Some(&pem)).whoami().await.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Transport, "{why}: {err}");
        assert!(format!("{err:?}").contains(why), "{why}: {err:?}");
        assert_eq!(emu.stats().total, 0, "{why}: a request went out");
    }
    // The same kind of certificate, in its dates, is accepted.
    let (pem, mode) = self_signed_between(2020, 2090);
    let emu = https(mode).await;
    assert_eq!(client(emu.url(), Some(&pem)).whoami().await.unwrap().username, "admin");
}

#[tokio::test]
async fn https_to_a_plain_http_server_says_so_and_is_not_retried() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    let accepted = std::sync::Arc::new(std::sync::atomic::AtomicUsize::new(0));
    let count = std::sync::Arc::clone(&accepted);
    tokio::spawn(async move {
        use tokio::io::{AsyncReadExt, AsyncWriteExt};
        while let Ok((mut socket, _)) = listener.accept().await {
            count.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
            let mut buf = [0u8; 1024];
            let _ = socket.read(&mut buf).await;
            let _ = socket
                .write_all(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
                .await;
        }
    });
    let err = Client::new(&ClientOptions {
        server: Some(format!("https://127.0.0.1:{port}")),
        token: Some(Secret::new(ADMIN)),
        max_retries: Some(4),
        ..ClientOptions::default()
    })
    .unwrap()
    .whoami()
    .await
    .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transport, "{err}");
    assert!(err.to_string().contains("not speaking TLS"), "{err}");
    assert_eq!(accepted.load(std::sync::atomic::Ordering::SeqCst), 1, "retried: {err}");
}
