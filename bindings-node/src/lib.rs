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
mod emulator;
mod fleet;
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

/// Adds `WayfinderError` and `isWayfinderError`, and makes
/// `util.inspect(issued)` show `toJSON()` (no secret) instead of `{}`.
#[napi(module_exports)]
pub fn module_exports(mut exports: Object, env: Env) -> Result<()> {
    call::register_error_class(&env, &mut exports)?;
    let class = exports
        .get_named_property::<Unknown>("IssuedToken")?
        .coerce_to_object()?;
    let mut prototype: Object = class.get_named_property("prototype")?;
    let inspect = env.create_function_from_closure::<(), Unknown, _>("inspect", |ctx| {
        let this: Object = ctx.this()?;
        let to_json: Function<'_, (), Unknown> = this.get_named_property("toJSON")?;
        to_json.apply(this, ())
    })?;
    let key = env.symbol_for("nodejs.util.inspect.custom")?;
    prototype.set_property(key, inspect)?;
    Ok(())
}
