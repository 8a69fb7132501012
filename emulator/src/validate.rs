//! The server's own checks of docs/protocol.md section 4 (names, workspace keys,
//! descriptions). The client checks the same rules before sending; the server
//! never trusts that it did.

use serde::Serialize;

/// One entry of a 400 answer's `fieldErrors`.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FieldError {
    pub field: String,
    pub err_code: &'static str,
    pub message: String,
}

impl FieldError {
    pub fn new(field: &str, err_code: &'static str, message: impl Into<String>) -> FieldError {
        FieldError {
            field: field.to_owned(),
            err_code,
            message: message.into(),
        }
    }
}

pub const NAME_MAX: usize = 63;
pub const WORKSPACE_MAX: usize = 30;
pub const DESCRIPTION_MAX: usize = 512;

/// Checks an RFC 1123 label of at most `max` characters.
pub fn label(field: &str, value: &str, max: usize) -> Option<FieldError> {
    if value.is_empty() {
        return Some(FieldError::new(field, "required", format!("{field} is required")));
    }
    if value.len() > max {
        return Some(FieldError::new(
            field,
            "maxLength",
            format!("{field} must be at most {max} characters"),
        ));
    }
    let bytes = value.as_bytes();
    let inner_ok = bytes
        .iter()
        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-');
    let ends_ok = |b: u8| b.is_ascii_lowercase() || b.is_ascii_digit();
    if !inner_ok || !ends_ok(bytes[0]) || !ends_ok(bytes[bytes.len() - 1]) {
        return Some(FieldError::new(
            field,
            "pattern",
            format!(
                "{field} must consist of lowercase letters, digits and '-', and start and end with a letter or digit"
            ),
        ));
    }
    None
}

pub fn description(field: &str, value: &str) -> Option<FieldError> {
    if value.chars().count() > DESCRIPTION_MAX {
        return Some(FieldError::new(
            field,
            "maxLength",
            format!("{field} must be at most {DESCRIPTION_MAX} characters"),
        ));
    }
    if value.chars().any(char::is_control) {
        return Some(FieldError::new(
            field,
            "invalidValue",
            format!("{field} must not contain control characters"),
        ));
    }
    None
}

/// Role names: a non-empty dotted identifier (`workspace.accesstokenmanager`).
pub fn role(field: &str, value: &str) -> Option<FieldError> {
    let ok =
        !value.is_empty() && value.len() <= 253 && value.split('.').all(|part| label(field, part, NAME_MAX).is_none());
    (!ok).then(|| {
        FieldError::new(
            field,
            "invalidValue",
            format!("{field} must be dot-separated lowercase labels, e.g. workspace.accesstokenmanager"),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn labels() {
        assert!(label("n", "ci-deploy", NAME_MAX).is_none());
        assert!(label("n", "a", NAME_MAX).is_none());
        assert!(label("n", &"a".repeat(63), NAME_MAX).is_none());
        assert_eq!(
            label("n", &"a".repeat(64), NAME_MAX).map(|e| e.err_code),
            Some("maxLength")
        );
        assert_eq!(label("n", "", NAME_MAX).map(|e| e.err_code), Some("required"));
        for bad in ["-a", "a-", "A", "a_b", "a.b", "ü", "a b"] {
            assert_eq!(label("n", bad, NAME_MAX).map(|e| e.err_code), Some("pattern"), "{bad}");
        }
        assert!(label("w", &"a".repeat(31), WORKSPACE_MAX).is_some());
    }

    #[test]
    fn descriptions_and_roles() {
        assert!(description("d", &"é".repeat(512)).is_none());
        assert!(description("d", &"é".repeat(513)).is_some());
        assert!(description("d", "a\nb").is_some());
        assert!(role("r", "workspace.accesstokenmanager").is_none());
        assert!(role("r", "").is_some());
        assert!(role("r", "a..b").is_some());
    }
}
