//! Sending: one request, its retries within the call's budget, and what a
//! failed attempt means for the next one. Nothing here knows where the
//! credential came from or what the answer means; the session borrows the
//! transport to exchange and refresh, the client to call the API.

use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

use backon::{ExponentialBuilder, Retryable};
use reqwest::{StatusCode, header};
use url::Url;

mod bearer;
pub(crate) mod decode;
mod request;

pub(crate) use bearer::Bearer;
pub use decode::decode_error;
use decode::{Answer, MAX_BODY, MAX_ERROR_BODY, Undecodable, decode_error_redacted, read_capped};
pub(crate) use decode::{IssuedSecret, server_error};
pub use request::{ApiRequest, Replay};

use crate::error::{Argument, Error, ErrorKind, Result};
use crate::secret::{Redactor, Secret};
use crate::settings::{Settings, is_loopback};

/// The library version, sent as `X-Client-Version`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The HTTP side of one client: the connection pool, the configured
/// server, the retry budget, every secret to cut out of server text, and the
/// process that made the pool (its connections do not survive a `fork()`).
pub(crate) struct Transport {
    http: reqwest::Client,
    endpoint: Url,
    max_retries: u32,
    max_total_backoff: Duration,
    redactor: Redactor,
    pid: u32,
}

/// Longest wait honoured from a `Retry-After` header.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(30);

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

impl Transport {
    /// The pool and policies for `settings`' server.
    pub(crate) fn new(settings: &Settings) -> Result<Transport> {
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
        Ok(Transport {
            http,
            endpoint: settings.endpoint.clone(),
            max_retries: settings.max_retries,
            max_total_backoff: settings.max_total_backoff,
            redactor,
            pid: std::process::id(),
        })
    }

    /// Remembers a secret received, so that no server text echoing it
    /// reaches an error or a log line.
    pub(crate) fn remember_secret(&self, secret: &Secret) {
        self.redactor.remember(secret);
    }

