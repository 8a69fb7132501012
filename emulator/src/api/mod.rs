//! The HTTP routes of docs/protocol.md and their handlers. Handlers are thin:
//! authenticate, authorise, validate, call the store, shape the answer.

use std::sync::Arc;

use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::routing::{get, post, put};

use crate::error::{ApiError, error_bodies};

mod admin;
mod github;
mod github_store;
mod session;
mod state;
mod tokens;

use admin::*;
pub use github_store::GithubState;
use session::*;
use state::*;
pub use state::{AppState, NON_RESOURCE_API, RESOURCE_API};
use tokens::*;

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
        .route("/emulator/stats", get(stats).delete(reset_stats))
        .route("/emulator/github", get(github::inspect))
        .route("/emulator/github/rotate-key", post(github::rotate_key))
        .route("/github/repos/{owner}/{repo}", get(github::repository));
    // GitHub Actions: the same routes at the repository, environment and organisation levels.
    for scope in [
        "/github/repos/{owner}/{repo}/actions",
        "/github/repos/{owner}/{repo}/environments/{environment}",
        "/github/orgs/{org}/actions",
    ] {
        router = router
            .route(&format!("{scope}/secrets/public-key"), get(github::public_key))
            .route(
                &format!("{scope}/secrets/{{name}}"),
                put(github::put_secret)
                    .get(github::get_secret)
                    .delete(github::delete_secret),
            )
            .route(&format!("{scope}/variables"), post(github::create_variable))
            .route(
                &format!("{scope}/variables/{{name}}"),
                get(github::get_variable).patch(github::update_variable),
            );
    }
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
