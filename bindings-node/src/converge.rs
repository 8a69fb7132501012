//! Tokens as code in Node: `loadSpec`, and the client's `plan`, `apply` and
//! `check` as Promises. The core plans and applies; these carry its data.

use std::sync::Arc;

use napi::bindgen_prelude::*;
use napi_derive::napi;
use wayfinder_tokens::converge::{self, ApplyReport as CoreReport, Plan as CorePlan, TokenSpec as CoreSpec};

use crate::call::{Failure, js_error, sync};

/// A tokens spec file (`apiVersion: wayfinder-tokens/v1`), read and checked.
#[napi]
pub struct TokenSpec {
    pub(crate) inner: Arc<CoreSpec>,
}

#[napi]
impl TokenSpec {
    /// Where it was read from.
    #[napi(getter)]
    pub fn source(&self) -> String {
        self.inner.source.clone()
    }

    /// `workspace/name` of each token, in the file's order (`platform/name` for platform tokens).
    #[napi(getter)]
    pub fn tokens(&self) -> Vec<String> {
        self.inner.tokens.iter().map(converge::DesiredToken::label).collect()
    }

    /// What `console.log` shows.
    #[napi(js_name = "toJSON")]
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({"source": self.inner.source, "tokens": self.tokens()})
    }
}

/// Reads the spec at `path` and checks it: every problem (unknown keys,
/// duplicates, a role of the wrong kind, a bad duration or SPEC) in one
/// `VALIDATION` error, each with its line and column, before any request.
#[napi]
pub fn load_spec(env: &Env, path: String) -> Result<TokenSpec> {
    sync(env, CoreSpec::load(std::path::Path::new(&path))).map(|s| TokenSpec { inner: Arc::new(s) })
}

/// A spec from `text` (YAML); `source` names it in errors.
#[napi]
pub fn parse_spec(env: &Env, text: String, source: Option<String>) -> Result<TokenSpec> {
    let source = source.unwrap_or_else(|| "<string>".to_owned());
    sync(env, CoreSpec::parse(&text, &source)).map(|s| TokenSpec { inner: Arc::new(s) })
}

/// The spec's JSON Schema, for editors.
#[napi]
pub fn spec_schema() -> &'static str {
    converge::JSON_SCHEMA
}

/// What apply would do: its changes (never a secret), the drift it leaves alone.
#[napi]
pub struct Plan {
    pub(crate) inner: Arc<CorePlan>,
}

fn json(value: &impl serde::Serialize) -> serde_json::Value {
    serde_json::to_value(value).unwrap_or_default()
}

#[napi]
impl Plan {
    /// True when apply has something to do.
    #[napi(getter)]
    pub fn has_changes(&self) -> bool {
        self.inner.has_changes()
    }

    /// Each change (`action`, `token`, `workspace`, `target`, and the action's own keys).
    #[napi(getter, ts_return_type = "Array<Record<string, unknown>>")]
    pub fn changes(&self) -> serde_json::Value {
        json(&self.inner.changes)
    }

    /// Each difference apply leaves alone (`drift`: `role`, `unmanaged` or `description`).
    #[napi(getter, ts_return_type = "Array<Record<string, unknown>>")]
    pub fn drift(&self) -> serde_json::Value {
        json(&self.inner.drift)
    }

    /// The requests the plan made: `{ wayfinder, destinations }`.
    #[napi(getter, ts_return_type = "{ wayfinder: number; destinations: number }")]
    pub fn requests(&self) -> serde_json::Value {
        json(&self.inner.requests)
    }

    /// The summary line.
    #[napi(getter)]
    pub fn summary(&self) -> String {
        self.inner.summary()
    }

    /// One line per change, one per drift, then the summary.
    #[napi]
    pub fn lines(&self) -> Vec<String> {
        self.inner.lines()
    }

    /// Flat records `{ sign, action, subject, detail }`, changes then drift.
    #[napi(ts_return_type = "Array<{ sign: string; action: string; subject: string; detail: string }>")]
    pub fn to_records(&self) -> serde_json::Value {
        let changes = self.inner.changes.iter().map(|c| {
            serde_json::json!({"sign": c.sign().to_string(), "action": c.verb(), "subject": c.subject(), "detail": c.detail()})
        });
        let drift = self.inner.drift.iter().map(
            |d| serde_json::json!({"sign": "!", "action": "drift", "subject": d.subject(), "detail": d.describe()}),
        );
        serde_json::Value::Array(changes.chain(drift).collect())
    }

