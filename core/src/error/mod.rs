//! The one error type, as data: what kind of failure it was, the server's
//! answer when there was one, the fields that failed, and what to do next as
//! a [`Hint`]. Each front (Rust, Python, Node, CLI) names fields and calls in
//! its own [`Spelling`]. Messages never carry a secret.

use std::time::Duration;

mod words;

pub use words::{Argument, Field, RustSpelling, Spelling};

/// A field that failed validation, from the client's own checks or from a
/// server's `fieldErrors`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FieldError {
    /// The field: one of this library's arguments, or a name as a server gave it.
    pub field: Field,
    /// The rule, in the vendor's codes: `required`, `pattern`, `maxLength`, `invalidValue`…
    pub code: String,
    /// What is wrong. After an [`Argument`]'s name ("must be at most 20");
    /// for a [`Field::Named`], the whole sentence as its author wrote it.
    pub detail: String,
}

impl FieldError {
    /// A field error from its three parts.
    pub fn new(field: impl Into<Field>, code: impl Into<String>, detail: impl Into<String>) -> FieldError {
        FieldError {
            field: field.into(),
            code: code.into(),
            detail: detail.into(),
        }
    }

    /// A field error whose sentence is the field's name, then `predicate`
    /// ("must be at most 20").
    pub fn about(field: impl Into<Field>, code: impl Into<String>, predicate: impl Into<String>) -> FieldError {
        let field = field.into();
        let detail = match &field {
            Field::Argument(_) => predicate.into(),
            Field::Named(name) => format!("{name} {}", predicate.into()),
        };
        FieldError {
            field,
            code: code.into(),
            detail,
        }
    }

    /// The sentence, with the field named in `spelling`.
    pub fn message(&self, spelling: &dyn Spelling) -> String {
        match &self.field {
            Field::Argument(argument) => format!("{} {}", spelling.argument(*argument), self.detail),
            Field::Named(_) => self.detail.clone(),
        }
    }
}

/// A boxed underlying cause, kept for `source()` chains.
pub type BoxError = Box<dyn std::error::Error + Send + Sync + 'static>;

/// What kind of failure an [`Error`] is: one Python exception class and one
/// Node `err.code` each. Bindings map it with an exhaustive `match`.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum ErrorKind {
    /// The config file or the client's settings are unusable.
    Config,
    /// Bad input, caught before any request, or a server's 400/422.
    Validation,
    /// 401: missing, malformed, expired, reset or deleted credentials.
    Unauthenticated,
    /// 403: authenticated but not allowed.
    PermissionDenied,
    /// 404.
    NotFound,
    /// 409.
    AlreadyExists,
    /// 429 after the retries ran out.
    RateLimited,
    /// Any other error answer: 5xx, an unexpected status, an answer not understood.
    Server,
    /// The request could not be sent or its answer not read.
    Transport,
    /// A deadline passed.
    Timeout,
}

impl ErrorKind {
    /// The stable code (Node's `err.code`, the CLI's and the logs' name).
    pub fn code(self) -> &'static str {
        match self {
            ErrorKind::Config => "CONFIG",
            ErrorKind::Validation => "VALIDATION",
            ErrorKind::Unauthenticated => "UNAUTHENTICATED",
            ErrorKind::PermissionDenied => "PERMISSION_DENIED",
            ErrorKind::NotFound => "NOT_FOUND",
            ErrorKind::AlreadyExists => "ALREADY_EXISTS",
            ErrorKind::RateLimited => "RATE_LIMITED",
            ErrorKind::Server => "SERVER",
            ErrorKind::Transport => "TRANSPORT",
            ErrorKind::Timeout => "TIMEOUT",
        }
    }

    /// Every kind, in a fixed order (for tables and tests).
    pub const ALL: [ErrorKind; 10] = [
        ErrorKind::Config,
        ErrorKind::Validation,
        ErrorKind::Unauthenticated,
        ErrorKind::PermissionDenied,
        ErrorKind::NotFound,
        ErrorKind::AlreadyExists,
        ErrorKind::RateLimited,
        ErrorKind::Server,
        ErrorKind::Transport,
        ErrorKind::Timeout,
    ];

    /// The kind of an HTTP error status.
    pub fn of_status(status: u16) -> ErrorKind {
        match status {
            400 | 422 => ErrorKind::Validation,
            401 => ErrorKind::Unauthenticated,
            403 => ErrorKind::PermissionDenied,
            404 => ErrorKind::NotFound,
            409 => ErrorKind::AlreadyExists,
            429 => ErrorKind::RateLimited,
            _ => ErrorKind::Server,
        }
    }
}

