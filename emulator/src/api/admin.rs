//! The emulator's own routes: faults and request counts, for the admin token.

use axum::Json;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};

use crate::auth::Caller;
use crate::error::ApiError;
use crate::faults::Fault;

use super::state::*;

pub(crate) fn require_admin(s: &AppState, headers: &HeaderMap) -> ApiResult<()> {
    match s.authenticate(headers)? {
        Caller::Admin => Ok(()),
        other => Err(ApiError::forbidden(format!(
            "{} may not use the emulator's control endpoints",
            other.username()
        ))),
    }
}

pub(crate) async fn add_fault(State(s): Shared, headers: HeaderMap, body: Bytes) -> ApiResult<StatusCode> {
    require_admin(&s, &headers)?;
    let fault: Fault = parse_json(&body)?;
    fault.validate().map_err(ApiError::validation)?;
    s.faults.add(fault);
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) async fn clear_faults(State(s): Shared, headers: HeaderMap) -> ApiResult<StatusCode> {
    require_admin(&s, &headers)?;
    s.faults.clear();
    Ok(StatusCode::NO_CONTENT)
}

pub(crate) async fn stats(State(s): Shared, headers: HeaderMap) -> ApiResult<Json<Value>> {
    require_admin(&s, &headers)?;
    Ok(Json(json!(s.stats.snapshot())))
}

pub(crate) async fn reset_stats(State(s): Shared, headers: HeaderMap) -> ApiResult<StatusCode> {
    require_admin(&s, &headers)?;
    s.stats.reset();
    Ok(StatusCode::NO_CONTENT)
}
