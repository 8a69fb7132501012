//! Validation of names, workspace keys, descriptions, roles and durations,
//! before any request is sent (docs/protocol.md section 4).

use std::time::Duration;

use crate::error::{Error, Field, FieldError, Result};

/// Longest token name.
pub const NAME_MAX: usize = 63;
/// Longest workspace key.
pub const WORKSPACE_MAX: usize = 30;
/// Longest description, in characters.
pub const DESCRIPTION_MAX: usize = 512;

/// Checks a lowercase RFC 1123 label of at most `max` characters.
pub fn check_label(field: impl Into<Field>, value: &str, max: usize) -> Option<FieldError> {
    let field = field.into();
    if value.is_empty() {
        return Some(FieldError::about(field, "required", "is required"));
    }
    if value.chars().count() > max {
        return Some(FieldError::about(
            field,
            "maxLength",
            format!("must be at most {max} characters (got {})", value.chars().count()),
        ));
    }
    let bytes = value.as_bytes();
    let edge = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    let valid = bytes.iter().all(|&b| edge(b) || b == b'-') && edge(bytes[0]) && edge(bytes[bytes.len() - 1]);
    (!valid).then(|| {
        FieldError::about(
            field,
            "pattern",
            "must be lowercase letters, digits and '-', starting and ending with a letter or digit \
             (RFC 1123 label)",
        )
    })
}

/// Checks a token name.
pub fn check_name(field: impl Into<Field>, value: &str) -> Option<FieldError> {
    check_label(field, value, NAME_MAX)
}

/// Checks a workspace key.
pub fn check_workspace(field: impl Into<Field>, value: &str) -> Option<FieldError> {
    check_label(field, value, WORKSPACE_MAX)
}

/// Checks a description: at most 512 characters, no control characters.
pub fn check_description(field: impl Into<Field>, value: &str) -> Option<FieldError> {
    let field = field.into();
    let count = value.chars().count();
    if count > DESCRIPTION_MAX {
        return Some(FieldError::about(
            field,
            "maxLength",
            format!("must be at most {DESCRIPTION_MAX} characters (got {count})"),
        ));
    }
    value.chars().any(char::is_control).then(|| {
        FieldError::about(
            field,
            "invalidValue",
            "must not contain control characters such as newlines or tabs",
        )
    })
}

/// Checks a role name: dot-separated labels, e.g. `workspace.accesstokenmanager`.
pub fn check_role(field: impl Into<Field>, value: &str) -> Option<FieldError> {
    let field = field.into();
    if value.is_empty() {
        return Some(FieldError::about(field, "required", "is required"));
    }
    let valid = value.len() <= 253
        && value
            .split('.')
            .all(|part| check_label(field.clone(), part, NAME_MAX).is_none());
    (!valid).then(|| {
        FieldError::about(
            field,
            "pattern",
            "must be dot-separated lowercase labels, e.g. workspace.accesstokenmanager",
        )
    })
}

/// Checks a token lifetime: positive and at most 10 years.
pub fn check_expires_in(field: impl Into<Field>, value: Duration) -> Option<FieldError> {
    let field = field.into();
    const TEN_YEARS: Duration = Duration::from_secs(10 * 366 * 24 * 3600);
    if value < Duration::from_secs(1) {
        Some(FieldError::about(field, "invalidValue", "must be at least one second"))
    } else if value > TEN_YEARS {
        Some(FieldError::about(field, "invalidValue", "must be at most 10 years"))
    } else {
        None
    }
}

/// A number of seconds given by a caller (a timeout, a lifetime) as a duration.
pub fn seconds(field: impl Into<Field>, value: f64) -> Result<Duration> {
    Duration::try_from_secs_f64(value).map_err(|_| {
        Error::invalid(
            field,
            "invalidValue",
            "must be a non-negative, finite number of seconds",
        )
    })
}

/// A whole number in `min..=max`, from a caller's number (Python's ints and
/// floats, JavaScript's numbers): a fraction, NaN or a value out of range is
/// an error naming the field, never a silent truncation or wrap-around.
pub fn whole_number(field: impl Into<Field>, value: f64, min: u64, max: u64) -> Result<u64> {
    if value.fract() == 0.0 && value >= min as f64 && value <= max as f64 {
        Ok(value as u64)
    } else {
        Err(Error::invalid(
            field,
            "invalidValue",
            format!("must be a whole number from {min} to {max}"),
        ))
    }
}

/// Parses a lifetime such as `90d`, `12h`, `1h30m` or `3600` (seconds).
pub fn parse_expires_in(field: impl Into<Field>, raw: &str) -> Result<Duration> {
    let field = field.into();
    let raw = raw.trim();
    let invalid = || {
        Error::invalid(
            field.clone(),
            "invalidValue",
            format!("must be a duration such as 90d, 12h, 1h30m or a number of seconds (got {raw:?})"),
        )
    };
    let duration = if let Ok(seconds) = raw.parse::<u64>() {
        Duration::from_secs(seconds)
    } else {
        let span: jiff::Span = raw.parse().map_err(|_| invalid())?;
        let signed = span
            .to_duration(jiff::SpanRelativeTo::days_are_24_hours())
            .map_err(|_| invalid())?;
        Duration::try_from(signed).map_err(|_| invalid())?
    };
    match check_expires_in(field, duration) {
        Some(e) => Err(Error::from_field_errors(vec![e])),
        None => Ok(duration),
    }
}

