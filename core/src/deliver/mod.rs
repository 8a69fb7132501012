//! Delivery: a new secret put where CI and services read it (GitHub Actions,
//! Vault or OpenBao, AWS Secrets Manager, a command, a file), verified, and
//! never lost on the way.
//!
//! The order that makes it safe:
//! 1. [`Deliverer::prepare`] checks every destination (credentials found,
//!    GitHub's public key fetched, the Vault token's capabilities, the
//!    command found) *before* a token is created or reset: a refusal then
//!    costs nothing, and the old secret still works.
//! 2. Once the secret exists, [`Deliverer::deliver`] saves it in the
//!    [`RecoveryStore`] before the first write, tries every destination,
//!    and removes it once all of them verified. Whatever fails (or if the
//!    process dies) waits there for [`Deliverer::deliver_pending`].

mod aws;
mod batch;
mod command;
mod github;
mod http;
mod kubernetes;
mod observe;
mod payload;
pub mod recovery;
pub mod spec;
mod vault;

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

pub use batch::BatchDelivery;
pub use github::{API_VERSION as GITHUB_API_VERSION, DEFAULT_API_URL as GITHUB_DEFAULT_API_URL};
pub use kubernetes::kubernetes_secret;
pub use observe::{Holding, Observer};
pub(crate) use payload::Payload;
pub use recovery::{Pending, PendingDestination, RecoveryStore};
pub use spec::{Destination, FileFormat, Spec, Target, Visibility};

use crate::error::{Error, Result};
use crate::model::IssuedToken;

/// The names a destination stores, in order: the server, the secret, and
/// for a workspace token the workspace, each after `prefix`.
pub fn entry_names(prefix: &str, workspace_token: bool) -> Vec<String> {
    let mut names = vec![
        format!("{prefix}{}", crate::model::ENV_SERVER),
        format!("{prefix}{}", crate::model::ENV_TOKEN),
    ];
    if workspace_token {
        names.push(format!("{prefix}{}", crate::model::ENV_WORKSPACE));
    }
    names
}

/// A lookup of settings by name, usable across an `.await`.
pub(crate) type Lookup = dyn Fn(&str) -> Option<String> + Send + Sync;

/// How a deliverer reads its settings (`GITHUB_TOKEN`, `VAULT_ADDR`, `PATH`…).
pub type Environment = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// The default deadline of one request.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// The default deadline of a `cmd:` destination (a CLI that logs in, or
/// retries, takes longer than one request).
pub const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(120);

/// Delivers secrets: where settings come from, the deadline, the recovery store.
#[derive(Clone)]
pub struct Deliverer {
    env: Environment,
    timeout: Duration,
    command_timeout: Duration,
    store: RecoveryStore,
}

impl std::fmt::Debug for Deliverer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Deliverer")
            .field("timeout", &self.timeout)
            .field("store", &self.store)
            .finish_non_exhaustive()
    }
}

/// A destination checked by [`Deliverer::prepare`], ready to take a secret.
#[derive(Debug)]
enum Ready {
    Aws(aws::Aws),
    Github(github::Github),
    Vault(vault::Vault),
    Command(command::Command),
    File(PathBuf, FileFormat),
}

/// Destinations checked for one token, ready to take its new secret.
#[derive(Debug)]
pub struct Prepared {
    ready: Vec<(Destination, Ready)>,
}

impl Prepared {
    /// The destinations, in order.
    pub fn destinations(&self) -> impl Iterator<Item = &Destination> {
        self.ready.iter().map(|(d, _)| d)
    }

    /// Whether there is nowhere to deliver.
    pub fn is_empty(&self) -> bool {
        self.ready.is_empty()
    }
}

/// What happened at one destination.
#[derive(Debug)]
pub struct Outcome {
    /// The destination's SPEC, placeholders filled in.
    pub destination: String,
    /// What verified the write (`version 4`, `WAYFINDER_TOKEN updated at …`,
    /// a command's redacted output), or why it failed.
    pub result: Result<String>,
}

/// One secret's delivery: each destination's outcome, and where the secret
/// waits if any of them failed.
#[derive(Debug)]
pub struct DeliveryReport {
    /// The token's name.
    pub name: String,
    /// Its workspace; `None` for a platform token.
    pub workspace: Option<String>,
    /// One per destination, in order.
    pub outcomes: Vec<Outcome>,
    /// The recovery file holding the secret while a destination lacks it.
    pub recovery: Option<PathBuf>,
}

/// A secret that waited in the recovery store: which token, the destinations
/// that still lack it, and (after a delivery) its report.
#[derive(Debug)]
pub struct PendingSummary {
    /// The token's name.
    pub name: String,
    /// Its workspace; `None` for a platform token.
    pub workspace: Option<String>,
    /// The destinations that still lack the secret.
    pub waiting_for: Vec<String>,
    /// What delivering it did; `None` when only listed.
    pub report: Option<DeliveryReport>,
}

