//! Each command: the client it needs, the call, and what it prints.

use wayfinder_tokens::client::Client;
use wayfinder_tokens::error::{Argument, Error};
use wayfinder_tokens::model::{IssuedToken, Scope};
use wayfinder_tokens::render;
use wayfinder_tokens::requests;
use wayfinder_tokens::settings::ClientOptions;
use wayfinder_tokens::tokens::CreateOptions;

use crate::args::*;
use crate::fleet;
use crate::io::Io;
use crate::output::*;
use crate::template::GoTemplate;

pub(crate) async fn create(
    g: &Global,
    args: &CreateArgs,
    platform: bool,
    template: Option<&GoTemplate>,
    io: &Io,
) -> Result<Printed, Error> {
    let specs = crate::deliver::parse(&args.deliver)?;
    // With --deliver, the secret is printed only when a format was asked for.
    let quiet = !specs.is_empty() && template.is_none() && g.output.is_none() && !args.show_config && !args.show_token;
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
    let workspace = (!platform)
        .then(|| g.workspace.clone().or_else(|| client.workspace().map(str::to_owned)))
        .flatten();
    let destinations = crate::deliver::resolve(&specs, &args.name, workspace.as_deref())?;
    let delivery = match (destinations.is_empty(), args.dry_run) {
        (false, false) => Some(crate::deliver::prepared(destinations.clone()).await?),
        _ => None,
    };
    // Nothing is issued once interrupted; once issued, the secret is delivered whatever comes.
    let issued = tokio::select! {
        biased;
        () = io.cancel.cancelled() => return Err(crate::output::interrupted()),
        issued = issue(&client, &args.name, g.workspace.as_deref(), platform, &options) => issued?,
    };
    let mut printed = print_issued(&issued, args, g, output, template, github.as_ref(), delivery.is_some())?;
    if args.dry_run && !destinations.is_empty() {
        printed
            .stderr
            .push_str(&crate::deliver::would_deliver(&destinations, !platform));
    }
    if let Some((deliverer, prepared)) = delivery {
        let report = deliverer.deliver(&prepared, &issued).await;
        crate::deliver::tell(&mut printed, &report, quiet.then(|| label(&issued)));
    }
    Ok(printed)
}

async fn issue(
    client: &Client,
    name: &str,
    workspace: Option<&str>,
    platform: bool,
    options: &CreateOptions,
) -> Result<IssuedToken, Error> {
    match platform {
        true => client.create_platform_access_token(name, options).await,
        false => client.create_workspace_access_token(name, workspace, options).await,
    }
}

/// What a create prints, and saves as a profile; never loses the secret,
/// whatever fails after it was issued. `delivered`: destinations hold it too.
fn print_issued(
    issued: &IssuedToken,
    args: &CreateArgs,
    g: &Global,
    output: Output,
    template: Option<&GoTemplate>,
    github: Option<&wayfinder_tokens::github::Targets>,
    delivered: bool,
) -> Result<Printed, Error> {
    // The secret exists now and only this process holds it: whatever fails
    // from here on, it is printed first.
    let (stdout, mut late_error) = deliver(issued, output, template, github, g.show_headers)?;
    // Whether stdout is the one place the secret went (the runner's files,
    // a saved profile or the destinations hold it otherwise), so that a
    // failed write names it.
    let mut only_on_stdout = !(delivered || github.is_some() && late_error.is_none());
    match save_as_profile(issued, args, g) {
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
        Some(t) if only_on_stdout && stdout.contains(t.expose()) => vec![label(issued)],
        _ => Vec::new(),
    };
    Ok(Printed {
        late_error,
        secrets,
        ..Printed::from(stdout)
    })
}

/// `--save-profile`: saves the token as a profile when asked; whether it was saved.
pub(crate) fn save_as_profile(issued: &IssuedToken, args: &CreateArgs, g: &Global) -> Result<bool, Error> {
    let Some(profile) = args.save_profile.as_deref().filter(|_| !issued.is_dry_run()) else {
        return Ok(false);
    };
    let profile = Some(profile).filter(|p| !p.is_empty());
    let path = wayfinder_tokens::config::save_profile(issued, g.config.as_deref(), profile, false, None)?;
    log::info!("saved the token as a profile in {}", path.display());
    Ok(true)
}

