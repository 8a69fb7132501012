//! `plan`, `apply`, `check` and `schema`: tokens as code on the command
//! line. Plans and checks never print a secret; apply delivers secrets to
//! the spec's destinations only.

use std::fmt::Write as _;
use std::path::Path;

use wayfinder_tokens::client::Client;
use wayfinder_tokens::converge::{self, PlanOptions, TokenSpec};
use wayfinder_tokens::error::Error;
use wayfinder_tokens::names::parse_expires_in;
use wayfinder_tokens::render;

use crate::args::{CheckArgs, Global, Output, PlanArgs, SpecArgs};
use crate::io::Io;
use crate::output::{Printed, usage};

/// Terraform's convention for `--detailed-exitcode`: changes are pending.
pub(crate) const CHANGES_PENDING: i32 = 2;

fn load(path: &Path) -> Result<TokenSpec, Error> {
    TokenSpec::load(path)
}

fn options(args: &SpecArgs) -> PlanOptions {
    PlanOptions {
        rotate: args.rotate.clone(),
        concurrency: None,
    }
}

/// `plan -f FILE`: what apply would do, one line per change.
pub(crate) async fn plan(client: &Client, g: &Global, args: &PlanArgs) -> Result<Printed, Error> {
    let spec = load(&args.spec.file)?;
    let deliverer = crate::deliver::deliverer()?;
    let plan = converge::plan(client, &deliverer, &spec, &options(&args.spec)).await?;
    let stdout = match g.output {
        Some(Output::Json) => render::to_json(&plan)?,
        None | Some(Output::Table) => plan.lines().join("\n") + "\n",
        Some(_) => return Err(usage("a plan prints as text (the default) or -o json")),
    };
    Ok(Printed {
        code: (args.detailed_exitcode && plan.has_changes()).then_some(CHANGES_PENDING),
        ..Printed::from(stdout)
    })
}

/// `apply -f FILE`: converges, one line per change done.
pub(crate) async fn apply(client: &Client, g: &Global, args: &SpecArgs, io: &Io) -> Result<Printed, Error> {
    let spec = load(&args.file)?;
    let deliverer = crate::deliver::deliverer()?;
    let options = options(args);
    let plan = tokio::select! {
        plan = converge::plan(client, &deliverer, &spec, &options) => plan?,
        () = io.cancel.cancelled() => return Err(Error::config("interrupted before anything was changed")),
    };
    // Ctrl-C: tokens not started are left for the next apply; those started finish.
    let report = converge::run_until(client, &deliverer, &plan, io.cancel.clone()).await;
    let stdout = match g.output {
        Some(Output::Json) => {
            let applied: Vec<serde_json::Value> = report.applied.iter().map(converge::Applied::to_value).collect();
            let value = serde_json::json!({"ok": report.ok(), "applied": applied, "drift": plan.drift});
            render::to_json(&value)?
        }
        None | Some(Output::Table) => {
            let mut out = String::new();
            for line in report.applied.iter().map(converge::Applied::line) {
                let _ = writeln!(out, "{line}");
            }
            for drift in &plan.drift {
                let _ = writeln!(out, "{}", drift.line());
            }
            let _ = writeln!(out, "{}", report.summary());
            out
        }
        Some(_) => return Err(usage("apply prints as text (the default) or -o json")),
    };
    Ok(Printed {
        failed: !report.ok(),
        ..Printed::from(stdout)
    })
}

/// `check -f FILE`: exit 2 when a rotation is due within the horizon;
/// under GitHub Actions, one `::warning::` per token due.
pub(crate) async fn check(client: &Client, g: &Global, args: &CheckArgs) -> Result<Printed, Error> {
    let spec = load(&args.file)?;
    let horizon = parse_expires_in(wayfinder_tokens::Argument::ExpiringWithin, &args.within)?;
    let found = converge::check(client, &spec, horizon).await?;
    let any_due = found.iter().any(|d| d.due);
    let github = std::env::var("GITHUB_ACTIONS").is_ok_and(|v| v == "true");
    let stdout = match g.output {
        Some(Output::Json) => render::to_json(&found)?,
        Some(Output::Github) => annotations(&found),
        None if github => annotations(&found),
        None | Some(Output::Table) => {
            let rows = found.iter().map(|d| {
                vec![
                    d.workspace.clone().unwrap_or_else(|| "platform".to_owned()),
                    d.token.clone(),
                    d.target.clone().unwrap_or_else(|| "-".to_owned()),
                    d.due_at.clone().unwrap_or_else(|| "never".to_owned()),
                    d.reason.clone(),
                    if d.due { "yes" } else { "no" }.to_owned(),
                ]
            });
            render::rows_table(
                &["WORKSPACE", "TOKEN", "IN USE", "DUE AT", "WHY", "DUE"],
                rows,
                g.show_headers,
            )
        }
        Some(_) => return Err(usage("check prints as a table (the default), -o json or -o github")),
    };
    Ok(Printed {
        code: any_due.then_some(CHANGES_PENDING),
        ..Printed::from(stdout)
    })
}

/// GitHub's workflow commands: a warning per token due, a notice otherwise.
fn annotations(found: &[converge::Due]) -> String {
    let mut out = String::new();
    for d in found.iter().filter(|d| d.due) {
        let subject = format!("{}/{}", d.workspace.as_deref().unwrap_or("platform"), d.token);
        let when = d.due_at.as_deref().unwrap_or("now");
        let _ = writeln!(
            out,
            "::warning title=Rotation due for {}::{subject} is due to rotate at {when} ({}): run wayfinder-tokens apply",
            escape(&subject, true),
            escape(&d.reason, false)
        );
    }
    let due = found.iter().filter(|d| d.due).count();
    let _ = writeln!(out, "{due} of {} token(s) due to rotate", found.len());
    out
}

/// A workflow command's text, escaped as GitHub reads it (`%`, newlines, and in properties `:` and `,`).
fn escape(text: &str, property: bool) -> String {
    let mut out = text.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A");
    if property {
        out = out.replace(':', "%3A").replace(',', "%2C");
    }
    out
}

/// `schema`: the spec's JSON Schema, for editors.
pub(crate) fn schema() -> Printed {
    Printed::from(converge::JSON_SCHEMA.to_owned())
}