impl DeliveryReport {
    /// A copy (errors without their underlying causes, which cannot be copied).
    pub fn copy(&self) -> DeliveryReport {
        DeliveryReport {
            name: self.name.clone(),
            workspace: self.workspace.clone(),
            outcomes: self
                .outcomes
                .iter()
                .map(|o| Outcome {
                    destination: o.destination.clone(),
                    result: o.result.as_ref().map(Clone::clone).map_err(Error::without_source),
                })
                .collect(),
            recovery: self.recovery.clone(),
        }
    }

    /// Whether every destination verified the secret.
    pub fn is_complete(&self) -> bool {
        self.outcomes.iter().all(|o| o.result.is_ok())
    }

    /// The destinations that hold the new secret.
    pub fn delivered(&self) -> impl Iterator<Item = &str> {
        self.outcomes
            .iter()
            .filter(|o| o.result.is_ok())
            .map(|o| o.destination.as_str())
    }

    /// The destinations that do not, with why.
    pub fn failed(&self) -> impl Iterator<Item = (&str, &Error)> {
        self.outcomes
            .iter()
            .filter_map(|o| o.result.as_ref().err().map(|e| (o.destination.as_str(), e)))
    }
}

impl Deliverer {
    /// Settings from this process's environment; the recovery store in its default folder.
    pub fn from_env() -> Result<Deliverer> {
        let env: Environment = Arc::new(|name: &str| std::env::var(name).ok());
        let store = RecoveryStore::open(&RecoveryStore::default_dir(env.as_ref())?)?;
        Ok(Deliverer::new(env, store))
    }

    /// Settings from `env`, pending secrets in `store`.
    pub fn new(env: Environment, store: RecoveryStore) -> Deliverer {
        Deliverer {
            env,
            timeout: DEFAULT_TIMEOUT,
            command_timeout: DEFAULT_COMMAND_TIMEOUT,
            store,
        }
    }

    /// The same deliverer with another deadline per request.
    pub fn with_timeout(mut self, timeout: Duration) -> Deliverer {
        self.timeout = timeout;
        self
    }

    /// The same deliverer with another deadline per command.
    pub fn with_command_timeout(mut self, timeout: Duration) -> Deliverer {
        self.command_timeout = timeout;
        self
    }

    /// The recovery store.
    pub fn store(&self) -> &RecoveryStore {
        &self.store
    }

    /// Preflight: checks every destination, in order, before any secret
    /// exists. The first that fails stops it, with an error naming it.
    pub async fn prepare(&self, destinations: Vec<Destination>) -> Result<Prepared> {
        let mut ready = Vec::with_capacity(destinations.len());
        for destination in destinations {
            let checked = self
                .check(&destination)
                .await
                .map_err(|e| e.in_context(&format!("deliver to {destination}")))?;
            ready.push((destination, checked));
        }
        Ok(Prepared { ready })
    }

    async fn check(&self, destination: &Destination) -> Result<Ready> {
        let env = self.env.as_ref();
        Ok(match &destination.target {
            target @ (Target::GithubRepository { .. } | Target::GithubOrganisation { .. }) => {
                Ready::Github(github::Github::prepare(target, env, self.timeout).await?)
            }
            Target::Vault { mount, path } => Ready::Vault(vault::Vault::prepare(mount, path, env, self.timeout).await?),
            Target::Aws { secret_id, region } => {
                Ready::Aws(aws::Aws::prepare(secret_id, region.as_deref(), env).await?)
            }
            Target::Command { argv } => Ready::Command(command::Command::prepare(argv, env, self.command_timeout)?),
            Target::File { path, format } => {
                check_file(path)?;
                Ready::File(path.clone(), *format)
            }
        })
    }

