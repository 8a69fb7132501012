//! `AsyncClient` and `Client`: the same constructor and methods, generated
//! once by `client_class!`. Async methods return awaitables driven by the one
//! shared tokio runtime (`crate::asyncio`); the blocking client waits on that same runtime with
//! the GIL released, so it also works inside a running event loop.

use std::path::PathBuf;
use std::sync::RwLock;
use std::time::Duration;

use pyo3::prelude::*;
use pyo3::types::PyType;
use wayfinder_tokens::fleet::MAX_CONCURRENCY;
use wayfinder_tokens::settings::MAX_RETRIES;
use wayfinder_tokens::{Argument, Client as CoreClient, ClientOptions, CreateOptions, Field, Secret, names};

use crate::asyncio::ready;
use crate::blocking::{batch_blocking, blocking};
use crate::coroutine::{batch_coroutine, coroutine};
use crate::errors::to_py;
use crate::types::{AccessToken, IssuedToken, Roles, WhoAmI};

/// Accepts `timedelta`, seconds (int or float) or a string such as `"90d"`.
pub fn duration_arg(py: Python<'_>, field: Argument, value: Option<&Bound<'_, PyAny>>) -> PyResult<Option<Duration>> {
    let Some(value) = value.filter(|v| !v.is_none()) else {
        return Ok(None);
    };
    if let Ok(text) = value.extract::<String>() {
        return names::parse_expires_in(field, &text)
            .map(Some)
            .map_err(|e| to_py(py, e));
    }
    if let Ok(duration) = value.extract::<Duration>() {
        return Ok(Some(duration));
    }
    match value.extract::<f64>() {
        Ok(seconds) => names::seconds(field, seconds).map(Some).map_err(|e| to_py(py, e)),
        Err(_) => Err(to_py(
            py,
            wayfinder_tokens::Error::invalid(
                field,
                "invalidValue",
                "must be a number of seconds, a timedelta or a string such as '90d'",
            ),
        )),
    }
}

/// Strings from any iterable of them (a list, a tuple, a set, a generator);
/// a lone string is refused rather than taken letter by letter.
pub fn strings(py: Python<'_>, field: Argument, value: &Bound<'_, PyAny>) -> PyResult<Vec<String>> {
    let refuse = || {
        to_py(
            py,
            wayfinder_tokens::Error::invalid(field, "invalidValue", "must be an iterable of strings, not one string"),
        )
    };
    if value.is_instance_of::<pyo3::types::PyString>() {
        return Err(refuse());
    }
    value.try_iter()?.map(|item| item?.extract::<String>()).collect()
}

/// A whole number from Python (an int, or a float with no fraction) in
/// `0..=max`; anything else is a `ValidationError` naming `field`, never an
/// `OverflowError` or a silent truncation.
pub fn whole_number_arg(
    py: Python<'_>,
    field: impl Into<Field>,
    value: Option<&Bound<'_, PyAny>>,
    max: u64,
) -> PyResult<Option<u64>> {
    let Some(value) = value.filter(|v| !v.is_none()) else {
        return Ok(None);
    };
    // An int too large for a float, or a non-number, is out of range by any rule.
    let number = value.extract::<f64>().unwrap_or(f64::NAN);
    names::whole_number(field, number, 0, max)
        .map(Some)
        .map_err(|e| to_py(py, e))
}

/// The state both classes share: the core client, until closed.
pub struct Inner {
    client: RwLock<Option<CoreClient>>,
}

