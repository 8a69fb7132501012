//! `list workspaceaccesstokens --all-workspaces` and `rotate
//! workspaceaccesstokens`: the fleet operations on the command line. A
//! rotation's summary goes to stderr (never a secret); the secrets go to
//! `--output-dir` files or `-o jsonl` on stdout.

use std::io::IsTerminal;
use std::sync::Arc;

use crate::args::{Filters, Global, ListArgs, Output, RotateArgs};
use crate::io::Io;
use crate::output::{Printed, label, usage};
use wayfinder_tokens::client::Client;
use wayfinder_tokens::deliver::{BatchDelivery, Spec};
use wayfinder_tokens::error::{Argument, Error};

use crate::spelling::CliSpelling;
use crate::template::GoTemplate;
use wayfinder_tokens::fleet::{
    BatchReport, EnvDir, InventoryEntry, InventoryQuery, ProgressFn, RotateHooks, RotateOptions, SecretSink, TokenRef,
    rotated_jsonl,
};
use wayfinder_tokens::names::parse_expires_in;
use wayfinder_tokens::render;

fn query(filters: &Filters, workspace: Option<&str>, names: &[String]) -> Result<InventoryQuery, Error> {
    let duration =
        |field: Argument, raw: &Option<String>| raw.as_deref().map(|r| parse_expires_in(field, r)).transpose();
    let workspaces = match (filters.all_workspaces, workspace) {
        (true, Some(_)) => return Err(usage("--all-workspaces and -w cannot be combined")),
        (true, None) => None,
        (false, Some(w)) => Some(vec![w.to_owned()]),
        (false, None) => return Err(usage("name a workspace with -w, or pass --all-workspaces")),
    };
    Ok(InventoryQuery {
        workspaces,
        expiring_within: duration(Argument::ExpiringWithin, &filters.expiring_within)?,
        older_than: duration(Argument::OlderThan, &filters.older_than)?,
        names: names.to_vec(),
        concurrency: filters.concurrency,
    })
}

/// `list workspaceaccesstokens --all-workspaces …`: the inventory.
pub(super) async fn list(
    client: &Client,
    args: &ListArgs,
    g: &Global,
    template: Option<&GoTemplate>,
) -> Result<String, Error> {
    let workspace = if args.filters.all_workspaces {
        None
    } else {
        Some(
            g.workspace
                .clone()
                .or_else(|| client.workspace().map(str::to_owned))
                .ok_or_else(|| usage("name a workspace with -w, or pass --all-workspaces"))?,
        )
    };
    let entries = client
        .inventory(&query(&args.filters, workspace.as_deref(), &[])?)
        .await?;
    match (template, g.output) {
        (Some(t), _) => t.render(&entries, None),
        (None, Some(Output::Json)) => render::to_json(&entries),
        (None, Some(Output::Yaml)) => render::to_yaml(&entries),
        (None, None | Some(Output::Table)) => Ok(inventory_table(&entries, g.show_headers)),
        (None, Some(_)) => Err(usage("an inventory prints as table, json, yaml or template")),
    }
}

fn days(seconds: i64) -> String {
    format!("{}d", seconds.div_euclid(86_400))
}

fn inventory_table(entries: &[InventoryEntry], headers: bool) -> String {
    let rows = entries.iter().map(|e| {
        vec![
            e.workspace.clone(),
            e.name.clone(),
            days(e.age_seconds),
            e.expires_in_seconds.map_or_else(|| "never".to_owned(), days),
            e.generation.to_string(),
        ]
    });
    render::rows_table(&["WORKSPACE", "NAME", "AGE", "EXPIRES", "GENERATION"], rows, headers)
}

