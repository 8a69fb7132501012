//! The command line's arguments, as clap reads them: every flag of the
//! original `wf` command, and the examples each `--help` shows.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};

#[derive(Debug, Parser)]
#[command(
    name = "wayfinder-tokens",
    version,
    about = "Create, reset, list, delete and grant roles to Wayfinder access tokens",
    long_about = "Create, reset, list, delete and grant roles to Wayfinder workspace and platform access \
                  tokens: one command hands your CI a working secret. It reads the same config file as the \
                  wf CLI and never prints a secret where it should not.",
    after_help = "Settings come from --profile or --config when given, else from WAYFINDER_SERVER + \
                  WAYFINDER_TOKEN (+ WAYFINDER_WORKSPACE) if set, else from the wf config file \
                  ($WAYFINDER_CONFIG or ~/.wayfinder/config)."
)]
pub(crate) struct Cli {
    #[command(subcommand)]
    pub(crate) command: Command,
    #[command(flatten)]
    pub(crate) global: Global,
}

#[derive(Debug, Args)]
pub(crate) struct Global {
    /// The workspace you are operating within
    #[arg(short = 'w', long, global = true)]
    pub(crate) workspace: Option<String>,
    /// Use a profile other than your default for this command
    #[arg(long, global = true)]
    pub(crate) profile: Option<String>,
    /// The config file (default: $WAYFINDER_CONFIG or ~/.wayfinder/config)
    #[arg(long, global = true, value_name = "PATH")]
    pub(crate) config: Option<PathBuf>,
    /// Output format
    #[arg(short = 'o', long, global = true, value_enum)]
    pub(crate) output: Option<Output>,
    /// Go text/template for -o template, e.g. '{{.metadata.name}}' (implies -o template)
    #[arg(long, global = true, value_name = "TEMPLATE", conflicts_with = "template_file")]
    pub(crate) template: Option<String>,
    /// Read the -o template template from a file (implies -o template)
    #[arg(long, global = true, value_name = "PATH")]
    pub(crate) template_file: Option<PathBuf>,
    /// Display headers on table output
    #[arg(long, global = true, default_value_t = true, num_args = 0..=1, default_missing_value = "true",
          action = clap::ArgAction::Set, value_name = "BOOL")]
    pub(crate) show_headers: bool,
    /// Debug logging (never shows a secret)
    #[arg(long, global = true)]
    pub(crate) debug: bool,
    /// Verbose logging (never shows a secret)
    #[arg(long, global = true)]
    pub(crate) verbose: bool,
    /// Accepted for compatibility: this tool never asks for confirmation
    #[arg(long, global = true)]
    pub(crate) force: bool,
    /// Accepted for compatibility: access tokens have nothing to provision
    #[arg(long, global = true)]
    pub(crate) no_wait: bool,
    /// Accepted for compatibility: this tool never prompts
    #[arg(long, global = true)]
    pub(crate) non_interactive: bool,
    /// Allow plain http:// to a non-loopback server
    #[arg(long, global = true)]
    pub(crate) allow_insecure_http: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub(crate) enum Output {
    /// Environment variables with comments (default for create)
    Env,
    /// KEY=value lines only
    Export,
    /// export KEY='value' lines, for eval "$(…)"
    Shell,
    /// A wf config file holding the token
    Config,
    /// The raw token only
    Token,
    Json,
    Yaml,
    Table,
    /// GitHub Actions: masks the secret, sets the step's outputs ($GITHUB_OUTPUT); later steps keep the job's own credentials
    Github,
    /// Go text/template (--template or --template-file) on the object -o json shows
    Template,
    /// One JSON object per line and token (rotate)
    Jsonl,
    /// A Kubernetes Secret manifest holding the token, for kubectl apply -f -
    Kubernetes,
}

