//! Where a CLI run's output goes, written as it is produced. Every write
//! and flush is checked: a secret that did not reach standard output (a full
//! disk, a file-size limit, a closed pipe) is known, named on standard error,
//! and printed once more on the terminal when one is attached.

use std::io::Write;
use std::sync::{Arc, Mutex};

use tokio_util::sync::CancellationToken;

/// One output stream, shared by the tasks of a run.
#[derive(Clone)]
pub(crate) struct Stream(Arc<Mutex<Box<dyn Write + Send>>>);

impl std::fmt::Debug for Stream {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Stream")
    }
}

impl Stream {
    fn new(writer: impl Write + Send + 'static) -> Stream {
        Stream(Arc::new(Mutex::new(Box::new(writer))))
    }

    /// Writes all of `text` and flushes it through to the file or pipe.
    pub(crate) fn write(&self, text: &str) -> std::io::Result<()> {
        if text.is_empty() {
            return Ok(());
        }
        let mut w = self.0.lock().unwrap_or_else(|e| e.into_inner());
        w.write_all(text.as_bytes())?;
        w.flush()
    }
}

/// A run's standard output and error, and what interrupts it.
#[derive(Clone, Debug)]
pub(crate) struct Io {
    pub stdout: Stream,
    pub stderr: Stream,
    /// Cancelled by the host on Ctrl-C or SIGTERM.
    pub cancel: CancellationToken,
}

/// An in-memory buffer a [`Stream`] writes into, for [`super::run`].
#[derive(Clone, Default)]
pub(crate) struct Buffer(Arc<Mutex<Vec<u8>>>);

impl Write for Buffer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .extend_from_slice(bytes);
        Ok(bytes.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

impl Buffer {
    pub(crate) fn text(&self) -> String {
        String::from_utf8_lossy(&self.0.lock().unwrap_or_else(|e| e.into_inner())).into_owned()
    }
}

impl Io {
    /// Output kept in memory.
    pub(crate) fn buffered(cancel: CancellationToken) -> (Io, Buffer, Buffer) {
        let (out, err) = (Buffer::default(), Buffer::default());
        let io = Io {
            stdout: Stream::new(out.clone()),
            stderr: Stream::new(err.clone()),
            cancel,
        };
        (io, out, err)
    }

    /// The process's own standard output and error.
    pub(crate) fn stdio(cancel: CancellationToken) -> Io {
        Io {
            stdout: Stream::new(std::io::stdout()),
            stderr: Stream::new(std::io::stderr()),
            cancel,
        }
    }

    /// Tells standard error; if even that fails there is nobody left to tell.
    pub(crate) fn tell(&self, text: &str) {
        let _ = self.stderr.write(text);
    }

    /// After `text`, holding the secrets of `tokens`, could not be written:
    /// names them on standard error and prints `text` on the terminal if one
    /// is attached. Returns whether the terminal took it.
    pub(crate) fn rescue(&self, tokens: &[String], text: &str, error: &dyn std::fmt::Display) -> bool {
        let on_terminal = terminal().is_some_and(|mut tty| {
            tty.write_all(b"\n--- secrets that could not be written to standard output ---\n")
                .and_then(|()| tty.write_all(text.as_bytes()))
                .and_then(|()| tty.flush())
                .is_ok()
        });
        let what = if on_terminal {
            "they are printed on the terminal instead: store them now"
        } else {
            "no terminal is attached to print them on: reset these tokens to get working secrets"
        };
        self.tell(&format!(
            "error: could not write to standard output ({error}): the new secrets of {} did not get out; {what}\n",
            tokens.join(", ")
        ));
        on_terminal
    }
}

/// The controlling terminal, if the process has one.
fn terminal() -> Option<std::fs::File> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        std::fs::OpenOptions::new()
            .write(true)
            .custom_flags(libc::O_NOCTTY)
            .open("/dev/tty")
            .ok()
    }
    #[cfg(not(unix))]
    {
        None
    }
}