/// `rotate workspaceaccesstokens …`: the batch rotation. Each new secret is
/// written (an env file, or a JSON line on stdout) the moment its token
/// rotates; an interrupt stops new rotations and those in flight still get
/// written.
pub(super) async fn rotate(client: &Client, args: &RotateArgs, g: &Global, io: &Io) -> Result<Printed, Error> {
    let jsonl = secrets_go_to(args, g.output)?;
    let specs = crate::deliver::parse(&args.deliver)?;
    let query = query(&args.filters, g.workspace.as_deref(), &args.names)?;
    let targets: Vec<_> = client
        .inventory(&query)
        .await?
        .iter()
        .map(InventoryEntry::target)
        .collect();
    // The folder is checked, and created, before any reset; not at all when nothing matched.
    let env_dir = match (&args.output_dir, args.dry_run || targets.is_empty()) {
        (Some(dir), false) => Some(EnvDir::open(dir)?),
        _ => None,
    };
    let bar = progress_bar(targets.len());
    let progress: Option<ProgressFn> = bar.clone().map(|bar| {
        let progress: ProgressFn = Arc::new(move |p| bar.set_position(p.done as u64));
        progress
    });
    let delivery = delivery(&specs, &targets, args.dry_run).await?;
    let hooks = RotateHooks {
        progress,
        on_rotated: sink(args.dry_run, jsonl, env_dir, delivery.as_ref(), io),
        cancel: Some(io.cancel.clone()),
    };
    let options = RotateOptions {
        concurrency: args.filters.concurrency,
        dry_run: args.dry_run,
    };
    let report = client
        .rotate_workspace_access_tokens(&targets, &options, &hooks)
        .await?;
    if let Some(bar) = bar {
        bar.finish_and_clear();
    }
    let stdout = if jsonl {
        report.unrotated_jsonl(&CliSpelling)?
    } else {
        String::new()
    };
    rescue(&report, io)?;
    let mut stderr = summary(&report, g.show_headers);
    let (account, undelivered) = crate::deliver::tell_batch(delivery.map(|batch| batch.reports()).unwrap_or_default());
    stderr.push_str(&account);
    for target in targets.iter().filter(|_| args.dry_run) {
        let destinations = crate::deliver::resolve(&specs, &target.name, Some(&target.workspace))?;
        stderr.push_str(&crate::deliver::would_deliver(&destinations, true));
    }
    Ok(Printed {
        stdout,
        stderr,
        failed: undelivered
            || !(report.failed.is_empty() && report.not_started.is_empty() && report.undelivered.is_empty()),
        late_error: None,
        secrets: Vec::new(),
        code: None,
    })
}

/// Where each new secret goes: its env file or JSON line, then its destinations.
fn sink(
    dry_run: bool,
    jsonl: bool,
    env_dir: Option<EnvDir>,
    delivery: Option<&Arc<BatchDelivery>>,
    io: &Io,
) -> Option<SecretSink> {
    let write = (jsonl || env_dir.is_some()).then(|| writer(env_dir, io.clone()));
    match (delivery, dry_run) {
        (_, true) => None,
        (Some(batch), false) => Some(batch.sink(write)),
        (None, false) => write,
    }
}

/// With `--deliver`: every token's destinations, checked before the first reset.
async fn delivery(specs: &[Spec], targets: &[TokenRef], dry_run: bool) -> Result<Option<Arc<BatchDelivery>>, Error> {
    if specs.is_empty() || targets.is_empty() {
        return Ok(None);
    }
    let mut tokens = Vec::with_capacity(targets.len());
    for target in targets {
        tokens.push((
            target.clone(),
            crate::deliver::resolve(specs, &target.name, Some(&target.workspace))?,
        ));
    }
    if dry_run {
        return Ok(None);
    }
    Ok(Some(
        BatchDelivery::prepare(crate::deliver::deliverer()?, tokens).await?,
    ))
}

/// Where each new secret goes as its token rotates: its env file (printing
/// the file's path), else its JSON line on stdout. When the folder cannot
/// take it, the JSON line goes to stdout instead; when stdout cannot either,
/// the sink fails and the token is listed as undelivered.
fn writer(env_dir: Option<EnvDir>, io: Io) -> SecretSink {
    Arc::new(move |issued| {
        let to_file = env_dir.as_ref().map(|dir| dir.write(issued));
        match to_file {
            Some(Ok(path)) => {
                // The secret is safe in its file; the path is only a courtesy.
                let _ = io.stdout.write(&format!("{}\n", path.display()));
                Ok(())
            }
            Some(Err(file_error)) => {
                io.tell(&format!(
                    "error: {file_error}; the new secret of {} follows on stdout as a JSON line\n",
                    label(issued)
                ));
                io.stdout
                    .write(&rotated_jsonl(issued)?)
                    .map_err(|e| Error::config_with(format!("{file_error}; and stdout: {e}"), e))
            }
            None => io
                .stdout
                .write(&rotated_jsonl(issued)?)
                .map_err(|e| Error::config_with(format!("cannot write to standard output: {e}"), e)),
        }
    })
}

