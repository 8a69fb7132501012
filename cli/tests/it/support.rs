//! An emulator on loopback with the users and workspaces the tests use.

use std::time::Duration;

use wayfinder_emulator::Emulator;
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
