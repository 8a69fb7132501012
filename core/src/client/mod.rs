//! The client for one Wayfinder server. Every request is built as an
//! [`ApiRequest`] (pure data) and sent by [`Client::send`]: the session
//! supplies the bearer token (`crate::auth`), the transport sends and
//! retries (`transport`), and answers are decoded in one place (`decode`).

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use serde_json::Value;
use tokio::sync::OnceCell;

use crate::auth::{Credential, Session};
use crate::config::{self, ApiInfo, DEFAULT_LOCK_TIMEOUT};
use crate::error::{Error, ErrorKind, Result};
use crate::secret::{Redactor, Secret};
use crate::settings::{ClientOptions, Origin, Settings, is_loopback};

pub(crate) mod decode;
mod request;
mod transport;

pub use decode::decode_error;
pub(crate) use decode::server_error;
use decode::{Answer, Undecodable};
pub use request::{ApiRequest, Replay};

/// The library version, sent as `X-Client-Version`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// Where pre-2.4 servers keep the non-resource API.
pub const LEGACY_NON_RESOURCE_API: &str = "/api/v1alpha1";

/// An authenticated client for one Wayfinder server. Cheap to clone; clones
/// share the connection pool and the cached API token.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    http: reqwest::Client,
    settings: Settings,
    api_info: OnceCell<ApiInfo>,
    /// The API token got by exchange or refresh.
    session: Session,
    /// Every secret this client holds, scrubbed from server-provided text.
    redactor: Redactor,
    /// The process that made the client: its connections and runtime do not
    /// survive a `fork()`, so a child must make its own client.
    pid: u32,
}

impl fmt::Debug for Client {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Client")
            .field("server", &self.inner.settings.endpoint.as_str())
            .field("workspace", &self.inner.settings.workspace)
            .field("credential", &self.inner.settings.credential.kind())
            .finish_non_exhaustive()
    }
}

impl Client {
    /// Builds a client from options, the environment and the config file
    /// (see [`Settings::resolve`] for the order).
    pub fn new(options: &ClientOptions) -> Result<Client> {
        let settings = Settings::resolve(options, &|k| std::env::var(k).ok())?;
        Client::from_settings(settings)
    }

    /// `WAYFINDER_SERVER` + `WAYFINDER_TOKEN`, else the config file.
    pub fn from_env() -> Result<Client> {
        Client::new(&ClientOptions::default())
    }

