//! Destinations as data, parsed from SPEC strings (`github:acme/app@prod`,
//! `vault:secret/ci/{workspace}/{name}?prefix=PROD_`…). A [`Spec`] may hold
//! placeholders; [`Spec::resolve`] fills them in for one token and gives a
//! [`Destination`]. Every rule is checked at parse time, before any request.

use std::fmt;
use std::path::PathBuf;

use crate::error::{Argument, Error, FieldError, Result};

/// The placeholders a SPEC may hold, filled in per token.
pub const PLACEHOLDERS: [&str; 2] = ["{name}", "{workspace}"];

/// Who may read an organisation secret.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Visibility {
    /// Private repositories of the organisation (GitHub's default here).
    Private,
    /// Every repository.
    All,
    /// The listed repositories only.
    Selected(Vec<String>),
}

/// How a file destination is written.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum FileFormat {
    /// `KEY=value` lines (`-o export`).
    Export,
    /// A Kubernetes `Secret` manifest.
    Kubernetes,
}

/// Where a secret goes, resolved for one token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Target {
    /// A repository's Actions secrets, or one environment's.
    GithubRepository {
        /// The owner.
        owner: String,
        /// The repository.
        repository: String,
        /// A deployment environment of the repository.
        environment: Option<String>,
    },
    /// An organisation's Actions secrets.
    GithubOrganisation {
        /// The organisation.
        organisation: String,
        /// Who may read them.
        visibility: Visibility,
    },
    /// An AWS Secrets Manager secret.
    Aws {
        /// Its name or ARN.
        secret_id: String,
        /// The region, when the SPEC names one (else the standard chain's).
        region: Option<String>,
    },
    /// A Vault or OpenBao KV version 2 secret.
    Vault {
        /// The secrets engine's mount (`secret`).
        mount: String,
        /// The secret's path under the mount.
        path: String,
    },
    /// A command reading the secret on its standard input.
    Command {
        /// The program and its arguments, split as a POSIX shell would (no shell runs).
        argv: Vec<String>,
    },
    /// A private file, written atomically with mode 0600.
    File {
        /// Where.
        path: PathBuf,
        /// In which format.
        format: FileFormat,
    },
}

/// A destination for one token: where, and the names the values go under.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Destination {
    /// Where.
    pub target: Target,
    /// Put before each name: `PROD_` gives `PROD_WAYFINDER_TOKEN`.
    pub prefix: String,
    /// The SPEC it came from, placeholders filled in: how reports name it.
    pub spec: String,
}

impl fmt::Display for Destination {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.spec)
    }
}

/// A SPEC string, checked; it may hold `{name}` and `{workspace}`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Spec {
    text: String,
}

impl fmt::Display for Spec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

impl std::str::FromStr for Spec {
    type Err = Error;
    fn from_str(text: &str) -> Result<Spec> {
        Spec::parse(text)
    }
}

impl Spec {
    /// Checks `text`: the scheme, the target's shape, the options, and that
    /// every `{…}` is a placeholder that exists.
    pub fn parse(text: &str) -> Result<Spec> {
        let spec = Spec { text: text.to_owned() };
        spec.placeholders()?;
        // Placeholders stand for a token name and a workspace: both DNS labels.
        parse_destination(&text.replace("{name}", "name").replace("{workspace}", "workspace"))?;
        Ok(spec)
    }

    /// Whether the SPEC has a placeholder (a different destination per token).
    pub fn is_template(&self) -> bool {
        PLACEHOLDERS.iter().any(|p| self.text.contains(p))
    }

    /// The destination for the token `name` in `workspace` (`None` for a
    /// platform token, where `{workspace}` is an error).
    pub fn resolve(&self, name: &str, workspace: Option<&str>) -> Result<Destination> {
        let uses_workspace = self.placeholders()?.contains(&"{workspace}");
        let text = match (workspace, uses_workspace) {
            (Some(ws), _) => self.text.replace("{workspace}", ws),
            (None, false) => self.text.clone(),
            (None, true) => {
                return Err(invalid(
                    &self.text,
                    "uses {workspace}, and a platform access token has no workspace",
                ));
            }
        };
        parse_destination(&text.replace("{name}", name))
    }

    /// Every `{…}` in the SPEC, each checked to be a placeholder that exists.
    fn placeholders(&self) -> Result<Vec<&'static str>> {
        let mut found = Vec::new();
        let mut rest = self.text.as_str();
        while let Some(open) = rest.find('{') {
            let after = &rest[open..];
            let Some(close) = after.find('}') else {
                return Err(invalid(&self.text, "has a `{` without its `}`"));
            };
            let word = &after[..=close];
            match PLACEHOLDERS.iter().find(|p| **p == word) {
                Some(p) => found.push(*p),
                None => {
                    return Err(invalid(
                        &self.text,
                        &format!(
                            "has the placeholder {word}, which does not exist (there are {{name}} and {{workspace}})"
                        ),
                    ));
                }
            }
            rest = &after[close + 1..];
        }
        Ok(found)
    }
}

