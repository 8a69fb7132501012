//! Turning core results into JS values: errors become instances of the
//! exported `WayfinderError` class (built on the JS thread, in Node's names);
//! an `AbortSignal` cancels a call and its listener goes when the call
//! settles; a panic rejects instead of crashing.

use std::future::Future;
use std::panic::AssertUnwindSafe;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

use futures::FutureExt;
use napi::bindgen_prelude::*;
use tokio::sync::Notify;
use wayfinder_tokens::{Error as CoreError, Field};

use crate::spelling::NodeSpelling;

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
    /// The option or field, in Node's names (`expiresIn`, `metadata.name`).
    pub field: String,
    /// The rule: `required`, `pattern`, `maxLength`, `invalidValue`…
    pub code: String,
    /// A sentence naming the field and the rule.
    pub message: String,
}

/// What the `WayfinderError` constructor is given besides the message.
#[napi(object, object_from_js = false)]
pub struct ErrorDetails {
    /// The stable code: what kind of failure.
    pub code: String,
    /// The HTTP status of the answer behind it.
    pub status: Option<u32>,
    /// The fields that failed, each with its rule's `code`.
    pub field_errors: Vec<FieldError>,
    /// What to do next, in this package's names.
    pub hint: Option<String>,
}

type ErrorConstructor = FunctionRef<FnArgs<(String, ErrorDetails)>, Unknown<'static>>;

/// The class, defined in JS so that it truly extends `Error` (stack traces,
/// `instanceof`, `util.inspect`); a symbol brand lets `isWayfinderError`
/// recognise instances made by another copy of the package.
const ERROR_CLASS: &str = r#"(() => {
  const brand = Symbol.for('wayfinder-tokens.WayfinderError')
  class WayfinderError extends Error {
    constructor(message, details) {
      super(message)
      const d = details || {}
      this.code = d.code ?? 'INTERNAL'
      this.status = d.status ?? null
      this.fieldErrors = d.fieldErrors ?? []
      this.hint = d.hint ?? null
    }
  }
  Object.defineProperty(WayfinderError.prototype, 'name', { value: 'WayfinderError', writable: true, configurable: true })
  Object.defineProperty(WayfinderError.prototype, brand, { value: true })
  const isWayfinderError = (value) => typeof value === 'object' && value !== null && value[brand] === true
  return [WayfinderError, isWayfinderError]
})()"#;

/// Defines `WayfinderError` and `isWayfinderError` on `exports` and keeps
/// the class for [`js_error`].
pub fn register_error_class(env: &Env, exports: &mut Object<'_>) -> Result<()> {
    let (class, guard): (
        Function<'_, FnArgs<(String, ErrorDetails)>, Unknown<'static>>,
        Unknown<'_>,
    ) = env.run_script(ERROR_CLASS)?;
    let kept: ErrorConstructor = class.create_ref()?;
    exports.set_named_property("WayfinderError", class)?;
    exports.set_named_property("isWayfinderError", guard)?;
    // Kept for the life of the environment; Node reclaims it at teardown.
    env.set_instance_data(kept, (), |context| std::mem::forget(context.value))
}

/// Builds the JS error for a failure and wraps it so that napi throws or
/// rejects with exactly that object.
pub fn js_error(env: &Env, failure: Failure) -> Error {
    match build_js_error(env, failure) {
        Ok(value) => Error::from(value),
        Err(e) => e,
    }
}

fn build_js_error(env: &Env, failure: Failure) -> Result<Unknown<'_>> {
    let (message, details) = match failure {
        Failure::Aborted => {
            let mut error = env.create_error(Error::new(Status::GenericFailure, "The operation was aborted"))?;
            error.set_named_property("name", "AbortError")?;
            error.set_named_property("code", "ABORT_ERR")?;
            return Ok(error.to_unknown());
        }
        Failure::Core(e) => details(&e),
        Failure::Panicked => (
            wayfinder_tokens::error::PANIC_MESSAGE.to_owned(),
            ErrorDetails {
                code: "INTERNAL".to_owned(),
                status: None,
                field_errors: Vec::new(),
                hint: None,
            },
        ),
    };
    construct(env, message, details)
}

