//! What a batch rotation did, for each token: rotated (with its secret),
//! failed (and whether the old secret still works), or never started.

use std::path::{Path, PathBuf};

use super::inventory::TokenRef;
use super::sink::EnvDir;
use crate::error::{Error, Result, Spelling};
use crate::model::IssuedToken;

/// A rotated token whose secret the sink did not take: the secret is still
/// in [`BatchReport::rotated`], and only there.
#[derive(Debug)]
pub struct Undelivered {
    /// The token.
    pub target: TokenRef,
    /// What the sink said.
    pub error: Error,
}

/// One token that did not rotate.
#[derive(Debug)]
pub struct RotationFailure {
    /// The token.
    pub target: TokenRef,
    /// Why.
    pub error: Error,
    /// `Some(true)`: the reset never took effect and the old secret still
    /// works; `Some(false)`: the reset happened (the old secret is dead) but
    /// the new secret was lost; `None`: the server could not be asked.
    pub old_secret_valid: Option<bool>,
}

impl RotationFailure {
    /// The call that gets the token a working secret, in `spelling`'s names.
    pub fn recovery(&self, spelling: &dyn Spelling) -> String {
        spelling.recovery(&self.target.name, &self.target.workspace)
    }
}

/// What a batch rotation did: never an exception for one item's failure.
#[derive(Debug, Default)]
pub struct BatchReport {
    /// The tokens that got a new secret, with it.
    pub rotated: Vec<IssuedToken>,
    /// The tokens that did not, and why.
    pub failed: Vec<RotationFailure>,
    /// Dry run: the tokens that would rotate.
    pub would_rotate: Vec<TokenRef>,
    /// Cancelled before these were started: nothing was sent for them.
    pub not_started: Vec<TokenRef>,
    /// Rotated, but the sink did not take their secrets (they are in `rotated`).
    pub undelivered: Vec<Undelivered>,
}

/// What became of one token of a batch.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenStatus {
    /// It has a new secret.
    Rotated,
    /// It does not (see its failure).
    Failed,
    /// A dry run: it would rotate.
    WouldRotate,
    /// The batch was stopped before it: nothing was sent for it.
    NotStarted,
}

impl TokenStatus {
    /// The status as tables and records show it.
    pub fn as_str(self) -> &'static str {
        match self {
            TokenStatus::Rotated => "rotated",
            TokenStatus::Failed => "failed",
            TokenStatus::WouldRotate => "would rotate",
            TokenStatus::NotStarted => "not started",
        }
    }
}

/// The line of a token that did not rotate.
fn line(target: &TokenRef, status: TokenStatus) -> ReportRow<'_> {
    ReportRow {
        workspace: &target.workspace,
        name: &target.name,
        status,
        old_secret_valid: None,
        error: None,
    }
}

/// One token's line of a report, as tables and records show it (no secret).
#[derive(Debug)]
pub struct ReportRow<'a> {
    /// The token's workspace (empty for a platform token).
    pub workspace: &'a str,
    /// The token's name.
    pub name: &'a str,
    /// What became of it.
    pub status: TokenStatus,
    /// For a failure: whether the old secret still works (`None`: unknown).
    pub old_secret_valid: Option<bool>,
    /// For a failure: why.
    pub error: Option<&'a Error>,
}