    /// The error with every secret this transport knows cut out of its text.
    pub(crate) fn scrub(&self, error: Error) -> Error {
        error.map_text(|text| self.redactor.redact(text))
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

    /// The secret an answer issues (`what` names the answer), remembered
    /// for redaction with the refresh token that may come with it.
    pub(crate) fn issued_secret(&self, answer: &Answer, what: &str) -> Result<IssuedSecret> {
        let issued = IssuedSecret::of(answer, what)?;
        self.remember_secret(&issued.token);
        if let Some(refresh) = &issued.refresh_token {
            self.remember_secret(refresh);
        }
        Ok(issued)
    }

    /// Sends with retries and the given bearer token. Every wait, planned
    /// backoff or `Retry-After`, counts against the call's total budget.
    pub(crate) async fn send(&self, request: &ApiRequest, bearer: Option<&Bearer>) -> Result<Answer> {
        self.check_same_process()?;
        let backoff = ExponentialBuilder::default()
            .with_min_delay(Duration::from_millis(100))
            .with_max_delay(Duration::from_secs(5))
            .with_factor(2.0)
            .with_jitter()
            .with_max_times(self.max_retries as usize);
        let budget = std::sync::Mutex::new(RetryBudget::new(self.max_total_backoff));
        let attempts = AtomicU32::new(0);
        let result = (|| {
            let attempt = attempts.fetch_add(1, Ordering::Relaxed) + 1;
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
                attempts.load(Ordering::Relaxed),
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
        if std::process::id() == self.pid {
            return Ok(());
        }
        Err(Error::config(format!(
            "this client was created in process {} and cannot be used after fork(); \
             create clients after forking, in each worker process",
            self.pid
        )))
    }

    /// The URL of a request: the configured endpoint with the request's path
    /// appended to its path. Built this way, no path can change the origin.
    fn url(&self, request: &ApiRequest) -> Result<Url> {
        let endpoint = &self.endpoint;
        if !request.path.starts_with('/') {
            return Err(Error::invalid(
                Argument::Path,
                "pattern",
                format!("{:?} must be absolute", request.path),
            ));
        }
        let mut url = endpoint.clone();
        url.set_path(&format!("{}{}", endpoint.path().trim_end_matches('/'), request.path));
        url.set_query(None);
        if !request.query.is_empty() {
            url.query_pairs_mut()
                .extend_pairs(request.query.iter().map(|(k, v)| (*k, v.as_str())));
        }
        if !same_origin(&url, endpoint) {
            return Err(Error::invalid(
                Argument::Path,
                "pattern",
                format!("{:?} leaves the configured server", request.path),
            ));
        }
        Ok(url)
    }

    async fn attempt(&self, request: &ApiRequest, bearer: Option<&Bearer>, attempt: u32) -> Result<Answer, Failure> {
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
        let error = decode_error_redacted(status, body, location.as_deref(), retry_after, &self.redactor);
        Err(Failure {
            retryable: matches!(status, StatusCode::TOO_MANY_REQUESTS | StatusCode::SERVICE_UNAVAILABLE),
            error,
            retry_after,
        })
    }

    /// The request as sent: headers, body, and the bearer token only for the
    /// configured server's own origin.
    fn prepare(&self, request: &ApiRequest, bearer: Option<&Bearer>) -> Result<reqwest::RequestBuilder> {
        let url = self.url(request)?;
        let same_origin = same_origin(&url, &self.endpoint);
        let mut builder = self
            .http
            .request(request.method.clone(), url)
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::ACCEPT, "application/json")
            .header("X-Client-Version", VERSION);
        if let Some(bearer) = bearer.filter(|_| same_origin) {
            let value = bearer.header().ok_or_else(|| {
                Error::invalid(
                    Argument::Token,
                    "invalidValue",
                    "contains characters not allowed in an HTTP header",
                )
            })?;
            builder = builder.header(header::AUTHORIZATION, value.clone());
        }
        if let Some(body) = &request.body {
            builder = builder.body(serde_json::to_vec(body).unwrap_or_default());
        }
        Ok(builder)
    }
}

/// A success answer's body, read whole.
async fn success_body(response: reqwest::Response, replay: Replay) -> Result<Answer, Failure> {
    let status = response.status().as_u16();
    let body = read_capped(response, MAX_BODY).await.map_err(|e| Failure {
        retryable: replay == Replay::Safe && e.kind() == ErrorKind::Transport,
        error: e,
        retry_after: None,
    })?;
    Ok(Answer { status, body })
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

/// Whether two URLs share scheme, host and port: [`Url::origin`] without
/// its allocations, for every request.
fn same_origin(a: &Url, b: &Url) -> bool {
    a.scheme() == b.scheme() && a.host() == b.host() && a.port_or_known_default() == b.port_or_known_default()
}

/// Follows redirects only within the same origin (scheme, host, port), so
/// the Authorization header never reaches another server.
fn same_origin_redirects() -> reqwest::redirect::Policy {
    reqwest::redirect::Policy::custom(|attempt| {
        if attempt.previous().len() > 5 {
            attempt.error("too many redirects")
        } else if attempt
            .previous()
            .first()
            .is_some_and(|first| same_origin(first, attempt.url()))
        {
            attempt.follow()
        } else {
            attempt.stop()
        }
    })
}

fn transport_failure(e: reqwest::Error, replay: Replay) -> Failure {
    // reqwest's messages name the URL, which holds no secret; the message
    // keeps the chain's text, `source()` the error itself.
    let mut detail = e.to_string();
    let mut source = std::error::Error::source(&e);
    let (mut refused_certificate, mut plaintext) = (false, false);
    while let Some(s) = source {
        detail.push_str(": ");
        detail.push_str(&s.to_string());
        refused_certificate |= is_certificate_refusal(s);
        plaintext |= is_plaintext_answer(s);
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
    if plaintext {
        // No retry: a plain-HTTP server answers the same way every time.
        return Failure::fatal(Error::Transport {
            message: format!(
                "the server is not speaking TLS (it answered an https:// request in plain text): \
                 is its URL http:// rather than https://? ({detail})"
            ),
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

/// Whether `e` is rustls reading something that is not TLS at all (what a
/// plain-HTTP server answers to a TLS handshake).
fn is_plaintext_answer(e: &(dyn std::error::Error + 'static)) -> bool {
    if let Some(io) = e.downcast_ref::<std::io::Error>() {
        return io.get_ref().is_some_and(|inner| is_plaintext_answer(inner));
    }
    matches!(
        e.downcast_ref::<rustls::Error>(),
        Some(rustls::Error::InvalidMessage(
            rustls::InvalidMessage::InvalidContentType | rustls::InvalidMessage::UnknownProtocolVersion
        ))
    )
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_are_scheme_host_and_port() {
        let url = |s: &str| Url::parse(s).expect("a valid URL");
        let base = url("https://wf.example.com/api");
        assert!(same_origin(&base, &url("https://WF.example.com:443/other?q")));
        assert!(same_origin(&url("http://127.0.0.1/"), &url("http://127.0.0.1:80/x")));
        for other in [
            "http://wf.example.com/api",
            "https://wf.example.com:8443/api",
            "https://wf.example.com.evil.net/api",
            "https://evil.net/wf.example.com",
        ] {
            assert!(!same_origin(&base, &url(other)), "{other}");
        }
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
}
