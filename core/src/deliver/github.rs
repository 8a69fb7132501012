//! GitHub Actions: the secret sealed with the target's public key (a
//! libsodium sealed box) as an Actions secret, its two companions as Actions
//! variables, at the repository, environment or organisation level; the
//! write verified by the secret's `updated_at`. Shapes follow GitHub's REST
//! API (version 2022-11-28).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use serde::Deserialize;
use url::Url;

use super::http::{Answer, Http};
use super::payload::Payload;
use super::spec::{Target, Visibility};
use crate::error::{Error, Result};
use crate::secret::Secret;

/// The REST API version this client speaks.
pub const API_VERSION: &str = "2022-11-28";
/// The default API base; `GITHUB_API_URL` names another (GitHub Enterprise Server).
pub const DEFAULT_API_URL: &str = "https://api.github.com";

/// The GitHub API and the credential for it, from the environment.
#[derive(Debug)]
pub(crate) struct Connection {
    http: Http,
    base: Url,
    credential: Secret,
}

/// A GitHub destination, checked: credentials found, the public key fetched.
#[derive(Debug)]
pub(crate) struct Github {
    connection: Connection,
    /// Where secrets and variables live: `repos/OWNER/REPO/actions`,
    /// `repos/OWNER/REPO/environments/ENV` (no `actions`) or `orgs/ORG/actions`.
    scope: String,
    /// For an organisation: who may read.
    visibility: Option<(String, Vec<u64>)>,
    key: PublicKey,
}

/// A target's sealing key.
#[derive(Clone, Debug, PartialEq, Eq)]
struct PublicKey {
    id: String,
    key: [u8; 32],
}

#[derive(Deserialize)]
struct KeyAnswer {
    key_id: String,
    key: String,
}

#[derive(Deserialize)]
struct SecretAnswer {
    updated_at: String,
}

#[derive(Deserialize)]
struct RepositoryAnswer {
    id: u64,
}

/// A path segment as a URL holds it.
fn segment(text: &str) -> String {
    url::form_urlencoded::byte_serialize(text.as_bytes())
        .collect::<String>()
        .replace('+', "%20")
}

impl Github {
    /// Preflight: the credential, the API base, the scope, the public key
    /// (and an organisation's selected repositories' ids).
    pub async fn prepare(target: &Target, env: &super::Lookup, timeout: std::time::Duration) -> Result<Github> {
        let (scope, organisation) = scope_of(target)?;
        let placeholder = PublicKey {
            id: String::new(),
            key: [0; 32],
        };
        let mut github = Github {
            connection: Connection::open(env, timeout)?,
            scope,
            visibility: None,
            key: placeholder,
        };
        github.key = github.public_key().await?;
        if let Some((organisation, visibility)) = organisation {
            github.visibility = Some(github.readers(organisation, visibility).await?);
        }
        Ok(github)
    }

