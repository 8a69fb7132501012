//! What a destination holds, judged without reading a secret back: Vault's
//! `custom_metadata` and AWS's tags name the token and generation written;
//! GitHub's `updated_at` and a file's modification time say when it was
//! written. One connection per service, shared by every destination.

use std::collections::HashMap;
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use tokio::sync::{Mutex, OnceCell};

use super::spec::{Destination, Target};
use super::{Environment, aws, github, vault};
use crate::error::{Error, Result};
use crate::model::ENV_TOKEN;

/// What one destination holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Holding {
    /// Nothing: the secret, file or path does not exist.
    Missing,
    /// Labelled with the token and generation written, and when it was issued.
    Labelled {
        /// The Wayfinder token's name.
        token: Option<String>,
        /// The generation of the secret written.
        generation: Option<i64>,
        /// When that secret was issued (RFC 3339).
        rotated_at: Option<String>,
        /// The token object's uid (which incarnation of the name).
        uid: Option<String>,
    },
    /// Written at this time: which secret it holds is judged from when.
    WrittenAt(Timestamp),
    /// A command: nothing can be read back.
    Unobservable,
}

/// Observes destinations, keeping one connection per service.
pub struct Observer {
    env: Environment,
    timeout: Duration,
    github: OnceCell<Arc<github::Connection>>,
    vault: OnceCell<Arc<vault::Connection>>,
    aws: Mutex<HashMap<Option<String>, aws_sdk_secretsmanager::Client>>,
}

impl std::fmt::Debug for Observer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Observer")
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Observer {
    /// Settings from `env` (`GITHUB_TOKEN`, `VAULT_ADDR`, `AWS_REGION`…).
    pub fn new(env: Environment, timeout: Duration) -> Observer {
        Observer {
            env,
            timeout,
            github: OnceCell::new(),
            vault: OnceCell::new(),
            aws: Mutex::new(HashMap::new()),
        }
    }

    /// What `destination` holds. Each observation is one request (none for
    /// a file or a command).
    pub async fn observe(&self, destination: &Destination) -> Result<Holding> {
        let env = self.env.as_ref();
        match &destination.target {
            target @ (Target::GithubRepository { .. } | Target::GithubOrganisation { .. }) => {
                let connection = self
                    .github
                    .get_or_try_init(|| async { github::Connection::open(env, self.timeout).map(Arc::new) })
                    .await?;
                let name = format!("{}{ENV_TOKEN}", destination.prefix);
                Ok(match connection.secret_updated_at(target, &name).await? {
                    Some(at) => Holding::WrittenAt(at),
                    None => Holding::Missing,
                })
            }
            Target::Vault { mount, path } => {
                let connection = self
                    .vault
                    .get_or_try_init(|| async { vault::Connection::open(env, self.timeout).map(Arc::new) })
                    .await?;
                Ok(match connection.metadata(mount, path).await? {
                    None => Holding::Missing,
                    Some(m) => {
                        let label = |key: &str| {
                            m.custom_metadata
                                .as_ref()
                                .and_then(|c| c.get(&format!("wayfinder-{key}")))
                                .and_then(|v| v.as_str())
                                .map(str::to_owned)
                        };
                        labelled(label("token"), label("generation"), label("rotated-at"), label("uid"))
                    }
                })
            }
            Target::Aws { secret_id, region } => {
                let client = {
                    let mut clients = self.aws.lock().await;
                    match clients.get(region) {
                        Some(client) => client.clone(),
                        None => {
                            let client = aws::client(region.as_deref(), env).await?;
                            clients.insert(region.clone(), client.clone());
                            client
                        }
                    }
                };
                Ok(match aws::labels(&client, secret_id).await? {
                    None => Holding::Missing,
                    Some(tags) => {
                        let label = |key: &str| tags.iter().find(|(k, _)| k == key).map(|(_, v)| v.clone());
                        labelled(label("token"), label("generation"), label("rotated-at"), label("uid"))
                    }
                })
            }
            Target::File { path, .. } => file(path),
            Target::Command { .. } => Ok(Holding::Unobservable),
        }
    }
}

fn labelled(
    token: Option<String>,
    generation: Option<String>,
    rotated_at: Option<String>,
    uid: Option<String>,
) -> Holding {
    Holding::Labelled {
        token,
        generation: generation.and_then(|g| g.parse().ok()),
        rotated_at,
        uid,
    }
}

/// A file: missing, or written at its modification time.
fn file(path: &Path) -> Result<Holding> {
    match std::fs::metadata(path) {
        Ok(meta) => {
            let modified = meta
                .modified()
                .map_err(|e| Error::config_with(format!("cannot read when {} was written: {e}", path.display()), e))?;
            let at = Timestamp::try_from(modified)
                .map_err(|e| Error::config(format!("{} has an impossible time: {e}", path.display())))?;
            Ok(Holding::WrittenAt(at))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Holding::Missing),
        Err(e) => Err(Error::config_with(format!("cannot look at {}: {e}", path.display()), e)),
    }
}
