//! What exists on this server besides tokens: its workspaces and the roles
//! it knows, with the rules of the `assign` calls (a cluster role needs a
//! cluster, a namespace role a cluster and a namespace).

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use crate::validate::FieldError;

/// Where a role applies.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum RoleScope {
    /// In Wayfinder itself (`assign wayfinderrole`).
    Wayfinder,
    /// In a whole cluster (`assign accessrole --cluster`); a namespace narrows it.
    Cluster,
    /// In one namespace of a cluster (`--cluster` and `--namespace`).
    Namespace,
}

impl fmt::Display for RoleScope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            RoleScope::Wayfinder => "wayfinder",
            RoleScope::Cluster => "cluster",
            RoleScope::Namespace => "namespace",
        })
    }
}

/// A role the server knows, as the `--known-role SCOPE:NAME` flag gives it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct KnownRole {
    pub scope: RoleScope,
    pub name: String,
}

impl FromStr for KnownRole {
    type Err = String;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (scope, name) = s
            .split_once(':')
            .ok_or_else(|| format!("expected SCOPE:NAME (scope wayfinder, cluster or namespace), got {s:?}"))?;
        let scope = match scope {
            "wayfinder" => RoleScope::Wayfinder,
            "cluster" => RoleScope::Cluster,
            "namespace" => RoleScope::Namespace,
            other => {
                return Err(format!(
                    "unknown role scope {other:?}: use wayfinder, cluster or namespace"
                ));
            }
        };
        if let Some(e) = crate::validate::role("role", name) {
            return Err(e.message);
        }
        Ok(KnownRole {
            scope,
            name: name.to_owned(),
        })
    }
}

/// The roles every emulator knows.
pub const DEFAULT_ROLES: [(RoleScope, &str); 13] = [
    (RoleScope::Wayfinder, crate::auth::ROLE_WORKSPACE_MANAGER),
    (RoleScope::Wayfinder, crate::auth::ROLE_PLATFORM_MANAGER),
    (RoleScope::Wayfinder, "workspace.admin"),
    (RoleScope::Wayfinder, "workspace.member"),
    (RoleScope::Wayfinder, "workspace.viewer"),
    (RoleScope::Wayfinder, "platform.admin"),
    (RoleScope::Wayfinder, "platform.viewer"),
    (RoleScope::Cluster, "cluster.admin"),
    (RoleScope::Cluster, "cluster.deployer"),
    (RoleScope::Cluster, "cluster.viewer"),
    (RoleScope::Namespace, "namespace.admin"),
    (RoleScope::Namespace, "namespace.deployer"),
    (RoleScope::Namespace, "namespace.viewer"),
];

/// The workspace every emulator has when none is configured, so a bare
/// `wayfinder-emulator` is usable at once.
pub const DEFAULT_WORKSPACE: &str = "dev";

/// Workspaces and roles.
#[derive(Debug, Clone)]
pub struct Catalog {
    workspaces: BTreeSet<String>,
    roles: BTreeMap<String, RoleScope>,
}

impl Catalog {
    /// `workspaces` (or [`DEFAULT_WORKSPACE`] when empty), the default roles and `extra_roles`.
    pub fn new(workspaces: impl IntoIterator<Item = String>, extra_roles: &[KnownRole]) -> Catalog {
        let mut workspaces: BTreeSet<String> = workspaces.into_iter().collect();
        if workspaces.is_empty() {
            workspaces.insert(DEFAULT_WORKSPACE.to_owned());
        }
        let roles = DEFAULT_ROLES
            .iter()
            .map(|(scope, name)| ((*name).to_owned(), *scope))
            .chain(extra_roles.iter().map(|r| (r.name.clone(), r.scope)))
            .collect();
        Catalog { workspaces, roles }
    }

    /// Whether the workspace exists.
    pub fn has_workspace(&self, workspace: &str) -> bool {
        self.workspaces.contains(workspace)
    }

    /// Every workspace, sorted.
    pub fn workspaces(&self) -> impl Iterator<Item = &str> {
        self.workspaces.iter().map(String::as_str)
    }

    /// Checks a Wayfinder role grant.
    pub fn check_wayfinder_role(&self, role: &str) -> Vec<FieldError> {
        match self.roles.get(role) {
            Some(RoleScope::Wayfinder) => Vec::new(),
            Some(scope) => vec![FieldError::new(
                "role",
                "notAllowed",
                format!("role {role:?} is a {scope} role: grant it with an access role"),
            )],
            None => vec![self.unknown(role)],
        }
    }

    /// Checks an access role grant: the role is known and applies in
    /// clusters, and the cluster and namespace its scope needs are there.
    pub fn check_access_role(&self, role: &str, cluster: &str, namespace: &str) -> Vec<FieldError> {
        let mut errors = Vec::new();
        match self.roles.get(role) {
            None => errors.push(self.unknown(role)),
            Some(RoleScope::Wayfinder) => errors.push(FieldError::new(
                "role",
                "notAllowed",
                format!("role {role:?} is a Wayfinder role: grant it with a wayfinder role"),
            )),
            Some(scope) => {
                if cluster.is_empty() {
                    errors.push(FieldError::new(
                        "cluster",
                        "required",
                        format!("cluster is required for the {scope} role {role:?}"),
                    ));
                }
                if *scope == RoleScope::Namespace && namespace.is_empty() {
                    errors.push(FieldError::new(
                        "namespace",
                        "required",
                        format!("namespace is required for the namespace role {role:?}"),
                    ));
                }
            }
        }
        errors
    }

    /// An unknown role, with the ones that exist (so a typo is one look away).
    fn unknown(&self, role: &str) -> FieldError {
        let known: Vec<&str> = self.roles.keys().map(String::as_str).collect();
        FieldError::new(
            "role",
            "mustExist",
            format!(
                "role {role:?} does not exist on this server; known roles: {}",
                known.join(", ")
            ),
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_of_the_assign_calls() {
        let c = Catalog::new(Vec::new(), &["namespace:team.ops".parse().expect("valid")]);
        assert!(c.has_workspace("dev") && !c.has_workspace("prod"));
        let codes = |errors: Vec<FieldError>| errors.into_iter().map(|e| (e.field, e.err_code)).collect::<Vec<_>>();
        assert_eq!(codes(c.check_access_role("cluster.viewer", "c1", "")), vec![]);
        assert_eq!(
            codes(c.check_access_role("cluster.viewer", "", "")),
            vec![("cluster".into(), "required")]
        );
        assert_eq!(
            codes(c.check_access_role("team.ops", "", "")),
            vec![("cluster".into(), "required"), ("namespace".into(), "required")]
        );
        assert_eq!(
            codes(c.check_access_role("nope.role", "c1", "n")),
            vec![("role".into(), "mustExist")]
        );
        let unknown = c.check_wayfinder_role("workspace.acesstokenmanager");
        assert!(
            unknown[0].message.contains("known roles: ") && unknown[0].message.contains("workspace.accesstokenmanager"),
            "{}",
            unknown[0].message
        );
        assert_eq!(
            codes(c.check_access_role("workspace.admin", "c1", "")),
            vec![("role".into(), "notAllowed")]
        );
        assert_eq!(
            codes(c.check_wayfinder_role("cluster.admin")),
            vec![("role".into(), "notAllowed")]
        );
        assert_eq!(codes(c.check_wayfinder_role("workspace.admin")), vec![]);
        assert!("bogus:x.y".parse::<KnownRole>().is_err());
        assert!("cluster".parse::<KnownRole>().is_err());
    }
}
