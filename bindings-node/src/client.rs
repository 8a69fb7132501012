//! `Client`: every operation returns a Promise and accepts an `AbortSignal`.

use std::time::Duration;

use napi::bindgen_prelude::*;
use wayfinder_tokens::deliver::BatchDelivery;
use wayfinder_tokens::fleet::{MAX_CONCURRENCY, RotateOptions as CoreRotate, TokenRef};
use wayfinder_tokens::settings::MAX_RETRIES;
use wayfinder_tokens::{Argument, Client as CoreClient, ClientOptions as CoreOptions, names};

use crate::call::{Failure, guard, js_error, settle, spawn, sync, watch};
use crate::fleet::{self, BatchReport, InventoryEntry, TokenTarget};
use crate::options::{
    AccessRoleOptions, CallOptions, CheckOptions, ClientOptions, CreateOptions, FromEnvOptions, InventoryOptions,
    PendingOptions, PlanOptions, PlatformResetOptions, ResetOptions, RotateOptions, WorkspaceOptions, create_options,
    inventory_query, read,
};
use crate::types::{AccessToken, IssuedToken, Roles, WhoAmI, access_tokens};

impl Client {
    /// Runs a core call on this client's core, with the caller's `AbortSignal`,
    /// and converts what it resolves to: the one body of every async method.
    fn call<'env, T, V, Fut>(
        &self,
        env: &'env Env,
        signal: Option<Object<'_>>,
        call: impl FnOnce(CoreClient) -> Fut,
        convert: fn(T) -> V,
    ) -> Result<PromiseRaw<'env, V>>
    where
        Fut: std::future::Future<Output = wayfinder_tokens::Result<T>> + Send + 'static,
        T: Send + 'static,
        V: ToNapiValue + 'static,
    {
        spawn(env, signal, call(self.inner.clone()), convert)
    }
}

/// Runs a batch to its end; an abort cancels `cancel` (so the batch starts
/// nothing new) and the batch still finishes and reports.
async fn until_aborted<T>(
    run: impl std::future::Future<Output = wayfinder_tokens::Result<T>>,
    abort: Option<std::sync::Arc<crate::call::Abort>>,
    cancel: &wayfinder_tokens::fleet::CancellationToken,
) -> std::result::Result<T, Failure> {
    tokio::pin!(run);
    if let Some(abort) = abort {
        tokio::select! {
            biased;
            outcome = &mut run => return guard(async move { outcome }).await,
            () = abort.wait() => cancel.cancel(),
        }
    }
    guard(run).await
}

/// With `deliver`: every token's destinations, checked before the first reset.
async fn batch_delivery(
    destinations: wayfinder_tokens::Result<Option<Vec<crate::deliver::Destinations>>>,
    dry_run: bool,
) -> std::result::Result<Option<std::sync::Arc<BatchDelivery>>, Failure> {
    match destinations.map_err(Failure::Core)?.filter(|_| !dry_run) {
        Some(tokens) => {
            let deliverer = crate::deliver::deliverer().map_err(Failure::Core)?;
            Ok(Some(
                BatchDelivery::prepare(deliverer, tokens).await.map_err(Failure::Core)?,
            ))
        }
        None => Ok(None),
    }
}

type Delivered = (
    wayfinder_tokens::IssuedToken,
    Option<wayfinder_tokens::deliver::DeliveryReport>,
);

fn delivered((inner, report): Delivered) -> IssuedToken {
    IssuedToken {
        inner,
        delivery: report.map(std::sync::Arc::new),
    }
}

/// Issues a token (`issue`, the create or reset), and with `specs`, checks
/// its destinations first and delivers the new secret.
async fn issue_delivered(
    specs: wayfinder_tokens::Result<Option<Vec<wayfinder_tokens::deliver::Spec>>>,
    name: String,
    workspace: Option<String>,
    issue: impl std::future::Future<Output = wayfinder_tokens::Result<wayfinder_tokens::IssuedToken>>,
) -> wayfinder_tokens::Result<Delivered> {
    match specs? {
        None => Ok((issue.await?, None)),
        Some(specs) => {
            crate::deliver::deliverer()?
                .issue(&specs, &name, workspace.as_deref(), issue)
                .await
        }
    }
}

/// A client for one Wayfinder server.
#[napi]
pub struct Client {
    inner: CoreClient,
}

