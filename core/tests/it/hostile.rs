//! Off the happy path: hostile or odd server answers, careless settings and
//! files shaped by real machines. Credentials go only where the user pointed
//! them, the one-time secret always reaches the user, and no server text can
//! attack the terminal.

use crate::common;

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use crate::common::{ADMIN, admin, alice_refresh_token, emulator, options, with};
use wayfinder_emulator::Fault;
use wayfinder_tokens::config::{self, Config, DEFAULT_LOCK_TIMEOUT, User};
use wayfinder_tokens::settings::Settings;
use wayfinder_tokens::{Client, ClientOptions, CreateOptions, Secret};

/// A TCP listener that counts connections and never answers: where a
/// misdirected request would land.
async fn trap() -> (String, Arc<AtomicUsize>) {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let hits = Arc::new(AtomicUsize::new(0));
    let counter = hits.clone();
    tokio::spawn(async move {
        while let Ok((socket, _)) = listener.accept().await {
            counter.fetch_add(1, Ordering::SeqCst);
            drop(socket);
        }
    });
    (format!("127.0.0.1:{}", addr.port()), hits)
}

fn fault_body(path: &str, status: u16, body: String) -> Fault {
    Fault {
        status: Some(status),
        body: Some(body),
        ..Fault::new(path)
    }
}

#[tokio::test]
async fn apiinfo_answers_cannot_retarget_requests() {
    let emu = emulator().await;
    let (elsewhere, hits) = trap().await;
    let bad_paths = [
        format!("//{elsewhere}/api/v2"),
        format!("http://{elsewhere}/api/v2"),
        format!("/api@{elsewhere}"),
        format!("@{elsewhere}/api"),
        ":9999/api".to_owned(),
        "/api/../../x".to_owned(),
        "api/v2".to_owned(),
        "/api\\v2".to_owned(),
        "/api/v2?x=1".to_owned(),
        "/api/v2#f".to_owned(),
        String::new(),
    ];
    for bad in &bad_paths {
        for key in ["nonResourceAPI", "resourceAPI"] {
            let mut info = serde_json::json!({"nonResourceAPI": "/api/v2", "resourceAPI": "/resources"});
            info[key] = serde_json::json!(bad);
            emu.inject_fault(fault_body("/apiinfo", 200, info.to_string())).unwrap();
            let e = admin(&emu).list_workspace_access_tokens(None).await.expect_err(bad);
            assert_eq!(e.code(), "SERVER", "{bad}: {e}");
            assert!(e.to_string().contains("/apiinfo"), "{e}");
        }
    }
    assert_eq!(hits.load(Ordering::SeqCst), 0, "no request left for another origin");

    // A good answer still works, and paths are joined onto the endpoint's own path.
    emu.inject_fault(fault_body(
        "/apiinfo",
        200,
        r#"{"nonResourceAPI":"/api/v2","resourceAPI":"/resources/"}"#.into(),
    ))
    .unwrap();
    admin(&emu).list_workspace_access_tokens(None).await.unwrap();
}

#[tokio::test]
async fn a_cached_apiinfo_with_a_foreign_path_is_refused_before_any_request() {
    let emu = emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config");
    std::fs::write(
        &path,
        format!(
            "current-profile: p\nprofiles:\n  p: {{server: p, user: p}}\nservers:\n  p:\n    server: {}\n    \
             apiinfo: {{nonresourceapi: '//evil.example.com/api', resourceapi: /resources}}\nusers:\n  p: {{token: {ADMIN}}}\n",
            emu.url()
        ),
    )
    .unwrap();
    let e = Client::new(&ClientOptions {
        config_path: Some(path),
        ..ClientOptions::default()
    })
    .expect_err("foreign path");
    assert!(e.to_string().contains("apiinfo"), "{e}");
    assert_eq!(emu.stats().total, 0);
}

/// A config file with profile `real` (the emulator, a cached API token)
/// and profile `bob` (a static token of his own).
fn two_profiles(dir: &Path, url: &str) -> PathBuf {
    let path = dir.join("config");
    let mut config = Config::default();
    config.set_profile("real", url, &Secret::new("bob-static-token"), Some("dev"), true);
    config.users.insert(
        "real".into(),
        User {
            token: Some(Secret::new(ADMIN)),
            ..User::default()
        },
    );
    config.set_profile("bob", url, &Secret::new("bob-static-token"), Some("dev"), false);
    config::replace(&path, DEFAULT_LOCK_TIMEOUT, &config).unwrap();
    path
}