/// The rotated tokens whose secrets did not get out: named on stderr, and
/// printed on the terminal if one is attached.
fn rescue(report: &BatchReport, io: &Io) -> Result<(), Error> {
    let Some(first) = report.undelivered.first() else {
        return Ok(());
    };
    let mut names = Vec::new();
    let mut text = String::new();
    for issued in &report.rotated {
        let target = TokenRef {
            workspace: issued.workspace.clone().unwrap_or_default(),
            name: issued.name.clone(),
        };
        if report.undelivered.iter().any(|u| u.target == target) {
            names.push(label(issued));
            text.push_str(&rotated_jsonl(issued)?);
        }
    }
    io.rescue(&names, &text, &first.error);
    Ok(())
}

/// Whether the secrets go to stdout as JSON lines (else to `--output-dir`,
/// or nowhere for a dry run); checked before any request.
fn secrets_go_to(args: &RotateArgs, output: Option<Output>) -> Result<bool, Error> {
    let jsonl = match (output, &args.output_dir, args.dry_run) {
        (Some(Output::Jsonl), None, _) => true,
        (None, Some(_), _) | (None, None, true) => false,
        (None, None, false) if !args.deliver.is_empty() => false,
        (None, None, false) => {
            return Err(usage(
                "say where the new secrets go: --output-dir DIR, -o jsonl or --deliver SPEC",
            ));
        }
        _ => {
            return Err(usage(
                "rotate writes the secrets with --output-dir DIR or -o jsonl (not both)",
            ));
        }
    };
    if let Some(dir) = &args.output_dir
        && std::fs::symlink_metadata(dir).is_ok_and(|m| !m.is_dir())
    {
        return Err(usage(format!(
            "--output-dir {} exists and is not a folder",
            dir.display()
        )));
    }
    Ok(jsonl)
}

/// A bar on stderr when it is a terminal; nothing otherwise.
fn progress_bar(total: usize) -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() || total == 0 {
        return None;
    }
    let bar = indicatif::ProgressBar::new(total as u64);
    if let Ok(style) = indicatif::ProgressStyle::with_template("rotating {bar:30} {pos}/{len} {elapsed}") {
        bar.set_style(style);
    }
    Some(bar)
}

/// The summary table: every token and how it ended, never a secret.
fn summary(report: &BatchReport, headers: bool) -> String {
    let header = ["WORKSPACE", "NAME", "STATUS", "OLD SECRET", "RECOVER WITH"];
    let mut out = render::rows_table(&header, summary_rows(report), headers);
    let dry = match report.would_rotate.len() {
        0 => String::new(),
        n => format!(", {n} would rotate (dry run)"),
    };
    let interrupted = match report.not_started.len() {
        0 => String::new(),
        n => format!(", {n} not started (interrupted)"),
    };
    let unwritten = match report.undelivered.len() {
        0 => String::new(),
        n => format!(", {n} rotated but not written"),
    };
    out.push_str(&format!(
        "{} rotated, {} failed{dry}{interrupted}{unwritten}\n",
        report.rotated.len(),
        report.failed.len()
    ));
    for f in &report.failed {
        let line = format!(
            "  {}/{}: {}",
            f.target.workspace,
            f.target.name,
            f.error.describe(&CliSpelling)
        );
        out.push_str(&render::printable(&line));
        out.push('\n');
    }
    out
}

fn summary_rows(report: &BatchReport) -> Vec<Vec<String>> {
    let row = |workspace: &str, name: &str, status: String, old: &str, recover: String| {
        vec![workspace.to_owned(), name.to_owned(), status, old.to_owned(), recover]
    };
    let mut rows: Vec<Vec<String>> = Vec::new();
    for issued in &report.rotated {
        let workspace = issued.workspace.as_deref().unwrap_or_default();
        rows.push(row(
            workspace,
            &issued.name,
            "rotated".into(),
            "replaced",
            String::new(),
        ));
    }
    for f in &report.failed {
        let old = match f.old_secret_valid {
            Some(true) => "still valid",
            Some(false) => "dead",
            None => "unknown",
        };
        let status = format!("failed: {}", f.error.code());
        rows.push(row(
            &f.target.workspace,
            &f.target.name,
            status,
            old,
            f.recovery(&CliSpelling),
        ));
    }
    for (status, items) in [
        ("would rotate", &report.would_rotate),
        ("not started", &report.not_started),
    ] {
        for t in items {
            rows.push(row(&t.workspace, &t.name, status.to_owned(), "", String::new()));
        }
    }
    rows
}
