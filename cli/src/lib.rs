//! The command-line front: `create workspaceaccesstoken NAME` with every flag
//! of the original `wf` command, plus `create platformaccesstoken`, `get`,
//! `list` (one workspace, or an inventory across them), `delete`, `assign`,
//! `whoami` and `rotate`. [`run`] takes argv and returns the exit code and
//! output, so the Python and Node packages expose the same CLI.
//!
//! Exit codes: 0 success, 1 an API error, 2 bad usage or bad input.

use clap::Parser;
use tokio_util::sync::CancellationToken;

mod args;
mod commands;
mod converge;
mod deliver;
mod fleet;
mod io;
mod output;
mod spelling;
pub mod template;

use args::{Cli, Command, CreateKind};
use commands::execute;
use io::Io;
use output::{INTERRUPTED, error_text, exit_code, finish};

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
    // A batch, a delivery, watch the interrupt themselves: what was issued still gets written.
    let batch = match &cli.command {
        Command::Rotate { .. } | Command::Deliver(_) | Command::Apply(_) => true,
        Command::Create {
            kind: CreateKind::Workspaceaccesstoken(args) | CreateKind::Platformaccesstoken(args),
        } => !args.deliver.is_empty(),
        _ => false,
    };
    let detailed = match &cli.command {
        Command::Plan(args) => args.detailed_exitcode,
        Command::Check(_) => true,
        _ => false,
    };
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
            // Where 2 means "changes pending" or "due", every error is 1.
            let code = match detailed {
                true => 1,
                false => exit_code(&e),
            };
            io.tell(&error_text(e));
            code
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
