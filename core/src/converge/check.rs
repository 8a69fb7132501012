//! The watch for a scheduled job: when each token of a spec is next due to
//! rotate (its age against `maxAge`, its expiry against `beforeExpiry`),
//! read from Wayfinder alone: one list per workspace, no destination.

use std::time::Duration;

use jiff::{SignedDuration, Timestamp};
use serde::Serialize;

use super::spec::TokenSpec;
use crate::client::Client;
use crate::error::Result;
use crate::model::{AccessToken, Scope};

/// When one token is next due.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Due {
    /// The spec's token.
    pub token: String,
    /// Its workspace; `None` for a platform token.
    pub workspace: Option<String>,
    /// The Wayfinder token in use (with slots, the newer one); `None` when it does not exist.
    pub target: Option<String>,
    /// When a rotation is due (RFC 3339); `None`: never (no `maxAge`, no expiry).
    pub due_at: Option<String>,
    /// Why then: `maxAge 30d`, `expires …`, `does not exist`.
    pub reason: String,
    /// Whether that is within the horizon asked about (or past).
    pub due: bool,
}

/// When each token of `spec` is next due; `due` is set for those due
/// within `horizon` from now (or overdue).
pub async fn check(client: &Client, spec: &TokenSpec, horizon: Duration) -> Result<Vec<Due>> {
    let now = Timestamp::now();
    let limit = now + SignedDuration::try_from(horizon).unwrap_or(SignedDuration::MAX / 2);
    let mut lists: Vec<(Scope, Vec<AccessToken>)> = Vec::new();
    for ws in spec.workspaces() {
        let tokens = client.list_workspace_access_tokens(Some(&ws)).await?;
        lists.push((Scope::Workspace(ws), tokens));
    }
    if spec.has_platform() {
        lists.push((Scope::Platform, client.list_platform_access_tokens().await?));
    }
    let mut found = Vec::with_capacity(spec.tokens.len());
    for token in &spec.tokens {
        let existing = lists
            .iter()
            .find(|(s, _)| *s == token.scope)
            .map(|(_, t)| t.as_slice())
            .unwrap_or_default();
        let parse = |t: Option<&str>| t.and_then(|t| t.parse::<Timestamp>().ok());
        let newest = token
            .wayfinder_names()
            .iter()
            .filter_map(|n| existing.iter().find(|t| t.name() == n))
            .max_by_key(|t| parse(t.last_issued()));
        let workspace = token.scope.workspace().map(str::to_owned);
        let Some(current) = newest else {
            found.push(Due {
                token: token.name.clone(),
                workspace,
                target: None,
                due_at: Some(now.round(jiff::Unit::Second).unwrap_or(now).to_string()),
                reason: "does not exist".to_owned(),
                due: true,
            });
            continue;
        };
        found.push(next_due(token, current, limit));
    }
    Ok(found)
}

/// When `current`, the token in use for `token`, is next due.
fn next_due(token: &super::spec::DesiredToken, current: &AccessToken, limit: Timestamp) -> Due {
    let parse = |t: Option<&str>| t.and_then(|t| t.parse::<Timestamp>().ok());
    let mut candidates: Vec<(Timestamp, String)> = Vec::new();
    if let (Some(max), Some(issued)) = (
        token.rotate.max_age,
        parse(current.last_issued()).or_else(|| parse(current.created())),
    ) {
        let at = issued + SignedDuration::try_from(max).unwrap_or(SignedDuration::MAX / 2);
        candidates.push((at, format!("maxAge {}", crate::names::duration_text(max))));
    }
    if let Some(expires) = parse(current.expiry()) {
        let before = token.rotate.before_expiry.unwrap_or(Duration::ZERO);
        let at = expires - SignedDuration::try_from(before).unwrap_or(SignedDuration::ZERO);
        candidates.push((
            at,
            format!(
                "expires {expires} (beforeExpiry {})",
                crate::names::duration_text(before)
            ),
        ));
    }
    let next = candidates.into_iter().min_by_key(|(at, _)| *at);
    Due {
        token: token.name.clone(),
        workspace: token.scope.workspace().map(str::to_owned),
        target: Some(current.name().to_owned()),
        due_at: next.as_ref().map(|(at, _)| at.to_string()),
        reason: next
            .as_ref()
            .map_or_else(|| "never (no maxAge, no expiry)".to_owned(), |(_, r)| r.clone()),
        due: next.is_some_and(|(at, _)| at <= limit),
    }
}
