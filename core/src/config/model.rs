//! The file's content: profiles, servers and users, each level keeping the
//! keys it does not understand, in their order.

use std::path::{Path, PathBuf};

use indexmap::IndexMap;
use serde::{Deserialize, Serialize};
use yaml_serde::Mapping;

use crate::error::{Error, Result};
use crate::model::null_default;
pub use crate::model::{ENV_SERVER, ENV_TOKEN, ENV_WORKSPACE};
use crate::secret::Secret;

/// Environment variable naming the config file.
pub const ENV_CONFIG: &str = "WAYFINDER_CONFIG";

/// The whole file.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Config {
    /// The profile used when none is named.
    #[serde(rename = "current-profile", default, skip_serializing_if = "Option::is_none")]
    pub current_profile: Option<String>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "IndexMap::is_empty"
    )]
    /// Profiles: a server, a user and a workspace each.
    pub profiles: IndexMap<String, Profile>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "IndexMap::is_empty"
    )]
    /// Servers: an endpoint, a pinned CA and the `/apiinfo` cache.
    pub servers: IndexMap<String, Server>,
    #[serde(
        default,
        deserialize_with = "null_default",
        skip_serializing_if = "IndexMap::is_empty"
    )]
    /// Users: a static token or an identity.
    pub users: IndexMap<String, User>,
    /// The file format's version.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub version: Option<String>,
    /// Keys this library does not know, kept as they were.
    #[serde(flatten)]
    pub extra: Mapping,
}

/// `profiles.<name>`: which server and user, and the default workspace.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Profile {
    /// The name of the profile's server entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// The name of the profile's user entry.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub user: Option<String>,
    /// The profile's default workspace.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<String>,
    /// Keys this library does not know, kept as they were.
    #[serde(flatten)]
    pub extra: Mapping,
}

/// `servers.<name>`: the endpoint, an optional CA, and cached discovery.
///
/// Discovery is cached under `apiinfo` with lower-case keys, as the vendor's
/// own client writes it; an `apiInfo` (camelCase) cache is read too and
/// rewritten in the vendor's spelling on the next save, so a file never holds both.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(from = "ServerOnDisk")]
pub struct Server {
    /// The server's URL.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// A PEM certificate (bundle) trusted for this server; a server certificate identical to one here is accepted.
    #[serde(rename = "caCertificate", default, skip_serializing_if = "Option::is_none")]
    pub ca_certificate: Option<String>,
    /// The cached `/apiinfo` answer.
    #[serde(rename = "apiinfo", default, skip_serializing_if = "Option::is_none")]
    pub api_info: Option<ApiInfo>,
    /// Keys this library does not know, kept as they were.
    #[serde(flatten)]
    pub extra: Mapping,
}

/// [`Server`] as read: either spelling of the discovery cache.
#[derive(Deserialize)]
struct ServerOnDisk {
    #[serde(default)]
    server: Option<String>,
    #[serde(rename = "caCertificate", default)]
    ca_certificate: Option<String>,
    #[serde(rename = "apiinfo", default)]
    api_info: Option<ApiInfo>,
    #[serde(rename = "apiInfo", default)]
    api_info_camel_case: Option<ApiInfo>,
    #[serde(flatten)]
    extra: Mapping,
}

impl From<ServerOnDisk> for Server {
    fn from(disk: ServerOnDisk) -> Server {
        Server {
            server: disk.server,
            ca_certificate: disk.ca_certificate,
            api_info: disk.api_info.or(disk.api_info_camel_case),
            extra: disk.extra,
        }
    }
}

/// What `/apiinfo` answers: where the API's two halves live. Written with the
/// vendor's lower-case keys; the server's camelCase keys are read too.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApiInfo {
    /// Where the non-resource calls live (`/api/v2`).
    #[serde(rename = "nonresourceapi", alias = "nonResourceAPI")]
    pub non_resource_api: String,
    /// Where the resources live (`/resources`).
    #[serde(rename = "resourceapi", alias = "resourceAPI")]
    pub resource_api: String,
    #[serde(
        rename = "kubeproxyapi",
        alias = "kubeProxyAPI",
        default,
        skip_serializing_if = "Option::is_none"
    )]
    /// Where the Kubernetes proxy lives, if the server has one.
    pub kube_proxy_api: Option<String>,
}

