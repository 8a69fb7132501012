//! GitHub Actions secrets and variables, as GitHub's REST API (version
//! 2022-11-28) serves them, under `/github` (point `GITHUB_API_URL` at
//! `URL/github`): repository, environment and organisation levels. Secrets
//! arrive sealed (libsodium sealed boxes) for the emulator's own key pair and
//! are stored sealed; a box that does not open is refused, as GitHub does.
//! The admin token is the GitHub credential. `/emulator/github` (admin only)
//! shows the key pair and what a stored secret opens to, for tests.

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use serde_json::{Value, json};

use super::admin::require_admin;
use super::github_store::{StoredSecret, StoredVariable, new_key};
use super::state::*;
use crate::auth::Caller;

/// A GitHub-shaped error answer.
pub(crate) struct GithubError(StatusCode, &'static str);

impl IntoResponse for GithubError {
    fn into_response(self) -> Response {
        let body = json!({
            "message": self.1,
            "documentation_url": "https://docs.github.com/rest/actions",
            "status": self.0.as_u16().to_string(),
        });
        (self.0, Json(body)).into_response()
    }
}

type Answer = Result<Response, GithubError>;

const NOT_FOUND: GithubError = GithubError(StatusCode::NOT_FOUND, "Not Found");

fn now() -> String {
    jiff::Timestamp::now()
        .round(jiff::Unit::Second)
        .unwrap_or_default()
        .to_string()
}

/// The admin token, as GitHub checks a bearer.
fn admit(s: &AppState, headers: &HeaderMap) -> Result<(), GithubError> {
    match s.authenticate(headers) {
        Ok(Caller::Admin) => Ok(()),
        Ok(_) => Err(GithubError(
            StatusCode::FORBIDDEN,
            "Resource not accessible by integration",
        )),
        Err(_) => Err(GithubError(StatusCode::UNAUTHORIZED, "Bad credentials")),
    }
}

/// The level a path addresses, as the key prefix of what it stores.
fn scope_of(params: &HashMap<String, String>) -> Result<(String, bool), GithubError> {
    let valid = |v: &str| !v.is_empty() && v.len() <= 255 && !v.contains('/') && v != "." && v != "..";
    if !params.values().all(|v| valid(v)) {
        return Err(NOT_FOUND);
    }
    let get = |k: &str| params.get(k).cloned().unwrap_or_default();
    Ok(match (params.get("org"), params.get("environment")) {
        (Some(org), _) => (format!("orgs/{org}/actions"), true),
        (None, Some(env)) => (
            format!("repos/{}/{}/environments/{env}", get("owner"), get("repo")),
            false,
        ),
        (None, None) => (format!("repos/{}/{}/actions", get("owner"), get("repo")), false),
    })
}

/// Secret and variable names as GitHub takes them: letters, digits, `_`; not starting with a digit or `GITHUB_`.
fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 255
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with(|c: char| c.is_ascii_digit())
        && !name.to_ascii_uppercase().starts_with("GITHUB_")
}

type Params = Path<HashMap<String, String>>;

pub(crate) async fn repository(State(s): Shared, headers: HeaderMap, Path(params): Params) -> Answer {
    admit(&s, &headers)?;
    let full = format!(
        "{}/{}",
        params.get("owner").cloned().unwrap_or_default(),
        params.get("repo").cloned().unwrap_or_default()
    );
    let mut inner = s.github.lock();
    let next = inner.repositories.len() as u64 + 1_000;
    let id = *inner.repositories.entry(full.clone()).or_insert(next);
    Ok(Json(json!({"id": id, "name": params.get("repo"), "full_name": full})).into_response())
}

pub(crate) async fn public_key(State(s): Shared, headers: HeaderMap, Path(params): Params) -> Answer {
    admit(&s, &headers)?;
    scope_of(&params)?;
    let inner = s.github.lock();
    let key = STANDARD.encode(inner.key.public_key().as_bytes());
    Ok(Json(json!({"key_id": inner.key_id, "key": key})).into_response())
}

#[derive(Deserialize)]
pub(crate) struct PutSecret {
    encrypted_value: String,
    key_id: String,
    #[serde(default)]
    visibility: Option<String>,
    #[serde(default)]
    selected_repository_ids: Option<Vec<u64>>,
}