/// A duration as a spec writes it: `30d`, `12h`, `90m`, `45s` (the largest
/// unit that divides it).
pub fn duration_text(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        s if s >= 86_400 && s % 86_400 == 0 => format!("{}d", s / 86_400),
        s if s >= 3_600 && s % 3_600 == 0 => format!("{}h", s / 3_600),
        s if s >= 60 && s % 60 == 0 => format!("{}m", s / 60),
        s => format!("{s}s"),
    }
}

/// The word of `known` nearest to a misspelt `word` (case ignored), when
/// it is near: at most two edits, or a third of the word's length.
pub fn closest<'k, S: AsRef<str>>(word: &str, known: &'k [S]) -> Option<&'k str> {
    known
        .iter()
        .map(|k| {
            (
                strsim::levenshtein(&word.to_lowercase(), &k.as_ref().to_lowercase()),
                k.as_ref(),
            )
        })
        .min()
        .filter(|(d, k)| *d <= 2.max(k.len() / 3))
        .map(|(_, k)| k)
}

/// Collects the `Some` field errors into one validation error.
pub(crate) fn collect(errors: impl IntoIterator<Item = Option<FieldError>>) -> Result<()> {
    let errors: Vec<FieldError> = errors.into_iter().flatten().collect();
    if errors.is_empty() {
        Ok(())
    } else {
        Err(Error::from_field_errors(errors))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Argument;

    #[test]
    fn labels() {
        assert!(check_name(Argument::Name, "ci-deploy").is_none());
        assert!(check_name(Argument::Name, "0").is_none());
        assert!(check_name(Argument::Name, &"a".repeat(63)).is_none());
        assert_eq!(
            check_name(Argument::Name, &"a".repeat(64)).map(|e| e.code),
            Some("maxLength".into())
        );
        assert_eq!(check_name(Argument::Name, "").map(|e| e.code), Some("required".into()));
        for bad in ["-a", "a-", "A", "a_b", "a.b", "é", "a b", "a\n"] {
            let e = check_name(Argument::Name, bad).expect(bad);
            assert_eq!(e.code, "pattern");
            assert_eq!(e.field, "name");
            assert!(e.message(&crate::RustSpelling).starts_with("name must"));
        }
        assert!(check_workspace(Argument::Workspace, &"w".repeat(30)).is_none());
        assert!(check_workspace(Argument::Workspace, &"w".repeat(31)).is_some());
    }

    #[test]
    fn descriptions_and_roles() {
        assert!(check_description(Argument::Description, &"é".repeat(512)).is_none());
        assert!(check_description(Argument::Description, &"é".repeat(513)).is_some());
        assert!(check_description(Argument::Description, "tab\there").is_some());
        assert!(check_role(Argument::Role, "workspace.accesstokenmanager").is_none());
        assert!(check_role(Argument::Role, "a..b").is_some());
        assert!(check_role(Argument::Role, "").is_some());
    }

    #[test]
    fn seconds_from_callers() {
        assert_eq!(seconds(Argument::Timeout, 1.5).ok(), Some(Duration::from_millis(1500)));
        for bad in [-1.0, f64::NAN, f64::INFINITY, 1e30] {
            assert_eq!(
                seconds(Argument::Timeout, bad).expect_err("bad").field_errors()[0].field,
                "timeout"
            );
        }
    }

    #[test]
    fn whole_numbers() {
        assert_eq!(whole_number(Argument::MaxRetries, 3.0, 0, 20).ok(), Some(3));
        for bad in [-1.0, 1.5, 21.0, 4294967296.0, f64::NAN, f64::INFINITY] {
            let e = whole_number(Argument::MaxRetries, bad, 0, 20).expect_err("bad");
            assert_eq!(e.field_errors()[0].field, "max_retries");
            assert!(e.to_string().contains("from 0 to 20"), "{e}");
        }
    }

    #[test]
    fn lifetimes() {
        assert_eq!(
            parse_expires_in(Argument::ExpiresIn, "90d").ok(),
            Some(Duration::from_secs(90 * 86400))
        );
        assert_eq!(
            parse_expires_in(Argument::ExpiresIn, "1h30m").ok(),
            Some(Duration::from_secs(5400))
        );
        assert_eq!(
            parse_expires_in(Argument::ExpiresIn, "3600").ok(),
            Some(Duration::from_secs(3600))
        );
        for bad in ["", "soon", "0", "-5h", "100y"] {
            let e = parse_expires_in(Argument::ExpiresIn, bad).expect_err(bad);
            assert_eq!(e.field_errors()[0].field, "expires_in");
        }
    }
}
