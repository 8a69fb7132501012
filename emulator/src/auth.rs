//! Who is calling, and what they may do (docs/protocol.md sections 2, 3 and 6).
//! Tokens are HS256 JWTs signed with a key that lives in the store, so a
//! restart from a `--data` file keeps every issued token valid.

use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;
use std::time::Duration;

use jiff::Timestamp;
use jsonwebtoken::{Algorithm, DecodingKey, EncodingKey, Header, Validation};
use serde::{Deserialize, Serialize};

use crate::error::ApiError;
use crate::store::{Kind, Roles, Store, TokenRow};

pub const SCOPE_EXCHANGE: &str = "wayfinder:auth:exchange";
pub const SCOPE_ACCESS_TOKEN: &str = "wayfinder:system:accesstoken";
pub const SCOPE_REFRESH: &str = "wayfinder:auth:refresh";
pub const SCOPE_USER: &str = "wayfinder:system:user";

/// Lets a workspace token manage (create, reset, delete, list) access tokens of its own workspace.
pub const ROLE_WORKSPACE_MANAGER: &str = "workspace.accesstokenmanager";
/// Lets a platform token manage every access token, and assign roles.
pub const ROLE_PLATFORM_MANAGER: &str = "platform.accesstokenmanager";

const AUDIENCE: &str = "wayfinder";
const ISSUER: &str = "wayfinder-emulator";

/// A local user given at start: `NAME:PASSWORD@ws1,ws2`.
#[derive(Clone, PartialEq, Eq)]
pub struct LocalUser {
    pub username: String,
    pub password: String,
    pub workspaces: Vec<String>,
}

impl fmt::Debug for LocalUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LocalUser")
            .field("username", &self.username)
            .field("password", &"<redacted>")
            .field("workspaces", &self.workspaces)
            .finish()
    }
}

impl FromStr for LocalUser {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let usage = "expected NAME:PASSWORD@ws1,ws2";
        let (username, rest) = s.split_once(':').ok_or(usage)?;
        let (password, workspaces) = rest.rsplit_once('@').unwrap_or((rest, ""));
        if username.is_empty() || password.is_empty() {
            return Err(usage.to_owned());
        }
        let workspaces: Vec<String> = workspaces
            .split(',')
            .filter(|w| !w.is_empty())
            .map(str::to_owned)
            .collect();
        if let Some(bad) = workspaces
            .iter()
            .find(|w| crate::validate::label("workspace", w, crate::validate::WORKSPACE_MAX).is_some())
        {
            return Err(format!("invalid workspace key {bad:?}"));
        }
        Ok(LocalUser {
            username: username.to_owned(),
            password: password.to_owned(),
            workspaces,
        })
    }
}

/// The claims of every token this emulator mints.
#[derive(Debug, Serialize, Deserialize)]
pub struct Claims {
    pub sub: String,
    pub aud: String,
    pub iss: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    pub iat: i64,
    pub jti: String,
    pub scopes: Vec<String>,
    /// The access token this was issued for (access and API tokens only).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub workspace: Option<String>,
}

/// Signs and verifies tokens.
pub struct Signer {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
}

impl fmt::Debug for Signer {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("Signer { .. }")
    }
}

impl Signer {
    pub fn new(key: &[u8]) -> Signer {
        let mut validation = Validation::new(Algorithm::HS256);
        // Expiry is checked by hand: access tokens may have no `exp`.
        validation.required_spec_claims = HashSet::new();
        validation.validate_exp = false;
        validation.set_audience(&[AUDIENCE]);
        validation.set_issuer(&[ISSUER]);
        Signer {
            encoding: EncodingKey::from_secret(key),
            decoding: DecodingKey::from_secret(key),
            validation,
        }
    }

    pub fn mint(
        &self,
        sub: &str,
        scope: &str,
        ttl: Option<Duration>,
        token: Option<&TokenRow>,
    ) -> (String, Option<i64>) {
        let now = Timestamp::now().as_second();
        let exp = match (ttl, token) {
            (Some(ttl), _) => Some(now + ttl.as_secs() as i64),
            (None, Some(row)) => row.expiry.map(|t| t.as_second()),
            (None, None) => None,
        };
        let claims = Claims {
            sub: sub.to_owned(),
            aud: AUDIENCE.to_owned(),
            iss: ISSUER.to_owned(),
            exp,
            iat: now,
            jti: uuid::Uuid::new_v4().to_string(),
            scopes: vec![scope.to_owned()],
            uid: token.map(|r| r.uid.clone()),
            generation: token.map(|r| r.generation),
            workspace: token.filter(|r| r.kind == Kind::Workspace).map(|r| r.workspace.clone()),
        };
        let jwt = jsonwebtoken::encode(&Header::new(Algorithm::HS256), &claims, &self.encoding)
            // HS256 over a serialisable struct cannot fail.
            .unwrap_or_default();
        (jwt, exp)
    }

    /// Verifies signature, audience, issuer and expiry.
    pub fn verify(&self, jwt: &str) -> Result<Claims, ApiError> {
        let data = jsonwebtoken::decode::<Claims>(jwt, &self.decoding, &self.validation)
            .map_err(|e| ApiError::unauthorized(format!("invalid token: {e}")))?;
        let claims = data.claims;
        if claims.exp.is_some_and(|exp| exp <= Timestamp::now().as_second()) {
            return Err(ApiError::unauthorized("token has expired"));
        }
        Ok(claims)
    }
}

/// An authenticated caller.
#[derive(Debug, Clone)]
pub enum Caller {
    Admin,
    User { username: String, workspaces: Vec<String> },
    AccessToken { row: TokenRow, roles: Roles },
}

