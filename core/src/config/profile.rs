//! A token written as a config: a standalone file, or a profile merged into
//! the user's own.

use std::path::Path;
use std::time::Duration;

use super::file::{DEFAULT_LOCK_TIMEOUT, create_private_dir, parent_of, resolve_links, write_atomic};
use super::model::{Config, default_path};
use super::store::{replace, update};
use crate::error::{Argument, Error, Result};
use crate::model::IssuedToken;

/// A wf config holding just this token, as a profile named after it.
pub fn for_token(issued: &IssuedToken) -> Result<Config> {
    let mut config = Config::default();
    config.set_profile(
        &issued.name,
        &issued.server,
        issued.secret()?,
        issued.workspace.as_deref(),
        true,
    );
    Ok(config)
}

/// [`for_token`] as YAML (`-o config`).
pub fn yaml_for_token(issued: &IssuedToken) -> Result<String> {
    for_token(issued)?.to_yaml()
}

/// Writes a standalone config holding just this token (mode 0600, atomic).
pub fn write_config(issued: &IssuedToken, path: &Path) -> Result<()> {
    let config = for_token(issued)?;
    let target = resolve_links(path)?;
    if target.exists() {
        // Someone's file: replaced under its lock, like every other write to it.
        return replace(path, DEFAULT_LOCK_TIMEOUT, &config);
    }
    // A new standalone file (a CI artifact): written atomically, with no lock
    // file left beside it; two writers racing each write a whole file.
    create_private_dir(&parent_of(&target))?;
    write_atomic(&target, config.to_yaml()?.as_bytes())
}

/// Merges this token as a profile into an existing config file (the user's
/// own by default), under the file lock, keeping every other profile and key.
pub fn save_profile(
    issued: &IssuedToken,
    config_path: Option<&Path>,
    profile: Option<&str>,
    make_current: bool,
    lock_timeout: Option<Duration>,
) -> Result<std::path::PathBuf> {
    let secret = issued.secret()?.clone();
    let profile = profile.unwrap_or(&issued.name);
    if let Some(e) = crate::names::check_name(Argument::Profile, profile) {
        return Err(Error::from_field_errors(vec![e]));
    }
    let path = match config_path {
        Some(p) => p.to_path_buf(),
        None => default_path(&|k| std::env::var(k).ok())?,
    };
    update(&path, lock_timeout.unwrap_or(DEFAULT_LOCK_TIMEOUT), |c| {
        c.set_profile(
            profile,
            &issued.server,
            &secret,
            issued.workspace.as_deref(),
            make_current,
        );
        Ok(())
    })?;
    Ok(path)
}