impl Inner {
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        server: Option<String>,
        token: Option<String>,
        workspace: Option<String>,
        profile: Option<String>,
        config_path: Option<PathBuf>,
        timeout: Option<&Bound<'_, PyAny>>,
        max_retries: Option<&Bound<'_, PyAny>>,
        ca_certificate: Option<String>,
        allow_insecure_http: bool,
        api_group_version: Option<String>,
    ) -> PyResult<Inner> {
        crate::reset_log_cache(py);
        let options = ClientOptions {
            server,
            token: token.map(Secret::new),
            workspace,
            profile,
            config_path,
            timeout: duration_arg(py, Argument::Timeout, timeout)?,
            max_retries: whole_number_arg(py, Argument::MaxRetries, max_retries, u64::from(MAX_RETRIES))?
                .map(|n| n as u32),
            ca_certificate,
            allow_insecure_http,
            api_group_version,
        };
        // Reading the config file may wait on its lock: release the GIL.
        let client = py.detach(|| CoreClient::new(&options)).map_err(|e| to_py(py, e))?;
        Ok(Inner {
            client: RwLock::new(Some(client)),
        })
    }

    fn client(&self, py: Python<'_>) -> PyResult<CoreClient> {
        let guard = self.client.read().unwrap_or_else(|e| e.into_inner());
        guard.clone().ok_or_else(|| {
            to_py(
                py,
                wayfinder_tokens::Error::invalid(Field::named("client"), "invalidValue", "is closed"),
            )
        })
    }

    fn close(&self) {
        *self.client.write().unwrap_or_else(|e| e.into_inner()) = None;
    }
}

fn create_options(
    py: Python<'_>,
    description: Option<String>,
    expires_in: Option<&Bound<'_, PyAny>>,
    reset_token: bool,
    dry_run: bool,
) -> PyResult<CreateOptions> {
    Ok(CreateOptions {
        description,
        expires_in: duration_arg(py, Argument::ExpiresIn, expires_in)?,
        reset_token,
        dry_run,
    })
}

/// A list of access tokens as Python gets it: a list (`AccessTokens`, from
/// the package's presentation) that shows itself as a table in notebooks.
pub struct TokenList(Vec<AccessToken>);

impl<'py> IntoPyObject<'py> for TokenList {
    type Target = PyAny;
    type Output = Bound<'py, PyAny>;
    type Error = PyErr;

    fn into_pyobject(self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let list = pyo3::types::PyList::new(py, self.0)?;
        py.import("wayfinder_tokens._present")?
            .getattr("AccessTokens")?
            .call1((list,))
    }
}

/// Issues a token (`issue`, the create or reset), and with `specs`, checks
/// its destinations first and delivers the new secret (`IssuedToken.delivery`).
async fn issued_with(
    specs: Option<Vec<wayfinder_tokens::deliver::Spec>>,
    name: &str,
    workspace: Option<String>,
    asynchronous: bool,
    issue: impl std::future::Future<Output = wayfinder_tokens::Result<wayfinder_tokens::IssuedToken>>,
) -> wayfinder_tokens::Result<IssuedToken> {
    let Some(specs) = specs else {
        return issue.await.map(|issued| IssuedToken::by(issued, asynchronous));
    };
    let deliverer = crate::deliver::deliverer()?;
    let (issued, report) = deliverer.issue(&specs, name, workspace.as_deref(), issue).await?;
    let mut token = IssuedToken::by(issued, asynchronous);
    token.1.delivery = report.map(|r| crate::deliver::DeliveryReport(std::sync::Arc::new(r)));
    Ok(token)
}

fn tokens(list: Vec<wayfinder_tokens::AccessToken>) -> TokenList {
    TokenList(list.into_iter().map(AccessToken).collect())
}

