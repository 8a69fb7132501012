//! Delivery in Python: SPEC strings (or destination objects, whose `str()`
//! is their SPEC) in, `DeliveryReport`s out. The core decides everything.

use std::sync::Arc;

use pyo3::prelude::*;
use wayfinder_tokens::deliver::{Deliverer, DeliveryReport as CoreReport, Destination, Spec};
use wayfinder_tokens::fleet::TokenRef;
use wayfinder_tokens::{Argument, Error, FieldError, IssuedToken as CoreIssued};

use crate::errors::to_py;
use crate::repr::py_repr;

/// The destinations of `deliver=`: an iterable of SPEC strings or objects
/// whose `str()` is one (`wayfinder_tokens.destinations`), each checked.
pub fn specs(py: Python<'_>, deliver: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Vec<Spec>>> {
    let Some(deliver) = deliver.filter(|d| !d.is_none()) else {
        return Ok(None);
    };
    // One destination (a string, a destination object), or an iterable of them.
    let items = match deliver.is_instance_of::<pyo3::types::PyString>() {
        true => return spec_of(py, deliver).map(|s| Some(vec![s])),
        false => match deliver.try_iter() {
            Ok(items) => items,
            Err(_) => return spec_of(py, deliver).map(|s| Some(vec![s])),
        },
    };
    items
        .map(|item| spec_of(py, &item?))
        .collect::<PyResult<Vec<_>>>()
        .map(Some)
}

fn spec_of(py: Python<'_>, item: &Bound<'_, PyAny>) -> PyResult<Spec> {
    // A number or None is no destination, whatever its str() says.
    if item.is_none() || item.is_instance_of::<pyo3::types::PyInt>() || item.is_instance_of::<pyo3::types::PyFloat>() {
        let e = FieldError::about(
            Argument::Deliver,
            "invalidType",
            "must be SPEC strings or destination objects",
        );
        return Err(to_py(py, Error::from_field_errors(vec![e])));
    }
    let text = item.str()?.to_cow()?.into_owned();
    Spec::parse(&text).map_err(|e| to_py(py, e))
}

/// Destinations for one token from `deliver=` of a fleet rotation: the
/// same SPECs for every token (placeholders filled in), or what a callable
/// `(workspace, name) -> iterable` or a mapping keyed `"workspace/name"` gives.
pub fn for_token(py: Python<'_>, deliver: &Bound<'_, PyAny>, workspace: &str, name: &str) -> PyResult<Vec<Spec>> {
    let chosen = if deliver.is_callable() {
        deliver.call1((workspace, name))?
    } else if let Ok(mapping) = deliver.cast::<pyo3::types::PyMapping>() {
        match mapping.get_item(format!("{workspace}/{name}")) {
            Ok(found) => found,
            Err(_) => return Ok(Vec::new()),
        }
    } else {
        deliver.clone()
    };
    Ok(specs(py, Some(&chosen))?.unwrap_or_default())
}

/// One token of a batch and where its new secret goes.
pub type Destinations = (TokenRef, Vec<Destination>);

/// Every token's destinations for a fleet rotation's `deliver=`, each SPEC
/// checked and resolved before anything runs.
pub fn for_batch(
    py: Python<'_>,
    deliver: Option<&Bound<'_, PyAny>>,
    targets: &[TokenRef],
) -> PyResult<Option<Vec<Destinations>>> {
    let Some(deliver) = deliver.filter(|d| !d.is_none()) else {
        return Ok(None);
    };
    let mut tokens = Vec::with_capacity(targets.len());
    for target in targets {
        let specs = for_token(py, deliver, &target.workspace, &target.name)?;
        let destinations = specs
            .iter()
            .map(|s| s.resolve(&target.name, Some(&target.workspace)))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| to_py(py, e))?;
        tokens.push((target.clone(), destinations));
    }
    Ok(Some(tokens))
}

/// A deliverer reading this process's environment (`GITHUB_TOKEN`, `VAULT_ADDR`…).
pub fn deliverer() -> wayfinder_tokens::Result<Deliverer> {
    Deliverer::from_env()
}

