//! The `wf` config file (docs/protocol.md section 7): load, save atomically under
//! an OS lock, profiles, and the ephemeral config from `WAYFINDER_*`.
//!
//! Unknown keys survive a load and save: every level keeps what it does not
//! understand in an `extra` map, and maps keep their order.

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use indexmap::IndexMap;
use serde::{Deserialize, Deserializer, Serialize};
use yaml_serde::Mapping;

use crate::error::{Argument, Error, Result};
use crate::secret::Secret;

/// Environment variable naming the config file.
pub const ENV_CONFIG: &str = "WAYFINDER_CONFIG";
/// With [`ENV_TOKEN`], replaces the config file.
pub const ENV_SERVER: &str = "WAYFINDER_SERVER";
/// The environment variable holding the token (with `WAYFINDER_SERVER`).
pub const ENV_TOKEN: &str = "WAYFINDER_TOKEN";
/// The environment variable naming the default workspace.
pub const ENV_WORKSPACE: &str = "WAYFINDER_WORKSPACE";
/// How long a writer waits for another process's lock by default.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(10);

/// A `null` in a file or an answer read as the type's default.
pub(crate) fn null_default<'de, D, T>(d: D) -> std::result::Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

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

    /// Loads `path`; a missing file is an error.
    pub fn load(path: &Path) -> Result<Config> {
        match read_if_exists(path)? {
            Some(config) => Ok(config),
            None => Err(Error::config(format!(
                "no Wayfinder config at {}: log in with the wf CLI, set {ENV_CONFIG}, or set {ENV_SERVER} and {ENV_TOKEN}",
                path.display()
            ))),
        }
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

/// Most bytes a config file may have: profiles and tokens, not a document.
pub const MAX_CONFIG_BYTES: u64 = 4 * 1024 * 1024;

fn read_if_exists(path: &Path) -> Result<Option<Config>> {
    let fail = |e: std::io::Error| Error::config_with(format!("cannot read config file {}: {e}", path.display()), e);
    let text = match read_regular_file(path, MAX_CONFIG_BYTES) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(fail(e)),
    };
    warn_if_exposed(path);
    Config::parse(&text, path).map(Some)
}

/// Reads a regular file of at most `cap` bytes. A FIFO, a device
/// (`/dev/zero`) or a socket is refused before it can block or stream
/// forever: it is opened without blocking and checked before any read.
pub(crate) fn read_regular_file(path: &Path, cap: u64) -> std::io::Result<String> {
    use std::io::Read;
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    let file = options.open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "it is not a regular file (a FIFO, device or socket is refused)",
        ));
    }
    if meta.len() > cap {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("it is larger than {} MiB", cap / (1024 * 1024)),
        ));
    }
    let mut text = String::new();
    file.take(cap + 1).read_to_string(&mut text)?;
    if text.len() as u64 > cap {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("it is larger than {} MiB", cap / (1024 * 1024)),
        ));
    }
    Ok(text)
}

/// Files already warned about in this process.
static WARNED: LazyLock<Mutex<HashSet<PathBuf>>> = LazyLock::new(Mutex::default);

/// Warns once per process per file when others (world) may read or write
/// it. Group access is fine: the vendor's client creates its file 0640.
#[cfg(unix)]
fn warn_if_exposed(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let Ok(meta) = fs::metadata(path) else { return };
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o006 == 0 {
        return;
    }
    let key = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    if WARNED.lock().unwrap_or_else(|e| e.into_inner()).insert(key) {
        log::warn!(
            "config file {} is readable or writable by others (mode {mode:o}); run: chmod 600 {}",
            path.display(),
            path.display()
        );
    }
}

#[cfg(not(unix))]
fn warn_if_exposed(_path: &Path) {}

/// The sidecar lock file of a config path: `config` → `config.lock`.
pub fn lock_path(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_else(|| "config".into());
    name.push(".lock");
    path.with_file_name(name)
}

fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

pub(crate) fn create_private_dir(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .map_err(|e| Error::config_with(format!("cannot create folder {}: {e}", dir.display()), e))
}

/// An exclusive OS advisory lock on the sidecar lock file, released on drop
/// (and by the OS if the process dies, so a crash never leaves it held).
#[derive(Debug)]
pub struct ConfigLock {
    _file: File,
}