macro_rules! client_class {
    ($name:ident, $finish:ident, $batch:ident, $asynchronous:literal, $doc:literal, $interrupted:literal, { $($extra:tt)* }) => {
        #[doc = $doc]
        #[pyclass(frozen, module = "wayfinder_tokens")]
        pub struct $name {
            inner: Inner,
        }

        #[pymethods]
        impl $name {
            #[new]
            #[pyo3(signature = (*, server=None, token=None, workspace=None, profile=None, config_path=None,
                                timeout=None, max_retries=None, ca_certificate=None, allow_insecure_http=false,
                                api_group_version=None))]
            #[allow(clippy::too_many_arguments)]
            fn new(
                py: Python<'_>,
                server: Option<String>,
                token: Option<String>,
                workspace: Option<String>,
                profile: Option<String>,
                config_path: Option<PathBuf>,
                timeout: Option<Bound<'_, PyAny>>,
                max_retries: Option<Bound<'_, PyAny>>,
                ca_certificate: Option<String>,
                allow_insecure_http: bool,
                api_group_version: Option<String>,
            ) -> PyResult<Self> {
                let inner = Inner::new(
                    py, server, token, workspace, profile, config_path, timeout.as_ref(), max_retries.as_ref(),
                    ca_certificate, allow_insecure_http, api_group_version,
                )?;
                Ok(Self { inner })
            }

            /// From `WAYFINDER_SERVER` + `WAYFINDER_TOKEN` (+ `WAYFINDER_WORKSPACE`), else the wf config
            /// file (`config_path` or `$WAYFINDER_CONFIG` or `~/.wayfinder/config`) and its `profile`.
            /// Raises `ConfigError` when neither gives a server and a token.
            #[classmethod]
            #[pyo3(signature = (profile=None, config_path=None))]
            fn from_env(_cls: &Bound<'_, PyType>, py: Python<'_>, profile: Option<String>, config_path: Option<PathBuf>) -> PyResult<Self> {
                let inner = Inner::new(py, None, None, None, profile, config_path, None, None, None, false, None)?;
                Ok(Self { inner })
            }

            /// The server's URL.
            #[getter]
            fn server(&self, py: Python<'_>) -> PyResult<String> {
                Ok(self.inner.client(py)?.server())
            }

            /// The default workspace of workspace operations, or None.
            #[getter]
            fn workspace(&self, py: Python<'_>) -> PyResult<Option<String>> {
                Ok(self.inner.client(py)?.workspace().map(str::to_owned))
            }

            /// Creates a workspace access token and issues its secret (`IssuedToken.token`, shown once).
            /// `expires_in`: seconds, a `timedelta` or text such as "90d"; `reset_token=True` issues a new
            /// secret if the name exists (roles kept); `dry_run=True` validates and issues nothing.
            /// Raises `ValidationError` (before any request), `AlreadyExistsError`, `AuthenticationError`…
            /// Example: `wf.create_workspace_access_token("ci-deploy", workspace="dev").to_env()`
            ///
            /// `deliver`: SPEC strings ("github:acme/app@prod", "vault:secret/ci/{name}", "file:app.env",
            /// "cmd:gh secret set …") or `wayfinder_tokens.destinations` objects. Each is checked before
            /// anything is created or reset; then the new secret is delivered and verified, and the
            /// result is `IssuedToken.delivery`. What a destination did not take waits, 0600, in the
            /// recovery store until `deliver_pending()`.
            #[pyo3(signature = (name, *, workspace=None, description=None, expires_in=None, reset_token=false, dry_run=false, deliver=None))]
            #[allow(clippy::too_many_arguments)]
            fn create_workspace_access_token(
                &self,
                py: Python<'_>,
                name: String,
                workspace: Option<String>,
                description: Option<String>,
                expires_in: Option<Bound<'_, PyAny>>,
                reset_token: bool,
                dry_run: bool,
                deliver: Option<Bound<'_, PyAny>>,
            ) -> PyResult<Py<PyAny>> {
                let options = create_options(py, description, expires_in.as_ref(), reset_token, dry_run)?;
                let specs = crate::deliver::specs(py, deliver.as_ref())?;
                let client = self.inner.client(py)?;
                let at = workspace.clone().or_else(|| client.workspace().map(str::to_owned));
                $finish(py, "create_workspace_access_token", async move {
                    let issue = client.create_workspace_access_token(&name, workspace.as_deref(), &options);
                    issued_with(specs, &name, at, $asynchronous, issue).await
                })
            }

            /// Issues a new secret for an existing workspace access token; every earlier one stops working
            /// and its roles are kept. Raises `NotFoundError` if it does not exist.
            /// Example: `wf.reset_workspace_access_token("ci-deploy").token`
            /// `deliver`: as in `create_workspace_access_token`, checked before the reset.
            #[pyo3(signature = (name, *, workspace=None, deliver=None))]
            fn reset_workspace_access_token(&self, py: Python<'_>, name: String, workspace: Option<String>, deliver: Option<Bound<'_, PyAny>>) -> PyResult<Py<PyAny>> {
                let specs = crate::deliver::specs(py, deliver.as_ref())?;
                let client = self.inner.client(py)?;
                let at = workspace.clone().or_else(|| client.workspace().map(str::to_owned));
                $finish(py, "reset_workspace_access_token", async move {
                    let issue = client.reset_workspace_access_token(&name, workspace.as_deref());
                    issued_with(specs, &name, at, $asynchronous, issue).await
                })
            }

            /// Reads a workspace access token (never its secret). Raises `NotFoundError`.
            #[pyo3(signature = (name, *, workspace=None))]
            fn get_workspace_access_token(&self, py: Python<'_>, name: String, workspace: Option<String>) -> PyResult<Py<PyAny>> {
                let client = self.inner.client(py)?;
                $finish(py, "get_workspace_access_token", async move { client.get_workspace_access_token(&name, workspace.as_deref()).await.map(AccessToken) })
            }

            /// Lists a workspace's access tokens (never their secrets).
            #[pyo3(signature = (*, workspace=None))]
            fn list_workspace_access_tokens(&self, py: Python<'_>, workspace: Option<String>) -> PyResult<Py<PyAny>> {
                let client = self.inner.client(py)?;
                $finish(py, "list_workspace_access_tokens", async move { client.list_workspace_access_tokens(workspace.as_deref()).await.map(tokens) })
            }

            /// Deletes a workspace access token; its secrets stop working at once. Raises `NotFoundError`.
            #[pyo3(signature = (name, *, workspace=None))]
            fn delete_workspace_access_token(&self, py: Python<'_>, name: String, workspace: Option<String>) -> PyResult<Py<PyAny>> {
                let client = self.inner.client(py)?;
                $finish(py, "delete_workspace_access_token", async move { client.delete_workspace_access_token(&name, workspace.as_deref()).await.map(AccessToken) })
            }

            /// Grants a workspace access token a role in the workspace's clusters (`cluster` for cluster
            /// roles, `cluster` and `namespace` for namespace roles); returns all its roles.
            #[pyo3(signature = (token, role, *, cluster=None, namespace=None, workspace=None))]
            #[allow(clippy::too_many_arguments)]
            fn assign_access_role(
                &self,
                py: Python<'_>,
                token: String,
                role: String,
                cluster: Option<String>,
                namespace: Option<String>,
                workspace: Option<String>,
            ) -> PyResult<Py<PyAny>> {
                let client = self.inner.client(py)?;
                $finish(py, "assign_access_role", async move {
                    client
                        .assign_access_role(&token, &role, cluster.as_deref(), namespace.as_deref(), workspace.as_deref())
                        .await
                        .map(Roles)
                })
            }

            /// Grants a workspace access token a Wayfinder role (e.g. workspace.accesstokenmanager); returns its roles.
            #[pyo3(signature = (token, role, *, workspace=None))]
            fn assign_wayfinder_role(&self, py: Python<'_>, token: String, role: String, workspace: Option<String>) -> PyResult<Py<PyAny>> {
                let client = self.inner.client(py)?;
                $finish(py, "assign_wayfinder_role", async move { client.assign_wayfinder_role(&token, &role, workspace.as_deref()).await.map(Roles) })
            }

            /// The roles of a workspace access token.
            #[pyo3(signature = (token, *, workspace=None))]
            fn get_workspace_access_token_roles(&self, py: Python<'_>, token: String, workspace: Option<String>) -> PyResult<Py<PyAny>> {
                let client = self.inner.client(py)?;
                $finish(py, "get_workspace_access_token_roles", async move { client.get_workspace_access_token_roles(&token, workspace.as_deref()).await.map(Roles) })
            }

            /// Creates a platform access token and issues its secret (see `create_workspace_access_token`).
            #[pyo3(signature = (name, *, description=None, expires_in=None, reset_token=false, dry_run=false, deliver=None))]
            #[allow(clippy::too_many_arguments)]
            fn create_platform_access_token(
                &self,
                py: Python<'_>,
                name: String,
                description: Option<String>,
                expires_in: Option<Bound<'_, PyAny>>,
                reset_token: bool,
                dry_run: bool,
                deliver: Option<Bound<'_, PyAny>>,
            ) -> PyResult<Py<PyAny>> {
                let options = create_options(py, description, expires_in.as_ref(), reset_token, dry_run)?;
                let specs = crate::deliver::specs(py, deliver.as_ref())?;
                let client = self.inner.client(py)?;
                $finish(py, "create_platform_access_token", async move {
                    let issue = client.create_platform_access_token(&name, &options);
                    issued_with(specs, &name, None, $asynchronous, issue).await
                })
            }

            /// Issues a new secret for a platform access token; every earlier one stops working.
            /// `deliver`: as in `create_workspace_access_token`, checked before the reset.
            #[pyo3(signature = (name, *, deliver=None))]
            fn reset_platform_access_token(&self, py: Python<'_>, name: String, deliver: Option<Bound<'_, PyAny>>) -> PyResult<Py<PyAny>> {
                let specs = crate::deliver::specs(py, deliver.as_ref())?;
                let client = self.inner.client(py)?;
                $finish(py, "reset_platform_access_token", async move {
                    let issue = client.reset_platform_access_token(&name);
                    issued_with(specs, &name, None, $asynchronous, issue).await
                })
            }

            /// The secrets waiting in the recovery store because a destination did not take them
            /// (a failure, or a process killed mid-delivery): with `list_only`, listed; otherwise
            /// delivered again, each destination checked first. A list of `PendingDelivery`.
            #[pyo3(signature = (*, list_only=false))]
            fn deliver_pending(&self, py: Python<'_>, list_only: bool) -> PyResult<Py<PyAny>> {
                $finish(py, "deliver_pending", crate::deliver::pending(list_only))
            }

            /// Reads a platform access token (never its secret). Raises `NotFoundError`.
            fn get_platform_access_token(&self, py: Python<'_>, name: String) -> PyResult<Py<PyAny>> {
                let client = self.inner.client(py)?;
                $finish(py, "get_platform_access_token", async move { client.get_platform_access_token(&name).await.map(AccessToken) })
            }

            /// Lists the platform access tokens (never their secrets).
            fn list_platform_access_tokens(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
                let client = self.inner.client(py)?;
                $finish(py, "list_platform_access_tokens", async move { client.list_platform_access_tokens().await.map(tokens) })
            }

            /// Deletes a platform access token; its secrets stop working at once.
            fn delete_platform_access_token(&self, py: Python<'_>, name: String) -> PyResult<Py<PyAny>> {
                let client = self.inner.client(py)?;
                $finish(py, "delete_platform_access_token", async move { client.delete_platform_access_token(&name).await.map(AccessToken) })
            }

            /// Grants a platform access token a role in clusters; returns all its roles.
            #[pyo3(signature = (token, role, *, cluster=None, namespace=None))]
            fn assign_platform_access_role(
                &self,
                py: Python<'_>,
                token: String,
                role: String,
                cluster: Option<String>,
                namespace: Option<String>,
            ) -> PyResult<Py<PyAny>> {
                let client = self.inner.client(py)?;
                $finish(py, "assign_platform_access_role", async move {
                    client
                        .assign_platform_access_role(&token, &role, cluster.as_deref(), namespace.as_deref())
                        .await
                        .map(Roles)
                })
            }

            /// Grants a platform access token a Wayfinder role; returns all its roles.
            fn assign_platform_wayfinder_role(&self, py: Python<'_>, token: String, role: String) -> PyResult<Py<PyAny>> {
                let client = self.inner.client(py)?;
                $finish(py, "assign_platform_wayfinder_role", async move { client.assign_platform_wayfinder_role(&token, &role).await.map(Roles) })
            }

            /// The roles of a platform access token.
            fn get_platform_access_token_roles(&self, py: Python<'_>, token: String) -> PyResult<Py<PyAny>> {
                let client = self.inner.client(py)?;
                $finish(py, "get_platform_access_token_roles", async move { client.get_platform_access_token_roles(&token).await.map(Roles) })
            }

            /// The workspaces the credentials can see, sorted.
            fn list_workspaces(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
                let client = self.inner.client(py)?;
                $finish(py, "list_workspaces", async move { client.list_workspaces().await })
            }

            /// Every workspace access token in `workspaces` (default: every workspace the
            /// credentials can see), fetched `concurrency` lists at a time, filtered by
            /// `expiring_within` and `older_than` (seconds or text such as "7d") and name
            /// `names` (glob patterns). Returns an `Inventory`.
            #[pyo3(signature = (workspaces=None, *, expiring_within=None, older_than=None, names=None, concurrency=None))]
            #[allow(clippy::too_many_arguments)]
            fn inventory(
                &self,
                py: Python<'_>,
                workspaces: Option<Bound<'_, PyAny>>,
                expiring_within: Option<Bound<'_, PyAny>>,
                older_than: Option<Bound<'_, PyAny>>,
                names: Option<Bound<'_, PyAny>>,
                concurrency: Option<Bound<'_, PyAny>>,
            ) -> PyResult<Py<PyAny>> {
                let query = wayfinder_tokens::fleet::InventoryQuery {
                    workspaces: workspaces.map(|w| strings(py, Argument::Workspaces, &w)).transpose()?,
                    expiring_within: duration_arg(py, Argument::ExpiringWithin, expiring_within.as_ref())?,
                    older_than: duration_arg(py, Argument::OlderThan, older_than.as_ref())?,
                    names: names.map(|n| strings(py, Argument::Names, &n)).transpose()?.unwrap_or_default(),
                    concurrency: whole_number_arg(py, Argument::Concurrency, concurrency.as_ref(), MAX_CONCURRENCY as u64)?.map(|n| n as usize),
                };
                let client = self.inner.client(py)?;
                $finish(py, "inventory", async move { client.inventory(&query).await.map(crate::fleet::Inventory) })
            }

            /// Resets each token's secret, `concurrency` at a time. `tokens`: an
            /// `Inventory`, `InventoryEntry`s, `(workspace, name)` pairs or dicts.
            /// `progress`: a callable `(done, total, (workspace, name))`, or True for a bar.
            /// Returns a `BatchReport`; one token's failure never raises.
            ///
            /// Each new secret goes, as soon as it exists, to an env file in `output_dir`
            /// (checked, or created 0700, before any reset) and to `on_rotated(issued)`.
            #[doc = $interrupted]
            ///
            /// `deliver`: where each new secret goes, checked for every token before the first reset:
            /// SPECs for all (`{workspace}` and `{name}` filled in per token, as in
            /// "vault:secret/ci/{workspace}/{name}"), a mapping from "workspace/name" to SPECs, or a
            /// callable `(workspace, name) -> SPECs`. `BatchReport.deliveries` says where each went.
            #[pyo3(signature = (tokens, *, concurrency=None, progress=None, dry_run=false, output_dir=None, on_rotated=None, deliver=None))]
            #[allow(clippy::too_many_arguments)]
            fn rotate_workspace_access_tokens(
                &self,
                py: Python<'_>,
                tokens: Bound<'_, PyAny>,
                concurrency: Option<Bound<'_, PyAny>>,
                progress: Option<Bound<'_, PyAny>>,
                dry_run: bool,
                output_dir: Option<PathBuf>,
                on_rotated: Option<Bound<'_, PyAny>>,
                deliver: Option<Bound<'_, PyAny>>,
            ) -> PyResult<Py<PyAny>> {
                let targets = crate::fleet::targets(&tokens)?;
                let destinations = crate::deliver::for_batch(py, deliver.as_ref(), &targets)?;
                let options = wayfinder_tokens::fleet::RotateOptions {
                    concurrency: whole_number_arg(py, Argument::Concurrency, concurrency.as_ref(), MAX_CONCURRENCY as u64)?.map(|n| n as usize),
                    dry_run,
                };
                let secrets = crate::fleet::secret_sink(py, output_dir.filter(|_| !dry_run), on_rotated.as_ref())?;
                let sink = std::sync::Arc::new(crate::fleet::ProgressSink::new(py, progress.as_ref(), targets.len())?);
                let cancel = wayfinder_tokens::fleet::CancellationToken::new();
                let client = self.inner.client(py)?;
                $batch(py, "rotate_workspace_access_tokens", cancel.clone(), async move {
                    let delivery = match destinations.filter(|_| !dry_run) {
                        Some(tokens) => Some(wayfinder_tokens::deliver::BatchDelivery::prepare(crate::deliver::deliverer()?, tokens).await?),
                        None => None,
                    };
                    let hooks = wayfinder_tokens::fleet::RotateHooks {
                        progress: sink.callback(),
                        on_rotated: match &delivery {
                            Some(batch) => Some(batch.sink(secrets)),
                            None => secrets,
                        },
                        cancel: Some(cancel),
                    };
                    let report = client.rotate_workspace_access_tokens(&targets, &options, &hooks).await;
                    Python::attach(|py| sink.finish(py));
                    let deliveries = delivery.map(|batch| batch.reports()).unwrap_or_default();
                    report.map(|report| crate::fleet::ReportOut(report, deliveries))
                })
            }

            /// What `apply` would do to make the tokens match `spec` (a `TokenSpec` from `load_spec`, or
            /// a path): a `Plan` of changes (create, grant, rotate and why, deliver) and the drift it
            /// leaves alone. Destinations are judged from their metadata, never by reading a secret.
            /// `rotate`: names of the spec's tokens to rotate whether or not they are due.
            /// Example: `print(wf.plan(wft.load_spec("tokens.yaml")))`
            #[pyo3(signature = (spec, *, rotate=None))]
            fn plan(&self, py: Python<'_>, spec: Bound<'_, PyAny>, rotate: Option<Bound<'_, PyAny>>) -> PyResult<Py<PyAny>> {
                let spec = crate::converge::spec_arg(py, &spec)?;
                let rotate = match rotate.filter(|r| !r.is_none()) {
                    Some(r) => strings(py, Argument::Names, &r)?,
                    None => Vec::new(),
                };
                let client = self.inner.client(py)?;
                $finish(py, "plan", crate::converge::plan(client, spec, rotate))
            }

            /// Makes the tokens match: given a `Plan`, applies it if it still holds (else raises
            /// `ConfigError`: plan again); given a spec (or a path), plans and applies. Each token's
            /// destinations are checked before any secret is issued, and each new secret waits in the
            /// recovery store until every destination verified it. Applying twice writes nothing the
            /// second time. An `ApplyReport`; `report.raise_for_failure()` raises the first error.
            #[pyo3(signature = (plan_or_spec, *, rotate=None))]
            fn apply(&self, py: Python<'_>, plan_or_spec: Bound<'_, PyAny>, rotate: Option<Bound<'_, PyAny>>) -> PyResult<Py<PyAny>> {
                let rotate = match rotate.filter(|r| !r.is_none()) {
                    Some(r) => strings(py, Argument::Names, &r)?,
                    None => Vec::new(),
                };
                let what = match plan_or_spec.cast::<crate::converge::Plan>() {
                    Ok(plan) if rotate.is_empty() => wayfinder_tokens::converge::Desired::Plan(plan.get().0.clone()),
                    Ok(_) => {
                        return Err(to_py(py, wayfinder_tokens::Error::invalid(Argument::Names, "invalidValue", "applies to a spec, not to a plan (plan with rotate= instead)")));
                    }
                    Err(_) => wayfinder_tokens::converge::Desired::Spec(
                        crate::converge::spec_arg(py, &plan_or_spec)?,
                        wayfinder_tokens::converge::PlanOptions { rotate, concurrency: None },
                    ),
                };
                let client = self.inner.client(py)?;
                let cancel = wayfinder_tokens::fleet::CancellationToken::new();
                $batch(py, "apply", cancel.clone(), crate::converge::apply(client, what, cancel))
            }

            /// When each token of `spec` is next due to rotate (its age against `maxAge`, its expiry
            /// against `beforeExpiry`), from Wayfinder alone: a list of `RotationDue`, `due` set for those
            /// due within `within` (default 14 days; seconds, a timedelta or "14d").
            #[pyo3(signature = (spec, *, within=None))]
            fn check(&self, py: Python<'_>, spec: Bound<'_, PyAny>, within: Option<Bound<'_, PyAny>>) -> PyResult<Py<PyAny>> {
                let spec = crate::converge::spec_arg(py, &spec)?;
                let within = duration_arg(py, Argument::ExpiringWithin, within.as_ref())?.unwrap_or(Duration::from_secs(14 * 86_400));
                let client = self.inner.client(py)?;
                $finish(py, "check", crate::converge::check(client, spec, within))
            }

            /// Who these credentials belong to: user or token, and its workspaces. Raises `AuthenticationError`.
            fn whoami(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
                let client = self.inner.client(py)?;
                $finish(py, "whoami", async move { client.whoami().await.map(WhoAmI) })
            }

            fn __repr__(&self, py: Python<'_>) -> String {
                match self.inner.client(py) {
                    Ok(c) => format!(
                        "{}(server={}, workspace={})",
                        stringify!($name),
                        crate::types::py_repr(&c.server()),
                        c.workspace().map_or_else(|| "None".to_owned(), crate::types::py_repr)
                    ),
                    Err(_) => format!("{}(<closed>)", stringify!($name)),
                }
            }

            $($extra)*
        }
    };
}

