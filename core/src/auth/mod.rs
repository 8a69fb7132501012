//! Reading token claims and deciding how a credential authenticates
//! (docs/protocol.md section 2). Signatures are never verified here: that is the
//! server's job; the client only needs the scopes and the expiry.

use std::time::Duration;

use serde::Deserialize;

use crate::secret::Secret;

mod session;
pub(crate) use session::Session;

/// The long-lived access token scope: must be exchanged before use.
pub const SCOPE_EXCHANGE: &str = "wayfinder:auth:exchange";
/// The short-lived API token an exchange returns.
pub const SCOPE_ACCESS_TOKEN: &str = "wayfinder:system:accesstoken";
/// A user's refresh token.
pub const SCOPE_REFRESH: &str = "wayfinder:auth:refresh";
/// A user's API token.
pub const SCOPE_USER: &str = "wayfinder:system:user";

/// A token is treated as expired this long before its `exp`.
pub const EXPIRY_SKEW: Duration = Duration::from_secs(30);

/// The claims the client reads.
#[derive(Clone, Debug, Default, PartialEq, Deserialize)]
pub struct Claims {
    /// The subject: who the token speaks for.
    #[serde(default)]
    pub sub: Option<String>,
    /// The issuer.
    #[serde(default)]
    pub iss: Option<String>,
    /// Seconds since the epoch; may be fractional, absent means never.
    #[serde(default)]
    pub exp: Option<f64>,
    /// Issued at, in seconds since the epoch.
    #[serde(default)]
    pub iat: Option<f64>,
    /// The token's unique id.
    #[serde(default)]
    pub jti: Option<String>,
    /// What the token may be used for (`wayfinder:auth:exchange`, …).
    #[serde(default)]
    pub scopes: Vec<String>,
    /// The access token's generation (each issue bumps it), when the server says.
    #[serde(default)]
    pub generation: Option<i64>,
}

impl Claims {
    /// Whether the token carries `scope`.
    pub fn has_scope(&self, scope: &str) -> bool {
        self.scopes.iter().any(|s| s == scope)
    }

    /// Whether the token is expired, or will be within [`EXPIRY_SKEW`], at `now` (unix seconds).
    pub fn is_expired_at(&self, now: f64) -> bool {
        self.exp.is_some_and(|exp| exp - EXPIRY_SKEW.as_secs_f64() <= now)
    }

    /// Whether the token has expired, 30 s early for clock skew (never, without `exp`).
    pub fn is_expired(&self) -> bool {
        self.is_expired_at(unix_now())
    }
}

pub(crate) fn unix_now() -> f64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs_f64())
        .unwrap_or(0.0)
}

/// Reads a JWT's claims without verifying it; `None` if it is not a JWT.
pub fn read_claims(token: &str) -> Option<Claims> {
    decode_claims(token)
}

/// The `generation` claim of a JWT, reading nothing else.
pub(crate) fn read_generation(token: &str) -> Option<i64> {
    #[derive(Deserialize)]
    struct Generation {
        #[serde(default)]
        generation: Option<i64>,
    }
    decode_claims::<Generation>(token)?.generation
}

/// When a Wayfinder-issued token was issued (its `iat` claim, Unix seconds),
/// read without verifying the signature.
pub(crate) fn read_issued_at(token: &str) -> Option<i64> {
    #[derive(Deserialize)]
    struct IssuedAt {
        #[serde(default)]
        iat: Option<i64>,
    }
    decode_claims::<IssuedAt>(token)?.iat
}

fn decode_claims<T: serde::de::DeserializeOwned>(token: &str) -> Option<T> {
    // Only the shape matters; refuse anything that is not three base64 parts
    // before handing it to the decoder.
    if token.split('.').count() != 3 {
        return None;
    }
    jsonwebtoken::dangerous::insecure_decode_claims::<T>(token).ok()
}

