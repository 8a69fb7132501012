//! HTTPS to a secret store (GitHub, Vault): rustls, no redirects (a bearer
//! never follows one), plain HTTP only to this machine, and retries of
//! 5xx, 429 and rate-limited 403s within a budget, honouring `retry-after`
//! and `x-ratelimit-reset`. Every text an error carries is cut free of the
//! secrets this client knows.

use std::time::Duration;

use reqwest::header::HeaderMap;
use url::Url;

use crate::error::{Error, Result};
use crate::secret::{Redactor, Secret};

/// Retries after the first attempt.
const MAX_RETRIES: u32 = 4;
/// The most a call waits in total between attempts; a store that asks for
/// longer (GitHub's primary rate limit resets hourly) fails now instead.
const MAX_TOTAL_WAIT: Duration = Duration::from_secs(60);
/// An answer's text kept in an error.
const MAX_MESSAGE: usize = 300;

/// An answer that arrived (any status).
#[derive(Debug)]
pub(crate) struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Vec<u8>,
}

impl Answer {
    /// The body as JSON (an error naming `what` when it is not).
    pub fn json<T: serde::de::DeserializeOwned>(&self, what: &str) -> Result<T> {
        serde_json::from_slice(&self.body).map_err(|e| {
            Error::bad_answer(
                Some(self.status),
                format!("{what}: the answer is not what was expected ({e})"),
            )
        })
    }

    fn message(&self) -> String {
        let text = match serde_json::from_slice::<serde_json::Value>(&self.body) {
            // GitHub says `message`; Vault `errors: [..]`.
            Ok(v) => v
                .get("message")
                .and_then(|m| m.as_str().map(str::to_owned))
                .or_else(|| {
                    v.get("errors")
                        .and_then(|e| e.as_array())
                        .map(|e| e.iter().filter_map(|m| m.as_str()).collect::<Vec<_>>().join("; "))
                })
                .unwrap_or_default(),
            Err(_) => String::from_utf8_lossy(&self.body).into_owned(),
        };
        let text = crate::render::printable(text.trim());
        match text.char_indices().nth(MAX_MESSAGE) {
            Some((cut, _)) => format!("{}…", &text[..cut]),
            None => text,
        }
    }
}

/// A client for one store.
#[derive(Debug)]
pub(crate) struct Http {
    client: reqwest::Client,
    redactor: Redactor,
}

impl Http {
    /// A client for `base` (named `setting` in errors), trusting the
    /// platform's roots and `ca_pem`.
    pub fn new(setting: &str, base: &Url, ca_pem: Option<&str>, timeout: Duration) -> Result<Http> {
        let loopback = base.host().is_some_and(|h| crate::settings::is_loopback(&h));
        match base.scheme() {
            "https" => {}
            "http" if loopback => {}
            "http" => {
                return Err(Error::config(format!(
                    "{setting} is {base}: plain HTTP to a host that is not this machine would show its \
                     credentials to the network; use https://"
                )));
            }
            other => {
                return Err(Error::config(format!(
                    "{setting} is {base}: the scheme {other:?} is not http(s)"
                )));
            }
        }
        let mut builder = reqwest::Client::builder()
            .user_agent(format!("wayfinder-tokens/{}", crate::VERSION))
            .timeout(timeout)
            .connect_timeout(timeout.min(Duration::from_secs(10)))
            .redirect(reqwest::redirect::Policy::none());
        if loopback {
            builder = builder.no_proxy();
        }
        if let Some(pem) = ca_pem {
            builder = builder.tls_backend_preconfigured(crate::tls::pinning_config(pem)?);
        }
        let client = builder
            .build()
            .map_err(|e| Error::config_with(format!("cannot set up HTTPS: {e}"), e))?;
        Ok(Http {
            client,
            redactor: Redactor::default(),
        })
    }

    /// Remembers a secret, so that no answer echoing it reaches an error.
    pub fn remember(&self, secret: &Secret) {
        self.redactor.remember(secret);
    }

