//! An emulator on loopback with the users and workspaces the tests use.

use std::time::Duration;

use std::path::{Path, PathBuf};

use wayfinder_emulator::Emulator;
use wayfinder_tokens::config::{Config, DEFAULT_LOCK_TIMEOUT};
use wayfinder_tokens::{Client, ClientOptions, Secret};

pub const ADMIN: &str = "admin-canary-4f1d";

pub async fn emulator() -> Emulator {
    Emulator::builder()
        .admin_token(ADMIN)
        .user("alice:wonderland@dev,prod".parse().unwrap())
        .workspace("ops")
        .start()
        .await
        .unwrap()
}

/// Asserts that `secret` authenticates against `emulator`.
pub async fn works(emulator: &Emulator, secret: &str) {
    let options = ClientOptions {
        server: Some(emulator.url().to_owned()),
        token: Some(Secret::new(secret)),
        workspace: Some("dev".to_owned()),
        timeout: Some(Duration::from_secs(10)),
        ..ClientOptions::default()
    };
    Client::new(&options).unwrap().whoami().await.unwrap();
}

/// A config file in `dir` whose current profile is `url`'s admin, with
/// workspace `dev`.
pub fn admin_config(dir: &Path, url: &str) -> PathBuf {
    let path = dir.join("admin-config");
    let mut config = Config::default();
    config.set_profile("admin", url, &Secret::new(ADMIN), Some("dev"), true);
    config.users.get_mut("admin").unwrap().token = Some(Secret::new(ADMIN));
    config.users.get_mut("admin").unwrap().identity = None;
    wayfinder_tokens::config::replace(&path, DEFAULT_LOCK_TIMEOUT, &config).unwrap();
    path
}

/// The argv of a vector's case, with `--config config` after it (an empty
/// argv stays empty: it tests the bare command).
pub fn argv_with_config(case: &serde_json::Value, config: &Path) -> Vec<String> {
    let mut argv: Vec<String> = case["argv"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a.as_str().unwrap().to_owned())
        .collect();
    if !argv.is_empty() {
        argv.extend(["--config".to_owned(), config.display().to_string()]);
    }
    argv
}
