//! HTTP: discovery, authentication, retries, timeouts, TLS and error
//! decoding. Every request is built as an [`ApiRequest`] (pure data) and sent
//! by [`Client::send`], the one place that talks to the network.

use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use reqwest::{Method, StatusCode, header};
use serde::Deserialize;
use serde_json::Value;
use tokio::sync::{Mutex, OnceCell};
use url::Url;

use crate::auth::{Claims, Credential, read_claims};
use crate::config::{self, ApiInfo, DEFAULT_LOCK_TIMEOUT};
use crate::error::{Error, ErrorKind, FieldError, Hint, Result};
use crate::secret::{Redactor, Secret};
use crate::settings::{ClientOptions, Origin, Settings, is_loopback};

/// The library version, sent as `X-Client-Version`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");
/// Where pre-2.4 servers keep the non-resource API.
pub const LEGACY_NON_RESOURCE_API: &str = "/api/v1alpha1";
/// Largest success body read.
const MAX_BODY: usize = 32 * 1024 * 1024;
/// Largest error body read; the rest is discarded.
const MAX_ERROR_BODY: usize = 64 * 1024;
/// Longest wait honoured from a `Retry-After` header.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);
/// TTL asked for on exchange (the server caps it at 1h).
const EXCHANGE_TTL: &str = "30m0s";

/// Whether a request may be sent again after it may have reached the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Replay {
    /// Safe to repeat (reads, issuing a secret, exchange, role grants).
    Safe,
    /// Creates or changes state: retried only when the server cannot have acted on it
    /// (connection refused, 429, 503).
    Unsafe,
}

/// One API call as data: built by pure functions, sent by [`Client::send`].
#[derive(Clone, Debug, PartialEq)]
pub struct ApiRequest {
    /// The HTTP method.
    pub method: Method,
    /// Absolute path on the server, e.g. `/resources/…/workspaceaccesstokens`.
    pub path: String,
    /// Query parameters.
    pub query: Vec<(&'static str, String)>,
    /// The JSON body, if any.
    pub body: Option<Value>,
    /// Whether a lost answer may be retried.
    pub replay: Replay,
    /// Send the client's bearer token.
    pub authenticated: bool,
}

impl ApiRequest {
    /// A request for `path` (below the server's endpoint).
    pub fn new(method: Method, path: impl Into<String>) -> ApiRequest {
        let replay = if method == Method::GET {
            Replay::Safe
        } else {
            Replay::Unsafe
        };
        ApiRequest {
            method,
            path: path.into(),
            query: Vec::new(),
            body: None,
            replay,
            authenticated: true,
        }
    }

    /// Adds a query parameter.
    pub fn query(mut self, key: &'static str, value: impl Into<String>) -> ApiRequest {
        self.query.push((key, value.into()));
        self
    }

    /// Sets the JSON body.
    pub fn body(mut self, body: Value) -> ApiRequest {
        self.body = Some(body);
        self
    }

    /// Sets whether the request may be retried when its answer is lost.
    pub fn replay(mut self, replay: Replay) -> ApiRequest {
        self.replay = replay;
        self
    }

