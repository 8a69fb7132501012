//! Fleet operations as Python sees them: `Inventory` (a sequence of
//! `InventoryEntry`), `BatchReport` and `RotationFailure`, with notebook
//! tables and flat records for pandas; progress as a callable, a `tqdm` bar
//! or a stderr line. Every decision stays in core.

use std::path::PathBuf;
use std::sync::Arc;

use crate::errors::PythonSpelling;
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyTuple};
use wayfinder_tokens::fleet::{
    BatchReport as CoreReport, EnvDir, InventoryEntry as CoreEntry, Progress, ProgressFn, SecretSink, TokenRef,
};

use crate::errors::to_py;
use crate::types::{AccessToken, IssuedToken, py_repr};
use wayfinder_tokens::deliver::DeliveryReport as CoreDelivery;

/// One access token of an inventory: what `get` shows, plus its age, expiry and generation.
#[pyclass(frozen, module = "wayfinder_tokens")]
#[derive(Clone)]
pub struct InventoryEntry(pub CoreEntry);

#[pymethods]
impl InventoryEntry {
    /// The token's workspace.
    #[getter]
    fn workspace(&self) -> &str {
        &self.0.workspace
    }
    /// The token's name.
    #[getter]
    fn name(&self) -> &str {
        &self.0.name
    }
    /// Its description, or None.
    #[getter]
    fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// Seconds since its current secret was issued.
    #[getter]
    fn age_seconds(&self) -> i64 {
        self.0.age_seconds
    }
    /// When it expires (RFC 3339), or None.
    #[getter]
    fn expiry(&self) -> Option<&str> {
        self.0.expiry.as_deref()
    }
    /// Seconds until it expires (negative: expired), or None.
    #[getter]
    fn expires_in_seconds(&self) -> Option<i64> {
        self.0.expires_in_seconds
    }
    /// How many secrets it has been issued.
    #[getter]
    fn generation(&self) -> i64 {
        self.0.generation
    }
    /// The object as the server returned it.
    #[getter]
    fn object(&self) -> AccessToken {
        AccessToken(self.0.object.clone())
    }
    fn __repr__(&self) -> String {
        format!(
            "InventoryEntry(workspace={}, name={}, age_seconds={}, generation={})",
            py_repr(&self.0.workspace),
            py_repr(&self.0.name),
            self.0.age_seconds,
            self.0.generation
        )
    }
}

/// The access tokens an inventory found: a sequence of `InventoryEntry`, shown as a table in notebooks.
#[pyclass(frozen, sequence, module = "wayfinder_tokens")]
pub struct Inventory(pub Vec<CoreEntry>);

#[pymethods]
impl Inventory {
    fn __len__(&self) -> usize {
        self.0.len()
    }
    fn __getitem__<'py>(&self, py: Python<'py>, key: &Bound<'py, PyAny>) -> PyResult<Bound<'py, PyAny>> {
        if let Ok(slice) = key.cast::<pyo3::types::PySlice>() {
            // A slice of an inventory is an inventory, as a list's is a list.
            let picked = slice.indices(self.0.len() as isize)?;
            let entries = (0..picked.slicelength)
                .map(|k| self.0[(picked.start + k as isize * picked.step) as usize].clone())
                .collect();
            return Ok(Bound::new(py, Inventory(entries))?.into_any());
        }
        let index: isize = key.extract()?;
        let len = self.0.len() as isize;
        let at = if index < 0 { index + len } else { index };
        usize::try_from(at)
            .ok()
            .and_then(|i| self.0.get(i))
            .map(|e| InventoryEntry(e.clone()))
            .ok_or_else(|| pyo3::exceptions::PyIndexError::new_err("inventory index out of range"))
            .and_then(|e| Ok(Bound::new(py, e)?.into_any()))
    }
    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let entries: Vec<InventoryEntry> = self.0.iter().cloned().map(InventoryEntry).collect();
        PyList::new(py, entries)?.try_iter().map(Bound::into_any)
    }
    fn __repr__(&self) -> String {
        format!("Inventory({} access tokens)", self.0.len())
    }
}

/// A token that did not rotate: why, whether its old secret still works,
/// and the exact call that recovers it.
#[pyclass(frozen, module = "wayfinder_tokens")]
pub struct RotationFailure {
    /// The token's workspace.
    #[pyo3(get)]
    workspace: String,
    /// The token's name.
    #[pyo3(get)]
    name: String,
    /// The error, as the exception it would have raised.
    #[pyo3(get)]
    error: Py<PyAny>,
    /// True: the old secret still works; False: it was replaced and the new one lost; None: unknown.
    #[pyo3(get)]
    old_secret_valid: Option<bool>,
    /// The call that gets the token a working secret.
    #[pyo3(get)]
    recovery: String,
}

#[pymethods]
impl RotationFailure {
    fn __repr__(&self) -> String {
        format!(
            "RotationFailure(workspace={}, name={}, old_secret_valid={})",
            py_repr(&self.workspace),
            py_repr(&self.name),
            match self.old_secret_valid {
                Some(true) => "True",
                Some(false) => "False",
                None => "None",
            }
        )
    }
}

