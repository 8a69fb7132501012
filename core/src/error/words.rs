//! What errors name, as data ([`Field`], [`Argument`]), and the one place
//! their sentences are written. Each front (Rust here, Python, Node, the CLI
//! in their own crates) supplies a [`Spelling`]: how it names arguments and
//! calls. Server text is never respelled.

use std::borrow::Cow;

use super::{CredentialSource, Hint, TokenFamily};

/// An argument or option of this library's API: each front spells it its
/// own way (`max_retries`, `maxRetries`, `--max-retries`).
///
/// Not `non_exhaustive` on purpose: a new argument does not compile until
/// every front has said how it names it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Argument {
    /// Plain-HTTP consent.
    AllowInsecureHttp,
    /// The resource API's `GROUP/VERSION`.
    ApiGroupVersion,
    /// A PEM bundle to trust.
    CaCertificate,
    /// A role binding's cluster.
    Cluster,
    /// How many requests a batch keeps in flight.
    Concurrency,
    /// The config file.
    ConfigPath,
    /// Where a new secret is delivered (a SPEC).
    Deliver,
    /// A token's description.
    Description,
    /// A token's lifetime.
    ExpiresIn,
    /// A fleet filter: expiring within this long.
    ExpiringWithin,
    /// How many retries a call may make.
    MaxRetries,
    /// A token's name.
    Name,
    /// A fleet filter: glob patterns of names.
    Names,
    /// A role binding's namespace.
    Namespace,
    /// A fleet filter: older than this.
    OlderThan,
    /// A file or folder to write.
    Path,
    /// A prefix for hand-off names.
    Prefix,
    /// A config profile.
    Profile,
    /// A role.
    Role,
    /// The Wayfinder server's URL.
    Server,
    /// A per-call deadline.
    Timeout,
    /// A token: the credential, or the token a role is granted to.
    Token,
    /// A workspace key.
    Workspace,
    /// A fleet filter: workspace keys.
    Workspaces,
}

impl Argument {
    /// The Rust (and Python) name.
    pub fn snake_case(self) -> &'static str {
        match self {
            Argument::AllowInsecureHttp => "allow_insecure_http",
            Argument::ApiGroupVersion => "api_group_version",
            Argument::CaCertificate => "ca_certificate",
            Argument::Cluster => "cluster",
            Argument::Concurrency => "concurrency",
            Argument::ConfigPath => "config_path",
            Argument::Deliver => "deliver",
            Argument::Description => "description",
            Argument::ExpiresIn => "expires_in",
            Argument::ExpiringWithin => "expiring_within",
            Argument::MaxRetries => "max_retries",
            Argument::Name => "name",
            Argument::Names => "names",
            Argument::Namespace => "namespace",
            Argument::OlderThan => "older_than",
            Argument::Path => "path",
            Argument::Prefix => "prefix",
            Argument::Profile => "profile",
            Argument::Role => "role",
            Argument::Server => "server",
            Argument::Timeout => "timeout",
            Argument::Token => "token",
            Argument::Workspace => "workspace",
            Argument::Workspaces => "workspaces",
        }
    }
}

/// The field of a [`FieldError`](super::FieldError).
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Field {
    /// One of this library's arguments.
    Argument(Argument),
    /// A name kept as its author wrote it: a server's `fieldErrors`, or a
    /// binding's own argument (already in that binding's spelling).
    Named(String),
}

impl Field {
    /// A field named by whoever reports it.
    pub fn named(name: impl Into<String>) -> Field {
        Field::Named(name.into())
    }

    /// The field as Rust names it.
    pub fn key(&self) -> &str {
        match self {
            Field::Argument(a) => a.snake_case(),
            Field::Named(name) => name,
        }
    }
}

impl From<Argument> for Field {
    fn from(argument: Argument) -> Field {
        Field::Argument(argument)
    }
}

impl PartialEq<&str> for Field {
    fn eq(&self, other: &&str) -> bool {
        self.key() == *other
    }
}

impl std::fmt::Display for Field {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.key())
    }
}

