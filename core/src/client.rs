//! The client for one Wayfinder server: a transport that sends, a
//! session that supplies the bearer token (`crate::auth`), and the
//! discovered API paths. Every request is built by [`crate::requests`] as an
//! [`ApiRequest`] (pure data) and sent by [`Client::send`].

use std::fmt;
use std::sync::Arc;

use serde_json::Value;
use tokio::sync::OnceCell;

use crate::auth::{Credential, Session};
use crate::config::{self, ApiInfo, DEFAULT_LOCK_TIMEOUT};
use crate::error::{Error, ErrorKind, Result};
use crate::requests;
use crate::settings::{ClientOptions, Origin, Settings};
use crate::transport::Transport;
use crate::transport::decode::Answer;
pub use crate::transport::{ApiRequest, Replay, VERSION, decode_error};

/// Where pre-2.4 servers keep the non-resource API.
pub const LEGACY_NON_RESOURCE_API: &str = "/api/v1alpha1";

/// An authenticated client for one Wayfinder server. Cheap to clone; clones
/// share the connection pool and the cached API token.
#[derive(Clone)]
pub struct Client {
    inner: Arc<Inner>,
}

struct Inner {
    transport: Transport,
    settings: Settings,
    api_info: OnceCell<ApiInfo>,
    /// The API token got by exchange or refresh.
    session: Session,
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
        Ok(Client {
            inner: Arc::new(Inner {
                transport: Transport::new(&settings)?,
                api_info: OnceCell::new_with(settings.api_info.clone()),
                session: Session::new(&settings),
                settings,
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

    /// What sends this client's requests.
    pub(crate) fn transport(&self) -> &Transport {
        &self.inner.transport
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
        let probe = requests::legacy_server_info(LEGACY_NON_RESOURCE_API);
        match self.inner.transport.send(&probe, None).await {
            Err(e) if e.kind() == ErrorKind::NotFound => Err(Error::config(format!(
                "no Wayfinder API at {} (/apiinfo and {LEGACY_NON_RESOURCE_API}/serverinfo answered 404): \
                 check the server URL, which is the address the wf CLI logs in to",
                self.server()
            ))),
            _ => Ok(()),
        }
    }

    async fn discover(&self) -> Result<ApiInfo> {
        let info = match self.inner.transport.send(&requests::api_info(), None).await {
            Ok(answer) => self.inner.transport.decode::<ApiInfo>(&answer, "/apiinfo answer")?,
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
            config::store::write_back(move || {
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
        self.inner.transport.decode(&answer, what)
    }

    /// The answer to one API call, before decoding.
    pub(crate) async fn answer(&self, request: &ApiRequest) -> Result<Answer> {
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
        let transport = &self.inner.transport;
        if !request.authenticated {
            return transport.send(request, None).await;
        }
        let info = self.known_api().await?;
        let bearer = self.inner.session.bearer(transport, &self.inner.settings, info).await?;
        match transport.send(request, Some(&bearer)).await {
            Err(e)
                if e.kind() == ErrorKind::Unauthenticated
                    && !matches!(self.inner.settings.credential, Credential::Static(_)) =>
            {
                log::debug!("API token refused; renewing it once");
                self.inner.session.forget(&bearer).await;
                let bearer = self.inner.session.bearer(transport, &self.inner.settings, info).await?;
                transport.send(request, Some(&bearer)).await
            }
            other => other,
        }
    }
}
