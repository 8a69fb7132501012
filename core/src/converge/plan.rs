//! What `apply` would do, worked out from what exists: each Wayfinder token
//! and its roles (one list per workspace, one roles read per token), what
//! each destination holds (one metadata read per destination, never the
//! secret), and the secrets waiting in the recovery store.

use std::sync::Arc;
use std::time::Duration;

use futures::{StreamExt as _, TryStreamExt as _};
use jiff::Timestamp;
use serde::Serialize;

use super::spec::{DesiredToken, Strategy, TokenSpec};
use crate::client::Client;
use crate::deliver::{Deliverer, Destination, Holding, Observer, Pending};
use crate::error::{Error, Result};
use crate::model::{AccessRole, AccessToken, Roles, Scope};

/// How many tokens are observed at once.
pub const DEFAULT_CONCURRENCY: usize = 16;

/// How far a destination's write time may precede the secret's issue time
/// and still be judged to hold it (GitHub and Wayfinder keep seconds, on
/// different clocks).
const CLOCK_SLACK: jiff::SignedDuration = jiff::SignedDuration::from_secs(2);

/// One thing apply will do.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    /// The spec's token.
    pub token: String,
    /// Its workspace; `None` for a platform token.
    pub workspace: Option<String>,
    /// The Wayfinder token acted on (the token, or one of its slots).
    pub target: String,
    /// What.
    #[serde(flatten)]
    pub action: Action,
}

/// What apply does to a Wayfinder token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "action", rename_all = "camelCase")]
pub enum Action {
    /// Create it: with its first secret, or (a reserve slot) without one,
    /// until a rotation issues it.
    Create {
        /// Whether it is a reserve slot, created without a secret.
        reserve: bool,
    },
    /// Grant it a role.
    #[serde(rename_all = "camelCase")]
    Grant {
        /// The role.
        role: String,
        /// For an access role, its cluster.
        #[serde(skip_serializing_if = "Option::is_none")]
        cluster: Option<String>,
        /// For a namespace role, its namespace.
        #[serde(skip_serializing_if = "Option::is_none")]
        namespace: Option<String>,
    },
    /// Issue it a new secret: a reset, or (when its expiry is the reason)
    /// a delete and create again, its roles granted again.
    Rotate {
        /// Why.
        reasons: Vec<Reason>,
        /// Whether it is deleted and created again (a reset keeps the expiry).
        recreate: bool,
        /// Not before this time: a destination judged by when it was written
        /// (GitHub, a file) must be told apart from this new secret, so a
        /// slot is not reset within the clocks' slack of the last write.
        #[serde(skip)]
        not_before: Option<Timestamp>,
    },
    /// Deliver its secret: the one just issued, or one waiting in the recovery store.
    Deliver {
        /// The destinations' SPECs.
        destinations: Vec<String>,
        /// Whether the secret is one waiting in the recovery store.
        pending: bool,
    },
    /// Forget a secret waiting in the recovery store that a later reset revoked.
    Discard {
        /// Its generation.
        generation: i64,
    },
}

/// Why a token rotates.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "reason", rename_all = "camelCase")]
pub enum Reason {
    /// Its secret is older than `maxAge`.
    #[serde(rename_all = "camelCase")]
    Age {
        /// How old, in seconds.
        age_seconds: u64,
        /// The spec's `maxAge`, in seconds.
        max_age_seconds: u64,
    },
    /// It expires within `beforeExpiry` (or has expired).
    #[serde(rename_all = "camelCase")]
    Expiry {
        /// When (RFC 3339).
        expires: String,
        /// The spec's `beforeExpiry`, in seconds.
        before_expiry_seconds: u64,
    },
    /// A destination lacks it.
    Missing {
        /// The destination.
        destination: String,
    },
    /// A destination holds an older secret.
    Stale {
        /// The destination.
        destination: String,
    },
    /// Destinations hold different slots, and the newer secret is no longer
    /// in the recovery store.
    Split,
    /// Asked for (`--rotate NAME`).
    Requested,
}

