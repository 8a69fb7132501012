//! Every request the client sends, built as data: method, path, query, body
//! and whether it is safe to repeat. Pure functions, no I/O: the token
//! operations, the fleet, discovery and the session all build here.

use reqwest::Method;
use serde_json::{Value, json};

use crate::config::ApiInfo;
use crate::model::{AccessToken, AccessTokenSpec, ObjectMeta, Scope};
use crate::secret::Secret;
use crate::transport::{ApiRequest, Replay};

/// The collection URL path of `scope`'s tokens.
pub fn collection(info: &ApiInfo, group_version: &str, scope: &Scope) -> String {
    let base = format!("{}/{group_version}", info.resource_api.trim_end_matches('/'));
    match scope {
        Scope::Workspace(ws) => format!("{base}/workspaces/{ws}/workspaceaccesstokens"),
        Scope::Platform => format!("{base}/platformaccesstokens"),
    }
}

/// The object a create sends, typed (a dry run's stand-in starts from it too).
pub fn token_object(
    group_version: &str,
    scope: &Scope,
    name: &str,
    description: Option<&str>,
    expiry: Option<&str>,
) -> AccessToken {
    AccessToken {
        api_version: group_version.to_owned(),
        kind: scope.kind().to_owned(),
        metadata: ObjectMeta {
            name: name.to_owned(),
            namespace: scope.workspace().map(|ws| format!("ws-{ws}")),
            ..ObjectMeta::default()
        },
        spec: AccessTokenSpec {
            description: description.map(str::to_owned),
            expiry: expiry.map(str::to_owned),
            ..AccessTokenSpec::default()
        },
        ..AccessToken::default()
    }
}

/// The object a create sends, as its JSON body.
pub fn object(
    group_version: &str,
    scope: &Scope,
    name: &str,
    description: Option<&str>,
    expiry: Option<&str>,
) -> Value {
    // The model serialises to a JSON object; nothing in it can fail.
    serde_json::to_value(token_object(group_version, scope, name, description, expiry)).unwrap_or_default()
}

/// Creates `object` (validating only, with `dry_run`).
pub fn create(collection: &str, object: Value, dry_run: bool) -> ApiRequest {
    let request = ApiRequest::new(Method::POST, collection).body(object);
    if dry_run {
        // Persists nothing, so repeating it is harmless.
        request.query("dryRun", "All").replay(Replay::Safe)
    } else {
        request
    }
}

/// Reads one object.
pub fn get(collection: &str, name: &str) -> ApiRequest {
    ApiRequest::new(Method::GET, format!("{collection}/{name}"))
}

/// Lists the collection.
pub fn list(collection: &str) -> ApiRequest {
    ApiRequest::new(Method::GET, collection)
}

/// Deletes one object.
pub fn delete(collection: &str, name: &str) -> ApiRequest {
    ApiRequest::new(Method::DELETE, format!("{collection}/{name}"))
}

/// Issues (or re-issues) the secret: safe to repeat, since a repeat only
/// invalidates a secret nobody saw.
pub fn issue(collection: &str, name: &str) -> ApiRequest {
    ApiRequest::new(Method::POST, format!("{collection}/{name}/token")).replay(Replay::Safe)
}

/// Grants a role in clusters.
pub fn assign_access_role(
    collection: &str,
    name: &str,
    role: &str,
    cluster: Option<&str>,
    namespace: Option<&str>,
) -> ApiRequest {
    let mut body = json!({"role": role});
    if let Some(c) = cluster {
        body["cluster"] = json!(c);
    }
    if let Some(n) = namespace {
        body["namespace"] = json!(n);
    }
    // Granting a role twice leaves the same role list.
    ApiRequest::new(Method::POST, format!("{collection}/{name}/accessroles"))
        .body(body)
        .replay(Replay::Safe)
}

/// Grants a Wayfinder role.
pub fn assign_wayfinder_role(collection: &str, name: &str, role: &str) -> ApiRequest {
    ApiRequest::new(Method::POST, format!("{collection}/{name}/wayfinderroles"))
        .body(json!({"role": role}))
        .replay(Replay::Safe)
}

/// Lists a token's roles.
pub fn roles(collection: &str, name: &str) -> ApiRequest {
    ApiRequest::new(Method::GET, format!("{collection}/{name}/roles"))
}

/// Who the caller is.
pub fn whoami(info: &ApiInfo) -> ApiRequest {
    ApiRequest::new(Method::GET, format!("{}/whoami", info.non_resource_api))
}

/// Where a 2.4+ server says its APIs live. Sent without credentials.
pub fn api_info() -> ApiRequest {
    ApiRequest::new(Method::GET, "/apiinfo").unauthenticated()
}

