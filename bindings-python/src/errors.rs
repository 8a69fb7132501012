//! The exception hierarchy and the one conversion from the core error.
//!
//! The classes are made once at import with `type(name, bases, attrs)` so
//! that `TimeoutError` can subclass both `WayfinderError` and the builtin
//! `TimeoutError`, which `create_exception!` cannot express.

use pyo3::exceptions::PyTimeoutError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList, PyTuple, PyType};
use std::collections::HashMap;

use wayfinder_tokens::{Error, ErrorKind, Field, Spelling, TokenFamily};

/// The exception class of each kind (`None`: the root), with its docstring.
fn class_of(kind: Option<ErrorKind>) -> (&'static str, &'static str) {
    match kind {
        None => (
            "WayfinderError",
            "Base class of every error raised by wayfinder_tokens.",
        ),
        Some(ErrorKind::Config) => ("ConfigError", "The config file or the client's settings are unusable."),
        Some(ErrorKind::Validation) => (
            "ValidationError",
            "Bad input, caught before any request, or a server's 400. `field_errors` lists\n\
             FieldError(field, code, message) named tuples; `code` is the rule (required, pattern, maxLength...).",
        ),
        Some(ErrorKind::Unauthenticated) => (
            "AuthenticationError",
            "401: missing, malformed, expired, reset or deleted credentials.",
        ),
        Some(ErrorKind::PermissionDenied) => ("PermissionDeniedError", "403: authenticated but not allowed."),
        Some(ErrorKind::NotFound) => ("NotFoundError", "404: no such access token."),
        Some(ErrorKind::AlreadyExists) => ("AlreadyExistsError", "409: an access token of that name exists."),
        Some(ErrorKind::RateLimited) => ("RateLimitedError", "429 after the retries ran out."),
        Some(ErrorKind::Server) => (
            "ServerError",
            "Any other error answer: 5xx, an unexpected status, an undecodable body.",
        ),
        Some(ErrorKind::Transport) => (
            "TransportError",
            "The request could not be sent or its answer not read.",
        ),
        Some(ErrorKind::Timeout) => ("TimeoutError", "A deadline passed. Also a builtin TimeoutError."),
    }
}

/// The root class, then one class a kind.
struct Classes {
    root: Py<PyType>,
    by_kind: HashMap<ErrorKind, Py<PyType>>,
}

static CLASSES: PyOnceLock<Classes> = PyOnceLock::new();

/// `FieldError(field, code, message)`: a named tuple, so `field_errors[0][0]`
/// and `field_errors[0].code` both read naturally.
static FIELD_ERROR: PyOnceLock<Py<PyAny>> = PyOnceLock::new();

fn field_error_class(py: Python<'_>) -> PyResult<&Bound<'_, PyAny>> {
    FIELD_ERROR
        .get_or_try_init(py, || {
            let kwargs = PyDict::new(py);
            kwargs.set_item("module", "wayfinder_tokens")?;
            let class = py
                .import("collections")?
                .getattr("namedtuple")?
                .call(("FieldError", ["field", "code", "message"]), Some(&kwargs))?;
            class.setattr(
                "__doc__",
                "A field that failed validation: the field, the rule's code, and a sentence.",
            )?;
            Ok::<_, PyErr>(class.unbind())
        })
        .map(|c| c.bind(py))
}

fn build(py: Python<'_>) -> PyResult<Classes> {
    let type_ = py.import("builtins")?.getattr("type")?;
    let make = |kind: Option<ErrorKind>, bases: Bound<'_, PyTuple>| -> PyResult<Py<PyType>> {
        let (name, doc) = class_of(kind);
        let attrs = PyDict::new(py);
        attrs.set_item("__module__", "wayfinder_tokens")?;
        attrs.set_item("__doc__", doc)?;
        attrs.set_item("status", py.None())?;
        attrs.set_item("hint", py.None())?;
        attrs.set_item("code", kind.map(ErrorKind::code))?;
        attrs.set_item("field_errors", PyList::empty(py))?;
        Ok(type_.call1((name, bases, attrs))?.cast_into::<PyType>()?.unbind())
    };
    let root = make(
        None,
        PyTuple::new(py, [py.get_type::<pyo3::exceptions::PyException>()])?,
    )?;
    let mut by_kind = HashMap::new();
    for kind in ErrorKind::ALL {
        let bases = match kind {
            ErrorKind::Timeout => PyTuple::new(py, [root.bind(py).clone(), py.get_type::<PyTimeoutError>()])?,
            _ => PyTuple::new(py, [root.bind(py).clone()])?,
        };
        by_kind.insert(kind, make(Some(kind), bases)?);
    }
    Ok(Classes { root, by_kind })
}

