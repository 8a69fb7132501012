//! Apply: the plan's changes carried out, token by token. Each token's
//! changes run in order (its destinations checked before any secret is
//! issued; a new secret saved in the recovery store before anything else
//! happens to it); tokens run side by side, each as its own task, so a
//! caller who stops waiting does not cut a token's work in half.

use std::collections::HashSet;
use std::sync::Arc;

use futures::StreamExt as _;
use tokio::sync::Semaphore;
use tokio_util::sync::CancellationToken;

use super::plan::{Action, Change, Plan, plan};
use super::spec::DesiredToken;
use crate::client::Client;
use crate::deliver::{Deliverer, DeliveryReport, Pending, Prepared};
use crate::error::{Error, Result};
use crate::model::{IssuedToken, Scope};
use crate::tokens::CreateOptions;

/// How many tokens apply works on at once.
pub const DEFAULT_APPLY_CONCURRENCY: usize = 8;

/// One change and how it went.
#[derive(Debug)]
pub struct Applied {
    /// The change.
    pub change: Change,
    /// What it did (`generation 3`, `version 4`…), or why it failed or was skipped.
    pub result: Result<String>,
}

/// What apply did.
#[derive(Debug)]
pub struct ApplyReport {
    /// Every change of the plan, in its order, with its result.
    pub applied: Vec<Applied>,
    /// Each delivery's report, destination by destination.
    pub deliveries: Vec<DeliveryReport>,
}

impl Applied {
    /// The change as JSON, with `done` (what it did) or `error` (`code`, `message`).
    pub fn to_value(&self) -> serde_json::Value {
        let mut change = serde_json::to_value(&self.change).unwrap_or_default();
        match &self.result {
            Ok(done) => change["done"] = done.as_str().into(),
            Err(e) => change["error"] = serde_json::json!({"code": e.code(), "message": e.message()}),
        }
        change
    }
}

/// What apply is given.
#[derive(Clone, Debug)]
pub enum Desired {
    /// A plan made earlier: applied only if it still holds.
    Plan(Arc<Plan>),
    /// A spec, planned now.
    Spec(Arc<super::spec::TokenSpec>, super::plan::PlanOptions),
}

/// Applies `desired` (a plan, looked at again first; or a spec, planned
/// now); once `stop` is cancelled no token's work starts. The plan carried
/// out, and the report.
pub async fn apply_until(
    client: &Client,
    deliverer: &Deliverer,
    desired: Desired,
    stop: CancellationToken,
) -> Result<(Arc<Plan>, ApplyReport)> {
    let made = match desired {
        Desired::Plan(made) => {
            let now = plan(client, deliverer, &made.spec, &made.options).await?;
            ensure_same(&made, &now)?;
            now
        }
        Desired::Spec(spec, options) => plan(client, deliverer, &spec, &options).await?,
    };
    let report = run_until(client, deliverer, &made, stop).await;
    Ok((Arc::new(made), report))
}

impl ApplyReport {
    /// Whether every change was made.
    pub fn ok(&self) -> bool {
        self.applied.iter().all(|a| a.result.is_ok())
    }

    /// The changes that failed or were skipped.
    pub fn failed(&self) -> impl Iterator<Item = &Applied> {
        self.applied.iter().filter(|a| a.result.is_err())
    }
}

/// The changes' identity: what and to which token, not the figures
/// (an age grows between plan and apply).
fn shape(change: &Change) -> String {
    let what = match &change.action {
        Action::Create { reserve } => format!("create {reserve}"),
        Action::Grant {
            role,
            cluster,
            namespace,
        } => format!("grant {role} {cluster:?} {namespace:?}"),
        Action::Rotate { recreate, .. } => format!("rotate {recreate}"),
        Action::Deliver { destinations, pending } => format!("deliver {pending} {destinations:?}"),
        Action::Discard { generation } => format!("discard {generation}"),
    };
    format!("{:?}/{} {what}", change.workspace, change.target)
}

/// Applies `plan` as it was made. What exists is looked at again first: if
/// apply would now do something else, nothing is done and the error says so.
pub async fn apply_plan(client: &Client, deliverer: &Deliverer, made: &Plan) -> Result<ApplyReport> {
    let now = plan(client, deliverer, &made.spec, &made.options).await?;
    ensure_same(made, &now)?;
    Ok(run(client, deliverer, &now).await)
}

