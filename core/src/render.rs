//! Output formats: the environment variables a CI needs, JSON, YAML, a
//! table and the raw token (a config file holding the token is
//! [`crate::config::yaml_for_token`]).
//! The bytes are pinned by `tests/vectors/render.json`, so Rust, Python,
//! Node and the CLI print identical text.

use std::fmt::Write as _;

use comfy_table::{ContentArrangement, Table, presets};
use serde::Serialize;

use crate::error::{Error, Field, Result};
use crate::model::{AccessToken, IssuedToken};
pub use crate::model::{ENV_SERVER, ENV_TOKEN, ENV_WORKSPACE};

/// Server-provided text made safe for a terminal: every control character
/// (ESC, BEL, CR, newline…) becomes a space, so no answer can move the
/// cursor, rewrite a line or send terminal commands.
pub fn printable(text: &str) -> String {
    text.chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// The variables of a token in order: server, token, workspace (workspace tokens only).
pub(crate) fn variables(issued: &IssuedToken) -> Result<Vec<(&'static str, &str)>> {
    let mut vars = vec![
        (ENV_SERVER, issued.server.as_str()),
        (ENV_TOKEN, issued.secret()?.expose()),
    ];
    if let Some(ws) = &issued.workspace {
        vars.push((ENV_WORKSPACE, ws.as_str()));
    }
    Ok(vars)
}

/// Characters no shell treats specially anywhere in a word. `~` is not one:
/// it expands at the start of a value and after `:` or `=` in an assignment.
fn is_plain(c: char) -> bool {
    c.is_ascii_alphanumeric() || "_./:@%+,=-".contains(c)
}

/// A value as dotenv and POSIX shells both read it: bare if plain, else in
/// single quotes. Values that cannot be written so are refused.
fn quote(key: &str, value: &str) -> Result<String> {
    if !value.is_empty() && value.chars().all(is_plain) {
        return Ok(value.to_owned());
    }
    if value.chars().any(|c| c.is_control() || c == '\'') {
        return Err(Error::invalid(
            Field::named(key),
            "invalidValue",
            "contains a quote or control character and cannot be written as a variable",
        ));
    }
    Ok(format!("'{value}'"))
}

fn describe(issued: &IssuedToken) -> String {
    match &issued.workspace {
        Some(ws) => format!("Workspace access token {:?} for workspace {ws:?}", issued.name),
        None => format!("Platform access token {:?}", issued.name),
    }
}

/// The default output: comments saying which token this is, then the
/// variables, aligned for reading.
pub fn env(issued: &IssuedToken) -> Result<String> {
    let vars = variables(issued)?;
    let width = vars.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    let mut out = String::new();
    let _ = writeln!(out, "# {} on {}", describe(issued), issued.server);
    let _ = writeln!(
        out,
        "# It cannot be retrieved again: store it as a secret in your CI now."
    );
    for (key, value) in vars {
        let _ = writeln!(out, "{key:<width$} = {}", quote(key, value)?);
    }
    Ok(out)
}

/// `KEY=value` lines only, ready for `> token.env`.
pub fn export(issued: &IssuedToken) -> Result<String> {
    export_prefixed(issued, "")
}

/// [`export`] with names starting with `prefix` (`PROD_WAYFINDER_TOKEN`).
pub fn export_prefixed(issued: &IssuedToken, prefix: &str) -> Result<String> {
    let mut out = String::new();
    for (key, value) in variables(issued)? {
        let key = format!("{prefix}{key}");
        let _ = writeln!(out, "{key}={}", quote(&key, value)?);
    }
    Ok(out)
}

/// `export KEY='value'` lines, for `eval "$(…)"`: the variables reach
/// child processes without `set -a`. Every value is single-quoted.
pub fn shell(issued: &IssuedToken) -> Result<String> {
    let mut out = String::new();
    for (key, value) in variables(issued)? {
        if value.chars().any(char::is_control) {
            return Err(Error::invalid(
                Field::named(key),
                "invalidValue",
                "contains a control character and cannot be written as a variable",
            ));
        }
        let _ = writeln!(out, "export {key}='{}'", value.replace('\'', "'\\''"));
    }
    Ok(out)
}

/// The raw token and a newline.
pub fn token(issued: &IssuedToken) -> Result<String> {
    Ok(format!("{}\n", issued.secret()?.expose()))
}

/// The fields shown by `json`, `yaml` and `template`: name, workspace,
/// server, description and token (absent ones left out), then the object as
/// the server returned it (`apiVersion`, `kind`, `metadata`, `spec`,
/// `status`) when there is one.
#[derive(Serialize)]
pub struct Summary<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    workspace: Option<&'a str>,
    server: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    description: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    token: Option<&'a str>,
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    object: Option<&'a AccessToken>,
}

