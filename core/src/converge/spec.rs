//! The tokens spec: a YAML file naming every token a team keeps alive, its
//! roles, where its secret goes and when it rotates. Read into
//! [`TokenSpec`]; every problem in the file (unknown keys, duplicates, a role
//! of the wrong kind, a bad duration or SPEC) is reported at once, each with
//! its line and column, before any request.

use std::collections::HashSet;
use std::path::Path;
use std::time::Duration;

use super::yaml::{self, Node, Position};
use crate::deliver::{Spec, Target};
use crate::error::{Error, Field, FieldError, Result};
use crate::model::{AccessRole, Scope};
use crate::names;

/// The only `apiVersion` this library reads.
pub const API_VERSION: &str = "wayfinder-tokens/v1";

/// The JSON Schema of the spec, for editors.
pub const JSON_SCHEMA: &str = include_str!("tokens.schema.json");

/// How a token is rotated.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Strategy {
    /// Reset its secret: the old one stops working at once, so consumers
    /// fail until the new one reaches them.
    #[default]
    Reset,
    /// Two Wayfinder tokens, `NAME-a` and `NAME-b`: the one no destination
    /// holds is reset, delivered and verified everywhere; the other keeps
    /// working until the next rotation.
    Slots,
}

impl Strategy {
    /// `reset` or `slots`.
    pub fn as_str(self) -> &'static str {
        match self {
            Strategy::Reset => "reset",
            Strategy::Slots => "slots",
        }
    }
}

/// When a token rotates.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct RotatePolicy {
    /// Rotate when the secret is older than this.
    pub max_age: Option<Duration>,
    /// Rotate when the token expires within this.
    pub before_expiry: Option<Duration>,
    /// How.
    pub strategy: Strategy,
}

/// One token of the spec.
#[derive(Clone, Debug, PartialEq)]
pub struct DesiredToken {
    /// Its name (with slots, the Wayfinder tokens are `NAME-a` and `NAME-b`).
    pub name: String,
    /// Its workspace, or platform.
    pub scope: Scope,
    /// Its description.
    pub description: Option<String>,
    /// Its lifetime, from its creation.
    pub expires_in: Option<Duration>,
    /// Roles in Wayfinder.
    pub wayfinder_roles: Vec<String>,
    /// Roles in clusters.
    pub access_roles: Vec<AccessRole>,
    /// Where its secret goes.
    pub deliver: Vec<Spec>,
    /// When and how it rotates.
    pub rotate: RotatePolicy,
    /// Where it is written in the file.
    pub line: usize,
}

/// The Wayfinder token names of slot `a` and `b`.
pub const SLOT_SUFFIXES: [&str; 2] = ["-a", "-b"];

impl DesiredToken {
    /// The Wayfinder tokens it is made of: its name, or its two slots.
    pub fn wayfinder_names(&self) -> Vec<String> {
        match self.rotate.strategy {
            Strategy::Reset => vec![self.name.clone()],
            Strategy::Slots => SLOT_SUFFIXES.iter().map(|s| format!("{}{s}", self.name)).collect(),
        }
    }

    /// `workspace/name`, or `platform/name`.
    pub fn label(&self) -> String {
        format!("{}/{}", self.scope.workspace().unwrap_or("platform"), self.name)
    }
}

/// A whole spec file.
#[derive(Clone, Debug, PartialEq)]
pub struct TokenSpec {
    /// The tokens, in the file's order.
    pub tokens: Vec<DesiredToken>,
    /// Where it was read from, as given (for messages).
    pub source: String,
}

impl TokenSpec {
    /// Reads and checks the spec at `path`.
    pub fn load(path: &Path) -> Result<TokenSpec> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::config_with(format!("cannot read the spec {}: {e}", path.display()), e))?;
        TokenSpec::parse(&text, &path.display().to_string())
    }

    /// Checks the spec `text`; `source` names it in errors (a path).
    pub fn parse(text: &str, source: &str) -> Result<TokenSpec> {
        let root = yaml::parse(text).map_err(|e| {
            Error::from_field_errors(vec![FieldError::new(
                Field::named("spec"),
                "syntax",
                format!("{source}:{}:{}: {}", e.position.line, e.position.column, e.message),
            )])
        })?;
        let mut reader = Reader {
            source,
            problems: Vec::new(),
        };
        let tokens = reader.spec(&root);
        if reader.problems.is_empty() {
            Ok(TokenSpec {
                tokens,
                source: source.to_owned(),
            })
        } else {
            reader.problems.sort_by_key(|(at, _)| *at);
            Err(Error::from_field_errors(
                reader.problems.into_iter().map(|(_, e)| e).collect(),
            ))
        }
    }

    /// The workspaces the spec names, in order, once each.
    pub fn workspaces(&self) -> Vec<String> {
        let mut seen = Vec::new();
        for token in &self.tokens {
            if let Some(ws) = token.scope.workspace()
                && !seen.iter().any(|s| s == ws)
            {
                seen.push(ws.to_owned());
            }
        }
        seen
    }

    /// Whether any token is a platform token.
    pub fn has_platform(&self) -> bool {
        self.tokens.iter().any(|t| t.scope == Scope::Platform)
    }
}

