//! The one error type, as data: what kind of failure it was, the server's
//! answer when there was one, and what to do next as a [`Hint`] that each
//! front (Rust, Python, Node, CLI) phrases in its own names. Messages never
//! carry a secret.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// A field that failed validation, from the client's own checks or from a
/// server's `fieldErrors`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldError {
    /// The field, e.g. `name`, `workspace`, `metadata.name`.
    pub field: String,
    /// The rule, in the vendor's codes: `required`, `pattern`, `maxLength`, `invalidValue`…
    pub code: String,
    /// A sentence naming the field and the rule.
    pub message: String,
}

impl FieldError {
    /// A field error from its three parts.
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

impl CredentialSource {
    /// Where they came from and what to do next, in `front`'s names.
    pub fn phrase(&self, front: Front) -> String {
        match self {
            CredentialSource::Arguments => {
                let option = match front {
                    Front::Node => "the token option",
                    Front::Cli => "the token given",
                    Front::Rust | Front::Python => "the token argument",
                };
                format!("The credentials came from {option}: pass a token that works")
            }
            CredentialSource::Environment => "The credentials came from WAYFINDER_SERVER and WAYFINDER_TOKEN: \
                                              set WAYFINDER_TOKEN to a token that works, or unset both to use \
                                              the config file"
                .to_owned(),
            CredentialSource::File { path, profile } => {
                let choose = match front {
                    Front::Cli => "--profile",
                    Front::Node => "the profile option",
                    Front::Rust | Front::Python => "the profile argument",
                };
                format!(
                    "The credentials came from profile {profile:?} of {}: log in again (wf login), \
                     or choose another profile with {choose}",
                    path.display()
                )
            }
        }
    }
}

/// Which family of access token a hint talks about.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TokenFamily {
    /// A workspace access token.
    Workspace,
    /// A platform access token.
    Platform,
}

/// What to do next, as data; [`Hint::phrase`] words it for each front.
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
}

/// Who reads an error: each names calls and options in its own way.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Front {
    /// The Rust crate.
    Rust,
    /// The Python package.
    Python,
    /// The Node package.
    Node,
    /// The command line.
    Cli,
}

impl Hint {
    /// The hint as one sentence in `front`'s names.
    pub fn phrase(&self, front: Front) -> String {
        const CLI_AGAIN: &str = "run the command again with --reset-token";
        match (self, front) {
            (Hint::UseReset { .. }, Front::Cli) => {
                format!("To issue a new secret for it (keeping its roles), {CLI_AGAIN}")
            }
            (Hint::UseReset { family, name }, _) => format!(
                "To issue a new secret for it (keeping its roles), use {} or {}",
                reset_option(front),
                reset_call(front, *family, name)
            ),
            (Hint::SecretNotIssued { name, .. }, Front::Cli) => {
                format!("The access token {name:?} exists but its secret was not issued; {CLI_AGAIN}")
            }
            (Hint::SecretNotIssued { family, name }, _) => format!(
                "The access token {name:?} exists but its secret was not issued; get one with {}",
                reset_call(front, *family, name)
            ),
            (Hint::SecretMayBeReset { name, .. }, Front::Cli) => {
                format!("The secret of {name:?} may have been reset without reaching you; run the command again")
            }
            (Hint::SecretMayBeReset { family, name }, _) => format!(
                "The secret of {name:?} may have been reset without reaching you; call {} again",
                reset_call(front, *family, name)
            ),
            (Hint::CredentialRevoked, _) => {
                "the access token was reset, deleted or has expired; issue a new one with a reset".to_owned()
            }
            (Hint::LogInAgain, _) => "the refresh token is no longer valid; log in again (wf login)".to_owned(),
        }
    }
}

/// The create option that turns an existing token into a reset.
fn reset_option(front: Front) -> &'static str {
    match front {
        Front::Rust => "CreateOptions { reset_token: true, .. }",
        Front::Python => "reset_token=True",
        Front::Node => "{ resetToken: true }",
        Front::Cli => "--reset-token",
    }
}

