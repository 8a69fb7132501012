//! What a run prints: each format of an issued token or a listing, errors in
//! the command line's words, exit codes, and the secret written or rescued.

use clap::ValueEnum;
use wayfinder_tokens::error::{Error, Field, FieldError, Spelling};
use wayfinder_tokens::model::{AccessToken, IssuedToken, Roles};
use wayfinder_tokens::render;

use crate::args::{CreateArgs, Global, Output};
use crate::io::Io;
use crate::spelling::CliSpelling;
use crate::template::GoTemplate;

/// Exit code after an interrupt, as a shell reports Ctrl-C.
pub(crate) const INTERRUPTED: i32 = 130;

/// The error of a command interrupted before it issued anything (exit 130).
pub(crate) fn interrupted() -> Error {
    Error::config("interrupted: nothing was created or reset")
}

/// Writes what a command printed; a secret that could not be written is
/// named, rescued to the terminal if possible, and the run fails.
pub(crate) fn finish(printed: Printed, io: &Io) -> i32 {
    let mut code = match printed.failed {
        true => 1,
        false => printed.code.unwrap_or(0),
    };
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
pub(crate) fn exit_code(e: &Error) -> i32 {
    match e {
        Error::Config { .. } | Error::Validation { .. } => 2,
        Error::Api(_) | Error::Transport { .. } | Error::Timeout { .. } => 1,
    }
}

pub(crate) fn error_text(e: Error) -> String {
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
    pub(crate) stdout: String,
    /// Told on stderr (a batch's summary), whatever the outcome.
    pub(crate) stderr: String,
    /// Some items of a batch failed: exit 1.
    pub(crate) failed: bool,
    /// An error after the secret was printed, and what it means for that secret.
    pub(crate) late_error: Option<(Error, &'static str)>,
    /// The tokens whose new secrets are in `stdout` (and nowhere else).
    pub(crate) secrets: Vec<String>,
    /// The exit code when nothing failed, if not 0 (`plan --detailed-exitcode`: 2).
    pub(crate) code: Option<i32>,
}

impl From<String> for Printed {
    fn from(stdout: String) -> Printed {
        Printed {
            stdout,
            stderr: String::new(),
            failed: false,
            late_error: None,
            secrets: Vec::new(),
            code: None,
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
pub(crate) const SECRET_FORMATS: &str = "env, export, shell, config, token, json, yaml, kubernetes, github, template";

/// The output of `create`, checked before any request: a format that would
/// throw the one-time secret away is refused.
pub(crate) fn create_output(args: &CreateArgs, output: Option<Output>) -> Result<Output, Error> {
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

/// An error after the secret was issued, and what it means for that secret.
pub(crate) type LateError = (Error, &'static str);

/// What a create prints: never loses the secret, whatever fails after it was issued.
pub(crate) fn deliver(
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

pub(crate) fn render_issued(issued: &IssuedToken, output: Output, headers: bool) -> Result<String, Error> {
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
        Output::Kubernetes => wayfinder_tokens::deliver::kubernetes_secret(issued, ""),
    }
}

/// Most bytes read from `--template-file`.
pub(crate) const MAX_TEMPLATE_FILE: u64 = 256 * 1024;

/// The template `-o template` asks for, parsed before any request.
pub(crate) fn output_template(g: &Global) -> Result<Option<GoTemplate>, Error> {
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

pub(crate) fn read_template_file(path: &std::path::Path) -> Result<String, Error> {
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

pub(crate) fn render_resources(
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

pub(crate) fn render_roles(token: &str, roles: &Roles, output: Option<Output>) -> Result<String, Error> {
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
