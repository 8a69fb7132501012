//! The one error type. Each variant maps to exactly one Python exception
//! class and one Node `err.code` (see [`Error::code`]); messages never carry
//! a secret.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A field that failed validation, from the client's own checks or from a
/// server's `fieldErrors`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// The field, e.g. `name`, `workspace`, `metadata.name`.
    pub field: String,
    /// A short rule code: `required`, `invalid`, `tooLong`.
    pub code: String,
    /// A sentence naming the field and the rule.
    pub message: String,
}

impl FieldError {
    pub fn new(field: impl Into<String>, code: impl Into<String>, message: impl Into<String>) -> FieldError {
        FieldError {
            field: field.into(),
            code: code.into(),
            message: message.into(),
        }
    }
}

/// A boxed underlying cause, kept for `source()` chains.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// Everything that can go wrong.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The config file or the client's settings are unusable.
    #[error("{message}")]
    Config {
        message: String,
        #[source]
        source: Option<BoxError>,
    },
    /// Bad input (caught before any request), or a server's 400.
    #[error("{message}")]
    Validation {
        message: String,
        field_errors: Vec<FieldError>,
        status: Option<u16>,
    },
    /// 401: missing, malformed, expired, reset or deleted credentials.
    #[error("{message}")]
    Authentication { message: String, status: u16 },
    /// 403: authenticated but not allowed.
    #[error("{message}")]
    PermissionDenied { message: String, status: u16 },
    /// 404.
    #[error("{message}")]
    NotFound { message: String, status: u16 },
    /// 409.
    #[error("{message}")]
    AlreadyExists { message: String, status: u16 },
    /// 429 after the retries ran out.
    #[error("{message}")]
    RateLimited {
        message: String,
        status: u16,
        retry_after: Option<Duration>,
    },
    /// Any other error answer (5xx, an unexpected status, an undecodable body).
    #[error("{message}")]
    Server { message: String, status: Option<u16> },
    /// The request could not be sent or its answer not read.
    #[error("{message}")]
    Transport {
        message: String,
        #[source]
        source: Option<BoxError>,
    },
    /// A deadline passed.
    #[error("{message}")]
    Timeout { message: String },
}

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    pub(crate) fn config(message: impl Into<String>) -> Error {
        Error::Config {
            message: message.into(),
            source: None,
        }
    }

    pub(crate) fn config_with(message: impl Into<String>, source: impl Into<BoxError>) -> Error {
        Error::Config {
            message: message.into(),
            source: Some(source.into()),
        }
    }

    /// A validation error for one field.
    pub fn invalid(field: &str, code: &str, message: impl Into<String>) -> Error {
        Error::from_field_errors(vec![FieldError::new(field, code, message)])
    }

    /// A validation error listing several fields (the message joins them).
    pub fn from_field_errors(field_errors: Vec<FieldError>) -> Error {
        let message = field_errors
            .iter()
            .map(|e| e.message.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        Error::Validation {
            message,
            field_errors,
            status: None,
        }
    }

    /// The stable code used by the Node package (`err.code`).
    pub fn code(&self) -> &'static str {
        match self {
            Error::Config { .. } => "CONFIG",
            Error::Validation { .. } => "VALIDATION",
            Error::Authentication { .. } => "UNAUTHENTICATED",
            Error::PermissionDenied { .. } => "PERMISSION_DENIED",
            Error::NotFound { .. } => "NOT_FOUND",
            Error::AlreadyExists { .. } => "ALREADY_EXISTS",
            Error::RateLimited { .. } => "RATE_LIMITED",
            Error::Server { .. } => "SERVER",
            Error::Transport { .. } => "TRANSPORT",
            Error::Timeout { .. } => "TIMEOUT",
        }
    }

    /// The HTTP status of the answer behind this error, if there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Validation { status, .. } | Error::Server { status, .. } => *status,
            Error::Authentication { status, .. }
            | Error::PermissionDenied { status, .. }
            | Error::NotFound { status, .. }
            | Error::AlreadyExists { status, .. }
            | Error::RateLimited { status, .. } => Some(*status),
            Error::Config { .. } | Error::Transport { .. } | Error::Timeout { .. } => None,
        }
    }

    /// The field errors of a validation error (empty otherwise).
    pub fn field_errors(&self) -> &[FieldError] {
        match self {
            Error::Validation { field_errors, .. } => field_errors,
            _ => &[],
        }
    }

    /// The message alone (the same text as `Display`).
    pub fn message(&self) -> &str {
        match self {
            Error::Config { message, .. }
            | Error::Validation { message, .. }
            | Error::Authentication { message, .. }
            | Error::PermissionDenied { message, .. }
            | Error::NotFound { message, .. }
            | Error::AlreadyExists { message, .. }
            | Error::RateLimited { message, .. }
            | Error::Server { message, .. }
            | Error::Transport { message, .. }
            | Error::Timeout { message } => message,
        }
    }

    /// Appends a sentence telling the user what to do next.
    pub(crate) fn with_hint(mut self, hint: impl fmt::Display) -> Error {
        let hint = hint.to_string();
        match &mut self {
            Error::Config { message, .. }
            | Error::Validation { message, .. }
            | Error::Authentication { message, .. }
            | Error::PermissionDenied { message, .. }
            | Error::NotFound { message, .. }
            | Error::AlreadyExists { message, .. }
            | Error::RateLimited { message, .. }
            | Error::Server { message, .. }
            | Error::Transport { message, .. }
            | Error::Timeout { message } => {
                message.push_str(". ");
                message.push_str(&hint);
            }
        }
        self
    }

    /// The same error with `f` applied to its message and field errors' text.
    pub(crate) fn map_text(mut self, f: impl Fn(&str) -> String) -> Error {
        match &mut self {
            Error::Config { message, .. }
            | Error::Authentication { message, .. }
            | Error::PermissionDenied { message, .. }
            | Error::NotFound { message, .. }
            | Error::AlreadyExists { message, .. }
            | Error::RateLimited { message, .. }
            | Error::Server { message, .. }
            | Error::Transport { message, .. }
            | Error::Timeout { message } => *message = f(message),
            Error::Validation {
                message, field_errors, ..
            } => {
                *message = f(message);
                for e in field_errors {
                    e.field = f(&e.field);
                    e.message = f(&e.message);
                }
            }
        }
        self
    }

    /// Says how many attempts the call made before this error.
    pub(crate) fn after_attempts(self, attempts: u32) -> Error {
        self.map_text(|m| format!("{m} (after {attempts} attempts)"))
    }

    /// Builds the error for an HTTP error answer.
    pub(crate) fn from_status(
        status: u16,
        message: String,
        field_errors: Vec<FieldError>,
        retry_after: Option<Duration>,
    ) -> Error {
        let message = format!("{message} (HTTP {status})");
        match status {
            400 | 422 => Error::Validation {
                message,
                field_errors,
                status: Some(status),
            },
            401 => Error::Authentication { message, status },
            403 => Error::PermissionDenied { message, status },
            404 => Error::NotFound { message, status },
            409 => Error::AlreadyExists { message, status },
            429 => Error::RateLimited {
                message,
                status,
                retry_after,
            },
            _ => Error::Server {
                message,
                status: Some(status),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_one_class_each() {
        let cases = [
            (400, "VALIDATION"),
            (401, "UNAUTHENTICATED"),
            (403, "PERMISSION_DENIED"),
            (404, "NOT_FOUND"),
            (409, "ALREADY_EXISTS"),
            (429, "RATE_LIMITED"),
            (500, "SERVER"),
            (503, "SERVER"),
            (418, "SERVER"),
        ];
        for (status, code) in cases {
            let e = Error::from_status(status, "m".into(), vec![], None);
            assert_eq!(e.code(), code, "{status}");
            assert_eq!(e.status(), Some(status));
            assert!(e.to_string().contains(&format!("HTTP {status}")));
        }
    }

    #[test]
    fn hints_are_appended() {
        let e = Error::config("no profile").with_hint("run wf login");
        assert_eq!(e.to_string(), "no profile. run wf login");
        assert_eq!(e.status(), None);
    }
}
