//! Delivery in Node: SPEC strings in (one, an array, or for a rotation a
//! mapping or a function of the token), plain report objects out. The core
//! decides everything.

use napi::bindgen_prelude::*;
use napi_derive::napi;
use wayfinder_tokens::deliver::{Deliverer, DeliveryReport as CoreReport, Destination, Spec};
use wayfinder_tokens::fleet::TokenRef;
use wayfinder_tokens::{Argument, Error as CoreError, FieldError};

/// One token of a batch and where its new secret goes.
pub type Destinations = (TokenRef, Vec<Destination>);

fn not_a_destination() -> CoreError {
    CoreError::from_field_errors(vec![FieldError::about(
        Argument::Deliver,
        "invalidType",
        "must be a SPEC string (such as \"github:acme/app\") or an array of them",
    )])
}

/// The SPECs of a `deliver` option: a string or an array of strings, each checked.
pub fn specs(value: Option<&Unknown<'_>>) -> Result<wayfinder_tokens::Result<Option<Vec<Spec>>>> {
    let Some(value) = value else { return Ok(Ok(None)) };
    let texts: Vec<String> = match value.get_type()? {
        ValueType::Undefined | ValueType::Null => return Ok(Ok(None)),
        ValueType::String => vec![value.coerce_to_string()?.into_utf8()?.into_owned()?],
        ValueType::Object if value.is_array()? => {
            let array = Array::from_unknown(*value)?;
            let mut texts = Vec::with_capacity(array.len() as usize);
            for i in 0..array.len() {
                let item: Unknown<'_> = array.get_element(i)?;
                if item.get_type()? != ValueType::String {
                    return Ok(Err(not_a_destination()));
                }
                texts.push(item.coerce_to_string()?.into_utf8()?.into_owned()?);
            }
            texts
        }
        _ => return Ok(Err(not_a_destination())),
    };
    Ok(texts
        .iter()
        .map(|t| Spec::parse(t))
        .collect::<wayfinder_tokens::Result<Vec<_>>>()
        .map(Some))
}

/// Every token's destinations for a rotation's `deliver`: the same SPECs for
/// all (placeholders filled in per token), an object mapping `"workspace/name"`
/// to SPECs, or a function `(workspace, name) => SPECs`, called now, before
/// anything is reset.
pub fn for_batch(
    value: Option<&Unknown<'_>>,
    targets: &[TokenRef],
) -> Result<wayfinder_tokens::Result<Option<Vec<Destinations>>>> {
    let Some(value) = value.filter(|v| !matches!(v.get_type(), Ok(ValueType::Undefined | ValueType::Null))) else {
        return Ok(Ok(None));
    };
    let kind = value.get_type()?;
    let mut tokens = Vec::with_capacity(targets.len());
    for target in targets {
        let chosen: Option<Unknown<'_>> = match kind {
            ValueType::Function => {
                let function: Function<'_, FnArgs<(String, String)>, Unknown<'_>> = Function::from_unknown(*value)?;
                Some(function.call((target.workspace.clone(), target.name.clone()).into())?)
            }
            ValueType::Object if !value.is_array()? => {
                let object = Object::from_unknown(*value)?;
                object.get::<Unknown<'_>>(&format!("{}/{}", target.workspace, target.name))?
            }
            _ => Some(*value),
        };
        let specs = match specs(chosen.as_ref())? {
            Ok(specs) => specs.unwrap_or_default(),
            Err(e) => return Ok(Err(e)),
        };
        let resolved = specs
            .iter()
            .map(|s| s.resolve(&target.name, Some(&target.workspace)))
            .collect();
        match resolved {
            Ok(destinations) => tokens.push((target.clone(), destinations)),
            Err(e) => return Ok(Err(e)),
        }
    }
    Ok(Ok(Some(tokens)))
}

/// A deliverer reading this process's environment (`GITHUB_TOKEN`, `VAULT_ADDR`…).
pub fn deliverer() -> wayfinder_tokens::Result<Deliverer> {
    Deliverer::from_env()
}

/// A destination that verified the secret, and how.
#[napi(object, object_from_js = false)]
pub struct VerifiedDelivery {
    /// The destination's SPEC, placeholders filled in.
    pub destination: String,
    /// What verified it (`version 4`, `WAYFINDER_TOKEN updated at …`).
    pub detail: String,
}

/// A destination that did not take the secret, and why.
#[napi(object, object_from_js = false)]
pub struct FailedDelivery {
    /// The destination's SPEC, placeholders filled in.
    pub destination: String,
    /// The error's stable code (`PERMISSION_DENIED`, `SERVER`…).
    pub code: String,
    /// What went wrong.
    pub message: String,
}

/// Where one secret went.
#[napi(object, object_from_js = false)]
pub struct DeliveryReport {
    /// The token's name.
    pub name: String,
    /// Its workspace (absent for platform tokens).
    pub workspace: Option<String>,
    /// True when every destination verified the secret.
    pub ok: bool,
    /// The destinations that hold it.
    pub delivered: Vec<String>,
    /// How each of those verified it.
    pub verified: Vec<VerifiedDelivery>,
    /// The destinations that do not, with why.
    pub failed: Vec<FailedDelivery>,
    /// The 0600 file holding the secret while a destination lacks it
    /// (`deliverPending()` finishes the job).
    pub recovery: Option<String>,
}