    /// The plan as text (what the CLI prints).
    #[napi]
    pub fn render_table(&self) -> String {
        self.inner.lines().join("\n") + "\n"
    }

    /// What `console.log` and `JSON.stringify` show.
    #[napi(js_name = "toJSON")]
    pub fn to_json(&self) -> serde_json::Value {
        json(&*self.inner)
    }
}

/// What apply did.
#[napi(object, object_from_js = false)]
pub struct ApplyReport {
    /// True when every change was made.
    pub ok: bool,
    /// Each change, with `done` (what it did) or `error` (`code`, `message`).
    #[napi(ts_type = "Array<Record<string, unknown>>")]
    pub applied: serde_json::Value,
    /// The drift apply left alone (as in `Plan.drift`).
    #[napi(ts_type = "Array<Record<string, unknown>>")]
    pub drift: serde_json::Value,
    /// Each delivery's report.
    pub deliveries: Vec<crate::deliver::DeliveryReport>,
    /// One line per change, then the summary.
    pub lines: Vec<String>,
}

impl ApplyReport {
    pub(crate) fn new((plan, report): (Arc<CorePlan>, CoreReport)) -> ApplyReport {
        let applied = report.applied.iter().map(converge::Applied::to_value).collect();
        let mut lines: Vec<String> = report.applied.iter().map(converge::Applied::line).collect();
        lines.push(report.summary());
        ApplyReport {
            ok: report.ok(),
            applied: serde_json::Value::Array(applied),
            drift: json(&plan.drift),
            deliveries: report
                .deliveries
                .iter()
                .map(crate::deliver::DeliveryReport::from)
                .collect(),
            lines,
        }
    }
}

/// When one token of a spec is next due to rotate.
#[napi(object, object_from_js = false)]
pub struct RotationDue {
    /// The spec's token.
    pub token: String,
    /// Its workspace (null for platform tokens).
    pub workspace: Option<String>,
    /// The Wayfinder token in use (with slots, the newer); null when it does not exist.
    pub target: Option<String>,
    /// When a rotation is due (RFC 3339); null: never.
    pub due_at: Option<String>,
    /// Why then (`maxAge 30d`, `expires …`, `does not exist`).
    pub reason: String,
    /// Whether that is within the horizon asked about (or past).
    pub due: bool,
}

impl From<converge::Due> for RotationDue {
    fn from(d: converge::Due) -> RotationDue {
        RotationDue {
            token: d.token,
            workspace: d.workspace,
            target: d.target,
            due_at: d.due_at,
            reason: d.reason,
            due: d.due,
        }
    }
}

/// A spec given as a `TokenSpec` or a path.
pub(crate) fn spec_arg(env: &Env, value: &Unknown<'_>) -> Result<Arc<CoreSpec>> {
    if value.get_type()? == ValueType::String {
        let path = value.coerce_to_string()?.into_utf8()?.into_owned()?;
        return load_spec(env, path).map(|s| s.inner);
    }
    if let Ok(spec) = ClassInstance::<TokenSpec>::from_unknown(*value) {
        return Ok(spec.inner.clone());
    }
    Err(js_error(
        env,
        Failure::Core(wayfinder_tokens::Error::invalid(
            wayfinder_tokens::Field::named("spec"),
            "invalidType",
            "must be a TokenSpec (loadSpec) or the path of a spec file",
        )),
    ))
}

/// What `apply` is given: a `Plan` (applied if it still holds), or a spec planned now.
pub(crate) fn desired(env: &Env, value: &Unknown<'_>, rotate: Vec<String>) -> Result<converge::Desired> {
    if let Ok(plan) = ClassInstance::<Plan>::from_unknown(*value) {
        if !rotate.is_empty() {
            return Err(js_error(
                env,
                Failure::Core(wayfinder_tokens::Error::invalid(
                    wayfinder_tokens::Argument::Names,
                    "invalidValue",
                    "applies to a spec, not to a plan (plan with rotate instead)",
                )),
            ));
        }
        return Ok(converge::Desired::Plan(plan.inner.clone()));
    }
    let options = converge::PlanOptions {
        rotate,
        concurrency: None,
    };
    Ok(converge::Desired::Spec(spec_arg(env, value)?, options))
}
