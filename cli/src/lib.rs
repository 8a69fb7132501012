//! The command-line front: `create workspaceaccesstoken NAME` with every flag
//! of the original `wf` command, plus `create platformaccesstoken`, `get`,
//! `list`, `delete`, `assign` and `whoami`. [`run`] takes argv and returns the
//! exit code and output, so the Python and Node packages expose the same CLI.
//!
//! Exit codes: 0 success, 1 an API error, 2 bad usage or bad input.

use std::path::PathBuf;

use clap::{Args, Parser, Subcommand, ValueEnum};
use tokio_util::sync::CancellationToken;

use wayfinder_tokens::client::Client;
use wayfinder_tokens::error::{Argument, Error, Field, FieldError, Spelling};

use crate::spelling::CliSpelling;
use crate::template::GoTemplate;
use wayfinder_tokens::model::{AccessToken, IssuedToken, Roles};
use wayfinder_tokens::render;
use wayfinder_tokens::settings::ClientOptions;
use wayfinder_tokens::tokens::CreateOptions;

mod fleet;
mod io;
mod spelling;
pub mod template;

use io::Io;

/// What a CLI run printed and how it ended.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct CliOutput {
    /// The process exit code: 0 done, 1 an API error, 2 bad usage or input.
    pub code: i32,
    /// What goes to standard output.
    pub stdout: String,
    /// What goes to standard error.
    pub stderr: String,
}

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
struct Cli {
    #[command(subcommand)]
    command: Command,
    #[command(flatten)]
    global: Global,
}

#[derive(Debug, Args)]
pub(crate) struct Global {
    /// The workspace you are operating within
    #[arg(short = 'w', long, global = true)]
    workspace: Option<String>,
    /// Use a profile other than your default for this command
    #[arg(long, global = true)]
    profile: Option<String>,
    /// The config file (default: $WAYFINDER_CONFIG or ~/.wayfinder/config)
    #[arg(long, global = true, value_name = "PATH")]
    config: Option<PathBuf>,
    /// Output format
    #[arg(short = 'o', long, global = true, value_enum)]
    output: Option<Output>,
    /// Go text/template for -o template, e.g. '{{.metadata.name}}' (implies -o template)
    #[arg(long, global = true, value_name = "TEMPLATE", conflicts_with = "template_file")]
    template: Option<String>,
    /// Read the -o template template from a file (implies -o template)
    #[arg(long, global = true, value_name = "PATH")]
    template_file: Option<PathBuf>,
    /// Display headers on table output
    #[arg(long, global = true, default_value_t = true, num_args = 0..=1, default_missing_value = "true",
          action = clap::ArgAction::Set, value_name = "BOOL")]
    show_headers: bool,
    /// Debug logging (never shows a secret)
    #[arg(long, global = true)]
    debug: bool,
    /// Verbose logging (never shows a secret)
    #[arg(long, global = true)]
    verbose: bool,
    /// Accepted for compatibility: this tool never asks for confirmation
    #[arg(long, global = true)]
    force: bool,
    /// Accepted for compatibility: access tokens have nothing to provision
    #[arg(long, global = true)]
    no_wait: bool,
    /// Accepted for compatibility: this tool never prompts
    #[arg(long, global = true)]
    non_interactive: bool,
    /// Allow plain http:// to a non-loopback server
    #[arg(long, global = true)]
    allow_insecure_http: bool,
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
}

#[derive(Debug, Subcommand)]
enum Command {
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
        kind: fleet::RotateKind,
    },
}

#[derive(Debug, Subcommand)]
enum CreateKind {
    /// Create a workspace access token to reach Wayfinder or the workspace's clusters
    #[command(alias = "workspaceaccesstokens", long_about = CREATE_WORKSPACE_LONG, after_long_help = CREATE_WORKSPACE_EXAMPLES)]
    Workspaceaccesstoken(CreateArgs),
    /// Create a platform access token, for automation across all of Wayfinder
    #[command(alias = "platformaccesstokens", long_about = CREATE_PLATFORM_LONG, after_long_help = CREATE_PLATFORM_EXAMPLES)]
    Platformaccesstoken(CreateArgs),
}

const CREATE_WORKSPACE_LONG: &str = "\
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

