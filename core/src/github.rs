//! Handing a token to later steps of a GitHub Actions job, the way
//! `@actions/core` does it: the `::add-mask::` command goes to stdout (the
//! runner reads it from the log), and the variables are appended to the file
//! named by `$GITHUB_ENV` in the multi-line `NAME<<DELIMITER` form.
//!
//! Never the other way round: a mask command written into the env file makes
//! the runner fail with an error that prints the raw token into the job log.

use std::fmt::Write as _;
use std::fs::OpenOptions;
use std::io::Write as _;
use std::path::{Path, PathBuf};

use crate::error::{Argument, Error, Result};
use crate::model::IssuedToken;
use crate::render;

/// The variable naming the runner's env file (variables of later steps).
pub const ENV_GITHUB_ENV: &str = "GITHUB_ENV";
/// The variable naming the runner's output file (outputs of this step).
pub const ENV_GITHUB_OUTPUT: &str = "GITHUB_OUTPUT";

/// How a token is handed to the later steps of a job.
///
/// By default as this step's outputs (`steps.<id>.outputs.WAYFINDER_TOKEN`…,
/// masked), so later steps keep running with the job's own credentials: a
/// new token has no roles yet, and the next step usually grants them.
/// With `env`, also as environment variables of every later step; named
/// as they are, those replace the job's own `WAYFINDER_*` credentials.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Handoff {
    /// Put before each name: `NEW_` gives `NEW_WAYFINDER_TOKEN`.
    pub prefix: String,
    /// Also append the variables to `$GITHUB_ENV`.
    pub env: bool,
    /// The output file (default `$GITHUB_OUTPUT`).
    pub output_file: Option<PathBuf>,
    /// The env file (default `$GITHUB_ENV`).
    pub env_file: Option<PathBuf>,
}

/// The files a hand-off writes, checked before anything is created.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Targets {
    /// Names start with this.
    pub prefix: String,
    /// The step's output file.
    pub output_file: PathBuf,
    /// The env file, when the variables go there too.
    pub env_file: Option<PathBuf>,
}

impl Handoff {
    /// Resolves and checks the files (each must exist and take appends, as
    /// the runner creates them, and none may be stdout, where the mask
    /// command goes) and the prefix. Call it before creating anything, so a
    /// refusal loses no secret.
    pub fn targets(&self, env: &dyn Fn(&str) -> Option<String>) -> Result<Targets> {
        let prefix_ok = self
            .prefix
            .chars()
            .enumerate()
            .all(|(i, c)| c.is_ascii_uppercase() || c == '_' || (i > 0 && c.is_ascii_digit()));
        if !prefix_ok {
            return Err(Error::invalid(
                Argument::Prefix,
                "pattern",
                "must be upper-case letters, digits and underscores, not starting with a digit (e.g. NEW_)",
            ));
        }
        let output_file = runner_file(self.output_file.as_deref(), ENV_GITHUB_OUTPUT, env)?;
        let env_file = match self.env {
            true => Some(runner_file(self.env_file.as_deref(), ENV_GITHUB_ENV, env)?),
            false => None,
        };
        Ok(Targets {
            prefix: self.prefix.clone(),
            output_file,
            env_file,
        })
    }
}

/// `given`, else the runner's file named by `variable`, checked.
fn runner_file(given: Option<&Path>, variable: &str, env: &dyn Fn(&str) -> Option<String>) -> Result<PathBuf> {
    let path = match given {
        Some(p) => p.to_path_buf(),
        None => env(variable)
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
            .ok_or_else(|| {
                Error::config(format!(
                    "{variable} is not set: handing a token to later steps needs the GitHub Actions \
                     runner's files; outside a workflow use -o export or -o shell"
                ))
            })?,
    };
    // The runner creates the file; one that cannot be opened for appending
    // now would fail after the secret exists, so it is refused first.
    OpenOptions::new()
        .append(true)
        .open(&path)
        .map_err(|e| Error::config_with(format!("cannot append to {variable} file {}: {e}", path.display()), e))?;
    if stdout_is(&path) {
        return Err(Error::config(format!(
            "stdout is the {variable} file {}: the mask command would be written into it; \
             do not redirect the output, the file is appended to directly",
            path.display()
        )));
    }
    Ok(path)
}