/// How a front names what an error's sentences mention. The defaults are
/// the Rust (and Python) names.
pub trait Spelling {
    /// An argument's name.
    fn argument(&self, argument: Argument) -> Cow<'static, str> {
        argument.snake_case().into()
    }
    /// The option that turns a create into a reset (`reset_token=True`).
    fn reset_option(&self) -> &'static str;
    /// The call that resets one token, or `None` where the way to reset is
    /// to run the same command again with [`Spelling::reset_option`].
    fn reset_call(&self, family: TokenFamily, name: &str) -> Option<String>;
    /// The whole call that gets a batch's failed token a working secret.
    fn recovery(&self, name: &str, workspace: &str) -> String;
    /// What the caller calls a token given explicitly.
    fn token_given(&self) -> &'static str {
        "the token argument"
    }
    /// How the caller chooses a profile.
    fn profile_choice(&self) -> &'static str {
        "the profile argument"
    }
}

/// The Rust crate's names (the `Display` of every error).
#[derive(Clone, Copy, Debug, Default)]
pub struct RustSpelling;

impl Spelling for RustSpelling {
    fn reset_option(&self) -> &'static str {
        "CreateOptions { reset_token: true, .. }"
    }

    fn reset_call(&self, family: TokenFamily, name: &str) -> Option<String> {
        Some(match family {
            TokenFamily::Workspace => format!("reset_workspace_access_token({name:?}, workspace)"),
            TokenFamily::Platform => format!("reset_platform_access_token({name:?})"),
        })
    }

    fn recovery(&self, name: &str, workspace: &str) -> String {
        format!("client.reset_workspace_access_token({name:?}, Some({workspace:?}))")
    }
}

impl Hint {
    /// The hint as one sentence in `spelling`'s names.
    pub fn phrase(&self, spelling: &dyn Spelling) -> String {
        let again = || format!("run the command again with {}", spelling.reset_option());
        match self {
            Hint::UseReset { family, name } => {
                let how = match spelling.reset_call(*family, name) {
                    Some(call) => format!("use {} or {call}", spelling.reset_option()),
                    None => again(),
                };
                format!("To issue a new secret for it (keeping its roles), {how}")
            }
            Hint::SecretNotIssued { family, name } => {
                let how = match spelling.reset_call(*family, name) {
                    Some(call) => format!("get one with {call}"),
                    None => again(),
                };
                format!("The access token {name:?} exists but its secret was not issued; {how}")
            }
            Hint::SecretMayBeReset { family, name } => {
                let how = match spelling.reset_call(*family, name) {
                    Some(call) => format!("call {call} again"),
                    None => "run the command again".to_owned(),
                };
                format!("The secret of {name:?} may have been reset without reaching you; {how}")
            }
            Hint::CredentialRevoked => {
                "the access token was reset, deleted or has expired; issue a new one with a reset".to_owned()
            }
            Hint::LogInAgain => "the refresh token is no longer valid; log in again (wf login)".to_owned(),
            Hint::UseHttpsOrAllowInsecureHttp => format!(
                "Use https://, or opt in to plain HTTP with {}",
                spelling.argument(Argument::AllowInsecureHttp)
            ),
        }
    }
}

impl CredentialSource {
    /// Where they came from and what to do next, in `spelling`'s names.
    pub fn phrase(&self, spelling: &dyn Spelling) -> String {
        match self {
            CredentialSource::Arguments => format!(
                "The credentials came from {}: pass a token that works",
                spelling.token_given()
            ),
            CredentialSource::Environment => "The credentials came from WAYFINDER_SERVER and WAYFINDER_TOKEN: \
                                              set WAYFINDER_TOKEN to a token that works, or unset both to use \
                                              the config file"
                .to_owned(),
            CredentialSource::File { path, profile } => format!(
                "The credentials came from profile {profile:?} of {}: log in again (wf login), \
                 or choose another profile with {}",
                path.display(),
                spelling.profile_choice()
            ),
        }
    }
}