#[tokio::test]
async fn explicit_server_or_token_never_writes_into_the_file() {
    let emu = emulator().await;
    let other = emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let path = two_profiles(dir.path(), emu.url());
    let before = std::fs::read(&path).unwrap();

    // Alice's refresh token through bob's profile: refreshed, used, never stored as bob's.
    let alice = alice_refresh_token(&emu).await;
    let client = Client::new(&ClientOptions {
        profile: Some("bob".into()),
        config_path: Some(path.clone()),
        token: Some(Secret::new(alice)),
        ..ClientOptions::default()
    })
    .unwrap();
    client.whoami().await.unwrap();
    // Another server through the real profile: its /apiinfo is not cached there.
    let client = Client::new(&ClientOptions {
        profile: Some("real".into()),
        config_path: Some(path.clone()),
        server: Some(other.url().to_owned()),
        token: Some(Secret::new(ADMIN)),
        ..ClientOptions::default()
    })
    .unwrap();
    client.list_workspace_access_tokens(None).await.unwrap();
    let client = Client::new(&ClientOptions {
        profile: Some("real".into()),
        config_path: Some(path.clone()),
        server: Some(other.url().to_owned()),
        ..ClientOptions::default()
    })
    .unwrap();
    client.list_workspace_access_tokens(None).await.unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), before, "the file was written");

    // The profile alone still caches its discovery.
    let client = Client::new(&ClientOptions {
        profile: Some("real".into()),
        config_path: Some(path.clone()),
        ..ClientOptions::default()
    })
    .unwrap();
    client.list_workspace_access_tokens(None).await.unwrap();
    let text = std::fs::read_to_string(&path).unwrap();
    assert_eq!(text.matches("apiinfo:").count(), 1, "{text}");
    assert!(text.contains("nonresourceapi: /api/v2"), "{text}");
    assert!(!text.contains("apiInfo"), "{text}");
}

#[test]
fn half_set_environment_is_an_error_naming_the_other_variable() {
    let dir = tempfile::tempdir().unwrap();
    let path = two_profiles(dir.path(), "http://127.0.0.1:9");
    let config = path.display().to_string();
    for (set, missing) in [
        ("WAYFINDER_TOKEN", "WAYFINDER_SERVER"),
        ("WAYFINDER_SERVER", "WAYFINDER_TOKEN"),
    ] {
        let env = |k: &str| match k {
            "WAYFINDER_CONFIG" => Some(config.clone()),
            k if k == set => Some("https://wayfinder.example.com".to_owned()),
            _ => None,
        };
        let e = Settings::resolve(&ClientOptions::default(), &env).expect_err(set);
        assert_eq!(e.code(), "CONFIG");
        assert!(e.to_string().contains(missing), "{e}");
        // A profile chosen explicitly is no silent fall-back.
        let chosen = ClientOptions {
            profile: Some("real".into()),
            ..ClientOptions::default()
        };
        assert!(Settings::resolve(&chosen, &env).is_ok());
    }
}