/// What a batch rotation did; one item's failure never raises.
#[pyclass(frozen, module = "wayfinder_tokens")]
pub struct BatchReport {
    report: CoreReport,
    failed: Vec<Py<RotationFailure>>,
    deliveries: Vec<crate::deliver::DeliveryReport>,
}

impl BatchReport {
    pub fn new(py: Python<'_>, report: CoreReport, deliveries: Vec<CoreDelivery>) -> PyResult<BatchReport> {
        let deliveries = deliveries
            .into_iter()
            .map(|d| crate::deliver::DeliveryReport(std::sync::Arc::new(d)))
            .collect();
        let failed = report
            .failed
            .iter()
            .map(|f| {
                let error = to_py(py, f.error.without_source()).into_value(py).into_any();
                Py::new(
                    py,
                    RotationFailure {
                        workspace: f.target.workspace.clone(),
                        name: f.target.name.clone(),
                        error,
                        old_secret_valid: f.old_secret_valid,
                        recovery: f.recovery(&PythonSpelling),
                    },
                )
            })
            .collect::<PyResult<_>>()?;
        Ok(BatchReport {
            report,
            failed,
            deliveries,
        })
    }
}

fn pair<'py>(py: Python<'py>, t: &TokenRef) -> PyResult<Bound<'py, PyTuple>> {
    PyTuple::new(py, [&t.workspace, &t.name])
}

#[pymethods]
impl BatchReport {
    /// The tokens that got a new secret (`IssuedToken`s, with it).
    #[getter]
    fn rotated(&self) -> Vec<IssuedToken> {
        self.report
            .rotated
            .iter()
            .map(|i| IssuedToken::by(i.clone(), false))
            .collect()
    }
    /// The tokens that did not rotate: `RotationFailure`s.
    #[getter]
    fn failed(&self, py: Python<'_>) -> Vec<Py<RotationFailure>> {
        self.failed.iter().map(|f| f.clone_ref(py)).collect()
    }
    /// Dry run: `(workspace, name)` of each token that would rotate.
    #[getter]
    fn would_rotate<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyTuple>>> {
        self.report.would_rotate.iter().map(|t| pair(py, t)).collect()
    }
    /// Interrupted: `(workspace, name)` of each token nothing was sent for.
    #[getter]
    fn not_started<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyTuple>>> {
        self.report.not_started.iter().map(|t| pair(py, t)).collect()
    }
    /// `(workspace, name, error)` of each rotated token whose secret the
    /// `output_dir` or `on_rotated` did not take (it is in `rotated`, and only there).
    #[getter]
    fn undelivered<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyTuple>>> {
        self.report
            .undelivered
            .iter()
            .map(|u| {
                let error = u.error.describe(&PythonSpelling);
                (u.target.workspace.as_str(), u.target.name.as_str(), error).into_pyobject(py)
            })
            .collect()
    }
    /// True when every token rotated and its secret was handed over (and delivered, with `deliver=`).
    #[getter]
    fn ok(&self) -> bool {
        self.report.ok() && self.deliveries.iter().all(|d| d.0.is_complete())
    }
    /// With `deliver=`: one `DeliveryReport` per rotated token, in the order they rotated.
    #[getter]
    fn deliveries(&self) -> Vec<crate::deliver::DeliveryReport> {
        self.deliveries.clone()
    }
    /// One 0600 env file per new secret in `path` (created 0700); returns the files.
    fn write_env_dir(&self, py: Python<'_>, path: PathBuf) -> PyResult<Vec<PathBuf>> {
        py.detach(|| self.report.write_env_dir(&path)).map_err(|e| to_py(py, e))
    }
    /// One JSON object per token and line, the secret under `token` for rotated ones.
    fn to_jsonl(&self, py: Python<'_>) -> PyResult<String> {
        self.report.to_jsonl(&PythonSpelling).map_err(|e| to_py(py, e))
    }
    /// `(workspace, name, status, old_secret_valid, error)` per token, as
    /// the core lines them up: what the table and the records show.
    #[allow(clippy::type_complexity)]
    fn _rows(&self) -> Vec<(String, String, &'static str, Option<bool>, Option<String>)> {
        self.report
            .rows()
            .iter()
            .map(|row| {
                (
                    row.workspace.to_owned(),
                    row.name.to_owned(),
                    row.status.as_str(),
                    row.old_secret_valid,
                    row.error.map(|e| e.describe(&PythonSpelling)),
                )
            })
            .collect()
    }
    fn __repr__(&self) -> String {
        format!(
            "BatchReport(rotated={}, failed={}, would_rotate={}, not_started={}, undelivered={})",
            self.report.rotated.len(),
            self.report.failed.len(),
            self.report.would_rotate.len(),
            self.report.not_started.len(),
            self.report.undelivered.len()
        )
    }
}

