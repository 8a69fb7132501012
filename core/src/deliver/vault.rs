//! Vault and OpenBao, KV version 2: the three values written with
//! check-and-set (a concurrent writer is detected, not overwritten),
//! `custom_metadata` naming the token (never the secret), and the write
//! verified by reading the metadata of the version it made.

use std::path::PathBuf;

use serde::Deserialize;
use url::Url;

use super::http::{Answer, Http};
use super::payload::Payload;
use crate::error::{Error, Result};
use crate::secret::Secret;

/// A Vault server and the credentials for it, from the environment.
#[derive(Debug)]
pub(crate) struct Connection {
    http: Http,
    base: Url,
    token: Secret,
    namespace: Option<String>,
}

/// A Vault destination, checked: address and token found, the token may
/// write the path, and the secret's current version read for check-and-set.
#[derive(Debug)]
pub(crate) struct Vault {
    connection: Connection,
    mount: String,
    path: String,
    current_version: u64,
}

#[derive(Deserialize)]
struct Wrapped<T> {
    data: T,
}

#[derive(Deserialize)]
pub(crate) struct Metadata {
    pub current_version: u64,
    #[serde(default)]
    pub custom_metadata: Option<serde_json::Map<String, serde_json::Value>>,
}

#[derive(Deserialize)]
struct Written {
    version: u64,
}

/// `VAULT_NAME`, else `BAO_NAME`.
fn setting(env: &super::Lookup, name: &str) -> Option<(String, String)> {
    ["VAULT_", "BAO_"]
        .iter()
        .map(|prefix| format!("{prefix}{name}"))
        .find_map(|key| {
            env(&key)
                .filter(|v| !v.trim().is_empty())
                .map(|v| (key, v.trim().to_owned()))
        })
}

impl Connection {
    /// The address, token, namespace and CA from `env` (`VAULT_*`, else `BAO_*`).
    pub fn open(env: &super::Lookup, timeout: std::time::Duration) -> Result<Connection> {
        let (addr_name, addr) =
            setting(env, "ADDR").ok_or_else(|| Error::config("no Vault address: set VAULT_ADDR (or BAO_ADDR)"))?;
        let mut base =
            Url::parse(&addr).map_err(|e| Error::config(format!("{addr_name} is not a URL ({e}): {addr:?}")))?;
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        let token = match setting(env, "TOKEN") {
            Some((_, token)) => Secret::new(token),
            None => token_file(env)?,
        };
        let ca = match setting(env, "CACERT") {
            Some((name, path)) => Some(
                std::fs::read_to_string(&path)
                    .map_err(|e| Error::config_with(format!("cannot read {name} {path}: {e}"), e))?,
            ),
            None => None,
        };
        let http = Http::new(&addr_name, &base, ca.as_deref(), timeout)?;
        http.remember(&token);
        Ok(Connection {
            http,
            base,
            token,
            namespace: setting(env, "NAMESPACE").map(|(_, ns)| ns),
        })
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&serde_json::Value>,
        what: &str,
    ) -> Result<Answer> {
        let authorize = |request: reqwest::RequestBuilder| {
            let request = request.header("x-vault-token", self.token.expose());
            match &self.namespace {
                Some(ns) => request.header("x-vault-namespace", ns),
                None => request,
            }
        };
        self.http.call(&self.base, (method, path), body, what, authorize).await
    }

    /// The metadata of `mount`/`path`; `None` when there is no such secret.
    pub async fn metadata(&self, mount: &str, path: &str) -> Result<Option<Metadata>> {
        let what = format!("read the metadata of {mount}/{path}");
        let answer = self
            .call(
                reqwest::Method::GET,
                &format!("v1/{mount}/metadata/{path}"),
                None,
                &what,
            )
            .await?;
        if answer.status == 404 {
            return Ok(None);
        }
        Ok(Some(
            self.http
                .expect(&answer, &[200], &what)?
                .json::<Wrapped<Metadata>>("metadata")?
                .data,
        ))
    }
}

impl Vault {
    /// Preflight for `mount`/`path`.
    pub async fn prepare(mount: &str, path: &str, env: &super::Lookup, timeout: std::time::Duration) -> Result<Vault> {
        let mut vault = Vault {
            connection: Connection::open(env, timeout)?,
            mount: mount.to_owned(),
            path: path.to_owned(),
            current_version: 0,
        };
        vault.check_capabilities().await?;
        vault.current_version = vault.metadata().await?.map_or(0, |m| m.current_version);
        Ok(vault)
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&serde_json::Value>,
        what: &str,
    ) -> Result<Answer> {
        self.connection.call(method, path, body, what).await
    }

