//! The tokio runtime, and the bridge by which its futures resolve asyncio
//! futures ([`crate::coroutine`] builds the coroutines on it, and
//! [`crate::blocking`] the blocking calls).
//!
//! One runtime per process, with one worker (the calls are I/O bound and
//! more workers only wake each other to steal them): a `fork()`ed child
//! (multiprocessing, celery prefork, gunicorn `--preload`) inherits the
//! parent's runtime without its threads, and its I/O driver shares the
//! parent's epoll instance, so the child builds its own and never touches
//! the parent's.
//!
//! An async method returns a coroutine that starts the call only when it
//! first runs (so nothing is sent until it is awaited or scheduled, and a
//! forgotten `await` draws Python's "never awaited" warning). The call is
//! spawned on the runtime and resolves an `asyncio.Future` on the loop's own
//! thread: through the loop's inbox (a socket the loop watches, see
//! [`crate::inbox`]), or, for a loop that cannot watch one, through
//! `loop.call_soon_threadsafe`, scheduled by a courier thread that takes the
//! GIL once for every call that finished meanwhile (or, for the only call in
//! flight, by the worker itself). A thread touching Python while the
//! interpreter finalises aborts the process (seen with pyo3-async-runtimes
//! when a script's last await completed just as `asyncio.run` returned), so
//! those threads count themselves while they hold the GIL, and an `atexit`
//! hook — which runs before finalisation — stops new Python work and waits
//! for the count to reach zero.

use std::collections::HashMap;
use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, Sender};
use std::time::{Duration, Instant};

use futures::FutureExt;
use pyo3::IntoPyObjectExt;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use tokio::runtime::Runtime;
use tokio::task::AbortHandle;

use crate::errors::{panicked, to_py};
use crate::settle::{Interrupted, Outcome, settle};

/// What one process runs calls on: the runtime, and the courier that hands
/// finished async calls to their event loops.
struct Engine {
    pid: u32,
    runtime: &'static Runtime,
    courier: Sender<Completion>,
}

/// The engine of this process.
static ENGINE: Mutex<Option<Engine>> = Mutex::new(None);

/// The engine of this process; a forked child gets a new one. The parent's
/// stays untouched (its threads do not exist in the child, so it is neither
/// used nor dropped).
fn engine<R>(with: impl FnOnce(&Engine) -> R) -> R {
    let pid = std::process::id();
    let mut current = ENGINE.lock().unwrap_or_else(|e| e.into_inner());
    if current.as_ref().is_none_or(|e| e.pid != pid) {
        let runtime: &'static Runtime = Box::leak(Box::new(
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(1)
                .enable_all()
                .thread_name("wayfinder-tokens")
                .build()
                .unwrap_or_else(|e| panic!("cannot start the tokio runtime: {e}")),
        ));
        // Counts inherited from the parent's threads mean nothing here.
        IN_PYTHON.store(0, Ordering::SeqCst);
        IN_FLIGHT.store(0, Ordering::SeqCst);
        let (courier, parcels) = std::sync::mpsc::channel();
        std::thread::Builder::new()
            .name("wayfinder-tokens-courier".to_owned())
            .spawn(move || deliver(&parcels))
            .unwrap_or_else(|e| panic!("cannot start the courier thread: {e}"));
        *current = Some(Engine { pid, runtime, courier });
    }
    with(current.as_ref().unwrap_or_else(|| unreachable!("set above")))
}

/// The runtime every client, emulator and CLI call of this process uses.
pub fn runtime() -> &'static Runtime {
    engine(|e| e.runtime)
}

static SHUTTING_DOWN: AtomicBool = AtomicBool::new(false);
static IN_PYTHON: AtomicUsize = AtomicUsize::new(0);

/// Registered with `atexit`: no worker touches Python from now on, and those
/// that already do are waited for (with the GIL released), briefly.
#[pyfunction]
pub fn _shutdown(py: Python<'_>) {
    SHUTTING_DOWN.store(true, Ordering::SeqCst);
    let deadline = Instant::now() + Duration::from_secs(2);
    py.detach(|| {
        while IN_PYTHON.load(Ordering::SeqCst) > 0 && Instant::now() < deadline {
            std::thread::sleep(Duration::from_micros(200));
        }
    });
}