/// An error unless `now` (planned again) would make the same changes as `made`.
pub fn ensure_same(made: &Plan, now: &Plan) -> Result<()> {
    let expected: Vec<String> = made.changes.iter().map(shape).collect();
    let found: Vec<String> = now.changes.iter().map(shape).collect();
    if expected == found {
        return Ok(());
    }
    let differ = expected
        .iter()
        .filter(|e| !found.contains(e))
        .chain(found.iter().filter(|f| !expected.contains(f)))
        .count();
    Err(Error::config(format!(
        "the plan is out of date: {differ} of its changes no longer match what exists; plan again"
    )))
}

/// Carries out `plan`'s changes (as just made: nothing is looked at again).
pub async fn run(client: &Client, deliverer: &Deliverer, plan: &Plan) -> ApplyReport {
    run_until(client, deliverer, plan, CancellationToken::new()).await
}

/// As [`run`]; once `stop` is cancelled (Ctrl-C), no token's work starts,
/// and the tokens already started run to their end (a secret issued is
/// delivered, or waits in the recovery store).
pub async fn run_until(client: &Client, deliverer: &Deliverer, plan: &Plan, stop: CancellationToken) -> ApplyReport {
    let gate = Arc::new(Semaphore::new(DEFAULT_APPLY_CONCURRENCY));
    // Each token's changes, in the plan's order.
    let mut by_token: std::collections::HashMap<(Option<&str>, &str), Vec<Change>> = std::collections::HashMap::new();
    for change in &plan.changes {
        by_token
            .entry((change.workspace.as_deref(), change.token.as_str()))
            .or_default()
            .push(change.clone());
    }
    let mut groups: Vec<(DesiredToken, Vec<Change>)> = Vec::new();
    for token in &plan.spec.tokens {
        if let Some(changes) = by_token.remove(&(token.scope.workspace(), token.name.as_str())) {
            groups.push((token.clone(), changes));
        }
    }
    let handles: Vec<_> = groups
        .into_iter()
        .map(|(token, changes)| {
            let (client, deliverer, gate, stop) = (client.clone(), deliverer.clone(), gate.clone(), stop.clone());
            // Spawned: dropping this future leaves a token's work running to its end.
            tokio::spawn(async move {
                let _permit = gate.acquire_owned().await;
                if stop.is_cancelled() {
                    let not_started = changes
                        .into_iter()
                        .map(|change| Applied {
                            change,
                            result: Err(Error::config("not started: apply was interrupted")),
                        })
                        .collect();
                    return (not_started, Vec::new());
                }
                Token {
                    client: &client,
                    deliverer: &deliverer,
                    spec: &token,
                }
                .apply(changes)
                .await
            })
        })
        .collect();
    let mut report = ApplyReport {
        applied: Vec::new(),
        deliveries: Vec::new(),
    };
    let mut finished = futures::stream::iter(handles).then(|h| h);
    while let Some(done) = finished.next().await {
        match done {
            Ok((applied, deliveries)) => {
                report.applied.extend(applied);
                report.deliveries.extend(deliveries);
            }
            Err(e) => log::error!("a token's apply stopped: {e}"),
        }
    }
    report
}

/// One spec token's changes.
struct Token<'a> {
    client: &'a Client,
    deliverer: &'a Deliverer,
    spec: &'a DesiredToken,
}

/// The state of one token's apply between its changes.
#[derive(Default)]
struct Progress {
    /// Destinations checked, once, before the first secret is issued.
    prepared: Option<Prepared>,
    /// Secrets issued by this apply, by Wayfinder token, not yet delivered.
    issued: Vec<IssuedToken>,
    deliveries: Vec<DeliveryReport>,
}

