//! SQLite persistence: access tokens, their roles, and the emulator's own
//! secrets (signing key, instance id). Every operation is one transaction
//! under one connection lock, so concurrent requests are serialised.

use std::path::Path;
use std::sync::{Mutex, MutexGuard};

use jiff::Timestamp;
use rusqlite::{Connection, OptionalExtension, Row, params};
use serde::Serialize;

/// The two kinds of access token the API manages.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Kind {
    /// Scoped to one workspace (`/workspaces/{ws}/workspaceaccesstokens`).
    Workspace,
    /// Platform-wide (`/platformaccesstokens`).
    Platform,
}

impl Kind {
    /// The resource kind, as in `kind:` of the object.
    pub fn as_str(self) -> &'static str {
        match self {
            Kind::Workspace => "WorkspaceAccessToken",
            Kind::Platform => "PlatformAccessToken",
        }
    }

    /// The lowercase singular used in error messages (`workspaceaccesstoken "x" not found`).
    pub fn lower(self) -> &'static str {
        match self {
            Kind::Workspace => "workspaceaccesstoken",
            Kind::Platform => "platformaccesstoken",
        }
    }

    fn parse(s: &str) -> Option<Kind> {
        match s {
            "WorkspaceAccessToken" => Some(Kind::Workspace),
            "PlatformAccessToken" => Some(Kind::Platform),
            _ => None,
        }
    }
}

/// One access token object as stored.
#[derive(Clone, Debug)]
pub struct TokenRow {
    pub uid: String,
    pub kind: Kind,
    /// Empty for platform tokens.
    pub workspace: String,
    pub name: String,
    pub description: Option<String>,
    pub expiry: Option<Timestamp>,
    pub generation: i64,
    pub created: Timestamp,
    pub last_issued: Option<Timestamp>,
    pub resource_version: i64,
}

/// A cluster access role granted to a token.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
pub struct AccessRole {
    pub role: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub cluster: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub namespace: String,
}