/// A pre-2.4 server's legacy API, probed without credentials: a 401 means
/// the server is there, a 404 that nothing is.
pub fn legacy_server_info(legacy_non_resource_api: &str) -> ApiRequest {
    ApiRequest::new(Method::GET, format!("{legacy_non_resource_api}/serverinfo")).unauthenticated()
}

/// A long-lived access token exchanged for a short-lived API token (sent
/// with the access token as the bearer).
pub fn exchange(info: &ApiInfo, ttl: &str) -> ApiRequest {
    ApiRequest::new(Method::POST, format!("{}/exchange", info.non_resource_api))
        .query("ttl", ttl)
        .replay(Replay::Safe)
}

/// A user's API token renewed with their refresh token (sent as the bearer too).
pub fn refresh(info: &ApiInfo, refresh_token: &Secret) -> ApiRequest {
    ApiRequest::new(Method::POST, format!("{}/login/token", info.non_resource_api))
        .body(json!({"refresh-token": refresh_token.expose()}))
        .replay(Replay::Safe)
}

/// The workspaces the caller can see.
pub fn workspaces(info: &ApiInfo, group_version: &str) -> ApiRequest {
    ApiRequest::new(
        Method::GET,
        format!("{}/{group_version}/workspaces", info.resource_api.trim_end_matches('/')),
    )
}

#[cfg(test)]
mod tests {
    use reqwest::Method;
    use serde_json::json;

    use super::*;
    use crate::model::Scope;
    use crate::transport::Replay;

    fn info() -> ApiInfo {
        ApiInfo {
            non_resource_api: "/api/v2".into(),
            resource_api: "/resources".into(),
            kube_proxy_api: None,
        }
    }

    #[test]
    fn paths_and_bodies() {
        let ws = Scope::Workspace("dev".into());
        let gv = "accesstokens.appvia.io/v2beta1";
        let col = collection(&info(), gv, &ws);
        assert_eq!(
            col,
            "/resources/accesstokens.appvia.io/v2beta1/workspaces/dev/workspaceaccesstokens"
        );
        assert_eq!(
            collection(&info(), "g/v", &Scope::Platform),
            "/resources/g/v/platformaccesstokens"
        );
        let obj = object(gv, &ws, "ci", Some("d"), Some("2027-01-01T00:00:00Z"));
        assert_eq!(
            obj,
            json!({"apiVersion": gv, "kind": "WorkspaceAccessToken",
                   "metadata": {"name": "ci", "namespace": "ws-dev"},
                   "spec": {"description": "d", "expiry": "2027-01-01T00:00:00Z"}})
        );
        let platform = object(gv, &Scope::Platform, "p", None, None);
        assert!(platform["metadata"].get("namespace").is_none());
        assert_eq!(platform["kind"], "PlatformAccessToken");

        let created = create(&col, obj.clone(), false);
        assert_eq!((created.method.clone(), created.replay), (Method::POST, Replay::Unsafe));
        assert!(created.query.is_empty());
        let dry = create(&col, obj, true);
        assert_eq!(dry.query, vec![("dryRun", "All".to_owned())]);
        let issue = issue(&col, "ci");
        assert_eq!(issue.path, format!("{col}/ci/token"));
        assert_eq!(issue.replay, Replay::Safe);
        let role = assign_access_role(&col, "ci", "r.x", Some("c1"), None);
        assert_eq!(role.body, Some(json!({"role": "r.x", "cluster": "c1"})));
        assert_eq!(delete(&col, "ci").method, Method::DELETE);
        assert_eq!(roles(&col, "ci").path, format!("{col}/ci/roles"));
        assert_eq!(whoami(&info()).path, "/api/v2/whoami");
    }

    #[test]
    fn discovery_and_session_requests() {
        let discovery = api_info();
        assert_eq!((discovery.path.as_str(), discovery.authenticated), ("/apiinfo", false));
        let legacy = legacy_server_info("/api/v1alpha1");
        assert_eq!(
            (legacy.path.as_str(), legacy.authenticated),
            ("/api/v1alpha1/serverinfo", false)
        );
        let exchanged = exchange(&info(), "30m0s");
        assert_eq!(exchanged.path, "/api/v2/exchange");
        assert_eq!(exchanged.query, vec![("ttl", "30m0s".to_owned())]);
        assert_eq!(
            (exchanged.method.clone(), exchanged.replay),
            (Method::POST, Replay::Safe)
        );
        let refreshed = refresh(&info(), &Secret::new("r-1"));
        assert_eq!(refreshed.path, "/api/v2/login/token");
        assert_eq!(refreshed.body, Some(json!({"refresh-token": "r-1"})));
        assert_eq!(
            workspaces(&info(), "core.appvia.io/v2beta1").path,
            "/resources/core.appvia.io/v2beta1/workspaces"
        );
    }
}