    /// An organisation secret's `visibility`, and the ids of its selected repositories.
    async fn readers(&self, organisation: &str, visibility: &Visibility) -> Result<(String, Vec<u64>)> {
        Ok(match visibility {
            Visibility::Private => ("private".to_owned(), Vec::new()),
            Visibility::All => ("all".to_owned(), Vec::new()),
            Visibility::Selected(names) => {
                let what = "look up a selected repository";
                let mut ids = Vec::new();
                for name in names {
                    let answer = self
                        .call(
                            reqwest::Method::GET,
                            &format!("repos/{organisation}/{name}"),
                            None,
                            what,
                        )
                        .await?;
                    ids.push(
                        self.connection
                            .http
                            .expect(&answer, &[200], what)?
                            .json::<RepositoryAnswer>("repository")?
                            .id,
                    );
                }
                ("selected".to_owned(), ids)
            }
        })
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

    async fn public_key(&self) -> Result<PublicKey> {
        let what = "fetch the Actions public key";
        let answer = self
            .call(
                reqwest::Method::GET,
                &format!("{}/secrets/public-key", self.scope_path()),
                None,
                what,
            )
            .await?;
        let found: KeyAnswer = self.connection.http.expect(&answer, &[200], what)?.json("public key")?;
        let bytes = STANDARD
            .decode(found.key.trim())
            .map_err(|_| Error::bad_answer(Some(200), format!("{what}: the key is not base64")))?;
        let key: [u8; 32] = bytes.try_into().map_err(|b: Vec<u8>| {
            Error::bad_answer(
                Some(200),
                format!("{what}: the key is {} bytes, not the 32 of an X25519 key", b.len()),
            )
        })?;
        Ok(PublicKey { id: found.key_id, key })
    }

    /// The path secrets and variables are under.
    fn scope_path(&self) -> &str {
        &self.scope
    }

    /// Seals and writes the secret, then writes the variables; returns the
    /// secret's `updated_at` check.
    pub async fn write(&self, payload: &Payload<'_>) -> Result<String> {
        // The key may have been rotated since preflight: a box sealed for the
        // old one would be stored and never open.
        let current = self.public_key().await?;
        if current != self.key {
            return Err(Error::config(format!(
                "the Actions public key changed since it was checked (key_id {} became {}): deliver again to seal with the new one",
                self.key.id, current.id
            )));
        }
        let mut written_at = None;
        for entry in &payload.entries {
            match entry.secret {
                true => written_at = Some(self.put_secret(&entry.name, entry.value).await?),
                false => self.put_variable(&entry.name, entry.value).await?,
            }
        }
        let secret_name = payload
            .entries
            .iter()
            .find(|e| e.secret)
            .map(|e| e.name.clone())
            .unwrap_or_default();
        self.verify(&secret_name, written_at.flatten().as_deref()).await
    }

    async fn put_secret(&self, name: &str, value: &str) -> Result<Option<String>> {
        let public = crypto_box::PublicKey::from(self.key.key);
        let sealed = public
            .seal(&mut crypto_box::aead::OsRng, value.as_bytes())
            .map_err(|_| Error::config("cannot seal the secret (the operating system's random source failed)"))?;
        let mut body = serde_json::json!({"encrypted_value": STANDARD.encode(sealed), "key_id": self.key.id});
        if let Some((visibility, ids)) = &self.visibility {
            body["visibility"] = visibility.as_str().into();
            if visibility == "selected" {
                body["selected_repository_ids"] = ids.clone().into();
            }
        }
        let what = format!("write the Actions secret {name}");
        let answer = self
            .call(
                reqwest::Method::PUT,
                &format!("{}/secrets/{name}", self.scope_path()),
                Some(&body),
                &what,
            )
            .await?;
        self.connection.http.expect(&answer, &[201, 204], &what)?;
        Ok(answer
            .headers
            .get("date")
            .and_then(|d| d.to_str().ok())
            .map(str::to_owned))
    }

    async fn put_variable(&self, name: &str, value: &str) -> Result<()> {
        let what = format!("write the Actions variable {name}");
        let mut body = serde_json::json!({"name": name, "value": value});
        if let Some((visibility, ids)) = &self.visibility {
            body["visibility"] = visibility.as_str().into();
            if visibility == "selected" {
                body["selected_repository_ids"] = ids.clone().into();
            }
        }
        let path = format!("{}/variables/{name}", self.scope_path());
        let answer = self.call(reqwest::Method::PATCH, &path, Some(&body), &what).await?;
        if answer.status == 404 {
            let create = self
                .call(
                    reqwest::Method::POST,
                    &format!("{}/variables", self.scope_path()),
                    Some(&body),
                    &what,
                )
                .await?;
            self.connection.http.expect(&create, &[201], &what)?;
            return Ok(());
        }
        self.connection.http.expect(&answer, &[204, 200], &what)?;
        Ok(())
    }

    /// The secret's `updated_at` is no older than the write's answer.
    async fn verify(&self, name: &str, written_at: Option<&str>) -> Result<String> {
        let what = format!("verify the Actions secret {name}");
        let updated = self
            .connection
            .updated_at(&self.scope, name)
            .await?
            .ok_or_else(|| Error::bad_answer(Some(404), format!("{what}: it is gone")))?;
        // GitHub keeps seconds; its Date header is when it answered the write.
        if let Some(date) = written_at.and_then(|d| jiff::fmt::rfc2822::parse(d).ok()) {
            let answered = date.timestamp();
            if updated < answered - jiff::SignedDuration::from_secs(2) {
                return Err(Error::bad_answer(
                    Some(200),
                    format!("{what}: it was last updated at {updated}, before this write was answered at {answered}"),
                ));
            }
        }
        Ok(format!("{name} updated at {updated}"))
    }
}

/// Where a target's secrets and variables live, and for an organisation, who reads them.
fn scope_of(target: &Target) -> Result<(String, Option<(&str, &Visibility)>)> {
    Ok(match target {
        Target::GithubRepository {
            owner,
            repository,
            environment: None,
        } => (format!("repos/{owner}/{repository}/actions"), None),
        Target::GithubRepository {
            owner,
            repository,
            environment: Some(env),
        } => (
            format!("repos/{owner}/{repository}/environments/{}", segment(env)),
            None,
        ),
        Target::GithubOrganisation {
            organisation,
            visibility,
        } => (
            format!("orgs/{organisation}/actions"),
            Some((organisation.as_str(), visibility)),
        ),
        _ => return Err(Error::config("not a GitHub destination")),
    })
}

impl Connection {
    /// The credential (`GITHUB_TOKEN`, else `GH_TOKEN`) and API base (`GITHUB_API_URL`).
    pub fn open(env: &super::Lookup, timeout: std::time::Duration) -> Result<Connection> {
        let credential = ["GITHUB_TOKEN", "GH_TOKEN"]
            .iter()
            .find_map(|name| env(name).filter(|v| !v.trim().is_empty()))
            .map(|v| Secret::new(v.trim()))
            .ok_or_else(|| {
                Error::config("no GitHub credentials: set GITHUB_TOKEN or GH_TOKEN (a token that may write Actions secrets and variables)")
            })?;
        let base_text = env("GITHUB_API_URL")
            .filter(|v| !v.is_empty())
            .unwrap_or_else(|| DEFAULT_API_URL.to_owned());
        let mut base = Url::parse(&base_text)
            .map_err(|e| Error::config(format!("GITHUB_API_URL is not a URL ({e}): {base_text:?}")))?;
        if !base.path().ends_with('/') {
            base.set_path(&format!("{}/", base.path()));
        }
        let http = Http::new("GITHUB_API_URL", &base, None, timeout)?;
        http.remember(&credential);
        Ok(Connection { http, base, credential })
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        body: Option<&serde_json::Value>,
        what: &str,
    ) -> Result<Answer> {
        let authorize = |request: reqwest::RequestBuilder| {
            request
                .bearer_auth(self.credential.expose())
                .header("accept", "application/vnd.github+json")
                .header("x-github-api-version", API_VERSION)
        };
        self.http.call(&self.base, (method, path), body, what, authorize).await
    }

    /// When the Actions secret `name` of `target` was last written; `None`
    /// when there is no such secret. Reads metadata only: GitHub never
    /// gives a secret's value back.
    pub async fn secret_updated_at(&self, target: &Target, name: &str) -> Result<Option<jiff::Timestamp>> {
        let (scope, _) = scope_of(target)?;
        self.updated_at(&scope, name).await
    }

    /// When the Actions secret `name` under `scope` was last written; `None` when there is none.
    async fn updated_at(&self, scope: &str, name: &str) -> Result<Option<jiff::Timestamp>> {
        let what = format!("read the Actions secret {name}'s metadata");
        let answer = self
            .call(reqwest::Method::GET, &format!("{scope}/secrets/{name}"), None, &what)
            .await?;
        if answer.status == 404 {
            return Ok(None);
        }
        let found: SecretAnswer = self.http.expect(&answer, &[200], &what)?.json("secret")?;
        found.updated_at.parse().map(Some).map_err(|e| {
            Error::bad_answer(
                Some(200),
                format!("{what}: updated_at {:?} is not a time ({e})", found.updated_at),
            )
        })
    }
}