/// An error answer from the server (or an answer that could not be understood).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status, when the failure is tied to one.
    pub status: Option<u16>,
    /// What the answer means: not found, already exists, …
    pub reason: ErrorKind,
    /// The server's message (cleaned, shortened, secrets cut out), with the status.
    pub message: String,
    /// The server's `fieldErrors`.
    pub field_errors: Vec<FieldError>,
    /// The server's `Retry-After`, when it sent one.
    pub retry_after: Option<Duration>,
    /// What to do next.
    pub hint: Option<Hint>,
    /// Where the refused credentials came from (401 answers).
    pub credentials: Option<CredentialSource>,
}

/// Where a client's credentials came from, so that a refusal can say which
/// token to look at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CredentialSource {
    /// The client's own arguments (server and token given explicitly).
    Arguments,
    /// `WAYFINDER_SERVER` and `WAYFINDER_TOKEN`.
    Environment,
    /// A profile of a config file.
    File {
        /// The config file.
        path: std::path::PathBuf,
        /// The profile.
        profile: String,
    },
}

/// Which family of access token a hint talks about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenFamily {
    /// A workspace access token.
    Workspace,
    /// A platform access token.
    Platform,
}

/// What to do next, as data; [`Hint::phrase`] words it in a front's [`Spelling`].
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Hint {
    /// The token exists; a reset issues a new secret for it.
    UseReset {
        /// The token's family.
        family: TokenFamily,
        /// The token's name.
        name: String,
    },
    /// The token was created but its secret never arrived.
    SecretNotIssued {
        /// The token's family.
        family: TokenFamily,
        /// The token's name.
        name: String,
    },
    /// A reset may have happened without its secret arriving.
    SecretMayBeReset {
        /// The token's family.
        family: TokenFamily,
        /// The token's name.
        name: String,
    },
    /// The access token used as the credential was reset, deleted or expired.
    CredentialRevoked,
    /// The refresh token no longer works.
    LogInAgain,
    /// Plain HTTP to a host that is not this machine needs the caller's consent.
    UseHttpsOrAllowInsecureHttp,
}

/// Everything that can go wrong.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The config file or the client's settings are unusable.
    #[error("{message}")]
    Config {
        /// What is wrong, naming the file, profile or setting.
        message: String,
        /// The underlying cause (an I/O or YAML error).
        #[source]
        source: Option<BoxError>,
    },
    /// Bad input, caught before any request.
    #[error("{}", self.describe(&RustSpelling))]
    Validation {
        /// Each field and rule that failed.
        field_errors: Vec<FieldError>,
        /// What to do next.
        hint: Option<Hint>,
    },
    /// The server answered with an error (or with something not understood).
    #[error("{}", self.describe(&RustSpelling))]
    Api(Box<ApiError>),
    /// The request could not be sent or its answer not read.
    #[error("{}", self.describe(&RustSpelling))]
    Transport {
        /// What failed, with the transport's own account.
        message: String,
        /// The HTTP client's error.
        #[source]
        source: Option<BoxError>,
        /// What to do next.
        hint: Option<Hint>,
    },
    /// A deadline passed.
    #[error("{}", self.describe(&RustSpelling))]
    Timeout {
        /// Which deadline.
        message: String,
        /// What to do next.
        hint: Option<Hint>,
    },
}

