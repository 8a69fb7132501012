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
    #[serde(default)]
    pub api_version: String,
    #[serde(default)]
    pub kind: String,
    #[serde(default)]
    pub metadata: ObjectMeta,
    #[serde(default)]
    pub spec: AccessTokenSpec,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<AccessTokenStatus>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ObjectMeta {
    #[serde(default)]
    pub name: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub creation_timestamp: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resource_version: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub uid: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
pub struct AccessTokenSpec {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// RFC 3339; absent: the token does not expire.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expiry: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AccessTokenStatus {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub generation: Option<i64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_issued: Option<String>,
    #[serde(flatten)]
    pub extra: Map<String, Value>,
}

/// The namespace prefix of a workspace (`dev` lives in `ws-dev`).
const WORKSPACE_NAMESPACE_PREFIX: &str = "ws-";

impl AccessToken {
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

    pub fn description(&self) -> Option<&str> {
        self.spec.description.as_deref()
    }

    pub fn expiry(&self) -> Option<&str> {
        self.spec.expiry.as_deref()
    }

    pub fn created(&self) -> Option<&str> {
        self.metadata.creation_timestamp.as_deref()
    }

    /// How many times a secret has been issued (each reset adds one).
    pub fn generation(&self) -> i64 {
        self.status.as_ref().and_then(|s| s.generation).unwrap_or(0)
    }

    pub fn last_issued(&self) -> Option<&str> {
        self.status.as_ref().and_then(|s| s.last_issued.as_deref())
    }
}

/// A token just created or reset, with its secret (none for a dry run).
#[derive(Clone, Debug, PartialEq)]
pub struct IssuedToken {
    pub name: String,
    /// `None` for platform tokens.
    pub workspace: Option<String>,
    pub server: String,
    pub description: Option<String>,
    /// The secret; shown only once. `None` for a dry run.
    pub token: Option<Secret>,
    /// Unix seconds when the secret expires, if it does.
    pub expires: Option<i64>,
    /// The object as the server returned it.
    pub resource: AccessToken,
}

impl IssuedToken {
    pub fn is_dry_run(&self) -> bool {
        self.token.is_none()
    }
}

/// A cluster access role granted to a token.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct AccessRole {
    pub role: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub cluster: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub namespace: Option<String>,
}

/// Everything granted to a token.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Roles {
    #[serde(default)]
    pub access_roles: Vec<AccessRole>,
    #[serde(default)]
    pub wayfinder_roles: Vec<String>,
}

/// Who the client is authenticated as.
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct WhoAmI {
    #[serde(default)]
    pub auth_method: String,
    #[serde(default)]
    pub username: String,
    #[serde(default, deserialize_with = "crate::config::null_default")]
    pub workspaces: Vec<String>,
    #[serde(default)]
    pub subject_kind: String,
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
