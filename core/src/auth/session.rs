//! The API token a client sends: the static token as it is, or one got by
//! exchanging an access token or refreshing a user's login, cached until it
//! nears expiry and renewed once when the server refuses it.

use tokio::sync::Mutex;

use super::{Claims, Credential, read_claims};
use crate::config::{self, ApiInfo, DEFAULT_LOCK_TIMEOUT};
use crate::error::{ErrorKind, Hint, Result};
use crate::requests;
use crate::secret::Secret;
use crate::settings::{Origin, Settings};
use crate::transport::{Bearer, Transport};

/// TTL asked for on exchange (the server caps it at 1h).
const EXCHANGE_TTL: &str = "30m0s";

/// The cached API token of one client; the lock makes concurrent callers
/// share one exchange or refresh.
#[derive(Debug)]
pub(crate) struct Session {
    /// The configured token, when it is sent as is.
    static_bearer: Option<Bearer>,
    api_token: Mutex<Option<Bearer>>,
}

impl Session {
    /// Starts with the token cached in the config file, unless it is expiring.
    pub(crate) fn new(settings: &Settings) -> Session {
        let static_bearer = match &settings.credential {
            Credential::Static(token) => Some(Bearer::new(token.clone())),
            Credential::Exchange(_) | Credential::Refresh(_) => None,
        };
        let cached = settings.cached_token.clone().filter(|t| !is_expiring(t));
        Session {
            static_bearer,
            api_token: Mutex::new(cached.map(Bearer::new)),
        }
    }

    /// The bearer token for API calls: the static token, or a cached API
    /// token renewed by exchange or refresh when it nears expiry.
    pub(crate) async fn bearer(&self, transport: &Transport, settings: &Settings, info: &ApiInfo) -> Result<Bearer> {
        if let Some(bearer) = &self.static_bearer {
            return Ok(bearer.clone());
        }
        let mut cached = self.api_token.lock().await;
        if let Some(token) = cached.as_ref().filter(|t| !is_expiring(t.secret())) {
            return Ok(token.clone());
        }
        let fresh = Bearer::new(match &settings.credential {
            Credential::Exchange(access_token) => exchange(transport, info, access_token).await?,
            Credential::Refresh(refresh_token) => refresh(transport, settings, info, refresh_token).await?,
            Credential::Static(token) => token.clone(),
        });
        *cached = Some(fresh.clone());
        Ok(fresh)
    }

    /// Forgets `stale` if it is still the cached API token.
    pub(crate) async fn forget(&self, stale: &Bearer) {
        let mut cached = self.api_token.lock().await;
        if cached.as_ref() == Some(stale) {
            *cached = None;
        }
    }
}

fn is_expiring(token: &Secret) -> bool {
    read_claims(token.expose()).as_ref().is_some_and(Claims::is_expired)
}

/// Exchanges a long-lived access token for a short-lived API token.
async fn exchange(transport: &Transport, info: &ApiInfo, access_token: &Secret) -> Result<Secret> {
    let answer = transport
        .send(
            &requests::exchange(info, EXCHANGE_TTL),
            Some(&Bearer::new(access_token.clone())),
        )
        .await
        .map_err(|e| match e.kind() {
            ErrorKind::Unauthenticated => e.with_hint(Hint::CredentialRevoked),
            // The documented answer to exchanging a token that was deleted:
            // the credential is refused, whatever the status says.
            ErrorKind::NotFound => e.into_refusal().with_hint(Hint::CredentialRevoked),
            _ => e,
        })?;
    log::debug!("exchanged the access token for an API token");
    Ok(transport.issued_secret(&answer, "exchange answer")?.token)
}

/// Renews a user's API token with their refresh token, and writes both
/// back to the config file they came from. A refresh token may work only
/// once: when it is refused, another process may have used it first and
/// written its successor to the file, so the file is read again (under its
/// lock) and a newer API token or refresh token found there is used.
async fn refresh(transport: &Transport, settings: &Settings, info: &ApiInfo, refresh_token: &Secret) -> Result<Secret> {
    let mut current = refresh_token.clone();
    let mut read_again = false;
    loop {
        let error = match refresh_once(transport, settings, info, &current).await {
            Ok(token) => return Ok(token),
            Err(e) if e.kind() == ErrorKind::Unauthenticated && !read_again => e,
            Err(e) if e.kind() == ErrorKind::Unauthenticated => return Err(e.with_hint(Hint::LogInAgain)),
            Err(e) => return Err(e),
        };
        read_again = true;
        match newer_in_file(settings, &current).await {
            Some(Newer::ApiToken(token)) => {
                log::debug!("the refresh token was used by another process; using the API token it saved");
                transport.remember_secret(&token);
                return Ok(token);
            }
            Some(Newer::RefreshToken(newer)) => {
                log::debug!("the refresh token was used by another process; refreshing with the one it saved");
                transport.remember_secret(&newer);
                current = newer;
            }
            None => return Err(error.with_hint(Hint::LogInAgain)),
        }
    }
}

/// What another process saved in the config file after using our refresh token.
enum Newer {
    /// Its API token, still fresh.
    ApiToken(Secret),
    /// Its refresh token.
    RefreshToken(Secret),
}

/// The identity the config file holds now for this client's user, if it
/// differs from `used` (read under the file's lock, so a writer is finished).
async fn newer_in_file(settings: &Settings, used: &Secret) -> Option<Newer> {
    let Origin::File { path, user_name, .. } = &settings.origin else {
        return None;
    };
    let (path, user_name) = (path.clone(), user_name.clone());
    let identity = tokio::task::spawn_blocking(move || {
        config::update(&path, DEFAULT_LOCK_TIMEOUT, |c| {
            Ok(c.users.get(&user_name).and_then(|u| u.identity.clone()))
        })
    })
    .await
    .ok()?
    .ok()??;
    let refresh = identity.refresh_token.filter(|r| r != used)?;
    match identity.token.filter(|t| !is_expiring(t)) {
        Some(token) => Some(Newer::ApiToken(token)),
        None => Some(Newer::RefreshToken(refresh)),
    }
}

/// One refresh with `refresh_token`; the new tokens are written back.
async fn refresh_once(
    transport: &Transport,
    settings: &Settings,
    info: &ApiInfo,
    refresh_token: &Secret,
) -> Result<Secret> {
    let answer = transport
        .send(
            &requests::refresh(info, refresh_token),
            Some(&Bearer::new(refresh_token.clone())),
        )
        .await?;
    let issued = transport.issued_secret(&answer, "refresh answer")?;
    log::debug!("refreshed the user's API token");
    if let Origin::File { path, user_name, .. } = &settings.origin {
        let (path, user_name, token, refresh) = (
            path.clone(),
            user_name.clone(),
            issued.token.clone(),
            issued.refresh_token,
        );
        config::store::write_back(move || {
            config::update(&path, DEFAULT_LOCK_TIMEOUT, |c| {
                if let Some(identity) = c.users.get_mut(&user_name).and_then(|u| u.identity.as_mut()) {
                    identity.token = Some(token);
                    if let Some(r) = refresh {
                        identity.refresh_token = Some(r);
                    }
                }
                Ok(())
            })
        })
        .await;
    }
    Ok(issued.token)
}