client_class!(
    AsyncClient,
    coroutine,
    batch_coroutine,
    true,
    "An async client: every method returns a coroutine. Use `async with`.",
    "Cancelling the task stops new rotations, lets those in flight finish, and raises\n\
     `CancelledError` with the partial report as its `report` (Python 3.11+; before,\n\
     awaiting a cancelled task raises a new `CancelledError`, so give `output_dir` or\n\
     `on_rotated` there).",
    {
        fn __aenter__(slf: Py<Self>, py: Python<'_>) -> PyResult<Py<PyAny>> {
            ready(py, slf)
        }

        #[pyo3(signature = (*_exc))]
        fn __aexit__(&self, py: Python<'_>, _exc: &Bound<'_, pyo3::types::PyTuple>) -> PyResult<Py<PyAny>> {
            self.inner.close();
            ready(py, ())
        }

        /// Closes the client; later calls raise.
        fn aclose(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
            self.inner.close();
            ready(py, ())
        }
    }
);

client_class!(
    Client,
    blocking,
    batch_blocking,
    false,
    "A blocking client with the same methods as AsyncClient. Use `with`.",
    "A first Ctrl-C stops new rotations, lets those in flight finish, and raises\n\
     `KeyboardInterrupt` with the partial report as its `report`.",
    {
        fn __enter__(slf: Py<Self>) -> Py<Self> {
            slf
        }

        #[pyo3(signature = (*_exc))]
        fn __exit__(&self, _exc: &Bound<'_, pyo3::types::PyTuple>) {
            self.inner.close();
        }

        /// Closes the client; later calls raise.
        fn close(&self) {
            self.inner.close();
        }
    }
);
