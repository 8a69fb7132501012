//! Result types: thin Python classes over the core types. Their repr and
//! Jupyter display never show a secret.

pub use crate::repr::py_repr;
use std::path::PathBuf;

use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};
use serde_json::Value;
use wayfinder_tokens::{IssuedToken as CoreIssued, Secret, config, github, render};

use crate::errors::to_py;

/// Converts JSON into Python objects (dict, list, str, int, float, bool, None).
pub fn json_to_py<'py>(py: Python<'py>, value: &Value) -> PyResult<Bound<'py, PyAny>> {
    Ok(match value {
        Value::Null => py.None().into_bound(py),
        Value::Bool(b) => b.into_pyobject(py)?.to_owned().into_any(),
        Value::Number(n) => match (n.as_i64(), n.as_f64()) {
            (Some(i), _) => i.into_pyobject(py)?.into_any(),
            (None, Some(f)) => f.into_pyobject(py)?.into_any(),
            (None, None) => n.to_string().into_pyobject(py)?.into_any(),
        },
        Value::String(s) => s.into_pyobject(py)?.into_any(),
        Value::Array(items) => {
            let list = PyList::empty(py);
            for item in items {
                list.append(json_to_py(py, item)?)?;
            }
            list.into_any()
        }
        Value::Object(map) => {
            let dict = PyDict::new(py);
            for (k, v) in map {
                dict.set_item(k, json_to_py(py, v)?)?;
            }
            dict.into_any()
        }
    })
}

fn to_dict<'py, T: serde::Serialize>(py: Python<'py>, value: &T) -> PyResult<Bound<'py, PyAny>> {
    let json = serde_json::to_value(value).map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?;
    json_to_py(py, &json)
}

fn opt_repr(value: Option<&str>) -> String {
    value.map_or_else(|| "None".to_owned(), py_repr)
}

fn list_repr(values: &[String]) -> String {
    format!("[{}]", values.iter().map(|v| py_repr(v)).collect::<Vec<_>>().join(", "))
}

/// An access token object as the server returned it. Never holds a secret.
#[pyclass(frozen, module = "wayfinder_tokens", eq)]
#[derive(Clone, PartialEq)]
pub struct AccessToken(pub wayfinder_tokens::AccessToken);

#[pymethods]
impl AccessToken {
    /// Reads an object in the API's shape (as `to_dict` returns it).
    #[staticmethod]
    fn from_dict(py: Python<'_>, data: &Bound<'_, PyAny>) -> PyResult<Self> {
        let text: String = py.import("json")?.call_method1("dumps", (data,))?.extract()?;
        serde_json::from_str(&text)
            .map(AccessToken)
            .map_err(|e| crate::errors::invalid(py, "data", format!("is not an access token object: {e}")))
    }

    /// The token's name.
    #[getter]
    fn name(&self) -> &str {
        self.0.name()
    }
    /// Its workspace (None for platform tokens).
    #[getter]
    fn workspace(&self) -> Option<&str> {
        self.0.workspace()
    }
    /// `WorkspaceAccessToken` or `PlatformAccessToken`.
    #[getter]
    fn kind(&self) -> &str {
        &self.0.kind
    }
    /// Its description, or None.
    #[getter]
    fn description(&self) -> Option<&str> {
        self.0.description()
    }
    /// When it expires (RFC 3339), or None.
    #[getter]
    fn expiry(&self) -> Option<&str> {
        self.0.expiry()
    }
    /// When it was created (RFC 3339).
    #[getter]
    fn created(&self) -> Option<&str> {
        self.0.created()
    }
    /// How many secrets it has been issued.
    #[getter]
    fn generation(&self) -> i64 {
        self.0.generation()
    }
    /// When its current secret was issued (RFC 3339), or None.
    #[getter]
    fn last_issued(&self) -> Option<&str> {
        self.0.last_issued()
    }
    /// The object's unique id.
    #[getter]
    fn uid(&self) -> Option<&str> {
        self.0.metadata.uid.as_deref()
    }
    /// The whole object, as the API returned it.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_dict(py, &self.0)
    }
    fn __repr__(&self) -> String {
        format!(
            "AccessToken(name={}, workspace={}, description={}, created={}, generation={})",
            py_repr(self.0.name()),
            opt_repr(self.0.workspace()),
            opt_repr(self.0.description()),
            opt_repr(self.0.created()),
            self.0.generation()
        )
    }
}

