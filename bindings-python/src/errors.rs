//! The exception hierarchy and the one conversion from the core error.
//!
//! The classes are made once at import with `type(name, bases, attrs)` so
//! that `TimeoutError` can subclass both `WayfinderError` and the builtin
//! `TimeoutError`, which `create_exception!` cannot express.

use pyo3::exceptions::PyTimeoutError;
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyDict, PyList, PyTuple, PyType};
use std::borrow::Cow;

use wayfinder_tokens::{Argument, Error, ErrorKind, Field, FieldError, Spelling, TokenFamily};

/// (class name, core error code or "" for the root, docstring).
const CLASSES: [(&str, &str, &str); 11] = [
    (
        "WayfinderError",
        "",
        "Base class of every error raised by wayfinder_tokens.",
    ),
    (
        "ConfigError",
        "CONFIG",
        "The config file or the client's settings are unusable.",
    ),
    (
        "ValidationError",
        "VALIDATION",
        "Bad input, caught before any request, or a server's 400. `field_errors` lists \
         FieldError(field, code, message) named tuples; `code` is the rule (required, pattern, maxLength...).",
    ),
    (
        "AuthenticationError",
        "UNAUTHENTICATED",
        "401: missing, malformed, expired, reset or deleted credentials.",
    ),
    (
        "PermissionDeniedError",
        "PERMISSION_DENIED",
        "403: authenticated but not allowed.",
    ),
    ("NotFoundError", "NOT_FOUND", "404: no such access token."),
    (
        "AlreadyExistsError",
        "ALREADY_EXISTS",
        "409: an access token of that name exists.",
    ),
    ("RateLimitedError", "RATE_LIMITED", "429 after the retries ran out."),
    (
        "ServerError",
        "SERVER",
        "Any other error answer: 5xx, an unexpected status, an undecodable body.",
    ),
    (
        "TransportError",
        "TRANSPORT",
        "The request could not be sent or its answer not read.",
    ),
    (
        "TimeoutError",
        "TIMEOUT",
        "A deadline passed. Also a builtin TimeoutError.",
    ),
];

static TYPES: PyOnceLock<Vec<Py<PyType>>> = PyOnceLock::new();

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

fn build(py: Python<'_>) -> PyResult<Vec<Py<PyType>>> {
    let type_ = py.import("builtins")?.getattr("type")?;
    let mut types: Vec<Py<PyType>> = Vec::with_capacity(CLASSES.len());
    for (name, code, doc) in CLASSES {
        let attrs = PyDict::new(py);
        attrs.set_item("__module__", "wayfinder_tokens")?;
        attrs.set_item("__doc__", doc)?;
        attrs.set_item("status", py.None())?;
        attrs.set_item("code", if code.is_empty() { None } else { Some(code) })?;
        attrs.set_item("field_errors", PyList::empty(py))?;
        let bases = match (name, types.first()) {
            ("WayfinderError", _) => PyTuple::new(py, [py.get_type::<pyo3::exceptions::PyException>()])?,
            ("TimeoutError", Some(root)) => PyTuple::new(py, [root.bind(py).clone(), py.get_type::<PyTimeoutError>()])?,
            (_, Some(root)) => PyTuple::new(py, [root.bind(py).clone()])?,
            (_, None) => unreachable!("the root class is built first"),
        };
        let class = type_.call1((name, bases, attrs))?.cast_into::<PyType>()?;
        types.push(class.unbind());
    }
    Ok(types)
}

/// Adds the classes to the module.
pub fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    // The table and `class_index` must agree; a mismatch fails the import, not a user.
    for kind in ErrorKind::ALL {
        if CLASSES[class_index(Some(kind))].1 != kind.code() {
            return Err(pyo3::exceptions::PyImportError::new_err(format!(
                "wayfinder_tokens: no exception class for {}",
                kind.code()
            )));
        }
    }
    let types = TYPES.get_or_try_init(py, || build(py))?;
    for ((name, _, _), class) in CLASSES.iter().zip(types) {
        m.add(*name, class.bind(py))?;
    }
    m.add("FieldError", field_error_class(py)?)?;
    Ok(())
}

/// The position in [`CLASSES`] of each kind's class (`None`: the root).
fn class_index(kind: Option<ErrorKind>) -> usize {
    match kind {
        None => 0,
        Some(ErrorKind::Config) => 1,
        Some(ErrorKind::Validation) => 2,
        Some(ErrorKind::Unauthenticated) => 3,
        Some(ErrorKind::PermissionDenied) => 4,
        Some(ErrorKind::NotFound) => 5,
        Some(ErrorKind::AlreadyExists) => 6,
        Some(ErrorKind::RateLimited) => 7,
        Some(ErrorKind::Server) => 8,
        Some(ErrorKind::Transport) => 9,
        Some(ErrorKind::Timeout) => 10,
    }
}

fn class_for(py: Python<'_>, kind: Option<ErrorKind>) -> PyResult<Bound<'_, PyType>> {
    let types = TYPES.get_or_try_init(py, || build(py))?;
    Ok(types[class_index(kind)].bind(py).clone())
}

fn raise(
    py: Python<'_>,
    kind: Option<ErrorKind>,
    message: &str,
    status: Option<u16>,
    field_errors: &[FieldError],
) -> PyErr {
    let build = || -> PyResult<PyErr> {
        let instance = class_for(py, kind)?.call1((message,))?;
        instance.setattr("status", status)?;
        let class = field_error_class(py)?;
        let list = PyList::empty(py);
        for f in field_errors {
            list.append(class.call1((f.field.key(), &f.code, f.message(&PythonSpelling)))?)?;
        }
        instance.setattr("field_errors", list)?;
        Ok(PyErr::from_value(instance))
    };
    build().unwrap_or_else(|e| e)
}

/// Converts a core error into the matching exception, with `status`,
/// `code` and `field_errors` set.
pub fn to_py(py: Python<'_>, error: Error) -> PyErr {
    raise(
        py,
        Some(error.kind()),
        &error.describe(&PythonSpelling),
        error.status(),
        error.field_errors(),
    )
}

/// A panic inside the library, surfaced as `WayfinderError`. The payload is
/// not shown: it could hold anything.
pub fn panicked(py: Python<'_>) -> PyErr {
    raise(py, None, wayfinder_tokens::error::PANIC_MESSAGE, None, &[])
}

/// Raises a `ValidationError` for one of this package's own arguments:
/// its name, then `predicate`.
pub fn invalid(py: Python<'_>, field: &str, predicate: String) -> PyErr {
    to_py(py, Error::invalid(Field::named(field), "invalidValue", predicate))
}

/// How the Python package names arguments and calls: as Rust does, with
/// keyword arguments.
#[derive(Clone, Copy, Debug)]
pub struct PythonSpelling;

impl Spelling for PythonSpelling {
    fn argument(&self, argument: Argument) -> Cow<'static, str> {
        argument.snake_case().into()
    }

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

    fn token_given(&self) -> &'static str {
        "the token argument"
    }

    fn profile_choice(&self) -> &'static str {
        "the profile argument"
    }
}