/// Where `-o github` hands the token over, checked before any request.
pub(crate) fn github_targets(
    args: &CreateArgs,
    output: Output,
) -> Result<Option<wayfinder_tokens::github::Targets>, Error> {
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

/// Runs the template on a stand-in for the token about to be created, so a
/// template that cannot render, or would not print the new secret, fails
/// before anything is created or reset.
pub(crate) fn rehearse(
    template: &GoTemplate,
    name: &str,
    workspace: Option<&str>,
    platform: bool,
    options: &CreateOptions,
) -> Result<(), Error> {
    let workspace = (!platform).then(|| workspace.unwrap_or("workspace").to_owned());
    let scope = match &workspace {
        Some(w) => Scope::Workspace(w.clone()),
        None => Scope::Platform,
    };
    // What the server would answer: the object the create sends, stamped.
    let mut resource = requests::token_object(
        wayfinder_tokens::DEFAULT_API_GROUP_VERSION,
        &scope,
        name,
        options.description.as_deref(),
        None,
    );
    resource.metadata.creation_timestamp = Some("2026-01-01T00:00:00Z".to_owned());
    resource.metadata.resource_version = Some("1".to_owned());
    resource.metadata.uid = Some("stand-in".to_owned());
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
pub(crate) const STAND_IN_SECRET: &str = "wayfinder-tokens-rehearsal-stand-in-secret";

pub(crate) fn client(g: &Global) -> Result<Client, Error> {
    Client::new(&ClientOptions {
        workspace: g.workspace.clone(),
        profile: g.profile.clone(),
        config_path: g.config.clone(),
        allow_insecure_http: g.allow_insecure_http,
        ..ClientOptions::default()
    })
}

pub(crate) async fn execute(cli: Cli, io: &Io) -> Result<Printed, Error> {
    let g = &cli.global;
    let template = output_template(g)?;
    let template = template.as_ref();
    let stdout = match &cli.command {
        Command::Create { kind } => {
            return match kind {
                CreateKind::Workspaceaccesstoken(args) => create(g, args, false, template, io).await,
                CreateKind::Platformaccesstoken(args) => create(g, args, true, template, io).await,
            };
        }
        Command::Rotate { kind } => {
            let RotateKind::Workspaceaccesstokens(args) = kind;
            return fleet::rotate(&client(g)?, args, g, io).await;
        }
        Command::Deliver(args) => return crate::deliver::pending(!args.list).await,
        Command::Plan(args) => return crate::converge::plan(&client(g)?, g, args).await,
        Command::Apply(args) => return crate::converge::apply(&client(g)?, g, args, io).await,
        Command::Check(args) => return crate::converge::check(&client(g)?, g, args).await,
        Command::Schema => return Ok(crate::converge::schema()),
        Command::Get { kind } => get(g, kind, template).await,
        Command::List { kind } => list(g, kind, template).await,
        Command::Delete { kind } => delete(g, kind, template).await,
        Command::Assign { kind } => assign(g, kind, template).await,
        Command::Whoami => whoami(g, template).await,
    }?;
    Ok(stdout.into())
}

pub(crate) async fn get(g: &Global, kind: &NamedKind, template: Option<&GoTemplate>) -> Result<String, Error> {
    let client = client(g)?;
    let token = match kind {
        NamedKind::Workspaceaccesstoken { name } => {
            client.get_workspace_access_token(name, g.workspace.as_deref()).await?
        }
        NamedKind::Platformaccesstoken { name } => client.get_platform_access_token(name).await?,
    };
    render_resources(std::slice::from_ref(&token), false, g, template)
}

pub(crate) async fn list(g: &Global, kind: &ListKind, template: Option<&GoTemplate>) -> Result<String, Error> {
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

pub(crate) async fn delete(g: &Global, kind: &NamedKind, template: Option<&GoTemplate>) -> Result<String, Error> {
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

pub(crate) async fn assign(g: &Global, kind: &AssignKind, template: Option<&GoTemplate>) -> Result<String, Error> {
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

pub(crate) async fn whoami(g: &Global, template: Option<&GoTemplate>) -> Result<String, Error> {
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