impl From<&CoreReport> for DeliveryReport {
    fn from(report: &CoreReport) -> DeliveryReport {
        DeliveryReport {
            name: report.name.clone(),
            workspace: report.workspace.clone(),
            ok: report.is_complete(),
            delivered: report.delivered().map(str::to_owned).collect(),
            verified: report
                .outcomes
                .iter()
                .filter_map(|o| {
                    let detail = o.result.as_ref().ok()?;
                    Some(VerifiedDelivery {
                        destination: o.destination.clone(),
                        detail: detail.clone(),
                    })
                })
                .collect(),
            failed: report
                .failed()
                .map(|(d, e)| FailedDelivery {
                    destination: d.to_owned(),
                    code: e.code().to_owned(),
                    message: e.describe(&crate::spelling::NodeSpelling),
                })
                .collect(),
            recovery: report.recovery.as_ref().map(|p| p.display().to_string()),
        }
    }
}

/// A secret waiting in the recovery store.
#[napi(object, object_from_js = false)]
pub struct PendingDelivery {
    /// The token's name.
    pub name: String,
    /// Its workspace (absent for platform tokens).
    pub workspace: Option<String>,
    /// The destinations that still lack it.
    pub waiting_for: Vec<String>,
    /// What delivering it did (absent when only listed).
    pub report: Option<DeliveryReport>,
}

/// Lists (or delivers) what waits in the recovery store.
pub async fn pending(list_only: bool) -> wayfinder_tokens::Result<Vec<PendingDelivery>> {
    let waiting = deliverer()?.pending(!list_only).await?;
    Ok(waiting
        .into_iter()
        .map(|p| PendingDelivery {
            report: p.report.as_ref().map(Into::into),
            name: p.name,
            workspace: p.workspace,
            waiting_for: p.waiting_for,
        })
        .collect())
}

/// Delivers `issued`'s secret to `specs`, each checked first.
pub async fn deliver(
    issued: wayfinder_tokens::IssuedToken,
    specs: Vec<Spec>,
) -> wayfinder_tokens::Result<std::sync::Arc<CoreReport>> {
    Ok(std::sync::Arc::new(deliverer()?.deliver_to(&issued, &specs).await?))
}

/// Options of a destination: names start with `prefix` (`PROD_` gives `PROD_WAYFINDER_TOKEN`).
#[napi(object, object_to_js = false)]
#[derive(Default)]
pub struct DestinationOptions {
    /// Put before each name.
    pub prefix: Option<String>,
    /// GitHub: a deployment environment of the repository.
    pub environment: Option<String>,
    /// GitHub organisation: `private` (default), `all` or `selected`.
    pub visibility: Option<String>,
    /// GitHub organisation: the repositories of `visibility: 'selected'`.
    pub repositories: Option<Vec<String>>,
    /// AWS: the region (default: the standard chain's).
    pub region: Option<String>,
    /// File: `export` (default) or `kubernetes`.
    pub format: Option<String>,
}

/// `?key=value&…` of the options given.
fn query(options: &[(&str, Option<String>)]) -> String {
    let given: Vec<String> = options
        .iter()
        .filter_map(|(k, v)| v.as_ref().filter(|v| !v.is_empty()).map(|v| format!("{k}={v}")))
        .collect();
    if given.is_empty() {
        String::new()
    } else {
        format!("?{}", given.join("&"))
    }
}

/// A repository's (or with `environment`, an environment's) Actions secret: `github:OWNER/REPO[@ENV]`.
#[napi(namespace = "destinations")]
pub fn github(repository: String, options: Option<DestinationOptions>) -> String {
    let o = options.unwrap_or_default();
    let environment = o.environment.map(|e| format!("@{e}")).unwrap_or_default();
    format!("github:{repository}{environment}{}", query(&[("prefix", o.prefix)]))
}

/// An organisation's Actions secret: `github-org:ORG`.
#[napi(namespace = "destinations")]
pub fn github_org(organization: String, options: Option<DestinationOptions>) -> String {
    let o = options.unwrap_or_default();
    let repositories = o.repositories.map(|r| r.join(","));
    format!(
        "github-org:{organization}{}",
        query(&[
            ("visibility", o.visibility),
            ("repositories", repositories),
            ("prefix", o.prefix)
        ])
    )
}

/// A Vault or OpenBao KV v2 secret: `vault:MOUNT/PATH`.
#[napi(namespace = "destinations")]
pub fn vault(path: String, options: Option<DestinationOptions>) -> String {
    let o = options.unwrap_or_default();
    format!("vault:{path}{}", query(&[("prefix", o.prefix)]))
}

/// An AWS Secrets Manager secret: `aws:SECRET_ID`.
#[napi(namespace = "destinations")]
pub fn aws(secret_id: String, options: Option<DestinationOptions>) -> String {
    let o = options.unwrap_or_default();
    format!(
        "aws:{secret_id}{}",
        query(&[("region", o.region), ("prefix", o.prefix)])
    )
}

/// A command reading the secret on standard input: `cmd:ARGV…` (each argument quoted for the split).
#[napi(namespace = "destinations")]
pub fn command(argv: Vec<String>) -> String {
    format!("cmd:{}", shell_words::join(argv))
}

/// A private file: `file:PATH` (`format: 'kubernetes'` for a Secret manifest).
#[napi(namespace = "destinations")]
pub fn file(path: String, options: Option<DestinationOptions>) -> String {
    let o = options.unwrap_or_default();
    format!("file:{path}{}", query(&[("format", o.format), ("prefix", o.prefix)]))
}