/// The reset call for one token.
fn reset_call(front: Front, family: TokenFamily, name: &str) -> String {
    let (snake, camel) = match family {
        TokenFamily::Workspace => ("reset_workspace_access_token", "resetWorkspaceAccessToken"),
        TokenFamily::Platform => ("reset_platform_access_token", "resetPlatformAccessToken"),
    };
    match (front, family) {
        (Front::Rust, TokenFamily::Workspace) => format!("{snake}({name:?}, workspace)"),
        (Front::Rust | Front::Python, _) => format!("{snake}({name:?})"),
        (Front::Node, _) => format!("{camel}({name:?})"),
        (Front::Cli, _) => format!("--reset-token {name}"),
    }
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
    #[error("{message}")]
    Validation {
        /// The field errors' messages, joined.
        message: String,
        /// Each field and rule that failed.
        field_errors: Vec<FieldError>,
    },
    /// The server answered with an error (or with something not understood).
    #[error("{}", with_hint(&.0.message, .0.hint.as_ref(), Front::Rust))]
    Api(Box<ApiError>),
    /// The request could not be sent or its answer not read.
    #[error("{}", with_hint(message, hint.as_ref(), Front::Rust))]
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
    #[error("{}", with_hint(message, hint.as_ref(), Front::Rust))]
    Timeout {
        /// Which deadline.
        message: String,
        /// What to do next.
        hint: Option<Hint>,
    },
}

fn with_hint(message: &str, hint: Option<&Hint>, front: Front) -> String {
    match hint {
        Some(h) => format!("{message}. {}", h.phrase(front)),
        None => message.to_owned(),
    }
}

/// The options whose names differ between fronts, as Rust and Python spell them.
const OPTION_NAMES: [&str; 14] = [
    "allow_insecure_http",
    "api_group_version",
    "ca_certificate",
    "config_path",
    "dry_run",
    "expires_in",
    "expiring_within",
    "make_current",
    "max_retries",
    "max_total_backoff",
    "older_than",
    "reset_token",
    "save_profile",
    "timeout",
];

/// `snake_name` as `front` spells it.
fn option_name(snake_name: &str, front: Front) -> String {
    match front {
        Front::Rust | Front::Python => snake_name.to_owned(),
        Front::Cli => format!("--{}", snake_name.replace('_', "-")),
        Front::Node if snake_name == "timeout" => "timeoutMs".to_owned(),
        Front::Node => {
            let mut words = snake_name.split('_');
            let first = words.next().unwrap_or_default().to_owned();
            words.fold(first, |mut camel, word| {
                let mut chars = word.chars();
                if let Some(c) = chars.next() {
                    camel.extend(c.to_uppercase());
                    camel.push_str(chars.as_str());
                }
                camel
            })
        }
    }
}

/// `text` with each whole-word `word` (not inside a longer identifier) replaced.
fn replace_word(text: &str, word: &str, with: &str) -> String {
    let is_ident = |c: char| c.is_ascii_alphanumeric() || c == '_' || c == '-';
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find(word) {
        let before = rest[..at].chars().next_back();
        let after = rest[at + word.len()..].chars().next();
        out.push_str(&rest[..at]);
        if before.is_some_and(is_ident) || after.is_some_and(is_ident) {
            out.push_str(word);
        } else {
            out.push_str(with);
        }
        rest = &rest[at + word.len()..];
    }
    out.push_str(rest);
    out
}

