//! The `wf` config file (docs/protocol.md section 7): its content
//! ([`model`]), the mechanics of writing it safely ([`file`](mod@file)), loading and
//! saving it under its lock ([`store`]), and a token written as a config
//! ([`profile`]).
//!
//! Unknown keys survive a load and save: every level keeps what it does not
//! understand in an `extra` map, and maps keep their order.

pub mod file;
pub mod model;
pub mod profile;
pub mod store;
#[cfg(test)]
mod tests;

pub use file::{ConfigLock, DEFAULT_LOCK_TIMEOUT, lock_path, resolve_links};
pub use model::{
    ApiInfo, Config, ENV_CONFIG, ENV_SERVER, ENV_TOKEN, ENV_WORKSPACE, Identity, Profile, ResolvedProfile, Server,
    User, default_path,
};
pub use profile::{for_token, save_profile, write_config, yaml_for_token};
pub use store::{MAX_CONFIG_BYTES, replace, update};