/// Collects every problem while reading.
struct Reader<'a> {
    source: &'a str,
    /// Each problem and where it is (reported in the file's order).
    problems: Vec<((usize, usize), FieldError)>,
}

impl Reader<'_> {
    fn problem(&mut self, at: Position, path: &str, code: &str, what: impl std::fmt::Display) {
        self.problems.push((
            (at.line, at.column),
            FieldError::new(
                Field::named(path),
                code,
                format!("{}:{}:{}: {path} {what}", self.source, at.line, at.column),
            ),
        ));
    }

    /// A mapping's pairs, with unknown and repeated keys reported.
    fn mapping<'n>(&mut self, node: &'n Node, path: &str, known: &[&str]) -> Vec<(&'n str, &'n Node)> {
        let Node::Mapping(pairs, _) = node else {
            self.problem(
                node.position(),
                path,
                "type",
                format!("must be a mapping, not {}", node.kind()),
            );
            return Vec::new();
        };
        let mut seen = HashSet::new();
        let mut found = Vec::new();
        for (key, value) in pairs {
            let Node::Scalar(name, _, at) = key else {
                self.problem(key.position(), path, "type", "has a key that is not a string");
                continue;
            };
            let here = join(path, name);
            if !seen.insert(name.as_str()) {
                self.problem(*at, &here, "duplicate", "is given twice");
            } else if !known.contains(&name.as_str()) {
                let hint = names::closest(name, known)
                    .map(|k| format!(" (did you mean {k}?)"))
                    .unwrap_or_default();
                self.problem(
                    *at,
                    &here,
                    "unknown",
                    format!("is not a known key{hint}; known here: {}", known.join(", ")),
                );
            } else {
                found.push((name.as_str(), value));
            }
        }
        found
    }

    fn string(&mut self, node: &Node, path: &str) -> Option<String> {
        match node {
            Node::Scalar(text, _, _) if !node.is_null() => Some(text.clone()),
            _ => {
                self.problem(
                    node.position(),
                    path,
                    "type",
                    format!("must be a string, not {}", node.kind()),
                );
                None
            }
        }
    }

    fn list<'n>(&mut self, node: &'n Node, path: &str) -> &'n [Node] {
        match node {
            Node::Sequence(items, _) => items,
            _ => {
                self.problem(
                    node.position(),
                    path,
                    "type",
                    format!("must be a list, not {}", node.kind()),
                );
                &[]
            }
        }
    }

    fn duration(&mut self, node: &Node, path: &str) -> Option<Duration> {
        let text = self.string(node, path)?;
        match names::parse_expires_in(Field::named(path), &text) {
            Ok(duration) => Some(duration),
            Err(e) => {
                let detail = e.field_errors().first().map(|f| f.detail.clone()).unwrap_or_default();
                let predicate = detail.strip_prefix(path).unwrap_or(&detail).trim().to_owned();
                self.problem(node.position(), path, "invalidValue", predicate);
                None
            }
        }
    }

    /// A string that passes `rule` (a check from [`names`]).
    fn checked(&mut self, node: &Node, path: &str, rule: fn(Field, &str) -> Option<FieldError>) -> Option<String> {
        let text = self.string(node, path)?;
        let before = self.problems.len();
        self.check(node, path, rule(Field::named(path), &text));
        (self.problems.len() == before).then_some(text)
    }

    /// A check from [`names`]: its sentence, located.
    fn check(&mut self, node: &Node, path: &str, found: Option<FieldError>) {
        if let Some(e) = found {
            let predicate = e.detail.strip_prefix(path).unwrap_or(&e.detail).trim().to_owned();
            self.problem(node.position(), path, &e.code, predicate);
        }
    }

    fn spec(&mut self, root: &Node) -> Vec<DesiredToken> {
        let mut version_seen = false;
        let mut tokens = Vec::new();
        let mut tokens_seen = false;
        for (key, value) in self.mapping(root, "spec", &["apiVersion", "tokens"]) {
            match key {
                "apiVersion" => {
                    version_seen = true;
                    if let Some(v) = self.string(value, "apiVersion")
                        && v != API_VERSION
                    {
                        self.problem(
                            value.position(),
                            "apiVersion",
                            "invalidValue",
                            format!("must be {API_VERSION} (got {v:?})"),
                        );
                    }
                }
                _ => {
                    tokens_seen = true;
                    if !value.is_null() {
                        for (i, item) in self.list(value, "tokens").iter().enumerate() {
                            if let Some(token) = self.token(item, &format!("tokens[{i}]")) {
                                tokens.push(token);
                            }
                        }
                    }
                }
            }
        }
        if matches!(root, Node::Mapping(..)) {
            for (seen, key) in [(version_seen, "apiVersion"), (tokens_seen, "tokens")] {
                if !seen {
                    self.problem(root.position(), key, "required", "is required");
                }
            }
        }
        self.duplicates(&tokens);
        tokens
    }

    /// Two entries naming the same Wayfinder token (a slot's `-a`/`-b` included).
    fn duplicates(&mut self, tokens: &[DesiredToken]) {
        let mut owners: Vec<(Scope, String, usize)> = Vec::new();
        for token in tokens {
            for name in token.wayfinder_names() {
                if let Some((_, _, line)) = owners.iter().find(|(s, n, _)| *s == token.scope && *n == name) {
                    let at = Position {
                        line: token.line,
                        column: 1,
                    };
                    let what = format!(
                        "names the Wayfinder token {name:?} in {}, as line {line} does",
                        token.scope.workspace().unwrap_or("platform scope")
                    );
                    self.problem(at, &token.label(), "duplicate", what);
                } else {
                    owners.push((token.scope.clone(), name, token.line));
                }
            }
        }
    }

    fn token(&mut self, node: &Node, path: &str) -> Option<DesiredToken> {
        const KEYS: [&str; 8] = [
            "name",
            "workspace",
            "platform",
            "description",
            "expiresIn",
            "roles",
            "deliver",
            "rotate",
        ];
        let before = self.problems.len();
        let mut token = DesiredToken {
            name: String::new(),
            scope: Scope::Platform,
            description: None,
            expires_in: None,
            wayfinder_roles: Vec::new(),
            access_roles: Vec::new(),
            deliver: Vec::new(),
            rotate: RotatePolicy::default(),
            line: node.position().line,
        };
        let (mut workspace, mut platform) = (None, None);
        let mut deliver_nodes = Vec::new();
        for (key, value) in self.mapping(node, path, &KEYS) {
            let here = join(path, key);
            match key {
                "name" => token.name = self.checked(value, &here, names::check_name).unwrap_or_default(),
                "workspace" => workspace = self.checked(value, &here, names::check_workspace),
                "platform" => match value {
                    Node::Scalar(b, false, _) if b == "true" || b == "false" => platform = Some(b == "true"),
                    _ => self.problem(value.position(), &here, "type", "must be true or false"),
                },
                "description" => token.description = self.checked(value, &here, names::check_description),
                "expiresIn" => token.expires_in = self.duration(value, &here),
                "roles" => self.roles(value, &here, &mut token),
                "deliver" => deliver_nodes = self.deliver(value, &here, &mut token.deliver),
                _ => self.rotate(value, &here, &mut token.rotate),
            }
        }
        let at = node.position();
        if let Some(scope) = self.scope(workspace, platform, at, path) {
            token.scope = scope;
        }
        let name_reported = self.problems[before..]
            .iter()
            .any(|(_, p)| p.field.key() == join(path, "name"));
        if matches!(node, Node::Mapping(..)) && token.name.is_empty() && !name_reported {
            self.problem(at, &join(path, "name"), "required", "is required");
        }
        self.scoped_checks(&token, path, at, &deliver_nodes);
        (self.problems.len() == before).then_some(token)
    }

    /// The SPEC strings of `deliver`, each checked; and their nodes.
    fn deliver<'n>(&mut self, node: &'n Node, path: &str, specs: &mut Vec<Spec>) -> Vec<&'n Node> {
        let mut nodes = Vec::new();
        for (i, item) in self.list(node, path).iter().enumerate() {
            let at = format!("{path}[{i}]");
            let Some(text) = self.string(item, &at) else { continue };
            match Spec::parse(&text) {
                Ok(spec) => {
                    specs.push(spec);
                    nodes.push(item);
                }
                Err(e) => {
                    let why = e.message().into_owned();
                    let why = why.strip_prefix("deliver ").unwrap_or(&why).to_owned();
                    self.problem(item.position(), &at, "invalidValue", why);
                }
            }
        }
        nodes
    }

    /// A workspace, or `platform: true`: one of them.
    fn scope(&mut self, workspace: Option<String>, platform: Option<bool>, at: Position, path: &str) -> Option<Scope> {
        match (workspace, platform) {
            (Some(_), Some(true)) => self.problem(
                at,
                path,
                "invalidValue",
                "gives both workspace and platform: true; a token is one or the other",
            ),
            (Some(ws), _) => return Some(Scope::Workspace(ws)),
            (None, Some(true)) => return Some(Scope::Platform),
            (None, _) => self.problem(
                at,
                path,
                "required",
                "needs workspace: KEY, or platform: true for a platform access token",
            ),
        }
        None
    }

    /// Checks that need the whole entry: the slots' names, placeholders
    /// against the scope, slots' need of a destination that can be read.
    fn scoped_checks(&mut self, token: &DesiredToken, path: &str, at: Position, deliver: &[&Node]) {
        if token.rotate.strategy == Strategy::Slots {
            for name in token.wayfinder_names() {
                if names::check_name(Field::named("name"), &name).is_some() {
                    self.problem(
                        at,
                        &join(path, "name"),
                        "maxLength",
                        format!(
                            "is too long for slots: {name:?} must be at most {} characters",
                            names::NAME_MAX
                        ),
                    );
                    break;
                }
            }
            let observable = token.deliver.iter().any(|s| {
                s.resolve(&token.name, token.scope.workspace())
                    .is_ok_and(|d| !matches!(d.target, Target::Command { .. }))
            });
            if !observable {
                self.problem(
                    at,
                    &join(path, "rotate.strategy"),
                    "invalidValue",
                    "slots needs a destination other than cmd: (the active slot is what the destinations hold, and a command cannot be read back)",
                );
            }
        }
        if let (Some(life), Some(before)) = (token.expires_in, token.rotate.before_expiry)
            && before >= life
        {
            self.problem(
                at,
                &join(path, "rotate.beforeExpiry"),
                "invalidValue",
                format!(
                    "must be shorter than expiresIn ({} is not less than {}): every new token would be due at once",
                    names::duration_text(before),
                    names::duration_text(life)
                ),
            );
        }
        for (spec, node) in token.deliver.iter().zip(deliver) {
            if !token.name.is_empty()
                && let Err(e) = spec.resolve(&token.name, token.scope.workspace())
            {
                let why = e.message().into_owned();
                let why = why.strip_prefix("deliver ").unwrap_or(&why).to_owned();
                self.problem(node.position(), &join(path, "deliver"), "invalidValue", why);
            }
        }
    }

    fn roles(&mut self, node: &Node, path: &str, token: &mut DesiredToken) {
        for (key, value) in self.mapping(node, path, &["wayfinder", "access"]) {
            let here = join(path, key);
            for (i, item) in self.list(value, &here).iter().enumerate() {
                let at = format!("{here}[{i}]");
                if key == "wayfinder" {
                    let Some(role) = self.string(item, &at) else { continue };
                    self.check(item, &at, names::check_role(Field::named(&at), &role));
                    if role_kind(&role) != RoleKind::Wayfinder {
                        self.problem(
                            item.position(),
                            &at,
                            "wrongKind",
                            format!("{role:?} is a cluster access role: list it under roles.access with its cluster"),
                        );
                    } else if token.wayfinder_roles.contains(&role) {
                        self.problem(item.position(), &at, "duplicate", format!("{role:?} is listed twice"));
                    } else {
                        token.wayfinder_roles.push(role);
                    }
                } else if let Some(role) = self.access_role(item, &at) {
                    if token.access_roles.contains(&role) {
                        self.problem(item.position(), &at, "duplicate", "is listed twice");
                    } else {
                        token.access_roles.push(role);
                    }
                }
            }
        }
    }

    fn access_role(&mut self, node: &Node, path: &str) -> Option<AccessRole> {
        let mut role = AccessRole::default();
        for (key, value) in self.mapping(node, path, &["role", "cluster", "namespace"]) {
            let here = join(path, key);
            let text = self.string(value, &here)?;
            match key {
                "role" => {
                    self.check(value, &here, names::check_role(Field::named(&here), &text));
                    role.role = text;
                }
                "cluster" => role.cluster = Some(text),
                _ => role.namespace = Some(text),
            }
        }
        if !matches!(node, Node::Mapping(..)) {
            return None;
        }
        let at = node.position();
        if role.role.is_empty() {
            self.problem(at, &join(path, "role"), "required", "is required");
            return None;
        }
        match role_kind(&role.role) {
            RoleKind::Wayfinder => self.problem(
                at,
                &join(path, "role"),
                "wrongKind",
                format!("{:?} is a Wayfinder role: list it under roles.wayfinder", role.role),
            ),
            RoleKind::Namespace if role.cluster.is_none() || role.namespace.is_none() => self.problem(
                at,
                path,
                "required",
                format!(
                    "{:?} is a namespace role: it needs a cluster and a namespace",
                    role.role
                ),
            ),
            RoleKind::Access if role.cluster.is_none() => self.problem(
                at,
                path,
                "required",
                format!("{:?} is a cluster role: it needs a cluster", role.role),
            ),
            _ => return Some(role),
        }
        None
    }

    fn rotate(&mut self, node: &Node, path: &str, policy: &mut RotatePolicy) {
        for (key, value) in self.mapping(node, path, &["maxAge", "beforeExpiry", "strategy"]) {
            let here = join(path, key);
            match key {
                "maxAge" => policy.max_age = self.duration(value, &here),
                "beforeExpiry" => policy.before_expiry = self.duration(value, &here),
                _ => match self.string(value, &here).as_deref() {
                    Some("reset") => policy.strategy = Strategy::Reset,
                    Some("slots") => policy.strategy = Strategy::Slots,
                    Some(other) => {
                        self.problem(
                            value.position(),
                            &here,
                            "invalidValue",
                            format!("must be reset or slots (got {other:?})"),
                        );
                    }
                    None => {}
                },
            }
        }
    }
}

