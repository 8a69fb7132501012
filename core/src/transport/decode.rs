//! Decoding answers: a success body into JSON, an error answer into a
//! typed [`Error`] with every secret the client knows cut out of the
//! server's text (docs/protocol.md section 5).

use std::time::Duration;

use reqwest::StatusCode;
use serde::Deserialize;
use serde_json::Value;
use zeroize::Zeroize;

use crate::error::{Error, Field, FieldError, Result};
use crate::secret::{Redactor, Secret};

/// Largest success body read.
pub(super) const MAX_BODY: usize = 32 * 1024 * 1024;
/// Largest error body read; the rest is discarded.
pub(super) const MAX_ERROR_BODY: usize = 64 * 1024;

/// A success answer's body, not yet decoded. It may hold an issued secret,
/// so it is wiped when dropped and never printed.
pub(crate) struct Answer {
    pub(super) status: u16,
    pub(super) body: Vec<u8>,
}

impl Drop for Answer {
    fn drop(&mut self) {
        self.body.zeroize();
    }
}

impl std::fmt::Debug for Answer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Answer")
            .field("status", &self.status)
            .field("body_bytes", &self.body.len())
            .finish()
    }
}

/// How an answer's body failed to decode.
pub(crate) enum Undecodable {
    /// Not JSON at all.
    Syntax(Error),
    /// JSON, but not of the expected shape: serde's reason.
    Shape(serde_json::Error),
}

impl Answer {
    /// The body decoded straight into `T` (an empty body reads as `null`),
    /// with no `Value` tree built on the way.
    pub(crate) fn decode<T: serde::de::DeserializeOwned>(&self) -> std::result::Result<T, Undecodable> {
        let body: &[u8] = if self.body.is_empty() { b"null" } else { &self.body };
        serde_json::from_slice(body).map_err(|e| match e.classify() {
            serde_json::error::Category::Data => Undecodable::Shape(e),
            _ => Undecodable::Syntax(self.not_json()),
        })
    }

    /// The body as JSON (`null` for an empty body).
    pub(crate) fn json(&self) -> Result<Value> {
        if self.body.is_empty() {
            return Ok(Value::Null);
        }
        serde_json::from_slice(&self.body).map_err(|_| self.not_json())
    }

    fn not_json(&self) -> Error {
        let status = self.status;
        server_error(
            Some(status),
            format!("the server answered {status} with a body that is not valid JSON"),
        )
    }
}

/// What an answer that issues a secret carries: an exchange's API token, a
/// refresh's API token and next refresh token, a reset's access token and
/// its expiry. The one decoder of a secret out of an answer.
#[derive(Debug)]
pub(crate) struct IssuedSecret {
    /// The secret.
    pub token: Secret,
    /// Unix seconds when it expires, when the server says.
    pub expires: Option<i64>,
    /// A refresh's next refresh token.
    pub refresh_token: Option<Secret>,
}

impl IssuedSecret {
    /// Decodes `answer`; `what` names it in the error when it issues no secret.
    pub(crate) fn of(answer: &Answer, what: &str) -> Result<IssuedSecret> {
        #[derive(Deserialize)]
        struct Shape {
            token: Option<Secret>,
            #[serde(default, deserialize_with = "whole_seconds")]
            expires: Option<i64>,
            #[serde(default, rename = "refresh-token")]
            refresh_token: Option<Secret>,
        }
        let no_token = || server_error(Some(answer.status), format!("the server's {what} has no token"));
        match answer.decode::<Shape>() {
            Ok(Shape {
                token: Some(token),
                expires,
                refresh_token,
            }) if !token.expose().is_empty() => Ok(IssuedSecret {
                token,
                expires,
                refresh_token,
            }),
            Ok(_) | Err(Undecodable::Shape(_)) => Err(no_token()),
            Err(Undecodable::Syntax(e)) => Err(e),
        }
    }
}

/// Seconds as a JSON number, whole or not (the server sends floats).
fn whole_seconds<'de, D: serde::Deserializer<'de>>(d: D) -> std::result::Result<Option<i64>, D::Error> {
    Ok(Option::<f64>::deserialize(d)?
        .filter(|s| s.is_finite())
        .map(|s| s as i64))
}

/// An answer the client cannot use, with the status it came with.
pub(crate) fn server_error(status: Option<u16>, message: String) -> Error {
    Error::bad_answer(status, message)
}

