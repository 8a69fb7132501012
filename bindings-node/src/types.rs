//! Result types. `IssuedToken` is a class so its secret is reached through
//! `token` only: `JSON.stringify` and `util.inspect` never show it. The
//! others hold no secret and are plain objects.

use std::collections::HashMap;

use napi::bindgen_prelude::*;
use wayfinder_tokens::{IssuedToken as CoreIssued, Secret, config, github, render};

use crate::call::{spawn_blocking, sync};

/// An access token object as the server returned it. Never holds a secret.
#[napi(object, object_from_js = false)]
pub struct AccessToken {
    /// The token's name, unique in its workspace.
    pub name: String,
    /// The workspace; absent for platform tokens.
    pub workspace: Option<String>,
    /// `WorkspaceAccessToken` or `PlatformAccessToken`.
    pub kind: String,
    /// What the token is for.
    pub description: Option<String>,
    /// RFC 3339 time after which the token stops working; absent: never.
    pub expiry: Option<String>,
    /// When the token was created (RFC 3339).
    pub created: Option<String>,
    /// How many secrets have been issued (each reset adds one).
    pub generation: i64,
    /// When a secret was last issued for it (RFC 3339).
    pub last_issued: Option<String>,
    /// The server's unique id of the object.
    pub uid: Option<String>,
    /// The whole object, as the API returned it.
    #[napi(ts_type = "Record<string, unknown>")]
    pub object: serde_json::Value,
}

impl From<wayfinder_tokens::AccessToken> for AccessToken {
    fn from(t: wayfinder_tokens::AccessToken) -> AccessToken {
        AccessToken {
            name: t.name().to_owned(),
            workspace: t.workspace().map(str::to_owned),
            kind: t.kind.clone(),
            description: t.description().map(str::to_owned),
            expiry: t.expiry().map(str::to_owned),
            created: t.created().map(str::to_owned),
            generation: t.generation(),
            last_issued: t.last_issued().map(str::to_owned),
            uid: t.metadata.uid.clone(),
            object: serde_json::to_value(&t).unwrap_or_default(),
        }
    }
}

pub fn access_tokens(list: Vec<wayfinder_tokens::AccessToken>) -> Vec<AccessToken> {
    list.into_iter().map(AccessToken::from).collect()
}

/// A cluster access role granted to a token.
#[napi(object, object_from_js = false)]
pub struct AccessRole {
    /// The role granted, e.g. `cluster.admin`.
    pub role: String,
    /// The cluster the role applies to, if it is scoped to one.
    pub cluster: Option<String>,
    /// The namespace the role applies to, if it is scoped to one.
    pub namespace: Option<String>,
}

/// Everything granted to a token.
#[napi(object, object_from_js = false)]
pub struct Roles {
    /// Roles on clusters and namespaces.
    pub access_roles: Vec<AccessRole>,
    /// Wayfinder roles (e.g. `workspace.admin`).
    pub wayfinder_roles: Vec<String>,
}

impl From<wayfinder_tokens::Roles> for Roles {
    fn from(r: wayfinder_tokens::Roles) -> Roles {
        Roles {
            access_roles: r
                .access_roles
                .into_iter()
                .map(|a| AccessRole {
                    role: a.role,
                    cluster: a.cluster,
                    namespace: a.namespace,
                })
                .collect(),
            wayfinder_roles: r.wayfinder_roles,
        }
    }
}

/// Who a client is authenticated as.
#[napi(object, object_from_js = false)]
pub struct WhoAmI {
    /// How the caller authenticated.
    pub auth_method: String,
    /// Who the server says the caller is.
    pub username: String,
    /// The workspaces the caller belongs to.
    pub workspaces: Vec<String>,
    /// The kind of subject: a user or an access token.
    pub subject_kind: String,
}