    /// The token may create and update the secret's data and metadata.
    async fn check_capabilities(&self) -> Result<()> {
        let what = format!("check the Vault token's capabilities on {}/{}", self.mount, self.path);
        let paths = [
            format!("{}/data/{}", self.mount, self.path),
            format!("{}/metadata/{}", self.mount, self.path),
        ];
        let answer = self
            .call(
                reqwest::Method::POST,
                "v1/sys/capabilities-self",
                Some(&serde_json::json!({"paths": paths})),
                &what,
            )
            .await?;
        let found: serde_json::Value = self
            .connection
            .http
            .expect(&answer, &[200], &what)?
            .json("capabilities")?;
        for path in &paths {
            let capabilities: Vec<&str> = found
                .get(path)
                .or_else(|| found.get("data").and_then(|d| d.get(path)))
                .and_then(|c| c.as_array())
                .map(|c| c.iter().filter_map(|v| v.as_str()).collect())
                .unwrap_or_default();
            let allowed = capabilities.contains(&"root")
                || (capabilities.contains(&"create") && capabilities.contains(&"update"));
            if !allowed {
                return Err(Error::from_status(
                    403,
                    format!(
                        "{what}: the token may not create and update {path} (it has {})",
                        capabilities.join(", ")
                    ),
                    Vec::new(),
                    None,
                ));
            }
        }
        Ok(())
    }

    async fn metadata(&self) -> Result<Option<Metadata>> {
        self.connection.metadata(&self.mount, &self.path).await
    }

    /// Writes the values with check-and-set, then the custom metadata, and
    /// verifies that the current version is the one written, labelled so.
    pub async fn write(&self, payload: &Payload<'_>) -> Result<String> {
        let data: serde_json::Map<String, serde_json::Value> = payload
            .entries
            .iter()
            .map(|e| (e.name.clone(), e.value.into()))
            .collect();
        let what = format!("write {}/{}", self.mount, self.path);
        let body = serde_json::json!({"options": {"cas": self.current_version}, "data": data});
        let answer = self
            .call(
                reqwest::Method::POST,
                &format!("v1/{}/data/{}", self.mount, self.path),
                Some(&body),
                &what,
            )
            .await?;
        if answer.status == 400 && String::from_utf8_lossy(&answer.body).contains("check-and-set") {
            return Err(Error::from_status(
                409,
                format!(
                    "{what}: another writer changed it since version {} was read (check-and-set); nothing was overwritten",
                    self.current_version
                ),
                Vec::new(),
                None,
            ));
        }
        let version = self
            .connection
            .http
            .expect(&answer, &[200, 204], &what)?
            .json::<Wrapped<Written>>("written version")?
            .data
            .version;
        let labels: serde_json::Map<String, serde_json::Value> = payload
            .labels()
            .into_iter()
            .map(|(k, v)| (format!("wayfinder-{k}"), v.into()))
            .collect();
        self.label(&labels).await?;
        self.verify(version, labels.get("wayfinder-generation")).await?;
        Ok(format!("version {version}"))
    }
}

impl Vault {
    /// Sets the secret's custom metadata.
    async fn label(&self, labels: &serde_json::Map<String, serde_json::Value>) -> Result<()> {
        let what = format!("label {}/{}", self.mount, self.path);
        let path = format!("v1/{}/metadata/{}", self.mount, self.path);
        let body = serde_json::json!({"custom_metadata": labels});
        let answer = self.call(reqwest::Method::POST, &path, Some(&body), &what).await?;
        self.connection.http.expect(&answer, &[200, 204], &what)?;
        Ok(())
    }

    /// The current version is the one written, labelled with its generation.
    async fn verify(&self, version: u64, generation: Option<&serde_json::Value>) -> Result<()> {
        let what = format!("verify {}/{}", self.mount, self.path);
        let metadata = self
            .metadata()
            .await?
            .ok_or_else(|| Error::bad_answer(Some(404), format!("{what}: it is gone")))?;
        let labelled = metadata
            .custom_metadata
            .as_ref()
            .and_then(|m| m.get("wayfinder-generation"))
            == generation;
        if metadata.current_version != version || !labelled {
            return Err(Error::bad_answer(
                Some(200),
                format!(
                    "{what}: the current version is {}, not the {version} written",
                    metadata.current_version
                ),
            ));
        }
        Ok(())
    }
}

/// The token the `vault` CLI saved at login (`~/.vault-token`).
fn token_file(env: &super::Lookup) -> Result<Secret> {
    let home = env("HOME").filter(|h| !h.is_empty()).map(PathBuf::from);
    let path = home.map(|h| h.join(".vault-token"));
    match path.as_deref().map(std::fs::read_to_string) {
        Some(Ok(token)) if !token.trim().is_empty() => Ok(Secret::new(token.trim())),
        _ => Err(Error::config(
            "no Vault token: set VAULT_TOKEN (or BAO_TOKEN), or log in with `vault login` (~/.vault-token)",
        )),
    }
}
