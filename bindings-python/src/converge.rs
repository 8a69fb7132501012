//! Tokens as code in Python: `load_spec`, and the clients' `plan`, `apply`
//! and `check`. The core plans and applies; these classes carry its data.

use std::path::PathBuf;
use std::sync::Arc;

use pyo3::prelude::*;
use wayfinder_tokens::converge::{self, ApplyReport as CoreReport, Plan as CorePlan, TokenSpec as CoreSpec};
use wayfinder_tokens::{Client as CoreClient, Error};

use crate::errors::to_py;
use crate::repr::py_repr;

/// A tokens spec file (`apiVersion: wayfinder-tokens/v1`), read and checked.
#[pyclass(frozen, module = "wayfinder_tokens")]
#[derive(Clone)]
pub struct TokenSpec(pub Arc<CoreSpec>);

#[pymethods]
impl TokenSpec {
    /// Where it was read from.
    #[getter]
    fn source(&self) -> &str {
        &self.0.source
    }
    /// `workspace/name` of each token, in the file's order (`platform/name` for platform tokens).
    #[getter]
    fn tokens(&self) -> Vec<String> {
        self.0.tokens.iter().map(converge::DesiredToken::label).collect()
    }
    fn __len__(&self) -> usize {
        self.0.tokens.len()
    }
    fn __repr__(&self) -> String {
        format!("TokenSpec({}, tokens={})", py_repr(&self.0.source), self.0.tokens.len())
    }
}

/// Reads the spec at `path` and checks it: every problem (unknown keys,
/// duplicates, a role of the wrong kind, a bad duration or SPEC) in one
/// `ValidationError`, each with its line and column, before any request.
#[pyfunction]
pub fn load_spec(py: Python<'_>, path: PathBuf) -> PyResult<TokenSpec> {
    CoreSpec::load(&path)
        .map(|s| TokenSpec(Arc::new(s)))
        .map_err(|e| to_py(py, e))
}

/// A spec from `text` (YAML); `source` names it in errors.
#[pyfunction]
#[pyo3(signature = (text, source = "<string>"))]
pub fn parse_spec(py: Python<'_>, text: &str, source: &str) -> PyResult<TokenSpec> {
    CoreSpec::parse(text, source)
        .map(|s| TokenSpec(Arc::new(s)))
        .map_err(|e| to_py(py, e))
}

/// A spec from a `TokenSpec` or a path.
pub fn spec_arg(py: Python<'_>, spec: &Bound<'_, PyAny>) -> PyResult<Arc<CoreSpec>> {
    if let Ok(spec) = spec.cast::<TokenSpec>() {
        return Ok(spec.get().0.clone());
    }
    match spec.extract::<PathBuf>() {
        Ok(path) => load_spec(py, path).map(|s| s.0),
        Err(_) => Err(to_py(
            py,
            Error::invalid(
                wayfinder_tokens::Field::named("spec"),
                "invalidType",
                "must be a TokenSpec (load_spec) or the path of a spec file",
            ),
        )),
    }
}

/// What apply would do: its changes (never a secret), the drift it leaves alone.
#[pyclass(frozen, module = "wayfinder_tokens")]
#[derive(Clone)]
pub struct Plan(pub Arc<CorePlan>);

fn json_to_py(py: Python<'_>, value: &impl serde::Serialize) -> PyResult<Py<PyAny>> {
    let text = serde_json::to_string(value).map_err(|e| to_py(py, Error::config(e.to_string())))?;
    Ok(py.import("json")?.call_method1("loads", (text,))?.unbind())
}

#[pymethods]
impl Plan {
    /// True when apply has something to do.
    #[getter]
    fn has_changes(&self) -> bool {
        self.0.has_changes()
    }
    /// Each change as a dict (`action`, `token`, `workspace`, `target`, and the action's own keys).
    #[getter]
    fn changes(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        json_to_py(py, &self.0.changes)
    }
    /// Each difference apply leaves alone, as a dict (`drift`: `role`, `unmanaged` or `description`).
    #[getter]
    fn drift(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        json_to_py(py, &self.0.drift)
    }
    /// The requests the plan made: `{"wayfinder": n, "destinations": n}`.
    #[getter]
    fn requests(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        json_to_py(py, &self.0.requests)
    }
    /// One line per change, one per drift, then the summary.
    fn lines(&self) -> Vec<String> {
        self.0.lines()
    }
    /// `(sign, action, subject, detail)` per change, then `("!", "drift", subject, detail)` per drift.
    fn _rows(&self) -> Vec<(String, String, String, String)> {
        let changes = self
            .0
            .changes
            .iter()
            .map(|c| (c.sign().to_string(), c.verb().to_owned(), c.subject(), c.detail()));
        let drift = self
            .0
            .drift
            .iter()
            .map(|d| ("!".to_owned(), "drift".to_owned(), d.subject(), d.describe()));
        changes.chain(drift).collect()
    }
    /// The summary line.
    #[getter]
    fn summary(&self) -> String {
        self.0.summary()
    }
    fn __len__(&self) -> usize {
        self.0.changes.len()
    }
    fn __bool__(&self) -> bool {
        self.0.has_changes()
    }
    fn __str__(&self) -> String {
        self.0.lines().join("\n")
    }
    fn __repr__(&self) -> String {
        format!(
            "Plan(changes={}, drift={}, tokens={})",
            self.0.changes.len(),
            self.0.drift.len(),
            self.0.tokens
        )
    }
}

