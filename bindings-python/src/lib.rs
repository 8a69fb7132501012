//! The native module `wayfinder_tokens._native`: translates arguments,
//! results and errors between Python and the `wayfinder-tokens` core. Every
//! decision about tokens, configs and HTTP stays in core.

// Python sees these classes through their `__repr__`, which never shows a
// secret; a Rust `Debug` would be one more place to get that wrong.
#![allow(missing_debug_implementations)]

mod asyncio;
mod blocking;
mod client;
mod converge;
mod coroutine;
mod deliver;
mod errors;
mod fleet;
#[cfg(unix)]
mod inbox;
mod repr;
mod settle;
mod testing;
mod types;

use std::sync::OnceLock;

use pyo3::prelude::*;
use pyo3_log::{Caching, Logger, ResetHandle};

static LOG_RESET: OnceLock<Option<ResetHandle>> = OnceLock::new();

/// Bridges this library's `log` records to Python's `logging` (logger
/// `wayfinder_tokens`) on first use rather than at import, since importing
/// `logging` is most of an import's cost; then forgets pyo3-log's cached
/// levels, so logging configured since takes effect. Called when a client is
/// made and when the CLI runs.
pub(crate) fn reset_log_cache(py: Python<'_>) {
    let handle = LOG_RESET.get_or_init(|| {
        // Only this library's own records go to Python.
        let logger = Logger::new(py, Caching::LoggersAndLevels).ok()?;
        let logger = logger
            .filter(log::LevelFilter::Off)
            .filter_target("wayfinder_tokens".to_owned(), log::LevelFilter::Debug);
        logger.install().ok()
    });
    if let Some(handle) = handle {
        handle.reset();
    }
}

/// Runs the CLI (`python -m wayfinder_tokens`); returns (exit code, stdout,
/// stderr). Ctrl-C raises `KeyboardInterrupt` and cancels the request.
#[pyfunction]
fn run_cli(py: Python<'_>, argv: Vec<String>) -> PyResult<(i32, String, String)> {
    reset_log_cache(py);
    let out = blocking::wait(py, wayfinder_tokens_cli::run(argv))?;
    Ok((out.code, out.stdout, out.stderr))
}

/// Runs the CLI (`python -m wayfinder_tokens`) on the process's own stdout
/// and stderr, each secret written as soon as it exists and every write
/// checked; returns the exit code. A first Ctrl-C interrupts (a request in
/// flight stops; a batch rotation starts nothing new and writes what is in
/// flight); a second raises `KeyboardInterrupt` at once.
#[pyfunction]
fn run_cli_stdio(py: Python<'_>, argv: Vec<String>) -> PyResult<i32> {
    reset_log_cache(py);
    let cancel = wayfinder_tokens::fleet::CancellationToken::new();
    let run = wayfinder_tokens_cli::run_stdio("python -m wayfinder_tokens", argv, cancel.clone());
    blocking::wait_cancelling(py, cancel, run)
}

/// Runs the emulator command (`python -m wayfinder_tokens.testing`): the
/// same flags and first line as `wayfinder-emulator`; returns the exit code.
#[pyfunction]
fn run_emulator(py: Python<'_>, argv: Vec<String>) -> PyResult<i32> {
    blocking::wait(
        py,
        wayfinder_emulator::cli::main_as("python -m wayfinder_tokens.testing", argv),
    )
}

/// The Python logging level the CLI flags ask for.
#[pyfunction]
fn cli_log_level(argv: Vec<String>) -> u8 {
    match wayfinder_tokens_cli::log_level(&argv) {
        log::LevelFilter::Trace | log::LevelFilter::Debug => 10,
        log::LevelFilter::Info => 20,
        _ => 30,
    }
}

/// NAME, WORKSPACE, DESCRIPTION, CREATED columns, as the CLI prints them.
#[pyfunction]
#[pyo3(signature = (tokens, headers=true))]
fn render_table(tokens: &Bound<'_, PyAny>, headers: bool) -> PyResult<String> {
    let tokens = tokens
        .try_iter()?
        .map(|t| Ok(t?.extract::<PyRef<'_, types::AccessToken>>()?.0.clone()))
        .collect::<PyResult<Vec<wayfinder_tokens::AccessToken>>>()?;
    Ok(wayfinder_tokens::render::table(&tokens, headers))
}

/// For the benchmarks: one asyncio ↔ tokio round trip that does no work,
/// as a coroutine (what every async method returns) or as the bare
/// `asyncio.Future` underneath it.
#[pyfunction]
#[pyo3(name = "_handoff")]
fn handoff(py: Python<'_>, as_coroutine: bool) -> PyResult<Py<PyAny>> {
    let nothing = async { Ok::<(), wayfinder_tokens::Error>(()) };
    if as_coroutine {
        coroutine::coroutine(py, "_handoff", nothing)
    } else {
        asyncio::awaitable(py, nothing)
    }
}

#[pyfunction]
#[pyo3(name = "_reset_log_cache")]
fn reset_log_cache_py(py: Python<'_>) {
    reset_log_cache(py);
}

#[pymodule]
fn _native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("__version__", wayfinder_tokens::VERSION)?;
    errors::register(m)?;
    m.add_class::<client::AsyncClient>()?;
    m.add_class::<client::Client>()?;
    m.add_class::<types::IssuedToken>()?;
    m.add_class::<deliver::DeliveryReport>()?;
    m.add_class::<deliver::PendingDelivery>()?;
    m.add_class::<converge::TokenSpec>()?;
    m.add_class::<converge::Plan>()?;
    m.add_class::<converge::ApplyReport>()?;
    m.add_class::<converge::RotationDue>()?;
    m.add_function(wrap_pyfunction!(converge::load_spec, m)?)?;
    m.add_function(wrap_pyfunction!(converge::parse_spec, m)?)?;
    m.add_function(wrap_pyfunction!(converge::spec_schema, m)?)?;
    m.add_class::<types::AccessToken>()?;
    m.add_class::<types::AccessRole>()?;
    m.add_class::<types::Roles>()?;
    m.add_class::<types::WhoAmI>()?;
    m.add_class::<fleet::Inventory>()?;
    m.add_class::<fleet::InventoryEntry>()?;
    m.add_class::<fleet::BatchReport>()?;
    m.add_class::<fleet::RotationFailure>()?;
    m.add_class::<testing::Emulator>()?;
    m.add_function(wrap_pyfunction!(render_table, m)?)?;
    m.add_function(wrap_pyfunction!(run_cli, m)?)?;
    m.add_function(wrap_pyfunction!(run_cli_stdio, m)?)?;
    m.add_function(wrap_pyfunction!(run_emulator, m)?)?;
    m.add_function(wrap_pyfunction!(cli_log_level, m)?)?;
    m.add_function(wrap_pyfunction!(reset_log_cache_py, m)?)?;
    m.add_function(wrap_pyfunction!(handoff, m)?)?;
    let shutdown = wrap_pyfunction!(asyncio::_shutdown, m)?;
    py.import("atexit")?.call_method1("register", (shutdown,))?;
    Ok(())
}
