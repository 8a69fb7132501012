//! Fleet operations as Node sees them: `inventory()` entries, and
//! `rotateWorkspaceAccessTokens()` resolving to a `BatchReport` (never
//! rejecting for one token's failure). `onProgress` is called on the JS
//! thread; `signal` stops new rotations and the report says what was done.

use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};
use wayfinder_tokens::fleet::{BatchReport as CoreReport, InventoryEntry as CoreEntry, Progress, ProgressFn, TokenRef};

use crate::call::error_object;
use crate::spelling::NodeSpelling;
use crate::types::IssuedToken;

/// One access token of an inventory: what `get` shows, plus its age, expiry and generation.
#[napi(object, object_from_js = false)]
pub struct InventoryEntry {
    /// The workspace the token is in.
    pub workspace: String,
    /// The token's name.
    pub name: String,
    /// What the token is for.
    pub description: Option<String>,
    /// Seconds since its current secret was issued.
    pub age_seconds: i64,
    /// When it expires (RFC 3339), if it does.
    pub expiry: Option<String>,
    /// Seconds until it expires (negative: expired), if it does.
    pub expires_in_seconds: Option<i64>,
    /// The object's generation: it grows each time the secret is reset.
    pub generation: i64,
    /// The whole object, as the API returned it (the fields above are read from it).
    #[napi(ts_type = "Record<string, unknown>")]
    pub object: serde_json::Value,
}

impl From<CoreEntry> for InventoryEntry {
    fn from(e: CoreEntry) -> InventoryEntry {
        InventoryEntry {
            workspace: e.workspace,
            name: e.name,
            description: e.description,
            age_seconds: e.age_seconds,
            expiry: e.expiry,
            expires_in_seconds: e.expires_in_seconds,
            generation: e.generation,
            object: serde_json::to_value(&e.object).unwrap_or_default(),
        }
    }
}

/// Converts an inventory for JS.
pub fn entries(list: Vec<CoreEntry>) -> Vec<InventoryEntry> {
    list.into_iter().map(InventoryEntry::from).collect()
}

/// A workspace access token to rotate (an `InventoryEntry` is one too).
#[napi(object)]
pub struct TokenTarget {
    /// The workspace the token is in.
    pub workspace: String,
    /// The token's name.
    pub name: String,
}

/// Called after each token of a batch.
#[napi(object)]
pub struct ProgressEvent {
    /// Tokens finished so far (rotated or failed).
    pub done: u32,
    /// Tokens in the batch.
    pub total: u32,
    /// The workspace of the token just finished.
    pub workspace: String,
    /// The name of the token just finished.
    pub name: String,
    /// `rotated`, `failed` or `wouldRotate`.
    pub outcome: String,
}

/// The progress callback as the runtime's threads call it.
pub type ProgressCallback = ThreadsafeFunction<ProgressEvent, (), ProgressEvent, Status, false, true>;

/// Wraps `onProgress` for core.
pub fn progress(callback: Option<ProgressCallback>) -> Option<ProgressFn> {
    let callback = Arc::new(callback?);
    Some(Arc::new(move |p: &Progress| {
        let event = ProgressEvent {
            done: p.done as u32,
            total: p.total as u32,
            workspace: p.item.workspace.clone(),
            name: p.item.name.clone(),
            outcome: match p.outcome {
                wayfinder_tokens::fleet::Outcome::Rotated => "rotated",
                wayfinder_tokens::fleet::Outcome::Failed => "failed",
                wayfinder_tokens::fleet::Outcome::WouldRotate => "wouldRotate",
            }
            .to_owned(),
        };
        callback.call(event, ThreadsafeFunctionCallMode::NonBlocking);
    }))
}

/// `f` wrapped so that what it throws becomes a process warning: an
/// exception escaping a callback the runtime's threads scheduled would be
/// an uncaught exception (a crash under Node's strict policy) mid-batch,
/// with the batch's secrets in memory.
pub fn never_throwing<'a>(env: &'a Env, f: Function<'a, ProgressEvent, ()>) -> Result<Function<'a, ProgressEvent, ()>> {
    let wrap: Function<'a, Function<'a, ProgressEvent, ()>, Function<'a, ProgressEvent, ()>> = env.run_script(
        "(function (f) { return function onProgress(event) { try { f(event) } catch (error) { \
         process.emitWarning('onProgress threw, and the rotation goes on: ' + \
         (error instanceof Error ? error.message : String(error)), 'WayfinderWarning') } } })",
    )?;
    wrap.call(f)
}

impl TokenTarget {
    /// The core's reference to the token.
    pub fn into_ref(self) -> TokenRef {
        TokenRef {
            workspace: self.workspace,
            name: self.name,
        }
    }
}

/// `onProgress` made safe to call from any thread: a throw becomes a warning.
pub fn progress_callback<'a>(env: &'a Env, f: Function<'a, ProgressEvent, ()>) -> Result<ProgressCallback> {
    never_throwing(env, f)?
        .build_threadsafe_function::<ProgressEvent>()
        .callee_handled::<false>()
        .weak::<true>()
        .build()
}

/// What a batch rotation did.
#[napi]
pub struct BatchReport {
    report: CoreReport,
    deliveries: Vec<wayfinder_tokens::deliver::DeliveryReport>,
}