/// What differs from the spec that apply leaves alone.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(tag = "drift", rename_all = "camelCase")]
pub enum Drift {
    /// A role the spec does not list (apply grants, it never revokes).
    #[serde(rename_all = "camelCase")]
    Role {
        /// The spec's token.
        token: String,
        /// Its workspace.
        workspace: Option<String>,
        /// The Wayfinder token.
        target: String,
        /// The role.
        role: String,
        /// Its cluster.
        #[serde(skip_serializing_if = "Option::is_none")]
        cluster: Option<String>,
        /// Its namespace.
        #[serde(skip_serializing_if = "Option::is_none")]
        namespace: Option<String>,
    },
    /// A token in a workspace the spec lists, that the spec does not name.
    Unmanaged {
        /// Its workspace; `None` for a platform token.
        workspace: Option<String>,
        /// Its name.
        name: String,
    },
    /// A description other than the spec's (it cannot be changed in place).
    Description {
        /// The Wayfinder token.
        target: String,
        /// Its workspace.
        workspace: Option<String>,
        /// What it has.
        actual: Option<String>,
        /// What the spec says.
        wanted: Option<String>,
    },
}

/// How many requests the plan made.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize)]
pub struct Requests {
    /// To Wayfinder: lists and roles reads.
    pub wayfinder: u64,
    /// To destinations: metadata reads.
    pub destinations: u64,
}

/// Options of a plan.
#[derive(Clone, Debug, Default)]
pub struct PlanOptions {
    /// Spec token names to rotate whether or not they are due.
    pub rotate: Vec<String>,
    /// How many tokens are observed at once; `None`: [`DEFAULT_CONCURRENCY`].
    pub concurrency: Option<usize>,
}

/// What apply would do.
#[derive(Clone, Debug, Serialize)]
pub struct Plan {
    /// The changes, token by token, in the spec's order.
    pub changes: Vec<Change>,
    /// What differs and is left alone.
    pub drift: Vec<Drift>,
    /// How many tokens the spec names.
    pub tokens: usize,
    /// The requests observing took.
    pub requests: Requests,
    /// The spec it was made from.
    #[serde(skip)]
    pub spec: TokenSpec,
    /// Its options.
    #[serde(skip)]
    pub options: PlanOptions,
}

impl Plan {
    /// Whether apply has something to do.
    pub fn has_changes(&self) -> bool {
        !self.changes.is_empty()
    }
}

/// One spec token as it is.
#[derive(Debug)]
pub(crate) struct Observed {
    /// Each Wayfinder token, aligned with `wayfinder_names()`.
    pub slots: Vec<Option<AccessToken>>,
    /// Each one's roles.
    pub roles: Vec<Option<Roles>>,
    /// Each destination and what it holds.
    pub holdings: Vec<(Destination, Holding)>,
    /// Secrets of its Wayfinder tokens waiting in the recovery store.
    pub pending: Vec<Pending>,
}

/// Plans `spec` against what exists.
pub async fn plan(client: &Client, deliverer: &Deliverer, spec: &TokenSpec, options: &PlanOptions) -> Result<Plan> {
    for name in &options.rotate {
        if !spec.tokens.iter().any(|t| &t.name == name) {
            return Err(Error::invalid(
                crate::Argument::Names,
                "invalidValue",
                format!("names {name:?} to rotate, and the spec has no such token"),
            ));
        }
    }
    let concurrency = options.concurrency.unwrap_or(DEFAULT_CONCURRENCY).max(1);
    let mut requests = Requests::default();
    let listed = list_scopes(client, spec, concurrency).await?;
    requests.wayfinder += listed.len() as u64;
    let pending = Arc::new(deliverer.store().pending()?);
    let observer = Arc::new(deliverer.observer());
    let listed = Arc::new(listed);
    // Owned in each future (not borrowed from the stream): the futures stay `Send`
    // for every lifetime, which a runtime that spawns them needs.
    let tokens = Arc::new(spec.tokens.clone());
    let observed: Vec<(Observed, Requests)> = futures::stream::iter(0..tokens.len())
        .map(|i| {
            let (tokens, listed, pending, observer) =
                (tokens.clone(), listed.clone(), pending.clone(), observer.clone());
            let client = client.clone();
            async move {
                let token = &tokens[i];
                observe(&client, &observer, token, &listed, &pending)
                    .await
                    .map_err(|e| e.in_context(&format!("look at {}", token.label())))
            }
        })
        .buffered(concurrency)
        .try_collect()
        .await?;
    let now = Timestamp::now();
    let mut changes = Vec::new();
    let mut drift = Vec::new();
    for (token, (state, counted)) in spec.tokens.iter().zip(&observed) {
        requests.wayfinder += counted.wayfinder;
        requests.destinations += counted.destinations;
        let forced = options.rotate.contains(&token.name);
        let (c, d) = decide(token, state, now, forced);
        changes.extend(c);
        drift.extend(d);
    }
    drift.extend(unmanaged(spec, &listed));
    Ok(Plan {
        changes,
        drift,
        tokens: spec.tokens.len(),
        requests,
        spec: spec.clone(),
        options: options.clone(),
    })
}

