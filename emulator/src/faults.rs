//! Fault injection and request counting, for clients' tests of their retry
//! and error paths against a real socket.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

use serde::{Deserialize, Serialize};

use crate::validate::FieldError;

/// Makes the next `times` requests whose path starts with `path_prefix`
/// misbehave. A delay is applied first; then the connection is dropped, or
/// the answer replaced (status, malformed or oversized body); with only a
/// delay the request is then served normally.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Fault {
    pub path_prefix: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    #[serde(default = "one")]
    pub times: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub retry_after_s: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub delay_ms: Option<u64>,
    #[serde(default)]
    pub drop_connection: bool,
    /// Handle the request (its effect happens), then drop the connection
    /// unanswered: an answer lost on the way back.
    #[serde(default)]
    pub drop_answer: bool,
    #[serde(default)]
    pub malformed_body: bool,
    /// Answer with a body of this many bytes (for clients' size caps).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body_bytes: Option<usize>,
    /// Answer with exactly this body (for clients' handling of hostile or
    /// odd answers: a bad `/apiinfo`, an echoed token, terminal escapes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub body: Option<String>,
}

fn one() -> u32 {
    1
}

/// The largest `body_bytes` a fault may ask for.
pub const MAX_FAULT_BODY: usize = 64 * 1024 * 1024;

impl Fault {
    /// A fault for the next request under `path_prefix`, doing nothing yet.
    pub fn new(path_prefix: impl Into<String>) -> Fault {
        Fault {
            path_prefix: path_prefix.into(),
            times: 1,
            ..Fault::default()
        }
    }

    pub fn validate(&self) -> Result<(), Vec<FieldError>> {
        let mut errors = Vec::new();
        if !self.path_prefix.starts_with('/') {
            errors.push(FieldError::new(
                "path_prefix",
                "invalidValue",
                "path_prefix must start with '/'",
            ));
        }
        if self.status.is_some_and(|s| !(200..=599).contains(&s)) {
            errors.push(FieldError::new(
                "status",
                "invalidValue",
                "status must be between 200 and 599",
            ));
        }
        if self.times == 0 {
            errors.push(FieldError::new("times", "invalidValue", "times must be at least 1"));
        }
        if self.delay_ms.is_some_and(|d| d > 600_000) {
            errors.push(FieldError::new(
                "delay_ms",
                "invalidValue",
                "delay_ms must be at most 600000",
            ));
        }
        if self.body_bytes.is_some_and(|b| b > MAX_FAULT_BODY) {
            errors.push(FieldError::new(
                "body_bytes",
                "invalidValue",
                format!("body_bytes must be at most {MAX_FAULT_BODY}"),
            ));
        }
        if self.body.as_ref().is_some_and(|b| b.len() > MAX_FAULT_BODY) {
            errors.push(FieldError::new(
                "body",
                "maxLength",
                format!("body must be at most {MAX_FAULT_BODY} bytes"),
            ));
        }
        if errors.is_empty() { Ok(()) } else { Err(errors) }
    }
}

/// The armed faults, first added first matched.
#[derive(Debug, Default)]
pub struct Faults(Mutex<Vec<Fault>>);

impl Faults {
    pub fn add(&self, fault: Fault) {
        self.lock().push(fault);
    }

    pub fn clear(&self) {
        self.lock().clear();
    }

    /// Consumes one use of the first fault matching `path`.
    pub fn take(&self, path: &str) -> Option<Fault> {
        let mut faults = self.lock();
        let index = faults.iter().position(|f| path.starts_with(&f.path_prefix))?;
        let fault = &mut faults[index];
        fault.times -= 1;
        let taken = fault.clone();
        if fault.times == 0 {
            faults.remove(index);
        }
        Some(taken)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Vec<Fault>> {
        self.0.lock().unwrap_or_else(|e| e.into_inner())
    }
}

/// Most distinct `"METHOD /path"` keys the stats keep.
pub const MAX_COUNTED_PATHS: usize = 4096;
/// Most bytes of a path the stats keep.
pub const MAX_COUNTED_PATH: usize = 512;

/// Requests served, by `"METHOD /path"` (query strings left out).
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatsSnapshot {
    pub requests: BTreeMap<String, u64>,
    pub total: u64,
    /// TLS handshakes completed (one per HTTPS connection).
    #[serde(default)]
    pub tls_handshakes: u64,
    /// API requests being handled now.
    #[serde(default)]
    pub in_flight: u64,
    /// The most API requests handled at once since the last reset.
    #[serde(default)]
    pub peak_in_flight: u64,
}

impl StatsSnapshot {
    /// Requests with this method and exact path.
    pub fn count(&self, method: &str, path: &str) -> u64 {
        self.requests.get(&format!("{method} {path}")).copied().unwrap_or(0)
    }

