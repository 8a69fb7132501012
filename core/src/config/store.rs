//! Configs on disk: loaded, updated and replaced under the file's lock.

use std::path::Path;
use std::time::Duration;

use super::file::{ConfigLock, read_regular_file, resolve_links, warn_if_exposed, write_atomic};
use super::model::{Config, ENV_CONFIG, ENV_SERVER, ENV_TOKEN};
use crate::error::{Error, Result};

impl Config {
    /// Loads `path`; a missing file is an error.
    pub fn load(path: &Path) -> Result<Config> {
        match read_if_exists(path)? {
            Some(config) => Ok(config),
            None => Err(Error::config(format!(
                "no Wayfinder config at {}: log in with the wf CLI, set {ENV_CONFIG}, or set {ENV_SERVER} and {ENV_TOKEN}",
                path.display()
            ))),
        }
    }
}

/// Most bytes a config file may have: profiles and tokens, not a document.
pub const MAX_CONFIG_BYTES: u64 = 4 * 1024 * 1024;

fn read_if_exists(path: &Path) -> Result<Option<Config>> {
    let fail = |e: std::io::Error| Error::config_with(format!("cannot read config file {}: {e}", path.display()), e);
    let text = match read_regular_file(path, MAX_CONFIG_BYTES) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) => return Err(fail(e)),
    };
    warn_if_exposed(path);
    Config::parse(&text, path).map(Some)
}

/// Read-modify-write of the config at `path` under the lock. `change`
/// gets the current content (empty if the file does not exist); nothing is
/// written if it leaves the content as it was. A malformed file is an error
/// and is left untouched.
pub fn update<R>(path: &Path, lock_timeout: Duration, change: impl FnOnce(&mut Config) -> Result<R>) -> Result<R> {
    let path = &resolve_links(path)?;
    let _lock = ConfigLock::acquire(path, lock_timeout)?;
    let existing = read_if_exists(path)?;
    let mut config = existing.clone().unwrap_or_default();
    let result = change(&mut config)?;
    if existing.as_ref() != Some(&config) {
        write_atomic(path, config.to_yaml()?.as_bytes())?;
        log::debug!("wrote config file {}", path.display());
    }
    Ok(result)
}

/// Replaces the file at `path` with `config`, under the lock.
pub fn replace(path: &Path, lock_timeout: Duration, config: &Config) -> Result<()> {
    let path = &resolve_links(path)?;
    let _lock = ConfigLock::acquire(path, lock_timeout)?;
    write_atomic(path, config.to_yaml()?.as_bytes())
}

/// Runs a config write-back off the async threads; a failure is logged, not raised.
pub(crate) async fn write_back(write: impl FnOnce() -> Result<()> + Send + 'static) {
    match tokio::task::spawn_blocking(write).await {
        Ok(Ok(())) => {}
        Ok(Err(e)) => log::warn!("could not update the config file: {e}"),
        Err(e) => log::warn!("could not update the config file: {e}"),
    }
}