/// One list per scope the spec names.
async fn list_scopes(client: &Client, spec: &TokenSpec, concurrency: usize) -> Result<Vec<(Scope, Vec<AccessToken>)>> {
    let mut scopes: Vec<Scope> = spec.workspaces().into_iter().map(Scope::Workspace).collect();
    if spec.has_platform() {
        scopes.push(Scope::Platform);
    }
    futures::stream::iter(scopes)
        .map(|scope| {
            let client = client.clone();
            async move {
                let found = match &scope {
                    Scope::Workspace(ws) => client.list_workspace_access_tokens(Some(ws)).await,
                    Scope::Platform => client.list_platform_access_tokens().await,
                };
                found
                    .map_err(|e| e.in_context(&format!("list the tokens of {}", scope_label(&scope))))
                    .map(|tokens| (scope, tokens))
            }
        })
        .buffered(concurrency)
        .try_collect()
        .await
}

fn scope_label(scope: &Scope) -> String {
    match scope {
        Scope::Workspace(ws) => format!("workspace {ws}"),
        Scope::Platform => "platform scope".to_owned(),
    }
}

async fn observe(
    client: &Client,
    observer: &Observer,
    token: &DesiredToken,
    listed: &[(Scope, Vec<AccessToken>)],
    pending: &[Pending],
) -> Result<(Observed, Requests)> {
    let mut requests = Requests::default();
    let existing: &[AccessToken] = listed
        .iter()
        .find(|(s, _)| *s == token.scope)
        .map(|(_, t)| t.as_slice())
        .unwrap_or_default();
    let names = token.wayfinder_names();
    let slots: Vec<Option<AccessToken>> = names
        .iter()
        .map(|n| existing.iter().find(|t| t.name() == n).cloned())
        .collect();
    let mut roles = Vec::with_capacity(slots.len());
    for slot in &slots {
        roles.push(match slot {
            Some(found) => {
                requests.wayfinder += 1;
                Some(match &token.scope {
                    Scope::Workspace(ws) => client.get_workspace_access_token_roles(found.name(), Some(ws)).await?,
                    Scope::Platform => client.get_platform_access_token_roles(found.name()).await?,
                })
            }
            None => None,
        });
    }
    let mut holdings = Vec::with_capacity(token.deliver.len());
    for spec in &token.deliver {
        let destination = spec.resolve(&token.name, token.scope.workspace())?;
        let holding = observer
            .observe(&destination)
            .await
            .map_err(|e| e.in_context(&format!("read what {destination} holds")))?;
        if !matches!(holding, Holding::Unobservable)
            && !matches!(destination.target, crate::deliver::Target::File { .. })
        {
            requests.destinations += 1;
        }
        holdings.push((destination, holding));
    }
    let pending = pending
        .iter()
        .filter(|p| p.workspace.as_deref() == token.scope.workspace() && names.contains(&p.name))
        .cloned()
        .collect();
    Ok((
        Observed {
            slots,
            roles,
            holdings,
            pending,
        },
        requests,
    ))
}

/// What a destination holds, among a token's slots.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Held {
    /// The current secret of this slot.
    Slot(usize),
    /// A secret none of the slots has now.
    Stale,
    /// Nothing.
    Missing,
    /// Cannot be known (a command).
    Unknown,
}

fn timestamp(text: Option<&str>) -> Option<Timestamp> {
    text.and_then(|t| t.parse().ok())
}

