//! The non-resource API: discovery, exchange, login, refresh, whoami.

use std::collections::HashMap;
use std::time::Duration;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::HeaderMap;
use jiff::{SignedDuration, Timestamp};
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::{self, Caller, LocalUser, SCOPE_ACCESS_TOKEN, SCOPE_EXCHANGE, SCOPE_REFRESH, SCOPE_USER};
use crate::error::ApiError;
use crate::store::Kind;
use crate::validate::FieldError;

use super::state::*;

pub(crate) async fn apiinfo() -> Json<Value> {
    Json(json!({"nonResourceAPI": NON_RESOURCE_API, "resourceAPI": RESOURCE_API, "kubeProxyAPI": "/kubeproxy"}))
}

/// Parses a Go-style duration (`30m0s`, `1h`, `90s`).
pub(crate) fn parse_ttl(raw: &str) -> Option<Duration> {
    let d: SignedDuration = raw.parse().ok()?;
    Duration::try_from(d).ok()
}

pub(crate) async fn exchange(
    State(s): Shared,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> ApiResult<Json<Value>> {
    let token = auth::bearer(&headers)?;
    let claims = s.signer.verify(token)?;
    if !claims.scopes.iter().any(|sc| sc == SCOPE_EXCHANGE) {
        return Err(ApiError::unauthorized("only access tokens can be exchanged"));
    }
    // As documented: exchanging a token that does not exist (deleted) is a 404.
    if let Some(uid) = claims.uid.as_deref()
        && s.store.get_by_uid(uid)?.is_none()
    {
        return Err(ApiError::not_found("the access token does not exist"));
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
pub(crate) struct LoginBody {
    username: String,
    password: String,
}

pub(crate) async fn login(State(s): Shared, body: Bytes) -> ApiResult<Json<Value>> {
    let body: LoginBody = parse_json(&body)?;
    let user = s
        .users
        .iter()
        .find(|u| u.username == body.username && u.password == body.password)
        .ok_or_else(|| ApiError::unauthorized("invalid username or password"))?;
    Ok(Json(user_tokens(&s, user)))
}

pub(crate) fn user_tokens(s: &AppState, user: &LocalUser) -> Value {
    let (token, expires) = s.signer.mint(&user.username, SCOPE_USER, Some(s.user_token_ttl), None);
    let (refresh, _) = s
        .signer
        .mint(&user.username, SCOPE_REFRESH, Some(REFRESH_TOKEN_TTL), None);
    issued(token, Some(refresh), expires)
}

pub(crate) async fn refresh(State(s): Shared, headers: HeaderMap, body: Bytes) -> ApiResult<Json<Value>> {
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

pub(crate) async fn whoami(State(s): Shared, headers: HeaderMap) -> ApiResult<Json<Value>> {
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
    let wayfinder_groups: Vec<&str> = match caller {
        Caller::Admin => vec!["admin"],
        _ => Vec::new(),
    };
    let workspace_groups: serde_json::Map<String, Value> =
        workspaces.iter().map(|w| (w.clone(), json!(["member"]))).collect();
    Ok(Json(json!({
        "authMethod": method,
        "username": caller.username(),
        "workspaces": workspaces,
        "subjectKind": kind,
        "wayfinderGroups": wayfinder_groups,
        "workspaceGroups": workspace_groups,
    })))
}

pub(crate) async fn serverinfo(State(s): Shared, headers: HeaderMap) -> ApiResult<Json<Value>> {
    s.authenticate(&headers)?;
    Ok(Json(json!({
        "version": {"release": concat!("v", env!("CARGO_PKG_VERSION"), "-emulator"), "sha": "emulator"},
        "featureFlags": {},
        "instanceIdentifier": s.instance_id,
        "namespace": "wayfinder",
    })))
}
