//! A local emulator of the Wayfinder access-token API (`docs/protocol.md`): a real
//! HTTP server on loopback, backed by SQLite, that mints real signed JWTs.
//! Every test of the client runs against it, and users embed it to test their
//! own automation:
//!
//! ```no_run
//! # async fn demo() -> std::io::Result<()> {
//! let emulator = wayfinder_emulator::Emulator::builder()
//!     .user("alice:secret@dev,prod".parse().expect("valid user"))
//!     .start()
//!     .await?;
//! println!("{} {}", emulator.url(), emulator.admin_token());
//! emulator.shutdown().await;
//! # Ok(()) }
//! ```
//!
//! Authorisation (docs/protocol.md section 6): the admin token may do everything;
//! local users manage workspace access tokens in their own workspaces; an
//! exchanged access token may manage tokens of its own workspace if it holds
//! the Wayfinder role `workspace.accesstokenmanager` (platform tokens:
//! `platform.accesstokenmanager`, which also allows assigning roles).

mod api;
mod auth;
pub mod catalog;
pub mod cli;
mod error;
mod faults;
mod server;
mod store;
mod tls;
mod validate;

use std::fmt;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

pub use api::{NON_RESOURCE_API, RESOURCE_API};
pub use auth::{LocalUser, ROLE_PLATFORM_MANAGER, ROLE_WORKSPACE_MANAGER};
pub use faults::{Fault, StatsSnapshot};
pub use tls::TlsMode;

/// The default group/version of the access-token kinds (an assumption of
/// this project; see docs/protocol.md).
pub const DEFAULT_API_GROUP_VERSION: &str = "accesstokens.appvia.io/v2beta1";

/// Configures an [`Emulator`] before it starts.
#[derive(Debug, Clone)]
pub struct EmulatorBuilder {
    listen: SocketAddr,
    data: Option<PathBuf>,
    admin_token: Option<String>,
    users: Vec<LocalUser>,
    api_group_version: String,
    user_token_ttl: Duration,
    one_use_refresh_tokens: bool,
    log_requests: bool,
    workspaces: Vec<String>,
    known_roles: Vec<catalog::KnownRole>,
    tls: Option<TlsMode>,
}

impl Default for EmulatorBuilder {
    fn default() -> Self {
        EmulatorBuilder {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            data: None,
            admin_token: None,
            users: Vec::new(),
            api_group_version: DEFAULT_API_GROUP_VERSION.to_owned(),
            user_token_ttl: Duration::from_secs(3600),
            one_use_refresh_tokens: false,
            log_requests: false,
            workspaces: Vec::new(),
            known_roles: Vec::new(),
            tls: None,
        }
    }
}

impl EmulatorBuilder {
    /// Address to listen on; port 0 (the default, on 127.0.0.1) picks a free port.
    pub fn listen(mut self, addr: SocketAddr) -> Self {
        self.listen = addr;
        self
    }

    /// Keeps state in this SQLite file (WAL) instead of in memory.
    pub fn data(mut self, path: impl Into<PathBuf>) -> Self {
        self.data = Some(path.into());
        self
    }

    /// The admin's static token; generated if not given.
    pub fn admin_token(mut self, token: impl Into<String>) -> Self {
        self.admin_token = Some(token.into());
        self
    }

    /// Adds a local user who can log in.
    pub fn user(mut self, user: LocalUser) -> Self {
        self.users.push(user);
        self
    }

    /// Adds a workspace. Workspaces exist only when added here or named by a
    /// user; with none at all, the emulator has one, `dev`.
    pub fn workspace(mut self, name: impl Into<String>) -> Self {
        self.workspaces.push(name.into());
        self
    }

    /// Adds a role to the ones the emulator knows (see [`catalog::DEFAULT_ROLES`]).
    pub fn known_role(mut self, role: catalog::KnownRole) -> Self {
        self.known_roles.push(role);
        self
    }

    /// Serves HTTPS instead of HTTP; clients trust [`Emulator::ca_certificate`].
    pub fn tls(mut self, mode: TlsMode) -> Self {
        self.tls = Some(mode);
        self
    }

    /// Serves the access-token kinds under this `group/version`.
    pub fn api_group_version(mut self, group_version: impl Into<String>) -> Self {
        self.api_group_version = group_version.into();
        self
    }

    /// Lifetime of the API tokens users get from login and refresh.
    pub fn user_token_ttl(mut self, ttl: Duration) -> Self {
        self.user_token_ttl = ttl;
        self
    }

    /// Each refresh token works once: a refresh answers with a new one and
    /// the one used is refused from then on (as servers that rotate refresh
    /// tokens do). Off by default.
    pub fn one_use_refresh_tokens(mut self, on: bool) -> Self {
        self.one_use_refresh_tokens = on;
        self
    }

    /// Logs one line per request on stderr (method, path, status, time).
    pub fn log_requests(mut self, on: bool) -> Self {
        self.log_requests = on;
        self
    }