fn held(holding: &Holding, names: &[String], slots: &[Option<AccessToken>]) -> Held {
    match holding {
        Holding::Missing => Held::Missing,
        Holding::Unobservable => Held::Unknown,
        Holding::Labelled {
            token, generation, uid, ..
        } => {
            let found = names.iter().zip(slots).position(|(name, slot)| {
                slot.as_ref().is_some_and(|s| {
                    s.generation() > 0
                        && token.as_deref() == Some(name.as_str())
                        && *generation == Some(s.generation())
                        && (uid.is_none() || uid.as_deref() == s.metadata.uid.as_deref())
                })
            });
            found.map_or(Held::Stale, Held::Slot)
        }
        Holding::WrittenAt(at) => slots
            .iter()
            .enumerate()
            .filter_map(|(i, s)| s.as_ref().filter(|s| s.generation() > 0).map(|s| (s, i)))
            .filter_map(|(s, i)| Some((timestamp(s.last_issued())?, i)))
            .filter(|(issued, _)| *at >= *issued - CLOCK_SLACK)
            .max()
            .map_or(Held::Stale, |(_, i)| Held::Slot(i)),
    }
}

/// Whether `slot` expires within the policy's `beforeExpiry` (or has expired).
fn expiring(token: &DesiredToken, slot: &AccessToken, now: Timestamp) -> Option<Reason> {
    let expires = timestamp(slot.expiry())?;
    let within = token.rotate.before_expiry.unwrap_or(Duration::ZERO);
    let window = jiff::SignedDuration::try_from(within).ok()?;
    (expires - window <= now).then(|| Reason::Expiry {
        expires: expires.to_string(),
        before_expiry_seconds: within.as_secs(),
    })
}

fn too_old(token: &DesiredToken, slot: &AccessToken, now: Timestamp) -> Option<Reason> {
    let max = token.rotate.max_age?;
    let issued = timestamp(slot.last_issued()).or_else(|| timestamp(slot.created()))?;
    let age = now.duration_since(issued);
    let age = Duration::try_from(age).unwrap_or_default();
    (age > max).then_some(Reason::Age {
        age_seconds: age.as_secs(),
        max_age_seconds: max.as_secs(),
    })
}

/// The changes and drift of one token.
pub(crate) fn decide(
    token: &DesiredToken,
    state: &Observed,
    now: Timestamp,
    forced: bool,
) -> (Vec<Change>, Vec<Drift>) {
    let decider = Decider {
        token,
        state,
        now,
        names: token.wayfinder_names(),
    };
    let mut changes = Vec::new();
    let current_pending = decider.pending(&mut changes);
    let holds = decider.holds(current_pending);
    let held_slots: Vec<usize> = {
        let mut found: Vec<usize> = holds
            .iter()
            .filter_map(|h| match h {
                Held::Slot(i) => Some(*i),
                _ => None,
            })
            .collect();
        found.sort_unstable();
        found.dedup();
        found
    };
    let existing: Vec<usize> = (0..decider.names.len()).filter(|i| state.slots[*i].is_some()).collect();
    let creates: Vec<usize> = (0..decider.names.len()).filter(|i| state.slots[*i].is_none()).collect();
    if existing.is_empty() {
        decider.fresh(&creates, &mut changes);
        return (changes, role_drift(token, state));
    }
    let active = match held_slots.as_slice() {
        [one] => Some(*one),
        [] => decider.newest(&existing),
        many => decider.newest(many),
    };
    let mut reasons = decider.reasons(active, &holds);
    if forced {
        reasons.insert(0, Reason::Requested);
    }
    if held_slots.len() > 1 && current_pending.is_none() {
        reasons.push(Reason::Split);
    }
    // The Wayfinder token a rotation issues: with slots, one no destination
    // holds; if both are held (and the newer secret is lost), the older.
    let target = match token.rotate.strategy {
        Strategy::Reset => 0,
        Strategy::Slots => (0..decider.names.len())
            .find(|i| !held_slots.contains(i))
            .unwrap_or_else(|| 1 - decider.newest(&held_slots).unwrap_or(0)),
    };
    let rotating = !reasons.is_empty();
    decider.keep_up(&existing, &creates, rotating.then_some(target), &mut changes);
    if let Some((i, p)) = current_pending {
        changes.push(decider.finish(i, p, rotating && i == target));
    }
    if rotating {
        decider.rotate(target, reasons, &mut changes);
    }
    (changes, role_drift(token, state))
}