impl ApiInfo {
    /// Checks that each path is a plain absolute path on the configured
    /// server: one leading `/`, no `//`, no scheme, host, port, user info,
    /// query, fragment, backslash or dot segment. Anything else could send
    /// the bearer token to another origin.
    pub fn check(&self, source: &str) -> Result<()> {
        let paths = [
            ("nonResourceAPI", Some(&self.non_resource_api)),
            ("resourceAPI", Some(&self.resource_api)),
            ("kubeProxyAPI", self.kube_proxy_api.as_ref()),
        ];
        for (key, path) in paths {
            if let Some(path) = path
                && !is_plain_absolute_path(path)
            {
                return Err(Error::bad_answer(
                    None,
                    format!(
                        "{source} gave {key} {:?}, which is not a plain absolute path on the configured server; \
                         refusing to send credentials anywhere else",
                        path.chars().take(100).collect::<String>()
                    ),
                ));
            }
        }
        Ok(())
    }
}

/// `/a/b` (optionally ending in `/`): segments of URL-safe characters only.
fn is_plain_absolute_path(path: &str) -> bool {
    let Some(rest) = path.strip_prefix('/') else {
        return false;
    };
    let rest = rest.strip_suffix('/').unwrap_or(rest);
    rest.is_empty()
        || rest.split('/').all(|segment| {
            !segment.is_empty()
                && segment != "."
                && segment != ".."
                && segment.chars().all(|c| c.is_ascii_alphanumeric() || "-._~".contains(c))
        })
}

/// `users.<name>`: a static token, or an identity.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct User {
    /// A static token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<Secret>,
    /// An identity: an access or refresh token and its cached API token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub identity: Option<Identity>,
    /// Keys this library does not know, kept as they were.
    #[serde(flatten)]
    pub extra: Mapping,
}

/// `users.<name>.identity`: a refresh token (or an access token to
/// exchange) and an optional cached API token.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct Identity {
    /// The cached short-lived API token.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub token: Option<Secret>,
    /// The long-lived token: an access token (exchanged) or a user's refresh token.
    #[serde(rename = "refresh-token", default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<Secret>,
    /// Keys this library does not know, kept as they were.
    #[serde(flatten)]
    pub extra: Mapping,
}

/// One profile with its server and user looked up.
#[derive(Clone, Debug, PartialEq)]
pub struct ResolvedProfile {
    /// The profile's name.
    pub profile: String,
    /// The name of its server entry.
    pub server_name: String,
    /// The server's URL.
    pub endpoint: String,
    /// The name of its user entry.
    pub user_name: String,
    /// The user entry.
    pub user: User,
    /// The default workspace.
    pub workspace: Option<String>,
    /// The pinned CA, if any.
    pub ca_certificate: Option<String>,
    /// The cached `/apiinfo` answer, if any.
    pub api_info: Option<ApiInfo>,
}

impl Config {
    /// Parses YAML; errors name `path` and the line.
    pub fn parse(text: &str, path: &Path) -> Result<Config> {
        // Editors on Windows save a byte-order mark; YAML allows it.
        let text = text.strip_prefix('\u{feff}').unwrap_or(text);
        if text.trim().is_empty() {
            return Ok(Config::default());
        }
        refuse_aliases(text, path)?;
        let config: Config = yaml_serde::from_str(text).map_err(|e| {
            let at = e
                .location()
                .map(|l| format!(" at line {}, column {}", l.line(), l.column()))
                .unwrap_or_default();
            let reason = e.to_string();
            let reason = redact_quoted(reason.split(" at line ").next().unwrap_or("invalid YAML"));
            Error::config(format!("config file {} is not valid{at}: {reason}", path.display()))
        })?;
        // Whatever loads must save: YAML this library cannot write back (a
        // complex mapping key in an unknown section, found by fuzzing) is
        // refused now rather than at the first save.
        if let Err(e) = yaml_serde::to_string(&config) {
            return Err(Error::config(format!(
                "config file {} holds YAML that cannot be written back ({e}); remove complex mapping keys",
                path.display()
            )));
        }
        Ok(config)
    }

    /// The file's YAML.
    pub fn to_yaml(&self) -> Result<String> {
        yaml_serde::to_string(self).map_err(|e| Error::config(format!("cannot serialise the config: {e}")))
    }

