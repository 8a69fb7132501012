//! Error answers in the shape of docs/protocol.md section 5. Handlers return an
//! [`ApiError`]; the `uri` and `verb` fields are filled in by the
//! [`error_bodies`] middleware, which also turns any non-JSON error answer
//! (an unknown route, a wrong method, a body too large) into the same shape.

use axum::body::Body;
use axum::extract::Request;
use axum::http::{HeaderValue, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use serde::Serialize;

use crate::store::StoreError;
use crate::validate::FieldError;

/// The header that marks a 409 as a stale write rather than a name taken.
pub const OBJECT_MODIFIED: &str = "x-wayfinder-objectmodified";

/// A failed request, as handlers report it.
#[derive(Debug, Clone)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
    pub detail: String,
    pub field_errors: Vec<FieldError>,
    /// A 409 for a stale `metadata.resourceVersion`: answered with the
    /// `x-wayfinder-objectmodified: true` header the vendor's client looks for.
    pub object_modified: bool,
    /// A 409 for a name taken: the object in the way, as the `dependents` the
    /// vendor's client reads a 409 body into (so its "already exists" check
    /// sees the message), with the Kubernetes reason `AlreadyExists`.
    pub in_the_way: Option<serde_json::Value>,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> ApiError {
        ApiError {
            status,
            message: message.into(),
            detail: String::new(),
            field_errors: Vec::new(),
            object_modified: false,
            in_the_way: None,
        }
    }

    /// 409: `kind` `name` exists already (in `workspace`, empty for a platform token).
    pub fn already_exists(kind: &str, workspace: &str, name: &str) -> ApiError {
        let lower = kind.to_lowercase();
        ApiError {
            in_the_way: Some(serde_json::json!({"kind": kind, "name": name, "workspace": workspace, "system": false})),
            ..ApiError::new(StatusCode::CONFLICT, format!("{lower} {name:?} already exists"))
        }
    }

    pub fn unauthorized(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::UNAUTHORIZED, message)
    }

    pub fn forbidden(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::FORBIDDEN, message)
    }

    pub fn not_found(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::NOT_FOUND, message)
    }

    pub fn bad_request(message: impl Into<String>) -> ApiError {
        ApiError::new(StatusCode::BAD_REQUEST, message)
    }

    /// A 400 listing every field that failed; the message joins them.
    pub fn validation(field_errors: Vec<FieldError>) -> ApiError {
        let message = field_errors
            .iter()
            .map(|e| e.message.as_str())
            .collect::<Vec<_>>()
            .join("; ");
        ApiError {
            field_errors,
            ..ApiError::bad_request(message)
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::AlreadyExists => ApiError::new(StatusCode::CONFLICT, "already exists"),
            StoreError::NotFound => ApiError::not_found("not found"),
            StoreError::Conflict => ApiError {
                object_modified: true,
                ..ApiError::new(
                    StatusCode::CONFLICT,
                    "the object has been modified; apply your changes to the latest version",
                )
            },
            StoreError::Db(e) => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, format!("storage error: {e}")),
            StoreError::Io(e) => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, format!("storage error: {e}")),
        }
    }
}

/// The wire shape of an error answer.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody<'a> {
    pub code: u16,
    pub message: &'a str,
    pub detail: &'a str,
    pub uri: &'a str,
    pub verb: &'a str,
    #[serde(skip_serializing_if = "<[_]>::is_empty")]
    pub field_errors: &'a [FieldError],
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub dependents: Option<[&'a serde_json::Value; 1]>,
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        // The body is written by `error_bodies`, which knows the request.
        let mut response = self.status.into_response();
        if self.object_modified {
            response
                .headers_mut()
                .insert(OBJECT_MODIFIED, HeaderValue::from_static("true"));
        }
        response.extensions_mut().insert(self);
        response
    }
}

pub fn render(status: StatusCode, error: &ApiError, uri: &str, verb: &str) -> Response {
    let body = ErrorBody {
        code: status.as_u16(),
        message: &error.message,
        detail: &error.detail,
        uri,
        verb,
        field_errors: &error.field_errors,
        reason: error.in_the_way.as_ref().map(|_| "AlreadyExists"),
        dependents: error.in_the_way.as_ref().map(|object| [object]),
    };
    let bytes = serde_json::to_vec(&body).unwrap_or_default();
    let mut response = Response::new(Body::from(bytes));
    *response.status_mut() = status;
    response
        .headers_mut()
        .insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    response
}

/// Middleware: gives every error answer the JSON body of section 5.
pub async fn error_bodies(request: Request, next: Next) -> Response {
    let uri = request.uri().path().to_owned();
    let verb = request.method().as_str().to_owned();
    let mut response = next.run(request).await;
    let status = response.status();
    if let Some(error) = response.extensions_mut().remove::<ApiError>() {
        let mut rendered = render(status, &error, &uri, &verb);
        for (name, value) in response.headers() {
            if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
                rendered.headers_mut().insert(name.clone(), value.clone());
            }
        }
        return rendered;
    }
    let is_json = response
        .headers()
        .get(header::CONTENT_TYPE)
        .is_some_and(|v| v.as_bytes().starts_with(b"application/json"));
    if (status.is_client_error() || status.is_server_error()) && !is_json {
        let text = axum::body::to_bytes(response.into_body(), 64 * 1024)
            .await
            .unwrap_or_default();
        let message = String::from_utf8_lossy(&text);
        let message = if message.trim().is_empty() {
            status.canonical_reason().unwrap_or("error").to_lowercase()
        } else {
            message.trim().to_owned()
        };
        return render(status, &ApiError::new(status, message), &uri, &verb);
    }
    response
}