/// One token's decisions, from what was observed.
struct Decider<'a> {
    token: &'a DesiredToken,
    state: &'a Observed,
    now: Timestamp,
    names: Vec<String>,
}

impl<'a> Decider<'a> {
    fn change(&self, slot: usize, action: Action) -> Change {
        Change {
            token: self.token.name.clone(),
            workspace: self.token.scope.workspace().map(str::to_owned),
            target: self.names[slot].clone(),
            action,
        }
    }

    fn by_name(&self, target: &str, action: Action) -> Change {
        Change {
            token: self.token.name.clone(),
            workspace: self.token.scope.workspace().map(str::to_owned),
            target: target.to_owned(),
            action,
        }
    }

    fn destinations(&self) -> Vec<String> {
        self.state.holdings.iter().map(|(d, _)| d.spec.clone()).collect()
    }

    /// The slot, among `candidates`, whose secret was issued last.
    fn newest(&self, candidates: &[usize]) -> Option<usize> {
        candidates
            .iter()
            .copied()
            .max_by_key(|i| self.state.slots[*i].as_ref().and_then(|s| timestamp(s.last_issued())))
    }

    /// The waiting secret that is a slot's current one; the others (revoked
    /// by a later reset) are forgotten.
    fn pending(&self, changes: &mut Vec<Change>) -> Option<(usize, &'a Pending)> {
        let mut current_pending = None;
        for p in &self.state.pending {
            let slot = self.names.iter().position(|n| *n == p.name);
            let current = slot.and_then(|i| {
                let s = self.state.slots[i].as_ref()?;
                (p.generation() == Some(s.generation())
                    && (p.resource.metadata.uid.is_none() || p.resource.metadata.uid == s.metadata.uid))
                    .then_some(i)
            });
            match current {
                Some(i) if current_pending.is_none() => current_pending = Some((i, p)),
                _ => changes.push(self.by_name(
                    &p.name,
                    Action::Discard {
                        generation: p.generation().unwrap_or(0),
                    },
                )),
            }
        }
        current_pending
    }

    /// Which slot each destination holds (a pending delivery counts as done).
    fn holds(&self, current_pending: Option<(usize, &Pending)>) -> Vec<Held> {
        self.state
            .holdings
            .iter()
            .map(|(destination, holding)| match current_pending {
                Some((i, p)) if p.undelivered().any(|u| u == destination.spec) => Held::Slot(i),
                _ => held(holding, &self.names, &self.state.slots),
            })
            .collect()
    }

    /// Why the active slot must be replaced.
    fn reasons(&self, active: Option<usize>, holds: &[Held]) -> Vec<Reason> {
        let mut reasons = Vec::new();
        if let Some(slot) = active.and_then(|i| self.state.slots[i].as_ref()) {
            reasons.extend(too_old(self.token, slot, self.now));
            reasons.extend(expiring(self.token, slot, self.now));
        }
        for ((destination, _), h) in self.state.holdings.iter().zip(holds) {
            let destination = destination.spec.clone();
            match h {
                Held::Missing => reasons.push(Reason::Missing { destination }),
                Held::Stale => reasons.push(Reason::Stale { destination }),
                Held::Slot(i) if Some(*i) != active => reasons.push(Reason::Stale { destination }),
                _ => {}
            }
        }
        reasons
    }

    /// With slots, when `target` may be reset: later, by the clocks' slack,
    /// than every write a destination is judged by and the other slot's
    /// secret, so that a time says which slot was written.
    fn not_before(&self, target: usize) -> Option<Timestamp> {
        use crate::deliver::Target;
        let judged_by_time = self.state.holdings.iter().any(|(d, _)| {
            matches!(
                d.target,
                Target::GithubRepository { .. } | Target::GithubOrganisation { .. } | Target::File { .. }
            )
        });
        if self.token.rotate.strategy != Strategy::Slots || !judged_by_time {
            return None;
        }
        let written = self.state.holdings.iter().filter_map(|(_, h)| match h {
            Holding::WrittenAt(at) => Some(*at),
            _ => None,
        });
        let issued = (0..self.names.len())
            .filter(|i| *i != target)
            .filter_map(|i| timestamp(self.state.slots[i].as_ref()?.last_issued()));
        let latest = written.chain(issued).max()?;
        Some(latest + CLOCK_SLACK + jiff::SignedDuration::from_secs(1))
    }

