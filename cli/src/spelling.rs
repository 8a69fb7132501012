//! How the command line names arguments and calls in error messages: its
//! flags where it has one, the setting's own name where it comes from the
//! config file or the environment.

use std::borrow::Cow;

use wayfinder_tokens::{Argument, Spelling, TokenFamily};

/// The command line's names.
#[derive(Clone, Copy, Debug, Default)]
pub struct CliSpelling;

impl Spelling for CliSpelling {
    fn argument(&self, argument: Argument) -> Cow<'static, str> {
        match argument {
            Argument::AllowInsecureHttp => "--allow-insecure-http",
            Argument::Cluster => "--cluster",
            Argument::Concurrency => "--concurrency",
            Argument::ConfigPath => "--config",
            Argument::Deliver => "--deliver",
            Argument::Description => "--description",
            Argument::ExpiresIn => "--expires-in",
            Argument::ExpiringWithin => "--expiring-within",
            Argument::Names => "--names",
            Argument::Namespace => "--namespace",
            Argument::OlderThan => "--older-than",
            Argument::Prefix => "--github-prefix",
            Argument::Profile => "--profile",
            Argument::Workspace | Argument::Workspaces => "--workspace",
            // The positional argument and the settings without a flag (from
            // the config file, the environment or the server): their own names.
            Argument::Name
            | Argument::ApiGroupVersion
            | Argument::CaCertificate
            | Argument::MaxRetries
            | Argument::Path
            | Argument::Role
            | Argument::Server
            | Argument::Timeout
            | Argument::Token => argument.snake_case(),
        }
        .into()
    }

    fn reset_option(&self) -> &'static str {
        "--reset-token"
    }

    fn reset_call(&self, _: TokenFamily, _: &str) -> Option<String> {
        None
    }

    fn recovery(&self, name: &str, workspace: &str) -> String {
        format!("wayfinder-tokens create workspaceaccesstoken {name} -w {workspace} --reset-token")
    }

    fn token_given(&self) -> &'static str {
        "the token given"
    }

    fn profile_choice(&self) -> &'static str {
        "--profile"
    }
}
