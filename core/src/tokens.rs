//! Access-token operations, for workspace and platform scope. Each one
//! validates its input, builds its requests with the pure functions of
//! [`crate::requests`], and sends them through the client.

use std::time::Duration;

use jiff::Timestamp;

use crate::client::Client;
use crate::error::{Argument, Error, ErrorKind, Hint, Result};
use crate::model::{AccessToken, IssuedToken, Roles, Scope, WhoAmI};
use crate::names;
use crate::requests;
use crate::secret::Secret;
use crate::transport::server_error;

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

    /// Creates the object (no secret yet): `None` when it exists and `reset_token` says to reset it.
    async fn create_object(&self, scope: &Scope, name: &str, options: &CreateOptions) -> Result<Option<AccessToken>> {
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
        let collection = self.collection(scope).await?;
        let object = requests::object(
            self.api_group_version(),
            scope,
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
        Ok(created)
    }

    async fn create(&self, scope: Scope, name: &str, options: &CreateOptions) -> Result<IssuedToken> {
        let created = self.create_object(&scope, name, options).await?;
        let collection = self.collection(&scope).await?;
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

    /// Creates the token `name` in `scope` without issuing it a secret: it
    /// exists (roles can be granted) and nothing can authenticate as it
    /// until a reset issues one (a reserve slot of `converge`).
    pub(crate) async fn create_without_secret(
        &self,
        scope: &Scope,
        name: &str,
        options: &CreateOptions,
    ) -> Result<AccessToken> {
        let options = CreateOptions {
            reset_token: false,
            dry_run: false,
            ..options.clone()
        };
        self.create_object(scope, name, &options)
            .await?
            .ok_or_else(|| Error::config(format!("{name} was not created")))
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
        let answer = self.answer(&requests::issue(collection, name)).await?;
        let issued = self.transport().issued_secret(&answer, "reset answer")?;
        Ok((issued.token, issued.expires))
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
            let status = resource.status.get_or_insert_with(Default::default);
            status.generation = Some(generation);
            // And when: the secret's own issue time, else now.
            let issued_at = token
                .as_ref()
                .and_then(|t| crate::auth::read_issued_at(t.expose()))
                .and_then(|s| Timestamp::from_second(s).ok())
                .unwrap_or_else(|| {
                    Timestamp::now()
                        .round(jiff::Unit::Second)
                        .unwrap_or_else(|_| Timestamp::now())
                });
            status.last_issued = Some(issued_at.to_string());
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
