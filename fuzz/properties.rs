// The properties the fuzz targets check, shared with core/tests/it/fuzz_corpora.rs
// (which replays the committed corpora on stable). Included with `include!`.

use std::path::Path;

use wayfinder_tokens::config::Config;
use wayfinder_tokens::{AccessToken, IssuedToken, Secret, auth, client, render};

/// Any bytes: parsing never panics, and what parses survives a save and a load.
pub fn config_parse(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Ok(config) = Config::parse(text, Path::new("fuzz")) {
        let yaml = config.to_yaml().expect("a parsed config serialises");
        let again = Config::parse(&yaml, Path::new("fuzz")).expect("a saved config loads");
        assert_eq!(again.to_yaml().expect("serialises"), yaml, "save, load, save is stable");
    }
}

/// Any token: reading its claims and classifying it never panics.
pub fn jwt_claims(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else { return };
    if let Some(claims) = auth::read_claims(text) {
        let _ = claims.is_expired_at(0.0);
    }
    let _ = auth::Credential::classify(Secret::new(text));
}

/// Any error answer: decoding gives a typed error with the status and a
/// short, printable message.
pub fn error_decode(data: &[u8]) {
    let (status, body) = match data {
        [a, b, rest @ ..] => (400 + u16::from_be_bytes([*a, *b]) % 200, rest),
        _ => (500, data),
    };
    let Ok(status) = reqwest::StatusCode::from_u16(status) else {
        return;
    };
    let error = client::decode_error(status, Ok(body.to_vec()), None, None);
    assert_eq!(error.status(), Some(status.as_u16()));
    assert!(!error.to_string().chars().any(char::is_control), "{error}");
    assert!(error.to_string().len() < 2048);
    for f in error.field_errors() {
        assert!(!f.detail.chars().any(char::is_control));
    }
}

/// Splits fuzz input into a server, a token and a workspace.
fn token_from(data: &[u8]) -> Option<IssuedToken> {
    let text = std::str::from_utf8(data).ok()?;
    let mut parts = text.splitn(3, '\u{1f}');
    let (server, token, workspace) = (parts.next()?, parts.next()?, parts.next());
    Some(IssuedToken {
        name: "fuzz".into(),
        workspace: workspace.map(str::to_owned),
        server: server.to_owned(),
        description: None,
        token: Some(Secret::new(token)),
        expires: None,
        resource: AccessToken::default(),
    })
}

/// Reads `KEY=value` lines the way dotenv and POSIX shells do for the
/// quoting `render` uses: bare, or in single quotes.
pub fn parse_dotenv(text: &str) -> Vec<(String, String)> {
    text.lines()
        .map(|line| {
            let (key, value) = line.split_once('=').expect("KEY=value");
            let value = match value.strip_prefix('\'').and_then(|v| v.strip_suffix('\'')) {
                Some(inner) => inner.to_owned(),
                None => value.to_owned(),
            };
            (key.to_owned(), value)
        })
        .collect()
}

/// The export and GitHub Actions outputs parse back to the same values, or
/// the renderer refuses the value with a validation error.
pub fn render_roundtrip(data: &[u8]) {
    let Some(issued) = token_from(data) else { return };
    let secret = issued.token.as_ref().map(Secret::expose).unwrap_or_default().to_owned();
    let mut expected = vec![
        ("WAYFINDER_SERVER".to_owned(), issued.server.clone()),
        ("WAYFINDER_TOKEN".to_owned(), secret.clone()),
    ];
    if let Some(ws) = &issued.workspace {
        expected.push(("WAYFINDER_WORKSPACE".to_owned(), ws.clone()));
    }
    match render::export(&issued) {
        Ok(text) => assert_eq!(parse_dotenv(&text), expected, "{text:?}"),
        Err(e) => assert_eq!(e.code(), "VALIDATION"),
    }
    // The runner-file block the GitHub hand-off appends reads back as the variables.
    if let Ok(block) = wayfinder_tokens::github::env_file_block(&issued, "") {
        let keys: Vec<&str> = block
            .lines()
            .filter_map(|l| l.split_once("<<").map(|(k, _)| k))
            .collect();
        assert!(keys.len() >= expected.len(), "{block:?}");
        let _ = wayfinder_tokens::github::mask_command(&issued);
    }
    let _ = render::env(&issued);
    let _ = render::json(&issued);
    let _ = render::yaml(&issued);
    let _ = wayfinder_tokens::config::yaml_for_token(&issued);
}