    /// Sends the request `build` makes (again for each retry) and returns
    /// the answer whatever its status, unless it stays retryable past the
    /// budget. `what` names the call in errors.
    pub async fn send(
        &self,
        what: &str,
        build: impl Fn(&reqwest::Client) -> reqwest::RequestBuilder,
    ) -> Result<Answer> {
        let mut waited = Duration::ZERO;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let outcome = match build(&self.client).send().await {
                Ok(response) => {
                    let status = response.status().as_u16();
                    let headers = response.headers().clone();
                    match response.bytes().await {
                        Ok(body) => Ok(Answer {
                            status,
                            headers,
                            body: body.to_vec(),
                        }),
                        Err(e) => Err(self.transport(what, &e)),
                    }
                }
                Err(e) => Err(self.transport(what, &e)),
            };
            // Every write here is safe to repeat (a PUT of the same sealed value, a PATCH, a
            // check-and-set that refuses a second write), so a timeout is retried too.
            let wait = match &outcome {
                Ok(answer) => retry_wait(answer, attempt),
                Err(_) => Some(backoff(attempt)),
            };
            match wait {
                Some(wait) if attempt <= MAX_RETRIES && waited + wait <= MAX_TOTAL_WAIT => {
                    log::debug!("{what}: attempt {attempt} failed; retrying in {wait:?}");
                    tokio::time::sleep(wait).await;
                    waited += wait;
                }
                Some(_) => {
                    return match outcome {
                        Ok(answer) => Err(self.refusal(what, &answer)),
                        Err(e) => Err(e),
                    };
                }
                None => return outcome,
            }
        }
    }

    /// `method` on `path` under `base`, with `body` as JSON when given and the
    /// store's own headers from `authorize`; retried as [`Http::send`] does.
    pub async fn call(
        &self,
        base: &Url,
        (method, path): (reqwest::Method, &str),
        body: Option<&serde_json::Value>,
        what: &str,
        authorize: impl Fn(reqwest::RequestBuilder) -> reqwest::RequestBuilder,
    ) -> Result<Answer> {
        let url = base
            .join(path)
            .map_err(|e| Error::config(format!("cannot build a URL for {path}: {e}")))?;
        self.send(what, |client| {
            let request = authorize(client.request(method.clone(), url.clone()));
            match body {
                Some(body) => request.json(body),
                None => request,
            }
        })
        .await
    }

    /// `answer` when its status is one of `statuses`, else its error.
    pub fn expect<'a>(&self, answer: &'a Answer, statuses: &[u16], what: &str) -> Result<&'a Answer> {
        match statuses.contains(&answer.status) {
            true => Ok(answer),
            false => Err(self.refusal(what, answer)),
        }
    }

    /// The error for an answer that is not a success.
    pub fn refusal(&self, what: &str, answer: &Answer) -> Error {
        let message = self.redactor.redact(&format!("{what}: {}", answer.message()));
        let retry_after = header_seconds(&answer.headers, "retry-after");
        Error::from_status(answer.status, message, Vec::new(), retry_after)
    }

    fn transport(&self, what: &str, e: &reqwest::Error) -> Error {
        let mut account = e.to_string();
        let mut source: Option<&dyn std::error::Error> = std::error::Error::source(e);
        while let Some(cause) = source {
            account = format!("{account}: {cause}");
            source = cause.source();
        }
        let message = self.redactor.redact(&format!("{what}: {account}"));
        if e.is_timeout() {
            return Error::Timeout { message, hint: None };
        }
        Error::Transport {
            message,
            source: None,
            hint: None,
        }
    }
}

/// How long to wait before retrying `answer`, or `None` when it is final.
fn retry_wait(answer: &Answer, attempt: u32) -> Option<Duration> {
    let rate_limited = answer.status == 429
        || (answer.status == 403
            && (answer.headers.contains_key("retry-after")
                || answer.headers.get("x-ratelimit-remaining").is_some_and(|v| v == "0")));
    if rate_limited {
        if let Some(after) = header_seconds(&answer.headers, "retry-after") {
            return Some(after);
        }
        if let Some(reset) = header_seconds(&answer.headers, "x-ratelimit-reset") {
            let now = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .unwrap_or_default();
            return Some(reset.saturating_sub(now).max(Duration::from_secs(1)));
        }
        return Some(backoff(attempt));
    }
    matches!(answer.status, 500 | 502 | 503 | 504).then(|| backoff(attempt))
}

fn header_seconds(headers: &HeaderMap, name: &str) -> Option<Duration> {
    let value = headers.get(name)?.to_str().ok()?.trim().parse::<u64>().ok()?;
    Some(Duration::from_secs(value))
}

/// 0.2 s, 0.4 s, 0.8 s… with up to a quarter of jitter.
fn backoff(attempt: u32) -> Duration {
    let base = Duration::from_millis(200) * 2u32.saturating_pow(attempt.saturating_sub(1).min(8));
    let mut byte = [0u8; 1];
    let _ = getrandom::fill(&mut byte);
    base + base * u32::from(byte[0]) / 1024
}