    /// Delivers `issued`'s secret everywhere `prepared` says: saved in the
    /// recovery store first, each destination written and verified, the
    /// saved copy removed once all verified. Never fails as a whole: each
    /// destination's outcome is in the report.
    pub async fn deliver(&self, prepared: &Prepared, issued: &IssuedToken) -> DeliveryReport {
        let specs = prepared.destinations().map(|d| d.spec.clone());
        let mut pending = match Pending::new(issued, specs) {
            Ok(pending) => pending,
            Err(e) => return self.report_all_failed(prepared, issued, &e),
        };
        let mut recovery = match self.store.save(&pending) {
            Ok(path) => Some(path),
            Err(e) => {
                // Still delivered: the secret is in hand and nowhere else.
                log::error!(
                    "cannot save {} in the recovery store before delivering it: {e}",
                    issued.name
                );
                None
            }
        };
        let mut outcomes = Vec::with_capacity(prepared.ready.len());
        for (index, (destination, ready)) in prepared.ready.iter().enumerate() {
            let result = self
                .write(destination, ready, issued)
                .await
                .map_err(|e| e.in_context(&format!("deliver to {destination}")));
            if result.is_ok() {
                pending.destinations[index].delivered = true;
                if recovery.is_some()
                    && let Err(e) = self.store.save(&pending)
                {
                    log::warn!("cannot update the recovery file of {}: {e}", issued.name);
                }
            }
            outcomes.push(Outcome {
                destination: destination.spec.clone(),
                result,
            });
        }
        if outcomes.iter().all(|o| o.result.is_ok()) {
            match self.store.remove(&pending) {
                Ok(()) => recovery = None,
                Err(e) => log::warn!("every destination holds {}; its recovery file stays: {e}", issued.name),
            }
        }
        DeliveryReport {
            name: issued.name.clone(),
            workspace: issued.workspace.clone(),
            outcomes,
            recovery,
        }
    }

    fn report_all_failed(&self, prepared: &Prepared, issued: &IssuedToken, error: &Error) -> DeliveryReport {
        let outcomes = prepared
            .destinations()
            .map(|d| Outcome {
                destination: d.spec.clone(),
                result: Err(error.without_source()),
            })
            .collect();
        DeliveryReport {
            name: issued.name.clone(),
            workspace: issued.workspace.clone(),
            outcomes,
            recovery: None,
        }
    }

    async fn write(&self, destination: &Destination, ready: &Ready, issued: &IssuedToken) -> Result<String> {
        let payload = Payload::of(issued, &destination.prefix)?;
        match ready {
            Ready::Github(github) => github.write(&payload).await,
            Ready::Vault(vault) => vault.write(&payload).await,
            Ready::Aws(aws) => aws.write(&payload).await,
            Ready::Command(command) => {
                let command = command.clone();
                let secret = payload.secret.clone();
                let companions: Vec<(String, String)> = payload
                    .entries
                    .iter()
                    .filter(|e| !e.secret)
                    .map(|e| (e.name.clone(), e.value.to_owned()))
                    .collect();
                blocking(move || command.run(&secret, &companions)).await
            }
            Ready::File(path, format) => {
                let text = match format {
                    FileFormat::Export => crate::render::export_prefixed(issued, &destination.prefix)?,
                    FileFormat::Kubernetes => kubernetes_secret(issued, &destination.prefix)?,
                };
                let path = path.clone();
                blocking(move || {
                    crate::config::file::write_atomic(&path, text.as_bytes())?;
                    Ok(format!("{} written (0600)", path.display()))
                })
                .await
            }
        }
    }

    /// Issues a secret and delivers it: `specs` resolved for the token
    /// `name` in `workspace` and checked first, so a refusal costs nothing;
    /// then `issue` runs (the create or reset), and the new secret is
    /// delivered. A dry run (no secret) delivers nothing and has no report.
    pub async fn issue(
        &self,
        specs: &[Spec],
        name: &str,
        workspace: Option<&str>,
        issue: impl std::future::Future<Output = Result<IssuedToken>>,
    ) -> Result<(IssuedToken, Option<DeliveryReport>)> {
        let destinations = specs
            .iter()
            .map(|s| s.resolve(name, workspace))
            .collect::<Result<Vec<_>>>()?;
        let prepared = self.prepare(destinations).await?;
        let issued = issue.await?;
        if issued.is_dry_run() {
            return Ok((issued, None));
        }
        // Once the secret exists, its delivery runs to the end even if the
        // caller stops waiting (an abort, a cancelled task): dropping this
        // future leaves the spawned task running.
        let deliverer = self.clone();
        let token = issued.clone();
        let delivery = tokio::spawn(async move { deliverer.deliver(&prepared, &token).await });
        let report = delivery
            .await
            .map_err(|e| Error::config(format!("the delivery of {} stopped: {e}", issued.name)))?;
        Ok((issued, Some(report)))
    }

    /// Delivers `issued`'s secret to `specs` (resolved for it, each checked first).
    pub async fn deliver_to(&self, issued: &IssuedToken, specs: &[Spec]) -> Result<DeliveryReport> {
        let destinations = specs
            .iter()
            .map(|s| s.resolve(&issued.name, issued.workspace.as_deref()))
            .collect::<Result<Vec<_>>>()?;
        let prepared = self.prepare(destinations).await?;
        Ok(self.deliver(&prepared, issued).await)
    }