impl From<wayfinder_tokens::WhoAmI> for WhoAmI {
    fn from(w: wayfinder_tokens::WhoAmI) -> WhoAmI {
        WhoAmI {
            auth_method: w.auth_method,
            username: w.username,
            workspaces: w.workspaces,
            subject_kind: w.subject_kind,
        }
    }
}

/// Fields to build an `IssuedToken` by hand (to render a token you already hold).
#[napi(object, object_to_js = false)]
pub struct IssuedTokenFields {
    /// The token's name.
    pub name: String,
    /// The server that issued it.
    pub server: String,
    /// The secret (absent for a dry run).
    pub token: Option<String>,
    /// The workspace, for a workspace token.
    pub workspace: Option<String>,
    /// What the token is for.
    pub description: Option<String>,
}

/// What `JSON.stringify` and `util.inspect` show: everything but the secret.
#[napi(object, object_from_js = false)]
pub struct IssuedTokenView {
    /// The token's name.
    pub name: String,
    /// The workspace, for a workspace token.
    pub workspace: Option<String>,
    /// The server that issued it.
    pub server: String,
    /// What the token is for.
    pub description: Option<String>,
    /// Whether this is a dry run: nothing was created and there is no secret.
    pub dry_run: bool,
    /// `"<redacted>"` when there is a secret; reach it through `.token`.
    pub token: Option<String>,
}

/// Where `saveProfile` writes.
#[napi(object, object_to_js = false)]
pub struct SaveProfileOptions {
    /// The config file (default: `$WAYFINDER_CONFIG` or `~/.wayfinder/config`).
    pub config_path: Option<String>,
    /// The profile's name (default: the token's name).
    pub profile: Option<String>,
    /// Make it the current profile.
    pub make_current: Option<bool>,
}

/// A token just created or reset. `token` is the secret (absent for a dry run).
#[napi]
pub struct IssuedToken {
    pub(crate) inner: CoreIssued,
    /// Where the `deliver` option put the secret.
    pub(crate) delivery: Option<std::sync::Arc<wayfinder_tokens::deliver::DeliveryReport>>,
}

#[napi]
impl IssuedToken {
    /// A token from its parts (e.g. one read from your secret store), to render or save it.
    #[napi(constructor)]
    pub fn new(fields: IssuedTokenFields) -> Self {
        IssuedToken {
            inner: CoreIssued {
                name: fields.name,
                workspace: fields.workspace,
                server: fields.server,
                description: fields.description,
                token: fields.token.map(Secret::new),
                expires: None,
                resource: Default::default(),
            },
            delivery: None,
        }
    }

    /// Where the `deliver` option put the secret: each destination verified,
    /// or why not (absent without `deliver`).
    #[napi(getter)]
    pub fn delivery(&self) -> Option<crate::deliver::DeliveryReport> {
        self.delivery.as_deref().map(Into::into)
    }