    fn unauthenticated(mut self) -> ApiRequest {
        self.authenticated = false;
        self
    }
}

/// An attempt's failure, with what the retry loop needs to know.
struct Failure {
    error: Error,
    retryable: bool,
    retry_after: Option<Duration>,
}

impl Failure {
    fn fatal(error: Error) -> Failure {
        Failure {
            error,
            retryable: false,
            retry_after: None,
        }
    }
}

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
    /// The API token got by exchange or refresh; the lock makes concurrent
    /// callers share one exchange.
    api_token: Mutex<Option<Secret>>,
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
            .redirect(same_origin_redirects())
            .pool_idle_timeout(Duration::from_secs(60));
        // A bearer token never crosses a proxy in cleartext, and loopback
        // never goes through one (as Go's net/http does).
        let loopback = settings.endpoint.host().is_some_and(|h| is_loopback(&h));
        if loopback || settings.endpoint.scheme() == "http" {
            builder = builder.no_proxy();
        }
        if let Some(pem) = &settings.ca_certificate {
            builder = builder.tls_backend_preconfigured(crate::tls::pinning_config(pem)?);
        }
        let http = builder
            .build()
            .map_err(|e| Error::config_with(format!("cannot set up HTTPS: {e}"), e))?;
        let api_token = settings.cached_token.clone().filter(|t| !is_expiring(t));
        let redactor = Redactor::default();
        redactor.remember(settings.credential.secret());
        if let Some(cached) = &settings.cached_token {
            redactor.remember(cached);
        }
        Ok(Client {
            inner: Arc::new(Inner {
                api_info: OnceCell::new_with(settings.api_info.clone()),
                http,
                settings,
                api_token: Mutex::new(api_token),
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
    pub(crate) fn decode<T: serde::de::DeserializeOwned>(&self, value: Value, what: &str) -> Result<T> {
        serde_json::from_value(value).map_err(|e| {
            self.scrub(server_error(
                None,
                format!("the server's {what} is not understood: {e}"),
            ))
        })
    }

    /// Discovers where the API lives (`/apiinfo`), once per client.
    pub async fn api_info(&self) -> Result<ApiInfo> {
        self.inner.api_info.get_or_try_init(|| self.discover()).await.cloned()
    }

    async fn discover(&self) -> Result<ApiInfo> {
        let request = ApiRequest::new(Method::GET, "/apiinfo").unauthenticated();
        let info = match self.send_once_authenticated(&request, None).await {
            Ok(value) => self.decode::<ApiInfo>(value, "/apiinfo answer")?,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                log::debug!("/apiinfo answered 404: a pre-2.4 server, using {LEGACY_NON_RESOURCE_API}");
                ApiInfo {
                    non_resource_api: LEGACY_NON_RESOURCE_API.to_owned(),
                    resource_api: "/resources".to_owned(),
                    kube_proxy_api: None,
                }
            }
            Err(e) => return Err(e.map_text(|m| format!("could not discover the API at /apiinfo: {m}"))),
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
    async fn write_back(&self, write: impl FnOnce() -> Result<()> + Send + 'static) {
        match tokio::task::spawn_blocking(write).await {
            Ok(Ok(())) => {}
            Ok(Err(e)) => log::warn!("could not update the config file: {e}"),
            Err(e) => log::warn!("could not update the config file: {e}"),
        }
    }

    /// The bearer token for API calls: the static token, or a cached API
    /// token renewed by exchange or refresh when it nears expiry.
    async fn bearer(&self) -> Result<Secret> {
        if let Credential::Static(token) = &self.inner.settings.credential {
            return Ok(token.clone());
        }
        let mut cached = self.inner.api_token.lock().await;
        if let Some(token) = cached.as_ref().filter(|t| !is_expiring(t)) {
            return Ok(token.clone());
        }
        let fresh = match &self.inner.settings.credential {
            Credential::Exchange(access_token) => self.exchange(access_token).await?,
            Credential::Refresh(refresh_token) => self.refresh(refresh_token).await?,
            Credential::Static(token) => token.clone(),
        };
        *cached = Some(fresh.clone());
        Ok(fresh)
    }

    /// Forgets `stale` if it is still the cached API token.
    async fn forget(&self, stale: &Secret) {
        let mut cached = self.inner.api_token.lock().await;
        if cached.as_ref() == Some(stale) {
            *cached = None;
        }
    }

    async fn exchange(&self, access_token: &Secret) -> Result<Secret> {
        let info = self.api_info().await?;
        let request = ApiRequest::new(Method::POST, format!("{}/exchange", info.non_resource_api))
            .query("ttl", EXCHANGE_TTL)
            .replay(Replay::Safe);
        let answer = self
            .send_once_authenticated(&request, Some(access_token))
            .await
            .map_err(|e| match e.kind() {
                ErrorKind::Unauthenticated => e.with_hint(Hint::CredentialRevoked),
                _ => e,
            })?;
        log::debug!("exchanged the access token for an API token");
        let token = issued_token(answer)?;
        self.remember_secret(&token);
        Ok(token)
    }

    async fn refresh(&self, refresh_token: &Secret) -> Result<Secret> {
        #[derive(Deserialize)]
        struct Issued {
            token: Option<Secret>,
            #[serde(rename = "refresh-token")]
            refresh_token: Option<Secret>,
        }
        let info = self.api_info().await?;
        let request = ApiRequest::new(Method::POST, format!("{}/login/token", info.non_resource_api))
            .body(serde_json::json!({"refresh-token": refresh_token.expose()}))
            .replay(Replay::Safe);
        let answer = self
            .send_once_authenticated(&request, Some(refresh_token))
            .await
            .map_err(|e| match e.kind() {
                ErrorKind::Unauthenticated => e.with_hint(Hint::LogInAgain),
                _ => e,
            })?;
        let issued: Issued = self.decode(answer, "refresh answer")?;
        let token = issued
            .token
            .ok_or_else(|| server_error(Some(200), "the refresh answer has no token".to_owned()))?;
        self.remember_secret(&token);
        if let Some(refresh) = &issued.refresh_token {
            self.remember_secret(refresh);
        }
        log::debug!("refreshed the user's API token");
        if let Origin::File { path, user_name, .. } = &self.inner.settings.origin {
            let (path, user_name, token, refresh) =
                (path.clone(), user_name.clone(), token.clone(), issued.refresh_token);
            self.write_back(move || {
                config::update(&path, DEFAULT_LOCK_TIMEOUT, |c| {
                    if let Some(identity) = c.users.get_mut(&user_name).and_then(|u| u.identity.as_mut()) {
                        identity.token = Some(token);
                        if let Some(r) = refresh {
                            identity.refresh_token = Some(r);
                        }
                    }
                    Ok(())
                })
            })
            .await;
        }
        Ok(token)
    }

    /// Sends one API call: authenticates, retries what is safe to retry,
    /// decodes the answer. A 401 with an exchanged or refreshed token is
    /// retried once with a fresh one.
    pub async fn send(&self, request: &ApiRequest) -> Result<Value> {
        if !request.authenticated {
            return self.send_once_authenticated(request, None).await;
        }
        let bearer = self.bearer().await?;
        match self.send_once_authenticated(request, Some(&bearer)).await {
            Err(e)
                if e.kind() == ErrorKind::Unauthenticated
                    && !matches!(self.inner.settings.credential, Credential::Static(_)) =>
            {
                log::debug!("API token refused; renewing it once");
                self.forget(&bearer).await;
                let bearer = self.bearer().await?;
                self.send_once_authenticated(request, Some(&bearer)).await
            }
            other => other,
        }
    }

    /// Sends with retries and the given bearer token. Every wait, planned
    /// backoff or `Retry-After`, counts against the call's total budget.
    async fn send_once_authenticated(&self, request: &ApiRequest, bearer: Option<&Secret>) -> Result<Value> {
        self.check_same_process()?;
        let settings = &self.inner.settings;
        let backoff = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(100))
            .with_max_delay(Duration::from_secs(5))
            .with_factor(2.0)
            .with_jitter()
            .with_max_times(settings.max_retries as usize);
        let budget = std::sync::Mutex::new(RetryBudget::new(settings.max_total_backoff));
        let attempts = std::sync::atomic::AtomicU32::new(0);
        let result = (|| {
            let attempt = attempts.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
            self.attempt(request, bearer, attempt)
        })
        .retry(backoff)
        .when(|f: &Failure| f.retryable)
        .adjust(|f: &Failure, planned: Option<Duration>| {
            let mut budget = budget.lock().unwrap_or_else(|e| e.into_inner());
            budget.next_wait(planned, f.retry_after)
        })
        .notify(|f: &Failure, wait: Duration| {
            log::info!(
                "{} {} failed on attempt {}: {}; retrying in {:.2}s",
                request.method,
                request.path,
                attempts.load(std::sync::atomic::Ordering::Relaxed),
                f.error,
                wait.as_secs_f64()
            );
        })
        .await;
        let attempts = attempts.into_inner();
        result.map_err(|f| {
            if attempts > 1 {
                log::info!("{} {} gave up after {attempts} attempts", request.method, request.path);
                f.error.after_attempts(attempts)
            } else {
                f.error
            }
        })
    }

    /// Refuses at once to send from a forked child: the parent's connections
    /// and their runtime are not there, so the call would hang.
    fn check_same_process(&self) -> Result<()> {
        if std::process::id() == self.inner.pid {
            return Ok(());
        }
        Err(Error::config(format!(
            "this client was created in process {} and cannot be used after fork(); \
             create clients after forking, in each worker process",
            self.inner.pid
        )))
    }

    /// The URL of a request: the configured endpoint with the request's path
    /// appended to its path. Built this way, no path can change the origin.
    fn url(&self, request: &ApiRequest) -> Result<Url> {
        let endpoint = &self.inner.settings.endpoint;
        if !request.path.starts_with('/') {
            return Err(Error::invalid(
                "path",
                "pattern",
                format!("request path {:?} must be absolute", request.path),
            ));
        }
        let mut url = endpoint.clone();
        url.set_path(&format!("{}{}", endpoint.path().trim_end_matches('/'), request.path));
        url.set_query(None);
        if !request.query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(request.query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        if url.origin() != endpoint.origin() {
            return Err(Error::invalid(
                "path",
                "pattern",
                format!("request path {:?} leaves the configured server", request.path),
            ));
        }
        Ok(url)
    }

    async fn attempt(&self, request: &ApiRequest, bearer: Option<&Secret>, attempt: u32) -> Result<Value, Failure> {
        let builder = self.prepare(request, bearer).map_err(Failure::fatal)?;
        let response = match builder.send().await {
            Ok(r) => r,
            Err(e) => {
                let failure = transport_failure(e, request.replay);
                log::debug!(
                    "{} {} -> {} (attempt {attempt})",
                    request.method,
                    request.path,
                    failure.error
                );
                return Err(failure);
            }
        };
        let status = response.status();
        log::debug!(
            "{} {} -> {} (attempt {attempt})",
            request.method,
            request.path,
            status.as_u16()
        );
        if status.is_success() {
            return success_body(response, request.replay).await;
        }
        let retry_after = response
            .headers()
            .get(header::RETRY_AFTER)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.trim().parse::<f64>().ok())
            .filter(|s| s.is_finite() && *s >= 0.0)
            .map(|s| Duration::from_secs_f64(s.min(86_400.0)));
        let location = response
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok())
            .map(str::to_owned);
        let body = read_capped(response, MAX_ERROR_BODY).await;
        let error = decode_error_redacted(status, body, location.as_deref(), retry_after, &self.inner.redactor);
        Err(Failure {
            retryable: matches!(status, StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE),
            error,
            retry_after,
        })
    }

    /// The request as sent: headers, body, and the bearer token only for the
    /// configured server's own origin.
    fn prepare(&self, request: &ApiRequest, bearer: Option<&Secret>) -> Result<reqwest::RequestBuilder> {
        let url = self.url(request)?;
        let same_origin = url.origin() == self.inner.settings.endpoint.origin();
        let mut builder = self
            .inner
            .http
            .request(request.method.clone(), url)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT, "application/json")
            .header("X-Client-Version", VERSION);
        if let Some(token) = bearer.filter(|_| same_origin) {
            let mut value = header::HeaderValue::from_str(&format!("Bearer {}", token.expose())).map_err(|_| {
                Error::invalid(
                    "token",
                    "invalidValue",
                    "token contains characters not allowed in an HTTP header",
                )
            })?;
            value.set_sensitive(true);
            builder = builder.header(header::AUTHORIZATION, value);
        }
        if let Some(body) = &request.body {
            builder = builder.body(serde_json::to_vec(body).unwrap_or_default());
        }
        Ok(builder)
    }
}

/// A success answer's JSON (`null` for an empty body).
async fn success_body(response: reqwest::Response, replay: Replay) -> Result<Value, Failure> {
    let status = response.status().as_u16();
    let bytes = read_capped(response, MAX_BODY).await.map_err(|e| Failure {
        retryable: replay == Replay::Safe && e.kind() == ErrorKind::Transport,
        error: e,
        retry_after: None,
    })?;
    if bytes.is_empty() {
        return Ok(Value::Null);
    }
    serde_json::from_slice(&bytes).map_err(|_| {
        Failure::fatal(server_error(
            Some(status),
            format!("the server answered {status} with a body that is not valid JSON"),
        ))
    })
}

/// The waits of one call's retries: each is the planned backoff, or the
/// server's `Retry-After` (capped) when it sent one, and all of them together
/// stay within the budget; a wait that would overrun it ends the retries.
#[derive(Debug)]
struct RetryBudget {
    remaining: Duration,
}

impl RetryBudget {
    fn new(total: Duration) -> RetryBudget {
        RetryBudget { remaining: total }
    }

    /// The wait before the next attempt, or `None` to stop retrying.
    fn next_wait(&mut self, planned: Option<Duration>, retry_after: Option<Duration>) -> Option<Duration> {
        let planned = planned?;
        let wait = retry_after.map_or(planned, |ra| ra.min(MAX_RETRY_AFTER));
        self.remaining = self.remaining.checked_sub(wait)?;
        Some(wait)
    }
}

fn is_expiring(token: &Secret) -> bool {
    read_claims(token.expose()).as_ref().is_some_and(Claims::is_expired)
}

fn issued_token(answer: Value) -> Result<Secret> {
    #[derive(Deserialize)]
    struct Issued {
        token: Option<Secret>,
    }
    serde_json::from_value::<Issued>(answer)
        .ok()
        .and_then(|i| i.token)
        .filter(|t| !t.expose().is_empty())
        .ok_or_else(|| server_error(Some(200), "the server's answer has no token".to_owned()))
}

/// Follows redirects only within the same origin (scheme, host, port), so
/// the Authorization header never reaches another server.
fn same_origin_redirects() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        let first = attempt.previous().first().map(|u| u.origin());
        if attempt.previous().len() > 5 {
            attempt.error("too many redirects")
        } else if first.as_ref() == Some(&attempt.url().origin()) {
            attempt.follow()
        } else {
            attempt.stop()
        }
    })
}