/// A finished async call on its way to its event loop.
struct Completion {
    /// The loop's address: completions are grouped by loop.
    key: usize,
    event_loop: Py<PyAny>,
    future: Py<PyAny>,
    outcome: Outcome,
}

/// The courier thread: waits for finished calls, takes the GIL once for all
/// that arrived meanwhile, and hands each loop its share with one
/// `call_soon_threadsafe`. Tokio's workers never wait for the GIL (a worker
/// blocked on it stalls every task queued behind it), and under load one
/// GIL hand-off and one loop wake-up serve many calls.
fn deliver(parcels: &Receiver<Completion>) {
    while let Ok(first) = parcels.recv() {
        if SHUTTING_DOWN.load(Ordering::SeqCst) {
            continue; // the interpreter is exiting: drop results untouched
        }
        IN_PYTHON.fetch_add(1, Ordering::SeqCst);
        if !SHUTTING_DOWN.load(Ordering::SeqCst) {
            Python::attach(|py| {
                // What arrived while the GIL was awaited rides along.
                let mut by_loop: HashMap<usize, Vec<Completion>> = HashMap::new();
                for completion in std::iter::once(first).chain(parcels.try_iter()) {
                    by_loop.entry(completion.key).or_default().push(completion);
                }
                for group in by_loop.into_values() {
                    hand_over(py, group);
                }
            });
        }
        IN_PYTHON.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Schedules `_resolve` on the loop of `group` with every call of it.
fn hand_over(py: Python<'_>, group: Vec<Completion>) {
    let Some(event_loop) = group.first().map(|c| c.event_loop.clone_ref(py)) else {
        return;
    };
    let resolved: Vec<(Py<PyAny>, Py<PyAny>, bool)> = group
        .into_iter()
        .map(|c| {
            let (value, failed) = (c.outcome)(py);
            (c.future, value, failed)
        })
        .collect();
    let resolve = RESOLVE.get_or_try_init(py, || wrap_pyfunction!(_resolve, py).map(|f| f.into_any().unbind()));
    // The loop may be closed already (an abandoned call): nothing to resolve then.
    if let Ok(resolve) = resolve {
        let _ = event_loop
            .bind(py)
            .call_method1("call_soon_threadsafe", (resolve, resolved));
    }
}

static RESOLVE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// The last call in flight is handed over by its worker directly: its loop
/// is most likely idle, waiting for it, so the GIL is free and the courier's
/// extra thread hop would only add latency (about 15 % per call, measured).
fn hand_over_now(completion: Completion) {
    if SHUTTING_DOWN.load(Ordering::SeqCst) {
        return;
    }
    IN_PYTHON.fetch_add(1, Ordering::SeqCst);
    if !SHUTTING_DOWN.load(Ordering::SeqCst) {
        Python::attach(|py| hand_over(py, vec![completion]));
    }
    IN_PYTHON.fetch_sub(1, Ordering::SeqCst);
}

/// Async calls of this process started and not yet finished or cancelled.
static IN_FLIGHT: AtomicUsize = AtomicUsize::new(0);

/// One call counted in [`IN_FLIGHT`] until it is dropped (finished or aborted).
struct InFlight;

impl InFlight {
    fn start() -> InFlight {
        IN_FLIGHT.fetch_add(1, Ordering::SeqCst);
        InFlight
    }

    /// Whether no other call is in flight.
    fn is_alone(&self) -> bool {
        IN_FLIGHT.load(Ordering::SeqCst) == 1
    }
}

impl Drop for InFlight {
    fn drop(&mut self) {
        IN_FLIGHT.fetch_sub(1, Ordering::SeqCst);
    }
}

/// Resolves asyncio futures on their loop's thread, each unless it was
/// cancelled meanwhile.
#[pyfunction]
fn _resolve(py: Python<'_>, resolved: Vec<(Py<PyAny>, Py<PyAny>, bool)>) -> PyResult<()> {
    let mut interrupted = Interrupted::default();
    for (future, value, failed) in resolved {
        interrupted.keep(py, settle(py, &future, value, failed));
    }
    interrupted.raise()
}

/// How a finished call reaches the loop that awaits it.
enum Route {
    /// The loop's own inbox (see [`crate::inbox`]).
    #[cfg(unix)]
    Inbox(std::sync::Arc<crate::inbox::Mailbox>),
    /// The courier thread, through `call_soon_threadsafe`.
    Courier { event_loop: Py<PyAny> },
}

impl Route {
    fn of(py: Python<'_>, event_loop: &Bound<'_, PyAny>) -> Route {
        #[cfg(unix)]
        if let Some(mailbox) = crate::inbox::mailbox_of(py, event_loop) {
            return Route::Inbox(mailbox);
        }
        let _ = py;
        Route::Courier {
            event_loop: event_loop.clone().unbind(),
        }
    }

    /// Called by the worker that finished the call.
    fn deliver(self, future: Py<PyAny>, outcome: Outcome, in_flight: &InFlight, courier: &Sender<Completion>) {
        match self {
            #[cfg(unix)]
            Route::Inbox(mailbox) => mailbox.post(crate::inbox::Delivery { future, outcome }),
            Route::Courier { event_loop } => {
                let completion = Completion {
                    key: event_loop.as_ptr() as usize,
                    event_loop,
                    future,
                    outcome,
                };
                if in_flight.is_alone() {
                    hand_over_now(completion);
                } else {
                    let _ = courier.send(completion);
                }
            }
        }
    }
}

/// Runs `fut` on the runtime; returns an `asyncio.Future` of its result.
pub fn awaitable<T, F>(py: Python<'_>, fut: F) -> PyResult<Py<PyAny>>
where
    F: Future<Output = wayfinder_tokens::Result<T>> + Send + 'static,
    T: for<'py> IntoPyObject<'py> + Send + 'static,
{
    let event_loop = running_loop(py)?;
    let future = event_loop.call_method0("create_future")?;
    let route = Route::of(py, &event_loop);
    let future_ref = future.clone().unbind();
    let (runtime, courier) = engine(|e| (e.runtime, e.courier.clone()));
    let in_flight = InFlight::start();
    let task = runtime.spawn(async move {
        let outcome = AssertUnwindSafe(fut).catch_unwind().await;
        let outcome: Outcome = Box::new(move |py: Python<'_>| match outcome {
            Ok(Ok(value)) => match value.into_py_any(py) {
                Ok(v) => (v, false),
                Err(e) => (e.into_value(py).into_any(), true),
            },
            Ok(Err(e)) => (to_py(py, e).into_value(py).into_any(), true),
            Err(_) => (panicked(py).into_value(py).into_any(), true),
        });
        route.deliver(future_ref, outcome, &in_flight, &courier);
    });
    future.call_method1("add_done_callback", (CancelOnDone(task.abort_handle()),))?;
    Ok(future.unbind())
}

/// The running asyncio loop; under trio, curio or no loop at all, an error
/// that says what the `AsyncClient` needs and the way out.
fn running_loop(py: Python<'_>) -> PyResult<Bound<'_, PyAny>> {
    py.import("asyncio")?.call_method0("get_running_loop").map_err(|_| {
        pyo3::exceptions::PyRuntimeError::new_err(
            "the AsyncClient runs on asyncio, and no asyncio event loop is running in this thread \
             (under trio or another event loop, call the blocking Client from a worker thread, \
             e.g. trio.to_thread.run_sync(client.whoami))",
        )
    })
}

/// An awaitable that resolves at once to `value` (for `__aenter__` and the like).
pub fn ready<T>(py: Python<'_>, value: T) -> PyResult<Py<PyAny>>
where
    T: for<'py> IntoPyObject<'py>,
{
    let event_loop = py.import("asyncio")?.call_method0("get_running_loop")?;
    let future = event_loop.call_method0("create_future")?;
    future.call_method1("set_result", (value.into_py_any(py)?,))?;
    Ok(future.unbind())
}

/// Aborts the Rust task when its asyncio future is cancelled.
#[pyclass]
struct CancelOnDone(AbortHandle);

#[pymethods]
impl CancelOnDone {
    fn __call__(&self, future: &Bound<'_, PyAny>) -> PyResult<()> {
        if future.call_method0("cancelled")?.is_truthy()? {
            self.0.abort();
        }
        Ok(())
    }
}