impl std::fmt::Debug for Summary<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Summary")
            .field("name", &self.name)
            .field("workspace", &self.workspace)
            .field("server", &self.server)
            .field("description", &self.description)
            .field("token", &self.token.map(|_| "<redacted>"))
            .finish()
    }
}

/// The fields `json`, `yaml` and `template` show (see [`Summary`]).
pub fn summary(issued: &IssuedToken) -> Summary<'_> {
    Summary {
        name: &issued.name,
        workspace: issued.workspace.as_deref(),
        server: &issued.server,
        description: issued.description.as_deref(),
        token: issued.token.as_ref().map(crate::Secret::expose),
        object: Some(&issued.resource).filter(|r| !r.metadata.name.is_empty()),
    }
}

/// [`Summary`] as JSON (a dry run has no token).
pub fn json(issued: &IssuedToken) -> Result<String> {
    to_json(&summary(issued))
}

/// The same fields as [`json`], as YAML.
pub fn yaml(issued: &IssuedToken) -> Result<String> {
    to_yaml(&summary(issued))
}

/// Pretty JSON and a newline.
pub fn to_json<T: Serialize + ?Sized>(value: &T) -> Result<String> {
    serde_json::to_string_pretty(value)
        .map(|s| s + "\n")
        .map_err(|e| Error::config(format!("cannot render JSON: {e}")))
}

/// YAML of any serialisable value.
pub fn to_yaml<T: Serialize + ?Sized>(value: &T) -> Result<String> {
    yaml_serde::to_string(value).map_err(|e| Error::config(format!("cannot render YAML: {e}")))
}

/// NAME, WORKSPACE, DESCRIPTION, CREATED columns; never a token.
pub fn table(tokens: &[AccessToken], headers: bool) -> String {
    let rows = tokens.iter().map(|t| {
        vec![
            t.name().to_owned(),
            t.workspace().unwrap_or("-").to_owned(),
            t.description().unwrap_or("").to_owned(),
            t.created().unwrap_or("").to_owned(),
        ]
    });
    rows_table(&["NAME", "WORKSPACE", "DESCRIPTION", "CREATED"], rows, headers)
}

/// A plain table: the header (when `headers`) and rows, columns three
/// spaces apart, every cell made [`printable`] (cells come from the server).
pub fn rows_table(header: &[&str], rows: impl IntoIterator<Item = Vec<String>>, headers: bool) -> String {
    let mut table = Table::new();
    table
        .load_style(presets::NOTHING)
        .set_content_arrangement(ContentArrangement::Disabled);
    if headers {
        table.set_header(header.to_vec());
    }
    let mut empty = true;
    for row in rows {
        empty = false;
        table.add_row(row.iter().map(|cell| printable(cell)).collect::<Vec<_>>());
    }
    for column in table.column_iter_mut() {
        column.set_padding((0, 3));
    }
    if empty && !headers {
        return String::new();
    }
    let mut out: String = table.lines().map(|l| l.trim_end().to_owned() + "\n").collect();
    if out.is_empty() {
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issued(token: Option<&str>) -> IssuedToken {
        IssuedToken {
            name: "ci".into(),
            workspace: Some("dev".into()),
            server: "https://wf.example.com".into(),
            description: None,
            token: token.map(crate::Secret::new),
            expires: None,
            resource: AccessToken::default(),
        }
    }

    #[test]
    fn quoting() -> Result<()> {
        assert_eq!(quote("K", "abc.DEF-_:/@")?, "abc.DEF-_:/@");
        assert_eq!(quote("K", "has space")?, "'has space'");
        assert_eq!(quote("K", "")?, "''");
        assert_eq!(quote("K", "~/x")?, "'~/x'");
        assert_eq!(quote("K", "a:~b")?, "'a:~b'");
        assert!(quote("K", "it's").is_err());
        assert!(quote("K", "a\nb").is_err());
        Ok(())
    }

    #[test]
    fn shell_lines_quote_every_value_and_escape_quotes() -> Result<()> {
        let out = shell(&issued(Some("it's $HOME `x`")))?;
        assert!(out.contains("export WAYFINDER_TOKEN='it'\\''s $HOME `x`'\n"), "{out}");
        Ok(())
    }

    #[test]
    fn dry_runs_have_nothing_to_render() {
        let dry = issued(None);
        for result in [
            env(&dry),
            export(&dry),
            token(&dry),
            crate::config::yaml_for_token(&dry),
        ] {
            assert_eq!(result.expect_err("dry").field_errors()[0].field, "token");
        }
        assert!(json(&dry).is_ok_and(|j| !j.contains("token")));
    }
}
