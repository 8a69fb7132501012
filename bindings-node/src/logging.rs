//! The library's log for Node: the same records Python's `logging` receives
//! (requests, retries, renewals; never a secret: core's messages carry
//! none), for a function given to `setLogger`, or to stderr when
//! `WAYFINDER_TOKENS_LOG` names a level.

use std::io::Write as _;
use std::sync::Mutex;

use napi::bindgen_prelude::*;
use napi::threadsafe_function::{ThreadsafeFunction, ThreadsafeFunctionCallMode};

/// The environment variable that turns the stderr log on: `error`, `warn`,
/// `info`, `debug` or `trace`.
pub const ENV_LOG: &str = "WAYFINDER_TOKENS_LOG";

/// One record, as the logger function receives it.
#[napi(object)]
pub struct LogRecord {
    /// `error`, `warn`, `info`, `debug` or `trace`.
    pub level: String,
    /// The part of the library that logged it, e.g. `wayfinder_tokens::transport`.
    pub target: String,
    /// What happened.
    pub message: String,
}

type LogCallback = ThreadsafeFunction<LogRecord, (), LogRecord, Status, false, true>;

// The napi functions that build a `Function` sink are not in the crate's test build.
#[cfg_attr(test, allow(dead_code))]
enum Sink {
    Stderr,
    Function(LogCallback),
}

static SINK: Mutex<Option<Sink>> = Mutex::new(None);

struct Bridge;

impl log::Log for Bridge {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        // Only this library's own records, as in Python.
        metadata.target().starts_with("wayfinder_tokens")
    }

    fn log(&self, record: &log::Record<'_>) {
        if !self.enabled(record.metadata()) {
            return;
        }
        let sink = SINK.lock().unwrap_or_else(|e| e.into_inner());
        let level = record.level().as_str().to_ascii_lowercase();
        match sink.as_ref() {
            // `eprintln!` would panic on a closed stderr; a log line is not worth a failed call.
            Some(Sink::Stderr) => {
                let _ = writeln!(
                    std::io::stderr(),
                    "wayfinder-tokens {level} {}: {}",
                    record.target(),
                    record.args()
                );
            }
            Some(Sink::Function(f)) => {
                let record = LogRecord {
                    level,
                    target: record.target().to_owned(),
                    message: record.args().to_string(),
                };
                f.call(record, ThreadsafeFunctionCallMode::NonBlocking);
            }
            None => {}
        }
    }

    fn flush(&self) {}
}

fn level_filter(level: &str) -> Option<log::LevelFilter> {
    match level.trim().to_ascii_lowercase().as_str() {
        "off" | "" => Some(log::LevelFilter::Off),
        "error" => Some(log::LevelFilter::Error),
        "warn" | "warning" => Some(log::LevelFilter::Warn),
        "info" => Some(log::LevelFilter::Info),
        "debug" => Some(log::LevelFilter::Debug),
        "trace" => Some(log::LevelFilter::Trace),
        _ => None,
    }
}

/// Installs the bridge (once per process; a host that installed its own
/// `log` logger keeps it) and points it at `sink`.
fn install(sink: Option<Sink>, level: log::LevelFilter) {
    let _ = log::set_logger(&Bridge);
    *SINK.lock().unwrap_or_else(|e| e.into_inner()) = sink;
    log::set_max_level(level);
}

/// At load: the stderr log when `WAYFINDER_TOKENS_LOG` names a level.
pub fn from_env() {
    if let Some(level) = std::env::var(ENV_LOG).ok().as_deref().and_then(level_filter)
        && level != log::LevelFilter::Off
    {
        install(Some(Sink::Stderr), level);
    }
}

/// Sends the library's log records at `level` (default `info`) and above to
/// `logger`, called on the JavaScript thread; `null` turns it off. A logger
/// that throws is reported as a warning, never breaks a call.
#[cfg_attr(test, allow(dead_code))]
#[napi(
    ts_args_type = "logger: ((record: LogRecord) => void) | null, level?: 'error' | 'warn' | 'info' | 'debug' | 'trace'"
)]
pub fn set_logger(env: &Env, logger: Option<Function<'_, LogRecord, ()>>, level: Option<String>) -> Result<()> {
    let level = match level.as_deref().map(level_filter) {
        None => log::LevelFilter::Info,
        Some(Some(level)) => level,
        Some(None) => {
            let error = wayfinder_tokens::Error::invalid(
                wayfinder_tokens::Field::named("level"),
                "invalidValue",
                "must be error, warn, info, debug or trace",
            );
            return Err(crate::call::js_error(env, crate::call::Failure::Core(error)));
        }
    };
    let Some(logger) = logger else {
        install(None, log::LevelFilter::Off);
        return Ok(());
    };
    let wrap: Function<'_, Function<'_, LogRecord, ()>, Function<'_, LogRecord, ()>> = env.run_script(
        "(function (f) { return function logger(record) { try { f(record) } catch (error) { \
         process.emitWarning('the wayfinder-tokens logger threw: ' + \
         (error instanceof Error ? error.message : String(error)), 'WayfinderWarning') } } })",
    )?;
    let callback = wrap
        .call(logger)?
        .build_threadsafe_function::<LogRecord>()
        .callee_handled::<false>()
        .weak::<true>()
        .build()?;
    install(Some(Sink::Function(callback)), level);
    Ok(())
}