/// The message and details of a core error, in Node's names.
fn details(e: &CoreError) -> (String, ErrorDetails) {
    let details = ErrorDetails {
        code: e.code().to_owned(),
        status: e.status().map(u32::from),
        field_errors: e
            .field_errors()
            .iter()
            .map(|f| FieldError {
                field: match &f.field {
                    Field::Argument(a) => NodeSpelling::name(*a).to_owned(),
                    Field::Named(name) => name.clone(),
                },
                code: f.code.clone(),
                message: f.message(&NodeSpelling),
            })
            .collect(),
        hint: e.hint().map(|h| h.phrase(&NodeSpelling)),
    };
    (e.describe(&NodeSpelling), details)
}

/// A `WayfinderError` for an error that is reported rather than thrown
/// (a batch's failures).
pub fn error_object<'env>(env: &'env Env, e: &CoreError) -> Result<Unknown<'env>> {
    let (message, details) = details(e);
    construct(env, message, details)
}

fn construct(env: &Env, message: String, details: ErrorDetails) -> Result<Unknown<'_>> {
    let class = env
        .get_instance_data::<ErrorConstructor>()?
        .ok_or_else(|| Error::from_reason("wayfinder-tokens: the error class is not registered"))?;
    class.borrow_back(env)?.new_instance(FnArgs::from((message, details)))
}

/// Converts a core result of a synchronous call, throwing a coded error.
pub fn sync<T>(env: &Env, result: wayfinder_tokens::Result<T>) -> Result<T> {
    result.map_err(|e| js_error(env, Failure::Core(e)))
}

/// Fires once when the caller's `AbortSignal` aborts.
#[derive(Default)]
pub struct Abort {
    notify: Notify,
    aborted: AtomicBool,
}

impl Abort {
    fn abort(&self) {
        self.aborted.store(true, Ordering::SeqCst);
        self.notify.notify_waiters();
    }

    pub(crate) async fn wait(&self) {
        let notified = self.notify.notified();
        if self.aborted.load(Ordering::SeqCst) {
            return;
        }
        notified.await;
    }
}

/// `EventTarget.prototype.{add,remove}EventListener` as called with `("abort", listener)`.
type EventListenerMethod<'a> = Function<'a, FnArgs<(&'a str, Function<'a, (), ()>)>, Unknown<'a>>;

/// The `abort` listener a call added, removed again when the call settles
/// (a long-lived signal shared by many calls must not collect them).
pub(crate) struct Listening {
    signal: ObjectRef<false>,
    listener: FunctionRef<(), ()>,
}

impl Listening {
    fn remove(self, env: &Env) -> Result<()> {
        let signal = self.signal.get_value(env)?;
        let listener = self.listener.borrow_back(env)?;
        let remove: EventListenerMethod<'_> = signal.get_named_property("removeEventListener")?;
        let removed = remove.apply(signal, FnArgs::from(("abort", listener)));
        self.signal.unref(env)?;
        removed.map(drop)
    }
}

/// Reads `signal.aborted` and listens for its `abort` event.
pub(crate) fn watch(env: &Env, signal: &Object<'_>) -> Result<(Arc<Abort>, Option<Listening>)> {
    let abort = Arc::new(Abort::default());
    if signal.get_named_property::<Option<bool>>("aborted")?.unwrap_or(false) {
        abort.abort();
        return Ok((abort, None));
    }
    let fire = Arc::clone(&abort);
    let listener = env.create_function_from_closure::<(), (), _>("onWayfinderAbort", move |_| {
        fire.abort();
        Ok(())
    })?;
    let add: EventListenerMethod<'_> = signal.get_named_property("addEventListener")?;
    add.apply(signal, FnArgs::from(("abort", listener)))?;
    let listening = Listening {
        signal: signal.create_ref()?,
        listener: listener.create_ref()?,
    };
    Ok((abort, Some(listening)))
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
    let (abort, listening) = match signal.as_ref().map(|s| watch(env, s)).transpose()? {
        Some((abort, listening)) => (Some(abort), listening),
        None => (None, None),
    };
    // Boxed once here, the call's state (kilobytes) is not copied again at
    // each layer that wraps it on its way to the runtime.
    let fut = Box::pin(fut);
    let guarded = async move {
        match abort {
            Some(abort) => {
                tokio::select! {
                    biased;
                    _ = abort.wait() => Err(Failure::Aborted),
                    outcome = guard(fut) => outcome,
                }
            }
            None => guard(fut).await,
        }
    };
    settle(env, listening, guarded, convert)
}