/// The tokens a rotation names: `InventoryEntry`s, an `Inventory`,
/// `(workspace, name)` pairs or `{"workspace": …, "name": …}` dicts.
pub fn targets(tokens: &Bound<'_, PyAny>) -> PyResult<Vec<TokenRef>> {
    if let Ok(inventory) = tokens.cast::<Inventory>() {
        return Ok(inventory.get().0.iter().map(CoreEntry::target).collect());
    }
    let mut out = Vec::new();
    for item in tokens.try_iter()? {
        let item = item?;
        if let Ok(entry) = item.cast::<InventoryEntry>() {
            out.push(entry.get().0.target());
        } else if let Ok((workspace, name)) = item.extract::<(String, String)>() {
            out.push(TokenRef { workspace, name });
        } else if let Ok(d) = item.cast::<PyDict>() {
            let get = |k: &str| -> PyResult<String> {
                d.get_item(k)?
                    .ok_or_else(|| PyTypeError::new_err(format!("a token dict needs {k:?}")))?
                    .extract()
            };
            out.push(TokenRef {
                workspace: get("workspace")?,
                name: get("name")?,
            });
        } else {
            return Err(PyTypeError::new_err(
                "tokens must be InventoryEntry objects, an Inventory, (workspace, name) pairs or dicts",
            ));
        }
    }
    Ok(out)
}

/// What `progress=` asks for: a callable `(done, total, (workspace, name))`,
/// or True for the package's own bar (`wayfinder_tokens._present.ProgressBar`).
pub struct ProgressSink {
    callback: Option<Py<PyAny>>,
    /// The package's bar, closed when the batch ends.
    bar: bool,
}

impl ProgressSink {
    pub fn new(py: Python<'_>, progress: Option<&Bound<'_, PyAny>>, total: usize) -> PyResult<ProgressSink> {
        let callback = match progress.filter(|p| !p.is_none()) {
            Some(p) if p.is_callable() => Some((p.clone().unbind(), false)),
            Some(p) if p.is_truthy()? => {
                let bar = py
                    .import("wayfinder_tokens._present")?
                    .getattr("ProgressBar")?
                    .call1((total,))?;
                Some((bar.unbind(), true))
            }
            _ => None,
        };
        Ok(ProgressSink {
            bar: callback.as_ref().is_some_and(|(_, bar)| *bar),
            callback: callback.map(|(c, _)| c),
        })
    }

    /// The core callback, or None when nothing listens.
    pub fn callback(self: &Arc<Self>) -> Option<ProgressFn> {
        self.callback.as_ref()?;
        let sink = Arc::clone(self);
        Some(Arc::new(move |p: &Progress| Python::attach(|py| sink.report(py, p))))
    }

    fn report(&self, py: Python<'_>, p: &Progress) {
        let Some(callback) = &self.callback else { return };
        // A failing callback must not stop the batch; Python reports it.
        if let Err(e) = pair(py, &p.item).and_then(|item| callback.call1(py, (p.done, p.total, item)).map(drop)) {
            e.write_unraisable(py, None);
        }
    }

    /// Closes the package's bar.
    pub fn finish(&self, py: Python<'_>) {
        if let (true, Some(bar)) = (self.bar, &self.callback)
            && let Err(e) = bar.call_method0(py, "close")
        {
            e.write_unraisable(py, None);
        }
    }
}

/// Where a rotation's new secrets go as they are issued: an env file in
/// `output_dir` (checked, or created 0700, now: before any reset) and the
/// `on_rotated(issued)` callable. An exception from the callable keeps the
/// secret in the report and lists the token as undelivered.
pub fn secret_sink(
    py: Python<'_>,
    output_dir: Option<PathBuf>,
    on_rotated: Option<&Bound<'_, PyAny>>,
) -> PyResult<Option<SecretSink>> {
    let dir = output_dir
        .map(|d| EnvDir::open(&d))
        .transpose()
        .map_err(|e| to_py(py, e))?;
    let callback = match on_rotated.filter(|c| !c.is_none()) {
        Some(c) if c.is_callable() => Some(c.clone().unbind()),
        Some(_) => {
            return Err(PyTypeError::new_err(
                "on_rotated must be a callable taking an IssuedToken",
            ));
        }
        None => None,
    };
    let then = callback.map(|callback| -> SecretSink {
        Arc::new(move |issued: &wayfinder_tokens::IssuedToken| {
            Python::attach(|py| {
                callback
                    .call1(py, (IssuedToken::by(issued.clone(), false),))
                    .map(drop)
                    .map_err(|e| {
                        let secret = issued.token.as_ref().map(|t| t.expose().to_owned()).unwrap_or_default();
                        let said = e.to_string();
                        let said = if secret.is_empty() {
                            said
                        } else {
                            said.replace(&secret, "<redacted>")
                        };
                        wayfinder_tokens::Error::Config {
                            message: format!("on_rotated raised {said}"),
                            source: None,
                        }
                    })
            })
        })
    });
    Ok(wayfinder_tokens::fleet::sinks(dir, then))
}

/// A core report on its way to Python (converted with the GIL held).
pub struct ReportOut(pub CoreReport, pub Vec<CoreDelivery>);

impl<'py> IntoPyObject<'py> for ReportOut {
    type Target = BatchReport;
    type Output = Bound<'py, BatchReport>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Self::Output> {
        Bound::new(py, BatchReport::new(py, self.0, self.1)?)
    }
}
