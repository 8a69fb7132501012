//! Access-token operations, for workspace and platform scope. Each one
//! validates its input, builds its requests with the pure functions in
//! [`requests`], and sends them through [`Client::send`].

use std::time::Duration;

use jiff::Timestamp;

use crate::client::{Client, server_error};
use crate::error::{Argument, Error, ErrorKind, Hint, Result, TokenFamily};
use crate::model::{AccessToken, IssuedToken, Roles, WhoAmI};
use crate::names;
use crate::secret::Secret;

/// Which collection a token lives in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    /// Workspace access tokens of this workspace.
    Workspace(String),
    /// Platform access tokens.
    Platform,
}

impl Scope {
    fn workspace(&self) -> Option<&str> {
        match self {
            Scope::Workspace(w) => Some(w),
            Scope::Platform => None,
        }
    }

    fn family(&self) -> TokenFamily {
        match self {
            Scope::Workspace(_) => TokenFamily::Workspace,
            Scope::Platform => TokenFamily::Platform,
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Scope::Workspace(_) => "WorkspaceAccessToken",
            Scope::Platform => "PlatformAccessToken",
        }
    }
}

/// Optional arguments of a create.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CreateOptions {
    /// A description.
    pub description: Option<String>,
    /// The token stops working this long after creation.
    pub expires_in: Option<Duration>,
    /// If the name exists, issue it a new secret instead of failing.
    pub reset_token: bool,
    /// Validate and show the object; create nothing and issue no secret.
    pub dry_run: bool,
}

/// Builders of each call's method, path, query and body. Pure.
pub mod requests {
    use reqwest::Method;
    use serde_json::{Value, json};

    use super::Scope;
    use crate::client::{ApiRequest, Replay};
    use crate::config::ApiInfo;
    use crate::model::{AccessToken, AccessTokenSpec, ObjectMeta};

    /// The collection URL path of `scope`'s tokens.
    pub fn collection(info: &ApiInfo, group_version: &str, scope: &Scope) -> String {
        let base = format!("{}/{group_version}", info.resource_api.trim_end_matches('/'));
        match scope {
            Scope::Workspace(ws) => format!("{base}/workspaces/{ws}/workspaceaccesstokens"),
            Scope::Platform => format!("{base}/platformaccesstokens"),
        }
    }

    /// The object a create sends.
    pub fn object(
        group_version: &str,
        scope: &Scope,
        name: &str,
        description: Option<&str>,
        expiry: Option<&str>,
    ) -> Value {
        let object = AccessToken {
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
        };
        // The model serialises to a JSON object; nothing in it can fail.
        serde_json::to_value(object).unwrap_or_default()
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
}

/// `resource` if it is the token `asked` for. An answer naming another
/// token is refused: acting on it (a reset, a report) would let the server
/// choose which token's secret is replaced.
fn named(resource: AccessToken, asked: &str) -> Result<AccessToken> {
    if resource.name() == asked {
        return Ok(resource);
    }
    Err(server_error(
        Some(200),
        format!(
            "asked for access token {asked:?}, the server answered with {}",
            crate::render::printable(&format!("{:?}", resource.name()))
        ),
    ))
}

impl Client {
    /// The scope for a workspace operation: the given workspace or the client's default.
    fn workspace_scope(&self, workspace: Option<&str>) -> Result<Scope> {
        let workspace = workspace.or(self.workspace()).ok_or_else(|| {
            Error::invalid(
                Argument::Workspace,
                "required",
                "is required: pass it, or set one in the profile or WAYFINDER_WORKSPACE",
            )
        })?;
        names::collect([names::check_workspace(Argument::Workspace, workspace)])?;
        Ok(Scope::Workspace(workspace.to_owned()))
    }

    async fn collection(&self, scope: &Scope) -> Result<String> {
        let info = self.known_api().await?;
        Ok(requests::collection(info, self.api_group_version(), scope))
    }

