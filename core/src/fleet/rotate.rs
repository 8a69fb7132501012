//! A batch rotation: each token reset at most once, its new secret handed to
//! the sink the moment it exists, and what could not be done reported.

use std::sync::Arc;

use futures::StreamExt;
use serde::Serialize;

use super::inventory::{DEFAULT_ROTATE_CONCURRENCY, TokenRef, concurrency, distinct};
use super::report::{BatchReport, RotationFailure, Undelivered};
use super::sink::SecretSink;
use crate::client::Client;
use crate::error::{Argument, Error, ErrorKind, Result};
use crate::model::{IssuedToken, Scope};
use crate::names;

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

impl Client {
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
