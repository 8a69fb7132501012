//! A command that stores the secret (`gh secret set`, `op`, `glab`,
//! `az keyvault`…): run without a shell, the secret on its standard input
//! and nowhere else (not in its arguments, not in its environment); the
//! credentials this library reads (its own `WAYFINDER_TOKEN`, and GitHub's,
//! Vault's and AWS's) are removed from its environment too, so a command
//! authenticates with its own configuration (`gh auth login`, `op signin`…);
//! the companions are in its environment; its exit status is checked; what it
//! prints is kept, redacted.

use std::io::{Read as _, Write as _};
use std::path::PathBuf;
use std::process::{Command as Process, Stdio};

use crate::error::{Error, Result};
use crate::model::ENV_TOKEN;
use crate::secret::Secret;

/// Credentials this library is given, never passed on to a command.
const WITHHELD: [&str; 8] = [
    ENV_TOKEN,
    "GITHUB_TOKEN",
    "GH_TOKEN",
    "VAULT_TOKEN",
    "BAO_TOKEN",
    "AWS_ACCESS_KEY_ID",
    "AWS_SECRET_ACCESS_KEY",
    "AWS_SESSION_TOKEN",
];

/// What a command's output may hold in a report.
const MAX_OUTPUT: usize = 2000;

/// A command, checked: its program found and executable.
#[derive(Clone, Debug)]
pub(crate) struct Command {
    program: PathBuf,
    args: Vec<String>,
    timeout: std::time::Duration,
}

impl Command {
    /// Preflight: the program is found (on `PATH` unless it has a `/`).
    pub fn prepare(argv: &[String], env: &super::Lookup, timeout: std::time::Duration) -> Result<Command> {
        let (name, args) = argv
            .split_first()
            .ok_or_else(|| Error::config("the command is empty"))?;
        let program = find_program(name, env("PATH").as_deref())
            .ok_or_else(|| Error::config(format!("the command {name:?} is not found (on PATH) or not executable")))?;
        Ok(Command {
            program,
            args: args.to_vec(),
            timeout,
        })
    }

    /// Runs the command with the secret on its standard input (blocking:
    /// called on the runtime's blocking pool). Returns what it printed.
    pub fn run(&self, secret: &Secret, companions: &[(String, String)]) -> Result<String> {
        let label = self.program.display().to_string();
        let mut process = Process::new(&self.program);
        process
            .args(&self.args)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        for name in WITHHELD {
            process.env_remove(name);
        }
        for (name, value) in companions {
            process.env(name, value);
        }
        let mut child = process
            .spawn()
            .map_err(|e| Error::config_with(format!("cannot run {label}: {e}"), e))?;
        let written = child
            .stdin
            .take()
            .map(|mut stdin| stdin.write_all(secret.expose().as_bytes()));
        let readers = drain(&mut child);
        let status = wait(&mut child, self.timeout)
            .map_err(|e| Error::config_with(format!("cannot wait for {label}: {e}"), e))?;
        let Some(status) = status else {
            return Err(Error::Timeout {
                message: format!("{label} did not finish within {:?} and was stopped", self.timeout),
                hint: None,
            });
        };
        let output: Vec<u8> = readers.into_iter().flat_map(|r| r.join().unwrap_or_default()).collect();
        let output = clean(&String::from_utf8_lossy(&output), secret.expose());
        if let Some(Err(e)) = written {
            // A command that exits before reading all of stdin (EPIPE) did not take the secret.
            return Err(Error::config(format!(
                "{label} did not read the secret from its standard input ({e}); it said: {output}"
            )));
        }
        if !status.success() {
            let how = status.code().map_or_else(
                || "was killed by a signal".to_owned(),
                |c| format!("exited with status {c}"),
            );
            return Err(Error::config(format!("{label} {how}; it said: {output}")));
        }
        Ok(output)
    }
}

/// Reads what the child prints on threads, so a chatty command cannot block
/// on a full pipe; each thread returns what it read (the first 64 KiB).
fn drain(child: &mut std::process::Child) -> Vec<std::thread::JoinHandle<Vec<u8>>> {
    let out = child
        .stdout
        .take()
        .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>);
    let err = child
        .stderr
        .take()
        .map(|p| Box::new(p) as Box<dyn std::io::Read + Send>);
    [out, err]
        .into_iter()
        .flatten()
        .map(|pipe| {
            std::thread::spawn(move || {
                let mut text = Vec::new();
                let _ = pipe.take(64 * 1024).read_to_end(&mut text);
                text
            })
        })
        .collect()
}

/// The child's exit status, or `None` when it was still running at the
/// deadline (it is then killed).
fn wait(
    child: &mut std::process::Child,
    timeout: std::time::Duration,
) -> std::io::Result<Option<std::process::ExitStatus>> {
    let deadline = std::time::Instant::now() + timeout;
    loop {
        if let Some(status) = child.try_wait()? {
            return Ok(Some(status));
        }
        if std::time::Instant::now() >= deadline {
            let _ = child.kill();
            let _ = child.wait();
            return Ok(None);
        }
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
}

/// Printable, the secret cut out, and capped.
fn clean(output: &str, secret: &str) -> String {
    let text = crate::render::printable(output.trim());
    let text = if secret.is_empty() {
        text
    } else {
        text.replace(secret, "<redacted>")
    };
    match text.char_indices().nth(MAX_OUTPUT) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

/// `name` itself when it has a `/`, else the first executable file of that
/// name in `path`.
fn find_program(name: &str, path: Option<&str>) -> Option<PathBuf> {
    let candidates: Vec<PathBuf> = match name.contains('/') {
        true => vec![PathBuf::from(name)],
        false => std::env::split_paths(path.unwrap_or_default())
            .filter(|d| !d.as_os_str().is_empty())
            .map(|d| d.join(name))
            .collect(),
    };
    candidates.into_iter().find(|c| is_executable(c))
}

#[cfg(unix)]
fn is_executable(path: &std::path::Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(path).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(not(unix))]
fn is_executable(path: &std::path::Path) -> bool {
    std::fs::metadata(path).is_ok_and(|m| m.is_file())
}