/// What apply did: each change with its result, each delivery's report.
#[pyclass(frozen, module = "wayfinder_tokens")]
#[derive(Clone)]
pub struct ApplyReport(pub Arc<CoreReport>, pub Arc<CorePlan>);

#[pymethods]
impl ApplyReport {
    /// True when every change was made.
    #[getter]
    fn ok(&self) -> bool {
        self.0.ok()
    }
    /// Each change as a dict, with `done` (what it did) or `error` (`code`, `message`).
    #[getter]
    fn applied(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let list: Vec<serde_json::Value> = self.0.applied.iter().map(converge::Applied::to_value).collect();
        json_to_py(py, &list)
    }
    /// The drift apply left alone (as in `Plan.drift`).
    #[getter]
    fn drift(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        json_to_py(py, &self.1.drift)
    }
    /// Each delivery's report.
    #[getter]
    fn deliveries(&self) -> Vec<crate::deliver::DeliveryReport> {
        self.0
            .deliveries
            .iter()
            .map(|d| crate::deliver::DeliveryReport(Arc::new(d.copy())))
            .collect()
    }
    /// `(action, subject, done or None, error message or None)` per change.
    fn _rows(&self) -> Vec<(String, String, Option<String>, Option<String>)> {
        self.0
            .applied
            .iter()
            .map(|a| {
                let (done, error) = match &a.result {
                    Ok(done) => (Some(done.clone()), None),
                    Err(e) => (None, Some(e.message().into_owned())),
                };
                (a.change.verb().to_owned(), a.change.subject(), done, error)
            })
            .collect()
    }
    /// One line per change, then the summary.
    fn lines(&self) -> Vec<String> {
        let mut lines: Vec<String> = self.0.applied.iter().map(converge::Applied::line).collect();
        lines.push(self.0.summary());
        lines
    }
    /// Raises the first change's error, if any failed.
    fn raise_for_failure(&self, py: Python<'_>) -> PyResult<()> {
        match self.0.failed().next() {
            Some(a) => Err(to_py(
                py,
                a.result
                    .as_ref()
                    .err()
                    .map(Error::without_source)
                    .unwrap_or_else(|| Error::config("failed")),
            )),
            None => Ok(()),
        }
    }
    fn __len__(&self) -> usize {
        self.0.applied.len()
    }
    fn __str__(&self) -> String {
        self.lines().join("\n")
    }
    fn __repr__(&self) -> String {
        format!(
            "ApplyReport(ok={}, applied={}, failed={})",
            if self.0.ok() { "True" } else { "False" },
            self.0.applied.len(),
            self.0.failed().count()
        )
    }
}

/// When one token of a spec is next due to rotate.
#[pyclass(frozen, module = "wayfinder_tokens", get_all)]
pub struct RotationDue {
    /// The spec's token.
    pub token: String,
    /// Its workspace (None for platform tokens).
    pub workspace: Option<String>,
    /// The Wayfinder token in use (with slots, the newer); None when it does not exist.
    pub target: Option<String>,
    /// When a rotation is due (RFC 3339); None: never.
    pub due_at: Option<String>,
    /// Why then (`maxAge 30d`, `expires …`, `does not exist`).
    pub reason: String,
    /// Whether that is within the horizon asked about (or past).
    pub due: bool,
}

#[pymethods]
impl RotationDue {
    fn __repr__(&self) -> String {
        format!(
            "RotationDue(token={}, workspace={}, due_at={}, due={})",
            py_repr(&self.token),
            self.workspace.as_deref().map_or_else(|| "None".to_owned(), py_repr),
            self.due_at.as_deref().map_or_else(|| "None".to_owned(), py_repr),
            if self.due { "True" } else { "False" }
        )
    }
}

/// `plan(spec)` on `client`.
pub async fn plan(client: CoreClient, spec: Arc<CoreSpec>, rotate: Vec<String>) -> wayfinder_tokens::Result<Plan> {
    let deliverer = crate::deliver::deliverer()?;
    let options = converge::PlanOptions {
        rotate,
        concurrency: None,
    };
    converge::plan(&client, &deliverer, &spec, &options)
        .await
        .map(|p| Plan(Arc::new(p)))
}

/// `apply(plan or spec)` on `client`; once `stop` is cancelled, no token's work starts.
pub async fn apply(
    client: CoreClient,
    desired: converge::Desired,
    stop: wayfinder_tokens::fleet::CancellationToken,
) -> wayfinder_tokens::Result<ApplyReport> {
    let deliverer = crate::deliver::deliverer()?;
    let (made, report) = converge::apply_until(&client, &deliverer, desired, stop).await?;
    Ok(ApplyReport(Arc::new(report), made))
}

/// `check(spec)` on `client`.
pub async fn check(
    client: CoreClient,
    spec: Arc<CoreSpec>,
    within: std::time::Duration,
) -> wayfinder_tokens::Result<Vec<RotationDue>> {
    Ok(converge::check(&client, &spec, within)
        .await?
        .into_iter()
        .map(|d| RotationDue {
            token: d.token,
            workspace: d.workspace,
            target: d.target,
            due_at: d.due_at,
            reason: d.reason,
            due: d.due,
        })
        .collect())
}

/// The spec's JSON Schema, for editors.
#[pyfunction]
pub fn spec_schema() -> &'static str {
    converge::JSON_SCHEMA
}