impl PutSecret {
    /// The body, checked: an organisation secret says who reads it.
    fn read(body: &[u8], organisation: bool) -> Result<PutSecret, GithubError> {
        let Ok(put) = serde_json::from_slice::<PutSecret>(body) else {
            return Err(GithubError(
                StatusCode::UNPROCESSABLE_ENTITY,
                "Invalid request: encrypted_value and key_id are required",
            ));
        };
        let readers = (put.visibility.as_deref(), &put.selected_repository_ids);
        if organisation && !matches!(readers, (Some("all" | "private"), _) | (Some("selected"), Some(_))) {
            return Err(GithubError(
                StatusCode::UNPROCESSABLE_ENTITY,
                "visibility must be all, private or selected (with selected_repository_ids)",
            ));
        }
        Ok(put)
    }
}

pub(crate) async fn put_secret(State(s): Shared, headers: HeaderMap, Path(params): Params, body: Bytes) -> Answer {
    admit(&s, &headers)?;
    let (scope, organisation) = scope_of(&params)?;
    let name = params.get("name").cloned().unwrap_or_default();
    if !valid_name(&name) {
        return Err(GithubError(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Secret names can only contain alphanumeric characters or underscores, and must not start with a number or GITHUB_",
        ));
    }
    let put = PutSecret::read(&body, organisation)?;
    let mut inner = s.github.lock();
    if put.key_id != inner.key_id {
        return Err(GithubError(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Bad request - key_id does not match the current public key",
        ));
    }
    let opened = STANDARD
        .decode(&put.encrypted_value)
        .ok()
        .and_then(|sealed| inner.key.unseal(&sealed).ok());
    if opened.is_none() {
        return Err(GithubError(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Bad request - the encrypted value could not be decrypted with the key",
        ));
    }
    let key = format!("{scope}/{name}");
    let time = now();
    let created = inner.secrets.get(&key).map(|old| old.created_at.clone());
    let status = if created.is_some() {
        StatusCode::NO_CONTENT
    } else {
        StatusCode::CREATED
    };
    inner.secrets.insert(
        key,
        StoredSecret {
            encrypted_value: put.encrypted_value,
            key_id: put.key_id,
            created_at: created.unwrap_or_else(|| time.clone()),
            updated_at: time,
            visibility: put.visibility,
        },
    );
    match status {
        StatusCode::CREATED => Ok((status, Json(json!({}))).into_response()),
        _ => Ok(status.into_response()),
    }
}

pub(crate) async fn get_secret(State(s): Shared, headers: HeaderMap, Path(params): Params) -> Answer {
    admit(&s, &headers)?;
    let (scope, _) = scope_of(&params)?;
    let name = params.get("name").cloned().unwrap_or_default();
    let inner = s.github.lock();
    match inner.secrets.get(&format!("{scope}/{name}")) {
        Some(found) => {
            let mut body = json!({"name": name, "created_at": found.created_at, "updated_at": found.updated_at});
            if let Some(v) = &found.visibility {
                body["visibility"] = v.clone().into();
            }
            Ok(Json(body).into_response())
        }
        None => Err(NOT_FOUND),
    }
}

pub(crate) async fn delete_secret(State(s): Shared, headers: HeaderMap, Path(params): Params) -> Answer {
    admit(&s, &headers)?;
    let (scope, _) = scope_of(&params)?;
    let name = params.get("name").cloned().unwrap_or_default();
    match s.github.lock().secrets.remove(&format!("{scope}/{name}")) {
        Some(_) => Ok(StatusCode::NO_CONTENT.into_response()),
        None => Err(NOT_FOUND),
    }
}

#[derive(Deserialize)]
pub(crate) struct VariableBody {
    #[serde(default)]
    name: Option<String>,
    #[serde(default)]
    value: Option<String>,
    #[serde(default)]
    visibility: Option<String>,
}