    async fn create(&self, scope: Scope, name: &str, options: &CreateOptions) -> Result<IssuedToken> {
        names::collect([
            names::check_name(Argument::Name, name),
            options
                .description
                .as_deref()
                .and_then(|d| names::check_description(Argument::Description, d)),
            options
                .expires_in
                .and_then(|e| names::check_expires_in(Argument::ExpiresIn, e)),
        ])?;
        let expiry = options.expires_in.map(|d| {
            let at = Timestamp::now() + d;
            at.round(jiff::Unit::Second).unwrap_or(at).to_string()
        });
        let collection = self.collection(&scope).await?;
        let object = requests::object(
            self.api_group_version(),
            &scope,
            name,
            options.description.as_deref(),
            expiry.as_deref(),
        );
        let created = match self
            .fetch::<AccessToken>(
                &requests::create(&collection, object, options.dry_run),
                "created object",
            )
            .await
        {
            Ok(resource) => Some(named(resource, name)?),
            Err(e) if e.kind() == ErrorKind::AlreadyExists && options.reset_token => None,
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                return Err(e.with_hint(Hint::UseReset {
                    family: scope.family(),
                    name: name.to_owned(),
                }));
            }
            Err(e) => return Err(e),
        };
        let resource = match created {
            Some(resource) => resource,
            None => {
                log::info!("access token {name:?} exists; resetting its secret");
                named(self.fetch(&requests::get(&collection, name), "object").await?, name)?
            }
        };
        if options.dry_run {
            return Ok(self.issued(&scope, name, resource, None, None));
        }
        let (secret, expires) = self.issue(&collection, name).await.map_err(|e| {
            e.with_hint(Hint::SecretNotIssued {
                family: scope.family(),
                name: name.to_owned(),
            })
        })?;
        Ok(self.issued(&scope, name, resource, Some(secret), expires))
    }

    /// The object of `name` in `scope`.
    pub(crate) async fn get_scoped(&self, scope: &Scope, name: &str) -> Result<AccessToken> {
        self.get(scope.clone(), name).await
    }

    /// Issues a new secret for the token `name` (its object `resource` read just before) in `scope`.
    pub(crate) async fn issue_scoped(&self, scope: &Scope, name: &str, resource: AccessToken) -> Result<IssuedToken> {
        let collection = self.collection(scope).await?;
        let (secret, expires) = self.issue(&collection, name).await?;
        Ok(self.issued(scope, name, resource, Some(secret), expires))
    }

    async fn reset(&self, scope: Scope, name: &str) -> Result<IssuedToken> {
        names::collect([names::check_name(Argument::Name, name)])?;
        let collection = self.collection(&scope).await?;
        let resource = named(self.fetch(&requests::get(&collection, name), "object").await?, name)?;
        let (secret, expires) = self.issue(&collection, name).await.map_err(|e| {
            e.with_hint(Hint::SecretMayBeReset {
                family: scope.family(),
                name: name.to_owned(),
            })
        })?;
        Ok(self.issued(&scope, name, resource, Some(secret), expires))
    }

    async fn issue(&self, collection: &str, name: &str) -> Result<(Secret, Option<i64>)> {
        #[derive(serde::Deserialize)]
        struct Issued {
            token: Option<Secret>,
            expires: Option<f64>,
        }
        let issued: Issued = self.fetch(&requests::issue(collection, name), "issued token").await?;
        let token = issued
            .token
            .filter(|t| !t.expose().is_empty())
            .ok_or_else(|| server_error(Some(200), "the server issued no token".to_owned()))?;
        self.remember_secret(&token);
        Ok((token, issued.expires.map(|e| e as i64)))
    }

    /// The issued token as the caller named it: the name asked for, never
    /// one the server put in its answer.
    fn issued(
        &self,
        scope: &Scope,
        name: &str,
        mut resource: AccessToken,
        token: Option<Secret>,
        expires: Option<i64>,
    ) -> IssuedToken {
        // The object was read before its secret was issued; the secret's
        // claims say which generation it now is.
        if let Some(generation) = token.as_ref().and_then(|t| crate::auth::read_generation(t.expose())) {
            resource.status.get_or_insert_with(Default::default).generation = Some(generation);
        }
        IssuedToken {
            name: name.to_owned(),
            workspace: scope.workspace().map(str::to_owned),
            server: self.server(),
            description: resource.description().map(str::to_owned),
            token,
            expires,
            resource,
        }
    }

    async fn get(&self, scope: Scope, name: &str) -> Result<AccessToken> {
        names::collect([names::check_name(Argument::Name, name)])?;
        let collection = self.collection(&scope).await?;
        named(self.fetch(&requests::get(&collection, name), "object").await?, name)
    }

