//! What plans and checks say, in one place, for every front's tables and
//! lines: a change's verb and detail, a reason, a drift. Never a secret.

use super::plan::{Action, Change, Drift, Plan, Reason};
use crate::names::duration_text;

impl Change {
    /// `create`, `grant`, `rotate`, `deliver` or `forget`.
    pub fn verb(&self) -> &'static str {
        match &self.action {
            Action::Create { .. } => "create",
            Action::Grant { .. } => "grant",
            Action::Rotate { .. } => "rotate",
            Action::Deliver { .. } => "deliver",
            Action::Discard { .. } => "forget",
        }
    }

    /// The sign a line starts with: `+` adds, `~` replaces, `>` delivers, `-` forgets.
    pub fn sign(&self) -> char {
        match &self.action {
            Action::Create { .. } | Action::Grant { .. } => '+',
            Action::Rotate { .. } => '~',
            Action::Deliver { .. } => '>',
            Action::Discard { .. } => '-',
        }
    }

    /// `WORKSPACE/TARGET`, or `platform/TARGET`.
    pub fn subject(&self) -> String {
        format!("{}/{}", self.workspace.as_deref().unwrap_or("platform"), self.target)
    }

    /// What exactly, and why.
    pub fn detail(&self) -> String {
        match &self.action {
            Action::Create { reserve: false } => "a new token and its first secret".to_owned(),
            Action::Create { reserve: true } => {
                "a reserve slot, without a secret until a rotation issues it one".to_owned()
            }
            Action::Grant {
                role,
                cluster: None,
                namespace: None,
            } => format!("wayfinder role {role}"),
            Action::Grant {
                role,
                cluster,
                namespace,
            } => format!("access role {role} in {}", place(cluster, namespace)),
            Action::Rotate { reasons, recreate, .. } => {
                let why: Vec<String> = reasons.iter().map(Reason::describe).collect();
                let how = match recreate {
                    true => "delete and create again (a reset keeps the expiry), roles granted again",
                    false => "reset",
                };
                format!("{how}: {}", why.join("; "))
            }
            Action::Deliver { destinations, pending } => {
                let which = match pending {
                    true => "the secret waiting in the recovery store to",
                    false => "the new secret to",
                };
                format!("{which} {}", destinations.join(", "))
            }
            Action::Discard { generation } => {
                format!("the secret of generation {generation} waiting in the recovery store: a later reset revoked it")
            }
        }
    }

    /// The whole line: `+ create ops/app-deploy: a new token…`.
    pub fn line(&self) -> String {
        format!("{} {} {}: {}", self.sign(), self.verb(), self.subject(), self.detail())
    }
}

impl Reason {
    /// Why, in words.
    pub fn describe(&self) -> String {
        match self {
            Reason::Age {
                age_seconds,
                max_age_seconds,
            } => format!(
                "its secret is {} old (maxAge {})",
                human_rounded(*age_seconds),
                duration_text(std::time::Duration::from_secs(*max_age_seconds))
            ),
            Reason::Expiry {
                expires,
                before_expiry_seconds,
            } => format!(
                "it expires at {expires} (beforeExpiry {})",
                duration_text(std::time::Duration::from_secs(*before_expiry_seconds))
            ),
            Reason::Missing { destination } => format!("missing from {destination}"),
            Reason::Stale { destination } => format!("{destination} holds an older secret"),
            Reason::Split => {
                "the destinations hold different slots and the newer secret is no longer in the recovery store"
                    .to_owned()
            }
            Reason::Requested => "asked for".to_owned(),
        }
    }
}