/// The `::add-mask::` command for the token, escaped as workflow command
/// data so the mask matches the real value.
pub fn mask_command(issued: &IssuedToken) -> Result<String> {
    let token = issued.secret()?.expose();
    Ok(format!(
        "::add-mask::{}\n",
        token.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
    ))
}

/// The runner-file block: each variable as `NAME<<DELIMITER`, value,
/// `DELIMITER`, names prefixed with `prefix`, with a random delimiter that
/// occurs in no value. `$GITHUB_ENV` and `$GITHUB_OUTPUT` both read it.
pub fn env_file_block(issued: &IssuedToken, prefix: &str) -> Result<String> {
    let variables = render::variables(issued)?;
    let delimiter = loop {
        let candidate = random_delimiter()?;
        if !variables.iter().any(|(_, v)| v.contains(&candidate)) {
            break candidate;
        }
    };
    let mut out = String::new();
    for (key, value) in variables {
        let _ = write!(out, "{prefix}{key}<<{delimiter}\n{value}\n{delimiter}\n");
    }
    Ok(out)
}

fn random_delimiter() -> Result<String> {
    let mut bytes = [0u8; 16];
    getrandom::fill(&mut bytes).map_err(|e| Error::config(format!("no randomness for a delimiter: {e}")))?;
    Ok(bytes.iter().fold("ghadelimiter_".to_owned(), |mut s, b| {
        let _ = write!(s, "{b:02x}");
        s
    }))
}

/// Appends the token's variables to the files of `targets` and returns the
/// mask command, which the caller prints to stdout (before, or if a write
/// fails, instead of, anything else). Every write is checked.
pub fn append(issued: &IssuedToken, targets: &Targets) -> Result<String> {
    let mask = mask_command(issued)?;
    let files = std::iter::once((&targets.output_file, ENV_GITHUB_OUTPUT))
        .chain(targets.env_file.iter().map(|f| (f, ENV_GITHUB_ENV)));
    for (path, variable) in files {
        let block = env_file_block(issued, &targets.prefix)?;
        let mut file = OpenOptions::new()
            .append(true)
            .open(path)
            .map_err(|e| Error::config_with(format!("cannot open {variable} file {}: {e}", path.display()), e))?;
        file.write_all(block.as_bytes())
            .and_then(|()| file.flush())
            .map_err(|e| Error::config_with(format!("cannot append to {variable} file {}: {e}", path.display()), e))?;
    }
    Ok(mask)
}

/// The library call: checks the files, prints the mask command on this
/// process's stdout, then appends the variables. Returns the files written.
pub fn export(issued: &IssuedToken, handoff: &Handoff) -> Result<Vec<PathBuf>> {
    let targets = handoff.targets(&|k| std::env::var(k).ok())?;
    let mask = mask_command(issued)?;
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(mask.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|e| Error::config_with(format!("cannot write the mask command to stdout: {e}"), e))?;
    append(issued, &targets)?;
    Ok(std::iter::once(targets.output_file).chain(targets.env_file).collect())
}

/// Whether this process's stdout is the file at `path` (same device and inode).
#[cfg(unix)]
fn stdout_is(path: &Path) -> bool {
    use std::os::fd::AsFd;
    use std::os::unix::fs::MetadataExt;
    let Ok(target) = std::fs::metadata(path) else {
        return false;
    };
    let Ok(fd) = std::io::stdout().as_fd().try_clone_to_owned() else {
        return false;
    };
    match std::fs::File::from(fd).metadata() {
        Ok(out) => out.dev() == target.dev() && out.ino() == target.ino(),
        Err(_) => false,
    }
}