/// How a credential from the config or the caller is used.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Credential {
    /// Sent as is: a non-JWT static token, or a user or API token.
    Static(Secret),
    /// An access token (scope `wayfinder:auth:exchange`): exchanged for a
    /// short-lived API token, which is cached and renewed.
    Exchange(Secret),
    /// A user's refresh token: refreshed for an API token, which is written
    /// back to the config file when it came from one.
    Refresh(Secret),
}

impl Credential {
    /// Classifies a token given directly (argument or `WAYFINDER_TOKEN`).
    pub fn classify(token: Secret) -> Credential {
        match read_claims(token.expose()) {
            Some(c) if c.has_scope(SCOPE_EXCHANGE) => Credential::Exchange(token),
            Some(c) if c.has_scope(SCOPE_REFRESH) => Credential::Refresh(token),
            _ => Credential::Static(token),
        }
    }

    /// The token this credential holds.
    pub fn secret(&self) -> &Secret {
        match self {
            Credential::Static(t) | Credential::Exchange(t) | Credential::Refresh(t) => t,
        }
    }

    pub(crate) fn kind(&self) -> &'static str {
        match self {
            Credential::Static(_) => "static token",
            Credential::Exchange(_) => "access token",
            Credential::Refresh(_) => "refresh token",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An unsigned JWT with these claims (the client never checks signatures).
    pub(crate) fn jwt(claims: &serde_json::Value) -> String {
        use base64::Engine;
        let enc = |v: &[u8]| base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(v);
        format!(
            "{}.{}.{}",
            enc(br#"{"alg":"HS256","typ":"JWT"}"#),
            enc(claims.to_string().as_bytes()),
            enc(b"sig")
        )
    }

    #[test]
    fn reads_claims_and_fractional_expiry() {
        let token = jwt(&serde_json::json!({"sub": "x", "exp": 1000.5, "scopes": [SCOPE_EXCHANGE]}));
        let c = read_claims(&token).expect("claims");
        assert_eq!(c.exp, Some(1000.5));
        assert!(c.has_scope(SCOPE_EXCHANGE));
        assert!(!c.is_expired_at(969.0));
        assert!(c.is_expired_at(970.5), "30 s of skew");
        assert!(c.is_expired_at(2000.0));
    }

    #[test]
    fn no_exp_never_expires_and_non_jwts_are_static() {
        let c = read_claims(&jwt(&serde_json::json!({"scopes": []}))).expect("claims");
        assert!(!c.is_expired_at(f64::MAX / 2.0));
        for not_jwt in ["plain-static-token", "a.b", "a.b.c", "", "...."] {
            assert!(read_claims(not_jwt).is_none(), "{not_jwt}");
            assert!(matches!(
                Credential::classify(Secret::new(not_jwt)),
                Credential::Static(_)
            ));
        }
    }

    #[test]
    fn reads_the_generation_alone() {
        let read = |claims: serde_json::Value| read_generation(&jwt(&claims));
        assert_eq!(
            read(serde_json::json!({"generation": 3, "scopes": [SCOPE_EXCHANGE]})),
            Some(3)
        );
        assert_eq!(read(serde_json::json!({"sub": "x"})), None);
        assert_eq!(read(serde_json::json!({"generation": "3"})), None, "not a number");
        // Claims it does not read cannot spoil the one it does.
        assert_eq!(read(serde_json::json!({"generation": 2, "exp": "soon"})), Some(2));
        for not_jwt in ["plain-static-token", "a.b", "a.b.c", ""] {
            assert_eq!(read_generation(not_jwt), None, "{not_jwt}");
        }
    }

    #[test]
    fn classifies_by_scope() {
        let exchange = jwt(&serde_json::json!({"scopes": [SCOPE_EXCHANGE]}));
        let refresh = jwt(&serde_json::json!({"scopes": [SCOPE_REFRESH]}));
        let user = jwt(&serde_json::json!({"scopes": [SCOPE_USER]}));
        assert!(matches!(Credential::classify(exchange.into()), Credential::Exchange(_)));
        assert!(matches!(Credential::classify(refresh.into()), Credential::Refresh(_)));
        assert!(matches!(Credential::classify(user.into()), Credential::Static(_)));
    }
}