    /// Delivers the secret to `destinations` (SPEC strings such as
    /// `'github:acme/app'`, `'vault:secret/ci/app'`, `'file:app.env'` or
    /// `'cmd:gh secret set …'`), each checked first. What a destination did not
    /// take waits, 0600, in the recovery store until `deliverPending()`.
    #[napi(ts_return_type = "Promise<DeliveryReport>")]
    pub fn deliver<'env>(
        &self,
        env: &'env Env,
        #[napi(ts_arg_type = "string | string[]")] destinations: Unknown<'_>,
    ) -> Result<PromiseRaw<'env, crate::deliver::DeliveryReport>> {
        let specs = crate::deliver::specs(Some(&destinations))?;
        let issued = self.inner.clone();
        crate::call::spawn(
            env,
            None,
            async move { crate::deliver::deliver(issued, specs?.unwrap_or_default()).await },
            |report| crate::deliver::DeliveryReport::from(report.as_ref()),
        )
    }

    /// A Kubernetes `Secret` manifest (YAML) holding the three values,
    /// labelled with the token's name, workspace and generation: for
    /// `kubectl apply -f -`. `prefix` goes before each key.
    #[napi]
    pub fn to_kubernetes_secret(&self, env: &Env, prefix: Option<String>) -> Result<String> {
        sync(
            env,
            wayfinder_tokens::deliver::kubernetes_secret(&self.inner, prefix.as_deref().unwrap_or_default()),
        )
    }

    /// The token's name.
    #[napi(getter)]
    pub fn name(&self) -> String {
        self.inner.name.clone()
    }

    /// The workspace; absent for platform tokens.
    #[napi(getter)]
    pub fn workspace(&self) -> Option<String> {
        self.inner.workspace.clone()
    }

    /// The server's URL.
    #[napi(getter)]
    pub fn server(&self) -> String {
        self.inner.server.clone()
    }

    /// Its description, or `null`.
    #[napi(getter)]
    pub fn description(&self) -> Option<String> {
        self.inner.description.clone()
    }

    /// The secret; absent for a dry run. It cannot be retrieved again: store it now.
    #[napi(getter)]
    pub fn token(&self) -> Option<String> {
        self.inner.token.as_ref().map(|t| t.expose().to_owned())
    }

    /// Unix seconds when the secret stops working, if it expires.
    #[napi(getter)]
    pub fn expires(&self) -> Option<i64> {
        self.inner.expires
    }

    /// `true` for a dry run: nothing was created and there is no secret.
    #[napi(getter)]
    pub fn dry_run(&self) -> bool {
        self.inner.is_dry_run()
    }

    /// The object as the server returned it.
    #[napi(getter)]
    pub fn resource(&self) -> AccessToken {
        AccessToken::from(self.inner.resource.clone())
    }

    /// Comment lines, then WAYFINDER_SERVER, WAYFINDER_TOKEN, WAYFINDER_WORKSPACE, aligned for reading.
    #[napi]
    pub fn to_env(&self, env: &Env) -> Result<String> {
        sync(env, render::env(&self.inner))
    }

    /// `KEY=value` lines only, ready for `> token.env`.
    #[napi]
    pub fn to_export(&self, env: &Env) -> Result<String> {
        sync(env, render::export(&self.inner))
    }

    /// `export KEY='value'` lines, for `eval "$(…)"` in a shell.
    #[napi]
    pub fn to_shell(&self, env: &Env) -> Result<String> {
        sync(env, render::shell(&self.inner))
    }

    /// A wf config holding this token as a profile named after it, as YAML.
    #[napi]
    pub fn to_config_yaml(&self, env: &Env) -> Result<String> {
        sync(env, wayfinder_tokens::config::yaml_for_token(&self.inner))
    }

    /// name, workspace, server, description and token as JSON text.
    #[napi]
    pub fn to_json(&self, env: &Env) -> Result<String> {
        sync(env, render::json(&self.inner))
    }

    /// The same fields as YAML.
    #[napi]
    pub fn to_yaml(&self, env: &Env) -> Result<String> {
        sync(env, render::yaml(&self.inner))
    }

    /// Hands the token to the later steps of a GitHub Actions job, as
    /// `@actions/core` does: prints `::add-mask::` for it on stdout and sets
    /// this step's outputs (`$GITHUB_OUTPUT`), so later steps keep the job's own
    /// credentials. `{ env: true }` also sets the variables for every later step
    /// (`$GITHUB_ENV`): without a `prefix` they then run as this new token.
    /// Throws `CONFIG` before writing anything when a file is missing or is
    /// stdout. Returns the files written.
    #[napi]
    pub fn export_to_github_actions(&self, env: &Env, options: Option<GithubHandoffOptions>) -> Result<Vec<String>> {
        let options = options.unwrap_or_default();
        let handoff = github::Handoff {
            prefix: options.prefix.unwrap_or_default(),
            env: options.env.unwrap_or(false),
            output_file: options.output_file.map(std::path::PathBuf::from),
            env_file: options.env_file.map(std::path::PathBuf::from),
        };
        sync(env, github::export(&self.inner, &handoff))
            .map(|files| files.iter().map(|p| p.display().to_string()).collect())
    }

    /// Writes a standalone config holding just this token (atomic, mode
    /// 0600), off the JS thread.
    #[napi]
    pub fn write_config<'env>(&self, env: &'env Env, path: String) -> Result<PromiseRaw<'env, ()>> {
        let issued = self.inner.clone();
        spawn_blocking(
            env,
            move || config::write_config(&issued, std::path::Path::new(&path)),
            |()| (),
        )
    }

    /// `writeConfig`, blocking the JS thread until the file is written.
    #[napi]
    pub fn write_config_sync(&self, env: &Env, path: String) -> Result<()> {
        sync(env, config::write_config(&self.inner, std::path::Path::new(&path)))
    }

    /// Merges this token as a profile into a config file (the user's own by
    /// default) under the file lock, keeping every other profile and key.
    /// Waits for the lock off the JS thread; resolves to the file's path.
    #[napi]
    pub fn save_profile<'env>(
        &self,
        env: &'env Env,
        options: Option<SaveProfileOptions>,
    ) -> Result<PromiseRaw<'env, String>> {
        let issued = self.inner.clone();
        spawn_blocking(env, move || save_profile(&issued, options), |p| p.display().to_string())
    }

    /// `saveProfile`, blocking the JS thread (up to the lock's 10 s) until saved.
    #[napi]
    pub fn save_profile_sync(&self, env: &Env, options: Option<SaveProfileOptions>) -> Result<String> {
        sync(env, save_profile(&self.inner, options)).map(|p| p.display().to_string())
    }

    /// What `JSON.stringify` shows: everything but the secret.
    #[napi(js_name = "toJSON")]
    pub fn to_json_view(&self) -> IssuedTokenView {
        IssuedTokenView {
            name: self.inner.name.clone(),
            workspace: self.inner.workspace.clone(),
            server: self.inner.server.clone(),
            description: self.inner.description.clone(),
            dry_run: self.inner.is_dry_run(),
            token: self.inner.token.as_ref().map(|_| "<redacted>".to_owned()),
        }
    }
}

