//! The native addon of the `wayfinder-tokens` npm package: translates
//! arguments, results and errors between JavaScript and the Rust core.
//! Every decision about tokens, configs and HTTP stays in core.

// JS sees these classes through `util.inspect`, wired below to never show a
// secret; a Rust `Debug` would be one more place to get that wrong.
#![allow(missing_debug_implementations)]

#[macro_use]
extern crate napi_derive;

mod call;
mod client;
pub mod converge;
// Public: the `destinations` helpers are exported to JavaScript and to nothing in Rust.
pub mod deliver;
mod emulator;
mod fleet;
mod logging;
mod options;
mod spelling;
mod types;

use napi::bindgen_prelude::*;

use crate::call::spawn;
use crate::types::CliOutput;

/// One tokio worker for every call of the process: the calls are I/O bound
/// and start from one JS thread, and with more workers each request wakes
/// idle ones to steal work (measured on 2 cores: about a quarter less CPU per
/// create with one). If the runtime cannot be built, napi's default is used.
#[napi_derive::module_init]
fn init() {
    if let Ok(runtime) = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .thread_name("wayfinder-tokens")
        .enable_all()
        .build()
    {
        napi::bindgen_prelude::create_custom_tokio_runtime(runtime);
    }
    logging::from_env();
}

/// The library version.
#[napi]
pub const VERSION: &str = wayfinder_tokens::VERSION;

/// Runs the CLI (`npx wayfinder-tokens …`); argv excludes node and the script.
#[napi]
pub fn run_cli<'env>(env: &'env Env, argv: Vec<String>) -> Result<PromiseRaw<'env, CliOutput>> {
    let run = async move { Ok(wayfinder_tokens_cli::run(argv).await) };
    spawn(env, None, run, |out: wayfinder_tokens_cli::CliOutput| CliOutput {
        code: out.code,
        stdout: out.stdout,
        stderr: out.stderr,
    })
}

/// Runs the CLI (`npx wayfinder-tokens …`) on the process's own stdout and
/// stderr, each secret written as soon as it exists and every write checked;
/// resolves to the exit code. `signal` interrupts: a request in flight
/// stops; a batch rotation starts nothing new and writes what is in flight.
#[napi(ts_args_type = "argv: string[], signal?: AbortSignal")]
pub fn run_cli_stdio<'env>(
    env: &'env Env,
    argv: Vec<String>,
    signal: Option<Object<'_>>,
) -> Result<PromiseRaw<'env, i32>> {
    let (abort, listening) = match signal.as_ref().map(|s| call::watch(env, s)).transpose()? {
        Some((abort, listening)) => (Some(abort), listening),
        None => (None, None),
    };
    let run = async move {
        let cancel = wayfinder_tokens::fleet::CancellationToken::new();
        let run = wayfinder_tokens_cli::run_stdio(wayfinder_tokens_cli::PROGRAM, argv, cancel.clone());
        tokio::pin!(run);
        if let Some(abort) = abort {
            tokio::select! {
                biased;
                code = &mut run => return Ok(code),
                () = abort.wait() => cancel.cancel(),
            }
        }
        Ok(run.await)
    };
    call::settle(env, listening, run, |code: i32| code)
}

/// The access tokens as a text table (the CLI's `-o table`); `tokens` are
/// `AccessToken`s or the objects as the API returned them.
#[napi(ts_args_type = "tokens: Array<AccessToken | Record<string, unknown>>, options?: { headers?: boolean }")]
pub fn render_table(env: &Env, tokens: Vec<serde_json::Value>, options: Option<serde_json::Value>) -> Result<String> {
    let headers = options
        .as_ref()
        .and_then(|o| o.get("headers"))
        .and_then(serde_json::Value::as_bool)
        .unwrap_or(true);
    let objects = tokens
        .into_iter()
        .map(|t| {
            // An `AccessToken` carries the API's object under `object`.
            let object = match t.get("object") {
                Some(o) if o.is_object() => o.clone(),
                _ => t,
            };
            serde_json::from_value::<wayfinder_tokens::AccessToken>(object).map_err(|e| {
                wayfinder_tokens::Error::invalid(
                    wayfinder_tokens::Field::named("tokens"),
                    "invalidValue",
                    format!("holds something that is not an access token: {e}"),
                )
            })
        })
        .collect::<wayfinder_tokens::Result<Vec<_>>>();
    call::sync(env, objects).map(|objects| wayfinder_tokens::render::table(&objects, headers))
}

/// Adds `WayfinderError` and `isWayfinderError`, and makes `util.inspect`
/// (and `console.log`) of an `IssuedToken` or a `BatchReport` show its
/// `toJSON()` (never a secret) instead of `{}`.
#[napi(module_exports)]
pub fn module_exports(mut exports: Object, env: Env) -> Result<()> {
    call::register_error_class(&env, &mut exports)?;
    let key = env.symbol_for("nodejs.util.inspect.custom")?;
    for name in ["IssuedToken", "BatchReport", "Plan", "TokenSpec"] {
        let class = exports.get_named_property::<Unknown>(name)?.coerce_to_object()?;
        let mut prototype: Object = class.get_named_property("prototype")?;
        let inspect = env.create_function_from_closure::<(), Unknown, _>("inspect", |ctx| {
            let this: Object = ctx.this()?;
            let to_json: Function<'_, (), Unknown> = this.get_named_property("toJSON")?;
            to_json.apply(this, ())
        })?;
        prototype.set_property(key, inspect)?;
    }
    Ok(())
}