    /// Requests with this method whose path ends with `suffix` (e.g. `/exchange`).
    pub fn count_suffix(&self, method: &str, suffix: &str) -> u64 {
        self.requests
            .iter()
            .filter(|(k, _)| k.starts_with(method) && k[method.len()..].starts_with(' ') && k.ends_with(suffix))
            .map(|(_, v)| v)
            .sum()
    }
}

#[derive(Debug, Default)]
pub struct Stats(Mutex<StatsSnapshot>);

impl Stats {
    /// Counts a request. Paths are counted one by one up to
    /// [`MAX_COUNTED_PATHS`] distinct keys, each cut at [`MAX_COUNTED_PATH`]
    /// bytes; past that, under `"METHOD (other paths)"`, so that requests to
    /// ever new paths (unauthenticated ones included) cannot grow the map.
    pub fn record(&self, method: &str, path: &str) {
        let mut s = self.0.lock().unwrap_or_else(|e| e.into_inner());
        let mut end = path.len().min(MAX_COUNTED_PATH);
        while !path.is_char_boundary(end) {
            end -= 1;
        }
        let mut key = format!("{method} {}", &path[..end]);
        if !s.requests.contains_key(&key) && s.requests.len() >= MAX_COUNTED_PATHS {
            key = format!("{method} (other paths)");
        }
        *s.requests.entry(key).or_default() += 1;
        s.total += 1;
    }

    /// Counts a request in flight until the guard drops.
    pub fn enter(self: &Arc<Self>) -> InFlight {
        let mut s = self.0.lock().unwrap_or_else(|e| e.into_inner());
        s.in_flight += 1;
        s.peak_in_flight = s.peak_in_flight.max(s.in_flight);
        InFlight(Arc::clone(self))
    }

    pub fn record_handshake(&self) {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).tls_handshakes += 1;
    }

    pub fn snapshot(&self) -> StatsSnapshot {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    pub fn reset(&self) {
        let mut s = self.0.lock().unwrap_or_else(|e| e.into_inner());
        // Requests still running stay counted, so the peak stays true.
        *s = StatsSnapshot {
            in_flight: s.in_flight,
            peak_in_flight: s.in_flight,
            ..StatsSnapshot::default()
        };
    }
}

/// A request in flight; dropping it ends it.
pub struct InFlight(Arc<Stats>);

impl Drop for InFlight {
    fn drop(&mut self) {
        let mut s = self.0.0.lock().unwrap_or_else(|e| e.into_inner());
        s.in_flight = s.in_flight.saturating_sub(1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn faults_are_consumed_in_order() {
        let faults = Faults::default();
        faults.add(Fault {
            times: 2,
            status: Some(503),
            ..Fault::new("/api")
        });
        faults.add(Fault::new("/api/v2/whoami"));
        assert_eq!(faults.take("/resources"), None);
        assert_eq!(faults.take("/api/v2/whoami").and_then(|f| f.status), Some(503));
        assert_eq!(faults.take("/api/v2/whoami").and_then(|f| f.status), Some(503));
        assert_eq!(faults.take("/api/v2/whoami").map(|f| f.status), Some(None));
        assert_eq!(faults.take("/api/v2/whoami"), None);
    }

    #[test]
    fn validates() {
        assert!(Fault::new("/x").validate().is_ok());
        assert!(Fault::new("x").validate().is_err());
        assert!(
            Fault {
                status: Some(99),
                ..Fault::new("/x")
            }
            .validate()
            .is_err()
        );
        assert!(
            Fault {
                times: 0,
                ..Fault::new("/x")
            }
            .validate()
            .is_err()
        );
    }

    #[test]
    fn distinct_paths_cannot_grow_the_counts_without_bound() {
        let stats = Stats::default();
        let long = "x".repeat(30_000);
        for i in 0..(MAX_COUNTED_PATHS + 500) {
            stats.record("GET", &format!("/{i}/{long}"));
        }
        let s = stats.snapshot();
        assert_eq!(s.total, (MAX_COUNTED_PATHS + 500) as u64);
        assert!(s.requests.len() <= MAX_COUNTED_PATHS + 1);
        assert!(s.requests.keys().all(|k| k.len() <= MAX_COUNTED_PATH + 20));
        assert_eq!(s.count("GET", "(other paths)"), 500);
    }

    #[test]
    fn counts() {
        let stats = Stats::default();
        stats.record("POST", "/api/v2/exchange");
        stats.record("POST", "/api/v2/exchange");
        stats.record("GET", "/api/v2/whoami");
        let s = stats.snapshot();
        assert_eq!(s.total, 3);
        assert_eq!(s.count("POST", "/api/v2/exchange"), 2);
        assert_eq!(s.count_suffix("POST", "/exchange"), 2);
        assert_eq!(s.count_suffix("GET", "/exchange"), 0);
    }
}
