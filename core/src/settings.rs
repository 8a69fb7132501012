//! Where a client's server, credential and workspace come from, in order of
//! precedence: explicit options; then `WAYFINDER_SERVER` + `WAYFINDER_TOKEN`
//! (+ `WAYFINDER_WORKSPACE`); then the config file's chosen or current
//! profile. Pure: the environment is passed in, nothing is sent.

use std::net::IpAddr;
use std::path::PathBuf;
use std::time::Duration;

use url::Url;

use crate::auth::Credential;
use crate::config::{self, ApiInfo, Config, ENV_SERVER, ENV_TOKEN, ENV_WORKSPACE};
use crate::error::{Argument, Error, Hint, Result};
use crate::names;
use crate::secret::Secret;

/// The default group/version of the access-token kinds (this project's
/// assumption; see docs/protocol.md).
pub const DEFAULT_API_GROUP_VERSION: &str = "accesstokens.appvia.io/v2beta1";

/// Everything a client can be built from. All fields are optional.
#[derive(Clone, Debug, Default)]
pub struct ClientOptions {
    /// The Wayfinder API URL.
    pub server: Option<String>,
    /// A static token, an access token (exchanged) or a refresh token.
    pub token: Option<Secret>,
    /// The default workspace for workspace operations.
    pub workspace: Option<String>,
    /// The config profile to use (instead of the current one).
    pub profile: Option<String>,
    /// The config file (instead of `$WAYFINDER_CONFIG` or `~/.wayfinder/config`).
    pub config_path: Option<PathBuf>,
    /// Per-request timeout (default 30 s).
    pub timeout: Option<Duration>,
    /// Retries after the first attempt (default 3).
    pub max_retries: Option<u32>,
    /// Extra CA certificates (PEM) to trust besides the platform's.
    pub ca_certificate: Option<String>,
    /// Allow `http://` to hosts other than loopback.
    pub allow_insecure_http: bool,
    /// Group/version of the access-token kinds.
    pub api_group_version: Option<String>,
}

/// Where the settings came from, for writing back refreshed credentials
/// and discovered API info: only [`Origin::File`] is ever written back.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Origin {
    /// From arguments, or a file profile whose server or token an argument
    /// replaced: never written back.
    Explicit,
    /// From `WAYFINDER_*`: never written back.
    Environment,
    /// From a profile in a config file.
    File {
        /// The config file.
        path: PathBuf,
        /// The profile used.
        profile: String,
        /// The profile's server entry.
        server_name: String,
        /// The profile's user entry.
        user_name: String,
    },
}

/// The resolved settings of a client.
#[derive(Clone, Debug)]
pub struct Settings {
    /// The server's URL.
    pub endpoint: Url,
    /// What the client authenticates with.
    pub credential: Credential,
    /// A cached API token from the config (`identity.token`), used until it expires.
    pub cached_token: Option<Secret>,
    /// The default workspace of workspace operations.
    pub workspace: Option<String>,
    /// A pinned CA for the server.
    pub ca_certificate: Option<String>,
    /// A known `/apiinfo` answer (no discovery needed).
    pub api_info: Option<ApiInfo>,
    /// The group/version of the access-token kinds.
    pub api_group_version: String,
    /// Per-request timeout.
    pub timeout: Duration,
    /// Retries after the first attempt.
    pub max_retries: u32,
    /// The longest total wait between the attempts of one call.
    pub max_total_backoff: Duration,
    /// Where the settings came from (and so where refreshed tokens may be written).
    pub origin: Origin,
}

/// Per-request timeout unless one is given.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(30);
/// Retries after the first attempt unless a number is given.
pub const DEFAULT_MAX_RETRIES: u32 = 3;
/// The most retries a client may be given.
pub const MAX_RETRIES: u32 = 20;
/// The longest total time one call spends waiting between its attempts,
/// `Retry-After` waits included.
pub const DEFAULT_MAX_TOTAL_BACKOFF: Duration = Duration::from_secs(60);

