//! The types operations return. `AccessToken` is the API object
//! (`apiVersion`/`kind`, `metadata`, `spec`, `status`) with unknown fields
//! kept; `IssuedToken` is what a create or reset hands the user.

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::secret::Secret;

/// An access token object, as the API returns it. Never holds a secret.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessToken {
    /// `accesstokens.appvia.io/v2beta1` by default.
    #[serde(default)]
    pub api_version: String,
    /// `WorkspaceAccessToken` or `PlatformAccessToken`.
    #[serde(default)]
    pub kind: String,
    /// Name, namespace, times and version.
    #[serde(default)]
    pub metadata: ObjectMeta,
    /// Description and expiry.
    #[serde(default)]
    pub spec: AccessTokenSpec,
    /// Generation and when the secret was last issued.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<AccessTokenStatus>,
    /// Fields this library does not know, kept as they were.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// An object's metadata.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectMeta {
    /// The token's name.
    #[serde(default)]
    pub name: String,
    /// `ws-WORKSPACE` for workspace tokens; none for platform tokens.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    /// When it was created (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_timestamp: Option<String>,
    /// Changes on every write; a stale one makes an update fail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_version: Option<String>,
    /// The object's unique id.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    /// Fields this library does not know, kept as they were.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// What the token is.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AccessTokenSpec {
    /// Its description.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// RFC 3339; absent: the token does not expire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry: Option<String>,
    /// Fields this library does not know, kept as they were.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// What happened to the token.
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessTokenStatus {
    /// How many secrets it has been issued; each reset adds one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<i64>,
    /// When its current secret was issued (RFC 3339).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_issued: Option<String>,
    /// Fields this library does not know, kept as they were.
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The namespace prefix of a workspace (`dev` lives in `ws-dev`).
const WORKSPACE_NAMESPACE_PREFIX: &str = "ws-";

impl AccessToken {
    /// The token's name.
    pub fn name(&self) -> &str {
        &self.metadata.name
    }

    /// The workspace, read from the namespace; `None` for platform tokens.
    pub fn workspace(&self) -> Option<&str> {
        self.metadata
            .namespace
            .as_deref()
            .map(|ns| ns.strip_prefix(WORKSPACE_NAMESPACE_PREFIX).unwrap_or(ns))
    }

    /// Its description, if any.
    pub fn description(&self) -> Option<&str> {
        self.spec.description.as_deref()
    }

    /// When it expires (RFC 3339), if it does.
    pub fn expiry(&self) -> Option<&str> {
        self.spec.expiry.as_deref()
    }

    /// When it was created (RFC 3339).
    pub fn created(&self) -> Option<&str> {
        self.metadata.creation_timestamp.as_deref()
    }

    /// How many times a secret has been issued (each reset adds one).
    pub fn generation(&self) -> i64 {
        self.status.as_ref().and_then(|s| s.generation).unwrap_or(0)
    }

    /// When its current secret was issued (RFC 3339).
    pub fn last_issued(&self) -> Option<&str> {
        self.status.as_ref().and_then(|s| s.last_issued.as_deref())
    }
}

/// A token just created or reset, with its secret (none for a dry run).
#[derive(Clone, Debug, PartialEq)]
pub struct IssuedToken {
    /// The token's name.
    pub name: String,
    /// `None` for platform tokens.
    pub workspace: Option<String>,
    /// The server's URL.
    pub server: String,
    /// Its description, if any.
    pub description: Option<String>,
    /// The secret; shown only once. `None` for a dry run.
    pub token: Option<Secret>,
    /// Unix seconds when the secret expires, if it does.
    pub expires: Option<i64>,
    /// The object as the server returned it.
    pub resource: AccessToken,
}

impl IssuedToken {
    /// Whether this came from a dry run (no secret was issued).
    pub fn is_dry_run(&self) -> bool {
        self.token.is_none()
    }

    /// The secret, or the error that a dry run has none to render or save.
    pub fn secret(&self) -> crate::Result<&Secret> {
        self.token.as_ref().ok_or_else(|| {
            crate::Error::invalid(
                crate::Argument::Token,
                "required",
                "is missing: this is a dry run, so there is no secret to render or save",
            )
        })
    }
}

/// With [`ENV_TOKEN`], replaces the config file.
pub const ENV_SERVER: &str = "WAYFINDER_SERVER";
/// The environment variable holding the token (with `WAYFINDER_SERVER`).
pub const ENV_TOKEN: &str = "WAYFINDER_TOKEN";
/// The environment variable naming the default workspace.
pub const ENV_WORKSPACE: &str = "WAYFINDER_WORKSPACE";

/// A cluster access role granted to a token.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessRole {
    /// The role, e.g. `namespace.admin`.
    pub role: String,
    /// The cluster it applies in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    /// The namespace it applies in.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// Everything granted to a token.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Roles {
    /// Roles in the workspace's clusters.
    #[serde(default)]
    pub access_roles: Vec<AccessRole>,
    /// Roles in Wayfinder itself.
    #[serde(default)]
    pub wayfinder_roles: Vec<String>,
}

/// Who the client is authenticated as.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WhoAmI {
    /// How the caller authenticated.
    #[serde(default)]
    pub auth_method: String,
    /// Who the caller is.
    #[serde(default)]
    pub username: String,
    /// The workspaces the caller belongs to.
    #[serde(default, deserialize_with = "null_default")]
    pub workspaces: Vec<String>,
    /// What kind of subject the caller is (`User`, `WorkspaceAccessToken`, …).
    #[serde(default)]
    pub subject_kind: String,
}

/// Which collection a token lives in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Workspace access tokens of this workspace.
    Workspace(String),
    /// Platform access tokens.
    Platform,
}

impl Scope {
    /// The workspace of a workspace scope.
    pub fn workspace(&self) -> Option<&str> {
        match self {
            Scope::Workspace(w) => Some(w),
            Scope::Platform => None,
        }
    }

    /// The family of tokens it holds.
    pub fn family(&self) -> crate::TokenFamily {
        match self {
            Scope::Workspace(_) => crate::TokenFamily::Workspace,
            Scope::Platform => crate::TokenFamily::Platform,
        }
    }

    /// The `kind` of its objects.
    pub fn kind(&self) -> &'static str {
        match self {
            Scope::Workspace(_) => "WorkspaceAccessToken",
            Scope::Platform => "PlatformAccessToken",
        }
    }
}

/// A `null` in a file or an answer read as the type's default.
pub(crate) fn null_default<'de, D, T>(d: D) -> std::result::Result<T, D::Error>
where
    D: serde::Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(d)?.unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unknown_fields_survive_and_workspace_comes_from_namespace() {
        let json = serde_json::json!({
            "apiVersion": "accesstokens.appvia.io/v2beta1", "kind": "WorkspaceAccessToken",
            "metadata": {"name": "a", "namespace": "ws-dev", "labels": {"x": "y"}},
            "spec": {"description": "d", "future": 1},
            "status": {"generation": 2},
            "extraTop": true
        });
        let token: AccessToken = serde_json::from_value(json.clone()).expect("object");
        assert_eq!(token.workspace(), Some("dev"));
        assert_eq!(token.generation(), 2);
        assert_eq!(serde_json::to_value(&token).expect("json"), json);
    }
}
