//! The credential as sent.

use std::fmt;
use std::sync::Arc;

use reqwest::header::HeaderValue;
use zeroize::Zeroizing;

use crate::secret::Secret;

/// A token as sent: the secret and its `Authorization` header, built once
/// per token rather than per request. Each request then shares the header
/// (marked sensitive) instead of formatting another copy of the secret.
#[derive(Clone)]
pub(crate) struct Bearer(Arc<BearerParts>);

struct BearerParts {
    secret: Secret,
    /// `None` when the token holds characters a header cannot carry.
    header: Option<HeaderValue>,
}

impl Bearer {
    pub(crate) fn new(secret: Secret) -> Bearer {
        let text = Zeroizing::new(format!("Bearer {}", secret.expose()));
        let header = HeaderValue::from_str(&text).ok().map(|mut value| {
            value.set_sensitive(true);
            value
        });
        Bearer(Arc::new(BearerParts { secret, header }))
    }

    pub(crate) fn secret(&self) -> &Secret {
        &self.0.secret
    }

    /// The `Authorization` header, or `None` if the token cannot be sent in one.
    pub(crate) fn header(&self) -> Option<&HeaderValue> {
        self.0.header.as_ref()
    }
}

impl PartialEq for Bearer {
    fn eq(&self, other: &Bearer) -> bool {
        self.secret() == other.secret()
    }
}

impl fmt::Debug for Bearer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Bearer(<redacted>)")
    }
}
