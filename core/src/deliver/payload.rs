//! What a destination receives: the secret and its two companions under
//! their names, and labels saying which token and generation they are
//! (never the secret).

use crate::error::Result;
use crate::model::{ENV_SERVER, ENV_TOKEN, ENV_WORKSPACE, IssuedToken};
use crate::secret::Secret;

/// One named value.
#[derive(Debug)]
pub(crate) struct Entry<'a> {
    /// `PREFIX` + `WAYFINDER_TOKEN`, `…_SERVER` or `…_WORKSPACE`.
    pub name: String,
    /// The value.
    pub value: &'a str,
    /// Whether the value is the secret (a GitHub secret rather than a variable).
    pub secret: bool,
}

/// The values of one token for one destination, and its labels.
#[derive(Debug)]
pub(crate) struct Payload<'a> {
    /// Server, token, and (workspace tokens only) workspace, in that order.
    pub entries: Vec<Entry<'a>>,
    /// The token's name.
    pub name: &'a str,
    /// Its workspace; `None` for a platform token.
    pub workspace: Option<&'a str>,
    /// How many secrets the token has been issued, when known.
    pub generation: Option<i64>,
    /// When this secret was issued (RFC 3339).
    pub rotated_at: String,
    /// The token object's uid: which incarnation of the name (a token
    /// deleted and created again starts its generations over).
    pub uid: Option<&'a str>,
    /// The secret itself.
    pub secret: &'a Secret,
}

impl<'a> Payload<'a> {
    /// The payload of `issued` under names starting with `prefix`.
    pub fn of(issued: &'a IssuedToken, prefix: &str) -> Result<Payload<'a>> {
        let secret = issued.secret()?;
        let mut entries = vec![
            Entry {
                name: format!("{prefix}{ENV_SERVER}"),
                value: &issued.server,
                secret: false,
            },
            Entry {
                name: format!("{prefix}{ENV_TOKEN}"),
                value: secret.expose(),
                secret: true,
            },
        ];
        if let Some(workspace) = &issued.workspace {
            entries.push(Entry {
                name: format!("{prefix}{ENV_WORKSPACE}"),
                value: workspace,
                secret: false,
            });
        }
        Ok(Payload {
            entries,
            name: &issued.name,
            workspace: issued.workspace.as_deref(),
            generation: generation_of(issued),
            rotated_at: rotated_at(issued),
            uid: issued.resource.metadata.uid.as_deref(),
            secret,
        })
    }

    /// The labels as `(key, value)`: token, workspace, generation, time.
    pub fn labels(&self) -> Vec<(&'static str, String)> {
        let mut labels = vec![("token", self.name.to_owned())];
        if let Some(uid) = self.uid {
            labels.push(("uid", uid.to_owned()));
        }
        if let Some(ws) = self.workspace {
            labels.push(("workspace", ws.to_owned()));
        }
        if let Some(generation) = self.generation {
            labels.push(("generation", generation.to_string()));
        }
        labels.push(("rotated-at", self.rotated_at.clone()));
        labels
    }
}

/// The token's generation: the server's status, else the secret's own claim.
pub(crate) fn generation_of(issued: &IssuedToken) -> Option<i64> {
    issued.resource.status.as_ref().and_then(|s| s.generation).or_else(|| {
        issued
            .token
            .as_ref()
            .and_then(|t| crate::auth::read_generation(t.expose()))
    })
}

/// When the secret was issued: the server's status, else now.
fn rotated_at(issued: &IssuedToken) -> String {
    issued
        .resource
        .status
        .as_ref()
        .and_then(|s| s.last_issued.clone())
        .unwrap_or_else(|| {
            jiff::Timestamp::now()
                .round(jiff::Unit::Second)
                .unwrap_or_default()
                .to_string()
        })
}
