//! Async calls: real coroutines that start their core call when first run
//! and resolve through the asyncio bridge; a cancelled batch raises with its
//! partial report.

use std::future::Future;
use std::sync::Mutex;

use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use wayfinder_tokens::fleet::CancellationToken;

use crate::asyncio::awaitable;

/// The start of a call that has not begun: the coroutine that drives it
/// calls it once, when it first runs.
#[pyclass(frozen)]
struct Pending(Mutex<Option<Start>>);

/// Starts a call on the runtime and returns its `asyncio.Future`.
type Start = Box<dyn FnOnce(Python<'_>) -> PyResult<Py<PyAny>> + Send>;

#[pymethods]
impl Pending {
    fn __call__(&self, py: Python<'_>) -> PyResult<Py<PyAny>> {
        let start = self.0.lock().unwrap_or_else(|e| e.into_inner()).take();
        match start {
            Some(start) => start(py),
            None => Err(pyo3::exceptions::PyRuntimeError::new_err(
                "cannot reuse already awaited coroutine",
            )),
        }
    }
}

/// `async def drive(start): return await start()`, compiled once.
static DRIVE: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// An async call: a real coroutine named `AsyncClient.<name>` that starts
/// `fut` on the runtime when it first runs and returns its result.
pub fn coroutine<T, F>(py: Python<'_>, name: &'static str, fut: F) -> PyResult<Py<PyAny>>
where
    F: Future<Output = wayfinder_tokens::Result<T>> + Send + 'static,
    T: for<'py> IntoPyObject<'py> + Send + 'static,
{
    let drive = DRIVE.get_or_try_init(py, || {
        let module = PyModule::from_code(
            py,
            c"async def drive(start):\n    return await start()\n",
            c"<wayfinder_tokens>",
            c"wayfinder_tokens._drive",
        )?;
        module.getattr("drive").map(Bound::unbind)
    })?;
    // Boxed once here, the call's state (kilobytes) is not copied again at
    // each layer that wraps it on its way to the runtime.
    let fut = Box::pin(fut);
    let pending = Pending(Mutex::new(Some(Box::new(move |py| awaitable(py, fut)))));
    let coroutine = drive.bind(py).call1((pending,))?;
    coroutine.setattr(pyo3::intern!(py, "__name__"), name)?;
    coroutine.setattr(pyo3::intern!(py, "__qualname__"), format!("AsyncClient.{name}"))?;
    Ok(coroutine.unbind())
}

/// Cancels a batch: no new item starts; those in flight finish.
#[pyclass(frozen)]
struct CancelBatch(CancellationToken);

#[pymethods]
impl CancelBatch {
    fn __call__(&self) {
        self.0.cancel();
    }
}

/// The driver of a batch call: a cancelled task stops new items, waits for
/// those in flight (a second cancellation stops at once), and re-raises its
/// `CancelledError` with the partial result as `report`.
const DRIVE_BATCH: &std::ffi::CStr = c"import asyncio
async def drive_batch(start, cancel):
    future = start()
    try:
        return await asyncio.shield(future)
    except asyncio.CancelledError as cancelled:
        cancel()
        cancelled.report = await future
        raise
";

static DRIVE_BATCH_FN: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// An async batch call (see [`coroutine`]): cancelling its task cancels
/// `cancel` instead of dropping the call, so what is in flight still lands
/// in the report (and its secrets in the caller's sinks).
pub fn batch_coroutine<T, F>(
    py: Python<'_>,
    name: &'static str,
    cancel: CancellationToken,
    fut: F,
) -> PyResult<Py<PyAny>>
where
    F: Future<Output = wayfinder_tokens::Result<T>> + Send + 'static,
    T: for<'py> IntoPyObject<'py> + Send + 'static,
{
    let drive = DRIVE_BATCH_FN.get_or_try_init(py, || {
        let module = PyModule::from_code(py, DRIVE_BATCH, c"<wayfinder_tokens>", c"wayfinder_tokens._drive_batch")?;
        module.getattr("drive_batch").map(Bound::unbind)
    })?;
    let fut = Box::pin(fut);
    let pending = Pending(Mutex::new(Some(Box::new(move |py| awaitable(py, fut)))));
    let coroutine = drive.bind(py).call1((pending, CancelBatch(cancel)))?;
    coroutine.setattr(pyo3::intern!(py, "__name__"), name)?;
    coroutine.setattr(pyo3::intern!(py, "__qualname__"), format!("AsyncClient.{name}"))?;
    Ok(coroutine.unbind())
}
