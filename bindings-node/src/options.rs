//! The options objects the Node methods take, and their translation into the
//! core's: numbers checked as whole numbers, durations as seconds or text.

use napi::bindgen_prelude::*;
use wayfinder_tokens::fleet::{InventoryQuery, MAX_CONCURRENCY};
use wayfinder_tokens::{Argument, CreateOptions as CoreCreate, names};

use crate::fleet::ProgressEvent;

/// How to reach the server. Anything left out comes from `WAYFINDER_SERVER`
/// + `WAYFINDER_TOKEN` (+ `WAYFINDER_WORKSPACE`), else the wf config file.
#[napi(object, object_to_js = false)]
pub struct ClientOptions {
    /// The Wayfinder API server URL (else `WAYFINDER_SERVER` or the profile).
    pub server: Option<String>,
    /// A static token, an access token (exchanged) or a refresh token.
    pub token: Option<String>,
    /// The default workspace of workspace operations.
    pub workspace: Option<String>,
    /// The config profile to use (default: its `currentProfile`).
    pub profile: Option<String>,
    /// The config file (default: `WAYFINDER_CONFIG` or `~/.wayfinder/config`).
    pub config_path: Option<String>,
    /// Per-request timeout in milliseconds (default 30000).
    pub timeout_ms: Option<f64>,
    /// Retries after the first attempt (default 3, at most 20).
    pub max_retries: Option<f64>,
    /// Extra CA certificates (PEM) to trust besides the platform's.
    pub ca_certificate: Option<String>,
    /// Allow plain `http://` to hosts other than loopback.
    pub allow_insecure_http: Option<bool>,
    /// Group/version of the access-token kinds.
    pub api_group_version: Option<String>,
}

/// Options for `Client.fromEnv`.
#[napi(object, object_to_js = false)]
pub struct FromEnvOptions {
    /// The config profile to use (default: its `currentProfile`).
    pub profile: Option<String>,
    /// The config file (default: `WAYFINDER_CONFIG` or `~/.wayfinder/config`).
    pub config_path: Option<String>,
}

/// Options of a create.
#[napi(object, object_to_js = false)]
pub struct CreateOptions<'a> {
    /// The workspace (default: the client's).
    pub workspace: Option<String>,
    /// What the token is for.
    pub description: Option<String>,
    /// Lifetime: seconds, or a string such as `"90d"` or `"12h"`.
    pub expires_in: Option<Either<f64, String>>,
    /// If the name exists, issue it a new secret instead of failing (roles kept).
    pub reset_token: Option<bool>,
    /// Validate and show the object; create nothing and issue no secret.
    pub dry_run: Option<bool>,
    /// Aborts the call; it rejects with an `AbortError`.
    #[napi(ts_type = "AbortSignal")]
    pub signal: Option<Object<'a>>,
}

/// Options of workspace operations.
#[napi(object, object_to_js = false)]
pub struct WorkspaceOptions<'a> {
    /// The workspace (default: the client's).
    pub workspace: Option<String>,
    /// Aborts the call; it rejects with an `AbortError`.
    #[napi(ts_type = "AbortSignal")]
    pub signal: Option<Object<'a>>,
}

/// Options of platform operations.
#[napi(object, object_to_js = false)]
pub struct CallOptions<'a> {
    /// Aborts the call; it rejects with an `AbortError`.
    #[napi(ts_type = "AbortSignal")]
    pub signal: Option<Object<'a>>,
}

/// Options of an access-role grant.
#[napi(object, object_to_js = false)]
pub struct AccessRoleOptions<'a> {
    /// The cluster a cluster or namespace role applies to.
    pub cluster: Option<String>,
    /// The namespace a namespace role applies to (needs `cluster`).
    pub namespace: Option<String>,
    /// The token's workspace (default: the client's).
    pub workspace: Option<String>,
    /// Aborts the call; it rejects with an `AbortError`.
    #[napi(ts_type = "AbortSignal")]
    pub signal: Option<Object<'a>>,
}

pub(crate) fn create_options(options: &mut Option<CreateOptions<'_>>) -> wayfinder_tokens::Result<CoreCreate> {
    let Some(o) = options.as_mut() else {
        return Ok(CoreCreate::default());
    };
    let expires_in = match o.expires_in.take() {
        None => None,
        Some(Either::A(secs)) => Some(wayfinder_tokens::names::seconds(Argument::ExpiresIn, secs)?),
        Some(Either::B(text)) => Some(wayfinder_tokens::names::parse_expires_in(Argument::ExpiresIn, &text)?),
    };
    Ok(CoreCreate {
        description: o.description.take(),
        expires_in,
        reset_token: o.reset_token.unwrap_or(false),
        dry_run: o.dry_run.unwrap_or(false),
    })
}

/// Options of `inventory()`.
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct InventoryOptions<'a> {
    /// These workspaces (default: every workspace these credentials can see).
    pub workspaces: Option<Vec<String>>,
    /// Only tokens that expire within this long (seconds, or text such as `"7d"`).
    pub expiring_within: Option<Either<f64, String>>,
    /// Only tokens whose secret is at least this old.
    pub older_than: Option<Either<f64, String>>,
    /// Only names matching one of these glob patterns (`"ci-*"`).
    pub names: Option<Vec<String>>,
    /// Lists in flight (default 16, at most 256).
    pub concurrency: Option<f64>,
    /// Aborts the call; it rejects with an `AbortError`.
    #[napi(ts_type = "AbortSignal")]
    pub signal: Option<Object<'a>>,
}

/// Options of `rotateWorkspaceAccessTokens()`.
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct RotateOptions<'a> {
    /// Rotations in flight (default 8, at most 256).
    pub concurrency: Option<f64>,
    /// Report what would rotate; rotate nothing.
    pub dry_run: Option<bool>,
    /// Called after each token.
    #[napi(ts_type = "(event: ProgressEvent) => void")]
    pub on_progress: Option<Function<'a, ProgressEvent, ()>>,
    /// Stops new rotations; the report lists what was not started.
    #[napi(ts_type = "AbortSignal")]
    pub signal: Option<Object<'a>>,
    /// Writes each new secret, as soon as it exists, to a 0600 env file
    /// `WORKSPACE.NAME.env` in this folder (checked, or created 0700, before
    /// any reset).
    pub output_dir: Option<String>,
}

pub(crate) fn duration(
    field: Argument,
    value: Option<Either<f64, String>>,
) -> wayfinder_tokens::Result<Option<std::time::Duration>> {
    match value {
        None => Ok(None),
        Some(Either::A(seconds)) => names::seconds(field, seconds).map(Some),
        Some(Either::B(text)) => names::parse_expires_in(field, &text).map(Some),
    }
}

pub(crate) fn inventory_query(o: &mut InventoryOptions<'_>) -> wayfinder_tokens::Result<InventoryQuery> {
    Ok(InventoryQuery {
        workspaces: o.workspaces.take(),
        expiring_within: duration(Argument::ExpiringWithin, o.expiring_within.take())?,
        older_than: duration(Argument::OlderThan, o.older_than.take())?,
        names: o.names.take().unwrap_or_default(),
        concurrency: o
            .concurrency
            .map(|n| names::whole_number(Argument::Concurrency, n, 1, MAX_CONCURRENCY as u64).map(|n| n as usize))
            .transpose()?,
    })
}
