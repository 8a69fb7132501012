//! Helpers shared by the integration tests: an emulator on loopback and
//! clients pointed at it.

use std::time::Duration;

use wayfinder_emulator::Emulator;
use wayfinder_tokens::{Client, ClientOptions, CreateOptions, Secret};

pub const ADMIN: &str = "admin-canary-4f1d";

/// The workspaces the tests use besides alice's (an emulator has only those it is given).
pub const WORKSPACES: [&str; 4] = ["ops", "other", "mine", "latency"];

pub async fn emulator() -> Emulator {
    let builder = Emulator::builder()
        .admin_token(ADMIN)
        .user("alice:wonderland@dev,prod".parse().unwrap());
    WORKSPACES
        .iter()
        .map(|w| (*w).to_owned())
        .chain((0..10).map(|i| format!("ws{i}")))
        .fold(builder, |b, w| b.workspace(w))
        .start()
        .await
        .unwrap()
}

pub fn options(emulator: &Emulator, token: &str) -> ClientOptions {
    options_at(emulator.url(), token)
}

pub fn options_at(url: &str, token: &str) -> ClientOptions {
    ClientOptions {
        server: Some(url.to_owned()),
        token: Some(Secret::new(token)),
        workspace: Some("dev".to_owned()),
        timeout: Some(Duration::from_secs(10)),
        ..ClientOptions::default()
    }
}

pub fn admin(emulator: &Emulator) -> Client {
    Client::new(&options(emulator, ADMIN)).unwrap()
}

pub fn with(options: ClientOptions) -> Client {
    Client::new(&options).unwrap()
}

pub fn described(description: &str) -> CreateOptions {
    CreateOptions {
        description: Some(description.to_owned()),
        ..CreateOptions::default()
    }
}

/// Logs alice in (a local user of `emulator()`) and returns her refresh token.
pub async fn alice_refresh_token(emulator: &Emulator) -> String {
    let login: serde_json::Value = reqwest::Client::new()
        .post(format!("{}/api/v2/login", emulator.url()))
        .json(&serde_json::json!({"username": "alice", "password": "wonderland"}))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    login["refresh-token"].as_str().unwrap().to_owned()
}