/// The error for a SPEC, naming it.
fn invalid(spec: &str, rule: &str) -> Error {
    Error::from_field_errors(vec![FieldError::about(
        Argument::Deliver,
        "invalidValue",
        format!("{:?} {rule}", crate::render::printable(spec)),
    )])
}

/// The schemes, for the error that lists them.
const SCHEMES: &str =
    "github:OWNER/REPO[@ENVIRONMENT], github-org:ORG, vault:MOUNT/PATH, aws:SECRET_ID, cmd:COMMAND or file:PATH";

fn parse_destination(text: &str) -> Result<Destination> {
    let Some((scheme, rest)) = text.split_once(':') else {
        return Err(invalid(text, &format!("has no scheme: use {SCHEMES}")));
    };
    // A command's text is its own: a `?` or `&` in it is the command's.
    if scheme == "cmd" {
        let argv = shell_words::split(rest).map_err(|e| invalid(text, &format!("is not a command line: {e}")))?;
        if argv.is_empty() {
            return Err(invalid(text, "names no command"));
        }
        let target = Target::Command { argv };
        return Ok(Destination {
            target,
            prefix: String::new(),
            spec: text.to_owned(),
        });
    }
    let (body, query) = rest.split_once('?').unwrap_or((rest, ""));
    let mut options = Options::parse(text, query)?;
    let prefix = options.take("prefix").unwrap_or_default();
    check_prefix(text, &prefix)?;
    let target = match scheme {
        "github" => github_repository(text, body)?,
        "github-org" => github_organisation(text, body, &mut options)?,
        "vault" => vault(text, body)?,
        "aws" => aws(text, body, &mut options)?,
        "file" => file(text, body, &mut options)?,
        _ => {
            return Err(invalid(
                text,
                &format!("has an unknown scheme {scheme:?}: use {SCHEMES}"),
            ));
        }
    };
    options.finish(text)?;
    Ok(Destination {
        target,
        prefix,
        spec: text.to_owned(),
    })
}

/// `?key=value&…`, each key once.
struct Options {
    pairs: Vec<(String, String)>,
}

impl Options {
    fn parse(text: &str, query: &str) -> Result<Options> {
        let mut pairs: Vec<(String, String)> = Vec::new();
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let Some((key, value)) = pair.split_once('=') else {
                return Err(invalid(
                    text,
                    &format!("has the option {pair:?} without a value (key=value)"),
                ));
            };
            if pairs.iter().any(|(k, _)| k == key) {
                return Err(invalid(text, &format!("gives the option {key:?} twice")));
            }
            pairs.push((key.to_owned(), value.to_owned()));
        }
        Ok(Options { pairs })
    }

    fn take(&mut self, key: &str) -> Option<String> {
        let at = self.pairs.iter().position(|(k, _)| k == key)?;
        Some(self.pairs.remove(at).1)
    }

    fn finish(self, text: &str) -> Result<()> {
        match self.pairs.first() {
            Some((key, _)) => Err(invalid(text, &format!("has an unknown option {key:?}"))),
            None => Ok(()),
        }
    }
}

fn check_prefix(text: &str, prefix: &str) -> Result<()> {
    let ok = prefix
        .chars()
        .enumerate()
        .all(|(i, c)| c.is_ascii_uppercase() || c == '_' || (i > 0 && c.is_ascii_digit()));
    if ok {
        return Ok(());
    }
    Err(invalid(
        text,
        "has a prefix that is not upper-case letters, digits and underscores, not starting with a digit",
    ))
}

/// GitHub's owner and organisation names: letters, digits and single inner hyphens, up to 39.
fn is_github_owner(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 39
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-')
        && !name.starts_with('-')
        && !name.ends_with('-')
}

/// A repository name: letters, digits, `.`, `_`, `-`, up to 100, and not `.` or `..`.
fn is_github_repository(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 100
        && name != "."
        && name != ".."
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
}