    async fn list(&self, scope: Scope) -> Result<Vec<AccessToken>> {
        #[derive(serde::Deserialize)]
        struct List {
            #[serde(default)]
            items: Vec<AccessToken>,
        }
        let collection = self.collection(&scope).await?;
        let list: List = self.fetch(&requests::list(&collection), "list").await?;
        Ok(list.items)
    }

    async fn delete(&self, scope: Scope, name: &str) -> Result<AccessToken> {
        names::collect([names::check_name(Argument::Name, name)])?;
        let collection = self.collection(&scope).await?;
        named(
            self.fetch(&requests::delete(&collection, name), "deleted object")
                .await?,
            name,
        )
    }

    async fn assign_access_role_in(
        &self,
        scope: Scope,
        token: &str,
        role: &str,
        cluster: Option<&str>,
        namespace: Option<&str>,
    ) -> Result<Roles> {
        names::collect([
            names::check_name(Argument::Token, token),
            names::check_role(Argument::Role, role),
            cluster.and_then(|c| names::check_name(Argument::Cluster, c)),
            namespace.and_then(|n| names::check_name(Argument::Namespace, n)),
        ])?;
        let collection = self.collection(&scope).await?;
        let request = requests::assign_access_role(&collection, token, role, cluster, namespace);
        self.fetch(&request, "role list").await
    }

    async fn assign_wayfinder_role_in(&self, scope: Scope, token: &str, role: &str) -> Result<Roles> {
        names::collect([
            names::check_name(Argument::Token, token),
            names::check_role(Argument::Role, role),
        ])?;
        let collection = self.collection(&scope).await?;
        self.fetch(&requests::assign_wayfinder_role(&collection, token, role), "role list")
            .await
    }

    async fn roles_in(&self, scope: Scope, token: &str) -> Result<Roles> {
        names::collect([names::check_name(Argument::Token, token)])?;
        let collection = self.collection(&scope).await?;
        self.fetch(&requests::roles(&collection, token), "role list").await
    }

    /// Creates a workspace access token and issues its secret. With
    /// `reset_token`, an existing token of that name gets a new secret
    /// instead (its roles are kept). With `dry_run`, nothing is created.
    pub async fn create_workspace_access_token(
        &self,
        name: &str,
        workspace: Option<&str>,
        options: &CreateOptions,
    ) -> Result<IssuedToken> {
        let scope = self.workspace_scope(workspace)?;
        self.create(scope, name, options).await
    }

    /// Issues a new secret for an existing workspace access token; every
    /// earlier secret stops working. Roles are kept.
    pub async fn reset_workspace_access_token(&self, name: &str, workspace: Option<&str>) -> Result<IssuedToken> {
        let scope = self.workspace_scope(workspace)?;
        self.reset(scope, name).await
    }

    /// Reads a workspace access token (never its secret).
    pub async fn get_workspace_access_token(&self, name: &str, workspace: Option<&str>) -> Result<AccessToken> {
        let scope = self.workspace_scope(workspace)?;
        self.get(scope, name).await
    }

    /// Lists a workspace's access tokens.
    pub async fn list_workspace_access_tokens(&self, workspace: Option<&str>) -> Result<Vec<AccessToken>> {
        let scope = self.workspace_scope(workspace)?;
        self.list(scope).await
    }

    /// Deletes a workspace access token; its secrets stop working at once.
    pub async fn delete_workspace_access_token(&self, name: &str, workspace: Option<&str>) -> Result<AccessToken> {
        let scope = self.workspace_scope(workspace)?;
        self.delete(scope, name).await
    }

    /// Grants a workspace access token a role in workspace clusters.
    pub async fn assign_access_role(
        &self,
        token: &str,
        role: &str,
        cluster: Option<&str>,
        namespace: Option<&str>,
        workspace: Option<&str>,
    ) -> Result<Roles> {
        let scope = self.workspace_scope(workspace)?;
        self.assign_access_role_in(scope, token, role, cluster, namespace).await
    }

    /// Grants a workspace access token a role in Wayfinder itself.
    pub async fn assign_wayfinder_role(&self, token: &str, role: &str, workspace: Option<&str>) -> Result<Roles> {
        let scope = self.workspace_scope(workspace)?;
        self.assign_wayfinder_role_in(scope, token, role).await
    }