/// Delivers an issued token's secret to `specs` (checked first).
pub async fn deliver(issued: CoreIssued, specs: Vec<Spec>) -> wayfinder_tokens::Result<DeliveryReport> {
    let report = deliverer()?.deliver_to(&issued, &specs).await?;
    Ok(DeliveryReport(Arc::new(report)))
}

/// Finishes (or with `list_only`, lists) the deliveries waiting in the recovery store.
pub async fn pending(list_only: bool) -> wayfinder_tokens::Result<Vec<PendingDelivery>> {
    let waiting = deliverer()?.pending(!list_only).await?;
    Ok(waiting
        .into_iter()
        .map(|p| PendingDelivery {
            name: p.name,
            workspace: p.workspace,
            waiting_for: p.waiting_for,
            report: p.report.map(|r| DeliveryReport(Arc::new(r))),
        })
        .collect())
}

/// Where one secret went: each destination verified, or why not, and where
/// the secret waits while a destination lacks it.
#[pyclass(frozen, module = "wayfinder_tokens")]
#[derive(Clone)]
pub struct DeliveryReport(pub Arc<CoreReport>);

#[pymethods]
impl DeliveryReport {
    /// The token's name.
    #[getter]
    fn name(&self) -> &str {
        &self.0.name
    }
    /// Its workspace (None for platform tokens).
    #[getter]
    fn workspace(&self) -> Option<&str> {
        self.0.workspace.as_deref()
    }
    /// True when every destination verified the secret.
    #[getter]
    fn ok(&self) -> bool {
        self.0.is_complete()
    }
    /// The destinations that hold the new secret (their SPECs).
    #[getter]
    fn delivered(&self) -> Vec<String> {
        self.0.delivered().map(str::to_owned).collect()
    }
    /// The destinations that do not, with the error of each (a `WayfinderError`).
    #[getter]
    fn failed(&self, py: Python<'_>) -> Vec<(String, Py<PyAny>)> {
        self.0
            .failed()
            .map(|(d, e)| (d.to_owned(), to_py(py, e.without_source()).into_value(py).into_any()))
            .collect()
    }
    /// `(destination, what verified it)` for each destination that holds it.
    #[getter]
    fn verified(&self) -> Vec<(String, String)> {
        self.0
            .outcomes
            .iter()
            .filter_map(|o| {
                o.result
                    .as_ref()
                    .ok()
                    .map(|detail| (o.destination.clone(), detail.clone()))
            })
            .collect()
    }
    /// The 0600 file holding the secret while a destination lacks it, else None.
    #[getter]
    fn recovery(&self) -> Option<std::path::PathBuf> {
        self.0.recovery.clone()
    }
    /// Raises the first destination's error when any failed.
    fn raise_for_failure(&self, py: Python<'_>) -> PyResult<()> {
        match self.0.failed().next() {
            Some((_, e)) => Err(to_py(py, e.without_source())),
            None => Ok(()),
        }
    }
    fn __repr__(&self) -> String {
        let list =
            |items: Vec<String>| format!("[{}]", items.iter().map(|s| py_repr(s)).collect::<Vec<_>>().join(", "));
        format!(
            "DeliveryReport(name={}, ok={}, delivered={}, failed={})",
            py_repr(&self.0.name),
            if self.0.is_complete() { "True" } else { "False" },
            list(self.delivered()),
            list(self.0.failed().map(|(d, _)| d.to_owned()).collect()),
        )
    }
}

/// A secret that waited in the recovery store: which token, where it still
/// waits to go, and (after a delivery) its report.
#[pyclass(frozen, module = "wayfinder_tokens", get_all)]
pub struct PendingDelivery {
    /// The token's name.
    pub name: String,
    /// Its workspace (None for platform tokens).
    pub workspace: Option<String>,
    /// The destinations that still lack the secret.
    pub waiting_for: Vec<String>,
    /// What delivering it did (None when only listed).
    pub report: Option<DeliveryReport>,
}

#[pymethods]
impl PendingDelivery {
    fn __repr__(&self) -> String {
        format!(
            "PendingDelivery(name={}, workspace={}, waiting_for={:?})",
            py_repr(&self.name),
            self.workspace.as_deref().map_or_else(|| "None".to_owned(), py_repr),
            self.waiting_for
        )
    }
}
