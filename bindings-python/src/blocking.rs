//! Blocking calls: a core call run to completion with the GIL released,
//! interrupted by Ctrl-C within a poll interval; a batch's first Ctrl-C stops
//! it and raises with its partial report.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::mpsc::RecvTimeoutError;
use std::time::Duration;

use futures::FutureExt;
use pyo3::IntoPyObjectExt;
use pyo3::prelude::*;
use wayfinder_tokens::fleet::CancellationToken;

use crate::errors::{panicked, to_py};

use crate::asyncio::runtime;

/// How often a blocking call looks for a pending signal (Ctrl-C).
const SIGNAL_POLL: Duration = Duration::from_millis(50);

/// Runs `fut` to completion on the runtime with the GIL released. A signal
/// whose Python handler raises (Ctrl-C's `KeyboardInterrupt`) cancels the
/// call and is raised within [`SIGNAL_POLL`], instead of after the request.
pub fn wait<T, F>(py: Python<'_>, fut: F) -> PyResult<T>
where
    F: Future<Output = T> + Send,
    T: Send,
{
    let outcome = py.detach(|| {
        std::panic::catch_unwind(AssertUnwindSafe(|| {
            runtime().block_on(async {
                tokio::select! {
                    biased;
                    value = fut => Ok(value),
                    interrupted = interrupted() => Err(interrupted),
                }
            })
        }))
    });
    match outcome {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(interrupted)) => Err(interrupted),
        Err(_) => Err(panicked(py)),
    }
}

/// Runs `fut` like [`wait`], but a first signal whose handler raised only
/// cancels `cancel` (for `fut` to wind down and finish); a second one stops
/// `fut` and is raised.
pub fn wait_cancelling<T, F>(py: Python<'_>, cancel: CancellationToken, fut: F) -> PyResult<T>
where
    F: Future<Output = T> + Send,
    T: Send,
{
    let outcome = py.detach(|| {
        std::panic::catch_unwind(AssertUnwindSafe(|| {
            runtime().block_on(async {
                tokio::pin!(fut);
                loop {
                    tokio::select! {
                        biased;
                        value = &mut fut => return Ok(value),
                        interrupted = interrupted() => {
                            if cancel.is_cancelled() {
                                return Err(interrupted);
                            }
                            cancel.cancel();
                        }
                    }
                }
            })
        }))
    });
    match outcome {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(interrupted)) => Err(interrupted),
        Err(_) => Err(panicked(py)),
    }
}

/// Resolves when a signal handler raised; only the main thread sees signals.
async fn interrupted() -> PyErr {
    loop {
        tokio::time::sleep(SIGNAL_POLL).await;
        if let Err(e) = Python::attach(|py| py.check_signals()) {
            return e;
        }
    }
}

/// A blocking call: the future runs on the runtime's workers, beside the
/// connection tasks and the I/O driver, while the calling thread sleeps on a
/// channel with the GIL released and wakes once, when the result is in.
/// (Driving the future on the calling thread, as [`wait`] does, wakes that
/// thread at every step of every request: about 1.3x the CPU per call with 32
/// threads.) Every [`SIGNAL_POLL`] the thread looks for a signal whose handler
/// raised; the call is then aborted and the exception raised.
pub fn blocking<T, F>(py: Python<'_>, _name: &'static str, fut: F) -> PyResult<Py<PyAny>>
where
    F: Future<Output = wayfinder_tokens::Result<T>> + Send + 'static,
    T: for<'py> IntoPyObject<'py> + Send + 'static,
{
    refuse_inside_the_runtime(py)?;
    let fut = Box::pin(fut); // moved as a pointer from here on, see `coroutine`
    let (done, result) = std::sync::mpsc::sync_channel(1);
    let task = runtime().spawn(async move {
        // The receiver is gone only when the caller was interrupted.
        let _ = done.send(AssertUnwindSafe(fut).catch_unwind().await);
    });
    let outcome = py.detach(move || {
        loop {
            match result.recv_timeout(SIGNAL_POLL) {
                Ok(outcome) => return Ok(outcome),
                Err(RecvTimeoutError::Timeout) => {
                    if let Err(interrupted) = Python::attach(|py| py.check_signals()) {
                        task.abort();
                        return Err(interrupted);
                    }
                }
                // The task was dropped unfinished: the runtime is shutting down.
                Err(RecvTimeoutError::Disconnected) => return Ok(Err(Box::new(()) as Box<dyn std::any::Any + Send>)),
            }
        }
    })?;
    match outcome {
        Ok(Ok(value)) => value.into_py_any(py),
        Ok(Err(e)) => Err(to_py(py, e)),
        Err(_) => Err(panicked(py)),
    }
}

/// A blocking call from a thread of the runtime (a callback of a batch)
/// would wait for work that thread may have to do: refused.
fn refuse_inside_the_runtime(py: Python<'_>) -> PyResult<()> {
    if tokio::runtime::Handle::try_current().is_err() {
        return Ok(());
    }
    Err(to_py(
        py,
        wayfinder_tokens::Error::Config {
            message: "a blocking Client method cannot be called from a progress callback or on_rotated \
                      (it runs on the library's threads); use the AsyncClient there, \
                      or make the call after the batch returns"
                .to_owned(),
            source: None,
        },
    ))
}

/// A blocking batch call (see [`blocking`]): a first Ctrl-C cancels
/// `cancel` and waits for the items in flight, then raises
/// `KeyboardInterrupt` with the partial result as `report`; a second one
/// stops at once.
pub fn batch_blocking<T, F>(
    py: Python<'_>,
    _name: &'static str,
    cancel: CancellationToken,
    fut: F,
) -> PyResult<Py<PyAny>>
where
    F: Future<Output = wayfinder_tokens::Result<T>> + Send + 'static,
    T: for<'py> IntoPyObject<'py> + Send + 'static,
{
    refuse_inside_the_runtime(py)?;
    let fut = Box::pin(fut);
    let (done, result) = std::sync::mpsc::sync_channel(1);
    let task = runtime().spawn(async move {
        let _ = done.send(AssertUnwindSafe(fut).catch_unwind().await);
    });
    let (outcome, interrupt) = py.detach(move || {
        let mut interrupt: Option<PyErr> = None;
        loop {
            match result.recv_timeout(SIGNAL_POLL) {
                Ok(outcome) => return (Ok(outcome), interrupt),
                Err(RecvTimeoutError::Timeout) => {
                    if let Err(e) = Python::attach(|py| py.check_signals()) {
                        if interrupt.is_some() {
                            task.abort();
                            return (Err(e), None);
                        }
                        cancel.cancel();
                        interrupt = Some(e);
                    }
                }
                Err(RecvTimeoutError::Disconnected) => {
                    return (Ok(Err(Box::new(()) as Box<dyn std::any::Any + Send>)), interrupt);
                }
            }
        }
    });
    let outcome = outcome?;
    let value = match outcome {
        Ok(Ok(value)) => value.into_py_any(py)?,
        Ok(Err(e)) => return Err(interrupt.unwrap_or_else(|| to_py(py, e))),
        Err(_) => return Err(panicked(py)),
    };
    match interrupt {
        None => Ok(value),
        Some(e) => {
            e.value(py).setattr("report", value)?;
            Err(e)
        }
    }
}