/// Reads a body, refusing one larger than `cap`.
pub(super) async fn read_capped(mut response: reqwest::Response, cap: usize) -> Result<Vec<u8>> {
    // Sized from the announced length (within reason), the body is not
    // regrown chunk by chunk, leaving copies of an issued secret behind.
    let announced = response.content_length().unwrap_or(0).min(64 * 1024);
    let mut body = Vec::with_capacity(usize::try_from(announced).unwrap_or(0).min(cap));
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > cap {
                    return Err(server_error(
                        Some(response.status().as_u16()),
                        format!(
                            "the server answered {} with a body larger than {} KiB",
                            response.status().as_u16(),
                            cap / 1024
                        ),
                    ));
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => return Ok(body),
            Err(e) if e.is_timeout() => {
                return Err(Error::Timeout {
                    message: format!("timed out reading the answer ({e})"),
                    hint: None,
                });
            }
            Err(e) => {
                return Err(Error::Transport {
                    message: format!("the connection failed while reading the answer ({e})"),
                    source: Some(Box::new(e)),
                    hint: None,
                });
            }
        }
    }
}

/// Decodes an error answer (docs/protocol.md section 5) into a typed error. A
/// body that is not of that shape still gives a clear error with the status.
pub fn decode_error(
    status: StatusCode,
    body: Result<Vec<u8>>,
    location: Option<&str>,
    retry_after: Option<Duration>,
) -> Error {
    decode_error_redacted(status, body, location, retry_after, &Redactor::default())
}

/// [`decode_error`], cutting every secret `redactor` knows out of the
/// server's text before it is cleaned and shortened (so no prefix of a
/// secret survives the cut).
pub(super) fn decode_error_redacted(
    status: StatusCode,
    body: Result<Vec<u8>>,
    location: Option<&str>,
    retry_after: Option<Duration>,
    redactor: &Redactor,
) -> Error {
    let code = status.as_u16();
    let reason = status.canonical_reason().unwrap_or("error").to_lowercase();
    if status.is_redirection() {
        let to = location
            .map(|l| format!(" to {}", sanitize(&redactor.redact(l))))
            .unwrap_or_default();
        return server_error(
            Some(code),
            format!("the server redirected{to}, to another origin; not following it with credentials (HTTP {code})"),
        );
    }
    let bytes = match body {
        Ok(b) => b,
        Err(e) => return Error::from_status(code, format!("{reason}; {e}"), Vec::new(), retry_after),
    };
    match error_body(&bytes, redactor) {
        Some((message, field_errors)) => Error::from_status(code, message, field_errors, retry_after),
        None => {
            // A proxy's one-line answer (Envoy's `upstream request timeout`)
            // is quoted as it came; a page or a document is not.
            let said = std::str::from_utf8(&bytes)
                .ok()
                .map(str::trim)
                .filter(|t| !t.is_empty() && t.len() <= 200 && !t.contains('\n') && !t.starts_with(['<', '{', '[']));
            let shown = match said {
                Some(text) => format!("the server said \"{}\"", sanitize(&redactor.redact(text))),
                None if bytes.is_empty() => "the server sent an empty body".to_owned(),
                None => "the server sent a body that is not a Wayfinder error".to_owned(),
            };
            Error::from_status(code, format!("{reason}; {shown}"), Vec::new(), retry_after)
        }
    }
}

/// The message and field errors of a Wayfinder error body, every secret
/// `redactor` knows cut out before the text is cleaned and shortened.
fn error_body(bytes: &[u8], redactor: &Redactor) -> Option<(String, Vec<FieldError>)> {
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct ApiFieldError {
        #[serde(default)]
        field: String,
        #[serde(default)]
        err_code: String,
        #[serde(default)]
        message: String,
    }
    #[derive(Deserialize)]
    #[serde(rename_all = "camelCase")]
    struct ApiErrorBody {
        message: Option<String>,
        #[serde(default)]
        detail: Option<String>,
        #[serde(default)]
        field_errors: Option<Vec<ApiFieldError>>,
    }
    let clean = |text: &str| sanitize(&redactor.redact(text));
    let body: ApiErrorBody = serde_json::from_slice(bytes).ok()?;
    let mut message = clean(&body.message?);
    if let Some(d) = body.detail.filter(|d| !d.trim().is_empty()) {
        message = format!("{message}: {}", clean(&d));
    }
    let field_errors = body
        .field_errors
        .unwrap_or_default()
        .into_iter()
        .map(|f| FieldError::new(Field::Named(clean(&f.field)), clean(&f.err_code), clean(&f.message)))
        .collect();
    Some((message, field_errors))
}