/// Adds the classes to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    let classes = CLASSES.get_or_try_init(py, || build(py))?;
    m.add(class_of(None).0, classes.root.bind(py))?;
    for kind in ErrorKind::ALL {
        m.add(class_of(Some(kind)).0, class_for(py, Some(kind))?)?;
    }
    m.add("FieldError", field_error_class(py)?)?;
    Ok(())
}

fn class_for(py: Python<'_>, kind: Option<ErrorKind>) -> PyResult<Bound<'_, PyType>> {
    let classes = CLASSES.get_or_try_init(py, || build(py))?;
    let class = match kind {
        None => Some(&classes.root),
        Some(kind) => classes.by_kind.get(&kind),
    };
    class
        .map(|c| c.bind(py).clone())
        .ok_or_else(|| pyo3::exceptions::PyImportError::new_err("wayfinder_tokens: an exception class is missing"))
}

/// An exception of `kind`'s class, with its attributes set.
fn raise(py: Python<'_>, kind: Option<ErrorKind>, message: &str, error: Option<&Error>) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let instance = class_for(py, kind)?.call1((message,))?;
        instance.setattr("status", error.and_then(Error::status))?;
        instance.setattr("hint", error.and_then(Error::hint).map(|h| h.phrase(&PythonSpelling)))?;
        let class = field_error_class(py)?;
        let list = PyList::empty(py);
        for f in error.map(Error::field_errors).unwrap_or_default() {
            list.append(class.call1((f.field.key(), &f.code, f.message(&PythonSpelling)))?)?;
        }
        instance.setattr("field_errors", list)?;
        Ok(PyErr::from_value(instance))
    };
    build().unwrap_or_else(|e| e)
}

/// Converts a core error into the matching exception, with `status`,
/// `code`, `hint` and `field_errors` set.
pub fn to_py(py: Python<'_>, error: Error) -> PyErr {
    raise(py, Some(error.kind()), &error.describe(&PythonSpelling), Some(&error))
}

/// A panic inside the library, surfaced as `WayfinderError`. The payload is
/// not shown: it could hold anything.
pub fn panicked(py: Python<'_>) -> PyErr {
    raise(py, None, wayfinder_tokens::error::PANIC_MESSAGE, None)
}

/// Raises a `ValidationError` for one of this package's own arguments:
/// its name, then `predicate`.
pub fn invalid(py: Python<'_>, field: &str, predicate: String) -> PyErr {
    to_py(py, Error::invalid(Field::named(field), "invalidValue", predicate))
}

/// How the Python package names arguments and calls: arguments as Rust
/// does (the trait's defaults), calls with keyword arguments.
#[derive(Clone, Copy, Debug)]
pub struct PythonSpelling;

impl Spelling for PythonSpelling {
    fn reset_option(&self) -> &'static str {
        "reset_token=True"
    }

    fn reset_call(&self, family: TokenFamily, name: &str) -> Option<String> {
        Some(match family {
            TokenFamily::Workspace => format!("reset_workspace_access_token({name:?})"),
            TokenFamily::Platform => format!("reset_platform_access_token({name:?})"),
        })
    }

    fn recovery(&self, name: &str, workspace: &str) -> String {
        format!("client.reset_workspace_access_token({name:?}, workspace={workspace:?})")
    }
}