    /// The roles slot `i` lacks.
    fn grants(&self, i: usize) -> Vec<Change> {
        let have = self.state.roles[i].clone().unwrap_or_default();
        let wayfinder = self
            .token
            .wayfinder_roles
            .iter()
            .filter(|r| !have.wayfinder_roles.contains(r))
            .map(|role| (role.clone(), None, None));
        let access = self
            .token
            .access_roles
            .iter()
            .filter(|r| !have.access_roles.contains(r))
            .map(|r| (r.role.clone(), r.cluster.clone(), r.namespace.clone()));
        wayfinder
            .chain(access)
            .map(|(role, cluster, namespace)| {
                self.change(
                    i,
                    Action::Grant {
                        role,
                        cluster,
                        namespace,
                    },
                )
            })
            .collect()
    }

    /// Roles every existing slot lacks; a missing slot that the rotation
    /// (issuing `rotated`) does not issue is created and kept in reserve.
    fn keep_up(&self, existing: &[usize], creates: &[usize], rotated: Option<usize>, changes: &mut Vec<Change>) {
        for i in existing {
            changes.extend(self.grants(*i));
        }
        for i in creates {
            if rotated != Some(*i) {
                changes.push(self.change(*i, Action::Create { reserve: true }));
                changes.extend(self.grants(*i));
            }
        }
    }

    /// The waiting secret of slot `i` delivered; or, if a reset of the
    /// same token is coming (which revokes it), forgotten.
    fn finish(&self, i: usize, p: &Pending, revoked: bool) -> Change {
        let action = match revoked {
            true => Action::Discard {
                generation: p.generation().unwrap_or(0),
            },
            false => Action::Deliver {
                destinations: p.undelivered().map(str::to_owned).collect(),
                pending: true,
            },
        };
        self.change(i, action)
    }

    /// A token that does not exist at all: created, its first slot delivered.
    fn fresh(&self, creates: &[usize], changes: &mut Vec<Change>) {
        let destinations = self.destinations();
        for (n, i) in creates.iter().enumerate() {
            changes.push(self.change(*i, Action::Create { reserve: n > 0 }));
            changes.extend(self.grants(*i));
            if n == 0 && !destinations.is_empty() {
                changes.push(self.change(
                    *i,
                    Action::Deliver {
                        destinations: destinations.clone(),
                        pending: false,
                    },
                ));
            }
        }
    }

    /// Issues `target` a secret (creating it if missing) and delivers it everywhere.
    fn rotate(&self, target: usize, reasons: Vec<Reason>, changes: &mut Vec<Change>) {
        match self.state.slots[target].as_ref() {
            None => {
                changes.push(self.change(target, Action::Create { reserve: false }));
                changes.extend(self.grants(target));
            }
            Some(slot) => {
                // A reset keeps the expiry: an expiring token is created again.
                let recreate = expiring(self.token, slot, self.now).is_some();
                let not_before = self.not_before(target);
                changes.push(self.change(
                    target,
                    Action::Rotate {
                        reasons,
                        recreate,
                        not_before,
                    },
                ));
            }
        }
        let destinations = self.destinations();
        if !destinations.is_empty() {
            changes.push(self.change(
                target,
                Action::Deliver {
                    destinations,
                    pending: false,
                },
            ));
        }
    }
}

fn role_drift(token: &DesiredToken, state: &Observed) -> Vec<Drift> {
    let mut drift = Vec::new();
    for (name, (slot, roles)) in token.wayfinder_names().iter().zip(state.slots.iter().zip(&state.roles)) {
        let (Some(slot), Some(roles)) = (slot, roles) else {
            continue;
        };
        for role in &roles.wayfinder_roles {
            if !token.wayfinder_roles.contains(role) {
                drift.push(role_drift_entry(
                    token,
                    name,
                    &AccessRole {
                        role: role.clone(),
                        cluster: None,
                        namespace: None,
                    },
                ));
            }
        }
        for role in &roles.access_roles {
            if !token.access_roles.contains(role) {
                drift.push(role_drift_entry(token, name, role));
            }
        }
        if token.description.is_some() && slot.description() != token.description.as_deref() {
            drift.push(Drift::Description {
                target: name.clone(),
                workspace: token.scope.workspace().map(str::to_owned),
                actual: slot.description().map(str::to_owned),
                wanted: token.description.clone(),
            });
        }
    }
    drift
}