fn github_repository(text: &str, body: &str) -> Result<Target> {
    let (repo, environment) = match body.split_once('@') {
        Some((repo, env)) => (repo, Some(env)),
        None => (body, None),
    };
    let Some((owner, repository)) = repo.split_once('/') else {
        return Err(invalid(text, "must name a repository as OWNER/REPO"));
    };
    if !is_github_owner(owner) || !is_github_repository(repository) {
        return Err(invalid(
            text,
            "must name a repository as OWNER/REPO (letters, digits, `-` in OWNER; also `.` and `_` in REPO)",
        ));
    }
    if let Some(env) = environment {
        let ok = !env.is_empty() && env.len() <= 255 && !env.chars().any(|c| c.is_control() || "/\\\"'`,;".contains(c));
        if !ok {
            return Err(invalid(text, "has an environment name GitHub does not accept"));
        }
    }
    Ok(Target::GithubRepository {
        owner: owner.to_owned(),
        repository: repository.to_owned(),
        environment: environment.map(str::to_owned),
    })
}

fn github_organisation(text: &str, body: &str, options: &mut Options) -> Result<Target> {
    if !is_github_owner(body) {
        return Err(invalid(text, "must name an organisation (letters, digits and `-`)"));
    }
    let repositories = options.take("repositories");
    let visibility = match (options.take("visibility").as_deref(), repositories) {
        (None | Some("private"), None) => Visibility::Private,
        (Some("all"), None) => Visibility::All,
        (Some("selected") | None, Some(list)) => {
            let names: Vec<String> = list.split(',').map(str::to_owned).collect();
            if names.iter().any(|n| !is_github_repository(n)) {
                return Err(invalid(text, "lists a repository name GitHub does not accept"));
            }
            Visibility::Selected(names)
        }
        (Some("selected"), None) => {
            return Err(invalid(text, "has visibility=selected without repositories=NAME,…"));
        }
        (Some("private" | "all"), Some(_)) => {
            return Err(invalid(text, "lists repositories, which only visibility=selected uses"));
        }
        (Some(other), _) => {
            return Err(invalid(
                text,
                &format!("has visibility={other:?}: use private, all or selected"),
            ));
        }
    };
    Ok(Target::GithubOrganisation {
        organisation: body.to_owned(),
        visibility,
    })
}

/// A path segment Vault and the URL both take as it is.
fn is_segment(segment: &str) -> bool {
    !segment.is_empty()
        && segment != "."
        && segment != ".."
        && segment.chars().all(|c| c.is_ascii_alphanumeric() || "._-".contains(c))
}

fn vault(text: &str, body: &str) -> Result<Target> {
    let Some((mount, path)) = body.split_once('/') else {
        return Err(invalid(
            text,
            "must be MOUNT/PATH (the KV version 2 mount, then the secret's path)",
        ));
    };
    if !is_segment(mount) || !path.split('/').all(is_segment) {
        return Err(invalid(
            text,
            "must be MOUNT/PATH with no empty, `.` or `..` segment (letters, digits, `.`, `_`, `-`)",
        ));
    }
    Ok(Target::Vault {
        mount: mount.to_owned(),
        path: path.to_owned(),
    })
}

