//! Inboxes: how finished async calls reach their asyncio loop without a
//! thread of the runtime touching Python.
//!
//! Each loop that awaits a call gets an inbox: a queue and a socket pair
//! whose read end the loop itself watches (`loop.add_reader`). The tokio
//! worker that finishes a call puts its outcome in the queue and, when the
//! queue had no wake-up pending, writes one byte. The loop wakes in its own
//! `select`, reads the bytes and settles every future in the queue on its
//! own thread, with the GIL it already holds: one wake-up per batch, no GIL
//! hand-off between threads, and no thread but the loop's touching Python
//! (so none can race the interpreter's exit). Loops that cannot watch a
//! socket (Windows' proactor loop; a loop inherited through `fork()`, whose
//! selector the parent shares) are served by the courier instead.

use std::io::{Read, Write};
use std::os::fd::AsRawFd;
use std::os::unix::net::UnixStream;
use std::sync::{Arc, Mutex, MutexGuard};

use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;

use crate::settle::{Interrupted, Outcome, settle};

/// A finished call waiting in an inbox.
pub struct Delivery {
    pub future: Py<PyAny>,
    pub outcome: Outcome,
}

#[derive(Default)]
struct Queue {
    deliveries: Vec<Delivery>,
    /// A byte is on its way to (or waiting at) the loop: the next posts ride along.
    rung: bool,
    /// The loop is gone: nothing will read the queue again.
    closed: bool,
}

/// The half of an inbox the runtime's threads hold. It owns both ends of
/// the socket pair, so a worker's byte never meets a closed peer.
pub struct Mailbox {
    queue: Mutex<Queue>,
    bell: UnixStream,
    ear: UnixStream,
}

impl Mailbox {
    fn open() -> std::io::Result<Mailbox> {
        let (bell, ear) = UnixStream::pair()?;
        bell.set_nonblocking(true)?;
        ear.set_nonblocking(true)?;
        Ok(Mailbox {
            queue: Mutex::default(),
            bell,
            ear,
        })
    }

    fn queue(&self) -> MutexGuard<'_, Queue> {
        self.queue.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Called by a tokio worker, without the GIL.
    pub fn post(&self, delivery: Delivery) {
        let mut queue = self.queue();
        if queue.closed {
            drop(queue);
            // Dropped without the GIL: pyo3 defers the reference counts.
            drop(delivery);
            return;
        }
        queue.deliveries.push(delivery);
        let ring = !std::mem::replace(&mut queue.rung, true);
        drop(queue);
        if ring {
            // Non-blocking: if the buffer were full, the loop has bytes to wake on already.
            let _ = (&self.bell).write(&[1]);
        }
    }
}

/// The loop's half: the callback it runs when the socket is readable.
#[pyclass(frozen)]
pub struct Inbox {
    pid: u32,
    mailbox: Arc<Mailbox>,
}

#[pymethods]
impl Inbox {
    fn __call__(&self, py: Python<'_>) -> PyResult<()> {
        // Bytes first, then the queue: a post that lands after the queue is
        // taken finds `rung` false and writes a byte for the next wake-up.
        let mut scratch = [0_u8; 64];
        while matches!((&self.mailbox.ear).read(&mut scratch), Ok(n) if n > 0) {}
        let deliveries = {
            let mut queue = self.mailbox.queue();
            queue.rung = false;
            std::mem::take(&mut queue.deliveries)
        };
        let mut interrupted = Interrupted::default();
        for delivery in deliveries {
            let (value, failed) = (delivery.outcome)(py);
            interrupted.keep(py, settle(py, &delivery.future, value, failed));
        }
        interrupted.raise()
    }
}

impl Drop for Inbox {
    /// Runs with the GIL (the loop and its selector let go of the inbox).
    fn drop(&mut self) {
        let stale = {
            let mut queue = self.mailbox.queue();
            queue.closed = true;
            std::mem::take(&mut queue.deliveries)
        };
        drop(stale);
    }
}

/// Each loop's inbox, or `False` for a loop that cannot watch a socket.
/// Weak keys: a loop that is gone takes its inbox with it.
static INBOXES: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

/// The mailbox of `event_loop` (running on this thread), opened on first
/// use; `None` when the loop needs the courier.
pub fn mailbox_of(py: Python<'_>, event_loop: &Bound<'_, PyAny>) -> Option<Arc<Mailbox>> {
    let inboxes = INBOXES
        .get_or_try_init(py, || {
            py.import("weakref")?
                .call_method0("WeakKeyDictionary")
                .map(Bound::unbind)
        })
        .ok()?
        .bind(py);
    match inboxes.get_item(event_loop) {
        Ok(known) => {
            let inbox = known.cast_into::<Inbox>().ok()?;
            let inbox = inbox.get();
            // A loop from before a fork() watches a socket its parent reads too.
            return (inbox.pid == std::process::id()).then(|| Arc::clone(&inbox.mailbox));
        }
        // A loop that cannot be weakly referenced: no place to keep its inbox.
        Err(e) if e.is_instance_of::<PyTypeError>(py) => return None,
        Err(_) => {} // first call on this loop
    }
    forget_closed_loops(inboxes);
    let opened = open(py, event_loop);
    let entry = match &opened {
        Some(inbox) => inbox.clone().into_any(),
        None => pyo3::types::PyBool::new(py, false).to_owned().into_any(),
    };
    let _ = inboxes.set_item(event_loop, entry);
    opened.map(|inbox| Arc::clone(&inbox.get().mailbox))
}

/// Opens an inbox and has `event_loop` watch it.
fn open<'py>(py: Python<'py>, event_loop: &Bound<'py, PyAny>) -> Option<Bound<'py, Inbox>> {
    let mailbox = Arc::new(Mailbox::open().ok()?);
    let fd = mailbox.ear.as_raw_fd();
    let inbox = Bound::new(
        py,
        Inbox {
            pid: std::process::id(),
            mailbox,
        },
    )
    .ok()?;
    // Windows' proactor loop raises NotImplementedError here.
    event_loop.call_method1("add_reader", (fd, inbox.clone())).ok()?;
    Some(inbox)
}

/// Drops the inboxes of closed loops still referenced somewhere (a result
/// that arrived after its loop closed keeps that loop alive through the
/// inbox's queue until then).
fn forget_closed_loops(inboxes: &Bound<'_, PyAny>) {
    let Ok(loops) = inboxes
        .call_method0("keys")
        .and_then(|k| k.try_iter()?.collect::<PyResult<Vec<_>>>())
    else {
        return;
    };
    for event_loop in loops {
        let closed = event_loop.call_method0("is_closed").and_then(|c| c.is_truthy());
        if closed.unwrap_or(false) {
            let _ = inboxes.del_item(&event_loop);
        }
    }
}