impl BatchReport {
    /// A rotation's report, and with `deliver`, where each new secret went.
    pub fn new((report, deliveries): (CoreReport, Vec<wayfinder_tokens::deliver::DeliveryReport>)) -> BatchReport {
        BatchReport { report, deliveries }
    }
}

fn target(t: &TokenRef) -> TokenTarget {
    TokenTarget {
        workspace: t.workspace.clone(),
        name: t.name.clone(),
    }
}

#[napi]
impl BatchReport {
    /// The tokens that got a new secret, with it.
    #[napi(getter)]
    pub fn rotated(&self) -> Vec<IssuedToken> {
        self.report
            .rotated
            .iter()
            .cloned()
            .map(|inner| IssuedToken { inner, delivery: None })
            .collect()
    }

    /// The tokens that did not, why (a `WayfinderError`), whether their old
    /// secret still works (`null`: unknown) and the call that recovers them.
    #[napi(getter, ts_return_type = "RotationFailure[]")]
    pub fn failed<'env>(&self, env: &'env Env) -> Result<Vec<Object<'env>>> {
        self.report
            .failed
            .iter()
            .map(|f| {
                let mut o = Object::new(env)?;
                o.set_named_property("workspace", f.target.workspace.as_str())?;
                o.set_named_property("name", f.target.name.as_str())?;
                o.set_named_property("error", error_object(env, &f.error)?)?;
                match f.old_secret_valid {
                    Some(valid) => o.set_named_property("oldSecretValid", valid)?,
                    None => o.set_named_property("oldSecretValid", Null)?,
                }
                o.set_named_property("recovery", f.recovery(&NodeSpelling))?;
                Ok(o)
            })
            .collect()
    }

    /// Dry run: the tokens that would rotate.
    #[napi(getter)]
    pub fn would_rotate(&self) -> Vec<TokenTarget> {
        self.report.would_rotate.iter().map(target).collect()
    }

    /// Cancelled: the tokens nothing was sent for.
    #[napi(getter)]
    pub fn not_started(&self) -> Vec<TokenTarget> {
        self.report.not_started.iter().map(target).collect()
    }

    /// Rotated, but `outputDir` could not take their secrets (each with the
    /// error): the secrets are in `rotated`, and only there.
    #[napi(getter, ts_return_type = "Array<TokenTarget & { error: WayfinderError }>")]
    pub fn undelivered<'env>(&self, env: &'env Env) -> Result<Vec<Object<'env>>> {
        self.report
            .undelivered
            .iter()
            .map(|u| {
                let mut o = Object::new(env)?;
                o.set_named_property("workspace", u.target.workspace.as_str())?;
                o.set_named_property("name", u.target.name.as_str())?;
                o.set_named_property("error", error_object(env, &u.error)?)?;
                Ok(o)
            })
            .collect()
    }

    /// True when every token rotated and its secret was handed over (and
    /// delivered, with `deliver`).
    #[napi(getter)]
    pub fn ok(&self) -> bool {
        self.report.ok() && self.deliveries.iter().all(|d| d.is_complete())
    }

    /// With `deliver`: where each rotated token's secret went, in the order they rotated.
    #[napi(getter)]
    pub fn deliveries(&self) -> Vec<crate::deliver::DeliveryReport> {
        self.deliveries.iter().map(Into::into).collect()
    }

    /// One 0600 env file per new secret in `dir` (created 0700); returns the files.
    #[napi]
    pub fn write_env_dir(&self, env: &Env, dir: String) -> Result<Vec<String>> {
        let written = self.report.write_env_dir(std::path::Path::new(&dir));
        crate::call::sync(env, written).map(|files| files.iter().map(|f| f.display().to_string()).collect())
    }

    /// One JSON object per token and line, the secret under `token` for rotated ones.
    #[napi]
    pub fn to_jsonl(&self, env: &Env) -> Result<String> {
        crate::call::sync(env, self.report.to_jsonl(&NodeSpelling))
    }

    /// A flat object per token (rotated, failed, would rotate, not started),
    /// never a secret: for a table, a spreadsheet or a data frame.
    #[napi(
        ts_return_type = "Array<{ workspace: string, name: string, status: string, oldSecretValid: boolean | null, error: string | null }>"
    )]
    pub fn to_records(&self) -> Vec<serde_json::Value> {
        self.report
            .rows()
            .iter()
            .map(|row| {
                serde_json::json!({
                    "workspace": row.workspace,
                    "name": row.name,
                    "status": row.status.as_str(),
                    "oldSecretValid": row.old_secret_valid,
                    "error": row.error.map(|e| e.describe(&NodeSpelling)),
                })
            })
            .collect()
    }

    /// What `JSON.stringify` shows: counts and names, never a secret.
    #[napi(js_name = "toJSON")]
    pub fn to_json_view(&self) -> serde_json::Value {
        serde_json::json!({
            "rotated": self.report.rotated.iter().map(|i| serde_json::json!({"workspace": i.workspace, "name": i.name})).collect::<Vec<_>>(),
            "failed": self.report.failed.iter().map(|f| serde_json::json!({
                "workspace": f.target.workspace, "name": f.target.name,
                "code": f.error.code(), "oldSecretValid": f.old_secret_valid,
            })).collect::<Vec<_>>(),
            "wouldRotate": self.report.would_rotate.len(),
            "notStarted": self.report.not_started.len(),
        })
    }
}