const CREATE_WORKSPACE_EXAMPLES: &str = "\
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

Try any of these against a local emulator (`python -m wayfinder_tokens.testing` or
`npx wayfinder-tokens emulator`) with WAYFINDER_CONFIG=<path> or WAYFINDER_SERVER and
WAYFINDER_TOKEN set.";

const CREATE_PLATFORM_LONG: &str = "\
Create a platform access token, for automation that works across all of Wayfinder.

Like a workspace access token it starts with no permissions, is exchanged for short-lived API
tokens on use, and its secret is shown only now: --reset-token issues a new one, keeping its
roles and invalidating every earlier secret.";

const CREATE_PLATFORM_EXAMPLES: &str = "\
Examples:
  # Create a platform token and keep its variables
  wayfinder-tokens create platformaccesstoken fleet-bot -o export > fleet-bot.env

  # Grant it a Wayfinder role
  wayfinder-tokens assign wayfinderrole --platform-access-token fleet-bot --role platform.accesstokenmanager";

#[derive(Debug, Args)]
struct CreateArgs {
    /// The token's name (lowercase RFC 1123 label)
    name: String,
    /// Optional description of the access token
    #[arg(short = 'd', long)]
    description: Option<String>,
    /// Lifetime of the token, e.g. 90d, 12h (default: never expires)
    #[arg(long, value_name = "DURATION")]
    expires_in: Option<String>,
    /// Render the resource to screen rather than implement
    #[arg(long)]
    dry_run: bool,
    /// Reset the token if the named token already exists (default: error if already exists)
    #[arg(long)]
    reset_token: bool,
    /// Write out a Wayfinder configuration file with access token
    #[arg(long, conflicts_with = "show_token")]
    show_config: bool,
    /// Show only the raw token
    #[arg(long)]
    show_token: bool,
    /// Also save the token as a profile in the config file
    #[arg(long, value_name = "PROFILE", num_args = 0..=1, default_missing_value = "")]
    save_profile: Option<String>,
    /// With -o github: also set the variables for every later step ($GITHUB_ENV). Without
    /// --github-prefix, later steps then run as the new token, which has no roles yet
    #[arg(long)]
    github_env: bool,
    /// With -o github: put PREFIX before each name (NEW_ gives NEW_WAYFINDER_TOKEN)
    #[arg(long, value_name = "PREFIX")]
    github_prefix: Option<String>,
}

#[derive(Debug, Subcommand)]
enum NamedKind {
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

const NAMED_EXAMPLES: &str = "\
Examples:
  # Show one token (never its secret), as a table, JSON or a template
  wayfinder-tokens get workspaceaccesstoken ci-deploy -w dev
  wayfinder-tokens get workspaceaccesstoken ci-deploy -w dev -o json
  wayfinder-tokens get workspaceaccesstoken ci-deploy -w dev --template '{{.status.generation}}'

  # Delete it: every secret it issued stops working at once
  wayfinder-tokens delete workspaceaccesstoken ci-deploy -w dev";

#[derive(Debug, Subcommand)]
enum ListKind {
    /// The workspace access tokens of a workspace (-w, or the profile's), or of every workspace
    #[command(alias = "workspaceaccesstoken", after_long_help = LIST_EXAMPLES)]
    Workspaceaccesstokens(fleet::ListArgs),
    /// The platform access tokens
    #[command(alias = "platformaccesstoken", after_long_help = LIST_EXAMPLES)]
    Platformaccesstokens,
}

const LIST_EXAMPLES: &str = "\
Examples:
  # A table of the workspace's tokens (never a secret)
  wayfinder-tokens list workspaceaccesstokens -w dev

  # Their names, one per line
  wayfinder-tokens list workspaceaccesstokens -w dev --template '{{range .}}{{.metadata.name}}{{\"\\n\"}}{{end}}'";

#[derive(Debug, Subcommand)]
enum AssignKind {
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

const ASSIGN_EXAMPLES: &str = "\
Examples:
  # Let a pipeline deploy into one namespace of a cluster
  wayfinder-tokens assign accessrole -w dev --workspace-access-token ci-deploy --role namespace.admin --cluster prod --namespace payments