impl ConfigLock {
    /// Takes the lock of `config_path`'s sidecar `.lock` file, waiting up to `timeout`.
    pub fn acquire(config_path: &Path, timeout: Duration) -> Result<ConfigLock> {
        let dir = parent_of(config_path);
        create_private_dir(&dir)?;
        let path = lock_path(config_path);
        let mut options = OpenOptions::new();
        options.create(true).truncate(false).write(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            // Never follow a link planted at the lock's path: it would create
            // or lock whatever file the link points at; and never wait for a
            // reader of a FIFO planted there.
            options
                .mode(0o600)
                .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY);
        }
        let file = options.open(&path).map_err(|e| {
            let why = if is_symlink(&path) {
                "it is a symbolic link".to_owned()
            } else {
                e.to_string()
            };
            Error::config_with(format!("cannot open lock file {}: {why}", path.display()), e)
        })?;
        if !file.metadata().is_ok_and(|m| m.is_file()) {
            return Err(Error::config(format!(
                "lock file {} is not a regular file",
                path.display()
            )));
        }
        let deadline = Instant::now() + timeout;
        let mut pause = Duration::from_millis(2);
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(ConfigLock { _file: file }),
                Err(fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(50));
                }
                Err(fs::TryLockError::WouldBlock) => {
                    return Err(Error::config(format!(
                        "timed out after {:.1}s waiting for the lock on {} (another process is writing the config)",
                        timeout.as_secs_f64(),
                        path.display()
                    )));
                }
                Err(fs::TryLockError::Error(e)) => {
                    return Err(Error::config_with(format!("cannot lock {}: {e}", path.display()), e));
                }
            }
        }
    }
}

/// How many random characters a temp file's name ends with.
const TEMP_RANDOM_CHARS: usize = 10;

/// The prefix of a config file's temp files: `config` → `.config.tmp-`.
fn temp_prefix(path: &Path) -> String {
    format!(
        ".{}.tmp-",
        path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default()
    )
}