#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Create an access token and print its secret
    Create {
        #[command(subcommand)]
        kind: CreateKind,
    },
    /// Show one access token (never its secret)
    Get {
        #[command(subcommand)]
        kind: NamedKind,
    },
    /// List access tokens
    List {
        #[command(subcommand)]
        kind: ListKind,
    },
    /// Delete an access token; its secrets stop working at once
    Delete {
        #[command(subcommand)]
        kind: NamedKind,
    },
    /// Grant a role to an access token
    Assign {
        #[command(subcommand)]
        kind: AssignKind,
    },
    /// Show who the configured credentials belong to
    Whoami,
    /// Issue new secrets for many access tokens at once
    Rotate {
        #[command(subcommand)]
        kind: RotateKind,
    },
    /// Finish deliveries that did not complete: the new secrets waiting in the recovery store
    #[command(after_long_help = DELIVER_EXAMPLES)]
    Deliver(DeliverArgs),
    /// Show what apply would do to make the tokens match a spec file (never a secret)
    #[command(long_about = PLAN_LONG, after_long_help = PLAN_EXAMPLES)]
    Plan(PlanArgs),
    /// Make the tokens match a spec file: create, grant, rotate and deliver
    #[command(long_about = APPLY_LONG, after_long_help = APPLY_EXAMPLES)]
    Apply(SpecArgs),
    /// Say which tokens of a spec file are due to rotate (exit 2 if any is, within --within)
    #[command(after_long_help = CHECK_EXAMPLES)]
    Check(CheckArgs),
    /// Print the JSON Schema of the spec file, for editors
    Schema,
}

pub(crate) const PLAN_LONG: &str = "\
Show what apply would do to make the tokens match a spec file, one line per change: create, grant
a role, rotate (and why: age, expiry, missing from a destination, an older secret in one), deliver,
and drift it leaves alone (a role granted outside the spec, a token the spec does not name). What a
destination holds is read from its metadata (Vault's custom metadata, AWS tags, GitHub's updated_at),
never by reading a secret back.";

pub(crate) const PLAN_EXAMPLES: &str = "\
Examples:
  # What would change
  wayfinder-tokens plan -f tokens.yaml

  # For a pipeline: exit 0 when nothing would change, 2 when something would, 1 on error
  wayfinder-tokens plan -f tokens.yaml --detailed-exitcode -o json > plan.json

  # Rotate one token now, whether or not it is due (a leaked secret)
  wayfinder-tokens plan -f tokens.yaml --rotate app-deploy";

pub(crate) const APPLY_LONG: &str = "\
Make the tokens match a spec file. Each token's destinations are checked before any secret is issued;
each new secret waits, 0600, in the recovery store until every destination verified it. Applying twice
in a row writes nothing the second time, and an apply that stopped halfway is finished by the next one
without resetting a token again. With rotate.strategy: slots, a token is two Wayfinder tokens (NAME-a,
NAME-b): a rotation resets the one no destination holds, so every consumer keeps a working secret.";

pub(crate) const APPLY_EXAMPLES: &str = "\
Examples:
  # Converge
  wayfinder-tokens apply -f tokens.yaml

  # Rotate one token now and deliver it everywhere the spec says
  wayfinder-tokens apply -f tokens.yaml --rotate app-deploy

Destinations read their credentials from the environment: GITHUB_TOKEN (or GH_TOKEN), VAULT_ADDR and
VAULT_TOKEN (or BAO_*), the AWS SDK's chain (AWS_REGION, AWS_PROFILE, ...).";

pub(crate) const CHECK_EXAMPLES: &str = "\
Examples:
  # Which tokens rotate within two weeks (exit 2 if any)
  wayfinder-tokens check -f tokens.yaml --within 14d

  # In a scheduled GitHub Actions job, each token due is a ::warning:: annotation
  wayfinder-tokens check -f tokens.yaml -o github";

#[derive(Debug, Args)]
pub(crate) struct SpecArgs {
    /// The spec file (apiVersion: wayfinder-tokens/v1)
    #[arg(short = 'f', long, value_name = "PATH")]
    pub(crate) file: PathBuf,
    /// Rotate this token of the spec now, whether or not it is due (repeatable)
    #[arg(long, value_name = "NAME")]
    pub(crate) rotate: Vec<String>,
}

#[derive(Debug, Args)]
pub(crate) struct PlanArgs {
    #[command(flatten)]
    pub(crate) spec: SpecArgs,
    /// Exit 0 when there is nothing to do, 2 when changes are pending, 1 on error
    #[arg(long)]
    pub(crate) detailed_exitcode: bool,
}

#[derive(Debug, Args)]
pub(crate) struct CheckArgs {
    /// The spec file (apiVersion: wayfinder-tokens/v1)
    #[arg(short = 'f', long, value_name = "PATH")]
    pub(crate) file: PathBuf,
    /// The horizon: due within this long counts as due
    #[arg(long, value_name = "DURATION", default_value = "14d")]
    pub(crate) within: String,
}

pub(crate) const DELIVER_EXAMPLES: &str = "\
Examples:
  # What waits, and where it has not arrived yet
  wayfinder-tokens deliver --pending --list

  # Deliver it (each destination checked again first)
  wayfinder-tokens deliver --pending

