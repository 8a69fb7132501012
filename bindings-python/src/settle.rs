//! Settling an asyncio future with a call's outcome, on its loop's thread:
//! shared by the courier ([`crate::asyncio`]) and the loops' inboxes
//! ([`crate::inbox`]).

use pyo3::prelude::*;

/// Makes the Python value of a call's outcome: `(value, is_exception)`.
pub type Outcome = Box<dyn FnOnce(Python<'_>) -> (Py<PyAny>, bool) + Send>;

/// Sets `future`'s result or exception, unless it is done (cancelled) already.
pub fn settle(py: Python<'_>, future: &Py<PyAny>, value: Py<PyAny>, failed: bool) -> PyResult<()> {
    let future = future.bind(py);
    if future.call_method0("done")?.is_truthy()? {
        return Ok(());
    }
    future
        .call_method1(if failed { "set_exception" } else { "set_result" }, (value,))
        .map(drop)
}

/// The first `KeyboardInterrupt` or `SystemExit` raised while settling a
/// batch (a signal handler runs in the Python code that schedules a future's
/// callbacks): raised once the rest of the batch is settled, so that Ctrl-C
/// reaches the loop. Other errors only mean the future could not take its
/// value (a closed loop), which nobody is waiting for.
#[derive(Default)]
pub struct Interrupted(Option<PyErr>);

impl Interrupted {
    pub fn keep(&mut self, py: Python<'_>, settled: PyResult<()>) {
        if let Err(e) = settled
            && self.0.is_none()
            && !e.is_instance_of::<pyo3::exceptions::PyException>(py)
        {
            self.0 = Some(e);
        }
    }

    pub fn raise(self) -> PyResult<()> {
        self.0.map_or(Ok(()), Err)
    }
}
