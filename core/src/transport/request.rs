//! One API call as data. Functions build an [`ApiRequest`]; only the
//! transport sends it.

use reqwest::Method;
use serde_json::Value;

/// Whether a request may be sent again after it may have reached the server.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Replay {
    /// Safe to repeat (reads, issuing a secret, exchange, role grants).
    Safe,
    /// Creates or changes state: retried only when the server cannot have acted on it
    /// (connection refused, 429, 503).
    Unsafe,
}

/// One API call as data: built by pure functions, sent by [`Client::send`](crate::Client::send).
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

    pub(crate) fn unauthenticated(mut self) -> ApiRequest {
        self.authenticated = false;
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_default_their_replay_by_method() {
        assert_eq!(ApiRequest::new(Method::GET, "/x").replay, Replay::Safe);
        assert_eq!(ApiRequest::new(Method::POST, "/x").replay, Replay::Unsafe);
        assert_eq!(ApiRequest::new(Method::DELETE, "/x").replay, Replay::Unsafe);
    }
}