Secrets wait, 0600, in $XDG_STATE_HOME/wayfinder-tokens (default ~/.local/state/wayfinder-tokens)
from just before their first delivery until every destination verified them.";

#[derive(Debug, Args)]
pub(crate) struct DeliverArgs {
    /// The secrets waiting in the recovery store (required: nothing else is delivered by this command)
    #[arg(long, required = true)]
    pub(crate) pending: bool,
    /// Only list them
    #[arg(long)]
    pub(crate) list: bool,
}

#[derive(Debug, Subcommand)]
pub(crate) enum CreateKind {
    /// Create a workspace access token to reach Wayfinder or the workspace's clusters
    #[command(alias = "workspaceaccesstokens", long_about = CREATE_WORKSPACE_LONG, after_long_help = CREATE_WORKSPACE_EXAMPLES)]
    Workspaceaccesstoken(CreateArgs),
    /// Create a platform access token, for automation across all of Wayfinder
    #[command(alias = "platformaccesstokens", long_about = CREATE_PLATFORM_LONG, after_long_help = CREATE_PLATFORM_EXAMPLES)]
    Platformaccesstoken(CreateArgs),
}

pub(crate) const CREATE_WORKSPACE_LONG: &str = "\
Create a workspace access token to reach Wayfinder or the workspace's clusters.

A workspace access token lets automation (a CI pipeline, a deployment job) act within one
workspace. Each use exchanges it for a short-lived API token, so the long-lived secret never
reaches a resource endpoint.

