//! The mechanics of a file that holds secrets: a capped read that never
//! blocks, the sidecar lock, atomic 0600 writes, links followed to their target.

use std::collections::HashSet;
use std::fs::{self, File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{LazyLock, Mutex};
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// How long a writer waits for another process's lock by default.
pub const DEFAULT_LOCK_TIMEOUT: Duration = Duration::from_secs(10);

/// Reads a regular file of at most `cap` bytes. A FIFO, a device
/// (`/dev/zero`) or a socket is refused before it can block or stream
/// forever: it is opened without blocking and checked before any read.
pub(crate) fn read_regular_file(path: &Path, cap: u64) -> std::io::Result<String> {
    use std::io::Read;
    let mut options = OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.custom_flags(libc::O_NONBLOCK | libc::O_NOCTTY);
    }
    let file = options.open(path)?;
    let meta = file.metadata()?;
    if !meta.is_file() {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidInput,
            "it is not a regular file (a FIFO, device or socket is refused)",
        ));
    }
    if meta.len() > cap {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("it is larger than {} MiB", cap / (1024 * 1024)),
        ));
    }
    let mut text = String::new();
    file.take(cap + 1).read_to_string(&mut text)?;
    if text.len() as u64 > cap {
        return Err(std::io::Error::new(
            std::io::ErrorKind::InvalidData,
            format!("it is larger than {} MiB", cap / (1024 * 1024)),
        ));
    }
    Ok(text)
}

/// Files already warned about in this process.
static WARNED: LazyLock<Mutex<HashSet<PathBuf>>> = LazyLock::new(Mutex::default);

/// Warns once per process per file when others (world) may read or write
/// it. Group access is fine: the vendor's client creates its file 0640.
#[cfg(unix)]
pub(crate) fn warn_if_exposed(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    let Ok(meta) = fs::metadata(path) else { return };
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o006 == 0 {
        return;
    }
    let key = fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    if WARNED.lock().unwrap_or_else(|e| e.into_inner()).insert(key) {
        log::warn!(
            "config file {} is readable or writable by others (mode {mode:o}); run: chmod 600 {}",
            path.display(),
            path.display()
        );
    }
}

#[cfg(not(unix))]
pub(crate) fn warn_if_exposed(_path: &Path) {}

/// The sidecar lock file of a config path: `config` → `config.lock`.
pub fn lock_path(path: &Path) -> PathBuf {
    let mut name = path
        .file_name()
        .map(|n| n.to_os_string())
        .unwrap_or_else(|| "config".into());
    name.push(".lock");
    path.with_file_name(name)
}

pub(crate) fn parent_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}

pub(crate) fn create_private_dir(dir: &Path) -> Result<()> {
    if dir.is_dir() {
        return Ok(());
    }
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::DirBuilderExt;
        builder.mode(0o700);
    }
    builder
        .create(dir)
        .map_err(|e| Error::config_with(format!("cannot create folder {}: {e}", dir.display()), e))
}

/// An exclusive OS advisory lock on the sidecar lock file, released on drop
/// (and by the OS if the process dies, so a crash never leaves it held).
#[derive(Debug)]
pub struct ConfigLock {
    _file: File,
}