/// Everything granted to a token.
#[derive(Clone, Debug, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Roles {
    pub access_roles: Vec<AccessRole>,
    pub wayfinder_roles: Vec<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("already exists")]
    AlreadyExists,
    #[error("not found")]
    NotFound,
    #[error("resource version conflict")]
    Conflict,
    #[error(transparent)]
    Db(#[from] rusqlite::Error),
    #[error(transparent)]
    Io(#[from] std::io::Error),
}

pub type StoreResult<T> = Result<T, StoreError>;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS meta (
    key   TEXT PRIMARY KEY,
    value BLOB NOT NULL
);
CREATE TABLE IF NOT EXISTS access_tokens (
    uid              TEXT PRIMARY KEY,
    kind             TEXT NOT NULL,
    workspace        TEXT NOT NULL,
    name             TEXT NOT NULL,
    description      TEXT,
    expiry           TEXT,
    generation       INTEGER NOT NULL DEFAULT 0,
    created          TEXT NOT NULL,
    last_issued      TEXT,
    resource_version INTEGER NOT NULL,
    UNIQUE (kind, workspace, name)
);
CREATE TABLE IF NOT EXISTS roles (
    token_uid TEXT NOT NULL REFERENCES access_tokens (uid) ON DELETE CASCADE,
    kind      TEXT NOT NULL CHECK (kind IN ('access', 'wayfinder')),
    role      TEXT NOT NULL,
    cluster   TEXT NOT NULL DEFAULT '',
    namespace TEXT NOT NULL DEFAULT '',
    seq       INTEGER NOT NULL,
    PRIMARY KEY (token_uid, kind, role, cluster, namespace)
);
";

const TOKEN_COLUMNS: &str = "uid, kind, workspace, name, description, expiry, generation, \
                             created, last_issued, resource_version";

#[derive(Debug)]
pub struct Store {
    conn: Mutex<Connection>,
}

impl Store {
    /// Opens the store: in memory, or in `path` with WAL (created if missing).
    pub fn open(path: Option<&Path>) -> StoreResult<Store> {
        let conn = match path {
            Some(path) => {
                create_private(path)?;
                let conn = Connection::open(path)?;
                // WAL keeps committed transactions across a crash of this
                // process; NORMAL skips the fsync per commit that only an OS
                // crash would need.
                conn.pragma_update(None, "journal_mode", "WAL")?;
                conn.pragma_update(None, "synchronous", "NORMAL")?;
                conn.busy_timeout(std::time::Duration::from_secs(5))?;
                conn
            }
            None => Connection::open_in_memory()?,
        };
        conn.pragma_update(None, "foreign_keys", "ON")?;
        conn.execute_batch(SCHEMA)?;
        Ok(Store { conn: Mutex::new(conn) })
    }

    fn conn(&self) -> MutexGuard<'_, Connection> {
        // A panic while holding the lock cannot leave SQLite half-written (the
        // transaction rolls back on drop), so a poisoned lock is still usable.
        self.conn.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Returns the value stored under `key`, creating it with `init` if absent.
    pub fn meta_or_insert(&self, key: &str, init: impl FnOnce() -> Vec<u8>) -> StoreResult<Vec<u8>> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let existing: Option<Vec<u8>> = tx
            .query_row("SELECT value FROM meta WHERE key = ?1", [key], |r| r.get(0))
            .optional()?;
        let value = match existing {
            Some(v) => v,
            None => {
                let v = init();
                tx.execute("INSERT INTO meta (key, value) VALUES (?1, ?2)", params![key, v])?;
                v
            }
        };
        tx.commit()?;
        Ok(value)
    }

    fn next_resource_version(tx: &rusqlite::Transaction<'_>) -> StoreResult<i64> {
        let current: Option<i64> = tx
            .query_row(
                "SELECT CAST(value AS INTEGER) FROM meta WHERE key = 'resource_version'",
                [],
                |r| r.get(0),
            )
            .optional()?;
        let next = current.unwrap_or(0) + 1;
        tx.execute(
            "INSERT INTO meta (key, value) VALUES ('resource_version', ?1)
             ON CONFLICT (key) DO UPDATE SET value = excluded.value",
            [next],
        )?;
        Ok(next)
    }

    /// Inserts a new token object; `AlreadyExists` if the name is taken.
    pub fn insert(&self, row: &TokenRow) -> StoreResult<TokenRow> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let exists: bool = tx.query_row(
            "SELECT EXISTS (SELECT 1 FROM access_tokens WHERE kind = ?1 AND workspace = ?2 AND name = ?3)",
            params![row.kind.as_str(), row.workspace, row.name],
            |r| r.get(0),
        )?;
        if exists {
            return Err(StoreError::AlreadyExists);
        }
        let rv = Self::next_resource_version(&tx)?;
        tx.execute(
            &format!("INSERT INTO access_tokens ({TOKEN_COLUMNS}) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10)"),
            params![
                row.uid,
                row.kind.as_str(),
                row.workspace,
                row.name,
                row.description,
                row.expiry.map(|t| t.to_string()),
                row.generation,
                row.created.to_string(),
                row.last_issued.map(|t| t.to_string()),
                rv,
            ],
        )?;
        tx.commit()?;
        Ok(TokenRow {
            resource_version: rv,
            ..row.clone()
        })
    }

    pub fn get(&self, kind: Kind, workspace: &str, name: &str) -> StoreResult<Option<TokenRow>> {
        find_in(&self.conn(), kind, workspace, name)
    }

    pub fn get_by_uid(&self, uid: &str) -> StoreResult<Option<TokenRow>> {
        let conn = self.conn();
        Ok(conn
            .query_row(
                &format!("SELECT {TOKEN_COLUMNS} FROM access_tokens WHERE uid = ?1"),
                [uid],
                read_row,
            )
            .optional()?)
    }

    pub fn list(&self, kind: Kind, workspace: &str) -> StoreResult<Vec<TokenRow>> {
        let conn = self.conn();
        let mut stmt = conn.prepare(&format!(
            "SELECT {TOKEN_COLUMNS} FROM access_tokens WHERE kind = ?1 AND workspace = ?2 ORDER BY name"
        ))?;
        let rows = stmt.query_map(params![kind.as_str(), workspace], read_row)?;
        Ok(rows.collect::<Result<Vec<_>, _>>()?)
    }

    /// Replaces description and expiry. If `expected_rv` is given it must
    /// match the stored resource version (optimistic concurrency).
    pub fn update(
        &self,
        kind: Kind,
        workspace: &str,
        name: &str,
        description: Option<&str>,
        expiry: Option<Timestamp>,
        expected_rv: Option<i64>,
    ) -> StoreResult<TokenRow> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let current = find_in(&tx, kind, workspace, name)?.ok_or(StoreError::NotFound)?;
        if expected_rv.is_some_and(|rv| rv != current.resource_version) {
            return Err(StoreError::Conflict);
        }
        let rv = Self::next_resource_version(&tx)?;
        tx.execute(
            "UPDATE access_tokens SET description = ?1, expiry = ?2, resource_version = ?3 WHERE uid = ?4",
            params![description, expiry.map(|t| t.to_string()), rv, current.uid],
        )?;
        tx.commit()?;
        Ok(TokenRow {
            description: description.map(str::to_owned),
            expiry,
            resource_version: rv,
            ..current
        })
    }

    /// Deletes the object and its roles; returns what was deleted.
    pub fn delete(&self, kind: Kind, workspace: &str, name: &str) -> StoreResult<TokenRow> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let current = find_in(&tx, kind, workspace, name)?.ok_or(StoreError::NotFound)?;
        tx.execute("DELETE FROM access_tokens WHERE uid = ?1", [&current.uid])?;
        tx.commit()?;
        Ok(current)
    }

    /// Bumps the generation (invalidating every older secret) and records the issue time.
    pub fn bump_generation(&self, kind: Kind, workspace: &str, name: &str, now: Timestamp) -> StoreResult<TokenRow> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        let current = find_in(&tx, kind, workspace, name)?.ok_or(StoreError::NotFound)?;
        let rv = Self::next_resource_version(&tx)?;
        tx.execute(
            "UPDATE access_tokens SET generation = generation + 1, last_issued = ?1, resource_version = ?2
             WHERE uid = ?3",
            params![now.to_string(), rv, current.uid],
        )?;
        tx.commit()?;
        Ok(TokenRow {
            generation: current.generation + 1,
            last_issued: Some(now),
            resource_version: rv,
            ..current
        })
    }

    /// Grants a role (idempotent) and returns the token's full role list.
    pub fn add_role(&self, uid: &str, kind: &str, role: &str, cluster: &str, namespace: &str) -> StoreResult<Roles> {
        let mut conn = self.conn();
        let tx = conn.transaction()?;
        tx.execute(
            "INSERT INTO roles (token_uid, kind, role, cluster, namespace, seq)
             VALUES (?1, ?2, ?3, ?4, ?5, (SELECT COALESCE(MAX(seq), 0) + 1 FROM roles WHERE token_uid = ?1))
             ON CONFLICT DO NOTHING",
            params![uid, kind, role, cluster, namespace],
        )?;
        let roles = roles_in(&tx, uid)?;
        tx.commit()?;
        Ok(roles)
    }

    pub fn roles(&self, uid: &str) -> StoreResult<Roles> {
        let conn = self.conn();
        roles_in(&conn, uid)
    }
}