fn role_drift_entry(token: &DesiredToken, target: &str, role: &AccessRole) -> Drift {
    Drift::Role {
        token: token.name.clone(),
        workspace: token.scope.workspace().map(str::to_owned),
        target: target.to_owned(),
        role: role.role.clone(),
        cluster: role.cluster.clone(),
        namespace: role.namespace.clone(),
    }
}

/// Tokens in the spec's scopes that it does not name.
fn unmanaged(spec: &TokenSpec, listed: &[(Scope, Vec<AccessToken>)]) -> Vec<Drift> {
    let managed: std::collections::HashSet<(Option<&str>, String)> = spec
        .tokens
        .iter()
        .flat_map(|t| t.wayfinder_names().into_iter().map(|n| (t.scope.workspace(), n)))
        .collect();
    let mut drift = Vec::new();
    for (scope, tokens) in listed {
        for found in tokens {
            if !managed.contains(&(scope.workspace(), found.name().to_owned())) {
                drift.push(Drift::Unmanaged {
                    workspace: scope.workspace().map(str::to_owned),
                    name: found.name().to_owned(),
                });
            }
        }
    }
    drift
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use crate::converge::spec::TokenSpec;
    use crate::deliver::Spec;
    use crate::model::{AccessTokenStatus, IssuedToken, ObjectMeta};
    use crate::secret::Secret;

    fn desired(strategy: &str) -> DesiredToken {
        let text = format!(
            "apiVersion: wayfinder-tokens/v1\ntokens:\n  - name: svc\n    workspace: dev\n    expiresIn: 90d\n    \
             deliver: [vault:secret/one, vault:secret/two]\n    rotate: {{maxAge: 30d, beforeExpiry: 7d, strategy: {strategy}}}\n"
        );
        TokenSpec::parse(&text, "t.yaml").unwrap().tokens.remove(0)
    }

    fn token(name: &str, generation: i64, issued_days_ago: i64, expires_in_days: i64) -> AccessToken {
        let now = Timestamp::now();
        let day = jiff::SignedDuration::from_hours(24);
        AccessToken {
            metadata: ObjectMeta {
                name: name.to_owned(),
                uid: Some(format!("uid-{name}")),
                ..ObjectMeta::default()
            },
            spec: crate::model::AccessTokenSpec {
                expiry: Some((now + day * expires_in_days as i32).to_string()),
                ..Default::default()
            },
            status: Some(AccessTokenStatus {
                generation: Some(generation),
                last_issued: (generation > 0).then(|| (now - day * issued_days_ago as i32).to_string()),
                ..Default::default()
            }),
            ..AccessToken::default()
        }
    }

    fn holds(name: &str, generation: i64) -> Holding {
        Holding::Labelled {
            token: Some(name.to_owned()),
            generation: Some(generation),
            rotated_at: None,
            uid: Some(format!("uid-{name}")),
        }
    }

    fn observed(token: &DesiredToken, slots: Vec<Option<AccessToken>>, held: [Holding; 2]) -> Observed {
        let holdings = token
            .deliver
            .iter()
            .zip(held)
            .map(|(s, h)| (s.resolve(&token.name, Some("dev")).unwrap(), h))
            .collect();
        Observed {
            roles: slots.iter().map(|s| s.as_ref().map(|_| Roles::default())).collect(),
            slots,
            holdings,
            pending: Vec::new(),
        }
    }

    fn actions(changes: &[Change]) -> Vec<(String, String)> {
        changes
            .iter()
            .map(|c| (c.target.clone(), c.verb().to_owned()))
            .collect()
    }

    #[test]
    fn an_expiring_reset_token_is_created_again_and_a_fresh_one_is_left_alone() {
        let spec = desired("reset");
        let state = observed(
            &spec,
            vec![Some(token("svc", 3, 1, 3))],
            [holds("svc", 3), holds("svc", 3)],
        );
        let (changes, _) = decide(&spec, &state, Timestamp::now(), false);
        let [rotate, deliver] = changes.as_slice() else {
            panic!("{changes:?}")
        };
        assert!(matches!(&rotate.action, Action::Rotate { recreate: true, reasons, .. }
            if matches!(reasons.as_slice(), [Reason::Expiry { .. }])));
        assert!(matches!(&deliver.action, Action::Deliver { pending: false, destinations } if destinations.len() == 2));
        let state = observed(
            &spec,
            vec![Some(token("svc", 3, 1, 60))],
            [holds("svc", 3), holds("svc", 3)],
        );
        assert!(decide(&spec, &state, Timestamp::now(), false).0.is_empty());
    }

    #[test]
    fn slots_reset_the_one_no_destination_holds() {
        let spec = desired("slots");
        let slots = vec![Some(token("svc-a", 2, 40, 60)), Some(token("svc-b", 1, 80, 60))];
        let state = observed(&spec, slots, [holds("svc-a", 2), holds("svc-a", 2)]);
        let (changes, _) = decide(&spec, &state, Timestamp::now(), false);
        assert_eq!(
            actions(&changes),
            [("svc-b".into(), "rotate".into()), ("svc-b".into(), "deliver".into())]
        );
        assert!(
            matches!(&changes[0].action, Action::Rotate { recreate: false, reasons, .. }
            if matches!(reasons.as_slice(), [Reason::Age { .. }]))
        );
        // The reserve slot (no secret yet) is never judged as held, and is what a rotation issues.
        let slots = vec![Some(token("svc-a", 1, 1, 60)), Some(token("svc-b", 0, 0, 60))];
        let state = observed(&spec, slots, [holds("svc-a", 1), holds("svc-b", 0)]);
        let (changes, _) = decide(&spec, &state, Timestamp::now(), false);
        assert_eq!(changes[0].target, "svc-b");
        assert!(matches!(&changes[0].action, Action::Rotate { reasons, .. }
            if matches!(reasons.as_slice(), [Reason::Stale { .. }])));
    }

    #[test]
    fn destinations_holding_both_slots_reissue_the_older_and_say_why() {
        let spec = desired("slots");
        let slots = vec![Some(token("svc-a", 2, 5, 60)), Some(token("svc-b", 2, 1, 60))];
        let state = observed(&spec, slots, [holds("svc-a", 2), holds("svc-b", 2)]);
        let (changes, _) = decide(&spec, &state, Timestamp::now(), false);
        assert_eq!(changes[0].target, "svc-a", "the older slot");
        assert!(matches!(&changes[0].action, Action::Rotate { reasons, .. }
            if reasons.contains(&Reason::Split)));
    }

    #[test]
    fn a_waiting_secret_is_delivered_and_a_revoked_one_forgotten() {
        let spec = desired("reset");
        let current = token("svc", 4, 0, 60);
        let pending = |generation: i64| {
            let mut resource = current.clone();
            resource.status.as_mut().unwrap().generation = Some(generation);
            let issued = IssuedToken {
                name: "svc".into(),
                workspace: Some("dev".into()),
                server: "https://wf".into(),
                description: None,
                token: Some(Secret::new("s3cret")),
                expires: None,
                resource,
            };
            let one = Spec::parse("vault:secret/one")
                .unwrap()
                .resolve("svc", Some("dev"))
                .unwrap()
                .spec;
            let two = Spec::parse("vault:secret/two")
                .unwrap()
                .resolve("svc", Some("dev"))
                .unwrap()
                .spec;
            let mut p = Pending::new(&issued, [one, two]).unwrap();
            p.destinations[0].delivered = true;
            p
        };
        let mut state = observed(&spec, vec![Some(current.clone())], [holds("svc", 4), holds("svc", 3)]);
        state.pending = vec![pending(3), pending(4)];
        let (changes, _) = decide(&spec, &state, Timestamp::now(), false);
        assert_eq!(
            changes.iter().map(|c| &c.action).collect::<Vec<_>>(),
            [
                &Action::Discard { generation: 3 },
                &Action::Deliver {
                    destinations: vec!["vault:secret/two".into()],
                    pending: true
                }
            ],
            "finishing the current secret, not rotating again"
        );
    }
}
