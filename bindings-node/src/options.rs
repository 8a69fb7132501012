//! The options objects the Node methods take, and their translation into the
//! core's: numbers checked as whole numbers, durations as seconds or text.

use napi::bindgen_prelude::*;
use wayfinder_tokens::fleet::{InventoryQuery, MAX_CONCURRENCY};
use wayfinder_tokens::{Argument, CreateOptions as CoreCreate, names};

use crate::call::{Failure, js_error};
use crate::fleet::ProgressEvent;

/// The fields of an options object, as Rust names them.
pub(crate) trait Keys {
    const FIELDS: &'static [&'static str];
}

/// Lists an options object's fields for [`read`]. The list is checked by
/// the compiler: it destructures the struct with no `..`, so a field left
/// out or one that does not exist fails the build.
macro_rules! keys {
    ($($name:ident $(<$lt:lifetime>)? { $($field:ident),* $(,)? })*) => {$(
        impl Keys for $name $(<$lt>)? {
            const FIELDS: &'static [&'static str] = &[$(stringify!($field)),*];
        }

        const _: () = {
            #[allow(dead_code)]
            fn every_field_is_listed(options: $name $(<$lt>)?) {
                let $name { $($field: _),* } = options;
            }
        };
    )*};
}

keys! {
    ClientOptions {
        server, token, workspace, profile, config_path, timeout_ms, max_retries, ca_certificate,
        allow_insecure_http, api_group_version,
    }
    FromEnvOptions { profile, config_path }
    CreateOptions<'_> { workspace, description, expires_in, reset_token, dry_run, deliver, signal }
    ResetOptions<'_> { workspace, deliver, signal }
    PlatformResetOptions<'_> { deliver, signal }
    PendingOptions<'_> { list_only, signal }
    WorkspaceOptions<'_> { workspace, signal }
    CallOptions<'_> { signal }
    AccessRoleOptions<'_> { cluster, namespace, workspace, signal }
    InventoryOptions<'_> { workspaces, expiring_within, older_than, names, concurrency, signal }
    RotateOptions<'_> { concurrency, dry_run, on_progress, output_dir, deliver, signal }
    PlanOptions<'_> { rotate, signal }
    CheckOptions<'_> { within, signal }
}

/// A Rust field name as JavaScript spells it (`max_retries`: `maxRetries`).
fn camel_case(snake: &str) -> String {
    let mut words = snake.split('_');
    let mut out = words.next().unwrap_or_default().to_owned();
    for word in words {
        let mut chars = word.chars();
        if let Some(first) = chars.next() {
            out.extend(first.to_uppercase());
            out.push_str(chars.as_str());
        }
    }
    out
}

/// An options object read as `T`: a key that none of `T`'s options has (a
/// typo such as `descripton`) is a `VALIDATION` error naming it, and the
/// closest option when one is near, before anything is sent.
pub(crate) fn read<'a, T: Keys + FromNapiValue>(env: &'a Env, options: Option<Object<'a>>) -> Result<Option<T>> {
    let Some(options) = options else { return Ok(None) };
    if options.to_unknown().get_type()? != ValueType::Object {
        let error = wayfinder_tokens::Error::invalid(
            wayfinder_tokens::Field::named("options"),
            "invalidValue",
            "must be an object",
        );
        return Err(js_error(env, Failure::Core(error)));
    }
    let known: Vec<String> = T::FIELDS.iter().map(|f| camel_case(f)).collect();
    for key in Object::keys(&options)? {
        if known.contains(&key) {
            continue;
        }
        let advice = match wayfinder_tokens::names::closest(&key, &known) {
            Some(k) => format!("; did you mean {k}?"),
            None => format!("; the options are {}", known.join(", ")),
        };
        let error = wayfinder_tokens::Error::from_field_errors(vec![wayfinder_tokens::FieldError::new(
            wayfinder_tokens::Field::named(key.clone()),
            "unknown",
            format!("{key} is not an option here{advice}"),
        )]);
        return Err(js_error(env, Failure::Core(error)));
    }
    // Read through a holder: `FromNapiValue` itself takes raw handles.
    let mut holder = Object::new(env)?;
    holder.set_named_property("options", options)?;
    holder.get("options")
}

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
    /// Where the new secret goes (SPEC strings such as `'github:acme/app@prod'`
    /// or `'vault:secret/ci/{name}'`), each checked before anything is
    /// created; then delivered and verified (`issued.delivery`).
    #[napi(ts_type = "string | string[]")]
    pub deliver: Option<Unknown<'a>>,
    /// Aborts the call; it rejects with an `AbortError`. Once the secret
    /// exists, its delivery still runs to the end.
    #[napi(ts_type = "AbortSignal")]
    pub signal: Option<Object<'a>>,
}

/// Options of a workspace token's reset.
#[napi(object, object_to_js = false)]
pub struct ResetOptions<'a> {
    /// The workspace (default: the client's).
    pub workspace: Option<String>,
    /// Where the new secret goes, checked before the reset (see `CreateOptions`).
    #[napi(ts_type = "string | string[]")]
    pub deliver: Option<Unknown<'a>>,
    /// Aborts the call; it rejects with an `AbortError`.
    #[napi(ts_type = "AbortSignal")]
    pub signal: Option<Object<'a>>,
}

/// Options of a platform token's reset.
#[napi(object, object_to_js = false)]
pub struct PlatformResetOptions<'a> {
    /// Where the new secret goes, checked before the reset (see `CreateOptions`).
    #[napi(ts_type = "string | string[]")]
    pub deliver: Option<Unknown<'a>>,
    /// Aborts the call; it rejects with an `AbortError`.
    #[napi(ts_type = "AbortSignal")]
    pub signal: Option<Object<'a>>,
}

/// Options of `plan()` and `apply()`.
#[napi(object, object_to_js = false)]
pub struct PlanOptions<'a> {
    /// Names of the spec's tokens to rotate whether or not they are due.
    pub rotate: Option<Vec<String>>,
    /// Aborts the call: a plan rejects with an `AbortError`; an apply starts no
    /// further token (those started finish) and resolves with its report.
    #[napi(ts_type = "AbortSignal")]
    pub signal: Option<Object<'a>>,
}

/// Options of `check()`.
#[napi(object, object_to_js = false)]
pub struct CheckOptions<'a> {
    /// The horizon: due within this long counts as due (seconds, or a string such as `"14d"`; default 14 days).
    pub within: Option<Either<f64, String>>,
    /// Aborts the call; it rejects with an `AbortError`.
    #[napi(ts_type = "AbortSignal")]
    pub signal: Option<Object<'a>>,
}

/// Options of `deliverPending()`.
#[napi(object, object_to_js = false)]
pub struct PendingOptions<'a> {
    /// Only list what waits; deliver nothing.
    pub list_only: Option<bool>,
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
    /// Where each new secret goes, checked for every token before the first
    /// reset: SPECs for all (`{workspace}` and `{name}` filled in per token),
    /// an object mapping `'workspace/name'` to SPECs, or a function
    /// `(workspace, name) => SPECs`. `report.deliveries` says where each went.
    #[napi(
        ts_type = "string | string[] | Record<string, string | string[]> | ((workspace: string, name: string) => string | string[])"
    )]
    pub deliver: Option<Unknown<'a>>,
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