/// A token just created or reset. `token` is the secret (None for a dry run).
#[pyclass(frozen, module = "wayfinder_tokens")]
pub struct IssuedToken(pub CoreIssued, pub Issued);

/// What a binding knows of an issued token beyond the core's data.
#[derive(Clone, Default)]
pub struct Issued {
    /// Where `deliver=` put its secret.
    pub delivery: Option<crate::deliver::DeliveryReport>,
    /// From an `AsyncClient`: its `deliver()` returns an awaitable.
    pub asynchronous: bool,
}

impl IssuedToken {
    /// A token issued by a client (`asynchronous`: an `AsyncClient`).
    pub fn by(issued: CoreIssued, asynchronous: bool) -> IssuedToken {
        IssuedToken(
            issued,
            Issued {
                delivery: None,
                asynchronous,
            },
        )
    }

    fn render(&self, py: Python<'_>, f: fn(&CoreIssued) -> wayfinder_tokens::Result<String>) -> PyResult<String> {
        f(&self.0).map_err(|e| to_py(py, e))
    }
}

#[pymethods]
impl IssuedToken {
    #[new]
    #[pyo3(signature = (name, server, token=None, *, workspace=None, description=None))]
    fn new(
        name: String,
        server: String,
        token: Option<String>,
        workspace: Option<String>,
        description: Option<String>,
    ) -> Self {
        let issued = CoreIssued {
            name,
            workspace,
            server,
            description,
            token: token.map(Secret::new),
            expires: None,
            resource: Default::default(),
        };
        IssuedToken(issued, Issued::default())
    }
    /// Where `deliver=` put the secret (a `DeliveryReport`), or None.
    #[getter]
    fn delivery(&self) -> Option<crate::deliver::DeliveryReport> {
        self.1.delivery.clone()
    }
    /// Delivers the secret to `destinations` (SPEC strings such as "github:acme/app" or
    /// "vault:secret/ci/app", or `wayfinder_tokens.destinations` objects), each checked first;
    /// returns a `DeliveryReport` (awaitable for tokens from an `AsyncClient`). What a
    /// destination did not take waits, 0600, in the recovery store (`deliver_pending()`).
    fn deliver(&self, py: Python<'_>, destinations: Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        let specs = crate::deliver::specs(py, Some(&destinations))?.unwrap_or_default();
        let issued = self.0.clone();
        let work = crate::deliver::deliver(issued, specs);
        match self.1.asynchronous {
            true => crate::coroutine::coroutine(py, "deliver", work),
            false => crate::blocking::blocking(py, "deliver", work),
        }
    }
    /// A Kubernetes `Secret` manifest (YAML) holding the three values, labelled with the token's
    /// name, workspace and generation: for `kubectl apply -f -`.
    #[pyo3(signature = (prefix=""))]
    fn to_kubernetes_secret(&self, py: Python<'_>, prefix: &str) -> PyResult<String> {
        wayfinder_tokens::deliver::kubernetes_secret(&self.0, prefix).map_err(|e| to_py(py, e))
    }
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
    /// The server's URL.
    #[getter]
    fn server(&self) -> &str {
        &self.0.server
    }
    /// Its description, or None.
    #[getter]
    fn description(&self) -> Option<&str> {
        self.0.description.as_deref()
    }
    /// The secret. Shown only once by the server: store it now.
    #[getter]
    fn token(&self) -> Option<&str> {
        self.0.token.as_ref().map(Secret::expose)
    }
    /// When the secret expires (Unix seconds), or None.
    #[getter]
    fn expires(&self) -> Option<i64> {
        self.0.expires
    }
    /// True for a dry run: nothing was created and there is no secret.
    #[getter]
    fn dry_run(&self) -> bool {
        self.0.is_dry_run()
    }
    /// The object as the server returned it.
    #[getter]
    fn resource(&self) -> AccessToken {
        AccessToken(self.0.resource.clone())
    }
    /// The variables with comments, for reading and pasting into a CI's secrets.
    fn to_env(&self, py: Python<'_>) -> PyResult<String> {
        self.render(py, render::env)
    }
    /// `KEY=value` lines (single-quoted where needed), for `> token.env`.
    fn to_export(&self, py: Python<'_>) -> PyResult<String> {
        self.render(py, render::export)
    }
    /// `export KEY='value'` lines, for `eval "$(...)"` in a shell.
    fn to_shell(&self, py: Python<'_>) -> PyResult<String> {
        self.render(py, render::shell)
    }
    /// A wf config file holding the token, as YAML.
    fn to_config_yaml(&self, py: Python<'_>) -> PyResult<String> {
        self.render(py, wayfinder_tokens::config::yaml_for_token)
    }
    /// A wf config file holding the token, as a dict.
    fn to_config<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let config = wayfinder_tokens::config::for_token(&self.0).map_err(|e| to_py(py, e))?;
        to_dict(py, &config)
    }
    /// The token as JSON (with its secret: the caller asked for it).
    fn to_json(&self, py: Python<'_>) -> PyResult<String> {
        self.render(py, render::json)
    }
    /// The token as YAML (with its secret).
    fn to_yaml(&self, py: Python<'_>) -> PyResult<String> {
        self.render(py, render::yaml)
    }
    /// Hands the token to the later steps of a GitHub Actions job: masks it in
    /// the log and sets this step's outputs (`$GITHUB_OUTPUT`), so later steps keep
    /// the job's own credentials. `env=True` also sets the variables for every later
    /// step (`$GITHUB_ENV`): without a `prefix` they then run as this new token.
    /// Raises `ConfigError` before writing anything when a file is missing or is
    /// stdout. Returns the files written.
    #[pyo3(signature = (*, prefix=None, env=false, output_file=None, env_file=None))]
    fn export_to_github_actions(
        &self,
        py: Python<'_>,
        prefix: Option<String>,
        env: bool,
        output_file: Option<PathBuf>,
        env_file: Option<PathBuf>,
    ) -> PyResult<Vec<PathBuf>> {
        let handoff = github::Handoff {
            prefix: prefix.unwrap_or_default(),
            env,
            output_file,
            env_file,
        };
        py.detach(|| github::export(&self.0, &handoff))
            .map_err(|e| to_py(py, e))
    }
    /// The fields of `to_json` as a dict, without the secret unless `include_secret=True`.
    #[pyo3(signature = (*, include_secret=false))]
    fn to_dict<'py>(&self, py: Python<'py>, include_secret: bool) -> PyResult<Bound<'py, PyAny>> {
        let mut json = serde_json::to_value(render::summary(&self.0))
            .map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))?;
        if !include_secret && let Some(map) = json.as_object_mut() {
            map.remove("token");
        }
        json_to_py(py, &json)
    }
    /// Writes a standalone wf config holding just this token (atomic, mode 0600).
    fn write_config(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        py.detach(|| config::write_config(&self.0, &path))
            .map_err(|e| to_py(py, e))
    }
    /// Merges this token as a profile into a config file (the user's own by default) under its lock,
    /// keeping every other profile and key. Returns the file's `Path`.
    #[pyo3(signature = (config_path=None, profile=None, make_current=false))]
    fn save_profile(
        &self,
        py: Python<'_>,
        config_path: Option<PathBuf>,
        profile: Option<String>,
        make_current: bool,
    ) -> PyResult<PathBuf> {
        py.detach(|| config::save_profile(&self.0, config_path.as_deref(), profile.as_deref(), make_current, None))
            .map_err(|e| to_py(py, e))
    }
    fn __repr__(&self) -> String {
        let token = if self.0.token.is_some() { "<redacted>" } else { "None" };
        format!(
            "IssuedToken(name={}, workspace={}, server={}, description={}, token={token})",
            py_repr(&self.0.name),
            opt_repr(self.0.workspace.as_deref()),
            py_repr(&self.0.server),
            opt_repr(self.0.description.as_deref()),
        )
    }
}

