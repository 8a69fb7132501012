//! How the Node package names arguments and calls in error messages:
//! camelCase options, methods on the client.

use std::borrow::Cow;

use wayfinder_tokens::{Argument, Spelling, TokenFamily};

/// The Node package's names.
#[derive(Clone, Copy, Debug)]
pub struct NodeSpelling;

impl NodeSpelling {
    /// An argument's name as the options objects spell it.
    pub fn name(argument: Argument) -> &'static str {
        match argument {
            Argument::AllowInsecureHttp => "allowInsecureHttp",
            Argument::ApiGroupVersion => "apiGroupVersion",
            Argument::CaCertificate => "caCertificate",
            Argument::Cluster => "cluster",
            Argument::Concurrency => "concurrency",
            Argument::ConfigPath => "configPath",
            Argument::Deliver => "deliver",
            Argument::Description => "description",
            Argument::ExpiresIn => "expiresIn",
            Argument::ExpiringWithin => "expiringWithin",
            Argument::MaxRetries => "maxRetries",
            Argument::Name => "name",
            Argument::Names => "names",
            Argument::Namespace => "namespace",
            Argument::OlderThan => "olderThan",
            Argument::Path => "path",
            Argument::Prefix => "prefix",
            Argument::Profile => "profile",
            Argument::Role => "role",
            Argument::Server => "server",
            Argument::Timeout => "timeoutMs",
            Argument::Token => "token",
            Argument::Workspace => "workspace",
            Argument::Workspaces => "workspaces",
        }
    }
}

impl Spelling for NodeSpelling {
    fn argument(&self, argument: Argument) -> Cow<'static, str> {
        NodeSpelling::name(argument).into()
    }

    fn reset_option(&self) -> &'static str {
        "{ resetToken: true }"
    }

    fn reset_call(&self, family: TokenFamily, name: &str) -> Option<String> {
        Some(match family {
            TokenFamily::Workspace => format!("resetWorkspaceAccessToken({name:?})"),
            TokenFamily::Platform => format!("resetPlatformAccessToken({name:?})"),
        })
    }

    fn recovery(&self, name: &str, workspace: &str) -> String {
        format!("client.resetWorkspaceAccessToken({name:?}, {{ workspace: {workspace:?} }})")
    }

    fn token_given(&self) -> &'static str {
        "the token option"
    }

    fn profile_choice(&self) -> &'static str {
        "the profile option"
    }
}