impl Token<'_> {
    async fn apply(&self, changes: Vec<Change>) -> (Vec<Applied>, Vec<DeliveryReport>) {
        let delivered: HashSet<String> = changes
            .iter()
            .filter(|c| matches!(c.action, Action::Deliver { pending: false, .. }))
            .map(|c| c.target.clone())
            .collect();
        let mut progress = Progress::default();
        let mut applied = Vec::with_capacity(changes.len());
        let mut stopped: Option<String> = None;
        for change in changes {
            let result = match &stopped {
                Some(why) => Err(Error::config(format!("not done: {why}"))),
                None => self.change(&change, &delivered, &mut progress).await,
            };
            if let Err(e) = &result
                && stopped.is_none()
            {
                stopped = Some(format!("{} failed ({})", describe_target(&change), e.message()));
            }
            applied.push(Applied { change, result });
        }
        (applied, progress.deliveries)
    }

    async fn change(&self, change: &Change, delivered: &HashSet<String>, progress: &mut Progress) -> Result<String> {
        let workspace = self.spec.scope.workspace();
        let target = change.target.as_str();
        match &change.action {
            Action::Create { reserve: true } => {
                self.client
                    .create_without_secret(&self.spec.scope, target, &self.create_options())
                    .await?;
                Ok("created without a secret (a reserve slot)".to_owned())
            }
            Action::Create { reserve: false } => {
                let delivers = delivered.contains(target);
                if delivers {
                    self.prepare(progress).await?;
                }
                let issued = self.create(target).await?;
                let generation = issued.resource.generation();
                self.keep(issued, delivers, progress);
                Ok(format!("created (generation {generation})"))
            }
            Action::Grant {
                role,
                cluster,
                namespace,
            } => {
                self.grant(target, role, cluster.as_deref(), namespace.as_deref())
                    .await?;
                Ok("granted".to_owned())
            }
            Action::Rotate {
                recreate, not_before, ..
            } => {
                wait_until(*not_before).await;
                self.rotate(target, *recreate, delivered, progress).await
            }
            Action::Deliver { pending: false, .. } => self.deliver_new(target, progress).await,
            Action::Deliver { pending: true, .. } => {
                let waiting = self.waiting(target)?;
                let report = self.deliverer.finish(&waiting).await?;
                outcome(report, progress)
            }
            Action::Discard { generation } => {
                for p in self.deliverer.store().pending()? {
                    if p.name == target && p.workspace.as_deref() == workspace && p.generation() == Some(*generation) {
                        self.deliverer.store().remove(&p)?;
                    }
                }
                Ok(format!("generation {generation} forgotten"))
            }
        }
    }

    /// A reset, or a delete and create again (its roles granted again).
    async fn rotate(
        &self,
        target: &str,
        recreate: bool,
        delivered: &HashSet<String>,
        progress: &mut Progress,
    ) -> Result<String> {
        let delivers = delivered.contains(target);
        if delivers {
            self.prepare(progress).await?;
        }
        let issued = match recreate {
            false => match &self.spec.scope {
                Scope::Workspace(ws) => self.client.reset_workspace_access_token(target, Some(ws)).await?,
                Scope::Platform => self.client.reset_platform_access_token(target).await?,
            },
            true => {
                match &self.spec.scope {
                    Scope::Workspace(ws) => self.client.delete_workspace_access_token(target, Some(ws)).await?,
                    Scope::Platform => self.client.delete_platform_access_token(target).await?,
                };
                self.create(target).await?
            }
        };
        let generation = issued.resource.generation();
        self.keep(issued, delivers, progress);
        if recreate {
            self.grant_all(target).await?;
            return Ok(format!(
                "deleted and created again, its roles granted (generation {generation})"
            ));
        }
        Ok(format!("reset (generation {generation})"))
    }

    /// Delivers the secret this apply just issued to `target`.
    async fn deliver_new(&self, target: &str, progress: &mut Progress) -> Result<String> {
        let at = progress
            .issued
            .iter()
            .position(|i| i.name == target)
            .ok_or_else(|| Error::config(format!("no new secret of {target} to deliver")))?;
        let issued = progress.issued.remove(at);
        let prepared = progress
            .prepared
            .as_ref()
            .ok_or_else(|| Error::config("the destinations were not checked"))?;
        let report = self.deliverer.deliver(prepared, &issued).await;
        outcome(report, progress)
    }

    /// The secret of `target` waiting in the recovery store (the newest).
    fn waiting(&self, target: &str) -> Result<Pending> {
        let workspace = self.spec.scope.workspace();
        self.deliverer
            .store()
            .pending()?
            .into_iter()
            .filter(|p| p.name == target && p.workspace.as_deref() == workspace)
            .max_by_key(Pending::generation)
            .ok_or_else(|| Error::config(format!("no secret of {target} waits in the recovery store any more")))
    }

    /// Checks the destinations, once, before the first secret exists.
    async fn prepare(&self, progress: &mut Progress) -> Result<()> {
        if progress.prepared.is_none() {
            let destinations = self
                .spec
                .deliver
                .iter()
                .map(|s| s.resolve(&self.spec.name, self.spec.scope.workspace()))
                .collect::<Result<Vec<_>>>()?;
            progress.prepared = Some(self.deliverer.prepare(destinations).await?);
        }
        Ok(())
    }

    /// Keeps a new secret for its delivery, saved in the recovery store at
    /// once (a crash before the delivery leaves it there); a reserve slot's
    /// secret is dropped: it is reset before it is ever used.
    fn keep(&self, issued: IssuedToken, delivers: bool, progress: &mut Progress) {
        if !delivers {
            return;
        }
        if let Some(prepared) = &progress.prepared {
            let specs = prepared.destinations().map(|d| d.spec.clone());
            match Pending::new(&issued, specs).and_then(|p| self.deliverer.store().save(&p)) {
                Ok(_) => {}
                Err(e) => log::error!("cannot save {} in the recovery store: {e}", issued.name),
            }
        }
        progress.issued.push(issued);
    }

    fn create_options(&self) -> CreateOptions {
        CreateOptions {
            description: self.spec.description.clone(),
            expires_in: self.spec.expires_in,
            reset_token: false,
            dry_run: false,
        }
    }

    async fn create(&self, target: &str) -> Result<IssuedToken> {
        let options = self.create_options();
        match &self.spec.scope {
            Scope::Workspace(ws) => {
                self.client
                    .create_workspace_access_token(target, Some(ws), &options)
                    .await
            }
            Scope::Platform => self.client.create_platform_access_token(target, &options).await,
        }
    }

    async fn grant(&self, target: &str, role: &str, cluster: Option<&str>, namespace: Option<&str>) -> Result<()> {
        // Access roles always name a cluster (the spec requires it).
        let wayfinder = cluster.is_none();
        match (&self.spec.scope, wayfinder) {
            (Scope::Workspace(ws), true) => self.client.assign_wayfinder_role(target, role, Some(ws)).await?,
            (Scope::Workspace(ws), false) => {
                self.client
                    .assign_access_role(target, role, cluster, namespace, Some(ws))
                    .await?
            }
            (Scope::Platform, true) => self.client.assign_platform_wayfinder_role(target, role).await?,
            (Scope::Platform, false) => {
                self.client
                    .assign_platform_access_role(target, role, cluster, namespace)
                    .await?
            }
        };
        Ok(())
    }

    /// Every role of the spec, on a token created again.
    async fn grant_all(&self, target: &str) -> Result<()> {
        for role in &self.spec.wayfinder_roles {
            self.grant(target, role, None, None).await?;
        }
        for role in &self.spec.access_roles {
            self.grant(target, &role.role, role.cluster.as_deref(), role.namespace.as_deref())
                .await?;
        }
        Ok(())
    }
}

/// The longest apply waits before a slot's reset (the clocks' slack and a second).
const LONGEST_WAIT: std::time::Duration = std::time::Duration::from_secs(5);

/// Sleeps until `at` (at most [`LONGEST_WAIT`]).
async fn wait_until(at: Option<jiff::Timestamp>) {
    let Some(at) = at else { return };
    let wait = std::time::Duration::try_from(at.duration_since(jiff::Timestamp::now())).unwrap_or_default();
    if !wait.is_zero() {
        tokio::time::sleep(wait.min(LONGEST_WAIT)).await;
    }
}

fn describe_target(change: &Change) -> String {
    match &change.workspace {
        Some(ws) => format!("{ws}/{}", change.target),
        None => format!("platform/{}", change.target),
    }
}

/// A delivery's result as a change's: done when every destination verified.
fn outcome(report: DeliveryReport, progress: &mut Progress) -> Result<String> {
    let result = match report.failed().next() {
        None => Ok(format!("{} destination(s) verified", report.outcomes.len())),
        Some((_, e)) => Err(e.without_source()),
    };
    progress.deliveries.push(report);
    result
}
