//! What every handler shares: the state, the addressed collection, JSON bodies.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{FromRequestParts, Path, State};
use axum::http::HeaderMap;
use axum::http::request::Parts;
use jiff::Timestamp;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::auth::{self, Action, Caller, LocalUser, SCOPE_ACCESS_TOKEN, SCOPE_EXCHANGE, SCOPE_USER, Signer};
use crate::catalog::Catalog;
use crate::error::ApiError;
use crate::faults::{Faults, Stats};
use crate::store::{Kind, Store, TokenRow};
use crate::validate::{self};

/// The non-resource API base this emulator serves (Wayfinder 2.4 and later).
pub const NON_RESOURCE_API: &str = "/api/v2";
pub const RESOURCE_API: &str = "/resources";
pub(crate) const MAX_EXCHANGE_TTL: Duration = Duration::from_secs(3600);
pub(crate) const DEFAULT_EXCHANGE_TTL: Duration = Duration::from_secs(1800);
pub(crate) const REFRESH_TOKEN_TTL: Duration = Duration::from_secs(30 * 24 * 3600);
pub(crate) const MAX_BODY: usize = 1024 * 1024;

/// Everything the handlers share.
#[derive(Debug)]
pub struct AppState {
    pub store: Store,
    pub signer: Signer,
    pub admin_token: String,
    pub users: Vec<LocalUser>,
    /// `group/version` of the access-token kinds.
    pub api_version: String,
    pub instance_id: String,
    pub user_token_ttl: Duration,
    /// With one-use refresh tokens: the `jti`s of those already used.
    pub spent_refresh_tokens: Option<std::sync::Mutex<std::collections::HashSet<String>>>,
    pub faults: Faults,
    pub stats: Arc<Stats>,
    pub catalog: Catalog,
    /// GitHub Actions secrets and variables (`/github`).
    pub github: super::github_store::GithubState,
}

pub(crate) type Shared = State<Arc<AppState>>;
pub(crate) type ApiResult<T> = Result<T, ApiError>;

/// Which collection a resource path addresses: the kind, the workspace (empty
/// for platform tokens) and, below the collection, the object's name.
pub(crate) struct Target {
    pub(crate) kind: Kind,
    pub(crate) workspace: String,
    pub(crate) name: String,
}

impl Target {
    pub(crate) fn not_found(&self) -> ApiError {
        ApiError::not_found(format!("{} {:?} not found", self.kind.lower(), self.name))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Target {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let Path(mut params) = Path::<HashMap<String, String>>::from_request_parts(parts, state)
            .await
            .map_err(|e| ApiError::bad_request(e.body_text()))?;
        let name = params.remove("name").unwrap_or_default();
        match params.remove("workspace") {
            Some(workspace) => {
                if let Some(e) = validate::label("workspace", &workspace, validate::WORKSPACE_MAX) {
                    return Err(ApiError::validation(vec![e]));
                }
                Ok(Target {
                    kind: Kind::Workspace,
                    workspace,
                    name,
                })
            }
            None => Ok(Target {
                kind: Kind::Platform,
                workspace: String::new(),
                name,
            }),
        }
    }
}

pub(crate) fn parse_json<T: DeserializeOwned>(body: &Bytes) -> ApiResult<T> {
    // Category and position only: serde's own text quotes the offending
    // value, which may be a password or a token.
    serde_json::from_slice(body).map_err(|e| {
        let kind = match e.classify() {
            serde_json::error::Category::Io | serde_json::error::Category::Eof => "truncated",
            serde_json::error::Category::Syntax => "not valid JSON",
            serde_json::error::Category::Data => "not of the expected shape",
        };
        ApiError::bad_request(format!(
            "malformed JSON body: {kind} at line {}, column {}",
            e.line(),
            e.column()
        ))
    })
}

impl AppState {
    /// Authenticates the caller, then (so that workspaces are not revealed to
    /// strangers) checks that the target's workspace exists, then that the
    /// caller may act on it.
    pub(crate) fn admit(&self, headers: &HeaderMap, action: Action, target: &Target) -> ApiResult<Caller> {
        let caller = self.authenticate(headers)?;
        if target.kind == Kind::Workspace && !self.catalog.has_workspace(&target.workspace) {
            return Err(ApiError::not_found(format!(
                "workspace {:?} not found",
                target.workspace
            )));
        }
        auth::authorize(&caller, action, target.kind, &target.workspace)?;
        Ok(caller)
    }

    pub(crate) fn authenticate(&self, headers: &HeaderMap) -> ApiResult<Caller> {
        let token = auth::bearer(headers)?;
        if token == self.admin_token {
            return Ok(Caller::Admin);
        }
        let claims = self.signer.verify(token)?;
        let has = |scope: &str| claims.scopes.iter().any(|s| s == scope);
        if has(SCOPE_USER) {
            let user = self
                .users
                .iter()
                .find(|u| u.username == claims.sub)
                .ok_or_else(|| ApiError::unauthorized("unknown user"))?;
            return Ok(Caller::User {
                username: user.username.clone(),
                workspaces: user.workspaces.clone(),
            });
        }
        if has(SCOPE_ACCESS_TOKEN) {
            let row = auth::live_token(&self.store, &claims)?;
            let roles = self.store.roles(&row.uid)?;
            return Ok(Caller::AccessToken { row, roles });
        }
        if has(SCOPE_EXCHANGE) {
            return Err(ApiError::unauthorized(format!(
                "access tokens must be exchanged at {NON_RESOURCE_API}/exchange before use"
            )));
        }
        Err(ApiError::unauthorized("token scope is not accepted here"))
    }

    pub(crate) fn to_object(&self, row: &TokenRow) -> Value {
        let mut metadata = json!({
            "name": row.name,
            "creationTimestamp": row.created.to_string(),
            "resourceVersion": row.resource_version.to_string(),
            "uid": row.uid,
        });
        if row.kind == Kind::Workspace {
            metadata["namespace"] = json!(format!("ws-{}", row.workspace));
        }
        let mut spec = json!({});
        if let Some(d) = &row.description {
            spec["description"] = json!(d);
        }
        if let Some(e) = row.expiry {
            spec["expiry"] = json!(e.to_string());
        }
        let mut status = json!({"generation": row.generation});
        if let Some(t) = row.last_issued {
            status["lastIssued"] = json!(t.to_string());
        }
        json!({
            "apiVersion": self.api_version,
            "kind": row.kind.as_str(),
            "metadata": metadata,
            "spec": spec,
            "status": status,
        })
    }

    pub(crate) fn find(&self, target: &Target) -> ApiResult<TokenRow> {
        self.store
            .get(target.kind, &target.workspace, &target.name)?
            .ok_or_else(|| target.not_found())
    }
}

pub(crate) fn now() -> Timestamp {
    Timestamp::now()
        .round(jiff::Unit::Second)
        .unwrap_or_else(|_| Timestamp::now())
}

pub(crate) fn issued(token: String, refresh: Option<String>, expires: Option<i64>) -> Value {
    let mut v = json!({"token": token});
    if let Some(r) = refresh {
        v["refresh-token"] = json!(r);
    }
    if let Some(e) = expires {
        v["expires"] = json!(e);
    }
    v
}