/// What a binding reports when the library panicked (a bug). The payload is
/// never shown: it could hold anything.
pub const PANIC_MESSAGE: &str = "internal error in wayfinder-tokens (a bug; please report it)";

/// Shorthand for results of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl Error {
    /// A configuration error.
    pub fn config(message: impl Into<String>) -> Error {
        Error::Config {
            message: message.into(),
            source: None,
        }
    }

    /// A configuration error with its underlying cause.
    pub fn config_with(message: impl Into<String>, source: impl Into<BoxError>) -> Error {
        Error::Config {
            message: message.into(),
            source: Some(source.into()),
        }
    }

    /// A validation error for one field: its name, then `predicate`
    /// ("must be at most 20").
    pub fn invalid(field: impl Into<Field>, code: &str, predicate: impl Into<String>) -> Error {
        Error::from_field_errors(vec![FieldError::about(field, code, predicate)])
    }

    /// A validation error listing several fields.
    pub fn from_field_errors(field_errors: Vec<FieldError>) -> Error {
        Error::Validation {
            field_errors,
            hint: None,
        }
    }

    /// An answer that is not understood (status `status`, when known).
    pub(crate) fn bad_answer(status: Option<u16>, message: String) -> Error {
        Error::Api(Box::new(ApiError {
            status,
            reason: ErrorKind::Server,
            message,
            field_errors: Vec::new(),
            retry_after: None,
            hint: None,
            credentials: None,
        }))
    }

    /// The error for an HTTP error answer.
    pub(crate) fn from_status(
        status: u16,
        message: String,
        field_errors: Vec<FieldError>,
        retry_after: Option<Duration>,
    ) -> Error {
        Error::Api(Box::new(ApiError {
            status: Some(status),
            reason: ErrorKind::of_status(status),
            message: format!("{message} (HTTP {status})"),
            field_errors,
            retry_after,
            hint: None,
            credentials: None,
        }))
    }

    /// What kind of failure this is.
    pub fn kind(&self) -> ErrorKind {
        match self {
            Error::Config { .. } => ErrorKind::Config,
            Error::Validation { .. } => ErrorKind::Validation,
            Error::Api(api) => api.reason,
            Error::Transport { .. } => ErrorKind::Transport,
            Error::Timeout { .. } => ErrorKind::Timeout,
        }
    }

    /// The stable code used by the Node package (`err.code`).
    pub fn code(&self) -> &'static str {
        self.kind().code()
    }

    /// The HTTP status of the answer behind this error, if there was one.
    pub fn status(&self) -> Option<u16> {
        match self {
            Error::Api(api) => api.status,
            _ => None,
        }
    }

    /// The field errors of a validation error (empty otherwise).
    pub fn field_errors(&self) -> &[FieldError] {
        match self {
            Error::Validation { field_errors, .. } => field_errors,
            Error::Api(api) => &api.field_errors,
            _ => &[],
        }
    }

    /// The server's `Retry-After` of a rate-limited answer.
    pub fn retry_after(&self) -> Option<Duration> {
        match self {
            Error::Api(api) => api.retry_after,
            _ => None,
        }
    }

    /// What to do next, if the library knows.
    pub fn hint(&self) -> Option<&Hint> {
        match self {
            Error::Api(api) => api.hint.as_ref(),
            Error::Validation { hint, .. } | Error::Transport { hint, .. } | Error::Timeout { hint, .. } => {
                hint.as_ref()
            }
            Error::Config { .. } => None,
        }
    }

    /// The message alone, without the hint, fields named as Rust names them.
    pub fn message(&self) -> std::borrow::Cow<'_, str> {
        self.message_in(&RustSpelling)
    }

    /// The message alone, without the hint, fields named in `spelling`. A
    /// validation error's message joins its field errors' sentences.
    pub fn message_in(&self, spelling: &dyn Spelling) -> std::borrow::Cow<'_, str> {
        match self {
            Error::Config { message, .. } | Error::Transport { message, .. } | Error::Timeout { message, .. } => {
                message.into()
            }
            Error::Validation { field_errors, .. } => field_errors
                .iter()
                .map(|e| e.message(spelling))
                .collect::<Vec<_>>()
                .join("; ")
                .into(),
            Error::Api(api) => api.message.as_str().into(),
        }
    }

    /// The same error without its underlying cause (which cannot be
    /// copied): same kind, message, status, field errors and hint. For
    /// errors that are reported (a batch's failures) as well as kept.
    pub fn without_source(&self) -> Error {
        match self {
            Error::Config { message, .. } => Error::config(message.clone()),
            Error::Validation { field_errors, hint } => Error::Validation {
                field_errors: field_errors.clone(),
                hint: hint.clone(),
            },
            Error::Api(api) => Error::Api(api.clone()),
            Error::Transport { message, hint, .. } => Error::Transport {
                message: message.clone(),
                source: None,
                hint: hint.clone(),
            },
            Error::Timeout { message, hint } => Error::Timeout {
                message: message.clone(),
                hint: hint.clone(),
            },
        }
    }

    /// The message, the hint and where refused credentials came from, in
    /// `spelling`'s names. Server text is never edited.
    pub fn describe(&self, spelling: &dyn Spelling) -> String {
        let mut described = self.message_in(spelling).into_owned();
        if let Some(hint) = self.hint() {
            described = format!("{described}. {}", hint.phrase(spelling));
        }
        if let Error::Api(api) = self
            && let Some(source) = &api.credentials
        {
            described = format!("{described}. {}", source.phrase(spelling));
        }
        described
    }

    /// The same answer, read as a refusal of the credentials (an exchange of
    /// a deleted token answers 404).
    pub(crate) fn into_refusal(mut self) -> Error {
        if let Error::Api(api) = &mut self {
            api.reason = ErrorKind::Unauthenticated;
        }
        self
    }

    /// A refusal (401) says where the refused credentials came from.
    pub(crate) fn with_credentials(mut self, source: CredentialSource) -> Error {
        if let Error::Api(api) = &mut self
            && api.reason == ErrorKind::Unauthenticated
        {
            api.credentials = Some(source);
        }
        self
    }

    /// Sets what to do next (errors that cannot carry a hint are returned as they are).
    pub(crate) fn with_hint(mut self, new: Hint) -> Error {
        match &mut self {
            Error::Api(api) => api.hint = Some(new),
            Error::Validation { hint, .. } | Error::Transport { hint, .. } | Error::Timeout { hint, .. } => {
                *hint = Some(new)
            }
            Error::Config { .. } => {}
        }
        self
    }

    /// The same error with `f` applied to all of its text (redaction).
    pub(crate) fn map_text(mut self, f: impl Fn(&str) -> String) -> Error {
        let fields = |field_errors: &mut Vec<FieldError>| {
            for e in field_errors {
                if let Field::Named(name) = &mut e.field {
                    *name = f(name);
                }
                e.detail = f(&e.detail);
            }
        };
        match &mut self {
            Error::Config { message, .. } | Error::Transport { message, .. } | Error::Timeout { message, .. } => {
                *message = f(message)
            }
            Error::Validation { field_errors, .. } => fields(field_errors),
            Error::Api(api) => {
                api.message = f(&api.message);
                fields(&mut api.field_errors);
            }
        }
        self
    }

    /// The same error with `context` before its message (validation errors,
    /// which are their fields' sentences, are returned as they are).
    pub(crate) fn in_context(mut self, context: &str) -> Error {
        match &mut self {
            Error::Config { message, .. } | Error::Transport { message, .. } | Error::Timeout { message, .. } => {
                *message = format!("{context}: {message}")
            }
            Error::Api(api) => api.message = format!("{context}: {}", api.message),
            Error::Validation { .. } => {}
        }
        self
    }

    /// Says how many attempts the call made before this error (in the
    /// message; field errors keep their own text).
    pub(crate) fn after_attempts(mut self, attempts: u32) -> Error {
        let message = match &mut self {
            Error::Config { message, .. } | Error::Transport { message, .. } | Error::Timeout { message, .. } => {
                message
            }
            Error::Api(api) => &mut api.message,
            Error::Validation { .. } => return self,
        };
        message.push_str(&format!(" (after {attempts} attempts)"));
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_map_to_one_kind_each() {
        let cases = [
            (400, "VALIDATION"),
            (401, "UNAUTHENTICATED"),
            (403, "PERMISSION_DENIED"),
            (404, "NOT_FOUND"),
            (409, "ALREADY_EXISTS"),
            (422, "VALIDATION"),
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

    /// A front whose way to reset is to run the command again.
    struct Command;

    impl Spelling for Command {
        fn argument(&self, argument: Argument) -> std::borrow::Cow<'static, str> {
            format!("--{}", argument.snake_case().replace('_', "-")).into()
        }
        fn reset_option(&self) -> &'static str {
            "--reset-token"
        }
        fn reset_call(&self, _: TokenFamily, _: &str) -> Option<String> {
            None
        }
        fn recovery(&self, name: &str, _: &str) -> String {
            format!("again {name}")
        }
        fn token_given(&self) -> &'static str {
            "the token given"
        }
        fn profile_choice(&self) -> &'static str {
            "--profile"
        }
    }

    #[test]
    fn hints_are_phrased_in_the_reader_s_spelling() {
        let e = Error::from_status(409, "exists".into(), vec![], None).with_hint(Hint::UseReset {
            family: TokenFamily::Workspace,
            name: "ci".into(),
        });
        let rust = e.describe(&RustSpelling);
        let command = e.describe(&Command);
        assert!(rust.contains("reset_token: true") && rust.contains("reset_workspace_access_token(\"ci\", workspace)"));
        assert!(
            command.ends_with("run the command again with --reset-token"),
            "{command}"
        );
        assert!(!command.contains("reset_token"));
        assert_eq!(e.message(), "exists (HTTP 409)");
        assert_eq!(e.to_string(), rust);
    }

    #[test]
    fn arguments_are_named_in_the_reader_s_spelling_and_server_fields_as_sent() {
        let e = Error::invalid(Argument::MaxRetries, "invalidValue", "must be at most 20");
        assert_eq!(e.field_errors()[0].field, "max_retries");
        assert_eq!(e.to_string(), "max_retries must be at most 20");
        assert_eq!(e.describe(&Command), "--max-retries must be at most 20");
        let server = Error::from_status(
            400,
            "timeout and max_retries are bad".into(),
            vec![FieldError::new(
                Field::named("max_retries"),
                "invalid",
                "max_retries: timeout too low",
            )],
            None,
        );
        assert_eq!(server.describe(&Command), "timeout and max_retries are bad (HTTP 400)");
        assert_eq!(
            server.field_errors()[0].message(&Command),
            "max_retries: timeout too low"
        );
        assert_eq!(server.field_errors()[0].field, Field::named("max_retries"));
    }

    #[test]
    fn a_copy_without_the_source_keeps_everything_else() {
        let timeout = Error::Timeout {
            message: "slow".into(),
            hint: Some(Hint::LogInAgain),
        };
        let copy = timeout.without_source();
        assert_eq!(
            (copy.kind(), copy.describe(&Command)),
            (ErrorKind::Timeout, timeout.describe(&Command))
        );
        let transport = Error::Transport {
            message: "reset".into(),
            source: Some("io".into()),
            hint: None,
        };
        assert!(std::error::Error::source(&transport.without_source()).is_none());
        assert_eq!(transport.without_source().kind(), ErrorKind::Transport);
        let invalid = Error::invalid(Argument::Name, "pattern", "bad");
        assert_eq!(invalid.without_source().field_errors(), invalid.field_errors());
    }

    #[test]
    fn configuration_errors_carry_no_hint() {
        let e = Error::config("no profile").with_hint(Hint::LogInAgain);
        assert_eq!(e.to_string(), "no profile");
        assert_eq!(e.status(), None);
    }
}
