//! The HTTP routes of docs/protocol.md and their handlers. Handlers are thin:
//! authenticate, authorise, validate, call the store, shape the answer.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, FromRequestParts, Path, Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode};
use axum::routing::{get, post};
use axum::{Json, Router};
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use crate::auth::{
    self, Action, Caller, LocalUser, SCOPE_ACCESS_TOKEN, SCOPE_EXCHANGE, SCOPE_REFRESH, SCOPE_USER, Signer,
};
use crate::catalog::Catalog;
use crate::error::{ApiError, error_bodies};
use crate::faults::{Fault, Faults, Stats};
use crate::store::{Kind, Store, TokenRow};
use crate::validate::{self, FieldError};

/// The non-resource API base this emulator serves (Wayfinder 2.4 and later).
pub const NON_RESOURCE_API: &str = "/api/v2";
pub const RESOURCE_API: &str = "/resources";
const MAX_EXCHANGE_TTL: Duration = Duration::from_secs(3600);
const DEFAULT_EXCHANGE_TTL: Duration = Duration::from_secs(1800);
const REFRESH_TOKEN_TTL: Duration = Duration::from_secs(30 * 24 * 3600);
const MAX_BODY: usize = 1024 * 1024;

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
}

type Shared = State<Arc<AppState>>;
type ApiResult<T> = Result<T, ApiError>;

pub fn router(state: Arc<AppState>) -> Router {
    let base = format!("{RESOURCE_API}/{}", state.api_version);
    let mut router = Router::new()
        .route("/apiinfo", get(apiinfo))
        .route(&format!("{NON_RESOURCE_API}/exchange"), post(exchange))
        .route(&format!("{NON_RESOURCE_API}/login"), post(login))
        .route(&format!("{NON_RESOURCE_API}/login/token"), post(refresh))
        .route(&format!("{NON_RESOURCE_API}/whoami"), get(whoami))
        .route(&format!("{NON_RESOURCE_API}/serverinfo"), get(serverinfo))
        .route(
            &format!("{RESOURCE_API}/{WORKSPACE_GROUP_VERSION}/workspaces"),
            get(list_workspaces),
        )
        .route("/emulator/faults", post(add_fault).delete(clear_faults))
        .route("/emulator/stats", get(stats).delete(reset_stats));
    for collection in [
        format!("{base}/workspaces/{{workspace}}/workspaceaccesstokens"),
        format!("{base}/platformaccesstokens"),
    ] {
        router = router
            .route(&collection, get(list).post(create))
            .route(&format!("{collection}/{{name}}"), get(read).put(update).delete(delete))
            .route(&format!("{collection}/{{name}}/token"), post(issue))
            .route(&format!("{collection}/{{name}}/accessroles"), post(assign_access_role))
            .route(
                &format!("{collection}/{{name}}/wayfinderroles"),
                post(assign_wayfinder_role),
            )
            .route(&format!("{collection}/{{name}}/roles"), get(roles));
    }
    router
        .fallback(|| async { ApiError::not_found("the server could not find the requested resource") })
        .layer(DefaultBodyLimit::max(MAX_BODY))
        .layer(axum::middleware::from_fn(error_bodies))
        .with_state(state)
}

/// Which collection a resource path addresses: the kind, the workspace (empty
/// for platform tokens) and, below the collection, the object's name.
struct Target {
    kind: Kind,
    workspace: String,
    name: String,
}