    /// A client for settings already resolved from options, environment and file.
    pub fn from_settings(settings: Settings) -> Result<Client> {
        let mut builder = reqwest::Client::builder()
            .user_agent(format!("wayfinder-tokens/{VERSION}"))
            .timeout(settings.timeout)
            .connect_timeout(settings.timeout.min(Duration::from_secs(10)))
            .redirect(transport::same_origin_redirects())
            .pool_idle_timeout(Duration::from_secs(60));
        // A bearer token never crosses a proxy in cleartext, and loopback
        // never goes through one (as Go's net/http does).
        let loopback = settings.endpoint.host().is_some_and(|h| is_loopback(&h));
        if loopback || settings.endpoint.scheme() == "http" {
            builder = builder.no_proxy();
        }
        // `localhost` and `*.localhost` are loopback by name (RFC 6761), and
        // plain http is allowed to them for that: they are resolved here to
        // loopback addresses, never through DNS, which could answer anything.
        if let Some(url::Host::Domain(domain)) = settings.endpoint.host()
            && loopback
        {
            let loopbacks = [
                std::net::SocketAddr::from(([127, 0, 0, 1], 0)),
                std::net::SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, 0)),
            ];
            builder = builder.resolve_to_addrs(domain, &loopbacks);
        }
        if let Some(pem) = &settings.ca_certificate {
            builder = builder.tls_backend_preconfigured(crate::tls::pinning_config(pem)?);
        }
        let http = builder
            .build()
            .map_err(|e| Error::config_with(format!("cannot set up HTTPS: {e}"), e))?;
        let redactor = Redactor::default();
        redactor.remember(settings.credential.secret());
        if let Some(cached) = &settings.cached_token {
            redactor.remember(cached);
        }
        Ok(Client {
            inner: Arc::new(Inner {
                api_info: OnceCell::new_with(settings.api_info.clone()),
                http,
                session: Session::new(&settings),
                settings,
                redactor,
                pid: std::process::id(),
            }),
        })
    }

    /// The server URL, as configured.
    pub fn server(&self) -> String {
        self.inner.settings.endpoint.as_str().trim_end_matches('/').to_owned()
    }

    /// The default workspace, if any.
    pub fn workspace(&self) -> Option<&str> {
        self.inner.settings.workspace.as_deref()
    }

    /// The settings this client was built from.
    pub fn settings(&self) -> &Settings {
        &self.inner.settings
    }

    pub(crate) fn api_group_version(&self) -> &str {
        &self.inner.settings.api_group_version
    }

    /// Remembers a secret this client received, so that no server text
    /// echoing it reaches an error or a log line.
    pub(crate) fn remember_secret(&self, secret: &Secret) {
        self.inner.redactor.remember(secret);
    }

    /// The error with every secret this client holds cut out of its text.
    pub(crate) fn scrub(&self, error: Error) -> Error {
        error.map_text(|text| self.inner.redactor.redact(text))
    }

    /// Decodes a successful answer; a decoding error quotes no secret.
    pub(crate) fn decode<T: serde::de::DeserializeOwned>(&self, answer: &Answer, what: &str) -> Result<T> {
        answer.decode().map_err(|e| match e {
            Undecodable::Syntax(e) => e,
            Undecodable::Shape(e) => self.scrub(server_error(
                None,
                format!("the server's {what} is not understood: {e}"),
            )),
        })
    }

    /// Discovers where the API lives (`/apiinfo`), once per client.
    pub async fn api_info(&self) -> Result<ApiInfo> {
        self.known_api().await.cloned()
    }

    /// [`Client::api_info`], borrowed: every call needs it, none needs a copy.
    pub(crate) async fn known_api(&self) -> Result<&ApiInfo> {
        self.inner.api_info.get_or_try_init(|| self.discover()).await
    }

    /// After `/apiinfo` answered 404: a pre-2.4 Wayfinder still answers
    /// under its legacy API (401 without credentials), where a wrong URL (a
    /// path under another site, a proxy's default page) answers 404 again.
    /// Told apart now, a wrong URL is a configuration error naming it instead
    /// of every later call looking like a missing token.
    async fn confirm_legacy_api(&self) -> Result<()> {
        let probe = ApiRequest::new(Method::GET, format!("{LEGACY_NON_RESOURCE_API}/serverinfo")).unauthenticated();
        match self.send_with_retries(&probe, None).await {
            Err(e) if e.kind() == ErrorKind::NotFound => Err(Error::config(format!(
                "no Wayfinder API at {} (/apiinfo and {LEGACY_NON_RESOURCE_API}/serverinfo answered 404): \
                 check the server URL, which is the address the wf CLI logs in to",
                self.server()
            ))),
            _ => Ok(()),
        }
    }

    async fn discover(&self) -> Result<ApiInfo> {
        let request = ApiRequest::new(Method::GET, "/apiinfo").unauthenticated();
        let info = match self.send_with_retries(&request, None).await {
            Ok(answer) => self.decode::<ApiInfo>(&answer, "/apiinfo answer")?,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                self.confirm_legacy_api().await?;
                log::debug!("/apiinfo answered 404: a pre-2.4 server, using {LEGACY_NON_RESOURCE_API}");
                ApiInfo {
                    non_resource_api: LEGACY_NON_RESOURCE_API.to_owned(),
                    resource_api: "/resources".to_owned(),
                    kube_proxy_api: None,
                }
            }
            Err(e) => return Err(e.in_context("could not discover the API at /apiinfo")),
        };
        info.check("the server's /apiinfo answer")?;
        if let Origin::File { path, server_name, .. } = &self.inner.settings.origin {
            let (path, server_name, info) = (path.clone(), server_name.clone(), info.clone());
            self.write_back(move || {
                config::update(&path, DEFAULT_LOCK_TIMEOUT, |c| {
                    if let Some(server) = c.servers.get_mut(&server_name) {
                        server.api_info = Some(info);
                    }
                    Ok(())
                })
            })
            .await;
        }
        Ok(info)
    }

    /// Runs a config write-back off the async threads; a failure is logged, not raised.
    pub(crate) async fn write_back(&self, write: impl FnOnce() -> Result<()> + Send + 'static) {
        match tokio::task::spawn_blocking(write).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => log::warn!("could not update the config file: {e}"),
            Err(e) => log::warn!("could not update the config file: {e}"),
        }
    }

    /// Sends one API call: authenticates, retries what is safe to retry,
    /// decodes the answer. A 401 with an exchanged or refreshed token is
    /// retried once with a fresh one.
    pub async fn send(&self, request: &ApiRequest) -> Result<Value> {
        self.answer(request).await?.json()
    }

    /// [`Client::send`], decoding the answer straight into `T`; `what`
    /// names it in the error when it is not understood.
    pub(crate) async fn fetch<T: serde::de::DeserializeOwned>(&self, request: &ApiRequest, what: &str) -> Result<T> {
        let answer = self.answer(request).await?;
        self.decode(&answer, what)
    }

    async fn answer(&self, request: &ApiRequest) -> Result<Answer> {
        self.authenticated_answer(request)
            .await
            .map_err(|e| e.with_credentials(self.credential_source()))
    }

    /// Where this client's credentials came from.
    fn credential_source(&self) -> crate::error::CredentialSource {
        use crate::error::CredentialSource;
        match &self.inner.settings.origin {
            Origin::Explicit => CredentialSource::Arguments,
            Origin::Environment => CredentialSource::Environment,
            Origin::File { path, profile, .. } => CredentialSource::File {
                path: path.clone(),
                profile: profile.clone(),
            },
        }
    }

    async fn authenticated_answer(&self, request: &ApiRequest) -> Result<Answer> {
        if !request.authenticated {
            return self.send_with_retries(request, None).await;
        }
        let bearer = self.inner.session.bearer(self).await?;
        match self.send_with_retries(request, Some(&bearer)).await {
            Err(e)
                if e.kind() == ErrorKind::Unauthenticated
                    && !matches!(self.inner.settings.credential, Credential::Static(_)) =>
            {
                log::debug!("API token refused; renewing it once");
                self.inner.session.forget(&bearer).await;
                let bearer = self.inner.session.bearer(self).await?;
                self.send_with_retries(request, Some(&bearer)).await
            }
            other => other,
        }
    }
}
