//! Fleet operations: every access token across workspaces at once. An
//! inventory (fetched with bounded concurrency, filtered by age, expiry and
//! name), and a batch rotation whose report says, for each token that
//! failed, whether its old secret still works or was already replaced, and
//! the exact call that recovers it. One item's failure never raises.

mod inventory;
mod report;
mod rotate;
mod sink;

pub use inventory::{
    DEFAULT_INVENTORY_CONCURRENCY, DEFAULT_ROTATE_CONCURRENCY, InventoryEntry, InventoryQuery, MAX_CONCURRENCY,
    TokenRef, WORKSPACE_GROUP_VERSION,
};
pub use report::{BatchReport, ReportRow, RotationFailure, TokenStatus, Undelivered, rotated_jsonl};
pub use rotate::{CancellationToken, Outcome, Progress, ProgressFn, RotateHooks, RotateOptions};
pub use sink::{EnvDir, SecretSink, sinks};