#[tokio::test]
async fn echoed_secrets_are_cut_from_errors() {
    let emu = emulator().await;
    let client = admin(&emu);
    let issued = client
        .create_workspace_access_token("echoed", None, &CreateOptions::default())
        .await
        .unwrap();
    let secret = issued.token.clone().unwrap().expose().to_owned();
    let pipeline = with(options(&emu, &secret));
    pipeline.whoami().await.unwrap();

    for (status, times) in [(503, 4), (401, 1), (400, 1), (500, 1)] {
        // The secret sits astride the 500-character cut of long messages too.
        let body = serde_json::json!({
            "code": status,
            "message": format!("{}bad bearer {ADMIN} for {secret}", "x".repeat(480)),
            "detail": format!("token={secret}"),
            "fieldErrors": [{"field": secret, "errCode": "pattern", "message": ADMIN}],
        });
        emu.inject_fault(Fault {
            times,
            ..fault_body("/resources", status, body.to_string())
        })
        .unwrap();
        let e = client.list_workspace_access_tokens(None).await.expect_err("fault");
        let text = format!("{e} {e:?} {:?}", e.field_errors());
        for canary in [ADMIN, &secret, &secret[..40]] {
            assert!(!text.contains(canary), "{status}: a secret reached the error: {text}");
        }
    }
    // Secrets in a malformed success answer are cut too.
    emu.inject_fault(fault_body("/resources", 200, format!(r#"{{"items": "{ADMIN}"}}"#)))
        .unwrap();
    let e = client.list_workspace_access_tokens(None).await.expect_err("bad list");
    assert!(!e.to_string().contains(ADMIN), "{e}");
}

#[tokio::test]
async fn retry_after_waits_count_against_the_total_budget() {
    let emu = emulator().await;
    let mut settings = Settings::resolve(&options(&emu, ADMIN), &|_| None).unwrap();
    settings.max_retries = 5;
    settings.max_total_backoff = Duration::from_millis(1500);
    let client = Client::from_settings(settings).unwrap();
    client.api_info().await.unwrap();
    emu.inject_fault(Fault {
        status: Some(503),
        retry_after_s: Some(1),
        times: 10,
        ..Fault::new("/resources")
    })
    .unwrap();
    emu.reset_stats();
    let started = Instant::now();
    let e = client.list_workspace_access_tokens(None).await.expect_err("503");
    assert_eq!(emu.stats().total, 2, "one wait of 1 s fits 1.5 s, a second does not");
    assert!(started.elapsed() < Duration::from_secs(3));
    assert!(e.to_string().contains("after 2 attempts"), "{e}");
}

#[test]
fn configs_sharing_a_folder_keep_their_temp_files_apart() {
    let dir = tempfile::tempdir().unwrap();
    let paths = [dir.path().join("config"), dir.path().join("config.prod")];
    let failures = AtomicUsize::new(0);
    std::thread::scope(|scope| {
        for path in &paths {
            for writer in 0..3 {
                let failures = &failures;
                scope.spawn(move || {
                    for i in 0..50 {
                        let result = config::update(path, DEFAULT_LOCK_TIMEOUT, |c| {
                            let name = format!("p{writer}-{i}");
                            c.set_profile(&name, "https://x.example.com", &Secret::new("t"), None, false);
                            Ok(())
                        });
                        if result.is_err() {
                            failures.fetch_add(1, Ordering::SeqCst);
                        }
                    }
                });
            }
        }
    });
    assert_eq!(failures.load(Ordering::SeqCst), 0);
    for path in &paths {
        assert_eq!(Config::load(path).unwrap().profiles.len(), 150);
    }
}

#[cfg(unix)]
#[test]
fn a_link_planted_at_the_lock_path_is_not_followed() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config");
    let victim = dir.path().join("victim");
    std::os::unix::fs::symlink(&victim, config::lock_path(&path)).unwrap();
    let e = config::update(&path, DEFAULT_LOCK_TIMEOUT, |_| Ok(())).expect_err("link");
    assert_eq!(e.code(), "CONFIG");
    assert!(e.to_string().contains("symbolic link"), "{e}");
    assert!(!victim.exists(), "the link's target was created");
}

#[test]
fn yaml_aliases_are_refused_quickly() {
    let mut text = "a: &a [x, x, x, x, x, x, x, x, x, x]\n".to_owned();
    for level in b'b'..=b'k' {
        let prev = (level - 1) as char;
        let level = level as char;
        text.push_str(&format!(
            "{level}: &{level} [*{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}, *{prev}]\n"
        ));
    }
    let started = Instant::now();
    let e = Config::parse(&text, Path::new("/home/u/.wayfinder/config")).expect_err("aliases");
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_eq!(e.code(), "CONFIG");
    assert!(e.to_string().contains("/home/u/.wayfinder/config"), "{e}");
    assert!(e.to_string().contains("alias"), "{e}");
}

#[test]
fn a_byte_order_mark_is_accepted() {
    let text = "\u{feff}current-profile: a\nprofiles:\n  a: {server: a, user: a}\n";
    let config = Config::parse(text, Path::new("c")).unwrap();
    assert_eq!(config.current_profile.as_deref(), Some("a"));
}

#[cfg(unix)]
#[test]
fn a_symlinked_config_is_written_through_the_link() {
    let dir = tempfile::tempdir().unwrap();
    let dotfiles = dir.path().join("dotfiles");
    std::fs::create_dir(&dotfiles).unwrap();
    let target = dotfiles.join("wayfinder-config");
    std::fs::write(&target, "version: v2\n").unwrap();
    let link = dir.path().join("config");
    std::os::unix::fs::symlink("dotfiles/wayfinder-config", &link).unwrap();
    config::update(&link, DEFAULT_LOCK_TIMEOUT, |c| {
        c.set_profile("p", "https://x.example.com", &Secret::new("t"), None, true);
        Ok(())
    })
    .unwrap();
    assert!(
        std::fs::symlink_metadata(&link).unwrap().file_type().is_symlink(),
        "the link is kept"
    );
    assert!(
        Config::load(&target).unwrap().profiles.contains_key("p"),
        "the target was updated"
    );
    assert_eq!(Config::load(&target).unwrap().version.as_deref(), Some("v2"));
}

#[tokio::test]
async fn a_localhost_name_is_resolved_to_loopback_never_through_dns() {
    let emu = emulator().await;
    let port = emu.url().rsplit(':').next().unwrap().trim_end_matches('/');
    // Plain http is allowed to *.localhost because it is loopback: so it must reach
    // loopback whatever DNS would answer for the name (here it answers nothing).
    let client = wayfinder_tokens::Client::new(&wayfinder_tokens::ClientOptions {
        server: Some(format!("http://ci.wayfinder-tokens-test.localhost:{port}")),
        ..common::options(&emu, common::ADMIN)
    })
    .unwrap();
    assert_eq!(client.whoami().await.unwrap().subject_kind, "User");
}