/// One source of settings (arguments, environment, or file + profile),
/// taken whole before the explicit options are laid over it.
struct Layer {
    server: Option<String>,
    credential: Option<Credential>,
    cached_token: Option<Secret>,
    workspace: Option<String>,
    ca_certificate: Option<String>,
    api_info: Option<ApiInfo>,
    origin: Origin,
}

impl Layer {
    fn empty(origin: Origin) -> Layer {
        Layer {
            server: None,
            credential: None,
            cached_token: None,
            workspace: None,
            ca_certificate: None,
            api_info: None,
            origin,
        }
    }

    /// The source the explicit options are laid over: none when they name
    /// both server and token, else `WAYFINDER_*`, else the config file.
    fn base(options: &ClientOptions, env: &dyn Fn(&str) -> Option<String>) -> Result<Layer> {
        let wants_file = options.profile.is_some() || options.config_path.is_some();
        if wants_file {
            return Layer::file(options, env);
        }
        if options.server.is_some() && options.token.is_some() {
            return Ok(Layer::empty(Origin::Explicit));
        }
        match Layer::environment(env)? {
            Some(layer) => Ok(layer),
            None => Layer::file(options, env),
        }
    }

    /// `WAYFINDER_SERVER` + `WAYFINDER_TOKEN` (+ `WAYFINDER_WORKSPACE`); only
    /// one of the two set is an error, never a silent fall-back to the file.
    fn environment(env: &dyn Fn(&str) -> Option<String>) -> Result<Option<Layer>> {
        let nonempty = |k: &str| env(k).filter(|v| !v.trim().is_empty());
        match (nonempty(ENV_SERVER), nonempty(ENV_TOKEN)) {
            (Some(server), Some(token)) => Ok(Some(Layer {
                server: Some(server),
                credential: Some(Credential::classify(Secret::new(token))),
                workspace: nonempty(ENV_WORKSPACE),
                ..Layer::empty(Origin::Environment)
            })),
            (Some(_), None) => Err(half_set(ENV_SERVER, ENV_TOKEN)),
            (None, Some(_)) => Err(half_set(ENV_TOKEN, ENV_SERVER)),
            (None, None) => Ok(None),
        }
    }

    /// The chosen (or current) profile of the config file.
    fn file(options: &ClientOptions, env: &dyn Fn(&str) -> Option<String>) -> Result<Layer> {
        let path = match &options.config_path {
            Some(p) => p.clone(),
            None => config::default_path(env)?,
        };
        let resolved = Config::load(&path)?.resolve(options.profile.as_deref(), &path)?;
        let credential = file_credential(&resolved.user, &resolved.user_name, &path)?;
        let cached_token = match &credential {
            Credential::Static(_) => None,
            _ => resolved.user.identity.as_ref().and_then(|i| i.token.clone()),
        };
        Ok(Layer {
            server: Some(resolved.endpoint.clone()),
            credential: Some(credential),
            cached_token,
            workspace: resolved.workspace.clone(),
            ca_certificate: resolved.ca_certificate.clone(),
            api_info: resolved.api_info.clone(),
            origin: Origin::File {
                path,
                profile: resolved.profile,
                server_name: resolved.server_name,
                user_name: resolved.user_name,
            },
        })
    }

    /// Lays the explicit options over this layer, field by field. A server or
    /// token given explicitly detaches the result from the file: tokens and
    /// discovery results belong to the profile they came from, so nothing is
    /// written back, and a cache made for another server or token is dropped.
    fn overlay(mut self, options: &ClientOptions) -> Layer {
        if let Some(server) = &options.server {
            if self.server.as_deref() != Some(server.as_str()) {
                self.api_info = None;
                self.cached_token = None;
            }
            self.server = Some(server.clone());
        }
        if let Some(token) = &options.token {
            self.credential = Some(Credential::classify(token.clone()));
            self.cached_token = None;
        }
        if options.server.is_some() || options.token.is_some() {
            self.origin = match self.origin {
                Origin::File { .. } | Origin::Explicit => Origin::Explicit,
                other => other,
            };
        }
        if let Some(workspace) = &options.workspace {
            self.workspace = Some(workspace.clone());
        }
        if let Some(ca) = &options.ca_certificate {
            self.ca_certificate = Some(ca.clone());
        }
        self
    }
}

