//! AWS Secrets Manager: the three values as one JSON secret, created (and
//! tagged with the token, workspace and generation) when missing, else a new
//! version put; verified by `AWSCURRENT` naming the version written.
//! Credentials and region come from the standard chain of the official SDK
//! (environment, shared config and profiles, SSO, web identity, instance
//! metadata); `AWS_ENDPOINT_URL` is honoured.

use aws_credential_types::provider::ProvideCredentials as _;
use aws_sdk_secretsmanager::Client;
use aws_sdk_secretsmanager::config::http::HttpResponse;
use aws_sdk_secretsmanager::config::{Credentials, Region};
use aws_sdk_secretsmanager::error::{DisplayErrorContext, ProvideErrorMetadata, SdkError};
use aws_sdk_secretsmanager::types::Tag;

use super::payload::Payload;
use crate::error::{Error, Result};

/// An AWS destination, checked: region and credentials found, the secret
/// describable (or absent, to be created) and not scheduled for deletion.
#[derive(Debug)]
pub(crate) struct Aws {
    client: Client,
    secret_id: String,
    exists: bool,
}

/// The error of an SDK call, its kind from the answer's HTTP status.
fn failure<E: ProvideErrorMetadata + std::error::Error + 'static>(what: &str, e: &SdkError<E, HttpResponse>) -> Error {
    let code = e.code().unwrap_or("no error code");
    let message = e
        .message()
        .map_or_else(|| DisplayErrorContext(e).to_string(), str::to_owned);
    let text = crate::render::printable(&format!("{what}: {code}: {message}"));
    match e.raw_response().map(|r| r.status().as_u16()) {
        Some(status) => Error::from_status(status, text, Vec::new(), None),
        None => Error::Transport {
            message: text,
            source: None,
            hint: None,
        },
    }
}

/// The SDK's configuration: the standard chain, with what `env` says about
/// region, endpoint, profile and keys taking precedence.
async fn load(region: Option<&str>, env: &super::Lookup) -> Result<aws_config::SdkConfig> {
    let mut loader = aws_config::defaults(aws_config::BehaviorVersion::latest());
    if let Some(region) = region
        .map(str::to_owned)
        .or_else(|| env("AWS_REGION"))
        .or_else(|| env("AWS_DEFAULT_REGION"))
    {
        loader = loader.region(Region::new(region));
    }
    if let Some(endpoint) = env("AWS_ENDPOINT_URL_SECRETS_MANAGER")
        .or_else(|| env("AWS_ENDPOINT_URL"))
        .filter(|e| !e.is_empty())
    {
        let url = url::Url::parse(&endpoint)
            .map_err(|e| Error::config(format!("AWS_ENDPOINT_URL is not a URL ({e}): {endpoint:?}")))?;
        let loopback = url.host().is_some_and(|h| crate::settings::is_loopback(&h));
        if url.scheme() != "https" && !(url.scheme() == "http" && loopback) {
            return Err(Error::config(format!(
                "AWS_ENDPOINT_URL is {endpoint}: plain HTTP to a host that is not this machine would show signed \
                     requests and the secret to the network; use https://"
            )));
        }
        loader = loader.endpoint_url(endpoint);
    }
    if let Some(profile) = env("AWS_PROFILE").filter(|p| !p.is_empty()) {
        loader = loader.profile_name(profile);
    }
    if let (Some(key), Some(secret)) = (env("AWS_ACCESS_KEY_ID"), env("AWS_SECRET_ACCESS_KEY")) {
        let credentials = Credentials::new(key, secret, env("AWS_SESSION_TOKEN"), None, "wayfinder-tokens");
        loader = loader.credentials_provider(credentials);
    }
    let config = loader.load().await;
    if config.region().is_none() {
        return Err(Error::config(
            "no AWS region: set AWS_REGION (or a profile's region), or add ?region= to the SPEC",
        ));
    }
    let provider = config
        .credentials_provider()
        .ok_or_else(|| Error::config("no AWS credentials: none of the standard sources gives any"))?;
    provider.provide_credentials().await.map_err(|e| {
        Error::config(format!(
            "no AWS credentials: {} (environment, shared config and profiles, SSO, web identity and instance \
                 metadata were tried)",
            DisplayErrorContext(&e)
        ))
    })?;
    Ok(config)
}

