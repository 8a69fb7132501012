//! `wayfinder_tokens.testing.Emulator`: the embedded emulator, for users'
//! own tests. It runs on the shared runtime.

use std::path::PathBuf;
use std::sync::Mutex;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyTuple};
use wayfinder_emulator::catalog::KnownRole;
use wayfinder_emulator::{Emulator as CoreEmulator, Fault, LocalUser};
use wayfinder_tokens::{Error, Field, FieldError};

use crate::asyncio::{awaitable, ready, runtime};
use crate::client::whole_number_arg;
use crate::errors::{invalid, to_py};

/// A running emulator of the Wayfinder API on loopback. A context manager
/// (sync and async); `stop()` ends it.
#[pyclass(frozen, module = "wayfinder_tokens.testing")]
pub struct Emulator {
    url: String,
    admin_token: String,
    running: Mutex<Option<CoreEmulator>>,
}

impl Emulator {
    fn with_running<T>(&self, py: Python<'_>, f: impl FnOnce(&CoreEmulator) -> T) -> PyResult<T> {
        let guard = self.running.lock().unwrap_or_else(|e| e.into_inner());
        match guard.as_ref() {
            Some(e) => Ok(f(e)),
            None => Err(to_py(
                py,
                Error::invalid(Field::named("emulator"), "invalidValue", "is stopped"),
            )),
        }
    }

    fn take(&self) -> Option<CoreEmulator> {
        self.running.lock().unwrap_or_else(|e| e.into_inner()).take()
    }
}

#[pymethods]
impl Emulator {
    #[new]
    #[pyo3(signature = (admin_token=None, users=None, data=None, *, api_group_version=None, workspaces=None, known_roles=None))]
    fn new(
        py: Python<'_>,
        admin_token: Option<String>,
        users: Option<Vec<String>>,
        data: Option<PathBuf>,
        api_group_version: Option<String>,
        workspaces: Option<Vec<String>>,
        known_roles: Option<Vec<String>>,
    ) -> PyResult<Self> {
        let mut builder = CoreEmulator::builder();
        for workspace in workspaces.unwrap_or_default() {
            builder = builder.workspace(workspace);
        }
        for spec in known_roles.unwrap_or_default() {
            let role: KnownRole = spec
                .parse()
                .map_err(|e| invalid(py, "known_roles", format!("entry is invalid: {e}")))?;
            builder = builder.known_role(role);
        }
        for spec in users.unwrap_or_default() {
            let user: LocalUser = spec
                .parse()
                .map_err(|e| invalid(py, "users", format!("entry is invalid: {e}")))?;
            builder = builder.user(user);
        }
        if let Some(token) = admin_token {
            builder = builder.admin_token(token);
        }
        if let Some(path) = data {
            builder = builder.data(path);
        }
        if let Some(gv) = api_group_version {
            builder = builder.api_group_version(gv);
        }
        let emulator = py.detach(|| runtime().block_on(builder.start())).map_err(|e| {
            to_py(
                py,
                Error::invalid(Field::named("emulator"), "invalidValue", format!("cannot start: {e}")),
            )
        })?;
        Ok(Emulator {
            url: emulator.url().to_owned(),
            admin_token: emulator.admin_token().to_owned(),
            running: Mutex::new(Some(emulator)),
        })
    }

    /// The base URL, e.g. `http://127.0.0.1:41234`.
    #[getter]
    fn url(&self) -> &str {
        &self.url
    }

    /// The admin's static token.
    #[getter]
    fn admin_token(&self) -> &str {
        &self.admin_token
    }

    /// Makes the next `times` requests under `path_prefix` misbehave.
    #[pyo3(signature = (path_prefix, *, status=None, times=None, retry_after_s=None, delay_ms=None,
                        drop_connection=false, drop_answer=false, malformed_body=false, body_bytes=None, body=None))]
    #[allow(clippy::too_many_arguments)]
    fn inject_fault(
        &self,
        py: Python<'_>,
        path_prefix: String,
        status: Option<Bound<'_, PyAny>>,
        times: Option<Bound<'_, PyAny>>,
        retry_after_s: Option<Bound<'_, PyAny>>,
        delay_ms: Option<Bound<'_, PyAny>>,
        drop_connection: bool,
        drop_answer: bool,
        malformed_body: bool,
        body_bytes: Option<Bound<'_, PyAny>>,
        body: Option<String>,
    ) -> PyResult<()> {
        let number = |field: &str, value: Option<Bound<'_, PyAny>>, max: u64| {
            whole_number_arg(py, Field::named(field), value.as_ref(), max)
        };
        let fault = Fault {
            path_prefix,
            status: number("status", status, u64::from(u16::MAX))?.map(|n| n as u16),
            times: number("times", times, u64::from(u32::MAX))?.map_or(1, |n| n as u32),
            retry_after_s: number("retry_after_s", retry_after_s, u64::from(u32::MAX))?,
            delay_ms: number("delay_ms", delay_ms, u64::from(u32::MAX))?,
            drop_connection,
            drop_answer,
            malformed_body,
            body_bytes: number("body_bytes", body_bytes, u64::from(u32::MAX))?.map(|n| n as usize),
            body,
        };
        self.with_running(py, |e| e.inject_fault(fault))?.map_err(|sentence| {
            to_py(
                py,
                Error::from_field_errors(vec![FieldError::new(Field::named("fault"), "invalidValue", sentence)]),
            )
        })
    }

    /// Removes every injected fault.
    fn clear_faults(&self, py: Python<'_>) -> PyResult<()> {
        self.with_running(py, CoreEmulator::clear_faults)
    }

    /// `{"requests": {"METHOD /path": count}, "total": n}`.
    fn stats<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let snapshot = self.with_running(py, CoreEmulator::stats)?;
        let dict = PyDict::new(py);
        dict.set_item("requests", snapshot.requests)?;
        dict.set_item("total", snapshot.total)?;
        Ok(dict)
    }

    /// Forgets the requests counted so far.
    fn reset_stats(&self, py: Python<'_>) -> PyResult<()> {
        self.with_running(py, CoreEmulator::reset_stats)
    }

    /// Stops the server (idempotent).
    fn stop(&self, py: Python<'_>) {
        if let Some(emulator) = self.take() {
            py.detach(|| runtime().block_on(emulator.shutdown()));
        }
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, py: Python<'_>, _exc: &Bound<'_, PyTuple>) {
        self.stop(py);
    }

    fn __aenter__(slf: Py<Self>, py: Python<'_>) -> PyResult<Py<PyAny>> {
        ready(py, slf)
    }

    #[pyo3(signature = (*_exc))]
    fn __aexit__(&self, py: Python<'_>, _exc: &Bound<'_, PyTuple>) -> PyResult<Py<PyAny>> {
        let running = self.take();
        awaitable(py, async move {
            if let Some(emulator) = running {
                emulator.shutdown().await;
            }
            Ok(())
        })
    }

    fn __repr__(&self) -> String {
        let state = if self.running.lock().map(|r| r.is_some()).unwrap_or(false) {
            "running"
        } else {
            "stopped"
        };
        format!(
            "Emulator(url={}, admin_token=<redacted>, {state})",
            crate::types::py_repr(&self.url)
        )
    }
}
