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

use crate::error::{Error, Result};
use crate::model::IssuedToken;
use crate::render;

/// The variable naming the runner's env file.
pub const ENV_GITHUB_ENV: &str = "GITHUB_ENV";

/// Where the variables go: `env_file`, else `$GITHUB_ENV`; and checks that
/// stdout is not that same file (the mask command would land in it).
/// Call it before creating anything, so a refusal loses no secret.
pub fn target(env_file: Option<&Path>, env: &dyn Fn(&str) -> Option<String>) -> Result<PathBuf> {
    let path = match env_file {
        Some(p) => p.to_path_buf(),
        None => env(ENV_GITHUB_ENV)
            .filter(|p| !p.is_empty())
            .map(PathBuf::from)
            .ok_or_else(|| {
                Error::config(format!(
                    "{ENV_GITHUB_ENV} is not set: GitHub Actions output needs the runner's env file; \
                     outside a workflow use -o export or -o shell"
                ))
            })?,
    };
    // The runner creates the file; one that cannot be opened for appending
    // now would fail after the secret exists, so it is refused first.
    OpenOptions::new()
        .append(true)
        .open(&path)
        .map_err(|e| Error::config_with(format!("cannot append to the env file {}: {e}", path.display()), e))?;
    if stdout_is(&path) {
        return Err(Error::config(format!(
            "stdout is the {ENV_GITHUB_ENV} file {}: the mask command would be written into it; \
             do not redirect the output, the variables are appended to the file directly",
            path.display()
        )));
    }
    Ok(path)
}

/// The `::add-mask::` command for the token, escaped as workflow command
/// data so the mask matches the real value.
pub fn mask_command(issued: &IssuedToken) -> Result<String> {
    let token = render::secret_of(issued)?.expose();
    Ok(format!(
        "::add-mask::{}\n",
        token.replace('%', "%25").replace('\r', "%0D").replace('\n', "%0A")
    ))
}

/// The env-file block: each variable as `NAME<<DELIMITER`, value, `DELIMITER`,
/// with a random delimiter that occurs in no value.
pub fn env_file_block(issued: &IssuedToken) -> Result<String> {
    let variables = render::variables(issued)?;
    let delimiter = loop {
        let candidate = random_delimiter()?;
        if !variables.iter().any(|(_, v)| v.contains(&candidate)) {
            break candidate;
        }
    };
    let mut out = String::new();
    for (key, value) in variables {
        let _ = write!(out, "{key}<<{delimiter}\n{value}\n{delimiter}\n");
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

/// Appends the token's variables to the env file at `path` (which the runner
/// creates; a missing file is an error, as in `@actions/core`) and returns
/// the mask command, which the caller prints to stdout.
pub fn append(issued: &IssuedToken, path: &Path) -> Result<String> {
    let mask = mask_command(issued)?;
    let block = env_file_block(issued)?;
    let mut file = OpenOptions::new()
        .append(true)
        .open(path)
        .map_err(|e| Error::config_with(format!("cannot open the env file {}: {e}", path.display()), e))?;
    file.write_all(block.as_bytes())
        .and_then(|()| file.flush())
        .map_err(|e| Error::config_with(format!("cannot append to the env file {}: {e}", path.display()), e))?;
    Ok(mask)
}

/// The library call: checks the target, prints the mask command on this
/// process's stdout, then appends the variables to the env file. Returns the
/// file written.
pub fn export(issued: &IssuedToken, env_file: Option<&Path>) -> Result<PathBuf> {
    let path = target(env_file, &|k| std::env::var(k).ok())?;
    let mask = mask_command(issued)?;
    let mut stdout = std::io::stdout().lock();
    stdout
        .write_all(mask.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|e| Error::config_with(format!("cannot write the mask command to stdout: {e}"), e))?;
    append(issued, &path)?;
    Ok(path)
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
        let block = env_file_block(&token)?;
        let vars = parse(&block);
        assert_eq!(vars.len(), 3);
        assert_eq!(
            vars[1],
            ("WAYFINDER_TOKEN".into(), "eyJ.a%b=c\nGITHUB_PATH=/evil".into())
        );
        assert_ne!(block, env_file_block(&token)?, "a fresh random delimiter each time");
        assert!(!block.contains("::add-mask::"));
        assert_eq!(mask_command(&token)?, "::add-mask::eyJ.a%25b=c%0AGITHUB_PATH=/evil\n");
        Ok(())
    }

    #[test]
    fn needs_the_env_file() {
        let e = target(None, &|_| None).expect_err("unset");
        assert_eq!(e.code(), "CONFIG");
        assert!(e.to_string().contains("GITHUB_ENV"));
        let e = target(Some(Path::new("/nonexistent/github_env")), &|_| None).expect_err("missing");
        assert!(e.to_string().contains("/nonexistent/github_env"), "{e}");
    }

    #[test]
    fn appends_without_replacing() -> Result<()> {
        let dir = tempfile::tempdir().map_err(|e| Error::config(e.to_string()))?;
        let path = dir.path().join("env");
        std::fs::write(&path, "EARLIER=1\n").map_err(|e| Error::config(e.to_string()))?;
        let mask = append(&issued("secret-value"), &path)?;
        assert_eq!(mask, "::add-mask::secret-value\n");
        let text = std::fs::read_to_string(&path).map_err(|e| Error::config(e.to_string()))?;
        assert!(text.starts_with("EARLIER=1\nWAYFINDER_SERVER<<ghadelimiter_"), "{text}");
        assert!(append(&issued("x"), &dir.path().join("missing")).is_err());
        Ok(())
    }
}