pub(crate) fn server_error(status: Option<u16>, message: String) -> Error {
    Error::bad_answer(status, message)
}

fn transport_failure(e: reqwest::Error, replay: Replay) -> Failure {
    // reqwest's messages name the URL, which holds no secret; the message
    // keeps the chain's text, `source()` the error itself.
    let mut detail = e.to_string();
    let mut source = std::error::Error::source(&e);
    let mut refused_certificate = false;
    while let Some(s) = source {
        detail.push_str(": ");
        detail.push_str(&s.to_string());
        refused_certificate |= is_certificate_refusal(s);
        source = s.source();
    }
    if refused_certificate {
        // No retry: the same certificate would be refused again, and no
        // request (nor its token) left this process.
        return Failure::fatal(Error::Transport {
            message: format!("the server's TLS certificate is not trusted, so nothing was sent ({detail})"),
            source: Some(Box::new(e)),
            hint: None,
        });
    }
    if e.is_timeout() {
        return Failure::fatal(Error::Timeout {
            message: format!("the request timed out ({detail})"),
            hint: None,
        });
    }
    let connect = e.is_connect();
    let error = Error::Transport {
        message: if connect {
            format!("could not connect to the server ({detail})")
        } else {
            format!("the connection failed before an answer arrived ({detail})")
        },
        source: Some(Box::new(e)),
        hint: None,
    };
    Failure {
        // A refused connection never reached the server; anything else may have.
        retryable: connect || replay == Replay::Safe,
        error,
        retry_after: None,
    }
}