pub(crate) async fn create_variable(State(s): Shared, headers: HeaderMap, Path(params): Params, body: Bytes) -> Answer {
    admit(&s, &headers)?;
    let (scope, _) = scope_of(&params)?;
    let Ok(VariableBody {
        name: Some(name),
        value: Some(value),
        visibility,
    }) = serde_json::from_slice(&body)
    else {
        return Err(GithubError(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Invalid request: name and value are required",
        ));
    };
    if !valid_name(&name) {
        return Err(GithubError(
            StatusCode::UNPROCESSABLE_ENTITY,
            "Variable names can only contain alphanumeric characters or underscores",
        ));
    }
    let mut inner = s.github.lock();
    let key = format!("{scope}/{name}");
    if inner.variables.contains_key(&key) {
        return Err(GithubError(
            StatusCode::CONFLICT,
            "Already exists - Variable already exists",
        ));
    }
    let time = now();
    inner.variables.insert(
        key,
        StoredVariable {
            value,
            created_at: time.clone(),
            updated_at: time,
            visibility,
        },
    );
    Ok((StatusCode::CREATED, Json(json!({}))).into_response())
}

pub(crate) async fn update_variable(State(s): Shared, headers: HeaderMap, Path(params): Params, body: Bytes) -> Answer {
    admit(&s, &headers)?;
    let (scope, _) = scope_of(&params)?;
    let name = params.get("name").cloned().unwrap_or_default();
    let Ok(update) = serde_json::from_slice::<VariableBody>(&body) else {
        return Err(GithubError(StatusCode::UNPROCESSABLE_ENTITY, "Invalid request"));
    };
    let mut inner = s.github.lock();
    let Some(found) = inner.variables.get_mut(&format!("{scope}/{name}")) else {
        return Err(NOT_FOUND);
    };
    if let Some(value) = update.value {
        found.value = value;
    }
    if update.visibility.is_some() {
        found.visibility = update.visibility;
    }
    found.updated_at = now();
    Ok(StatusCode::NO_CONTENT.into_response())
}

pub(crate) async fn get_variable(State(s): Shared, headers: HeaderMap, Path(params): Params) -> Answer {
    admit(&s, &headers)?;
    let (scope, _) = scope_of(&params)?;
    let name = params.get("name").cloned().unwrap_or_default();
    let inner = s.github.lock();
    match inner.variables.get(&format!("{scope}/{name}")) {
        Some(v) => Ok(Json(
            json!({"name": name, "value": v.value, "created_at": v.created_at, "updated_at": v.updated_at}),
        )
        .into_response()),
        None => Err(NOT_FOUND),
    }
}

/// Admin only: the key pair (for libsodium cross-checks) and every stored
/// secret with what it opens to, and the variables.
pub(crate) async fn inspect(State(s): Shared, headers: HeaderMap) -> ApiResult<Json<Value>> {
    require_admin(&s, &headers)?;
    let inner = s.github.lock();
    let secrets: serde_json::Map<String, Value> = inner
        .secrets
        .iter()
        .map(|(key, secret)| {
            let opened = STANDARD
                .decode(&secret.encrypted_value)
                .ok()
                .and_then(|sealed| inner.key.unseal(&sealed).ok())
                .map(|v| String::from_utf8_lossy(&v).into_owned());
            let body = json!({"encrypted_value": secret.encrypted_value, "key_id": secret.key_id, "value": opened, "updated_at": secret.updated_at, "visibility": secret.visibility});
            (key.clone(), body)
        })
        .collect();
    let variables: serde_json::Map<String, Value> = inner
        .variables
        .iter()
        .map(|(key, v)| {
            (
                key.clone(),
                json!({"value": v.value, "updated_at": v.updated_at, "visibility": v.visibility}),
            )
        })
        .collect();
    Ok(Json(json!({
        "key_id": inner.key_id,
        "public_key": STANDARD.encode(inner.key.public_key().as_bytes()),
        "secret_key": STANDARD.encode(inner.key.to_bytes()),
        "secrets": secrets,
        "variables": variables,
    })))
}

#[derive(Deserialize)]
pub(crate) struct Rotate {
    /// Only a new key id, with the same key: a client must still refuse it.
    #[serde(default)]
    same_key: bool,
}

/// Admin only: a new key pair (or a new id), as when GitHub rotates it.
pub(crate) async fn rotate_key(
    State(s): Shared,
    headers: HeaderMap,
    Query(rotate): Query<Rotate>,
) -> ApiResult<StatusCode> {
    require_admin(&s, &headers)?;
    let mut inner = s.github.lock();
    let (key, key_id) = new_key();
    if !rotate.same_key {
        inner.key = key;
    }
    inner.key_id = key_id;
    Ok(StatusCode::NO_CONTENT)
}