#[napi]
impl Client {
    /// A client from explicit options; anything left out comes from the environment or the wf config file.
    /// Throws a `WayfinderError` (`CONFIG` or `VALIDATION`) when they do not give a usable server and token.
    #[napi(constructor)]
    pub fn new(
        env: &Env,
        #[napi(ts_arg_type = "ClientOptions | undefined | null")] options: Option<Object<'_>>,
    ) -> Result<Self> {
        let options = read::<ClientOptions>(env, options)?;
        let o = options.unwrap_or(ClientOptions {
            server: None,
            token: None,
            workspace: None,
            profile: None,
            config_path: None,
            timeout_ms: None,
            max_retries: None,
            ca_certificate: None,
            allow_insecure_http: None,
            api_group_version: None,
        });
        // Numbers arrive as doubles; anything but a whole number in range is
        // refused by name rather than truncated or wrapped.
        let timeout = o
            .timeout_ms
            .map(|ms| names::whole_number(Argument::Timeout, ms, 1, i32::MAX as u64).map(Duration::from_millis))
            .transpose()
            .map_err(|e| js_error(env, Failure::Core(e)))?;
        let max_retries = o
            .max_retries
            .map(|n| names::whole_number(Argument::MaxRetries, n, 0, u64::from(MAX_RETRIES)).map(|n| n as u32))
            .transpose()
            .map_err(|e| js_error(env, Failure::Core(e)))?;
        let core = CoreOptions {
            server: o.server,
            token: o.token.map(Into::into),
            workspace: o.workspace,
            profile: o.profile,
            config_path: o.config_path.map(Into::into),
            timeout,
            max_retries,
            ca_certificate: o.ca_certificate,
            allow_insecure_http: o.allow_insecure_http.unwrap_or(false),
            api_group_version: o.api_group_version,
        };
        Ok(Client {
            inner: sync(env, CoreClient::new(&core))?,
        })
    }

    /// `WAYFINDER_SERVER` + `WAYFINDER_TOKEN`, else the config file.
    #[napi(factory)]
    pub fn from_env(
        env: &Env,
        #[napi(ts_arg_type = "FromEnvOptions | undefined | null")] options: Option<Object<'_>>,
    ) -> Result<Self> {
        let options = read::<FromEnvOptions>(env, options)?;
        let (profile, config_path) = options.map(|o| (o.profile, o.config_path)).unwrap_or_default();
        let core = CoreOptions {
            profile,
            config_path: config_path.map(Into::into),
            ..CoreOptions::default()
        };
        Ok(Client {
            inner: sync(env, CoreClient::new(&core))?,
        })
    }

    /// The server's URL.
    #[napi(getter)]
    pub fn server(&self) -> String {
        self.inner.server()
    }

    /// The default workspace of workspace operations.
    #[napi(getter)]
    pub fn workspace(&self) -> Option<String> {
        self.inner.workspace().map(str::to_owned)
    }

