//! An inventory: every workspace access token across workspaces, fetched
//! with bounded concurrency and filtered by age, expiry and name.

use std::sync::Arc;
use std::time::Duration;

use jiff::Timestamp;
use serde::Serialize;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::client::Client;
use crate::error::{Argument, Error, Result};
use crate::model::AccessToken;
use crate::names;
use crate::requests;

/// Where the workspaces are listed: the vendor's resource URL shape for a
/// list outside any workspace (`{resourceAPI}/{group}/{version}/{plural}`).
pub const WORKSPACE_GROUP_VERSION: &str = "core.appvia.io/v2beta1";

/// Default requests in flight for an inventory.
pub const DEFAULT_INVENTORY_CONCURRENCY: usize = 16;
/// Default rotations in flight.
pub const DEFAULT_ROTATE_CONCURRENCY: usize = 8;
/// Most requests in flight a caller may ask for.
pub const MAX_CONCURRENCY: usize = 256;

/// What an inventory looks at.
#[derive(Clone, Debug, Default)]
pub struct InventoryQuery {
    /// These workspaces; `None`: every workspace the caller can see.
    pub workspaces: Option<Vec<String>>,
    /// Only tokens whose expiry is this close (or already past).
    pub expiring_within: Option<Duration>,
    /// Only tokens whose current secret is at least this old.
    pub older_than: Option<Duration>,
    /// Only tokens whose name matches one of these glob patterns (`ci-*`); empty: all.
    pub names: Vec<String>,
    /// Requests in flight (default 16).
    pub concurrency: Option<usize>,
}

/// One access token of an inventory: the object as `get` shows it, and
/// what a platform team sorts by.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct InventoryEntry {
    /// The token's workspace.
    pub workspace: String,
    /// The token's name.
    pub name: String,
    /// Its description.
    pub description: Option<String>,
    /// Seconds since its current secret was issued (or, never issued, since it was created).
    pub age_seconds: i64,
    /// When it expires (RFC 3339), if it does.
    pub expiry: Option<String>,
    /// Seconds until it expires (negative: expired), if it does.
    pub expires_in_seconds: Option<i64>,
    /// How many secrets it has been issued.
    pub generation: i64,
    /// The object as the server returned it.
    pub object: AccessToken,
}

impl InventoryEntry {
    fn new(workspace: &str, object: AccessToken, now: Timestamp) -> InventoryEntry {
        let parse = |t: Option<&str>| t.and_then(|t| t.parse::<Timestamp>().ok());
        let status = object.status.as_ref();
        let issued = parse(status.and_then(|s| s.last_issued.as_deref()))
            .or_else(|| parse(object.metadata.creation_timestamp.as_deref()));
        let expiry = object.spec.expiry.clone();
        InventoryEntry {
            workspace: workspace.to_owned(),
            name: object.metadata.name.clone(),
            description: object.spec.description.clone(),
            age_seconds: issued.map_or(0, |t| now.duration_since(t).as_secs()),
            expires_in_seconds: parse(expiry.as_deref()).map(|t| t.duration_since(now).as_secs()),
            expiry,
            generation: status.and_then(|s| s.generation).unwrap_or(0),
            object,
        }
    }

    /// The token as a rotation names it.
    pub fn target(&self) -> TokenRef {
        TokenRef {
            workspace: self.workspace.clone(),
            name: self.name.clone(),
        }
    }

    fn selected(&self, query: &InventoryQuery, patterns: &[glob::Pattern]) -> bool {
        let within = |limit: Duration| {
            self.expires_in_seconds
                .is_some_and(|left| left <= i64::try_from(limit.as_secs()).unwrap_or(i64::MAX))
        };
        let old = |limit: Duration| self.age_seconds >= i64::try_from(limit.as_secs()).unwrap_or(i64::MAX);
        query.expiring_within.is_none_or(within)
            && query.older_than.is_none_or(old)
            && (patterns.is_empty() || patterns.iter().any(|p| p.matches(&self.name)))
    }
}

/// A workspace access token to rotate.
#[derive(Clone, Debug, PartialEq, Eq, Hash, Serialize)]
pub struct TokenRef {
    /// Its workspace.
    pub workspace: String,
    /// Its name.
    pub name: String,
}

impl Client {
    /// The workspaces the caller can see, sorted.
    pub async fn list_workspaces(&self) -> Result<Vec<String>> {
        #[derive(serde::Deserialize)]
        struct List {
            #[serde(default)]
            items: Vec<AccessToken>,
        }
        let info = self.known_api().await?;
        let request = requests::workspaces(info, WORKSPACE_GROUP_VERSION);
        let list: List = self.fetch(&request, "workspace list").await?;
        let mut names: Vec<String> = list.items.into_iter().map(|w| w.metadata.name).collect();
        names.sort();
        Ok(names)
    }

    /// Every workspace access token in `query.workspaces` (or every
    /// workspace the caller can see), fetched with bounded concurrency and
    /// filtered. Sorted by workspace, then name.
    pub async fn inventory(&self, query: &InventoryQuery) -> Result<Vec<InventoryEntry>> {
        let concurrency = concurrency(query.concurrency, DEFAULT_INVENTORY_CONCURRENCY)?;
        let patterns = patterns(&query.names)?;
        let workspaces = match &query.workspaces {
            Some(list) => {
                names::collect(list.iter().map(|w| names::check_workspace(Argument::Workspaces, w)))?;
                distinct(list)
            }
            None => self.list_workspaces().await?,
        };
        let gate = Arc::new(Semaphore::new(concurrency));
        let mut lists = JoinSet::new();
        for workspace in workspaces {
            let (client, gate) = (self.clone(), Arc::clone(&gate));
            lists.spawn(async move {
                let _permit = gate.acquire_owned().await;
                let tokens = client.list_workspace_access_tokens(Some(&workspace)).await;
                (workspace, tokens)
            });
        }
        let now = Timestamp::now();
        let mut entries = Vec::new();
        while let Some(joined) = lists.join_next().await {
            let (workspace, tokens) = joined.map_err(|e| Error::config(format!("an inventory task failed: {e}")))?;
            for object in tokens? {
                let entry = InventoryEntry::new(&workspace, object, now);
                if entry.selected(query, &patterns) {
                    entries.push(entry);
                }
            }
        }
        entries.sort_by(|a, b| (&a.workspace, &a.name).cmp(&(&b.workspace, &b.name)));
        Ok(entries)
    }
}

/// The items in their first order, each once.
pub(super) fn distinct<T: Clone + Eq + std::hash::Hash>(items: &[T]) -> Vec<T> {
    let mut seen = std::collections::HashSet::new();
    items.iter().filter(|t| seen.insert(*t)).cloned().collect()
}

pub(super) fn concurrency(asked: Option<usize>, default: usize) -> Result<usize> {
    match asked {
        None => Ok(default),
        Some(n) if (1..=MAX_CONCURRENCY).contains(&n) => Ok(n),
        Some(_) => Err(Error::invalid(
            Argument::Concurrency,
            "invalidValue",
            format!("must be a whole number from 1 to {MAX_CONCURRENCY}"),
        )),
    }
}

fn patterns(names: &[String]) -> Result<Vec<glob::Pattern>> {
    names
        .iter()
        .map(|p| {
            glob::Pattern::new(p)
                .map_err(|e| Error::invalid(Argument::Names, "pattern", format!("pattern {p:?} is not a glob: {e}")))
        })
        .collect()
}