/// `fut`'s outcome, a panic included.
pub(crate) async fn guard<T>(
    fut: impl Future<Output = wayfinder_tokens::Result<T>>,
) -> std::result::Result<T, Failure> {
    match AssertUnwindSafe(fut).catch_unwind().await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(e)) => Err(Failure::Core(e)),
        Err(_) => Err(Failure::Panicked),
    }
}

/// Resolves a Promise with `convert(value)` (or rejects) once `outcome`
/// is ready, removing the call's `abort` listener first.
pub(crate) fn settle<'env, T, V>(
    env: &'env Env,
    listening: Option<Listening>,
    outcome: impl Future<Output = std::result::Result<T, Failure>> + Send + 'static,
    convert: fn(T) -> V,
) -> Result<PromiseRaw<'env, V>>
where
    T: Send + 'static,
    V: ToNapiValue + 'static,
{
    // Where the caller called from, for the stack of a rejection: the Promise
    // settles on a later tick, whose stack holds none of the caller's frames.
    let site = env
        .create_error(Error::new(Status::GenericFailure, String::new()))?
        .create_ref()?;
    let outcome = async move { Ok(outcome.await) };
    env.spawn_future_with_callback(outcome, move |env, outcome: std::result::Result<T, Failure>| {
        if let Some(listening) = listening {
            listening.remove(env)?;
        }
        let rejected = match outcome {
            Ok(value) => Ok(convert(value)),
            Err(failure) => Err(match build_js_error(env, failure) {
                Ok(error) => Error::from(with_caller_stack(env, error, &site)?),
                Err(e) => e,
            }),
        };
        site.unref(env)?;
        rejected
    })
}

/// `error` with the caller's frames (from `site`) under its own first line.
fn with_caller_stack<'env>(env: &'env Env, error: Unknown<'env>, site: &ObjectRef<false>) -> Result<Unknown<'env>> {
    let site = site.get_value(env)?;
    let mut object = error.coerce_to_object()?;
    let name: Option<String> = object.get_named_property("name")?;
    let message: Option<String> = object.get_named_property("message")?;
    let frames: Option<String> = site.get_named_property("stack")?;
    if let (Some(name), Some(message), Some(frames)) = (name, message, frames) {
        let frames = frames.split_once('\n').map_or("", |(_, rest)| rest);
        object.set_named_property("stack", format!("{name}: {message}\n{frames}"))?;
    }
    Ok(object.to_unknown())
}

/// Runs blocking work (file locks, disk) on the runtime's blocking pool and
/// returns a Promise of `convert(value)`, keeping the JS thread free.
pub fn spawn_blocking<'env, T, V>(
    env: &'env Env,
    work: impl FnOnce() -> wayfinder_tokens::Result<T> + Send + 'static,
    convert: fn(T) -> V,
) -> Result<PromiseRaw<'env, V>>
where
    T: Send + 'static,
    V: ToNapiValue + 'static,
{
    let fut = async move {
        match tokio::task::spawn_blocking(work).await {
            Ok(result) => result,
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(_) => Err(wayfinder_tokens::Error::Config {
                message: "the file operation was cancelled".to_owned(),
                source: None,
            }),
        }
    };
    spawn(env, None, fut, convert)
}
