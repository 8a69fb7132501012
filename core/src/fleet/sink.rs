//! Where a rotation's new secrets go the moment they exist: a private folder
//! of env files, a caller's callback, or both.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::error::{Error, Result};
use crate::model::IssuedToken;

/// Takes each new secret the moment its token rotates (an env file, a JSON
/// line, a store), so a batch that is interrupted or fails later loses none
/// of the secrets issued so far. It runs on the runtime's blocking pool. An
/// error keeps the secret in the report and lists the token in
/// [`BatchReport::undelivered`](super::BatchReport::undelivered).
pub type SecretSink = Arc<dyn Fn(&IssuedToken) -> Result<()> + Send + Sync>;

/// A private folder of env files, one per secret: `WORKSPACE.NAME.env`
/// (`platform.NAME.env` for platform tokens) in the `export` format, each
/// written atomically with mode 0600.
#[derive(Clone, Debug)]
pub struct EnvDir {
    dir: PathBuf,
}

impl EnvDir {
    /// Checks `dir` (a folder, not a link; not writable by everyone), or
    /// creates it 0700. Done before any reset, so a folder that cannot take
    /// the secrets never costs one.
    pub fn open(dir: &Path) -> Result<EnvDir> {
        match std::fs::symlink_metadata(dir) {
            Ok(m) if !m.is_dir() => {
                return Err(Error::config(format!(
                    "{} exists and is not a folder (a symlink is refused too)",
                    dir.display()
                )));
            }
            #[cfg(unix)]
            Ok(m) if std::os::unix::fs::PermissionsExt::mode(&m.permissions()) & 0o002 != 0 => {
                return Err(Error::config(format!(
                    "{} is writable by every user: secrets go only into a private folder \
                     (chmod 700 it, or name a new folder and it is created 0700)",
                    dir.display()
                )));
            }
            _ => {}
        }
        crate::config::file::create_private_dir(dir)?;
        Ok(EnvDir { dir: dir.to_owned() })
    }

    /// The file `issued` goes to.
    pub fn path_of(&self, issued: &IssuedToken) -> PathBuf {
        let workspace = issued.workspace.as_deref().unwrap_or("platform");
        self.dir.join(format!("{workspace}.{}.env", issued.name))
    }

    /// Writes `issued`'s env file; every write and the sync are checked.
    pub fn write(&self, issued: &IssuedToken) -> Result<PathBuf> {
        let path = self.path_of(issued);
        crate::config::file::write_atomic(&path, crate::render::export(issued)?.as_bytes())?;
        Ok(path)
    }

    /// A rotation's sink writing each new secret here as it arrives.
    pub fn sink(&self) -> SecretSink {
        let dir = self.clone();
        Arc::new(move |issued: &IssuedToken| dir.write(issued).map(drop))
    }
}

/// One sink from a binding's two options: each secret goes to its env file
/// in `dir` first (on disk before any code of the caller runs), then to
/// `then`. `None` when neither is given.
pub fn sinks(dir: Option<EnvDir>, then: Option<SecretSink>) -> Option<SecretSink> {
    match (dir, then) {
        (None, None) => None,
        (Some(dir), None) => Some(dir.sink()),
        (None, Some(then)) => Some(then),
        (Some(dir), Some(then)) => Some(Arc::new(move |issued: &IssuedToken| {
            dir.write(issued)?;
            then(issued)
        })),
    }
}