/// `CLUSTER/NAMESPACE`, `CLUSTER`, or nothing.
fn place(cluster: &Option<String>, namespace: &Option<String>) -> String {
    [cluster.as_deref(), namespace.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join("/")
}

/// An age to the day, hour or minute.
fn human_rounded(seconds: u64) -> String {
    match seconds {
        s if s >= 86_400 => format!("{}d", s / 86_400),
        s if s >= 3_600 => format!("{}h", s / 3_600),
        s if s >= 60 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

impl Drift {
    /// `WORKSPACE/NAME` it is about.
    pub fn subject(&self) -> String {
        let (workspace, name) = match self {
            Drift::Role { workspace, target, .. } | Drift::Description { workspace, target, .. } => (workspace, target),
            Drift::Unmanaged { workspace, name } => (workspace, name),
        };
        format!("{}/{name}", workspace.as_deref().unwrap_or("platform"))
    }

    /// What differs, and that apply leaves it.
    pub fn describe(&self) -> String {
        match self {
            Drift::Role {
                role,
                cluster,
                namespace,
                ..
            } => {
                let place = [cluster.as_deref(), namespace.as_deref()]
                    .into_iter()
                    .flatten()
                    .collect::<Vec<_>>()
                    .join("/");
                let place = if place.is_empty() {
                    String::new()
                } else {
                    format!(" in {place}")
                };
                format!("has the role {role}{place}, which the spec does not list (apply never revokes)")
            }
            Drift::Unmanaged { .. } => "is not in the spec (apply never deletes)".to_owned(),
            Drift::Description { actual, wanted, .. } => format!(
                "has the description {:?}, the spec says {:?} (a description cannot be changed in place)",
                actual.as_deref().unwrap_or(""),
                wanted.as_deref().unwrap_or("")
            ),
        }
    }

    /// The whole line: `! ops/stray: is not in the spec…`.
    pub fn line(&self) -> String {
        format!("! drift {}: {}", self.subject(), self.describe())
    }
}

impl Plan {
    /// One line per change, then one per drift, then the summary.
    pub fn lines(&self) -> Vec<String> {
        let mut lines: Vec<String> = self.changes.iter().map(Change::line).collect();
        lines.extend(self.drift.iter().map(Drift::line));
        lines.push(self.summary());
        lines
    }

    /// `Plan: 2 to create, … (7 requests for 3 tokens).`
    pub fn summary(&self) -> String {
        let count = |verb: &str| self.changes.iter().filter(|c| c.verb() == verb).count();
        let requests = self.requests.wayfinder + self.requests.destinations;
        let per_token = if self.tokens == 0 {
            0.0
        } else {
            requests as f64 / self.tokens as f64
        };
        let what = if self.changes.is_empty() {
            "nothing to do".to_owned()
        } else {
            format!(
                "{} to create, {} to grant, {} to rotate, {} to deliver, {} to forget",
                count("create"),
                count("grant"),
                count("rotate"),
                count("deliver"),
                count("forget")
            )
        };
        format!(
            "Plan: {what}; {} drift left alone. Read with {} Wayfinder and {} destination requests for {} token(s) ({per_token:.1} each).",
            self.drift.len(),
            self.requests.wayfinder,
            self.requests.destinations,
            self.tokens
        )
    }
}

impl super::apply::Applied {
    /// `done reset ops/app-deploy: generation 4`, or `FAILED …: why`.
    pub fn line(&self) -> String {
        match &self.result {
            Ok(what) => format!("done {} {}: {what}", self.change.verb(), self.change.subject()),
            Err(e) => format!(
                "FAILED {} {}: {}",
                self.change.verb(),
                self.change.subject(),
                e.message()
            ),
        }
    }
}

impl super::apply::ApplyReport {
    /// `Apply: 7 done, 0 failed.`
    pub fn summary(&self) -> String {
        let failed = self.failed().count();
        let mut text = format!("Apply: {} done, {failed} failed.", self.applied.len() - failed);
        if self.deliveries.iter().any(|d| d.recovery.is_some()) {
            text.push_str(
                " A new secret waits in the recovery store for a destination that lacks it: apply again (or `deliver --pending`) to finish.",
            );
        }
        text
    }
}