impl Settings {
    /// Resolves options against the environment (`env`) and the config file.
    pub fn resolve(options: &ClientOptions, env: &dyn Fn(&str) -> Option<String>) -> Result<Settings> {
        let base = Layer::base(options, env)?;
        let source = describe_source(&base.origin, options);
        let layer = base.overlay(options);
        let server = layer.server.ok_or_else(|| Error::config("no server given"))?;
        let endpoint = check_endpoint(&server, options.allow_insecure_http)?;
        let credential = layer.credential.ok_or_else(|| Error::config("no token given"))?;
        if credential.secret().expose().trim().is_empty() {
            return Err(Error::invalid(Argument::Token, "required", "must not be empty"));
        }
        if let Some(w) = &layer.workspace
            && let Some(e) = names::check_workspace(Argument::Workspace, w)
        {
            return Err(Error::from_field_errors(vec![e]));
        }
        if let Some(info) = &layer.api_info {
            info.check("the config file's cached apiinfo")?;
        }
        let api_group_version = options
            .api_group_version
            .clone()
            .unwrap_or_else(|| DEFAULT_API_GROUP_VERSION.to_owned());
        check_group_version(&api_group_version)?;
        if options.timeout.is_some_and(|t| t.is_zero()) {
            return Err(Error::invalid(
                Argument::Timeout,
                "invalidValue",
                "must be greater than zero",
            ));
        }
        if options.max_retries.is_some_and(|r| r > MAX_RETRIES) {
            return Err(Error::invalid(
                Argument::MaxRetries,
                "invalidValue",
                format!("must be at most {MAX_RETRIES}"),
            ));
        }
        log::info!(
            "credentials for {} from {source} ({} credential)",
            endpoint.as_str().trim_end_matches('/'),
            credential.kind()
        );
        Ok(Settings {
            endpoint,
            credential,
            cached_token: layer.cached_token,
            workspace: layer.workspace,
            ca_certificate: layer.ca_certificate,
            api_info: layer.api_info,
            api_group_version,
            timeout: options.timeout.unwrap_or(DEFAULT_TIMEOUT),
            max_retries: options.max_retries.unwrap_or(DEFAULT_MAX_RETRIES),
            max_total_backoff: DEFAULT_MAX_TOTAL_BACKOFF,
            origin: layer.origin,
        })
    }
}

/// Where the credentials came from, for the log (never a value).
fn describe_source(origin: &Origin, options: &ClientOptions) -> String {
    let base = match origin {
        Origin::Explicit => "arguments".to_owned(),
        Origin::Environment => format!("the environment ({ENV_SERVER}, {ENV_TOKEN})"),
        Origin::File { path, profile, .. } => format!("config file {} profile {profile:?}", path.display()),
    };
    let overridden: Vec<&str> = [
        options.server.as_ref().map(|_| "server"),
        options.token.as_ref().map(|_| "token"),
    ]
    .into_iter()
    .flatten()
    .collect();
    if overridden.is_empty() || matches!(origin, Origin::Explicit) {
        base
    } else {
        format!("{base}, with {} from arguments", overridden.join(" and "))
    }
}

fn half_set(set: &str, missing: &str) -> Error {
    Error::config(format!(
        "{set} is set but {missing} is not: set both to use the environment, or unset {set} to use the config file"
    ))
}

/// The credential a config file's user holds: a static token, else an
/// identity's refresh token (an access token is exchanged), else its token.
fn file_credential(user: &config::User, user_name: &str, path: &std::path::Path) -> Result<Credential> {
    let nonempty = |s: &Option<Secret>| s.clone().filter(|t| !t.expose().is_empty());
    if let Some(token) = nonempty(&user.token) {
        return Ok(Credential::Static(token));
    }
    let identity = user.identity.as_ref();
    if let Some(refresh) = identity.and_then(|i| nonempty(&i.refresh_token)) {
        return Ok(match Credential::classify(refresh) {
            Credential::Static(r) => Credential::Refresh(r),
            other => other,
        });
    }
    match identity.and_then(|i| nonempty(&i.token)) {
        Some(token) => Ok(Credential::Static(token)),
        None => Err(user_without_token(user_name, path)),
    }
}