impl ConfigLock {
    /// Takes the lock of `config_path`'s sidecar `.lock` file, waiting up to `timeout`.
    pub fn acquire(config_path: &Path, timeout: Duration) -> Result<ConfigLock> {
        let dir = parent_of(config_path);
        create_private_dir(&dir)?;
        let path = lock_path(config_path);
        let mut options = OpenOptions::new();
        options.create(true).truncate(false).write(true);
        #[cfg(unix)]
        {
            use std::os::unix::fs::OpenOptionsExt;
            // Never follow a link planted at the lock's path: it would create
            // or lock whatever file the link points at; and never wait for a
            // reader of a FIFO planted there.
            options
                .mode(0o600)
                .custom_flags(libc::O_NOFOLLOW | libc::O_NONBLOCK | libc::O_NOCTTY);
        }
        let file = options.open(&path).map_err(|e| {
            let why = if is_symlink(&path) {
                "it is a symbolic link".to_owned()
            } else {
                e.to_string()
            };
            Error::config_with(format!("cannot open lock file {}: {why}", path.display()), e)
        })?;
        if !file.metadata().is_ok_and(|m| m.is_file()) {
            return Err(Error::config(format!(
                "lock file {} is not a regular file",
                path.display()
            )));
        }
        let deadline = Instant::now() + timeout;
        let mut pause = Duration::from_millis(2);
        loop {
            match file.try_lock() {
                Ok(()) => return Ok(ConfigLock { _file: file }),
                Err(fs::TryLockError::WouldBlock) if Instant::now() < deadline => {
                    std::thread::sleep(pause);
                    pause = (pause * 2).min(Duration::from_millis(50));
                }
                Err(fs::TryLockError::WouldBlock) => {
                    return Err(Error::config(format!(
                        "timed out after {:.1}s waiting for the lock on {} (another process is writing the config)",
                        timeout.as_secs_f64(),
                        path.display()
                    )));
                }
                Err(fs::TryLockError::Error(e)) => {
                    return Err(Error::config_with(format!("cannot lock {}: {e}", path.display()), e));
                }
            }
        }
    }
}

/// How many random characters a temp file's name ends with.
const TEMP_RANDOM_CHARS: usize = 10;

/// The prefix of a config file's temp files: `config` → `.config.tmp-`.
fn temp_prefix(path: &Path) -> String {
    format!(
        ".{}.tmp-",
        path.file_name().map(|n| n.to_string_lossy()).unwrap_or_default()
    )
}

/// Whether `name` is a temp file of the config file `path`, and of no other
/// (`.config.tmp-…` is `config`'s; `.config.prod.tmp-…` is `config.prod`'s).
fn is_own_temp_file(path: &Path, name: &str) -> bool {
    name.strip_prefix(&temp_prefix(path))
        .is_some_and(|random| random.len() == TEMP_RANDOM_CHARS && random.chars().all(|c| c.is_ascii_alphanumeric()))
}

/// Removes temp files a killed writer of this config left behind. Only
/// writers holding this file's lock create them, so under the lock every one
/// found is stale; other configs' temp files in the folder are left alone.
fn remove_stale_temp_files(path: &Path) {
    let Ok(entries) = fs::read_dir(parent_of(path)) else {
        return;
    };
    for entry in entries.flatten() {
        if is_own_temp_file(path, &entry.file_name().to_string_lossy()) {
            let _ = fs::remove_file(entry.path());
        }
    }
}

fn is_symlink(path: &Path) -> bool {
    fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink())
}

/// The file a config path finally names: dotfile managers link the config
/// into a repository, and a save must replace the link's target, keeping the
/// link. A path that is no link is returned as it is.
pub fn resolve_links(path: &Path) -> Result<PathBuf> {
    let mut current = path.to_path_buf();
    for _ in 0..40 {
        if !is_symlink(&current) {
            return Ok(current);
        }
        let target = fs::read_link(&current)
            .map_err(|e| Error::config_with(format!("cannot read link {}: {e}", current.display()), e))?;
        current = parent_of(&current).join(target);
    }
    Err(Error::config(format!(
        "config path {} is a chain of more than 40 symbolic links",
        path.display()
    )))
}

/// Writes `contents` to `path` atomically: a 0600 temp file in the same
/// folder, fsync, rename over, fsync the folder. Call it under the lock.
pub(crate) fn write_atomic(path: &Path, contents: &[u8]) -> Result<()> {
    let dir = parent_of(path);
    let fail = |what: &str, e: std::io::Error| Error::config_with(format!("cannot {what} {}: {e}", path.display()), e);
    remove_stale_temp_files(path);
    let mut tmp = tempfile::Builder::new()
        .prefix(&temp_prefix(path))
        .rand_bytes(TEMP_RANDOM_CHARS)
        .tempfile_in(&dir)
        .map_err(|e| fail("create a temporary file beside", e))?;
    tmp.write_all(contents).map_err(|e| fail("write", e))?;
    tmp.as_file().sync_all().map_err(|e| fail("sync", e))?;
    tmp.persist(path).map_err(|e| fail("replace", e.error))?;
    #[cfg(unix)]
    if let Ok(d) = File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}
