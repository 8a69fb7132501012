//! Where a new secret waits until every destination holds it: one 0600 file
//! per issued secret in a private folder (`$XDG_STATE_HOME/wayfinder-tokens`,
//! default `~/.local/state/wayfinder-tokens`, mode 0700), written before the
//! first delivery and removed once every destination verified. If a
//! delivery fails, or the process dies in between, the secret is not lost:
//! [`RecoveryStore::pending`] lists what is left, and delivering it again
//! finishes the job.
//!
//! The trade-off: for that while, the secret is also on this machine's
//! disk, readable by this user alone.

use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::error::{Error, Result};
use crate::model::{AccessToken, IssuedToken};
use crate::secret::Secret;

/// The folder's name under the state folder.
const FOLDER: &str = "wayfinder-tokens";

/// One issued secret and its destinations.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Pending {
    /// The token's name.
    pub name: String,
    /// Its workspace; `None` for a platform token.
    pub workspace: Option<String>,
    /// The server's URL.
    pub server: String,
    /// The secret.
    pub token: Secret,
    /// Unix seconds when it expires, if it does.
    pub expires: Option<i64>,
    /// The token's object as the server returned it.
    pub resource: AccessToken,
    /// Each destination (its SPEC, placeholders filled in) and whether it holds this secret.
    pub destinations: Vec<PendingDestination>,
}

/// A destination of a [`Pending`] secret.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct PendingDestination {
    /// Its SPEC, placeholders filled in.
    pub spec: String,
    /// Whether it verified this secret.
    pub delivered: bool,
}

impl Pending {
    /// A pending delivery of `issued` to `specs`, none done yet.
    pub fn new(issued: &IssuedToken, specs: impl IntoIterator<Item = String>) -> Result<Pending> {
        Ok(Pending {
            name: issued.name.clone(),
            workspace: issued.workspace.clone(),
            server: issued.server.clone(),
            token: issued.secret()?.clone(),
            expires: issued.expires,
            resource: issued.resource.clone(),
            destinations: specs
                .into_iter()
                .map(|spec| PendingDestination { spec, delivered: false })
                .collect(),
        })
    }

    /// The issued token again.
    pub fn issued(&self) -> IssuedToken {
        IssuedToken {
            name: self.name.clone(),
            workspace: self.workspace.clone(),
            server: self.server.clone(),
            description: self.resource.spec.description.clone(),
            token: Some(self.token.clone()),
            expires: self.expires,
            resource: self.resource.clone(),
        }
    }

    /// The destinations that do not hold the secret yet.
    pub fn undelivered(&self) -> impl Iterator<Item = &str> {
        self.destinations
            .iter()
            .filter(|d| !d.delivered)
            .map(|d| d.spec.as_str())
    }

    /// The generation of the waiting secret, when known.
    pub fn generation(&self) -> Option<i64> {
        super::payload::generation_of(&self.issued())
    }

    fn file_name(&self) -> String {
        let workspace = self.workspace.as_deref().unwrap_or("platform");
        let generation = super::payload::generation_of(&self.issued()).unwrap_or(0);
        format!("{workspace}.{}.{generation}.json", self.name)
    }
}

/// The private folder of pending secrets.
#[derive(Clone, Debug)]
pub struct RecoveryStore {
    dir: PathBuf,
}

impl RecoveryStore {
    /// The default folder: `$XDG_STATE_HOME/wayfinder-tokens`, else
    /// `$HOME/.local/state/wayfinder-tokens`.
    pub fn default_dir(env: &dyn Fn(&str) -> Option<String>) -> Result<PathBuf> {
        let nonempty = |name: &str| env(name).filter(|v| !v.is_empty()).map(PathBuf::from);
        match (nonempty("XDG_STATE_HOME").filter(|p| p.is_absolute()), nonempty("HOME")) {
            (Some(state), _) => Ok(state.join(FOLDER)),
            (None, Some(home)) => Ok(home.join(".local").join("state").join(FOLDER)),
            (None, None) => Err(Error::config(
                "neither XDG_STATE_HOME nor HOME is set: there is nowhere to keep a new secret until it is delivered",
            )),
        }
    }

    /// Opens (creating it 0700) the folder `dir`. A link, or a folder that
    /// others may write, is refused: done before any reset.
    pub fn open(dir: &Path) -> Result<RecoveryStore> {
        match std::fs::symlink_metadata(dir) {
            Ok(m) if !m.is_dir() => {
                return Err(Error::config(format!(
                    "the recovery folder {} exists and is not a folder (a symlink is refused too)",
                    dir.display()
                )));
            }
            #[cfg(unix)]
            Ok(m) if std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o077 != 0 => {
                return Err(Error::config(format!(
                    "the recovery folder {} may be read or written by other users: chmod 700 it",
                    dir.display()
                )));
            }
            _ => {}
        }
        crate::config::file::create_private_dir(dir)?;
        Ok(RecoveryStore { dir: dir.to_owned() })
    }

    /// The folder.
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// Writes (or rewrites) `pending`, atomically, 0600; every write checked.
    pub fn save(&self, pending: &Pending) -> Result<PathBuf> {
        let path = self.dir.join(pending.file_name());
        let text = serde_json::to_vec_pretty(pending)
            .map_err(|e| Error::config(format!("cannot encode a pending delivery: {e}")))?;
        crate::config::file::write_atomic(&path, &text)?;
        Ok(path)
    }

    /// Removes `pending`'s file (every destination holds the secret).
    pub fn remove(&self, pending: &Pending) -> Result<()> {
        let path = self.dir.join(pending.file_name());
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(Error::config_with(format!("cannot remove {}: {e}", path.display()), e)),
        }
    }

    /// Every pending secret, oldest generation first. A secret superseded
    /// by a newer one of the same token is dead (a reset revoked it): it is
    /// dropped rather than delivered over the newer one.
    pub fn pending(&self) -> Result<Vec<Pending>> {
        let entries = match std::fs::read_dir(&self.dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(e) => {
                return Err(Error::config_with(
                    format!("cannot list {}: {e}", self.dir.display()),
                    e,
                ));
            }
        };
        let mut found: Vec<Pending> = Vec::new();
        for entry in entries.flatten() {
            let path = entry.path();
            if path.extension().is_none_or(|e| e != "json") {
                continue;
            }
            let text = crate::config::file::read_regular_file(&path, 1 << 20)
                .map_err(|e| Error::config_with(format!("cannot read {}: {e}", path.display()), e))?;
            let pending: Pending = serde_json::from_str(&text).map_err(|e| {
                Error::config(format!(
                    "{} is not a pending delivery ({e}); move it aside",
                    path.display()
                ))
            })?;
            found.push(pending);
        }
        let generation = |p: &Pending| super::payload::generation_of(&p.issued()).unwrap_or(0);
        found.sort_by_key(|p| (p.workspace.clone(), p.name.clone(), generation(p)));
        let mut kept: Vec<Pending> = Vec::new();
        for pending in found {
            if let Some(last) = kept.last()
                && last.workspace == pending.workspace
                && last.name == pending.name
            {
                log::warn!("dropping a superseded pending secret of {}", pending.name);
                let older = kept.pop();
                if let Some(older) = older {
                    self.remove(&older)?;
                }
            }
            kept.push(pending);
        }
        Ok(kept)
    }
}