/// Whether `e` is rustls refusing the server's certificate. An I/O error
/// wrapping another is looked into: its `source()` skips the wrapped error.
fn is_certificate_refusal(e: &(dyn std::error::Error + 'static)) -> bool {
    if let Some(io) = e.downcast_ref::<std::io::Error>() {
        return io.get_ref().is_some_and(|inner| is_certificate_refusal(inner));
    }
    matches!(
        e.downcast_ref::<rustls::Error>(),
        Some(rustls::Error::InvalidCertificate(_) | rustls::Error::NoCertificatesPresented)
    )
}

async fn read_capped(mut response: reqwest::Response, cap: usize) -> Result<Vec<u8>> {
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > cap {
                    return Err(server_error(
                        Some(response.status().as_u16()),
                        format!(
                            "the server answered {} with a body larger than {} KiB",
                            response.status().as_u16(),
                            cap / 1024
                        ),
                    ));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) if e.is_timeout() => {
                return Err(Error::Timeout {
                    message: format!("timed out reading the answer ({e})"),
                    hint: None,
                });
            }
            Err(e) => {
                return Err(Error::Transport {
                    message: format!("the connection failed while reading the answer ({e})"),
                    source: Some(Box::new(e)),
                    hint: None,
                });
            }
        }
    }
}