/// Keeps server-provided text printable and short.
fn sanitize(text: &str) -> String {
    let cleaned = crate::render::printable(text);
    match cleaned.char_indices().nth(500) {
        Some((at, _)) => format!("{}…", &cleaned[..at]),
        None => cleaned,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::ErrorKind;

    #[test]
    fn answers_decode_without_showing_their_body() {
        let secret = "eyJhbGciOiJIUzI1NiJ9.issued.secret";
        let answer = Answer {
            status: 200,
            body: format!(r#"{{"token": "{secret}", "expires": 1}}"#).into_bytes(),
        };
        assert!(!format!("{answer:?}").contains(secret));
        assert_eq!(
            IssuedSecret::of(&answer, "answer").expect("a token").token.expose(),
            secret
        );
        let json = answer.json().expect("JSON");
        assert_eq!(json["expires"], 1);

        let empty = Answer {
            status: 204,
            body: Vec::new(),
        };
        assert_eq!(empty.json().expect("null"), Value::Null);
        assert!(matches!(empty.decode::<Option<u8>>(), Ok(None)));
        assert!(matches!(empty.decode::<Vec<u8>>(), Err(Undecodable::Shape(_))));

        let garbage = Answer {
            status: 201,
            body: b"<html>".to_vec(),
        };
        let Err(Undecodable::Syntax(e)) = garbage.decode::<Value>() else {
            panic!("garbage decoded");
        };
        assert_eq!(e.status(), Some(201));
        assert!(e.to_string().contains("not valid JSON"), "{e}");
        assert_eq!(
            IssuedSecret::of(&garbage, "answer").expect_err("no token").status(),
            Some(201)
        );
        let no_token = Answer {
            status: 200,
            body: br#"{"token": ""}"#.to_vec(),
        };
        assert!(
            IssuedSecret::of(&no_token, "answer")
                .expect_err("empty")
                .to_string()
                .contains("no token")
        );
    }

    #[test]
    fn decodes_error_bodies() {
        let body = br#"{"code":400,"message":"bad","fieldErrors":[{"field":"metadata.name","errCode":"invalidValue","message":"m"}]}"#;
        let e = decode_error(StatusCode::BAD_REQUEST, Ok(body.to_vec()), None, None);
        assert_eq!(e.code(), "VALIDATION");
        assert_eq!(e.status(), Some(400));
        assert_eq!(e.field_errors()[0].field, "metadata.name");
        assert_eq!(e.field_errors()[0].code, "invalidValue");

        let e = decode_error(
            StatusCode::NOT_FOUND,
            Ok(br#"{"code":404,"message":"x not found"}"#.to_vec()),
            None,
            None,
        );
        assert_eq!(e.code(), "NOT_FOUND");
        assert!(e.to_string().contains("x not found"));

        for junk in [
            &b"<html>oops</html>"[..],
            b"",
            b"{\"code\": 5",
            b"[1]",
            b"{\"message\": 7}",
        ] {
            let e = decode_error(StatusCode::BAD_GATEWAY, Ok(junk.to_vec()), None, None);
            assert_eq!(e.code(), "SERVER");
            assert_eq!(e.status(), Some(502));
            assert!(e.to_string().contains("502"), "{e}");
        }
        let e = decode_error(
            StatusCode::TOO_MANY_REQUESTS,
            Ok(b"{}".to_vec()),
            None,
            Some(Duration::from_secs(3)),
        );
        assert_eq!(e.kind(), ErrorKind::RateLimited);
        assert_eq!(e.retry_after(), Some(Duration::from_secs(3)));
        let e = decode_error(
            StatusCode::FOUND,
            Ok(Vec::new()),
            Some("https://evil.example.com/"),
            None,
        );
        assert!(e.to_string().contains("redirected"));
    }

    #[test]
    fn server_text_is_sanitised() {
        let long = "x".repeat(2000);
        let body = format!(r#"{{"message":"a\nb{long}"}}"#);
        let e = decode_error(StatusCode::CONFLICT, Ok(body.into_bytes()), None, None);
        assert!(!e.to_string().contains('\n'));
        assert!(e.to_string().len() < 700);
    }
}