/// `{ requests: { "METHOD /path": count }, total }`.
#[napi(object, object_from_js = false)]
pub struct EmulatorStats {
    /// Requests answered, by `METHOD path`.
    pub requests: HashMap<String, i64>,
    /// All requests answered.
    pub total: i64,
}

/// What a CLI run printed and how it ended.
#[napi(object, object_from_js = false)]
pub struct CliOutput {
    /// The exit code (0 success, 1 failure, 2 bad usage).
    pub code: i32,
    /// What the command printed on standard output.
    pub stdout: String,
    /// What the command printed on standard error (no secret).
    pub stderr: String,
}

fn save_profile(
    issued: &wayfinder_tokens::IssuedToken,
    options: Option<SaveProfileOptions>,
) -> wayfinder_tokens::Result<std::path::PathBuf> {
    let options = options.unwrap_or(SaveProfileOptions {
        config_path: None,
        profile: None,
        make_current: None,
    });
    let path = options.config_path.map(std::path::PathBuf::from);
    config::save_profile(
        issued,
        path.as_deref(),
        options.profile.as_deref(),
        options.make_current.unwrap_or(false),
        None,
    )
}

/// Options of `exportToGithubActions()`.
#[napi(object)]
#[derive(Default)]
pub struct GithubHandoffOptions {
    /// Put before each name: `NEW_` gives `NEW_WAYFINDER_TOKEN`.
    pub prefix: Option<String>,
    /// Also set the variables for every later step (`$GITHUB_ENV`).
    pub env: Option<bool>,
    /// The output file (default `$GITHUB_OUTPUT`).
    pub output_file: Option<String>,
    /// The env file (default `$GITHUB_ENV`).
    pub env_file: Option<String>,
}