  # Let a pipeline rotate the workspace's other tokens
  wayfinder-tokens assign wayfinderrole -w dev --workspace-access-token ci-deploy --role workspace.accesstokenmanager

The answer lists every role the token now holds.";

#[derive(Debug, Args)]
#[group(required = true, multiple = false)]
struct RoleTarget {
    /// The workspace access token to grant the role to
    #[arg(long, value_name = "NAME")]
    workspace_access_token: Option<String>,
    /// The platform access token to grant the role to
    #[arg(long, value_name = "NAME")]
    platform_access_token: Option<String>,
}

/// The log level the flags ask for (`--debug`: debug, `--verbose`: info),
/// so a host can set up its own logging before [`run`].
pub fn log_level<S: AsRef<str>>(args: &[S]) -> log::LevelFilter {
    if args.iter().any(|a| a.as_ref() == "--debug") {
        log::LevelFilter::Debug
    } else if args.iter().any(|a| a.as_ref() == "--verbose") {
        log::LevelFilter::Info
    } else {
        log::LevelFilter::Warn
    }
}

/// Logs to stderr for hosts that have no logger of their own (the Node CLI).
struct StderrLogger;

impl log::Log for StderrLogger {
    fn enabled(&self, metadata: &log::Metadata<'_>) -> bool {
        metadata.level() <= log::max_level() && metadata.target().starts_with("wayfinder_tokens")
    }

    fn log(&self, record: &log::Record<'_>) {
        if self.enabled(record.metadata()) {
            eprintln!("{} {}: {}", record.level(), record.target(), record.args());
        }
    }