/// A secret's name (letters, digits and `/_+=.@-`, up to 512, no empty or `..` segment) or its ARN.
fn aws(text: &str, body: &str, options: &mut Options) -> Result<Target> {
    let name = body
        .strip_prefix("arn:")
        .map_or(body, |arn| arn.rsplit(':').next().unwrap_or_default());
    let ok = !name.is_empty()
        && body.len() <= 2048
        && name.len() <= 512
        && name.chars().all(|c| c.is_ascii_alphanumeric() || "/_+=.@-".contains(c))
        && name.split('/').all(|s| !s.is_empty() && s != "." && s != "..");
    if !ok {
        return Err(invalid(
            text,
            "must name a secret (letters, digits and /_+=.@-, no empty or `..` segment) or give its ARN",
        ));
    }
    let region = options.take("region");
    if let Some(r) = &region
        && (r.is_empty()
            || !r
                .chars()
                .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-'))
    {
        return Err(invalid(
            text,
            &format!("has region={r:?}, which is not an AWS region name"),
        ));
    }
    Ok(Target::Aws {
        secret_id: body.to_owned(),
        region,
    })
}

fn file(text: &str, body: &str, options: &mut Options) -> Result<Target> {
    if body.is_empty() || body.contains('\0') {
        return Err(invalid(text, "must name a file"));
    }
    let format = match options.take("format").as_deref() {
        None | Some("export") => FileFormat::Export,
        Some("kubernetes") => FileFormat::Kubernetes,
        Some(other) => {
            return Err(invalid(
                text,
                &format!("has format={other:?}: use export or kubernetes"),
            ));
        }
    };
    // Absolute from here on: a pending delivery may be finished from another folder.
    let path =
        std::path::absolute(body).map_err(|e| invalid(text, &format!("names a file that cannot be resolved: {e}")))?;
    Ok(Target::File { path, format })
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    fn parsed(text: &str) -> Destination {
        Spec::parse(text)
            .and_then(|s| s.resolve("app", Some("dev")))
            .expect(text)
    }

    fn refused(text: &str) -> String {
        let error = Spec::parse(text).expect_err(text);
        assert_eq!(error.field_errors()[0].field, Field::Argument(Argument::Deliver));
        error.to_string()
    }

    use crate::error::Field;

    #[test]
    fn reads_every_scheme() {
        assert_eq!(
            parsed("github:acme/app@prod").target,
            Target::GithubRepository {
                owner: "acme".into(),
                repository: "app".into(),
                environment: Some("prod".into())
            }
        );
        assert_eq!(
            parsed("github-org:acme?visibility=selected&repositories=a,b.c").target,
            Target::GithubOrganisation {
                organisation: "acme".into(),
                visibility: Visibility::Selected(vec!["a".into(), "b.c".into()])
            }
        );
        assert_eq!(
            parsed("vault:secret/ci/{workspace}/{name}?prefix=PROD_"),
            Destination {
                target: Target::Vault {
                    mount: "secret".into(),
                    path: "ci/dev/app".into()
                },
                prefix: "PROD_".into(),
                spec: "vault:secret/ci/dev/app?prefix=PROD_".into(),
            }
        );
        assert_eq!(
            parsed("aws:ci/{workspace}/{name}?region=eu-west-1").target,
            Target::Aws {
                secret_id: "ci/dev/app".into(),
                region: Some("eu-west-1".into())
            }
        );
        assert_eq!(
            parsed("aws:arn:aws:secretsmanager:us-east-1:123456789012:secret:ci/app-AbCdEf").target,
            Target::Aws {
                secret_id: "arn:aws:secretsmanager:us-east-1:123456789012:secret:ci/app-AbCdEf".into(),
                region: None
            }
        );
        assert_eq!(
            parsed("cmd:gh secret set 'A B' -R o/r?x=1").target,
            Target::Command {
                argv: vec![
                    "gh".into(),
                    "secret".into(),
                    "set".into(),
                    "A B".into(),
                    "-R".into(),
                    "o/r?x=1".into()
                ]
            }
        );
        assert_eq!(
            parsed("file:/tmp/{name}.yaml?format=kubernetes").target,
            Target::File {
                path: "/tmp/app.yaml".into(),
                format: FileFormat::Kubernetes
            }
        );
    }

    #[test]
    fn refuses_bad_specs_naming_them() {
        for (text, words) in [
            ("s3:bucket", "unknown scheme \"s3\""),
            ("nothing", "has no scheme"),
            ("github:acme", "OWNER/REPO"),
            ("github:acme/..", "OWNER/REPO"),
            ("github:ac me/app", "OWNER/REPO"),
            ("vault:secret//x", "empty"),
            ("vault:secret/../x", "`..`"),
            ("vault:secret", "MOUNT/PATH"),
            ("vault:secret/{nmae}", "{nmae}, which does not exist"),
            ("vault:secret/{name", "without its `}`"),
            ("github:a/b?prefix=lower", "prefix"),
            ("github:a/b?colour=red", "unknown option \"colour\""),
            ("github:a/b?prefix=A_&prefix=B_", "twice"),
            ("github-org:acme?visibility=selected", "without repositories"),
            ("github-org:acme?visibility=public", "visibility=\"public\""),
            ("cmd:", "names no command"),
            ("cmd:gh 'unclosed", "not a command line"),
            ("file:", "must name a file"),
            ("aws:", "must name a secret"),
            ("aws:ci//app", "must name a secret"),
            ("aws:ci/../app", "must name a secret"),
            ("aws:ci app", "must name a secret"),
            ("aws:ci?region=EU_WEST", "not an AWS region"),
        ] {
            let message = refused(text);
            assert!(message.contains(words), "{text}: {message}");
            assert!(message.starts_with("deliver "), "{message}");
        }
    }

    #[test]
    fn a_relative_file_is_made_absolute() {
        let Target::File { path, .. } = parsed("file:relative.env").target else {
            panic!("a file")
        };
        assert!(
            path.is_absolute() && path.ends_with("relative.env"),
            "{}",
            path.display()
        );
    }

    #[test]
    fn a_platform_token_has_no_workspace_to_fill_in() {
        let spec = Spec::parse("vault:secret/{workspace}/{name}").unwrap();
        assert!(spec.is_template());
        let error = spec.resolve("app", None).unwrap_err();
        assert!(error.to_string().contains("no workspace"), "{error}");
        assert!(Spec::parse("vault:secret/{name}").unwrap().resolve("app", None).is_ok());
    }
}