    /// What waits in the recovery store; with `finish`, delivered again first
    /// (each destination checked), each with its report.
    pub async fn pending(&self, finish: bool) -> Result<Vec<PendingSummary>> {
        if !finish {
            let waiting = self.store.pending()?;
            return Ok(waiting
                .into_iter()
                .map(|p| PendingSummary {
                    waiting_for: p.undelivered().map(str::to_owned).collect(),
                    name: p.name,
                    workspace: p.workspace,
                    report: None,
                })
                .collect());
        }
        let reports = self.deliver_pending().await?;
        Ok(reports
            .into_iter()
            .map(|r| PendingSummary {
                name: r.name.clone(),
                workspace: r.workspace.clone(),
                waiting_for: r.failed().map(|(d, _)| d.to_owned()).collect(),
                report: Some(r),
            })
            .collect())
    }

    /// Finishes every pending delivery: each secret's remaining
    /// destinations checked and written again. A pending secret whose
    /// destination no longer passes preflight stays pending.
    pub async fn deliver_pending(&self) -> Result<Vec<DeliveryReport>> {
        let mut reports = Vec::new();
        for pending in self.store.pending()? {
            reports.push(self.finish(&pending).await?);
        }
        Ok(reports)
    }

    /// Finishes one pending delivery: its remaining destinations checked
    /// and written; the report lists those delivered before too.
    pub async fn finish(&self, pending: &Pending) -> Result<DeliveryReport> {
        let issued = pending.issued();
        let mut destinations = Vec::new();
        for spec in pending.undelivered() {
            destinations.push(Spec::parse(spec)?.resolve(&pending.name, pending.workspace.as_deref())?);
        }
        Ok(match self.prepare(destinations).await {
            Ok(prepared) => {
                let mut report = self.deliver_remaining(&prepared, pending, &issued).await;
                report.outcomes.splice(
                    0..0,
                    pending.destinations.iter().filter(|d| d.delivered).map(|d| Outcome {
                        destination: d.spec.clone(),
                        result: Ok("delivered before".to_owned()),
                    }),
                );
                report
            }
            Err(e) => DeliveryReport {
                name: pending.name.clone(),
                workspace: pending.workspace.clone(),
                outcomes: vec![Outcome {
                    destination: pending.undelivered().collect::<Vec<_>>().join(", "),
                    result: Err(e),
                }],
                recovery: Some(self.store.dir().to_owned()),
            },
        })
    }

    /// An observer of destinations with this deliverer's settings and deadline.
    pub fn observer(&self) -> Observer {
        Observer::new(self.env.clone(), self.timeout)
    }

    /// Delivers a pending secret to what it still lacks, keeping the record of what it has.
    async fn deliver_remaining(&self, prepared: &Prepared, pending: &Pending, issued: &IssuedToken) -> DeliveryReport {
        let mut pending = pending.clone();
        let mut outcomes = Vec::new();
        for (destination, ready) in &prepared.ready {
            let result = self
                .write(destination, ready, issued)
                .await
                .map_err(|e| e.in_context(&format!("deliver to {destination}")));
            if result.is_ok()
                && let Some(d) = pending.destinations.iter_mut().find(|d| d.spec == destination.spec)
            {
                d.delivered = true;
            }
            outcomes.push(Outcome {
                destination: destination.spec.clone(),
                result,
            });
        }
        let complete = pending.destinations.iter().all(|d| d.delivered);
        let recovery = match complete {
            true => self.store.remove(&pending).err().map(|_| self.store.dir().to_owned()),
            false => self.store.save(&pending).ok(),
        };
        DeliveryReport {
            name: issued.name.clone(),
            workspace: issued.workspace.clone(),
            outcomes,
            recovery,
        }
    }
}

/// Runs `work` on the runtime's blocking pool (a command, a file's fsync).
async fn blocking(work: impl FnOnce() -> Result<String> + Send + 'static) -> Result<String> {
    tokio::task::spawn_blocking(work)
        .await
        .unwrap_or_else(|e| Err(Error::config(format!("a delivery task stopped: {e}"))))
}

/// A file destination's folder exists and is not writable by everyone; the
/// file itself is not a link (the atomic rename replaces a link, not its target).
fn check_file(path: &std::path::Path) -> Result<()> {
    let folder = crate::config::file::parent_of(path);
    let meta = std::fs::metadata(&folder)
        .map_err(|e| Error::config_with(format!("the folder {} cannot be used: {e}", folder.display()), e))?;
    if !meta.is_dir() {
        return Err(Error::config(format!("{} is not a folder", folder.display())));
    }
    #[cfg(unix)]
    if std::os::unix::fs::PermissionsExt::mode(&meta.permissions()) & 0o002 != 0 {
        return Err(Error::config(format!(
            "{} is writable by every user: a secret goes only into a private folder",
            folder.display()
        )));
    }
    if std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink()) {
        return Err(Error::config(format!(
            "{} is a symbolic link: name the file itself",
            path.display()
        )));
    }
    Ok(())
}