    /// The roles granted to a workspace access token.
    pub async fn get_workspace_access_token_roles(&self, token: &str, workspace: Option<&str>) -> Result<Roles> {
        let scope = self.workspace_scope(workspace)?;
        self.roles_in(scope, token).await
    }

    /// Creates a platform access token and issues its secret (see
    /// [`Client::create_workspace_access_token`]).
    pub async fn create_platform_access_token(&self, name: &str, options: &CreateOptions) -> Result<IssuedToken> {
        self.create(Scope::Platform, name, options).await
    }

    /// Issues a new secret for a platform access token; every earlier one stops working.
    pub async fn reset_platform_access_token(&self, name: &str) -> Result<IssuedToken> {
        self.reset(Scope::Platform, name).await
    }

    /// Reads a platform access token.
    pub async fn get_platform_access_token(&self, name: &str) -> Result<AccessToken> {
        self.get(Scope::Platform, name).await
    }

    /// Lists the platform access tokens.
    pub async fn list_platform_access_tokens(&self) -> Result<Vec<AccessToken>> {
        self.list(Scope::Platform).await
    }

    /// Deletes a platform access token; its secrets stop working at once.
    pub async fn delete_platform_access_token(&self, name: &str) -> Result<AccessToken> {
        self.delete(Scope::Platform, name).await
    }

    /// Grants a platform access token a role in clusters.
    pub async fn assign_platform_access_role(
        &self,
        token: &str,
        role: &str,
        cluster: Option<&str>,
        namespace: Option<&str>,
    ) -> Result<Roles> {
        self.assign_access_role_in(Scope::Platform, token, role, cluster, namespace)
            .await
    }

    /// Grants a platform access token a Wayfinder role.
    pub async fn assign_platform_wayfinder_role(&self, token: &str, role: &str) -> Result<Roles> {
        self.assign_wayfinder_role_in(Scope::Platform, token, role).await
    }

    /// Lists a platform access token's roles.
    pub async fn get_platform_access_token_roles(&self, token: &str) -> Result<Roles> {
        self.roles_in(Scope::Platform, token).await
    }

    /// Who this client is authenticated as.
    pub async fn whoami(&self) -> Result<WhoAmI> {
        let info = self.known_api().await?;
        self.fetch(&requests::whoami(info), "whoami answer").await
    }
}

#[cfg(test)]
mod tests {
    use reqwest::Method;
    use serde_json::json;

    use super::requests;
    use super::*;
    use crate::client::Replay;
    use crate::config::ApiInfo;

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
        let col = requests::collection(&info(), gv, &ws);
        assert_eq!(
            col,
            "/resources/accesstokens.appvia.io/v2beta1/workspaces/dev/workspaceaccesstokens"
        );
        assert_eq!(
            requests::collection(&info(), "g/v", &Scope::Platform),
            "/resources/g/v/platformaccesstokens"
        );
        let obj = requests::object(gv, &ws, "ci", Some("d"), Some("2027-01-01T00:00:00Z"));
        assert_eq!(
            obj,
            json!({"apiVersion": gv, "kind": "WorkspaceAccessToken",
                   "metadata": {"name": "ci", "namespace": "ws-dev"},
                   "spec": {"description": "d", "expiry": "2027-01-01T00:00:00Z"}})
        );
        let platform = requests::object(gv, &Scope::Platform, "p", None, None);
        assert!(platform["metadata"].get("namespace").is_none());
        assert_eq!(platform["kind"], "PlatformAccessToken");

        let create = requests::create(&col, obj.clone(), false);
        assert_eq!((create.method.clone(), create.replay), (Method::POST, Replay::Unsafe));
        assert!(create.query.is_empty());
        let dry = requests::create(&col, obj, true);
        assert_eq!(dry.query, vec![("dryRun", "All".to_owned())]);
        let issue = requests::issue(&col, "ci");
        assert_eq!(issue.path, format!("{col}/ci/token"));
        assert_eq!(issue.replay, Replay::Safe);
        let role = requests::assign_access_role(&col, "ci", "r.x", Some("c1"), None);
        assert_eq!(role.body, Some(json!({"role": "r.x", "cluster": "c1"})));
        assert_eq!(requests::delete(&col, "ci").method, Method::DELETE);
        assert_eq!(requests::roles(&col, "ci").path, format!("{col}/ci/roles"));
        assert_eq!(requests::whoami(&info()).path, "/api/v2/whoami");
    }
}