fn user_without_token(user: &str, path: &std::path::Path) -> Error {
    Error::config(format!(
        "user {user:?} in {} has neither a token nor an identity with a refresh-token",
        path.display()
    ))
}

fn check_group_version(gv: &str) -> Result<()> {
    match gv.split_once('/') {
        Some((g, v)) if !g.is_empty() && !v.is_empty() && !v.contains('/') && !gv.contains(['?', '#', ' ']) => Ok(()),
        _ => Err(Error::invalid(
            Argument::ApiGroupVersion,
            "invalidValue",
            format!("must look like GROUP/VERSION (got {gv:?})"),
        )),
    }
}

/// Whether `host` is a loopback name or address.
pub fn is_loopback(host: &url::Host<&str>) -> bool {
    match host {
        url::Host::Domain(d) => d.eq_ignore_ascii_case("localhost") || d.to_ascii_lowercase().ends_with(".localhost"),
        url::Host::Ipv4(ip) => IpAddr::V4(*ip).is_loopback(),
        url::Host::Ipv6(ip) => IpAddr::V6(*ip).is_loopback(),
    }
}

/// Parses and checks the server URL: http(s), no credentials, and plain
/// `http://` only to loopback unless `allow_insecure_http`.
pub fn check_endpoint(raw: &str, allow_insecure_http: bool) -> Result<Url> {
    let invalid = |m: String| Error::invalid(Argument::Server, "invalidValue", m);
    let raw = raw.trim();
    if !raw.contains("://") {
        // `host`, `host:8443`: what people type; the URL parser's words for it
        // ("relative URL without a base", "unknown scheme") help nobody.
        return Err(invalid(format!(
            "{:?} has no scheme: write https://{raw}",
            crate::render::printable(raw)
        )));
    }
    let url = Url::parse(raw).map_err(|e| invalid(format!("must be an http(s) URL ({e})")))?;
    let host = url.host().ok_or_else(|| invalid("must have a host".to_owned()))?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(
            "must not contain credentials; pass the token separately".to_owned(),
        ));
    }
    if url.query().is_some() || url.fragment().is_some() {
        return Err(invalid("must not have a query or fragment".to_owned()));
    }
    match url.scheme() {
        "https" => Ok(url),
        "http" if allow_insecure_http || is_loopback(&host) => Ok(url),
        "http" => Err(invalid(format!(
            "{raw} uses plain http:// to a non-loopback host, which would send the token unencrypted"
        ))
        .with_hint(Hint::UseHttpsOrAllowInsecureHttp)),
        other => Err(invalid(format!("must be an http:// or https:// URL, not {other}://"))),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    fn env_of(pairs: &[(&str, &str)]) -> impl Fn(&str) -> Option<String> + use<> {
        let map: HashMap<String, String> = pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
        move |k: &str| map.get(k).cloned()
    }

    #[test]
    fn explicit_beats_env_and_env_beats_file() -> Result<()> {
        let env = env_of(&[
            ("WAYFINDER_SERVER", "https://env.example.com"),
            ("WAYFINDER_TOKEN", "env-token"),
            ("WAYFINDER_WORKSPACE", "envws"),
            ("WAYFINDER_CONFIG", "/nonexistent/config"),
        ]);
        let from_env = Settings::resolve(&ClientOptions::default(), &env)?;
        assert_eq!(from_env.endpoint.as_str(), "https://env.example.com/");
        assert_eq!(from_env.workspace.as_deref(), Some("envws"));
        assert_eq!(from_env.origin, Origin::Environment);
        let explicit = Settings::resolve(
            &ClientOptions {
                server: Some("https://explicit.example.com".into()),
                token: Some("t".into()),
                ..ClientOptions::default()
            },
            &env,
        )?;
        assert_eq!(explicit.endpoint.host_str(), Some("explicit.example.com"));
        assert_eq!(explicit.workspace, None, "explicit settings ignore WAYFINDER_WORKSPACE");
        assert_eq!(explicit.origin, Origin::Explicit);
        let overlay = Settings::resolve(
            &ClientOptions {
                workspace: Some("mine".into()),
                ..ClientOptions::default()
            },
            &env,
        )?;
        assert_eq!(overlay.workspace.as_deref(), Some("mine"));
        Ok(())
    }

    #[test]
    fn file_profiles() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| Error::config(e.to_string()))?;
        let path = dir.path().join("config");
        std::fs::write(
            &path,
            "current-profile: a\nprofiles:\n  a: {server: s, user: u, workspace: dev}\n  b: {server: s, user: v}\n\
             servers:\n  s: {server: 'http://127.0.0.1:9'}\nusers:\n  u: {token: static}\n  v: {identity: {}}\n",
        )
        .map_err(|e| Error::config(e.to_string()))?;
        let env = env_of(&[("WAYFINDER_CONFIG", path.to_str().unwrap_or_default())]);
        let s = Settings::resolve(&ClientOptions::default(), &env)?;
        assert_eq!(s.workspace.as_deref(), Some("dev"));
        assert!(matches!(s.credential, Credential::Static(_)));
        assert!(matches!(s.origin, Origin::File { ref profile, .. } if profile == "a"));
        let b = Settings::resolve(
            &ClientOptions {
                profile: Some("b".into()),
                ..ClientOptions::default()
            },
            &env,
        )
        .expect_err("v has no token");
        assert_eq!(b.code(), "CONFIG");
        assert!(b.to_string().contains("\"v\""));
        // A profile asked for is an explicit argument: it wins over WAYFINDER_*.
        let with_env = env_of(&[
            ("WAYFINDER_CONFIG", path.to_str().unwrap_or_default()),
            ("WAYFINDER_SERVER", "https://from-env.example.com"),
            ("WAYFINDER_TOKEN", "env-token"),
        ]);
        let chosen = Settings::resolve(
            &ClientOptions {
                profile: Some("a".into()),
                ..ClientOptions::default()
            },
            &with_env,
        )?;
        assert!(matches!(chosen.origin, Origin::File { ref profile, .. } if profile == "a"));
        assert_eq!(chosen.endpoint.host_str(), Some("127.0.0.1"));
        let unchosen = Settings::resolve(&ClientOptions::default(), &with_env)?;
        assert_eq!(unchosen.origin, Origin::Environment);
        Ok(())
    }

    #[test]
    fn endpoints() {
        assert!(check_endpoint("https://wayfinder.example.com", false).is_ok());
        assert!(check_endpoint("http://127.0.0.1:8080", false).is_ok());
        assert!(check_endpoint("http://localhost:8080", false).is_ok());
        assert!(check_endpoint("http://[::1]:8080", false).is_ok());
        let e = check_endpoint("http://wayfinder.example.com", false).expect_err("insecure");
        assert_eq!(e.field_errors()[0].field, "server");
        assert!(check_endpoint("http://wayfinder.example.com", true).is_ok());
        for bad in [
            "",
            "wayfinder.example.com",
            "ftp://x",
            "https://u:p@x",
            "https://x/?q=1",
            "http://10.0.0.1",
        ] {
            assert!(check_endpoint(bad, false).is_err(), "{bad}");
        }
    }

    #[test]
    fn bad_options_are_typed_errors() {
        let base = ClientOptions {
            server: Some("https://x".into()),
            token: Some("t".into()),
            ..ClientOptions::default()
        };
        let none = |_: &str| None;
        for (options, field) in [
            (
                ClientOptions {
                    workspace: Some("Bad WS".into()),
                    ..base.clone()
                },
                "workspace",
            ),
            (
                ClientOptions {
                    token: Some("  ".into()),
                    ..base.clone()
                },
                "token",
            ),
            (
                ClientOptions {
                    api_group_version: Some("nogroup".into()),
                    ..base.clone()
                },
                "api_group_version",
            ),
            (
                ClientOptions {
                    timeout: Some(Duration::ZERO),
                    ..base.clone()
                },
                "timeout",
            ),
        ] {
            let e = Settings::resolve(&options, &none).expect_err(field);
            assert_eq!(e.field_errors()[0].field, field);
        }
    }
}