/// Decodes an error answer (docs/protocol.md section 5) into a typed error. A
/// body that is not of that shape still gives a clear error with the status.
pub fn decode_error(
    status: StatusCode,
    body: Result<Vec<u8>>,
    location: Option<&str>,
    retry_after: Option<Duration>,
) -> Error {
    decode_error_redacted(status, body, location, retry_after, &Redactor::default())
}

/// [`decode_error`], cutting every secret `redactor` knows out of the
/// server's text before it is cleaned and shortened (so no prefix of a
/// secret survives the cut).
fn decode_error_redacted(
    status: StatusCode,
    body: Result<Vec<u8>>,
    location: Option<&str>,
    retry_after: Option<Duration>,
    redactor: &Redactor,
) -> Error {
    let code = status.as_u16();
    let reason = status.canonical_reason().unwrap_or("error").to_lowercase();
    if status.is_redirection() {
        let to = location
            .map(|l| format!(" to {}", sanitize(&redactor.redact(l))))
            .unwrap_or_default();
        return server_error(
            Some(code),
            format!("the server redirected{to}, to another origin; not following it with credentials (HTTP {code})"),
        );
    }
    let bytes = match body {
        Ok(b) => b,
        Err(e) => return Error::from_status(code, format!("{reason}; {e}"), Vec::new(), retry_after),
    };
    match error_body(&bytes, redactor) {
        Some((message, field_errors)) => Error::from_status(code, message, field_errors, retry_after),
        None => {
            let shown = if bytes.is_empty() {
                "an empty body"
            } else {
                "a body that is not a Wayfinder error"
            };
            Error::from_status(
                code,
                format!("{reason}; the server sent {shown}"),
                Vec::new(),
                retry_after,
            )
        }
    }
}

