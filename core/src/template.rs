//! `-o template`: Go `text/template` semantics (what `wf`, `kubectl` and
//! `helm` users write), by the `gotmpl` crate, which matches Go's own output
//! on every case of `tests/vectors/templates.json`. The data is the object as
//! `-o json` shows it.

use serde::Serialize;

use crate::error::{Error, Result};

/// Most characters a template's source may have (a template, not a document).
const MAX_SOURCE: usize = 64 * 1024;
/// Most `range` iterations one execution may make.
const MAX_RANGE_ITERATIONS: u64 = 1_000_000;

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
                "template",
                "maxLength",
                format!("template must be at most {MAX_SOURCE} characters"),
            ));
        }
        let invalid =
            |why: String| Error::invalid("template", "invalidValue", format!("template does not parse: {why}"));
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
    /// output: a template that prints the secret was asked to).
    pub fn render<T: Serialize + ?Sized>(&self, data: &T, secret: Option<&str>) -> Result<String> {
        let cut = |text: String| match secret {
            Some(s) if !s.is_empty() => text.replace(s, "<redacted>"),
            _ => text,
        };
        let value = gotmpl::to_value(data)
            .map_err(|e| Error::invalid("template", "invalidValue", cut(format!("template data: {e}"))))?;
        self.0
            .execute_to_string(&value)
            .map_err(|e| Error::invalid("template", "invalidValue", cut(format!("template failed: {e}"))))
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
    fn oversized_sources_are_refused() {
        assert!(GoTemplate::parse(&"x".repeat(MAX_SOURCE + 1)).is_err());
    }
}
