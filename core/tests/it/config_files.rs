//! The config file end to end: a saved token loads into a working client,
//! discovery and refreshed identities are written back. Processes saving
//! at once, and writers killed midway: `config_crash.rs`.

use std::path::Path;

use crate::common::{admin, alice_refresh_token, described, emulator, with};
use wayfinder_tokens::config::{Config, DEFAULT_LOCK_TIMEOUT};
use wayfinder_tokens::{ClientOptions, CreateOptions, Secret, config};

fn from_file(path: &Path, profile: Option<&str>) -> ClientOptions {
    ClientOptions {
        config_path: Some(path.to_path_buf()),
        profile: profile.map(str::to_owned),
        ..ClientOptions::default()
    }
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test]
async fn a_saved_token_loads_into_a_working_client_and_caches_discovery() {
    let emu = emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("wf").join("config");
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, "current-profile: mine\nprofiles: {mine: {server: s, user: u}}\nservers: {s: {server: 'https://x.example.com'}}\nusers: {u: {token: keep-me}}\nextra-key: 42\n").unwrap();

    let issued = admin(&emu)
        .create_workspace_access_token("ci-deploy", None, &described("d"))
        .await
        .unwrap();
    let saved = config::save_profile(&issued, Some(&path), None, false, None).unwrap();
    assert_eq!(saved, path);
    let config = Config::load(&path).unwrap();
    assert_eq!(
        config.current_profile.as_deref(),
        Some("mine"),
        "make_current=false keeps the current profile"
    );
    assert!(config.extra.contains_key("extra-key"));
    assert_eq!(config.users["u"].token.as_ref().unwrap().expose(), "keep-me");
    #[cfg(unix)]
    assert_eq!(mode(&path), 0o600);

    let client = with(from_file(&path, Some("ci-deploy")));
    assert_eq!(client.workspace(), Some("dev"));
    let me = client.whoami().await.unwrap();
    assert_eq!(me.subject_kind, "WorkspaceAccessToken");
    let cached = Config::load(&path).unwrap().servers["ci-deploy"].api_info.clone();
    assert_eq!(cached.unwrap().non_resource_api, "/api/v2");

    let before = emu.stats().count("GET", "/apiinfo");
    with(from_file(&path, Some("ci-deploy"))).whoami().await.unwrap();
    assert_eq!(emu.stats().count("GET", "/apiinfo"), before, "cached apiInfo is used");

    // make_current switches the current profile.
    config::save_profile(&issued, Some(&path), Some("other"), true, None).unwrap();
    assert_eq!(Config::load(&path).unwrap().current_profile.as_deref(), Some("other"));
}

#[tokio::test]
async fn write_config_makes_a_standalone_private_file() {
    let emu = emulator().await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("ci-deploy.config");
    let issued = admin(&emu)
        .create_workspace_access_token("ci-deploy", None, &CreateOptions::default())
        .await
        .unwrap();
    config::write_config(&issued, &path).unwrap();
    #[cfg(unix)]
    assert_eq!(mode(&path), 0o600);
    assert_eq!(
        std::fs::read_to_string(&path).unwrap(),
        wayfinder_tokens::config::yaml_for_token(&issued).unwrap()
    );
    // Nothing else is left beside it (no lock file: a CI artifact stays one file).
    let beside: Vec<_> = std::fs::read_dir(dir.path())
        .unwrap()
        .map(|e| e.unwrap().file_name())
        .collect();
    assert_eq!(beside, ["ci-deploy.config"]);
    let client = with(from_file(&path, None));
    assert_eq!(client.whoami().await.unwrap().workspaces, vec!["dev"]);
    let dry = admin(&emu)
        .create_workspace_access_token(
            "dry",
            None,
            &CreateOptions {
                dry_run: true,
                ..CreateOptions::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(
        config::write_config(&dry, &dir.path().join("dry")).unwrap_err().code(),
        "VALIDATION"
    );
}

/// A config file whose current profile is alice, logged in: her refresh token.
async fn alice_config(emu: &wayfinder_emulator::Emulator) -> (tempfile::TempDir, std::path::PathBuf) {
    let refresh = alice_refresh_token(emu).await;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config");
    let mut config = Config::default();
    config.set_profile("alice", emu.url(), &Secret::new(&refresh), Some("dev"), true);
    wayfinder_tokens::config::replace(&path, DEFAULT_LOCK_TIMEOUT, &config).unwrap();
    (dir, path)
}

#[tokio::test]
async fn refreshed_identities_are_written_back() {
    let emu = emulator().await;
    let (_dir, path) = alice_config(&emu).await;

    with(from_file(&path, None)).whoami().await.unwrap();
    let identity = Config::load(&path).unwrap().users["alice"].identity.clone().unwrap();
    let cached = identity.token.expect("the refreshed API token is written back");
    assert!(
        wayfinder_tokens::auth::read_claims(cached.expose())
            .unwrap()
            .has_scope("wayfinder:system:user")
    );

    // The next client uses the cached API token: no refresh.
    let refreshes = emu.stats().count("POST", "/api/v2/login/token");
    with(from_file(&path, None)).whoami().await.unwrap();
    assert_eq!(emu.stats().count("POST", "/api/v2/login/token"), refreshes);
}

#[tokio::test]
async fn a_missing_config_file_is_a_config_error_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let err = wayfinder_tokens::Client::new(&from_file(&dir.path().join("absent"), None)).unwrap_err();
    assert_eq!(err.code(), "CONFIG");
    assert!(err.to_string().contains("absent"));
}

/// Runs `f` on a thread and says whether it returned within a deadlock's bound.
fn returns<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Option<T> {
    let (done, result) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let _ = done.send(f());
    });
    result.recv_timeout(std::time::Duration::from_secs(30)).ok()
}