/// The message and field errors of a Wayfinder error body, every secret
/// `redactor` knows cut out before the text is cleaned and shortened.
fn error_body(bytes: &[u8], redactor: &Redactor) -> Option<(String, Vec<FieldError>)> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct ApiFieldError {
        #[serde(default)]
        field: String,
        #[serde(default)]
        err_code: String,
        #[serde(default)]
        message: String,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct ApiErrorBody {
        message: Option<String>,
        #[serde(default)]
        detail: Option<String>,
        #[serde(default)]
        field_errors: Option<Vec<ApiFieldError>>,
    }
    let clean = |text: &str| sanitize(&redactor.redact(text));
    let body: ApiErrorBody = serde_json::from_slice(bytes).ok()?;
    let mut message = clean(&body.message?);
    if let Some(d) = body.detail.filter(|d| !d.trim().is_empty()) {
        message = format!("{message}: {}", clean(&d));
    }
    let field_errors = body
        .field_errors
        .unwrap_or_default()
        .into_iter()
        .map(|f| FieldError::new(clean(&f.field), clean(&f.err_code), clean(&f.message)))
        .collect();
    Some((message, field_errors))
}

/// Keeps server-provided text printable and short.
fn sanitize(text: &str) -> String {
    let cleaned = crate::render::printable(text);
    match cleaned.char_indices().nth(500) {
        Some((at, _)) => format!("{}…", &cleaned[..at]),
        None => cleaned,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_error_bodies() {
        let body = br#"{"code":400,"message":"bad","fieldErrors":[{"field":"metadata.name","errCode":"invalidValue","message":"m"}]}"#;
        let e = decode_error(StatusCode::BAD_REQUEST, Ok(body.to_vec()), None, None);
        assert_eq!(e.code(), "VALIDATION");
        assert_eq!(e.status(), Some(400));
        assert_eq!(e.field_errors()[0].field, "metadata.name");
        assert_eq!(e.field_errors()[0].code, "invalidValue");

        let e = decode_error(
            StatusCode::NOT_FOUND,
            Ok(br#"{"code":404,"message":"x not found"}"#.to_vec()),
            None,
            None,
        );
        assert_eq!(e.code(), "NOT_FOUND");
        assert!(e.to_string().contains("x not found"));

        for junk in [
            &b"<html>oops</html>"[..],
            b"",
            b"{\"code\": 5",
            b"[1]",
            b"{\"message\": 7}",
        ] {
            let e = decode_error(StatusCode::BAD_GATEWAY, Ok(junk.to_vec()), None, None);
            assert_eq!(e.code(), "SERVER");
            assert_eq!(e.status(), Some(502));
            assert!(e.to_string().contains("502"), "{e}");
        }
        let e = decode_error(
            StatusCode::TOO_MANY_REQUESTS,
            Ok(b"{}".to_vec()),
            None,
            Some(Duration::from_secs(3)),
        );
        assert_eq!(e.kind(), ErrorKind::RateLimited);
        assert_eq!(e.retry_after(), Some(Duration::from_secs(3)));
        let e = decode_error(
            StatusCode::FOUND,
            Ok(Vec::new()),
            Some("https://evil.example.com/"),
            None,
        );
        assert!(e.to_string().contains("redirected"));
    }

    #[test]
    fn server_text_is_sanitised() {
        let long = "x".repeat(2000);
        let body = format!(r#"{{"message":"a\nb{long}"}}"#);
        let e = decode_error(StatusCode::CONFLICT, Ok(body.into_bytes()), None, None);
        assert!(!e.to_string().contains('\n'));
        assert!(e.to_string().len() < 700);
    }

    #[test]
    fn retry_after_waits_count_against_the_budget() {
        let mut budget = RetryBudget::new(Duration::from_secs(60));
        let planned = Some(Duration::from_millis(100));
        let after = Some(Duration::from_secs(25));
        assert_eq!(budget.next_wait(planned, after), Some(Duration::from_secs(25)));
        assert_eq!(budget.next_wait(planned, after), Some(Duration::from_secs(25)));
        assert_eq!(budget.next_wait(planned, after), None, "75 s would overrun 60 s");
        let mut budget = RetryBudget::new(Duration::from_secs(60));
        assert_eq!(
            budget.next_wait(planned, Some(Duration::from_secs(3600))),
            Some(MAX_RETRY_AFTER),
            "Retry-After is capped"
        );
        assert_eq!(budget.next_wait(None, after), None, "no retries left");
    }

    #[test]
    fn requests_default_their_replay_by_method() {
        assert_eq!(ApiRequest::new(Method::GET, "/x").replay, Replay::Safe);
        assert_eq!(ApiRequest::new(Method::POST, "/x").replay, Replay::Unsafe);
        assert_eq!(ApiRequest::new(Method::DELETE, "/x").replay, Replay::Unsafe);
    }
}