#[cfg(not(unix))]
fn stdout_is(_path: &Path) -> bool {
    false
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::AccessToken;
    use crate::secret::Secret;

    fn issued(token: &str) -> IssuedToken {
        IssuedToken {
            name: "ci".into(),
            workspace: Some("dev".into()),
            server: "https://wf.example.com".into(),
            description: None,
            token: Some(Secret::new(token)),
            expires: None,
            resource: AccessToken::default(),
        }
    }

    /// Parses an env file the way the runner does.
    fn parse(block: &str) -> Vec<(String, String)> {
        let mut out = Vec::new();
        let mut lines = block.lines();
        while let Some(line) = lines.next() {
            let (key, delimiter) = line.split_once("<<").expect("heredoc form");
            let mut value = Vec::new();
            for l in lines.by_ref() {
                if l == delimiter {
                    break;
                }
                value.push(l);
            }
            out.push((key.to_owned(), value.join("\n")));
        }
        out
    }

    #[test]
    fn block_round_trips_and_delimiters_differ() -> Result<()> {
        let token = issued("eyJ.a%b=c\nGITHUB_PATH=/evil");
        let block = env_file_block(&token, "")?;
        let vars = parse(&block);
        assert_eq!(vars.len(), 3);
        assert_eq!(
            vars[1],
            ("WAYFINDER_TOKEN".into(), "eyJ.a%b=c\nGITHUB_PATH=/evil".into())
        );
        assert_ne!(block, env_file_block(&token, "")?, "a fresh random delimiter each time");
        assert_eq!(parse(&env_file_block(&token, "NEW_")?)[0].0, "NEW_WAYFINDER_SERVER");
        assert!(!block.contains("::add-mask::"));
        assert_eq!(mask_command(&token)?, "::add-mask::eyJ.a%25b=c%0AGITHUB_PATH=/evil\n");
        Ok(())
    }

    fn handoff(env: bool, prefix: &str, dir: &Path) -> Handoff {
        Handoff {
            prefix: prefix.into(),
            env,
            output_file: Some(dir.join("output")),
            env_file: Some(dir.join("env")),
        }
    }

    #[test]
    fn needs_the_runner_files_and_a_plain_prefix() {
        let e = Handoff::default().targets(&|_| None).expect_err("unset");
        assert_eq!(e.code(), "CONFIG");
        assert!(e.to_string().contains("GITHUB_OUTPUT"));
        let dir = tempfile::tempdir().expect("a folder");
        let e = handoff(false, "", dir.path()).targets(&|_| None).expect_err("missing");
        assert!(e.to_string().contains("output"), "{e}");
        std::fs::write(dir.path().join("output"), "").expect("written");
        assert!(handoff(false, "", dir.path()).targets(&|_| None).is_ok());
        assert!(handoff(true, "", dir.path()).targets(&|_| None).is_err(), "no env file");
        for bad in ["new_", "1X_", "A-B", "A B"] {
            let e = handoff(false, bad, dir.path()).targets(&|_| None).expect_err(bad);
            assert_eq!(e.field_errors()[0].field, "prefix");
        }
    }

    #[test]
    fn appends_to_the_outputs_and_only_when_asked_to_the_env() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| Error::config(e.to_string()))?;
        for f in ["output", "env"] {
            std::fs::write(dir.path().join(f), "EARLIER=1\n").map_err(|e| Error::config(e.to_string()))?;
        }
        let read = |f: &str| std::fs::read_to_string(dir.path().join(f)).unwrap_or_default();
        let targets = handoff(false, "", dir.path()).targets(&|_| None)?;
        assert_eq!(append(&issued("secret-value"), &targets)?, "::add-mask::secret-value\n");
        assert!(read("output").starts_with("EARLIER=1\nWAYFINDER_SERVER<<ghadelimiter_"));
        assert_eq!(read("env"), "EARLIER=1\n", "the job's own credentials are left alone");
        let targets = handoff(true, "NEW_", dir.path()).targets(&|_| None)?;
        append(&issued("second"), &targets)?;
        assert!(read("env").contains("NEW_WAYFINDER_TOKEN<<"));
        Ok(())
    }
}