    fn flush(&self) {}
}

/// Runs the CLI with its output kept in memory. `args` excludes the program name.
pub async fn run<I, S>(args: I) -> CliOutput
where
    I: IntoIterator<Item = S>,
    S: Into<String>,
{
    let (io, stdout, stderr) = Io::buffered(CancellationToken::new());
    let code = run_with(PROGRAM, args.into_iter().map(Into::into).collect(), &io).await;
    CliOutput {
        code,
        stdout: stdout.text(),
        stderr: stderr.text(),
    }
}

/// Runs the CLI on the process's standard output and error, writing each
/// secret as soon as it exists and checking every write; returns the exit
/// code. Cancelling `cancel` (the host's Ctrl-C or SIGTERM) stops a request
/// in flight, or, in a batch rotation, stops new rotations while those in
/// flight finish and get written.
/// `program` is how the user ran it (`python -m wayfinder_tokens`), for the
/// usage lines.
pub async fn run_stdio(program: &str, args: Vec<String>, cancel: CancellationToken) -> i32 {
    run_with(program, args, &Io::stdio(cancel)).await
}

/// The command's own name.
pub const PROGRAM: &str = "wayfinder-tokens";

/// Exit code after an interrupt, as a shell reports Ctrl-C.
const INTERRUPTED: i32 = 130;

async fn run_with(program: &str, args: Vec<String>, io: &Io) -> i32 {
    let cli = match Cli::try_parse_from(std::iter::once(program.to_owned()).chain(args.iter().cloned())) {
        Ok(cli) => cli,
        Err(e) => {
            let text = e.render().to_string();
            return if e.exit_code() == 0 {
                match io.stdout.write(&text) {
                    Ok(()) => 0,
                    Err(_) => 1,
                }
            } else {
                io.tell(&text);
                2
            };
        }
    };
    let level = log_level(&args);
    if level > log::LevelFilter::Warn {
        // Fails harmlessly when the host already installed a logger (Python does).
        let _ = log::set_boxed_logger(Box::new(StderrLogger));
        log::set_max_level(level);
    }
    let batch = matches!(cli.command, Command::Rotate { .. });
    let outcome = tokio::select! {
        biased;
        // A batch watches the interrupt itself: what is in flight still gets written.
        () = io.cancel.cancelled(), if !batch => {
            io.tell("interrupted\n");
            return INTERRUPTED;
        }
        outcome = execute(cli, io) => outcome,
    };
    match outcome {
        Ok(printed) => finish(printed, io),
        Err(e) => {
            let code = exit_code(&e);
            io.tell(&error_text(e));
            code
        }
    }
}

/// Writes what a command printed; a secret that could not be written is
/// named, rescued to the terminal if possible, and the run fails.
fn finish(printed: Printed, io: &Io) -> i32 {
    let mut code = i32::from(printed.failed);
    if let Err(e) = io.stdout.write(&printed.stdout) {
        code = 1;
        if !printed.secrets.is_empty() {
            io.rescue(&printed.secrets, &printed.stdout, &e);
        } else if e.kind() != std::io::ErrorKind::BrokenPipe {
            io.tell(&format!("error: could not write to standard output: {e}\n"));
        }
    }
    io.tell(&printed.stderr);
    if let Some((e, note)) = printed.late_error {
        io.tell(&(error_text(e) + note + "\n"));
        code = 1;
    }
    if io.cancel.is_cancelled() { INTERRUPTED } else { code }
}

/// 2 for bad usage or input caught before any request, 1 for the rest.
fn exit_code(e: &Error) -> i32 {
    match e {
        Error::Config { .. } | Error::Validation { .. } => 2,
        Error::Api(_) | Error::Transport { .. } | Error::Timeout { .. } => 1,
    }
}

fn error_text(e: Error) -> String {
    let mut text = format!("error: {}\n", e.describe(&CliSpelling));
    // A validation error's message is its fields' sentences; a server's
    // answer carries its field errors beside its message.
    if e.field_errors().len() > 1 || matches!(e, Error::Api(_)) {
        for f in e.field_errors() {
            let field = match &f.field {
                Field::Argument(a) => CliSpelling.argument(*a),
                Field::Named(name) => name.clone().into(),
            };
            text.push_str(&format!("  {field}: {}\n", f.message(&CliSpelling)));
        }
    }
    text
}

pub(crate) fn usage(message: impl Into<String>) -> Error {
    Error::from_field_errors(vec![FieldError::new(Field::named("usage"), "invalidValue", message)])
}

/// What a successful run prints, and an error that came after the output
/// was already decided (the secret is printed all the same).
pub(crate) struct Printed {
    stdout: String,
    /// Told on stderr (a batch's summary), whatever the outcome.
    stderr: String,
    /// Some items of a batch failed: exit 1.
    failed: bool,
    /// An error after the secret was printed, and what it means for that secret.
    late_error: Option<(Error, &'static str)>,
    /// The tokens whose new secrets are in `stdout` (and nowhere else).
    secrets: Vec<String>,
}

impl From<String> for Printed {
    fn from(stdout: String) -> Printed {
        Printed {
            stdout,
            stderr: String::new(),
            failed: false,
            late_error: None,
            secrets: Vec::new(),
        }
    }
}

/// How the CLI names a token in its messages.
pub(crate) fn label(issued: &IssuedToken) -> String {
    match &issued.workspace {
        Some(w) => format!("{w}/{}", issued.name),
        None => format!("platform/{}", issued.name),
    }
}

/// The formats that carry a newly issued secret.
const SECRET_FORMATS: &str = "env, export, shell, config, token, json, yaml, github, template";

/// The output of `create`, checked before any request: a format that would
/// throw the one-time secret away is refused.
fn create_output(args: &CreateArgs, output: Option<Output>) -> Result<Output, Error> {
    let output = match (args.show_config, args.show_token, output) {
        // `wf` documents this pair as "a config suitable for export": the variables, bare.
        (true, _, Some(Output::Export)) => Output::Export,
        (true, _, None | Some(Output::Config)) => Output::Config,
        (_, true, None | Some(Output::Token)) => Output::Token,
        (false, false, Some(o)) => o,
        (false, false, None) if args.dry_run => Output::Yaml,
        (false, false, None) => Output::Env,
        _ => {
            return Err(usage(
                "--show-config and --show-token cannot be combined with another -o format",
            ));
        }
    };
    if output == Output::Table && !args.dry_run {
        return Err(usage(format!(
            "-o table would not show the new token's secret, which cannot be retrieved later; \
             use one of: {SECRET_FORMATS}"
        )));
    }
    Ok(output)
}

async fn create(
    g: &Global,
    args: &CreateArgs,
    platform: bool,
    template: Option<&GoTemplate>,
) -> Result<Printed, Error> {
    let output = create_output(
        args,
        if template.is_some() {
            Some(Output::Template)
        } else {
            g.output
        },
    )?;
    let github = github_targets(args, output)?;
    let options = CreateOptions {
        description: args.description.clone(),
        expires_in: args
            .expires_in
            .as_deref()
            .map(|raw| wayfinder_tokens::names::parse_expires_in(Argument::ExpiresIn, raw))
            .transpose()?,
        reset_token: args.reset_token,
        dry_run: args.dry_run,
    };
    if let Some(t) = template {
        rehearse(t, &args.name, g.workspace.as_deref(), platform, &options)?;
    }
    let client = client(g)?;
    let issued = if platform {
        client.create_platform_access_token(&args.name, &options).await?
    } else {
        client
            .create_workspace_access_token(&args.name, g.workspace.as_deref(), &options)
            .await?
    };
    // The secret exists now and only this process holds it: whatever fails
    // from here on, it is printed first.
    let (stdout, mut late_error) = deliver(&issued, output, template, github.as_ref(), g.show_headers)?;
    // Whether stdout is the one place the secret went (the runner's files or
    // a saved profile hold it otherwise), so that a failed write names it.
    let mut only_on_stdout = !(github.is_some() && late_error.is_none());
    match save_as_profile(&issued, args, g) {
        Ok(saved) => only_on_stdout &= !saved,
        Err(e) => {
            late_error = Some((
                e,
                "The token above was created and its secret is valid: store it now, \
                 it cannot be retrieved again",
            ));
        }
    }
    let secrets = match &issued.token {
        Some(t) if only_on_stdout && stdout.contains(t.expose()) => vec![label(&issued)],
        _ => Vec::new(),
    };
    Ok(Printed {
        late_error,
        secrets,
        ..Printed::from(stdout)
    })
}

/// `--save-profile`: saves the token as a profile when asked; whether it was saved.
fn save_as_profile(issued: &IssuedToken, args: &CreateArgs, g: &Global) -> Result<bool, Error> {
    let Some(profile) = args.save_profile.as_deref().filter(|_| !issued.is_dry_run()) else {
        return Ok(false);
    };
    let profile = Some(profile).filter(|p| !p.is_empty());
    let path = wayfinder_tokens::config::save_profile(issued, g.config.as_deref(), profile, false, None)?;
    log::info!("saved the token as a profile in {}", path.display());
    Ok(true)
}

/// Where `-o github` hands the token over, checked before any request.
fn github_targets(args: &CreateArgs, output: Output) -> Result<Option<wayfinder_tokens::github::Targets>, Error> {
    match (output, args.dry_run) {
        (Output::Github, false) => wayfinder_tokens::github::Handoff {
            prefix: args.github_prefix.clone().unwrap_or_default(),
            env: args.github_env,
            ..wayfinder_tokens::github::Handoff::default()
        }
        .targets(&|k| std::env::var(k).ok())
        .map(Some),
        _ if output != Output::Github && (args.github_env || args.github_prefix.is_some()) => {
            Err(usage("--github-env and --github-prefix apply to -o github"))
        }
        _ => Ok(None),
    }
}

/// An error after the secret was issued, and what it means for that secret.
type LateError = (Error, &'static str);

/// What a create prints: never loses the secret, whatever fails after it was issued.
fn deliver(
    issued: &IssuedToken,
    output: Output,
    template: Option<&GoTemplate>,
    github: Option<&wayfinder_tokens::github::Targets>,
    headers: bool,
) -> Result<(String, Option<LateError>), Error> {
    match (github, template) {
        (Some(targets), _) => match wayfinder_tokens::github::append(issued, targets) {
            Ok(mask) => Ok((mask, None)),
            // Mask it in the job log, then print it.
            Err(e) => Ok((
                wayfinder_tokens::github::mask_command(issued)? + &render::export(issued)?,
                Some((
                    e,
                    "The token was created; its variables are printed above (masked in the job log): \
                     store the secret now, it cannot be retrieved again",
                )),
            )),
        },
        (None, Some(t)) if issued.is_dry_run() => Ok((t.render(&issued.resource, None)?, None)),
        (None, Some(t)) => {
            let secret = issued.token.as_ref().map(wayfinder_tokens::Secret::expose);
            match t.render(&render::summary(issued), secret) {
                Ok(out) => Ok((out, None)),
                Err(e) => Ok((
                    render::env(issued)?,
                    Some((
                        e,
                        "The token was created; as the template failed, its variables are printed above \
                         instead: store the secret now, it cannot be retrieved again",
                    )),
                )),
            }
        }
        (None, None) => Ok((render_issued(issued, output, headers)?, None)),
    }
}

/// Runs the template on a stand-in for the token about to be created, so a
/// template that cannot render, or would not print the new secret, fails
/// before anything is created or reset.
fn rehearse(
    template: &GoTemplate,
    name: &str,
    workspace: Option<&str>,
    platform: bool,
    options: &CreateOptions,
) -> Result<(), Error> {
    let workspace = (!platform).then(|| workspace.unwrap_or("workspace").to_owned());
    let resource = AccessToken {
        api_version: wayfinder_tokens::DEFAULT_API_GROUP_VERSION.to_owned(),
        kind: if platform {
            "PlatformAccessToken"
        } else {
            "WorkspaceAccessToken"
        }
        .to_owned(),
        metadata: wayfinder_tokens::model::ObjectMeta {
            name: name.to_owned(),
            namespace: workspace.as_ref().map(|w| format!("ws-{w}")),
            creation_timestamp: Some("2026-01-01T00:00:00Z".to_owned()),
            resource_version: Some("1".to_owned()),
            uid: Some("stand-in".to_owned()),
            ..Default::default()
        },
        spec: wayfinder_tokens::model::AccessTokenSpec {
            description: options.description.clone(),
            ..Default::default()
        },
        ..Default::default()
    };
    let stand_in = IssuedToken {
        name: name.to_owned(),
        workspace,
        server: "https://wayfinder.example.com".to_owned(),
        description: options.description.clone(),
        token: (!options.dry_run).then(|| wayfinder_tokens::Secret::from(STAND_IN_SECRET.to_owned())),
        expires: None,
        resource,
    };
    if options.dry_run {
        return template.render(&stand_in.resource, None).map(drop);
    }
    template.rehearse(&render::summary(&stand_in), STAND_IN_SECRET)
}

/// The secret of a rehearsal's stand-in token: nothing a real one can be.
const STAND_IN_SECRET: &str = "wayfinder-tokens-rehearsal-stand-in-secret";

fn client(g: &Global) -> Result<Client, Error> {
    Client::new(&ClientOptions {
        workspace: g.workspace.clone(),
        profile: g.profile.clone(),
        config_path: g.config.clone(),
        allow_insecure_http: g.allow_insecure_http,
        ..ClientOptions::default()
    })
}

async fn execute(cli: Cli, io: &Io) -> Result<Printed, Error> {
    let g = &cli.global;
    let template = output_template(g)?;
    let template = template.as_ref();
    let stdout = match &cli.command {
        Command::Create { kind } => {
            return match kind {
                CreateKind::Workspaceaccesstoken(args) => create(g, args, false, template).await,
                CreateKind::Platformaccesstoken(args) => create(g, args, true, template).await,
            };
        }
        Command::Rotate { kind } => {
            let fleet::RotateKind::Workspaceaccesstokens(args) = kind;
            return fleet::rotate(&client(g)?, args, g, io).await;
        }
        Command::Get { kind } => get(g, kind, template).await,
        Command::List { kind } => list(g, kind, template).await,
        Command::Delete { kind } => delete(g, kind, template).await,
        Command::Assign { kind } => assign(g, kind, template).await,
        Command::Whoami => whoami(g, template).await,
    }?;
    Ok(stdout.into())
}

async fn get(g: &Global, kind: &NamedKind, template: Option<&GoTemplate>) -> Result<String, Error> {
    let client = client(g)?;
    let token = match kind {
        NamedKind::Workspaceaccesstoken { name } => {
            client.get_workspace_access_token(name, g.workspace.as_deref()).await?
        }
        NamedKind::Platformaccesstoken { name } => client.get_platform_access_token(name).await?,
    };
    render_resources(std::slice::from_ref(&token), false, g, template)
}

async fn list(g: &Global, kind: &ListKind, template: Option<&GoTemplate>) -> Result<String, Error> {
    let client = client(g)?;
    let tokens = match kind {
        ListKind::Workspaceaccesstokens(args) if args.is_fleet() => {
            return fleet::list(&client, args, g, template).await;
        }
        ListKind::Workspaceaccesstokens(_) => client.list_workspace_access_tokens(g.workspace.as_deref()).await?,
        ListKind::Platformaccesstokens => client.list_platform_access_tokens().await?,
    };
    render_resources(&tokens, true, g, template)
}

async fn delete(g: &Global, kind: &NamedKind, template: Option<&GoTemplate>) -> Result<String, Error> {
    let client = client(g)?;
    let (token, label) = match kind {
        NamedKind::Workspaceaccesstoken { name } => (
            client
                .delete_workspace_access_token(name, g.workspace.as_deref())
                .await?,
            "workspaceaccesstoken",
        ),
        NamedKind::Platformaccesstoken { name } => {
            (client.delete_platform_access_token(name).await?, "platformaccesstoken")
        }
    };
    match (g.output, template) {
        (None | Some(Output::Table) | Some(Output::Env), None) => Ok(format!("{label} {:?} deleted\n", token.name())),
        _ => render_resources(std::slice::from_ref(&token), false, g, template),
    }
}

async fn assign(g: &Global, kind: &AssignKind, template: Option<&GoTemplate>) -> Result<String, Error> {
    let client = client(g)?;
    let ws = g.workspace.as_deref();
    let unnamed = || usage("name the token with --workspace-access-token or --platform-access-token");
    let (target, roles) = match kind {
        AssignKind::Accessrole {
            target,
            role,
            cluster,
            namespace,
        } => {
            let (c, n) = (cluster.as_deref(), namespace.as_deref());
            match (&target.workspace_access_token, &target.platform_access_token) {
                (Some(t), _) => (t, client.assign_access_role(t, role, c, n, ws).await?),
                (_, Some(t)) => (t, client.assign_platform_access_role(t, role, c, n).await?),
                _ => return Err(unnamed()),
            }
        }
        AssignKind::Wayfinderrole { target, role } => {
            match (&target.workspace_access_token, &target.platform_access_token) {
                (Some(t), _) => (t, client.assign_wayfinder_role(t, role, ws).await?),
                (_, Some(t)) => (t, client.assign_platform_wayfinder_role(t, role).await?),
                _ => return Err(unnamed()),
            }
        }
    };
    match template {
        Some(t) => t.render(&roles, None),
        None => render_roles(target, &roles, g.output),
    }
}

async fn whoami(g: &Global, template: Option<&GoTemplate>) -> Result<String, Error> {
    let me = client(g)?.whoami().await?;
    if let Some(t) = template {
        return t.render(&me, None);
    }
    match g.output {
        Some(Output::Json) => render::to_json(&me),
        Some(Output::Yaml) => render::to_yaml(&me),
        _ => {
            let workspaces = if me.workspaces.is_empty() {
                "-".to_owned()
            } else {
                me.workspaces.join(", ")
            };
            let line = format!(
                "{} ({}, {}) workspaces: {workspaces}",
                me.username, me.subject_kind, me.auth_method
            );
            Ok(render::printable(&line) + "\n")
        }
    }
}

fn render_issued(issued: &IssuedToken, output: Output, headers: bool) -> Result<String, Error> {
    if issued.is_dry_run() {
        // A dry run shows the object the server would create.
        return match output {
            Output::Json => render::to_json(&issued.resource),
            Output::Table => Ok(render::table(std::slice::from_ref(&issued.resource), headers)),
            _ => render::to_yaml(&issued.resource),
        };
    }
    match output {
        Output::Env => render::env(issued),
        Output::Export => render::export(issued),
        Output::Shell => render::shell(issued),
        Output::Config => wayfinder_tokens::config::yaml_for_token(issued),
        Output::Token => render::token(issued),
        Output::Json => render::json(issued),
        Output::Yaml => render::yaml(issued),
        Output::Github => Err(usage("-o github needs the runner's files ($GITHUB_OUTPUT)")),
        Output::Table => Ok(render::table(std::slice::from_ref(&issued.resource), headers)),
        Output::Template => Err(usage("-o template needs --template TEXT or --template-file PATH")),
        Output::Jsonl => Err(usage("-o jsonl applies to rotate")),
    }
}

/// Most bytes read from `--template-file`.
const MAX_TEMPLATE_FILE: u64 = 256 * 1024;

/// The template `-o template` asks for, parsed before any request.
fn output_template(g: &Global) -> Result<Option<GoTemplate>, Error> {
    let source = match (&g.template, &g.template_file) {
        (Some(text), _) => Some(text.clone()),
        (None, Some(path)) => Some(read_template_file(path)?),
        (None, None) => None,
    };
    match (g.output, source) {
        (None | Some(Output::Template), Some(source)) => GoTemplate::parse(&source).map(Some),
        (Some(Output::Template), None) => Err(usage("-o template needs --template TEXT or --template-file PATH")),
        (Some(_), Some(_)) => Err(usage("--template and --template-file apply to -o template only")),
        (_, None) => Ok(None),
    }
}

fn read_template_file(path: &std::path::Path) -> Result<String, Error> {
    use std::io::Read;
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_TEMPLATE_FILE + 1).read_to_string(&mut text))
        .map_err(|e| Error::config_with(format!("cannot read the template file {}: {e}", path.display()), e))?;
    if text.len() as u64 > MAX_TEMPLATE_FILE {
        return Err(usage(format!(
            "the template file {} is larger than {} KiB",
            path.display(),
            MAX_TEMPLATE_FILE / 1024
        )));
    }
    Ok(text)
}

fn render_resources(
    tokens: &[AccessToken],
    many: bool,
    g: &Global,
    template: Option<&GoTemplate>,
) -> Result<String, Error> {
    match (template, many) {
        (Some(t), true) => return t.render(tokens, None),
        (Some(t), false) => return t.render(&tokens[0], None),
        (None, _) => {}
    }
    match g.output {
        None | Some(Output::Table) => Ok(render::table(tokens, g.show_headers)),
        Some(Output::Json) if many => render::to_json(tokens),
        Some(Output::Yaml) if many => render::to_yaml(tokens),
        Some(Output::Json) => render::to_json(&tokens[0]),
        Some(Output::Yaml) => render::to_yaml(&tokens[0]),
        Some(other) => Err(usage(format!(
            "-o {} applies to create; use table, json or yaml here",
            other
                .to_possible_value()
                .map(|v| v.get_name().to_owned())
                .unwrap_or_default()
        ))),
    }
}

fn render_roles(token: &str, roles: &Roles, output: Option<Output>) -> Result<String, Error> {
    match output {
        Some(Output::Json) => render::to_json(roles),
        Some(Output::Yaml) => render::to_yaml(roles),
        _ => {
            let mut out = format!("roles of {token:?}:\n");
            for r in &roles.access_roles {
                let scope = match (&r.cluster, &r.namespace) {
                    (Some(c), Some(n)) => format!(" (cluster {c}, namespace {n})"),
                    (Some(c), None) => format!(" (cluster {c})"),
                    (None, Some(n)) => format!(" (namespace {n})"),
                    (None, None) => String::new(),
                };
                out.push_str(&render::printable(&format!("  access role    {}{scope}", r.role)));
                out.push('\n');
            }
            for r in &roles.wayfinder_roles {
                out.push_str(&render::printable(&format!("  wayfinder role {r}")));
                out.push('\n');
            }
            Ok(out)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn usage_errors_exit_2_and_help_exits_0() {
        let help = run(["--help"]).await;
        assert_eq!(help.code, 0);
        assert!(help.stdout.contains("create"));
        for bad in [
            vec!["create"],
            vec!["create", "workspaceaccesstoken"],
            vec!["create", "workspaceaccesstoken", "x", "--bogus"],
            vec!["create", "workspaceaccesstoken", "x", "--show-config", "--show-token"],
            vec!["assign", "wayfinderrole", "--role", "r"],
            vec!["create", "workspaceaccesstoken", "x", "-o", "nonsense"],
        ] {
            let out = run(bad.clone()).await;
            assert_eq!(out.code, 2, "{bad:?}: {out:?}");
            assert!(!out.stderr.is_empty());
        }
    }

    #[test]
    fn log_levels() {
        assert_eq!(log_level(&["--debug"]), log::LevelFilter::Debug);
        assert_eq!(log_level(&["--verbose"]), log::LevelFilter::Info);
        assert_eq!(log_level::<&str>(&[]), log::LevelFilter::Warn);
    }
}