#[cfg(unix)]
#[test]
fn a_fifo_device_or_huge_file_as_the_config_is_refused_without_blocking() {
    let dir = tempfile::tempdir().unwrap();
    let fifo = dir.path().join("fifo");
    let made = std::process::Command::new("mkfifo").arg(&fifo).status().unwrap();
    assert!(made.success());
    let sparse = dir.path().join("sparse");
    std::fs::File::create(&sparse).unwrap().set_len(1 << 30).unwrap();
    for path in [fifo.clone(), "/dev/zero".into(), sparse] {
        let shown = path.display().to_string();
        let outcome = returns(move || wayfinder_tokens::Client::new(&from_file(&path, None)).map(drop));
        let e = outcome.unwrap_or_else(|| panic!("{shown} blocked")).unwrap_err();
        assert!(e.to_string().contains(&shown), "{e}");
    }
    // A FIFO planted at the lock's path: saving refuses instead of waiting for a reader.
    let config = dir.path().join("config");
    let lock = dir.path().join("config.lock");
    assert!(
        std::process::Command::new("mkfifo")
            .arg(&lock)
            .status()
            .unwrap()
            .success()
    );
    let saved = returns(move || config::update(&config, DEFAULT_LOCK_TIMEOUT, |_| Ok(())));
    assert!(saved.expect("save_profile blocked on a FIFO").is_err());
}

#[tokio::test]
async fn a_refresh_token_another_process_used_first_gives_way_to_the_one_it_saved() {
    let emu = wayfinder_emulator::Emulator::builder()
        .user("alice:wonderland@dev".parse().unwrap())
        .one_use_refresh_tokens(true)
        .start()
        .await
        .unwrap();
    let (_dir, path) = alice_config(&emu).await;
    // Both read the same refresh token; the first to refresh spends it.
    let (first, second) = (with(from_file(&path, None)), with(from_file(&path, None)));
    first.whoami().await.unwrap();
    let me = second.whoami().await.expect("the second uses what the first saved");
    assert_eq!(me.username, "alice");
    // With a fresh API token in the file, no second refresh was needed.
    assert_eq!(emu.stats().count("POST", "/api/v2/login/token"), 2);

    // When the file holds no fresh API token, only a newer refresh token, that one is used.
    let forget_api_token = || {
        config::update(&path, DEFAULT_LOCK_TIMEOUT, |c| {
            c.users.get_mut("alice").unwrap().identity.as_mut().unwrap().token = None;
            Ok(())
        })
        .unwrap();
    };
    forget_api_token();
    let (third, fourth) = (with(from_file(&path, None)), with(from_file(&path, None)));
    third.whoami().await.unwrap();
    forget_api_token();
    assert_eq!(fourth.whoami().await.unwrap().username, "alice");
    // The third's refresh, then the fourth's refused one and its retry with the saved token.
    assert_eq!(emu.stats().count("POST", "/api/v2/login/token"), 5);
}