impl Caller {
    pub fn username(&self) -> String {
        match self {
            Caller::Admin => "admin".to_owned(),
            Caller::User { username, .. } => username.clone(),
            Caller::AccessToken { row, .. } => subject_of(row),
        }
    }
}

/// The subject an access token's JWTs carry, e.g. `workspaceaccesstoken:dev:ci-deploy`.
pub fn subject_of(row: &TokenRow) -> String {
    match row.kind {
        Kind::Workspace => format!("{}:{}:{}", row.kind.lower(), row.workspace, row.name),
        Kind::Platform => format!("{}:{}", row.kind.lower(), row.name),
    }
}

/// Checks that a JWT issued for an access token still matches the stored
/// object: not deleted, not reset since, not past `spec.expiry`.
pub fn live_token(store: &Store, claims: &Claims) -> Result<TokenRow, ApiError> {
    let uid = claims
        .uid
        .as_deref()
        .ok_or_else(|| ApiError::unauthorized("token is not an access token"))?;
    let row = store
        .get_by_uid(uid)?
        .ok_or_else(|| ApiError::unauthorized("access token has been deleted"))?;
    if claims.generation != Some(row.generation) {
        return Err(ApiError::unauthorized("access token has been reset"));
    }
    if row.expiry.is_some_and(|e| e <= Timestamp::now()) {
        return Err(ApiError::unauthorized("access token has expired"));
    }
    Ok(row)
}

/// Extracts the bearer token of a request.
pub fn bearer(headers: &axum::http::HeaderMap) -> Result<&str, ApiError> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)
        .ok_or_else(|| ApiError::unauthorized("missing Authorization header"))?
        .to_str()
        .map_err(|_| ApiError::unauthorized("malformed Authorization header"))?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .ok_or_else(|| ApiError::unauthorized("Authorization header must be 'Bearer <token>'"))?;
    Ok(token)
}

/// What a caller may do to access tokens.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Action {
    /// create, get, list, update, delete, reset.
    Manage,
    /// assign access or Wayfinder roles.
    AssignRoles,
}

/// Decides whether `caller` may perform `action` on tokens of `kind` in `workspace`.
pub fn authorize(caller: &Caller, action: Action, kind: Kind, workspace: &str) -> Result<(), ApiError> {
    let allowed = match caller {
        Caller::Admin => true,
        Caller::User { workspaces, .. } => kind == Kind::Workspace && workspaces.iter().any(|w| w == workspace),
        Caller::AccessToken { row, roles } => {
            let has = |role: &str| roles.wayfinder_roles.iter().any(|r| r == role);
            match row.kind {
                Kind::Platform => has(ROLE_PLATFORM_MANAGER),
                // A pipeline may rotate tokens of its own workspace, but never
                // grant roles: that would let a token widen its own rights.
                Kind::Workspace => {
                    action == Action::Manage
                        && kind == Kind::Workspace
                        && row.workspace == workspace
                        && has(ROLE_WORKSPACE_MANAGER)
                }
            }
        }
    };
    if allowed {
        Ok(())
    } else {
        let scope = match kind {
            Kind::Workspace => format!("in workspace {workspace:?}"),
            Kind::Platform => "at platform scope".to_owned(),
        };
        let verb = match action {
            Action::Manage => "manage access tokens",
            Action::AssignRoles => "assign roles to access tokens",
        };
        Err(ApiError::forbidden(format!(
            "{} may not {verb} {scope}",
            caller.username()
        )))
    }
}

/// Checks that `caller` may take over a token holding `target_roles` (reset
/// its secret, or delete it). An access token may only act on tokens whose
/// roles are a subset of its own: resetting a more privileged sibling would
/// hand it that sibling's secret and so its rights.
pub fn authorize_takeover(caller: &Caller, target: &TokenRow, target_roles: &Roles) -> Result<(), ApiError> {
    let Caller::AccessToken { roles, .. } = caller else {
        return Ok(());
    };
    let wider_wayfinder = target_roles
        .wayfinder_roles
        .iter()
        .any(|r| !roles.wayfinder_roles.contains(r));
    let wider_access = target_roles
        .access_roles
        .iter()
        .any(|r| !roles.access_roles.contains(r));
    if wider_wayfinder || wider_access {
        return Err(ApiError::forbidden(format!(
            "{} may not reset or delete {}: it holds roles the caller does not",
            caller.username(),
            subject_of(target)
        )));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_users() {
        let u: LocalUser = "alice:se:cret@dev,prod".parse().expect("valid");
        assert_eq!(u.username, "alice");
        assert_eq!(u.password, "se:cret");
        assert_eq!(u.workspaces, vec!["dev", "prod"]);
        assert!(!format!("{u:?}").contains("se:cret"));
        let nows: LocalUser = "bob:pw".parse().expect("valid");
        assert!(nows.workspaces.is_empty());
        assert!("nopassword".parse::<LocalUser>().is_err());
        assert!(":pw@dev".parse::<LocalUser>().is_err());
        assert!("a:b@Dev".parse::<LocalUser>().is_err());
    }

    #[test]
    fn verify_rejects_foreign_signatures_and_expiry() {
        let a = Signer::new(b"key-a");
        let b = Signer::new(b"key-b");
        let (jwt, _) = a.mint("alice", SCOPE_USER, Some(Duration::from_secs(60)), None);
        assert!(a.verify(&jwt).is_ok());
        assert!(b.verify(&jwt).is_err());
        let (expired, _) = a.mint("alice", SCOPE_USER, Some(Duration::ZERO), None);
        assert!(a.verify(&expired).is_err());
        assert!(a.verify("not-a-jwt").is_err());
    }
}
