//! The resource API: access tokens, their secrets and roles, workspaces.

use std::collections::HashMap;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use jiff::Timestamp;
use serde::Deserialize;
use serde_json::{Value, json};

use crate::auth::{self, Action, Caller, SCOPE_EXCHANGE};
use crate::error::ApiError;
use crate::store::{Kind, TokenRow};
use crate::validate::{self, FieldError};

use super::state::*;

/// The parts of a posted object the server reads; anything else is ignored.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct ObjectIn {
    api_version: Option<String>,
    kind: Option<String>,
    #[serde(default)]
    metadata: MetadataIn,
    #[serde(default)]
    spec: SpecIn,
}

#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase")]
pub(crate) struct MetadataIn {
    name: Option<String>,
    namespace: Option<String>,
    resource_version: Option<String>,
}

#[derive(Deserialize, Default)]
pub(crate) struct SpecIn {
    description: Option<String>,
    expiry: Option<String>,
}

/// Validated fields of a posted object.
pub(crate) struct Checked {
    name: String,
    description: Option<String>,
    expiry: Option<Timestamp>,
    resource_version: Option<i64>,
}

pub(crate) fn check_object(s: &AppState, target: &Target, obj: ObjectIn) -> ApiResult<Checked> {
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
pub(crate) fn check_namespace(target: &Target, namespace: Option<&str>) -> Option<FieldError> {
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
pub(crate) fn check_expiry(raw: &str) -> Result<Timestamp, FieldError> {
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

pub(crate) async fn create(
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
    let exists = || ApiError::already_exists(target.kind.as_str(), &target.workspace, &target.name);
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

pub(crate) async fn read(State(s): Shared, target: Target, headers: HeaderMap) -> ApiResult<Json<Value>> {
    s.admit(&headers, Action::Manage, &target)?;
    Ok(Json(s.to_object(&s.find(&target)?)))
}

pub(crate) async fn list(State(s): Shared, target: Target, headers: HeaderMap) -> ApiResult<Json<Value>> {
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

pub(crate) async fn update(
    State(s): Shared,
    target: Target,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<Json<Value>> {
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
pub(crate) fn check_takeover(s: &AppState, caller: &auth::Caller, target: &Target) -> ApiResult<()> {
    let row = s
        .store
        .get(target.kind, &target.workspace, &target.name)?
        .ok_or_else(|| target.not_found())?;
    let roles = s.store.roles(&row.uid)?;
    auth::authorize_takeover(caller, &row, &roles)
}

pub(crate) async fn delete(State(s): Shared, target: Target, headers: HeaderMap) -> ApiResult<Json<Value>> {
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

pub(crate) async fn issue(State(s): Shared, target: Target, headers: HeaderMap) -> ApiResult<Json<Value>> {
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

pub(crate) async fn assign_access_role(
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

pub(crate) async fn assign_wayfinder_role(
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

pub(crate) async fn roles(State(s): Shared, target: Target, headers: HeaderMap) -> ApiResult<Json<Value>> {
    s.admit(&headers, Action::Manage, &target)?;
    let row = s.find(&target)?;
    Ok(Json(json!(s.store.roles(&row.uid)?)))
}

/// Where workspaces are listed: a list outside any workspace, in the vendor's URL shape.
pub const WORKSPACE_GROUP_VERSION: &str = "core.appvia.io/v2beta1";

/// The workspaces the caller can see: all for the admin and platform
/// tokens, a user's own, a workspace token's own.
pub(crate) async fn list_workspaces(State(s): Shared, headers: HeaderMap) -> ApiResult<Json<Value>> {
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