impl Target {
    fn not_found(&self) -> ApiError {
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

fn parse_json<T: DeserializeOwned>(body: &Bytes) -> ApiResult<T> {
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
    fn admit(&self, headers: &HeaderMap, action: Action, target: &Target) -> ApiResult<Caller> {
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

    fn authenticate(&self, headers: &HeaderMap) -> ApiResult<Caller> {
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

    fn to_object(&self, row: &TokenRow) -> Value {
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

    fn find(&self, target: &Target) -> ApiResult<TokenRow> {
        self.store
            .get(target.kind, &target.workspace, &target.name)?
            .ok_or_else(|| target.not_found())
    }
}

fn now() -> Timestamp {
    Timestamp::now()
        .round(jiff::Unit::Second)
        .unwrap_or_else(|_| Timestamp::now())
}

async fn apiinfo() -> Json<Value> {
    Json(json!({"nonResourceAPI": NON_RESOURCE_API, "resourceAPI": RESOURCE_API, "kubeProxyAPI": "/kubeproxy"}))
}

fn issued(token: String, refresh: Option<String>, expires: Option<i64>) -> Value {
    let mut v = json!({"token": token});
    if let Some(r) = refresh {
        v["refresh-token"] = json!(r);
    }
    if let Some(e) = expires {
        v["expires"] = json!(e);
    }
    v
}

/// Parses a Go-style duration (`30m0s`, `1h`, `90s`).
fn parse_ttl(raw: &str) -> Option<Duration> {
    let d: SignedDuration = raw.parse().ok()?;
    Duration::try_from(d).ok()
}

async fn exchange(
    State(s): Shared,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let token = auth::bearer(&headers)?;
    let claims = s.signer.verify(token)?;
    if !claims.scopes.iter().any(|sc| sc == SCOPE_EXCHANGE) {
        return Err(ApiError::unauthorized("only access tokens can be exchanged"));
    }
    let row = auth::live_token(&s.store, &claims)?;
    let mut ttl = match q.get("ttl") {
        None => DEFAULT_EXCHANGE_TTL,
        Some(raw) => match parse_ttl(raw) {
            Some(d) if !d.is_zero() => d.min(MAX_EXCHANGE_TTL),
            _ => {
                return Err(ApiError::validation(vec![FieldError::new(
                    "ttl",
                    "invalidValue",
                    "ttl must be a positive duration such as 30m0s",
                )]));
            }
        },
    };
    if let Some(expiry) = row.expiry {
        let left = expiry.as_second() - Timestamp::now().as_second();
        ttl = ttl.min(Duration::from_secs(left.max(1) as u64));
    }
    let (jwt, exp) = s
        .signer
        .mint(&auth::subject_of(&row), SCOPE_ACCESS_TOKEN, Some(ttl), Some(&row));
    Ok(Json(issued(jwt, None, exp)))
}

#[derive(Deserialize)]
struct LoginBody {
    username: String,
    password: String,
}

async fn login(State(s): Shared, body: Bytes) -> ApiResult<Json<Value>> {
    let body: LoginBody = parse_json(&body)?;
    let user = s
        .users
        .iter()
        .find(|u| u.username == body.username && u.password == body.password)
        .ok_or_else(|| ApiError::unauthorized("invalid username or password"))?;
    Ok(Json(json!({"IssuedToken": user_tokens(&s, user)})))
}

fn user_tokens(s: &AppState, user: &LocalUser) -> Value {
    let (token, expires) = s.signer.mint(&user.username, SCOPE_USER, Some(s.user_token_ttl), None);
    let (refresh, _) = s
        .signer
        .mint(&user.username, SCOPE_REFRESH, Some(REFRESH_TOKEN_TTL), None);
    issued(token, Some(refresh), expires)
}

async fn refresh(State(s): Shared, headers: HeaderMap, body: Bytes) -> ApiResult<Json<Value>> {
    #[derive(Deserialize)]
    struct RefreshBody {
        #[serde(rename = "refresh-token")]
        refresh_token: Option<String>,
    }
    let from_body = if body.is_empty() {
        None
    } else {
        parse_json::<RefreshBody>(&body)?.refresh_token
    };
    let token = match from_body {
        Some(t) => t,
        None => auth::bearer(&headers)?.to_owned(),
    };
    let claims = s.signer.verify(&token)?;
    if !claims.scopes.iter().any(|sc| sc == SCOPE_REFRESH) {
        return Err(ApiError::unauthorized("not a refresh token"));
    }
    if let Some(spent) = &s.spent_refresh_tokens
        && !spent
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(claims.jti.clone())
    {
        return Err(ApiError::unauthorized("this refresh token was already used"));
    }
    let user = s
        .users
        .iter()
        .find(|u| u.username == claims.sub)
        .ok_or_else(|| ApiError::unauthorized("unknown user"))?;
    Ok(Json(user_tokens(&s, user)))
}

async fn whoami(State(s): Shared, headers: HeaderMap) -> ApiResult<Json<Value>> {
    let caller = s.authenticate(&headers)?;
    let (method, workspaces, kind) = match &caller {
        Caller::Admin => ("static", Vec::new(), "User"),
        Caller::User { workspaces, .. } => ("local", workspaces.clone(), "User"),
        Caller::AccessToken { row, .. } => {
            let ws = if row.kind == Kind::Workspace {
                vec![row.workspace.clone()]
            } else {
                Vec::new()
            };
            ("accesstoken", ws, row.kind.as_str())
        }
    };
    Ok(Json(json!({
        "authMethod": method,
        "username": caller.username(),
        "workspaces": workspaces,
        "subjectKind": kind,
    })))
}

async fn serverinfo(State(s): Shared, headers: HeaderMap) -> ApiResult<Json<Value>> {
    s.authenticate(&headers)?;
    Ok(Json(json!({
        "version": {"release": concat!("v", env!("CARGO_PKG_VERSION"), "-emulator"), "sha": "emulator"},
        "featureFlags": {},
        "instanceIdentifier": s.instance_id,
        "namespace": "wayfinder",
    })))
}

/// The parts of a posted object the server reads; anything else is ignored.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct ObjectIn {
    api_version: Option<String>,
    kind: Option<String>,
    #[serde(default)]
    metadata: MetadataIn,
    #[serde(default)]
    spec: SpecIn,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
struct MetadataIn {
    name: Option<String>,
    namespace: Option<String>,
    resource_version: Option<String>,
}

#[derive(Deserialize, Default)]
struct SpecIn {
    description: Option<String>,
    expiry: Option<String>,
}

/// Validated fields of a posted object.
struct Checked {
    name: String,
    description: Option<String>,
    expiry: Option<Timestamp>,
    resource_version: Option<i64>,
}

fn check_object(s: &AppState, target: &Target, obj: ObjectIn) -> ApiResult<Checked> {
    let mut errors = Vec::new();
    if let Some(v) = obj.api_version.as_deref().filter(|v| *v != s.api_version) {
        errors.push(FieldError::new(
            "apiVersion",
            "invalidValue",
            format!("apiVersion must be {:?}, not {v:?}", s.api_version),
        ));
    }
    if let Some(k) = obj.kind.as_deref().filter(|k| *k != target.kind.as_str()) {
        errors.push(FieldError::new(
            "kind",
            "invalidValue",
            format!("kind must be {:?}, not {k:?}", target.kind.as_str()),
        ));
    }
    let name = obj.metadata.name.unwrap_or_default();
    errors.extend(validate::label("metadata.name", &name, validate::NAME_MAX));
    errors.extend(check_namespace(target, obj.metadata.namespace.as_deref()));
    if let Some(d) = &obj.spec.description {
        errors.extend(validate::description("spec.description", d));
    }
    let expiry = obj
        .spec
        .expiry
        .as_deref()
        .filter(|e| !e.is_empty())
        .and_then(|raw| check_expiry(raw).map_err(|e| errors.push(e)).ok());
    let resource_version = obj
        .metadata
        .resource_version
        .as_deref()
        .filter(|v| !v.is_empty())
        .and_then(|raw| {
            raw.parse::<i64>()
                .map_err(|_| {
                    errors.push(FieldError::new(
                        "metadata.resourceVersion",
                        "invalidValue",
                        "metadata.resourceVersion must be a number",
                    ))
                })
                .ok()
        });
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    Ok(Checked {
        name,
        description: obj.spec.description.filter(|d| !d.is_empty()),
        expiry,
        resource_version,
    })
}

/// A workspace token's namespace is its workspace's; a platform token has none.
fn check_namespace(target: &Target, namespace: Option<&str>) -> Option<FieldError> {
    let expected = (target.kind == Kind::Workspace).then(|| format!("ws-{}", target.workspace));
    match (namespace.filter(|n| !n.is_empty()), &expected) {
        (Some(ns), Some(expected)) if ns != expected => Some(FieldError::new(
            "metadata.namespace",
            "invalidValue",
            format!(
                "metadata.namespace must be {expected:?} for workspace {:?}",
                target.workspace
            ),
        )),
        (Some(_), None) => Some(FieldError::new(
            "metadata.namespace",
            "invalidValue",
            "platform access tokens have no namespace",
        )),
        _ => None,
    }
}

/// An expiry: an RFC 3339 time in the future.
fn check_expiry(raw: &str) -> Result<Timestamp, FieldError> {
    match raw.parse::<Timestamp>() {
        Ok(t) if t > Timestamp::now() => Ok(t),
        Ok(_) => Err(FieldError::new(
            "spec.expiry",
            "invalidValue",
            "spec.expiry must be in the future",
        )),
        Err(_) => Err(FieldError::new(
            "spec.expiry",
            "invalidValue",
            "spec.expiry must be an RFC 3339 time, e.g. 2027-01-01T00:00:00Z",
        )),
    }
}

async fn create(
    State(s): Shared,
    target: Target,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    s.admit(&headers, Action::Manage, &target)?;
    let dry_run = match q.get("dryRun").map(String::as_str) {
        None => false,
        Some("All") => true,
        Some(other) => {
            return Err(ApiError::validation(vec![FieldError::new(
                "dryRun",
                "invalidValue",
                format!("dryRun must be \"All\", not {other:?}"),
            )]));
        }
    };
    let checked = check_object(&s, &target, parse_json(&body)?)?;
    let target = Target {
        name: checked.name,
        ..target
    };
    let mut row = TokenRow {
        uid: uuid::Uuid::new_v4().to_string(),
        kind: target.kind,
        workspace: target.workspace.clone(),
        name: target.name.clone(),
        description: checked.description,
        expiry: checked.expiry,
        generation: 0,
        created: now(),
        last_issued: None,
        resource_version: 0,
    };
    let exists = || {
        ApiError::new(
            StatusCode::CONFLICT,
            format!("{} {:?} already exists", target.kind.lower(), target.name),
        )
    };
    if dry_run {
        if s.store.get(target.kind, &target.workspace, &target.name)?.is_some() {
            return Err(exists());
        }
        // What would be created, as validated: nothing the server assigns on
        // creation (uid, times, versions, status) is invented for it.
        let mut object = s.to_object(&row);
        if let Some(meta) = object["metadata"].as_object_mut() {
            for assigned in ["uid", "creationTimestamp", "resourceVersion"] {
                meta.remove(assigned);
            }
        }
        if let Some(map) = object.as_object_mut() {
            map.remove("status");
        }
        return Ok((StatusCode::CREATED, Json(object)));
    } else {
        row = s.store.insert(&row).map_err(|e| match e {
            crate::store::StoreError::AlreadyExists => exists(),
            other => other.into(),
        })?;
    }
    Ok((StatusCode::CREATED, Json(s.to_object(&row))))
}

async fn read(State(s): Shared, target: Target, headers: HeaderMap) -> ApiResult<Json<Value>> {
    s.admit(&headers, Action::Manage, &target)?;
    Ok(Json(s.to_object(&s.find(&target)?)))
}

async fn list(State(s): Shared, target: Target, headers: HeaderMap) -> ApiResult<Json<Value>> {
    s.admit(&headers, Action::Manage, &target)?;
    let items: Vec<Value> = s
        .store
        .list(target.kind, &target.workspace)?
        .iter()
        .map(|r| s.to_object(r))
        .collect();
    Ok(Json(json!({
        "apiVersion": s.api_version,
        "kind": format!("{}List", target.kind.as_str()),
        "items": items,
    })))
}

async fn update(State(s): Shared, target: Target, headers: HeaderMap, body: Bytes) -> ApiResult<Json<Value>> {
    s.admit(&headers, Action::Manage, &target)?;
    let checked = check_object(&s, &target, parse_json(&body)?)?;
    if checked.name != target.name {
        return Err(ApiError::validation(vec![FieldError::new(
            "metadata.name",
            "invalidValue",
            format!("metadata.name {:?} does not match the name in the path", checked.name),
        )]));
    }
    let row = s
        .store
        .update(
            target.kind,
            &target.workspace,
            &target.name,
            checked.description.as_deref(),
            checked.expiry,
            checked.resource_version,
        )
        .map_err(|e| match e {
            crate::store::StoreError::NotFound => target.not_found(),
            other => other.into(),
        })?;
    Ok(Json(s.to_object(&row)))
}

/// Refuses a caller that may manage tokens here but not take over this one.
fn check_takeover(s: &AppState, caller: &auth::Caller, target: &Target) -> ApiResult<()> {
    let row = s
        .store
        .get(target.kind, &target.workspace, &target.name)?
        .ok_or_else(|| target.not_found())?;
    let roles = s.store.roles(&row.uid)?;
    auth::authorize_takeover(caller, &row, &roles)
}

async fn delete(State(s): Shared, target: Target, headers: HeaderMap) -> ApiResult<Json<Value>> {
    let caller = s.admit(&headers, Action::Manage, &target)?;
    check_takeover(&s, &caller, &target)?;
    let row = s
        .store
        .delete(target.kind, &target.workspace, &target.name)
        .map_err(|e| match e {
            crate::store::StoreError::NotFound => target.not_found(),
            other => other.into(),
        })?;
    Ok(Json(s.to_object(&row)))
}

async fn issue(State(s): Shared, target: Target, headers: HeaderMap) -> ApiResult<Json<Value>> {
    let caller = s.admit(&headers, Action::Manage, &target)?;
    check_takeover(&s, &caller, &target)?;
    let row = s
        .store
        .bump_generation(target.kind, &target.workspace, &target.name, now())
        .map_err(|e| match e {
            crate::store::StoreError::NotFound => target.not_found(),
            other => other.into(),
        })?;
    let (jwt, exp) = s.signer.mint(&auth::subject_of(&row), SCOPE_EXCHANGE, None, Some(&row));
    Ok(Json(issued(jwt, None, exp)))
}

async fn assign_access_role(
    State(s): Shared,
    target: Target,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    #[derive(Deserialize)]
    struct AccessRoleIn {
        #[serde(default)]
        role: String,
        #[serde(default)]
        cluster: Option<String>,
        #[serde(default)]
        namespace: Option<String>,
    }
    s.admit(&headers, Action::AssignRoles, &target)?;
    let input: AccessRoleIn = parse_json(&body)?;
    let cluster = input.cluster.unwrap_or_default();
    let namespace = input.namespace.unwrap_or_default();
    let mut errors: Vec<FieldError> = validate::role("role", &input.role).into_iter().collect();
    if !cluster.is_empty() {
        errors.extend(validate::label("cluster", &cluster, validate::NAME_MAX));
    }
    if !namespace.is_empty() {
        errors.extend(validate::label("namespace", &namespace, validate::NAME_MAX));
    }
    if errors.is_empty() {
        errors = s.catalog.check_access_role(&input.role, &cluster, &namespace);
    }
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let row = s.find(&target)?;
    let roles = s
        .store
        .add_role(&row.uid, "access", &input.role, &cluster, &namespace)?;
    Ok(Json(json!(roles)))
}

async fn assign_wayfinder_role(
    State(s): Shared,
    target: Target,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
    #[derive(Deserialize)]
    struct RoleIn {
        #[serde(default)]
        role: String,
    }
    s.admit(&headers, Action::AssignRoles, &target)?;
    let input: RoleIn = parse_json(&body)?;
    if let Some(e) = validate::role("role", &input.role) {
        return Err(ApiError::validation(vec![e]));
    }
    let errors = s.catalog.check_wayfinder_role(&input.role);
    if !errors.is_empty() {
        return Err(ApiError::validation(errors));
    }
    let row = s.find(&target)?;
    let roles = s.store.add_role(&row.uid, "wayfinder", &input.role, "", "")?;
    Ok(Json(json!(roles)))
}

async fn roles(State(s): Shared, target: Target, headers: HeaderMap) -> ApiResult<Json<Value>> {
    s.admit(&headers, Action::Manage, &target)?;
    let row = s.find(&target)?;
    Ok(Json(json!(s.store.roles(&row.uid)?)))
}

/// Where workspaces are listed: a list outside any workspace, in the vendor's URL shape.
pub const WORKSPACE_GROUP_VERSION: &str = "core.appvia.io/v2beta1";

/// The workspaces the caller can see: all for the admin and platform
/// tokens, a user's own, a workspace token's own.
async fn list_workspaces(State(s): Shared, headers: HeaderMap) -> ApiResult<Json<Value>> {
    let caller = s.authenticate(&headers)?;
    let visible: Vec<&str> = s
        .catalog
        .workspaces()
        .filter(|w| match &caller {
            Caller::Admin => true,
            Caller::User { workspaces, .. } => workspaces.iter().any(|own| own == w),
            Caller::AccessToken { row, .. } => row.kind == Kind::Platform || row.workspace == *w,
        })
        .collect();
    let items: Vec<Value> = visible
        .iter()
        .map(|w| json!({"apiVersion": WORKSPACE_GROUP_VERSION, "kind": "Workspace", "metadata": {"name": w}}))
        .collect();
    Ok(Json(
        json!({"apiVersion": WORKSPACE_GROUP_VERSION, "kind": "WorkspaceList", "items": items}),
    ))
}

fn require_admin(s: &AppState, headers: &HeaderMap) -> ApiResult<()> {
    match s.authenticate(headers)? {
        Caller::Admin => Ok(()),
        other => Err(ApiError::forbidden(format!(
            "{} may not use the emulator's control endpoints",
            other.username()
        ))),
    }
}

async fn add_fault(State(s): Shared, headers: HeaderMap, body: Bytes) -> ApiResult<StatusCode> {
    require_admin(&s, &headers)?;
    let fault: Fault = parse_json(&body)?;
    fault.validate().map_err(ApiError::validation)?;
    s.faults.add(fault);
    Ok(StatusCode::NO_CONTENT)
}

async fn clear_faults(State(s): Shared, headers: HeaderMap) -> ApiResult<StatusCode> {
    require_admin(&s, &headers)?;
    s.faults.clear();
    Ok(StatusCode::NO_CONTENT)
}

async fn stats(State(s): Shared, headers: HeaderMap) -> ApiResult<Json<Value>> {
    require_admin(&s, &headers)?;
    Ok(Json(json!(s.stats.snapshot())))
}

async fn reset_stats(State(s): Shared, headers: HeaderMap) -> ApiResult<StatusCode> {
    require_admin(&s, &headers)?;
    s.stats.reset();
    Ok(StatusCode::NO_CONTENT)
}