    /// Binds, opens the store and starts serving on the current tokio runtime.
    pub async fn start(mut self) -> std::io::Result<Emulator> {
        let tls = self.tls.take().map(|mode| tls::TlsSetup::new(&mode)).transpose()?;
        let log_requests = self.log_requests;
        let listen = self.listen;
        let state = Arc::new(self.state()?);
        let listener = TcpListener::bind(listen).await?;
        let addr = listener.local_addr()?;
        let (stop, stopped) = watch::channel(false);
        let server = server::Server {
            router: api::router(Arc::clone(&state)),
            state: Arc::clone(&state),
            log_requests,
            tls: tls.as_ref().map(|t| t.acceptor.clone()),
        };
        let task = tokio::spawn(server.run(listener, stopped));
        let host = match addr {
            SocketAddr::V6(a) => format!("[{}]", a.ip()),
            SocketAddr::V4(a) => a.ip().to_string(),
        };
        let scheme = if tls.is_some() { "https" } else { "http" };
        Ok(Emulator {
            url: format!("{scheme}://{host}:{}", addr.port()),
            ca_certificate: tls.and_then(|t| t.trust_pem),
            addr,
            admin_token: state.admin_token.clone(),
            state,
            stop,
            task: Some(task),
        })
    }

    /// Checks the settings, opens the store and builds what the handlers share.
    fn state(self) -> std::io::Result<api::AppState> {
        let invalid = |m: String| std::io::Error::new(std::io::ErrorKind::InvalidInput, m);
        match self.api_group_version.split_once('/') {
            Some((g, v)) if !g.is_empty() && !v.is_empty() && !v.contains('/') => {}
            _ => {
                return Err(invalid(format!(
                    "api group/version must look like GROUP/VERSION, got {:?}",
                    self.api_group_version
                )));
            }
        }
        let workspaces: Vec<String> = self
            .workspaces
            .iter()
            .chain(self.users.iter().flat_map(|u| u.workspaces.iter()))
            .cloned()
            .collect();
        if let Some(e) = workspaces
            .iter()
            .find_map(|w| validate::label("workspace", w, validate::WORKSPACE_MAX))
        {
            return Err(invalid(e.message));
        }
        let admin_token = match self.admin_token {
            Some(t) if t.trim().is_empty() => return Err(invalid("the admin token must not be empty".into())),
            Some(t) => t,
            None => format!("wfadmin-{}", hex(&random_bytes(20))),
        };
        let store = store::Store::open(self.data.as_deref())
            .map_err(|e| std::io::Error::other(format!("cannot open the emulator's data: {e}")))?;
        let key = store
            .meta_or_insert("signing_key", || random_bytes(32))
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        let instance = store
            .meta_or_insert("instance_id", || uuid::Uuid::new_v4().to_string().into_bytes())
            .map_err(|e| std::io::Error::other(e.to_string()))?;
        Ok(api::AppState {
            store,
            signer: auth::Signer::new(&key),
            admin_token,
            users: self.users,
            api_version: self.api_group_version,
            instance_id: String::from_utf8_lossy(&instance).into_owned(),
            user_token_ttl: self.user_token_ttl,
            spent_refresh_tokens: self.one_use_refresh_tokens.then(Default::default),
            faults: faults::Faults::default(),
            stats: Arc::default(),
            catalog: catalog::Catalog::new(workspaces, &self.known_roles),
            github: api::GithubState::default(),
        })
    }
}

/// A running emulator. Dropping it stops the server.
pub struct Emulator {
    url: String,
    ca_certificate: Option<String>,
    addr: SocketAddr,
    admin_token: String,
    state: Arc<api::AppState>,
    stop: watch::Sender<bool>,
    task: Option<JoinHandle<()>>,
}

impl fmt::Debug for Emulator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Emulator")
            .field("url", &self.url)
            .field("admin_token", &"<redacted>")
            .finish()
    }
}

impl Emulator {
    pub fn builder() -> EmulatorBuilder {
        EmulatorBuilder::default()
    }

    /// The base URL, e.g. `http://127.0.0.1:41234`.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// With TLS, the PEM certificate a client should trust (the generated
    /// CA, or the self-signed certificate itself); `None` for plain HTTP or
    /// a certificate given as PEM.
    pub fn ca_certificate(&self) -> Option<&str> {
        self.ca_certificate.as_deref()
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The admin's static token.
    pub fn admin_token(&self) -> &str {
        &self.admin_token
    }

    /// Arms a fault (see [`Fault`]); faults match in the order they were added.
    pub fn inject_fault(&self, fault: Fault) -> Result<(), String> {
        fault
            .validate()
            .map_err(|errors| errors.into_iter().map(|e| e.message).collect::<Vec<_>>().join("; "))?;
        self.state.faults.add(fault);
        Ok(())
    }

    pub fn clear_faults(&self) {
        self.state.faults.clear();
    }

    /// Requests served so far, by method and path.
    pub fn stats(&self) -> StatsSnapshot {
        self.state.stats.snapshot()
    }

    pub fn reset_stats(&self) {
        self.state.stats.reset();
    }

    /// Stops accepting, lets requests in flight finish, and closes the store.
    pub async fn shutdown(mut self) {
        let _ = self.stop.send(true);
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

impl Drop for Emulator {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

fn random_bytes(n: usize) -> Vec<u8> {
    let mut bytes = vec![0u8; n];
    // The OS random source failing is not recoverable for a token server.
    getrandom::fill(&mut bytes).unwrap_or_else(|e| panic!("no OS randomness: {e}"));
    bytes
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