    /// Creates a workspace access token and issues its secret. With
    /// `resetToken`, an existing token of that name gets a new secret instead
    /// (roles kept). With `dryRun`, nothing is created and there is no secret.
    #[napi]
    pub fn create_workspace_access_token<'env>(
        &self,
        env: &'env Env,
        name: String,
        #[napi(ts_arg_type = "CreateOptions | undefined | null")] options: Option<Object<'_>>,
    ) -> Result<PromiseRaw<'env, IssuedToken>> {
        let mut options = read::<CreateOptions<'_>>(env, options)?;
        // A bad value rejects the Promise like any other error (a wrong shape, such as an
        // unknown key or a string for a number, throws at the call).
        let create = create_options(&mut options);
        let specs = crate::deliver::specs(options.as_ref().and_then(|o| o.deliver.as_ref()))?;
        let (workspace, signal) = options.map(|o| (o.workspace, o.signal)).unwrap_or_default();
        let at = workspace.clone().or_else(|| self.inner.workspace().map(str::to_owned));
        self.call(
            env,
            signal,
            move |client| async move {
                let create = create?;
                let issue = client.create_workspace_access_token(&name, workspace.as_deref(), &create);
                issue_delivered(specs, name.clone(), at, issue).await
            },
            delivered,
        )
    }

    /// Issues a new secret; every earlier one stops working. Roles are kept.
    #[napi]
    pub fn reset_workspace_access_token<'env>(
        &self,
        env: &'env Env,
        name: String,
        #[napi(ts_arg_type = "ResetOptions | undefined | null")] options: Option<Object<'_>>,
    ) -> Result<PromiseRaw<'env, IssuedToken>> {
        let options = read::<ResetOptions<'_>>(env, options)?;
        let specs = crate::deliver::specs(options.as_ref().and_then(|o| o.deliver.as_ref()))?;
        let (workspace, signal) = options.map(|o| (o.workspace, o.signal)).unwrap_or_default();
        let at = workspace.clone().or_else(|| self.inner.workspace().map(str::to_owned));
        self.call(
            env,
            signal,
            move |client| async move {
                let issue = client.reset_workspace_access_token(&name, workspace.as_deref());
                issue_delivered(specs, name.clone(), at, issue).await
            },
            delivered,
        )
    }

    /// Reads a workspace access token (never its secret). Rejects with `NOT_FOUND` if it does not exist.
    #[napi]
    pub fn get_workspace_access_token<'env>(
        &self,
        env: &'env Env,
        name: String,
        #[napi(ts_arg_type = "WorkspaceOptions | undefined | null")] options: Option<Object<'_>>,
    ) -> Result<PromiseRaw<'env, AccessToken>> {
        let options = read::<WorkspaceOptions<'_>>(env, options)?;
        let (workspace, signal) = options.map(|o| (o.workspace, o.signal)).unwrap_or_default();
        self.call(
            env,
            signal,
            move |client| async move { client.get_workspace_access_token(&name, workspace.as_deref()).await },
            AccessToken::from,
        )
    }

    /// Lists a workspace's access tokens (never their secrets).
    #[napi]
    pub fn list_workspace_access_tokens<'env>(
        &self,
        env: &'env Env,
        #[napi(ts_arg_type = "WorkspaceOptions | undefined | null")] options: Option<Object<'_>>,
    ) -> Result<PromiseRaw<'env, Vec<AccessToken>>> {
        let options = read::<WorkspaceOptions<'_>>(env, options)?;
        let (workspace, signal) = options.map(|o| (o.workspace, o.signal)).unwrap_or_default();
        self.call(
            env,
            signal,
            move |client| async move { client.list_workspace_access_tokens(workspace.as_deref()).await },
            access_tokens,
        )
    }

    /// Deletes the token; its secrets stop working at once.
    #[napi]
    pub fn delete_workspace_access_token<'env>(
        &self,
        env: &'env Env,
        name: String,
        #[napi(ts_arg_type = "WorkspaceOptions | undefined | null")] options: Option<Object<'_>>,
    ) -> Result<PromiseRaw<'env, AccessToken>> {
        let options = read::<WorkspaceOptions<'_>>(env, options)?;
        let (workspace, signal) = options.map(|o| (o.workspace, o.signal)).unwrap_or_default();
        self.call(
            env,
            signal,
            move |client| async move { client.delete_workspace_access_token(&name, workspace.as_deref()).await },
            AccessToken::from,
        )
    }

    /// Grants a role in workspace clusters; resolves to every role the token holds.
    #[napi]
    pub fn assign_access_role<'env>(
        &self,
        env: &'env Env,
        token: String,
        role: String,
        #[napi(ts_arg_type = "AccessRoleOptions | undefined | null")] options: Option<Object<'_>>,
    ) -> Result<PromiseRaw<'env, Roles>> {
        let options = read::<AccessRoleOptions<'_>>(env, options)?;
        let (cluster, namespace, workspace, signal) = options
            .map(|o| (o.cluster, o.namespace, o.workspace, o.signal))
            .unwrap_or_default();
        self.call(
            env,
            signal,
            move |client| async move {
                client
                    .assign_access_role(
                        &token,
                        &role,
                        cluster.as_deref(),
                        namespace.as_deref(),
                        workspace.as_deref(),
                    )
                    .await
            },
            Roles::from,
        )
    }

    /// Grants a role in Wayfinder itself; resolves to every role the token holds.
    #[napi]
    pub fn assign_wayfinder_role<'env>(
        &self,
        env: &'env Env,
        token: String,
        role: String,
        #[napi(ts_arg_type = "WorkspaceOptions | undefined | null")] options: Option<Object<'_>>,
    ) -> Result<PromiseRaw<'env, Roles>> {
        let options = read::<WorkspaceOptions<'_>>(env, options)?;
        let (workspace, signal) = options.map(|o| (o.workspace, o.signal)).unwrap_or_default();
        self.call(
            env,
            signal,
            move |client| async move { client.assign_wayfinder_role(&token, &role, workspace.as_deref()).await },
            Roles::from,
        )
    }

    /// The roles of a workspace access token.
    #[napi]
    pub fn get_workspace_access_token_roles<'env>(
        &self,
        env: &'env Env,
        token: String,
        #[napi(ts_arg_type = "WorkspaceOptions | undefined | null")] options: Option<Object<'_>>,
    ) -> Result<PromiseRaw<'env, Roles>> {
        let options = read::<WorkspaceOptions<'_>>(env, options)?;
        let (workspace, signal) = options.map(|o| (o.workspace, o.signal)).unwrap_or_default();
        self.call(
            env,
            signal,
            move |client| async move {
                client
                    .get_workspace_access_token_roles(&token, workspace.as_deref())
                    .await
            },
            Roles::from,
        )
    }

    /// Creates a platform access token and issues its secret.
    #[napi]
    pub fn create_platform_access_token<'env>(
        &self,
        env: &'env Env,
        name: String,
        #[napi(ts_arg_type = "CreateOptions | undefined | null")] options: Option<Object<'_>>,
    ) -> Result<PromiseRaw<'env, IssuedToken>> {
        let mut options = read::<CreateOptions<'_>>(env, options)?;
        let create = create_options(&mut options);
        let specs = crate::deliver::specs(options.as_ref().and_then(|o| o.deliver.as_ref()))?;
        let signal = options.and_then(|o| o.signal);
        self.call(
            env,
            signal,
            move |client| async move {
                let create = create?;
                let issue = client.create_platform_access_token(&name, &create);
                issue_delivered(specs, name.clone(), None, issue).await
            },
            delivered,
        )
    }

    /// Issues a new secret for a platform access token; every earlier one stops working, its roles are kept.
    #[napi]
    pub fn reset_platform_access_token<'env>(
        &self,
        env: &'env Env,
        name: String,
        #[napi(ts_arg_type = "PlatformResetOptions | undefined | null")] options: Option<Object<'_>>,
    ) -> Result<PromiseRaw<'env, IssuedToken>> {
        let options = read::<PlatformResetOptions<'_>>(env, options)?;
        let specs = crate::deliver::specs(options.as_ref().and_then(|o| o.deliver.as_ref()))?;
        self.call(
            env,
            options.and_then(|o| o.signal),
            move |client| async move {
                let issue = client.reset_platform_access_token(&name);
                issue_delivered(specs, name.clone(), None, issue).await
            },
            delivered,
        )
    }

    /// What `apply` would do to make the tokens match `spec` (a `TokenSpec`
    /// from `loadSpec`, or a path): a `Plan` of changes (create, grant,
    /// rotate and why, deliver) and the drift it leaves alone. Destinations
    /// are judged from their metadata, never by reading a secret back.
    #[napi(ts_return_type = "Promise<Plan>")]
    pub fn plan<'env>(
        &self,
        env: &'env Env,
        #[napi(ts_arg_type = "TokenSpec | string")] spec: Unknown<'_>,
        #[napi(ts_arg_type = "PlanOptions | undefined | null")] options: Option<Object<'_>>,
    ) -> Result<PromiseRaw<'env, crate::converge::Plan>> {
        let options = read::<PlanOptions<'_>>(env, options)?;
        let spec = crate::converge::spec_arg(env, &spec)?;
        let (rotate, signal) = match options {
            Some(o) => (o.rotate.unwrap_or_default(), o.signal),
            None => (Vec::new(), None),
        };
        self.call(
            env,
            signal,
            move |client| async move {
                let deliverer = crate::deliver::deliverer()?;
                let options = wayfinder_tokens::converge::PlanOptions {
                    rotate,
                    concurrency: None,
                };
                wayfinder_tokens::converge::plan(&client, &deliverer, &spec, &options).await
            },
            |plan| crate::converge::Plan {
                inner: std::sync::Arc::new(plan),
            },
        )
    }

    /// Makes the tokens match: given a `Plan`, applies it if it still holds
    /// (else rejects with `CONFIG`: plan again); given a spec (or a path),
    /// plans and applies. Each token's destinations are checked before any
    /// secret is issued; each new secret waits in the recovery store until
    /// every destination verified it. Applying twice writes nothing the
    /// second time. Resolves to an `ApplyReport` (a failed change does not
    /// reject: `report.ok` says).
    #[napi(ts_return_type = "Promise<ApplyReport>")]
    pub fn apply<'env>(
        &self,
        env: &'env Env,
        #[napi(ts_arg_type = "Plan | TokenSpec | string")] plan_or_spec: Unknown<'_>,
        #[napi(ts_arg_type = "PlanOptions | undefined | null")] options: Option<Object<'_>>,
    ) -> Result<PromiseRaw<'env, crate::converge::ApplyReport>> {
        let options = read::<PlanOptions<'_>>(env, options)?;
        let (rotate, signal) = match options {
            Some(o) => (o.rotate.unwrap_or_default(), o.signal),
            None => (Vec::new(), None),
        };
        let desired = crate::converge::desired(env, &plan_or_spec, rotate)?;
        let (abort, listening) = match signal.as_ref().map(|s| watch(env, s)).transpose()? {
            Some((abort, listening)) => (Some(abort), listening),
            None => (None, None),
        };
        let client = self.inner.clone();
        let work = async move {
            let cancel = wayfinder_tokens::fleet::CancellationToken::new();
            let run = async {
                let deliverer = crate::deliver::deliverer()?;
                wayfinder_tokens::converge::apply_until(&client, &deliverer, desired, cancel.clone()).await
            };
            // An abort starts no further token; the apply still reports.
            until_aborted(run, abort, &cancel).await
        };
        settle(env, listening, work, crate::converge::ApplyReport::new)
    }

    /// When each token of `spec` is next due to rotate (its age against
    /// `maxAge`, its expiry against `beforeExpiry`), from Wayfinder alone;
    /// `due` is set for those due within `within` (default 14 days).
    #[napi(ts_return_type = "Promise<RotationDue[]>")]
    pub fn check<'env>(
        &self,
        env: &'env Env,
        #[napi(ts_arg_type = "TokenSpec | string")] spec: Unknown<'_>,
        #[napi(ts_arg_type = "CheckOptions | undefined | null")] options: Option<Object<'_>>,
    ) -> Result<PromiseRaw<'env, Vec<crate::converge::RotationDue>>> {
        let options = read::<CheckOptions<'_>>(env, options)?;
        let spec = crate::converge::spec_arg(env, &spec)?;
        let (within, signal) = match options {
            Some(o) => (crate::options::duration(Argument::ExpiringWithin, o.within), o.signal),
            None => (Ok(None), None),
        };
        self.call(
            env,
            signal,
            move |client| async move {
                // A bad horizon rejects the Promise, as every other failure does.
                let within = within?.unwrap_or(Duration::from_secs(14 * 86_400));
                wayfinder_tokens::converge::check(&client, &spec, within).await
            },
            |found| found.into_iter().map(crate::converge::RotationDue::from).collect(),
        )
    }

    /// The secrets waiting in the recovery store because a destination did
    /// not take them (a failure, or a process killed mid-delivery): with
    /// `listOnly`, listed; otherwise delivered again, each destination
    /// checked first.
    #[napi(ts_return_type = "Promise<PendingDelivery[]>")]
    pub fn deliver_pending<'env>(
        &self,
        env: &'env Env,
        #[napi(ts_arg_type = "PendingOptions | undefined | null")] options: Option<Object<'_>>,
    ) -> Result<PromiseRaw<'env, Vec<crate::deliver::PendingDelivery>>> {
        let options = read::<PendingOptions<'_>>(env, options)?;
        let list_only = options.as_ref().and_then(|o| o.list_only).unwrap_or(false);
        self.call(
            env,
            options.and_then(|o| o.signal),
            move |_| crate::deliver::pending(list_only),
            |p| p,
        )
    }

    /// Reads a platform access token (never its secret).
    #[napi]
    pub fn get_platform_access_token<'env>(
        &self,
        env: &'env Env,
        name: String,
        #[napi(ts_arg_type = "CallOptions | undefined | null")] options: Option<Object<'_>>,
    ) -> Result<PromiseRaw<'env, AccessToken>> {
        let options = read::<CallOptions<'_>>(env, options)?;
        self.call(
            env,
            options.and_then(|o| o.signal),
            move |client| async move { client.get_platform_access_token(&name).await },
            AccessToken::from,
        )
    }

    /// Lists the platform access tokens (never their secrets).
    #[napi]
    pub fn list_platform_access_tokens<'env>(
        &self,
        env: &'env Env,
        #[napi(ts_arg_type = "CallOptions | undefined | null")] options: Option<Object<'_>>,
    ) -> Result<PromiseRaw<'env, Vec<AccessToken>>> {
        let options = read::<CallOptions<'_>>(env, options)?;
        self.call(
            env,
            options.and_then(|o| o.signal),
            move |client| async move { client.list_platform_access_tokens().await },
            access_tokens,
        )
    }

    /// Deletes a platform access token; its secrets stop working at once.
    #[napi]
    pub fn delete_platform_access_token<'env>(
        &self,
        env: &'env Env,
        name: String,
        #[napi(ts_arg_type = "CallOptions | undefined | null")] options: Option<Object<'_>>,
    ) -> Result<PromiseRaw<'env, AccessToken>> {
        let options = read::<CallOptions<'_>>(env, options)?;
        self.call(
            env,
            options.and_then(|o| o.signal),
            move |client| async move { client.delete_platform_access_token(&name).await },
            AccessToken::from,
        )
    }

    /// Grants a platform access token a role in clusters; resolves to all its roles.
    #[napi]
    pub fn assign_platform_access_role<'env>(
        &self,
        env: &'env Env,
        token: String,
        role: String,
        #[napi(ts_arg_type = "AccessRoleOptions | undefined | null")] options: Option<Object<'_>>,
    ) -> Result<PromiseRaw<'env, Roles>> {
        let options = read::<AccessRoleOptions<'_>>(env, options)?;
        let (cluster, namespace, signal) = options.map(|o| (o.cluster, o.namespace, o.signal)).unwrap_or_default();
        self.call(
            env,
            signal,
            move |client| async move {
                client
                    .assign_platform_access_role(&token, &role, cluster.as_deref(), namespace.as_deref())
                    .await
            },
            Roles::from,
        )
    }

    /// Grants a platform access token a Wayfinder role; resolves to all its roles.
    #[napi]
    pub fn assign_platform_wayfinder_role<'env>(
        &self,
        env: &'env Env,
        token: String,
        role: String,
        #[napi(ts_arg_type = "CallOptions | undefined | null")] options: Option<Object<'_>>,
    ) -> Result<PromiseRaw<'env, Roles>> {
        let options = read::<CallOptions<'_>>(env, options)?;
        self.call(
            env,
            options.and_then(|o| o.signal),
            move |client| async move { client.assign_platform_wayfinder_role(&token, &role).await },
            Roles::from,
        )
    }

    /// The roles of a platform access token.
    #[napi]
    pub fn get_platform_access_token_roles<'env>(
        &self,
        env: &'env Env,
        token: String,
        #[napi(ts_arg_type = "CallOptions | undefined | null")] options: Option<Object<'_>>,
    ) -> Result<PromiseRaw<'env, Roles>> {
        let options = read::<CallOptions<'_>>(env, options)?;
        self.call(
            env,
            options.and_then(|o| o.signal),
            move |client| async move { client.get_platform_access_token_roles(&token).await },
            Roles::from,
        )
    }

    /// Who this client is authenticated as.
    #[napi]
    pub fn whoami<'env>(
        &self,
        env: &'env Env,
        #[napi(ts_arg_type = "CallOptions | undefined | null")] options: Option<Object<'_>>,
    ) -> Result<PromiseRaw<'env, WhoAmI>> {
        let options = read::<CallOptions<'_>>(env, options)?;
        self.call(
            env,
            options.and_then(|o| o.signal),
            move |client| async move { client.whoami().await },
            WhoAmI::from,
        )
    }

    /// The workspaces these credentials can see, sorted.
    #[napi]
    pub fn list_workspaces<'env>(
        &self,
        env: &'env Env,
        #[napi(ts_arg_type = "CallOptions | undefined | null")] options: Option<Object<'_>>,
    ) -> Result<PromiseRaw<'env, Vec<String>>> {
        let options = read::<CallOptions<'_>>(env, options)?;
        self.call(
            env,
            options.and_then(|o| o.signal),
            move |client| async move { client.list_workspaces().await },
            |w| w,
        )
    }

    /// Every workspace access token in `workspaces` (default: every workspace
    /// these credentials can see), `concurrency` lists at a time (16),
    /// filtered by `expiringWithin` / `olderThan` (seconds or text such as
    /// `"7d"`) and `names` (glob patterns).
    #[napi]
    pub fn inventory<'env>(
        &self,
        env: &'env Env,
        #[napi(ts_arg_type = "InventoryOptions | undefined | null")] options: Option<Object<'_>>,
    ) -> Result<PromiseRaw<'env, Vec<InventoryEntry>>> {
        let options = read::<InventoryOptions<'_>>(env, options)?;
        let mut options = options.unwrap_or_default();
        // A bad value rejects the Promise, as every other failure does.
        let query = inventory_query(&mut options);
        self.call(
            env,
            options.signal,
            move |client| async move { client.inventory(&query?).await },
            fleet::entries,
        )
    }

    /// Resets each token's secret, `concurrency` at a time (8), with the
    /// client's retry rules. Resolves to a `BatchReport` (one token's
    /// failure never rejects); `signal` stops new rotations and the report
    /// lists what was not started; `onProgress` is called after each token.
    #[napi]
    pub fn rotate_workspace_access_tokens<'env>(
        &self,
        env: &'env Env,
        tokens: Vec<TokenTarget>,
        #[napi(ts_arg_type = "RotateOptions | undefined | null")] options: Option<Object<'_>>,
    ) -> Result<PromiseRaw<'env, BatchReport>> {
        let options = read::<RotateOptions<'_>>(env, options)?;
        let options = options.unwrap_or_default();
        let targets: Vec<TokenRef> = tokens.into_iter().map(TokenTarget::into_ref).collect();
        // A bad value rejects the Promise, as every other failure does.
        let concurrency = options
            .concurrency
            .map(|n| names::whole_number(Argument::Concurrency, n, 1, MAX_CONCURRENCY as u64).map(|n| n as usize))
            .transpose();
        let dry_run = options.dry_run.unwrap_or(false);
        // Checked (or created 0700) now, before any reset; a refusal rejects the Promise.
        let env_dir = options
            .output_dir
            .filter(|_| !dry_run)
            .map(|dir| wayfinder_tokens::fleet::EnvDir::open(std::path::Path::new(&dir)))
            .transpose();
        let progress = options
            .on_progress
            .map(|f| fleet::progress_callback(env, f))
            .transpose()?;
        // A function choosing each token's destinations runs now, before anything is reset.
        let destinations = crate::deliver::for_batch(options.deliver.as_ref(), &targets)?;
        let (abort, listening) = match options.signal.as_ref().map(|s| watch(env, s)).transpose()? {
            Some((abort, listening)) => (Some(abort), listening),
            None => (None, None),
        };
        let client = self.inner.clone();
        let batch = async move {
            let (rotate, env_dir) = match (concurrency, env_dir) {
                (Ok(concurrency), Ok(env_dir)) => (CoreRotate { concurrency, dry_run }, env_dir),
                (Err(e), _) | (_, Err(e)) => return Err(Failure::Core(e)),
            };
            let delivery = batch_delivery(destinations, dry_run).await?;
            let cancel = wayfinder_tokens::fleet::CancellationToken::new();
            let written = wayfinder_tokens::fleet::sinks(env_dir, None);
            let hooks = wayfinder_tokens::fleet::RotateHooks {
                progress: fleet::progress(progress),
                on_rotated: delivery
                    .as_ref()
                    .map_or(written.clone(), |batch| Some(batch.sink(written))),
                cancel: Some(cancel.clone()),
            };
            let deliveries = move |report| (report, delivery.map(|batch| batch.reports()).unwrap_or_default());
            let run = async {
                client
                    .rotate_workspace_access_tokens(&targets, &rotate, &hooks)
                    .await
                    .map(deliveries)
            };
            // An abort stops new rotations; the batch still reports.
            until_aborted(run, abort, &cancel).await
        };
        settle(env, listening, batch, BatchReport::new)
    }
}