/// Whether `name` is a temp file of the config file `path`, and of no other
/// (`.config.tmp-…` is `config`'s; `.config.prod.tmp-…` is `config.prod`'s).
fn is_own_temp_file(path: &Path, name: &str) -> bool {
    name.strip_prefix(&temp_prefix(path))
        .is_some_and(|random| random.len() == TEMP_RANDOM_CHARS && random.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// Removes temp files a killed writer of this config left behind. Only
/// writers holding this file's lock create them, so under the lock every one
/// found is stale; other configs' temp files in the folder are left alone.
fn remove_stale_temp_files(path: &Path) {
    let Ok(entries) = fs::read_dir(parent_of(path)) else {
        return;
    };
    for entry in entries.flatten() {
        if is_own_temp_file(path, &entry.file_name().to_string_lossy()) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

fn is_symlink(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

/// The file a config path finally names: dotfile managers link the config
/// into a repository, and a save must replace the link's target, keeping the
/// link. A path that is no link is returned as it is.
pub fn resolve_links(path: &Path) -> Result<PathBuf> {
    let mut current = path.to_path_buf();
    for _ in 0..40 {
        if !is_symlink(&current) {
            return Ok(current);
        }
        let target = fs::read_link(&current)
            .map_err(|e| Error::config_with(format!("cannot read link {}: {e}", current.display()), e))?;
        current = parent_of(&current).join(target);
    }
    Err(Error::config(format!(
        "config path {} is a chain of more than 40 symbolic links",
        path.display()
    )))
}

/// Writes `contents` to `path` atomically: a 0600 temp file in the same
/// folder, fsync, rename over, fsync the folder. Call it under the lock.
pub(crate) fn write_atomic(path: &Path, contents: &[u8]) -> Result<()> {
    let dir = parent_of(path);
    let fail = |what: &str, e: std::io::Error| Error::config_with(format!("cannot {what} {}: {e}", path.display()), e);
    remove_stale_temp_files(path);
    let mut tmp = tempfile::Builder::new()
        .prefix(&temp_prefix(path))
        .rand_bytes(TEMP_RANDOM_CHARS)
        .tempfile_in(&dir)
        .map_err(|e| fail("create a temporary file beside", e))?;
    tmp.write_all(contents).map_err(|e| fail("write", e))?;
    tmp.as_file().sync_all().map_err(|e| fail("sync", e))?;
    tmp.persist(path).map_err(|e| fail("replace", e.error))?;
    #[cfg(unix)]
    if let Ok(d) = File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}

/// Read-modify-write of the config at `path` under the lock. `change`
/// gets the current content (empty if the file does not exist); nothing is
/// written if it leaves the content as it was. A malformed file is an error
/// and is left untouched.
pub fn update<R>(path: &Path, lock_timeout: Duration, change: impl FnOnce(&mut Config) -> Result<R>) -> Result<R> {
    let path = &resolve_links(path)?;
    let _lock = ConfigLock::acquire(path, lock_timeout)?;
    let existing = read_if_exists(path)?;
    let mut config = existing.clone().unwrap_or_default();
    let result = change(&mut config)?;
    if existing.as_ref() != Some(&config) {
        write_atomic(path, config.to_yaml()?.as_bytes())?;
        log::debug!("wrote config file {}", path.display());
    }
    Ok(result)
}

/// Replaces the file at `path` with `config`, under the lock.
pub fn replace(path: &Path, lock_timeout: Duration, config: &Config) -> Result<()> {
    let path = &resolve_links(path)?;
    let _lock = ConfigLock::acquire(path, lock_timeout)?;
    write_atomic(path, config.to_yaml()?.as_bytes())
}

/// Writes a standalone config holding just this token (mode 0600, atomic).
pub fn write_config(issued: &crate::model::IssuedToken, path: &Path) -> Result<()> {
    let config = crate::render::config(issued)?;
    let target = resolve_links(path)?;
    if target.exists() {
        // Someone's file: replaced under its lock, like every other write to it.
        return replace(path, DEFAULT_LOCK_TIMEOUT, &config);
    }
    // A new standalone file (a CI artifact): written atomically, with no lock
    // file left beside it; two writers racing each write a whole file.
    create_private_dir(&parent_of(&target))?;
    write_atomic(&target, config.to_yaml()?.as_bytes())
}

/// Merges this token as a profile into an existing config file (the user's
/// own by default), under the file lock, keeping every other profile and key.
pub fn save_profile(
    issued: &crate::model::IssuedToken,
    config_path: Option<&Path>,
    profile: Option<&str>,
    make_current: bool,
    lock_timeout: Option<Duration>,
) -> Result<std::path::PathBuf> {
    let secret = crate::render::secret_of(issued)?.clone();
    let profile = profile.unwrap_or(&issued.name);
    if let Some(e) = crate::names::check_name(Argument::Profile, profile) {
        return Err(Error::from_field_errors(vec![e]));
    }
    let path = match config_path {
        Some(p) => p.to_path_buf(),
        None => default_path(&|k| std::env::var(k).ok())?,
    };
    update(&path, lock_timeout.unwrap_or(DEFAULT_LOCK_TIMEOUT), |c| {
        c.set_profile(
            profile,
            &issued.server,
            &secret,
            issued.workspace.as_deref(),
            make_current,
        );
        Ok(())
    })?;
    Ok(path)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SAMPLE: &str = "current-profile: ci-deploy
profiles:
  ci-deploy:
    server: ci-deploy
    user: ci-deploy
    workspace: dev
    colour: blue
  alice:
    server: main
    user: alice
servers:
  ci-deploy:
    server: https://wayfinder.example.com
  main:
    server: https://main.example.com
    caCertificate: PEM
    apiInfo:
      nonResourceAPI: /api/v2
      resourceAPI: /resources
users:
  ci-deploy:
    identity:
      refresh-token: access-token-value
      token: cached
  alice:
    token: static-value
    extra-user-key: [1, 2]
version: v2.x
plugins:
  something: {nested: true}
";

    #[test]
    fn round_trip_keeps_unknown_keys_and_order() -> Result<()> {
        let config = Config::parse(SAMPLE, Path::new("c"))?;
        let again = Config::parse(&config.to_yaml()?, Path::new("c"))?;
        assert_eq!(config, again);
        let yaml = config.to_yaml()?;
        for key in [
            "colour: blue",
            "extra-user-key",
            "plugins:",
            "nested: true",
            "version: v2.x",
        ] {
            assert!(yaml.contains(key), "{key} lost:\n{yaml}");
        }
        assert!(yaml.find("ci-deploy:").unwrap_or(usize::MAX) < yaml.find("alice:").unwrap_or(0));
        Ok(())
    }

    #[test]
    fn resolves_profiles() -> Result<()> {
        let config = Config::parse(SAMPLE, Path::new("c"))?;
        let current = config.resolve(None, Path::new("c"))?;
        assert_eq!(current.profile, "ci-deploy");
        assert_eq!(current.endpoint, "https://wayfinder.example.com");
        assert_eq!(current.workspace.as_deref(), Some("dev"));
        let identity = current.user.identity.expect("identity");
        assert_eq!(
            identity.refresh_token.map(|s| s.expose().to_owned()).as_deref(),
            Some("access-token-value")
        );
        let alice = config.resolve(Some("alice"), Path::new("c"))?;
        assert_eq!(alice.ca_certificate.as_deref(), Some("PEM"));
        assert_eq!(alice.api_info.map(|a| a.non_resource_api).as_deref(), Some("/api/v2"));
        let missing = config.resolve(Some("nope"), Path::new("/x/c")).expect_err("missing");
        assert!(missing.to_string().contains("\"nope\""));
        assert!(missing.to_string().contains("/x/c"));
        Ok(())
    }

    #[test]
    fn malformed_files_name_path_and_line() {
        let e = Config::parse("profiles:\n  a: [\n", Path::new("/tmp/cfg")).expect_err("bad");
        assert_eq!(e.code(), "CONFIG");
        assert!(e.to_string().contains("/tmp/cfg"), "{e}");
        assert!(e.to_string().contains("line"), "{e}");
        let e = Config::parse("profiles: 5\n", Path::new("/tmp/cfg")).expect_err("bad type");
        assert!(e.to_string().contains("line 1"), "{e}");
        assert_eq!(
            Config::parse("profiles:\n", Path::new("c"))
                .map(|c| c.profiles.len())
                .ok(),
            Some(0)
        );
    }

    #[test]
    fn yaml_that_cannot_be_written_back_is_refused_at_load() {
        let text = "current-profile: a\nunknown:\n  alice:\n    ? token: static\n";
        let e = Config::parse(text, Path::new("/tmp/cfg")).expect_err("complex key");
        assert_eq!(e.code(), "CONFIG");
        assert!(e.to_string().contains("/tmp/cfg"), "{e}");
    }

    #[test]
    fn malformed_error_does_not_echo_secret_content() {
        for text in [
            "users:\n  a:\n    token: [secret-canary\n",
            "users:\n  a: \"secret-canary\"\n",
            "users: {a: {identity: secret-canary}}\n",
            "current-profile: [secret-canary]\n",
        ] {
            let e = Config::parse(text, Path::new("c")).expect_err("bad");
            assert!(!e.to_string().contains("secret-canary"), "{e}");
            assert!(e.to_string().contains("line"), "{e}");
        }
    }

    #[test]
    fn update_writes_atomically_0600_and_skips_no_op_saves() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| Error::config(e.to_string()))?;
        let path = dir.path().join("sub").join("config");
        update(&path, DEFAULT_LOCK_TIMEOUT, |c| {
            c.set_profile("a", "https://a.example.com", &Secret::new("t"), Some("dev"), false);
            Ok(())
        })?;
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = |p: &Path| fs::metadata(p).map(|m| m.permissions().mode() & 0o777).unwrap_or(0);
            assert_eq!(mode(&path), 0o600);
            assert_eq!(mode(&dir.path().join("sub")), 0o700);
        }
        let before = fs::metadata(&path).and_then(|m| m.modified()).ok();
        std::thread::sleep(Duration::from_millis(20));
        update(&path, DEFAULT_LOCK_TIMEOUT, |c| {
            c.set_profile("a", "https://a.example.com", &Secret::new("t"), Some("dev"), false);
            Ok(())
        })?;
        assert_eq!(
            fs::metadata(&path).and_then(|m| m.modified()).ok(),
            before,
            "no-op save wrote"
        );
        let config = Config::load(&path)?;
        assert_eq!(config.current_profile.as_deref(), Some("a"));
        let leftovers: Vec<_> = fs::read_dir(dir.path().join("sub"))
            .map_err(|e| Error::config(e.to_string()))?
            .filter_map(|e| e.ok())
            .map(|e| e.file_name().to_string_lossy().into_owned())
            .filter(|n| n.ends_with(".tmp"))
            .collect();
        assert!(leftovers.is_empty(), "{leftovers:?}");
        Ok(())
    }

    #[test]
    fn malformed_file_is_never_overwritten() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| Error::config(e.to_string()))?;
        let path = dir.path().join("config");
        fs::write(&path, "profiles: [oops\n").map_err(|e| Error::config(e.to_string()))?;
        let err = update(&path, DEFAULT_LOCK_TIMEOUT, |_| Ok(())).expect_err("malformed");
        assert_eq!(err.code(), "CONFIG");
        assert_eq!(fs::read_to_string(&path).ok().as_deref(), Some("profiles: [oops\n"));
        Ok(())
    }

    #[test]
    fn a_held_lock_times_out_naming_the_path() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| Error::config(e.to_string()))?;
        let path = dir.path().join("config");
        let _held = ConfigLock::acquire(&path, DEFAULT_LOCK_TIMEOUT)?;
        let err = update(&path, Duration::from_millis(100), |_| Ok(())).expect_err("locked");
        assert!(err.to_string().contains("config.lock"), "{err}");
        Ok(())
    }

    #[test]
    fn default_path_prefers_env() -> Result<()> {
        let env = |k: &str| match k {
            "WAYFINDER_CONFIG" => Some("/etc/wf".to_owned()),
            _ => None,
        };
        assert_eq!(default_path(&env)?, PathBuf::from("/etc/wf"));
        let home = |k: &str| (k == "HOME").then(|| "/home/u".to_owned());
        assert_eq!(default_path(&home)?, PathBuf::from("/home/u/.wayfinder/config"));
        Ok(())
    }
}