/// Which `assign` a role goes through, read from its first label.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum RoleKind {
    /// `workspace.*`, `platform.*` and others: `assign wayfinderrole`.
    Wayfinder,
    /// `namespace.*`: `assign accessrole --cluster --namespace`.
    Namespace,
    /// `cluster.*`: `assign accessrole --cluster`.
    Access,
}

fn role_kind(role: &str) -> RoleKind {
    match role.split('.').next() {
        Some("namespace") => RoleKind::Namespace,
        Some("cluster") => RoleKind::Access,
        _ => RoleKind::Wayfinder,
    }
}

fn join(path: &str, key: &str) -> String {
    match path {
        "spec" => key.to_owned(),
        _ => format!("{path}.{key}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_shared_cases_read_as_they_say() {
        let text = include_str!("../../../tests/vectors/token_specs.json");
        let vectors: serde_json::Value = serde_json::from_str(text).expect("json");
        for case in vectors["cases"].as_array().expect("cases") {
            let name = case["name"].as_str().unwrap_or_default();
            let yaml = case["yaml"].as_str().expect("yaml");
            let expected = case["errors"].as_array().expect("errors");
            match TokenSpec::parse(yaml, "tokens.yaml") {
                Ok(spec) => {
                    assert!(expected.is_empty(), "{name}: parsed, expected {expected:?}");
                    let tokens = case["tokens"].as_array().expect("tokens");
                    assert_eq!(spec.tokens.len(), tokens.len(), "{name}");
                    for (got, want) in spec.tokens.iter().zip(tokens) {
                        assert_eq!(got.name, want["name"].as_str().unwrap_or_default(), "{name}");
                        assert_eq!(got.scope.workspace(), want["workspace"].as_str(), "{name}");
                        assert_eq!(got.rotate.strategy.as_str(), want["strategy"], "{name}");
                        assert_eq!(
                            serde_json::json!(got.wayfinder_names()),
                            want["wayfinderNames"],
                            "{name}"
                        );
                        assert_eq!(
                            got.deliver.len() as u64,
                            want["deliver"].as_u64().unwrap_or(0),
                            "{name}"
                        );
                        assert_eq!(
                            got.wayfinder_roles.len() as u64,
                            want["wayfinderRoles"].as_u64().unwrap_or(0)
                        );
                        assert_eq!(got.access_roles.len() as u64, want["accessRoles"].as_u64().unwrap_or(0));
                    }
                }
                Err(e) => {
                    assert_eq!(e.code(), "VALIDATION", "{name}");
                    let got: Vec<(String, String, String)> = e
                        .field_errors()
                        .iter()
                        .map(|f| {
                            let location = f.detail.split(' ').next().unwrap_or_default().to_owned();
                            (location, f.field.key().to_owned(), f.code.clone())
                        })
                        .collect();
                    let want: Vec<(String, String, String)> = expected
                        .iter()
                        .map(|x| {
                            (
                                format!("tokens.yaml:{}:{}:", x["line"], x["column"]),
                                x["field"].as_str().unwrap_or_default().to_owned(),
                                x["code"].as_str().unwrap_or_default().to_owned(),
                            )
                        })
                        .collect();
                    assert_eq!(got, want, "{name}: {}", e.message());
                }
            }
        }
    }
}