/// What a binding reports when the library panicked (a bug). The payload is
/// never shown: it could hold anything.
pub const PANIC_MESSAGE: &str = "internal error in wayfinder-tokens (a bug; please report it)";

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
        Error::Validation { message, field_errors }
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
            Error::Transport { hint, .. } | Error::Timeout { hint, .. } => hint.as_ref(),
            Error::Config { .. } | Error::Validation { .. } => None,
        }
    }

    /// The message alone, without the hint.
    pub fn message(&self) -> &str {
        match self {
            Error::Config { message, .. }
            | Error::Validation { message, .. }
            | Error::Transport { message, .. }
            | Error::Timeout { message, .. } => message,
            Error::Api(api) => &api.message,
        }
    }

    /// The same error without its underlying cause (which cannot be
    /// copied): same kind, message, status, field errors and hint. For
    /// errors that are reported (a batch's failures) as well as kept.
    pub fn without_source(&self) -> Error {
        match self {
            Error::Config { message, .. } => Error::config(message.clone()),
            Error::Validation { message, field_errors } => Error::Validation {
                message: message.clone(),
                field_errors: field_errors.clone(),
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

    /// The message and the hint, in `front`'s names.
    pub fn describe(&self, front: Front) -> String {
        let described = with_hint(self.message(), self.hint(), front);
        match self {
            Error::Api(api) => match &api.credentials {
                Some(source) => format!("{described}. {}", source.phrase(front)),
                None => described,
            },
            _ => described,
        }
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
            Error::Transport { hint, .. } | Error::Timeout { hint, .. } => *hint = Some(new),
            Error::Config { .. } | Error::Validation { .. } => {}
        }
        self
    }

    /// The same error with `f` applied to its message and field errors' text.
    pub(crate) fn map_text(mut self, f: impl Fn(&str) -> String) -> Error {
        let fields = |field_errors: &mut Vec<FieldError>| {
            for e in field_errors {
                e.field = f(&e.field);
                e.message = f(&e.message);
            }
        };
        match &mut self {
            Error::Config { message, .. } | Error::Transport { message, .. } | Error::Timeout { message, .. } => {
                *message = f(message)
            }
            Error::Validation { message, field_errors } => {
                *message = f(message);
                fields(field_errors);
            }
            Error::Api(api) => {
                api.message = f(&api.message);
                fields(&mut api.field_errors);
            }
        }
        self
    }

    /// The same error with every option name in `front`'s spelling
    /// (`max_retries` is `maxRetries` in Node and `--max-retries` on the
    /// command line), in the field errors and the message alike.
    pub fn in_names_of(self, front: Front) -> Error {
        if matches!(front, Front::Rust | Front::Python) {
            return self;
        }
        self.map_text(|text| {
            OPTION_NAMES.iter().fold(text.to_owned(), |text, name| {
                replace_word(&text, name, &option_name(name, front))
            })
        })
    }

    /// Says how many attempts the call made before this error (in the
    /// message; field errors keep their own text).
    pub(crate) fn after_attempts(mut self, attempts: u32) -> Error {
        let message = match &mut self {
            Error::Config { message, .. }
            | Error::Validation { message, .. }
            | Error::Transport { message, .. }
            | Error::Timeout { message, .. } => message,
            Error::Api(api) => &mut api.message,
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

    #[test]
    fn hints_are_phrased_per_front_and_never_in_another_front_s_names() {
        let e = Error::from_status(409, "exists".into(), vec![], None).with_hint(Hint::UseReset {
            family: TokenFamily::Workspace,
            name: "ci".into(),
        });
        let python = e.describe(Front::Python);
        let node = e.describe(Front::Node);
        let cli = e.describe(Front::Cli);
        assert!(python.contains("reset_token=True") && python.contains("reset_workspace_access_token(\"ci\")"));
        assert!(node.contains("resetToken: true") && node.contains("resetWorkspaceAccessToken(\"ci\")"));
        assert!(cli.contains("--reset-token"));
        for text in [&node, &cli] {
            assert!(!text.contains("reset_token") && !text.contains("True"), "{text}");
        }
        assert!(!python.contains("resetToken") && !cli.contains("resetWorkspace"));
        assert_eq!(e.message(), "exists (HTTP 409)");
        assert!(e.to_string().contains("reset_token: true"));
    }

    #[test]
    fn option_names_follow_the_front() {
        let e = Error::invalid(
            "max_retries",
            "invalidValue",
            "max_retries must be at most 20 (not max_retries_x)",
        );
        let node = e.in_names_of(Front::Node);
        assert_eq!(node.field_errors()[0].field, "maxRetries");
        assert_eq!(node.message(), "maxRetries must be at most 20 (not max_retries_x)");
        let cli = Error::invalid("expires_in", "invalidValue", "expires_in: bad").in_names_of(Front::Cli);
        assert_eq!(cli.message(), "--expires-in: bad");
        let python = Error::invalid("expires_in", "invalidValue", "expires_in: bad").in_names_of(Front::Python);
        assert_eq!(python.message(), "expires_in: bad");
        assert_eq!(option_name("allow_insecure_http", Front::Node), "allowInsecureHttp");
        assert_eq!(option_name("timeout", Front::Node), "timeoutMs");
    }

    #[test]
    fn a_copy_without_the_source_keeps_everything_else() {
        let timeout = Error::Timeout {
            message: "slow".into(),
            hint: Some(Hint::LogInAgain),
        };
        let copy = timeout.without_source();
        assert_eq!(
            (copy.kind(), copy.describe(Front::Cli)),
            (ErrorKind::Timeout, timeout.describe(Front::Cli))
        );
        let transport = Error::Transport {
            message: "reset".into(),
            source: Some("io".into()),
            hint: None,
        };
        assert!(std::error::Error::source(&transport.without_source()).is_none());
        assert_eq!(transport.without_source().kind(), ErrorKind::Transport);
        let invalid = Error::invalid("name", "pattern", "bad");
        assert_eq!(invalid.without_source().field_errors(), invalid.field_errors());
    }

    #[test]
    fn configuration_errors_carry_no_hint() {
        let e = Error::config("no profile").with_hint(Hint::LogInAgain);
        assert_eq!(e.to_string(), "no profile");
        assert_eq!(e.status(), None);
    }
}