A new token has no permissions: grant them with `assign accessrole` (the workspace's clusters)
and `assign wayfinderrole` (Wayfinder itself).

The default output is the environment variables that carry the server, the token and the
workspace, ready to copy into your CI's secrets. The secret is shown only now and cannot be
retrieved later; if it is lost, --reset-token issues a new one and invalidates every earlier
one, keeping the token's roles.";

pub(crate) const CREATE_WORKSPACE_EXAMPLES: &str = "\
Examples:
  # Create a token for deployments and automation in one workspace
  wayfinder-tokens create workspaceaccesstoken ci-deploy -w dev

  # Create it and print a wf config file that holds it, with a description
  wayfinder-tokens create workspaceaccesstoken ci-deploy -w dev --show-config -d \"My deployment token\"

  # Keep only the variables, for a CI secret store or `docker run --env-file`
  wayfinder-tokens create workspaceaccesstoken ci-deploy -w dev --show-config -o export > token.env

  # Issue a new secret for an existing token (its roles are kept; older secrets stop working)
  wayfinder-tokens create workspaceaccesstoken ci-deploy -w dev --reset-token

  # Then grant it access in the workspace's clusters, and to Wayfinder itself
  wayfinder-tokens assign accessrole -w dev --workspace-access-token ci-deploy --role namespace.admin --cluster prod --namespace payments
  wayfinder-tokens assign wayfinderrole -w dev --workspace-access-token ci-deploy --role workspace.accesstokenmanager

  # Print just what a script needs, with a Go template
  wayfinder-tokens create workspaceaccesstoken ci-deploy -w dev --template '{{.token}}'

  # Reset it and put the new secret straight into a repository's Actions secrets (its server and
  # workspace as variables) and a private file: each destination is checked before the reset,
  # and the secret waits in the recovery store until all of them verified it
  wayfinder-tokens create workspaceaccesstoken ci-deploy -w dev --reset-token --deliver github:acme/app --deliver file:ci-deploy.env

Try any of these against a local emulator (`python -m wayfinder_tokens.testing` or
`npx wayfinder-tokens emulator`) with WAYFINDER_CONFIG=<path> or WAYFINDER_SERVER and
WAYFINDER_TOKEN set; the emulator serves GitHub's Actions secrets routes too
(GITHUB_API_URL=<emulator URL>/github, GITHUB_TOKEN=<its admin token>).";

pub(crate) const CREATE_PLATFORM_LONG: &str = "\
Create a platform access token, for automation that works across all of Wayfinder.

Like a workspace access token it starts with no permissions, is exchanged for short-lived API
tokens on use, and its secret is shown only now: --reset-token issues a new one, keeping its
roles and invalidating every earlier secret.";

pub(crate) const CREATE_PLATFORM_EXAMPLES: &str = "\
Examples:
  # Create a platform token and keep its variables
  wayfinder-tokens create platformaccesstoken fleet-bot -o export > fleet-bot.env

  # Grant it a Wayfinder role
  wayfinder-tokens assign wayfinderrole --platform-access-token fleet-bot --role platform.accesstokenmanager";

#[derive(Debug, Args)]
pub(crate) struct CreateArgs {
    /// The token's name (lowercase RFC 1123 label)
    pub(crate) name: String,
    /// Optional description of the access token
    #[arg(short = 'd', long)]
    pub(crate) description: Option<String>,
    /// Lifetime of the token, e.g. 90d, 12h (default: never expires)
    #[arg(long, value_name = "DURATION")]
    pub(crate) expires_in: Option<String>,
    /// Render the resource to screen rather than implement
    #[arg(long)]
    pub(crate) dry_run: bool,
    /// Reset the token if the named token already exists (default: error if already exists)
    #[arg(long)]
    pub(crate) reset_token: bool,
    /// Write out a Wayfinder configuration file with access token
    #[arg(long, conflicts_with = "show_token")]
    pub(crate) show_config: bool,
    /// Show only the raw token
    #[arg(long)]
    pub(crate) show_token: bool,
    /// Also save the token as a profile in the config file
    #[arg(long, value_name = "PROFILE", num_args = 0..=1, default_missing_value = "")]
    pub(crate) save_profile: Option<String>,
    /// With -o github: also set the variables for every later step ($GITHUB_ENV). Without
    /// --github-prefix, later steps then run as the new token, which has no roles yet
    #[arg(long)]
    pub(crate) github_env: bool,
    /// With -o github: put PREFIX before each name (NEW_ gives NEW_WAYFINDER_TOKEN)
    #[arg(long, value_name = "PREFIX")]
    pub(crate) github_prefix: Option<String>,
    /// Deliver the new secret and its companions here, verified; repeatable. SPEC is
    /// github:OWNER/REPO[@ENVIRONMENT], github-org:ORG, vault:MOUNT/PATH, aws:SECRET_ID,
    /// cmd:COMMAND or file:PATH, with ?key=value options (prefix=PROD_, format=kubernetes…).
    /// Checked before any reset; the secret is then printed only with an -o format
    #[arg(long = "deliver", value_name = "SPEC")]
    pub(crate) deliver: Vec<String>,
}

#[derive(Debug, Subcommand)]
pub(crate) enum NamedKind {
    /// A workspace access token (in -w WORKSPACE, or the profile's)
    #[command(alias = "workspaceaccesstokens", after_long_help = NAMED_EXAMPLES)]
    Workspaceaccesstoken {
        /// The token's name
        name: String,
    },
    /// A platform access token
    #[command(alias = "platformaccesstokens", after_long_help = NAMED_EXAMPLES)]
    Platformaccesstoken {
        /// The token's name
        name: String,
    },
}

pub(crate) const NAMED_EXAMPLES: &str = "\
Examples:
  # Show one token (never its secret), as a table, JSON or a template
  wayfinder-tokens get workspaceaccesstoken ci-deploy -w dev
  wayfinder-tokens get workspaceaccesstoken ci-deploy -w dev -o json
  wayfinder-tokens get workspaceaccesstoken ci-deploy -w dev --template '{{.status.generation}}'

  # Delete it: every secret it issued stops working at once
  wayfinder-tokens delete workspaceaccesstoken ci-deploy -w dev";

#[derive(Debug, Subcommand)]
pub(crate) enum ListKind {
    /// The workspace access tokens of a workspace (-w, or the profile's), or of every workspace
    #[command(alias = "workspaceaccesstoken", after_long_help = LIST_EXAMPLES)]
    Workspaceaccesstokens(ListArgs),
    /// The platform access tokens
    #[command(alias = "platformaccesstoken", after_long_help = LIST_EXAMPLES)]
    Platformaccesstokens,
}

pub(crate) const LIST_EXAMPLES: &str = "\
Examples:
  # A table of the workspace's tokens (never a secret)
  wayfinder-tokens list workspaceaccesstokens -w dev

  # Their names, one per line
  wayfinder-tokens list workspaceaccesstokens -w dev --template '{{range .}}{{.metadata.name}}{{\"\\n\"}}{{end}}'";

#[derive(Debug, Subcommand)]
pub(crate) enum AssignKind {
    /// Grant a role in the workspace's clusters (cluster roles need --cluster, namespace roles --namespace too)
    #[command(after_long_help = ASSIGN_EXAMPLES)]
    Accessrole {
        #[command(flatten)]
        target: RoleTarget,
        /// The role, e.g. namespace.admin or cluster.viewer
        #[arg(long)]
        role: String,
        /// The cluster the role applies in
        #[arg(long)]
        cluster: Option<String>,
        /// The namespace the role applies in (namespace roles)
        #[arg(long)]
        namespace: Option<String>,
    },
    /// Grant a role in Wayfinder itself, e.g. workspace.accesstokenmanager
    #[command(after_long_help = ASSIGN_EXAMPLES)]
    Wayfinderrole {
        #[command(flatten)]
        target: RoleTarget,
        /// The role, e.g. workspace.accesstokenmanager
        #[arg(long)]
        role: String,
    },
}

pub(crate) const ASSIGN_EXAMPLES: &str = "\
Examples:
  # Let a pipeline deploy into one namespace of a cluster
  wayfinder-tokens assign accessrole -w dev --workspace-access-token ci-deploy --role namespace.admin --cluster prod --namespace payments

  # Let a pipeline rotate the workspace's other tokens
  wayfinder-tokens assign wayfinderrole -w dev --workspace-access-token ci-deploy --role workspace.accesstokenmanager

The answer lists every role the token now holds.";

#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
pub(crate) struct RoleTarget {
    /// The workspace access token to grant the role to
    #[arg(long, value_name = "NAME")]
    pub(crate) workspace_access_token: Option<String>,
    /// The platform access token to grant the role to
    #[arg(long, value_name = "NAME")]
    pub(crate) platform_access_token: Option<String>,
}

/// Filters shared by `list --all-workspaces` and `rotate`.
#[derive(Debug, Args)]
pub(crate) struct Filters {
    /// Every workspace the credentials can see
    #[arg(long)]
    pub(crate) all_workspaces: bool,
    /// Only tokens that expire within this long (e.g. 7d), or have expired
    #[arg(long, value_name = "DURATION")]
    pub(crate) expiring_within: Option<String>,
    /// Only tokens whose secret is at least this old (e.g. 90d)
    #[arg(long, value_name = "DURATION")]
    pub(crate) older_than: Option<String>,
    /// Requests in flight (list: 16, rotate: 8)
    #[arg(long, value_name = "N")]
    pub(crate) concurrency: Option<usize>,
}

#[derive(Debug, Args)]
pub(crate) struct ListArgs {
    #[command(flatten)]
    pub(crate) filters: Filters,
}

impl ListArgs {
    /// Whether this list spans workspaces or filters (an inventory).
    pub(crate) fn is_fleet(&self) -> bool {
        let f = &self.filters;
        f.all_workspaces || f.expiring_within.is_some() || f.older_than.is_some() || f.concurrency.is_some()
    }
}

#[derive(Debug, Subcommand)]
pub(crate) enum RotateKind {
    /// Reset the secrets of a workspace's (or every workspace's) access tokens
    #[command(alias = "workspaceaccesstoken", after_long_help = ROTATE_EXAMPLES)]
    Workspaceaccesstokens(RotateArgs),
}

pub(crate) const ROTATE_EXAMPLES: &str = "\
Examples:
  # What would rotate: tokens of every workspace expiring within a week
  wayfinder-tokens rotate workspaceaccesstokens --all-workspaces --expiring-within 7d --dry-run

  # Rotate every token of `payments` now, one env file per new secret
  wayfinder-tokens rotate workspaceaccesstokens -w payments --output-dir ./rotated

  # Rotate the ci-* tokens not rotated for 90 days, as JSON lines for a pipeline
  wayfinder-tokens rotate workspaceaccesstokens --all-workspaces --older-than 90d 'ci-*' -o jsonl > rotated.jsonl

The summary (never a secret) goes to stderr; exit 0 when every token rotated, 1 when any
failed, each failure saying whether its old secret still works and how to recover it.";

#[derive(Debug, Args)]
pub(crate) struct RotateArgs {
    #[command(flatten)]
    pub(crate) filters: Filters,
    /// Only these names (glob patterns such as ci-*)
    #[arg(value_name = "NAME")]
    pub(crate) names: Vec<String>,
    /// Write one 0600 env file per new secret into this folder (created 0700)
    #[arg(long, value_name = "DIR")]
    pub(crate) output_dir: Option<PathBuf>,
    /// Deliver each new secret here, verified; repeatable; {name} and {workspace} are filled
    /// in per token (vault:secret/ci/{workspace}/{name}). Every destination is checked before
    /// the first reset
    #[arg(long = "deliver", value_name = "SPEC")]
    pub(crate) deliver: Vec<String>,
    /// List what would rotate; rotate nothing
    #[arg(long)]
    pub(crate) dry_run: bool,
}
