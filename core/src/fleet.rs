//! Fleet operations: every access token across workspaces at once. An
//! inventory (fetched with bounded concurrency, filtered by age, expiry and
//! name), and a batch rotation whose report says, for each token that
//! failed, whether its old secret still works or was already replaced, and
//! the exact call that recovers it. One item's failure never raises.

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use futures::StreamExt;
use jiff::Timestamp;
use serde::Serialize;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use crate::client::Client;
use crate::error::{Argument, Error, ErrorKind, Result, Spelling};
use crate::model::Scope;
use crate::model::{AccessToken, IssuedToken};
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

/// Options of a batch rotation.
#[derive(Clone, Debug, Default)]
pub struct RotateOptions {
    /// Rotations in flight (default 8).
    pub concurrency: Option<usize>,
    /// Check every name and report what would rotate; rotate nothing.
    pub dry_run: bool,
}

/// How one item of a batch ended, as progress reports it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A new secret was issued.
    Rotated,
    /// It failed; see the report.
    Failed,
    /// Dry run: it would rotate.
    WouldRotate,
}

/// Called after each item: how many are done, of how many, and which.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct Progress {
    /// Items done so far (this one included).
    pub done: usize,
    /// Items in the batch.
    pub total: usize,
    /// The item just done.
    pub item: TokenRef,
    /// How it ended.
    pub outcome: Outcome,
}

/// A progress callback. It runs on the runtime's blocking pool, one call at
/// a time and in order, so a slow callback never stalls a request.
pub type ProgressFn = Arc<dyn Fn(&Progress) + Send + Sync>;

/// Takes each new secret the moment its token rotates (an env file, a JSON
/// line, a store), so a batch that is interrupted or fails later loses none
/// of the secrets issued so far. It runs on the runtime's blocking pool. An
/// error keeps the secret in the report and lists the token in
/// [`BatchReport::undelivered`].
pub type SecretSink = Arc<dyn Fn(&IssuedToken) -> Result<()> + Send + Sync>;

/// Stops a batch: no new rotation starts; those already sent finish and
/// are reported (and handed to the sink).
pub use tokio_util::sync::CancellationToken;

/// What a batch rotation calls back, and what stops it.
#[derive(Clone, Default)]
pub struct RotateHooks {
    /// Told after each token.
    pub progress: Option<ProgressFn>,
    /// Given each new secret as soon as it exists.
    pub on_rotated: Option<SecretSink>,
    /// Cancelling it stops new rotations.
    pub cancel: Option<CancellationToken>,
}

