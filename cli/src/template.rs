//! `-o template`: Go `text/template` semantics (what `wf`, `kubectl` and
//! `helm` users write), by the `gotmpl` crate, which matches Go's own output
//! on every case of `tests/vectors/templates.json`. The data is the object as
//! `-o json` shows it.

use serde::Serialize;

use wayfinder_tokens::error::{Error, Field, Result};

/// Most characters a template's source may have (a template, not a document).
const MAX_SOURCE: usize = 64 * 1024;
/// Most `range` iterations one execution may make.
const MAX_RANGE_ITERATIONS: u64 = 1_000_000;
/// Most bytes one execution may print: far beyond any listing of tokens,
/// far below what would exhaust memory.
const MAX_OUTPUT: usize = 16 * 1024 * 1024;

/// The name of the empty definition that proves the whole source was parsed.
const COMPLETE: &str = "wayfinder-tokens/parsed-to-the-end";

/// A parsed template, checked before any request is sent.
pub struct GoTemplate(gotmpl::Template);

impl std::fmt::Debug for GoTemplate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GoTemplate")
    }
}

impl GoTemplate {
    /// Parses `source`; a syntax error is a validation error of `template`.
    pub fn parse(source: &str) -> Result<GoTemplate> {
        if source.chars().count() > MAX_SOURCE {
            return Err(Error::invalid(
                Field::named("template"),
                "maxLength",
                format!("must be at most {MAX_SOURCE} characters"),
            ));
        }
        let invalid = |why: String| {
            Error::invalid(
                Field::named("template"),
                "invalidValue",
                format!("does not parse: {why}"),
            )
        };
        // gotmpl stops quietly at a stray `{{end}}` or `{{else}}` where Go
        // refuses the template; a definition appended after the source is
        // parsed only if the whole source was.
        let checked = format!("{source}{{{{define \"{COMPLETE}\"}}}}{{{{end}}}}");
        let template = gotmpl::Template::new("template")
            .max_range_iters(MAX_RANGE_ITERATIONS)
            .parse(&checked)
            .map_err(|e| invalid(e.to_string()))?;
        match template.lookup(COMPLETE) {
            Some(_) => Ok(GoTemplate(template)),
            None => Err(invalid("an {{end}} or {{else}} outside any block".to_owned())),
        }
    }

    /// Executes the template on `data` serialised as `-o json` would show it.
    /// `secret`, when given, is cut from any error text (never from the
    /// output: a template that prints the secret was asked to). The output
    /// is capped at 16 MiB, and terminal controls in it (escape sequences
    /// from server fields) become spaces, as in every other format; newlines
    /// and tabs stay.
    pub fn render<T: Serialize + ?Sized>(&self, data: &T, secret: Option<&str>) -> Result<String> {
        let cut = |text: String| match secret {
            Some(s) if !s.is_empty() => text.replace(s, "<redacted>"),
            _ => text,
        };
        let value = gotmpl::to_value(data)
            .map_err(|e| Error::invalid(Field::named("template"), "invalidValue", cut(format!("data: {e}"))))?;
        let mut out = Capped::default();
        match self.0.execute_fmt(&mut out, &value) {
            Ok(()) => Ok(out.text.chars().map(terminal_safe).collect()),
            Err(_) if out.full => Err(Error::invalid(
                Field::named("template"),
                "maxLength",
                format!("output must be at most {} MiB", MAX_OUTPUT / (1024 * 1024)),
            )),
            Err(e) => Err(Error::invalid(
                Field::named("template"),
                "invalidValue",
                cut(format!("failed: {e}")),
            )),
        }
    }

    /// Refuses, before anything is created or reset, a template whose
    /// output would not carry the new secret: it runs on `data` for a stand-in
    /// token whose secret is `stand_in`.
    pub fn rehearse<T: Serialize + ?Sized>(&self, data: &T, stand_in: &str) -> Result<()> {
        if self.render(data, None)?.contains(stand_in) {
            return Ok(());
        }
        Err(Error::invalid(
            Field::named("template"),
            "invalidValue",
            "does not print the new secret ({{.token}}), which cannot be retrieved later: \
             add {{.token}} to it, or use -o export, env or token",
        ))
    }
}

/// A `fmt::Write` that fails once [`MAX_OUTPUT`] bytes would be passed.
#[derive(Default)]
struct Capped {
    text: String,
    full: bool,
}

impl std::fmt::Write for Capped {
    fn write_str(&mut self, s: &str) -> std::fmt::Result {
        if self.text.len() + s.len() > MAX_OUTPUT {
            self.full = true;
            return Err(std::fmt::Error);
        }
        self.text.push_str(s);
        Ok(())
    }
}

/// A character as a terminal may show it: newlines and tabs stay, every
/// other control character (ESC, BEL, CR, C1 controls…) becomes a space.
fn terminal_safe(c: char) -> char {
    if c.is_control() && c != '\n' && c != '\t' {
        ' '
    } else {
        c
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn errors_never_carry_the_secret() {
        let secret = "s3cr3t-value-123456";
        let data = serde_json::json!({"token": secret, "items": [1]});
        let t = GoTemplate::parse("{{index .items .token}}").expect("parses");
        let e = t.render(&data, Some(secret)).expect_err("an index by string fails");
        assert!(!e.to_string().contains(secret), "{e}");
        assert_eq!(e.field_errors()[0].field, "template");
    }

    #[test]
    fn a_runaway_range_is_cut_short() {
        let t = GoTemplate::parse("{{range .a}}{{range $.a}}{{range $.a}}x{{end}}{{end}}{{end}}").expect("parses");
        let many: Vec<u32> = (0..200).collect();
        assert!(t.render(&serde_json::json!({"a": many}), None).is_err());
    }

    #[test]
    fn output_is_capped() {
        let t = GoTemplate::parse("{{range .a}}{{printf \"%0100000d\" 1}}{{end}}").expect("parses");
        let many: Vec<u32> = (0..1000).collect();
        let e = t
            .render(&serde_json::json!({"a": many}), None)
            .expect_err("100 MB is over the cap");
        assert_eq!(e.field_errors()[0].code, "maxLength", "{e}");
        let small = GoTemplate::parse("{{range .a}}x{{end}}").expect("parses");
        assert_eq!(
            small.render(&serde_json::json!({"a": [1, 2]}), None).expect("fits"),
            "xx"
        );
    }

    #[test]
    fn terminal_controls_in_the_data_become_spaces() {
        let t = GoTemplate::parse("{{.name}}\t{{.description}}\n").expect("parses");
        let data = serde_json::json!({
            "name": "ok",
            "description": "a\u{1b}]52;c;ZXZpbA==\u{7}b\u{1b}[2Jc\r\u{9b}d",
        });
        let out = t.render(&data, None).expect("renders");
        assert_eq!(out, "ok\ta ]52;c;ZXZpbA== b [2Jc  d\n");
    }

    #[test]
    fn a_rehearsal_refuses_templates_that_drop_the_secret() {
        let data = serde_json::json!({"token": "stand-in-secret", "name": "x"});
        assert!(
            GoTemplate::parse("{{.token}}")
                .expect("parses")
                .rehearse(&data, "stand-in-secret")
                .is_ok()
        );
        let e = GoTemplate::parse("{{.name}}")
            .expect("parses")
            .rehearse(&data, "stand-in-secret")
            .expect_err("drops the secret");
        assert_eq!(e.field_errors()[0].field, "template");
    }

    #[test]
    fn oversized_sources_are_refused() {
        assert!(GoTemplate::parse(&"x".repeat(MAX_SOURCE + 1)).is_err());
    }
}