    /// Looks up a profile (the current one if `name` is `None`).
    pub fn resolve(&self, name: Option<&str>, path: &Path) -> Result<ResolvedProfile> {
        let at = || format!("in {}", path.display());
        let name = match name.or(self.current_profile.as_deref()) {
            Some(n) => n.to_owned(),
            None if self.profiles.len() == 1 => self.profiles.keys().next().cloned().unwrap_or_default(),
            None => {
                return Err(Error::config(format!(
                    "no profile chosen and no current-profile set {}",
                    at()
                )));
            }
        };
        let profile = self.profiles.get(&name).ok_or_else(|| {
            let known = self.profiles.keys().cloned().collect::<Vec<_>>().join(", ");
            Error::config(format!("no profile {name:?} {} (profiles: {known})", at()))
        })?;
        let server_name = profile.server.clone().unwrap_or_else(|| name.clone());
        let server = self.servers.get(&server_name).ok_or_else(|| {
            Error::config(format!(
                "profile {name:?} names server {server_name:?}, which is not defined {}",
                at()
            ))
        })?;
        let endpoint = server
            .server
            .clone()
            .filter(|s| !s.is_empty())
            .ok_or_else(|| Error::config(format!("server {server_name:?} has no 'server' URL {}", at())))?;
        let user_name = profile.user.clone().unwrap_or_else(|| name.clone());
        let user = self.users.get(&user_name).cloned().ok_or_else(|| {
            Error::config(format!(
                "profile {name:?} names user {user_name:?}, which is not defined {}",
                at()
            ))
        })?;
        Ok(ResolvedProfile {
            profile: name,
            server_name,
            endpoint,
            user_name,
            user,
            workspace: profile.workspace.clone().filter(|w| !w.is_empty()),
            ca_certificate: server.ca_certificate.clone().filter(|c| !c.trim().is_empty()),
            api_info: server.api_info.clone(),
        })
    }

    /// Adds or replaces a profile, with a server and user of the same name.
    pub fn set_profile(
        &mut self,
        name: &str,
        endpoint: &str,
        token: &Secret,
        workspace: Option<&str>,
        make_current: bool,
    ) {
        let profile = self.profiles.entry(name.to_owned()).or_default();
        profile.server = Some(name.to_owned());
        profile.user = Some(name.to_owned());
        profile.workspace = workspace.map(str::to_owned);
        let server = self.servers.entry(name.to_owned()).or_default();
        if server.server.as_deref() != Some(endpoint) {
            server.api_info = None;
        }
        server.server = Some(endpoint.to_owned());
        let user = self.users.entry(name.to_owned()).or_default();
        user.token = None;
        let identity = user.identity.get_or_insert_with(Identity::default);
        identity.refresh_token = Some(token.clone());
        identity.token = None;
        if make_current || self.current_profile.is_none() {
            self.current_profile = Some(name.to_owned());
        }
        if self.version.is_none() {
            self.version = Some("v2".to_owned());
        }
    }
}

/// Refuses YAML aliases: expanding them lets a small file grow without bound
/// in memory and on the next save, and the vendor's files never use them.
fn refuse_aliases(text: &str, path: &Path) -> Result<()> {
    // A document saphyr cannot parse is left to yaml_serde, whose error names the line.
    for (event, span) in saphyr_parser::Parser::new_from_str(text).map_while(std::result::Result::ok) {
        if let saphyr_parser::Event::Alias(_) = event {
            return Err(Error::config(format!(
                "config file {} uses a YAML alias at line {}; aliases are not allowed in a Wayfinder config",
                path.display(),
                span.start.line()
            )));
        }
    }
    Ok(())
}

/// A parser message with every quoted value replaced by `"…"`: a type error
/// quotes the offending value, which may be a token.
fn redact_quoted(message: &str) -> String {
    let mut out = String::with_capacity(message.len());
    let mut quoted = false;
    for c in message.chars() {
        match (c, quoted) {
            ('"', false) => {
                out.push_str("\"…\"");
                quoted = true;
            }
            ('"', true) => quoted = false,
            (_, true) => {}
            (c, false) => out.push(c),
        }
    }
    out
}

/// `$WAYFINDER_CONFIG`, else `~/.wayfinder/config`.
pub fn default_path(env: &dyn Fn(&str) -> Option<String>) -> Result<PathBuf> {
    if let Some(p) = env(ENV_CONFIG).filter(|p| !p.is_empty()) {
        return Ok(PathBuf::from(p));
    }
    let home = env("HOME")
        .filter(|h| !h.is_empty())
        .map(PathBuf::from)
        .or_else(std::env::home_dir)
        .ok_or_else(|| Error::config(format!("cannot find the home folder; set {ENV_CONFIG}")))?;
    Ok(home.join(".wayfinder").join("config"))
}