impl std::fmt::Debug for RotateHooks {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RotateHooks")
            .field("progress", &self.progress.is_some())
            .field("on_rotated", &self.on_rotated.is_some())
            .field("cancel", &self.cancel)
            .finish()
    }
}

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

    /// Resets each token's secret, `options.concurrency` at a time, honouring
    /// the client's retry rules. Bad names and options are an error before
    /// any request; a token named twice is rotated once. After that, every
    /// item ends in the report. Each new secret goes to `hooks.on_rotated`
    /// as soon as it exists; cancelling `hooks.cancel` stops new rotations
    /// (those already sent finish, and are reported and handed over).
    pub async fn rotate_workspace_access_tokens(
        &self,
        tokens: &[TokenRef],
        options: &RotateOptions,
        hooks: &RotateHooks,
    ) -> Result<BatchReport> {
        let concurrency = concurrency(options.concurrency, DEFAULT_ROTATE_CONCURRENCY)?;
        names::collect(tokens.iter().flat_map(|t| {
            [
                names::check_workspace(Argument::Workspace, &t.workspace),
                names::check_name(Argument::Name, &t.name),
            ]
        }))?;
        // A second reset of the same token would kill the secret the first one issued.
        let tokens = distinct(tokens);
        let notify = Notifier {
            progress: hooks.progress.clone(),
            total: tokens.len(),
        };
        let mut report = if options.dry_run {
            for (i, t) in tokens.iter().enumerate() {
                notify.send(i + 1, t, Outcome::WouldRotate).await;
            }
            BatchReport {
                would_rotate: tokens,
                ..BatchReport::default()
            }
        } else {
            self.rotate_all(tokens, concurrency, &notify, hooks).await
        };
        report.sort();
        Ok(report)
    }

    /// Drives every rotation from one stream, `concurrency` at a time (no
    /// task per token); once `cancel` fires, the next ones are not started.
    async fn rotate_all(
        &self,
        tokens: Vec<TokenRef>,
        concurrency: usize,
        notify: &Notifier,
        hooks: &RotateHooks,
    ) -> BatchReport {
        let cancel = hooks.cancel.clone().unwrap_or_default();
        // Owned items and a cloned client keep the stream `Send` for any caller.
        let mut outcomes = futures::stream::iter(tokens)
            .map(|target| {
                let (client, cancel, sink) = (self.clone(), cancel.clone(), hooks.on_rotated.clone());
                async move {
                    if cancel.is_cancelled() {
                        return (target, None);
                    }
                    let outcome = match client.rotate_one(&target).await {
                        Ok(issued) => {
                            let delivered = hand_over(sink, &issued).await;
                            Ok((issued, delivered))
                        }
                        Err(failure) => Err(failure),
                    };
                    (target, Some(outcome))
                }
            })
            .buffer_unordered(concurrency);
        let mut report = BatchReport::default();
        let mut done = 0;
        while let Some((target, outcome)) = outcomes.next().await {
            done += 1;
            match outcome {
                None => report.not_started.push(target),
                Some(Ok((issued, delivered))) => {
                    if let Err(error) = delivered {
                        report.undelivered.push(Undelivered {
                            target: target.clone(),
                            error,
                        });
                    }
                    report.rotated.push(issued);
                    notify.send(done, &target, Outcome::Rotated).await;
                }
                Some(Err(failure)) => {
                    report.failed.push(failure);
                    notify.send(done, &target, Outcome::Failed).await;
                }
            }
        }
        report
    }

    /// One reset, and on failure the truth about the old secret: the
    /// generation before the reset is compared with the server's after it.
    /// After a timeout or a broken connection the reset may still be running
    /// on the server, so a later read proves nothing: unknown.
    async fn rotate_one(&self, target: &TokenRef) -> std::result::Result<IssuedToken, RotationFailure> {
        let fail = |error: Error, old_secret_valid: Option<bool>| RotationFailure {
            target: target.clone(),
            error,
            old_secret_valid,
        };
        let scope = Scope::Workspace(target.workspace.clone());
        // Nothing was reset if the object cannot even be read; a token that
        // does not exist (any more) has no secret that works.
        let before = self.get_scoped(&scope, &target.name).await.map_err(|e| {
            let gone = e.kind() == ErrorKind::NotFound;
            fail(e, Some(!gone))
        })?;
        let generation = before.status.as_ref().and_then(|s| s.generation).unwrap_or(0);
        match self.issue_scoped(&scope, &target.name, before).await {
            Ok(issued) => Ok(issued),
            Err(error) if matches!(error.kind(), ErrorKind::Timeout | ErrorKind::Transport) => Err(fail(error, None)),
            Err(error) => {
                let after = self.get_scoped(&scope, &target.name).await;
                let old_secret_valid = match after {
                    Ok(after) => Some(after.status.as_ref().and_then(|s| s.generation).unwrap_or(0) == generation),
                    Err(e) if e.kind() == ErrorKind::NotFound => Some(false),
                    Err(_) => None,
                };
                Err(fail(error, old_secret_valid))
            }
        }
    }
}

/// Gives the sink its secret on the blocking pool.
async fn hand_over(sink: Option<SecretSink>, issued: &IssuedToken) -> Result<()> {
    let Some(sink) = sink else {
        return Ok(());
    };
    let issued = issued.clone();
    match tokio::task::spawn_blocking(move || sink(&issued)).await {
        Ok(outcome) => outcome,
        Err(e) => Err(Error::config(if e.is_panic() {
            "the secret's sink panicked".to_owned()
        } else {
            "the secret's sink was cancelled".to_owned()
        })),
    }
}

