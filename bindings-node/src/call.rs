//! Turning core futures into Promises: errors become JS `Error`s with a
//! stable `code`, the HTTP `status` and `fieldErrors`, built on the JS thread;
//! an `AbortSignal` cancels the call; a panic rejects instead of crashing.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;

use futures::FutureExt;
use napi::bindgen_prelude::*;
use tokio::sync::Notify;
use wayfinder_tokens::Error as CoreError;

/// Why a call did not produce a value.
pub enum Failure {
    Core(CoreError),
    Aborted,
    Panicked,
}

impl From<CoreError> for Failure {
    fn from(e: CoreError) -> Failure {
        Failure::Core(e)
    }
}

/// A field that failed validation, as JS sees it.
#[napi(object, object_from_js = false)]
pub struct FieldError {
    pub field: String,
    pub message: String,
}

/// Builds the JS error for a failure and wraps it so that napi throws or
/// rejects with exactly that object.
pub fn js_error(env: &Env, failure: Failure) -> Error {
    match build_js_error(env, failure) {
        Ok(object) => Error::from(object.to_unknown()),
        Err(e) => e,
    }
}

fn build_js_error(env: &Env, failure: Failure) -> Result<Object<'_>> {
    let (name, code, message, status, field_errors) = match failure {
        Failure::Core(e) => {
            let fields = e
                .field_errors()
                .iter()
                .map(|f| FieldError {
                    field: f.field.clone(),
                    message: f.message.clone(),
                })
                .collect::<Vec<_>>();
            ("Error", e.code(), e.message().to_owned(), e.status(), fields)
        }
        Failure::Aborted => (
            "AbortError",
            "ABORT_ERR",
            "The operation was aborted".to_owned(),
            None,
            Vec::new(),
        ),
        Failure::Panicked => (
            "Error",
            "INTERNAL",
            "internal error in wayfinder-tokens (a bug; please report it)".to_owned(),
            None,
            Vec::new(),
        ),
    };
    let mut error = env.create_error(Error::new(Status::GenericFailure, message))?;
    if name != "Error" {
        error.set_named_property("name", name)?;
    }
    error.set_named_property("code", code)?;
    match status {
        Some(s) => error.set_named_property("status", s)?,
        None => error.set_named_property("status", Null)?,
    }
    error.set_named_property("fieldErrors", field_errors)?;
    Ok(error)
}

/// Converts a core result of a synchronous call, throwing a coded error.
pub fn sync<T>(env: &Env, result: wayfinder_tokens::Result<T>) -> Result<T> {
    result.map_err(|e| js_error(env, Failure::Core(e)))
}

/// Fires once when the caller's `AbortSignal` aborts.
#[derive(Default)]
pub struct Abort {
    notify: Notify,
    aborted: std::sync::atomic::AtomicBool,
}

impl Abort {
    fn abort(&self) {
        self.aborted.store(true, std::sync::atomic::Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    async fn wait(&self) {
        let notified = self.notify.notified();
        if self.aborted.load(std::sync::atomic::Ordering::SeqCst) {
            return;
        }
        notified.await;
    }
}

/// `EventTarget.prototype.addEventListener` as `signal.addEventListener("abort", listener)` calls it.
type AddEventListener<'a> = Function<'a, FnArgs<(&'a str, Function<'a, (), ()>)>, Unknown<'a>>;

/// Reads `signal.aborted` and listens for its `abort` event.
fn watch(env: &Env, signal: &Object<'_>) -> Result<Arc<Abort>> {
    let abort = Arc::new(Abort::default());
    if signal.get_named_property::<Option<bool>>("aborted")?.unwrap_or(false) {
        abort.abort();
        return Ok(abort);
    }
    let fire = Arc::clone(&abort);
    let listener = env.create_function_from_closure::<(), (), _>("onWayfinderAbort", move |_| {
        fire.abort();
        Ok(())
    })?;
    let add: AddEventListener<'_> = signal.get_named_property("addEventListener")?;
    add.apply(signal, FnArgs::from(("abort", listener)))?;
    Ok(abort)
}

/// Runs `fut` on the runtime and returns a Promise of `convert(value)`.
pub fn spawn<'env, T, V, F>(
    env: &'env Env,
    signal: Option<Object<'_>>,
    fut: F,
    convert: fn(T) -> V,
) -> Result<PromiseRaw<'env, V>>
where
    F: Future<Output = wayfinder_tokens::Result<T>> + Send + 'static,
    T: Send + 'static,
    V: ToNapiValue + 'static,
{
    let abort = signal.as_ref().map(|s| watch(env, s)).transpose()?;
    let guarded = async move {
        let run = async move {
            match AssertUnwindSafe(fut).catch_unwind().await {
                Ok(Ok(value)) => Ok(value),
                Ok(Err(e)) => Err(Failure::Core(e)),
                Err(_) => Err(Failure::Panicked),
            }
        };
        let outcome = match abort {
            Some(abort) => {
                tokio::select! {
                    biased;
                    _ = abort.wait() => Err(Failure::Aborted),
                    outcome = run => outcome,
                }
            }
            None => run.await,
        };
        Ok(outcome)
    };
    env.spawn_future_with_callback(
        guarded,
        move |env, outcome: std::result::Result<T, Failure>| match outcome {
            Ok(value) => Ok(convert(value)),
            Err(failure) => Err(js_error(env, failure)),
        },
    )
}