/// Creates the data file 0600 if it is missing: it holds the signing key.
/// SQLite gives its `-wal` and `-shm` files the same mode. An existing file
/// that others may read or write is refused rather than trusted with the key.
fn create_private(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.create(true).truncate(false).write(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
        options.mode(0o600);
        let file = options.open(path)?;
        let mode = file.metadata()?.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(std::io::Error::new(
                std::io::ErrorKind::PermissionDenied,
                format!(
                    "{} has mode {mode:04o}: it holds the emulator's signing key, so only its owner may \
                     read it (chmod 600 it)",
                    path.display()
                ),
            ));
        }
        Ok(())
    }
    #[cfg(not(unix))]
    options.open(path).map(drop)
}

fn find_in(conn: &Connection, kind: Kind, workspace: &str, name: &str) -> StoreResult<Option<TokenRow>> {
    Ok(conn
        .query_row(
            &format!("SELECT {TOKEN_COLUMNS} FROM access_tokens WHERE kind = ?1 AND workspace = ?2 AND name = ?3"),
            params![kind.as_str(), workspace, name],
            read_row,
        )
        .optional()?)
}

fn roles_in(conn: &Connection, uid: &str) -> StoreResult<Roles> {
    let mut stmt =
        conn.prepare("SELECT kind, role, cluster, namespace FROM roles WHERE token_uid = ?1 ORDER BY seq")?;
    let mut roles = Roles::default();
    let mut rows = stmt.query([uid])?;
    while let Some(row) = rows.next()? {
        let kind: String = row.get(0)?;
        let role: String = row.get(1)?;
        if kind == "access" {
            roles.access_roles.push(AccessRole {
                role,
                cluster: row.get(2)?,
                namespace: row.get(3)?,
            });
        } else {
            roles.wayfinder_roles.push(role);
        }
    }
    Ok(roles)
}

