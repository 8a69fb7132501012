//! Tokens as code: a spec file names every token a team keeps alive (its
//! roles, its destinations, when it rotates); [`plan`] works out what
//! differs, [`apply`] converges, [`check`] says what is due.
//!
//! Applying twice in a row changes nothing the second time: what a
//! destination holds is judged from its metadata (Vault's custom metadata,
//! AWS tags, GitHub's `updated_at`), never by reading the secret back. An
//! apply that stops halfway is finished by the next one: every new secret
//! waits in the recovery store until each destination holds it.

mod apply;
mod check;
mod plan;
pub mod spec;
mod words;
pub mod yaml;

pub use apply::{
    Applied, ApplyReport, DEFAULT_APPLY_CONCURRENCY, Desired, apply_plan, apply_until, ensure_same, run, run_until,
};
pub use check::{Due, check};
pub use plan::{Action, Change, DEFAULT_CONCURRENCY, Drift, Plan, PlanOptions, Reason, Requests, plan};
pub use spec::{API_VERSION, DesiredToken, JSON_SCHEMA, RotatePolicy, Strategy, TokenSpec};

use crate::client::Client;
use crate::deliver::Deliverer;
use crate::error::Result;

/// Plans `spec` and carries the plan out.
pub async fn apply(
    client: &Client,
    deliverer: &Deliverer,
    spec: &TokenSpec,
    options: &PlanOptions,
) -> Result<(Plan, ApplyReport)> {
    let made = plan(client, deliverer, spec, options).await?;
    let report = run(client, deliverer, &made).await;
    Ok((made, report))
}