/// The items in their first order, each once.
fn distinct<T: Clone + Eq + std::hash::Hash>(items: &[T]) -> Vec<T> {
    let mut seen = std::collections::HashSet::new();
    items.iter().filter(|t| seen.insert(*t)).cloned().collect()
}

/// Tells the progress callback, if there is one, on the blocking pool.
struct Notifier {
    progress: Option<ProgressFn>,
    total: usize,
}

impl Notifier {
    async fn send(&self, done: usize, item: &TokenRef, outcome: Outcome) {
        let Some(p) = &self.progress else {
            return;
        };
        let (p, progress) = (
            Arc::clone(p),
            Progress {
                done,
                total: self.total,
                item: item.clone(),
                outcome,
            },
        );
        // A callback that panics is its own affair: the batch goes on.
        let _ = tokio::task::spawn_blocking(move || p(&progress)).await;
    }
}

fn concurrency(asked: Option<usize>, default: usize) -> Result<usize> {
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

impl BatchReport {
    /// Whether every token rotated and its secret was handed over: nothing
    /// failed, nothing was left unstarted, no sink refused a secret.
    pub fn ok(&self) -> bool {
        self.failed.is_empty() && self.not_started.is_empty() && self.undelivered.is_empty()
    }

    /// Sorted by workspace, then name, whatever order they finished in.
    fn sort(&mut self) {
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

/// A private folder of env files, one per secret: `WORKSPACE.NAME.env`
/// (`platform.NAME.env` for platform tokens) in the `export` format, each
/// written atomically with mode 0600.
#[derive(Clone, Debug)]
pub struct EnvDir {
    dir: PathBuf,
}

impl EnvDir {
    /// Checks `dir` (a folder, not a link; not writable by everyone), or
    /// creates it 0700. Done before any reset, so a folder that cannot take
    /// the secrets never costs one.
    pub fn open(dir: &Path) -> Result<EnvDir> {
        match std::fs::symlink_metadata(dir) {
            Ok(m) if !m.is_dir() => {
                return Err(Error::config(format!(
                    "{} exists and is not a folder (a symlink is refused too)",
                    dir.display()
                )));
            }
            #[cfg(unix)]
            Ok(m) if std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o002 != 0 => {
                return Err(Error::config(format!(
                    "{} is writable by every user: secrets go only into a private folder \
                     (chmod 700 it, or name a new folder and it is created 0700)",
                    dir.display()
                )));
            }
            _ => {}
        }
        crate::config::file::create_private_dir(dir)?;
        Ok(EnvDir { dir: dir.to_owned() })
    }

    /// The file `issued` goes to.
    pub fn path_of(&self, issued: &IssuedToken) -> PathBuf {
        let workspace = issued.workspace.as_deref().unwrap_or("platform");
        self.dir.join(format!("{workspace}.{}.env", issued.name))
    }

    /// Writes `issued`'s env file; every write and the sync are checked.
    pub fn write(&self, issued: &IssuedToken) -> Result<PathBuf> {
        let path = self.path_of(issued);
        crate::config::file::write_atomic(&path, crate::render::export(issued)?.as_bytes())?;
        Ok(path)
    }

    /// A rotation's sink writing each new secret here as it arrives.
    pub fn sink(&self) -> SecretSink {
        let dir = self.clone();
        Arc::new(move |issued: &IssuedToken| dir.write(issued).map(drop))
    }
}

/// One sink from a binding's two options: each secret goes to its env file
/// in `dir` first (on disk before any code of the caller runs), then to
/// `then`. `None` when neither is given.
pub fn sinks(dir: Option<EnvDir>, then: Option<SecretSink>) -> Option<SecretSink> {
    match (dir, then) {
        (None, None) => None,
        (Some(dir), None) => Some(dir.sink()),
        (None, Some(then)) => Some(then),
        (Some(dir), Some(then)) => Some(Arc::new(move |issued: &IssuedToken| {
            dir.write(issued)?;
            then(issued)
        })),
    }
}