fn parse_ts(s: Option<String>) -> Option<Timestamp> {
    s.and_then(|s| s.parse().ok())
}

fn read_row(r: &Row<'_>) -> rusqlite::Result<TokenRow> {
    let kind: String = r.get(1)?;
    let created: String = r.get(7)?;
    Ok(TokenRow {
        uid: r.get(0)?,
        kind: Kind::parse(&kind).unwrap_or(Kind::Workspace),
        workspace: r.get(2)?,
        name: r.get(3)?,
        description: r.get(4)?,
        expiry: parse_ts(r.get(5)?),
        generation: r.get(6)?,
        created: created.parse().unwrap_or(Timestamp::UNIX_EPOCH),
        last_issued: parse_ts(r.get(8)?),
        resource_version: r.get(9)?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn row(name: &str) -> TokenRow {
        TokenRow {
            uid: format!("uid-{name}"),
            kind: Kind::Workspace,
            workspace: "dev".into(),
            name: name.into(),
            description: Some("d".into()),
            expiry: None,
            generation: 0,
            created: Timestamp::UNIX_EPOCH,
            last_issued: None,
            resource_version: 0,
        }
    }

    #[test]
    fn insert_get_list_delete() -> StoreResult<()> {
        let store = Store::open(None)?;
        let a = store.insert(&row("a"))?;
        let b = store.insert(&row("b"))?;
        assert!(b.resource_version > a.resource_version);
        assert!(matches!(store.insert(&row("a")), Err(StoreError::AlreadyExists)));
        assert_eq!(store.list(Kind::Workspace, "dev")?.len(), 2);
        assert!(store.list(Kind::Platform, "")?.is_empty());
        store.delete(Kind::Workspace, "dev", "a")?;
        assert!(store.get(Kind::Workspace, "dev", "a")?.is_none());
        assert!(matches!(
            store.delete(Kind::Workspace, "dev", "a"),
            Err(StoreError::NotFound)
        ));
        Ok(())
    }

    #[test]
    fn roles_are_idempotent_ordered_and_survive_generation_bumps() -> StoreResult<()> {
        let store = Store::open(None)?;
        let r = store.insert(&row("a"))?;
        store.add_role(&r.uid, "wayfinder", "workspace.accesstokenmanager", "", "")?;
        store.add_role(&r.uid, "access", "cluster.deployer", "c1", "ns")?;
        let roles = store.add_role(&r.uid, "wayfinder", "workspace.accesstokenmanager", "", "")?;
        assert_eq!(roles.wayfinder_roles, vec!["workspace.accesstokenmanager"]);
        assert_eq!(roles.access_roles.len(), 1);
        let bumped = store.bump_generation(Kind::Workspace, "dev", "a", Timestamp::now())?;
        assert_eq!(bumped.generation, 1);
        assert_eq!(store.roles(&r.uid)?.access_roles.len(), 1);
        Ok(())
    }

    #[test]
    fn update_checks_resource_version() -> StoreResult<()> {
        let store = Store::open(None)?;
        let r = store.insert(&row("a"))?;
        assert!(matches!(
            store.update(Kind::Workspace, "dev", "a", None, None, Some(r.resource_version + 10)),
            Err(StoreError::Conflict)
        ));
        let u = store.update(Kind::Workspace, "dev", "a", Some("new"), None, Some(r.resource_version))?;
        assert_eq!(u.description.as_deref(), Some("new"));
        Ok(())
    }
}