impl BatchReport {
    /// A line per token: rotated, failed, would rotate, not started.
    pub fn rows(&self) -> Vec<ReportRow<'_>> {
        let mut rows: Vec<ReportRow<'_>> = self
            .rotated
            .iter()
            .map(|i| ReportRow {
                workspace: i.workspace.as_deref().unwrap_or_default(),
                name: &i.name,
                status: TokenStatus::Rotated,
                old_secret_valid: None,
                error: None,
            })
            .collect();
        rows.extend(self.failed.iter().map(|f| ReportRow {
            old_secret_valid: f.old_secret_valid,
            error: Some(&f.error),
            ..line(&f.target, TokenStatus::Failed)
        }));
        rows.extend(self.would_rotate.iter().map(|t| line(t, TokenStatus::WouldRotate)));
        rows.extend(self.not_started.iter().map(|t| line(t, TokenStatus::NotStarted)));
        rows
    }

    /// Whether every token rotated and its secret was handed over: nothing
    /// failed, nothing was left unstarted, no sink refused a secret.
    pub fn ok(&self) -> bool {
        self.failed.is_empty() && self.not_started.is_empty() && self.undelivered.is_empty()
    }

    /// Sorted by workspace, then name, whatever order they finished in.
    pub(super) fn sort(&mut self) {
        self.rotated
            .sort_by(|a, b| (&a.workspace, &a.name).cmp(&(&b.workspace, &b.name)));
        self.failed
            .sort_by(|a, b| (&a.target.workspace, &a.target.name).cmp(&(&b.target.workspace, &b.target.name)));
        self.not_started
            .sort_by(|a, b| (&a.workspace, &a.name).cmp(&(&b.workspace, &b.name)));
        self.undelivered
            .sort_by(|a, b| (&a.target.workspace, &a.target.name).cmp(&(&b.target.workspace, &b.target.name)));
    }

    /// Writes one env file per rotated token (see [`EnvDir`]) into `dir`,
    /// creating it 0700. Returns the files written.
    pub fn write_env_dir(&self, dir: &Path) -> Result<Vec<PathBuf>> {
        let dir = EnvDir::open(dir)?;
        self.rotated.iter().map(|issued| dir.write(issued)).collect()
    }

    /// One JSON object per line and token: `name`, `workspace`, `status`
    /// (`rotated`, `failed`, `would_rotate` or `not_started`), the secret
    /// under `token` for rotated ones, and for failed ones
    /// `old_secret_valid`, `error` and the `recovery` call in `spelling`'s names.
    pub fn to_jsonl(&self, spelling: &dyn Spelling) -> Result<String> {
        let mut out = String::new();
        for issued in &self.rotated {
            out.push_str(&rotated_jsonl(issued)?);
        }
        out.push_str(&self.unrotated_jsonl(spelling)?);
        Ok(out)
    }

    /// The JSON lines of the tokens that did not rotate (failed, would
    /// rotate, not started): what follows the rotated ones' lines, written
    /// as each rotated.
    pub fn unrotated_jsonl(&self, spelling: &dyn Spelling) -> Result<String> {
        let mut lines = Vec::new();
        for f in &self.failed {
            lines.push(serde_json::json!({
                "name": f.target.name,
                "workspace": f.target.workspace,
                "status": "failed",
                "old_secret_valid": f.old_secret_valid,
                "error": f.error.describe(spelling),
                "code": f.error.code(),
                "recovery": f.recovery(spelling),
            }));
        }
        for (status, items) in [("would_rotate", &self.would_rotate), ("not_started", &self.not_started)] {
            for t in items {
                lines.push(serde_json::json!({"name": t.name, "workspace": t.workspace, "status": status}));
            }
        }
        let mut out = String::new();
        for line in lines {
            out.push_str(&json_line(&line)?);
        }
        Ok(out)
    }
}

/// The JSON line of a rotated token, with its new secret under `token`.
pub fn rotated_jsonl(issued: &IssuedToken) -> Result<String> {
    json_line(&serde_json::json!({
        "name": issued.name,
        "workspace": issued.workspace,
        "status": "rotated",
        "token": issued.token.as_ref().map(crate::Secret::expose),
        "generation": issued.resource.status.as_ref().and_then(|s| s.generation),
    }))
}

fn json_line(value: &serde_json::Value) -> Result<String> {
    let mut line = serde_json::to_string(value).map_err(|e| Error::config(format!("cannot render JSON: {e}")))?;
    line.push('\n');
    Ok(line)
}
