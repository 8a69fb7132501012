//! A token held as a secret: redacted in `Debug`, zeroised on drop, and
//! exposed only through [`Secret::expose`]. It serialises to its real value
//! because the config file and the explicit renderers must write it.

use std::collections::VecDeque;
use std::fmt;
use std::sync::Mutex;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A secret: zeroed when dropped, never shown by `Debug` or `Display`; [`Secret::expose`] reads it.
#[derive(Clone)]
pub struct Secret(SecretString);

impl Secret {
    /// Wraps `value`.
    pub fn new(value: impl Into<String>) -> Secret {
        Secret(SecretString::from(value.into()))
    }

    /// The secret value. Call it only where the value is meant to be seen or sent.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Secret(<redacted>)")
    }
}

impl PartialEq for Secret {
    fn eq(&self, other: &Secret) -> bool {
        self.expose() == other.expose()
    }
}

impl Eq for Secret {}

impl From<String> for Secret {
    fn from(value: String) -> Secret {
        Secret::new(value)
    }
}

impl From<&str> for Secret {
    fn from(value: &str) -> Secret {
        Secret::new(value)
    }
}

impl Serialize for Secret {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.expose())
    }
}

impl<'de> Deserialize<'de> for Secret {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Secret, D::Error> {
        String::deserialize(deserializer).map(Secret::new)
    }
}

/// The secrets a client holds (its credential, exchanged and refreshed API
/// tokens, the last secrets it issued), cut out of server-provided text
/// before that text reaches an error, a log line or a terminal.
#[derive(Default)]
pub struct Redactor {
    secrets: Mutex<VecDeque<Secret>>,
}

impl Redactor {
    /// How many secrets are remembered; the oldest is forgotten first.
    const CAPACITY: usize = 64;
    /// Shorter values are not cut out: they would mangle ordinary words, and
    /// no real token is this short.
    const MIN_LEN: usize = 8;
    /// What replaces a secret.
    pub const MARK: &str = "<redacted>";

    /// Remembers `secret`.
    pub fn remember(&self, secret: &Secret) {
        if secret.expose().len() < Self::MIN_LEN {
            return;
        }
        let mut secrets = self.secrets.lock().unwrap_or_else(|e| e.into_inner());
        if secrets.contains(secret) {
            return;
        }
        if secrets.len() == Self::CAPACITY {
            secrets.pop_front();
        }
        secrets.push_back(secret.clone());
    }

    /// `text` with every remembered secret replaced by [`Redactor::MARK`].
    pub fn redact(&self, text: &str) -> String {
        let secrets = self.secrets.lock().unwrap_or_else(|e| e.into_inner());
        let mut out = text.to_owned();
        for secret in secrets.iter() {
            if out.contains(secret.expose()) {
                out = out.replace(secret.expose(), Self::MARK);
            }
        }
        out
    }
}

impl fmt::Debug for Redactor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let n = self.secrets.lock().map(|s| s.len()).unwrap_or(0);
        write!(f, "Redactor({n} secrets)")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_is_redacted() {
        let s = Secret::new("canary-value");
        assert!(!format!("{s:?}").contains("canary"));
        assert!(!format!("{:?}", Some(s.clone())).contains("canary"));
        assert_eq!(s.expose(), "canary-value");
    }

    #[test]
    fn redactor_cuts_out_remembered_secrets_only() {
        let r = Redactor::default();
        r.remember(&Secret::new("first-secret-value"));
        r.remember(&Secret::new("short"));
        assert_eq!(
            r.redact("a first-secret-value b first-secret-value short"),
            "a <redacted> b <redacted> short"
        );
        for i in 0..Redactor::CAPACITY {
            r.remember(&Secret::new(format!("later-secret-{i:04}")));
        }
        assert_eq!(r.redact("first-secret-value"), "first-secret-value", "oldest forgotten");
        assert_eq!(r.redact("later-secret-0063"), "<redacted>");
    }
}