/// A cluster access role granted to a token.
#[pyclass(frozen, module = "wayfinder_tokens", eq)]
#[derive(Clone, PartialEq)]
pub struct AccessRole(pub wayfinder_tokens::AccessRole);

#[pymethods]
impl AccessRole {
    /// The role, e.g. namespace.admin.
    #[getter]
    fn role(&self) -> &str {
        &self.0.role
    }
    /// The cluster it applies in, or None.
    #[getter]
    fn cluster(&self) -> Option<&str> {
        self.0.cluster.as_deref()
    }
    /// The namespace it applies in, or None.
    #[getter]
    fn namespace(&self) -> Option<&str> {
        self.0.namespace.as_deref()
    }
    /// The object as a dict, in the API's shape.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_dict(py, &self.0)
    }
    fn __repr__(&self) -> String {
        format!(
            "AccessRole(role={}, cluster={}, namespace={})",
            py_repr(&self.0.role),
            opt_repr(self.0.cluster.as_deref()),
            opt_repr(self.0.namespace.as_deref())
        )
    }
}

/// Everything granted to a token.
#[pyclass(frozen, module = "wayfinder_tokens", eq)]
#[derive(Clone, PartialEq)]
pub struct Roles(pub wayfinder_tokens::Roles);

#[pymethods]
impl Roles {
    /// Roles in the workspace's clusters.
    #[getter]
    fn access_roles(&self) -> Vec<AccessRole> {
        self.0.access_roles.iter().cloned().map(AccessRole).collect()
    }
    /// Roles in Wayfinder itself.
    #[getter]
    fn wayfinder_roles(&self) -> Vec<String> {
        self.0.wayfinder_roles.clone()
    }
    /// The object as a dict, in the API's shape.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_dict(py, &self.0)
    }
    fn __repr__(&self) -> String {
        let access: Vec<String> = self.access_roles().iter().map(AccessRole::__repr__).collect();
        format!(
            "Roles(access_roles=[{}], wayfinder_roles={})",
            access.join(", "),
            list_repr(&self.0.wayfinder_roles)
        )
    }
}

/// Who a client is authenticated as.
#[pyclass(frozen, module = "wayfinder_tokens", eq)]
#[derive(Clone, PartialEq)]
pub struct WhoAmI(pub wayfinder_tokens::WhoAmI);

#[pymethods]
impl WhoAmI {
    /// How the caller authenticated.
    #[getter]
    fn auth_method(&self) -> &str {
        &self.0.auth_method
    }
    /// Who the caller is.
    #[getter]
    fn username(&self) -> &str {
        &self.0.username
    }
    /// The workspaces the caller belongs to.
    #[getter]
    fn workspaces(&self) -> Vec<String> {
        self.0.workspaces.clone()
    }
    /// The kind of caller: User, WorkspaceAccessToken…
    #[getter]
    fn subject_kind(&self) -> &str {
        &self.0.subject_kind
    }
    /// The object as a dict, in the API's shape.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_dict(py, &self.0)
    }
    fn __repr__(&self) -> String {
        format!(
            "WhoAmI(username={}, subject_kind={}, auth_method={}, workspaces={})",
            py_repr(&self.0.username),
            py_repr(&self.0.subject_kind),
            py_repr(&self.0.auth_method),
            list_repr(&self.0.workspaces)
        )
    }
}
