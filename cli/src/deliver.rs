//! `--deliver SPEC` on create and rotate, and `deliver --pending`: every
//! destination checked before any reset, each new secret delivered and
//! verified, and what could not be delivered kept in the recovery store.

use std::fmt::Write as _;

use wayfinder_tokens::deliver::{self, Deliverer, DeliveryReport, Destination, Prepared, Spec};
use wayfinder_tokens::error::Error;
use wayfinder_tokens::render;

use crate::output::Printed;
use crate::spelling::CliSpelling;

/// What the CLI says when a new secret is not everywhere it should be.
pub(crate) const UNDELIVERED: &str = "The new secret works and waits, 0600, in the recovery store until every \
     destination holds it: run `wayfinder-tokens deliver --pending` to finish";

/// The SPECs, each checked (before any request).
pub(crate) fn parse(specs: &[String]) -> Result<Vec<Spec>, Error> {
    specs.iter().map(|s| Spec::parse(s)).collect()
}

/// The destinations of one token.
pub(crate) fn resolve(specs: &[Spec], name: &str, workspace: Option<&str>) -> Result<Vec<Destination>, Error> {
    specs.iter().map(|s| s.resolve(name, workspace)).collect()
}

/// A deliverer reading this process's environment, its recovery store opened.
pub(crate) fn deliverer() -> Result<Deliverer, Error> {
    Deliverer::from_env()
}

/// A deliverer, and the destinations checked (credentials, keys,
/// capabilities) before any secret exists.
pub(crate) async fn prepared(destinations: Vec<Destination>) -> Result<(Deliverer, Prepared), Error> {
    let deliverer = deliverer()?;
    let prepared = deliverer.prepare(destinations).await?;
    Ok((deliverer, prepared))
}

/// Says where a created token's secret went: on stdout instead of the
/// secret when `quiet` names the token (no format was asked for), else on
/// stderr; a destination that lacks it makes the command exit 1.
pub(crate) fn tell(printed: &mut Printed, report: &DeliveryReport, quiet: Option<String>) {
    let account = describe(report);
    // Held nowhere else (not delivered everywhere, and the recovery store could not take
    // it): the secret stays on stdout, where the format printed it.
    let held_elsewhere = report.is_complete() || report.recovery.is_some();
    match quiet.filter(|_| held_elsewhere) {
        Some(token) => {
            printed.stdout =
                format!("{token} was issued a new secret (not printed: it went to its destinations)\n{account}");
        }
        None => printed.stderr.push_str(&account),
    }
    if printed.late_error.is_none() {
        printed.late_error = first_failure(report).map(|e| (e, UNDELIVERED));
    }
}

/// What a rotation says about its deliveries (on stderr), and whether any is incomplete.
pub(crate) fn tell_batch(reports: Vec<DeliveryReport>) -> (String, bool) {
    let mut out = String::new();
    let mut incomplete = false;
    for report in &reports {
        incomplete |= !report.is_complete();
        out.push_str(&describe(report));
    }
    if incomplete {
        out.push_str(UNDELIVERED);
        out.push('\n');
    }
    (out, incomplete)
}

/// A dry run's account: which names would go where (never a value).
pub(crate) fn would_deliver(destinations: &[Destination], workspace_token: bool) -> String {
    let mut out = String::new();
    for destination in destinations {
        let names = deliver::entry_names(&destination.prefix, workspace_token).join(", ");
        let _ = writeln!(out, "would deliver {names} to {destination}");
    }
    out
}

/// One line per destination: verified, or why not; then where the secret waits.
pub(crate) fn describe(report: &DeliveryReport) -> String {
    let who = match &report.workspace {
        Some(ws) => format!("{ws}/{}", report.name),
        None => report.name.clone(),
    };
    let mut out = String::new();
    for outcome in &report.outcomes {
        let line = match &outcome.result {
            Ok(detail) => format!("{who}: delivered to {} ({detail})", outcome.destination),
            Err(e) => format!(
                "{who}: NOT delivered to {}: {}",
                outcome.destination,
                e.describe(&CliSpelling)
            ),
        };
        out.push_str(&render::printable(&line));
        out.push('\n');
    }
    if let Some(path) = &report.recovery {
        let _ = writeln!(out, "{who}: the new secret waits in {}", path.display());
    }
    out
}

/// The first failure of a report, as the error the CLI exits 1 with.
pub(crate) fn first_failure(report: &DeliveryReport) -> Option<Error> {
    report.failed().next().map(|(_, e)| e.without_source())
}

/// `deliver --pending`: lists what waits, and with `finish`, delivers it.
pub(crate) async fn pending(finish: bool) -> Result<Printed, Error> {
    let deliverer = deliverer()?;
    if !finish {
        let rows = deliverer.pending(false).await?.into_iter().map(|p| {
            let waiting: &[String] = &p.waiting_for;
            vec![
                p.workspace.clone().unwrap_or_default(),
                p.name.clone(),
                waiting.join(" "),
            ]
        });
        let table = render::rows_table(&["WORKSPACE", "NAME", "WAITING FOR"], rows, true);
        return Ok(Printed::from(table));
    }
    let reports = deliverer.deliver_pending().await?;
    let mut stdout = String::new();
    let mut failed = false;
    for report in &reports {
        stdout.push_str(&describe(report));
        failed |= !report.is_complete();
    }
    let _ = writeln!(
        stdout,
        "{} pending, {} finished, {} still waiting",
        reports.len(),
        reports.iter().filter(|r| r.is_complete()).count(),
        reports.iter().filter(|r| !r.is_complete()).count()
    );
    Ok(Printed {
        failed,
        ..Printed::from(stdout)
    })
}
