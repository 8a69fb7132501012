//! The shared cases in `tests/vectors/`, also read by the Python and Node
//! suites. `UPDATE_VECTORS=1` rewrites the expected outputs (review the diff).

use std::path::{Path, PathBuf};

use serde_json::{Map, Value, json};
use wayfinder_tokens::config::Config;
use wayfinder_tokens::{AccessToken, Argument, IssuedToken, RustSpelling, Secret, names, render};

fn vectors(file: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../tests/vectors")
        .join(file)
}

fn load(file: &str) -> Value {
    serde_json::from_str(&std::fs::read_to_string(vectors(file)).unwrap()).unwrap()
}

fn issued(input: &Value) -> IssuedToken {
    let text = |k: &str| input[k].as_str().map(str::to_owned);
    IssuedToken {
        name: text("name").unwrap(),
        workspace: text("workspace"),
        server: text("server").unwrap(),
        description: text("description"),
        token: text("token").map(Secret::new),
        expires: None,
        resource: AccessToken::default(),
    }
}

type Renderer = fn(&IssuedToken) -> wayfinder_tokens::Result<String>;

/// Every format, by the name the vectors use.
const FORMATS: [(&str, Renderer); 7] = [
    ("env", render::env),
    ("export", render::export),
    ("shell", render::shell),
    ("config", wayfinder_tokens::config::yaml_for_token),
    ("json", render::json),
    ("yaml", render::yaml),
    ("token", render::token),
];

fn render_all(token: &IssuedToken) -> Map<String, Value> {
    FORMATS
        .iter()
        .map(|(name, f)| (name.to_string(), json!(f(token).unwrap())))
        .collect()
}

#[test]
fn rendered_outputs_match_the_vectors() {
    let mut doc = load("render.json");
    let update = std::env::var_os("UPDATE_VECTORS").is_some();
    for case in doc["issued"].as_array_mut().unwrap() {
        let actual = Value::Object(render_all(&issued(&case["input"])));
        if update {
            case["expected"] = actual;
        } else {
            assert_eq!(actual, case["expected"], "{}", case["case"]);
        }
    }
    for case in doc["tables"].as_array_mut().unwrap() {
        let tokens: Vec<AccessToken> = serde_json::from_value(case["input"].clone()).unwrap();
        let actual = json!({
            "headers": render::table(&tokens, true),
            "no_headers": render::table(&tokens, false),
        });
        if update {
            case["expected"] = actual;
        } else {
            assert_eq!(actual, case["expected"], "{}", case["case"]);
        }
    }
    for case in doc["issued_errors"].as_array().unwrap() {
        let token = issued(&case["input"]);
        let format = case["format"].as_str().unwrap();
        let (_, render) = FORMATS.iter().find(|(name, _)| *name == format).unwrap();
        let err = render(&token).expect_err(case["case"].as_str().unwrap());
        assert_eq!(err.code(), "VALIDATION");
        assert_eq!(
            err.field_errors()[0].field,
            case["field"].as_str().unwrap(),
            "{}",
            case["case"]
        );
    }
    if update {
        std::fs::write(
            vectors("render.json"),
            serde_json::to_string_pretty(&doc).unwrap() + "\n",
        )
        .unwrap();
    }
}

#[test]
fn rendered_configs_load_back() {
    for case in load("render.json")["issued"].as_array().unwrap() {
        let token = issued(&case["input"]);
        let yaml = wayfinder_tokens::config::yaml_for_token(&token).unwrap();
        let back = Config::parse(&yaml, Path::new("vector")).unwrap();
        let profile = back.resolve(None, Path::new("vector")).unwrap();
        assert_eq!(profile.profile, token.name);
        assert_eq!(profile.endpoint, token.server);
        assert_eq!(profile.workspace, token.workspace);
        let identity = profile.user.identity.unwrap();
        assert_eq!(
            identity.refresh_token.unwrap().expose(),
            token.token.as_ref().unwrap().expose()
        );
    }
}

#[test]
fn name_rules_match_the_vectors() {
    let doc = load("names.json");
    let cases = doc["cases"].as_array().unwrap();
    assert!(cases.len() >= 30);
    for case in cases {
        let (rule, value) = (case["rule"].as_str().unwrap(), case["value"].as_str().unwrap());
        let error = match rule {
            "name" => names::check_name(Argument::Name, value),
            "workspace" => names::check_workspace(Argument::Workspace, value),
            "description" => names::check_description(Argument::Description, value),
            "role" => names::check_role(Argument::Role, value),
            other => panic!("unknown rule {other}"),
        };
        let code = error.as_ref().map(|e| e.code.as_str());
        assert_eq!(code, case["error"].as_str(), "{rule} {value:?}");
        if let Some(e) = error {
            assert_eq!(e.field, rule);
            let message = e.message(&RustSpelling);
            assert!(message.starts_with(rule), "{message}");
        }
    }
}