impl Aws {
    /// Preflight for `secret_id`, in `region` when given.
    pub async fn prepare(secret_id: &str, region: Option<&str>, env: &super::Lookup) -> Result<Aws> {
        let config = load(region, env).await?;
        let client = Client::new(&config);
        let what = format!("describe the AWS secret {secret_id}");
        let exists = match client.describe_secret().secret_id(secret_id).send().await {
            Ok(found) if found.deleted_date().is_some() => {
                return Err(Error::config(format!(
                    "the AWS secret {secret_id} is scheduled for deletion: restore it (restore-secret) or name another"
                )));
            }
            Ok(_) => true,
            Err(e) if e.code() == Some("ResourceNotFoundException") => false,
            Err(e) => return Err(failure(&what, &e)),
        };
        Ok(Aws {
            client,
            secret_id: secret_id.to_owned(),
            exists,
        })
    }

    /// Writes a new version (creating the secret when missing), tags it,
    /// and verifies that `AWSCURRENT` is that version.
    pub async fn write(&self, payload: &Payload<'_>) -> Result<String> {
        let value: serde_json::Map<String, serde_json::Value> = payload
            .entries
            .iter()
            .map(|e| (e.name.clone(), e.value.into()))
            .collect();
        let value = serde_json::Value::Object(value).to_string();
        let tags: Vec<Tag> = payload
            .labels()
            .into_iter()
            .map(|(k, v)| Tag::builder().key(format!("wayfinder-tokens:{k}")).value(v).build())
            .collect();
        let id = &self.secret_id;
        let scrub = |e: Error| e.map_text(|t| t.replace(payload.secret.expose(), "<redacted>"));
        let version = match self.exists {
            false => match self
                .client
                .create_secret()
                .name(id)
                .secret_string(&value)
                .set_tags(Some(tags.clone()))
                .send()
                .await
            {
                Ok(created) => created.version_id().map(str::to_owned),
                // Created since preflight: write a version instead.
                Err(e) if e.code() == Some("ResourceExistsException") => None,
                Err(e) => return Err(scrub(failure(&format!("create the AWS secret {id}"), &e))),
            },
            true => None,
        };
        let version = match version {
            Some(version) => version,
            None => {
                let put = self
                    .client
                    .put_secret_value()
                    .secret_id(id)
                    .secret_string(&value)
                    .send()
                    .await;
                let put = put.map_err(|e| scrub(failure(&format!("put a new value in the AWS secret {id}"), &e)))?;
                let tagged = self
                    .client
                    .tag_resource()
                    .secret_id(id)
                    .set_tags(Some(tags))
                    .send()
                    .await;
                tagged.map_err(|e| failure(&format!("tag the AWS secret {id}"), &e))?;
                put.version_id().unwrap_or_default().to_owned()
            }
        };
        self.verify(&version).await?;
        Ok(format!("version {version} is AWSCURRENT"))
    }

    async fn verify(&self, version: &str) -> Result<()> {
        let what = format!("verify the AWS secret {}", self.secret_id);
        let found = self
            .client
            .describe_secret()
            .secret_id(&self.secret_id)
            .send()
            .await
            .map_err(|e| failure(&what, &e))?;
        let current = found
            .version_ids_to_stages()
            .and_then(|stages| stages.get(version))
            .is_some_and(|stages| stages.iter().any(|s| s == "AWSCURRENT"));
        match current {
            true => Ok(()),
            false => Err(Error::bad_answer(
                Some(200),
                format!("{what}: AWSCURRENT is not the version {version} written"),
            )),
        }
    }
}

/// A client for `region` (else the environment's), credentials checked.
pub(crate) async fn client(region: Option<&str>, env: &super::Lookup) -> Result<Client> {
    Ok(Client::new(&load(region, env).await?))
}

/// The `wayfinder-tokens:*` tags of `secret_id`, without the prefix;
/// `None` when there is no such secret, or it is scheduled for deletion.
/// Reads metadata only (`DescribeSecret`), never the value.
pub(crate) async fn labels(client: &Client, secret_id: &str) -> Result<Option<Vec<(String, String)>>> {
    let what = format!("describe the AWS secret {secret_id}");
    match client.describe_secret().secret_id(secret_id).send().await {
        Ok(found) if found.deleted_date().is_some() => Ok(None),
        Ok(found) => Ok(Some(
            found
                .tags()
                .iter()
                .filter_map(|t| {
                    let key = t.key()?.strip_prefix("wayfinder-tokens:")?;
                    Some((key.to_owned(), t.value().unwrap_or_default().to_owned()))
                })
                .collect(),
        )),
        Err(e) if e.code() == Some("ResourceNotFoundException") => Ok(None),
        Err(e) => Err(failure(&what, &e)),
    }
}
