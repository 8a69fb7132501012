//! Drives the emulator over loopback with a plain HTTP client through every
//! row of docs/protocol.md.

use std::time::Duration;

use jiff::Timestamp;
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use wayfinder_emulator::{Emulator, Fault};

const ADMIN: &str = "admin-secret";
const GV: &str = "accesstokens.appvia.io/v2beta1";

struct Api {
    emulator: Emulator,
    http: reqwest::Client,
}

impl Api {
    async fn start() -> Api {
        Api::with(Emulator::builder()).await
    }

    async fn with(builder: wayfinder_emulator::EmulatorBuilder) -> Api {
        // dev and prod exist through alice; the rest are for the tests that
        // need workspaces she does not belong to.
        let emulator = builder
            .admin_token(ADMIN)
            .user("alice:wonderland@dev,prod".parse().unwrap())
            .workspace("ops")
            .workspace("ws0")
            .workspace("ws1")
            .workspace("ws2")
            .workspace("ws3")
            .start()
            .await
            .unwrap();
        Api {
            emulator,
            http: reqwest::Client::new(),
        }
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.emulator.url())
    }

    async fn call(&self, method: Method, path: &str, token: Option<&str>, body: Option<Value>) -> (StatusCode, Value) {
        let mut req = self.http.request(method, self.url(path));
        if let Some(t) = token {
            req = req.bearer_auth(t);
        }
        if let Some(b) = body {
            req = req.json(&b);
        }
        let resp = req.send().await.unwrap();
        let status = resp.status();
        let text = resp.text().await.unwrap();
        let value = if text.is_empty() {
            Value::Null
        } else {
            serde_json::from_str(&text).unwrap_or_else(|e| panic!("non-JSON answer {text:?}: {e}"))
        };
        (status, value)
    }

    async fn create(&self, token: &str, ws: &str, name: &str) -> (StatusCode, Value) {
        self.call(
            Method::POST,
            &ws_path(ws, ""),
            Some(token),
            Some(json!({"metadata": {"name": name}})),
        )
        .await
    }

    async fn issue(&self, token: &str, ws: &str, name: &str) -> String {
        let (status, body) = self
            .call(Method::POST, &ws_path(ws, &format!("/{name}/token")), Some(token), None)
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["token"].as_str().unwrap().to_owned()
    }

    async fn exchange(&self, access_token: &str) -> (StatusCode, Value) {
        self.call(Method::POST, "/api/v2/exchange?ttl=30m0s", Some(access_token), None)
            .await
    }

    async fn exchanged(&self, access_token: &str) -> String {
        let (status, body) = self.exchange(access_token).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["token"].as_str().unwrap().to_owned()
    }

    async fn login(&self, user: &str, password: &str) -> (StatusCode, Value) {
        self.call(
            Method::POST,
            "/api/v2/login",
            None,
            Some(json!({"username": user, "password": password})),
        )
        .await
    }
}

fn ws_path(ws: &str, rest: &str) -> String {
    format!("/resources/{GV}/workspaces/{ws}/workspaceaccesstokens{rest}")
}

fn platform_path(rest: &str) -> String {
    format!("/resources/{GV}/platformaccesstokens{rest}")
}

/// The claims of a JWT, read without verifying (as a client does).
fn claims(jwt: &str) -> Value {
    use base64::Engine;
    let payload = jwt.split('.').nth(1).unwrap();
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(payload)
        .unwrap();
    serde_json::from_slice(&bytes).unwrap()
}

fn assert_error_body(status: StatusCode, body: &Value, expected: StatusCode) {
    assert_eq!(status, expected, "{body}");
    assert_eq!(body["code"], json!(expected.as_u16()), "{body}");
    assert!(body["message"].as_str().is_some_and(|m| !m.is_empty()), "{body}");
    assert!(body["uri"].as_str().is_some_and(|u| u.starts_with('/')), "{body}");
    assert!(body["verb"].as_str().is_some(), "{body}");
}

#[tokio::test]
async fn discovery_and_server_info() {
    let api = Api::start().await;
    let (status, body) = api.call(Method::GET, "/apiinfo", None, None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(
        body,
        json!({"nonResourceAPI": "/api/v2", "resourceAPI": "/resources", "kubeProxyAPI": "/kubeproxy"})
    );
    let (status, body) = api.call(Method::GET, "/api/v2/serverinfo", Some(ADMIN), None).await;
    assert_eq!(status, StatusCode::OK);
    assert!(body["version"]["release"].as_str().is_some());
    assert!(body["instanceIdentifier"].as_str().is_some());
    let (status, body) = api.call(Method::GET, "/api/v2/serverinfo", None, None).await;
    assert_error_body(status, &body, StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn workspace_token_lifecycle() {
    let api = Api::start().await;
    let body = json!({
        "apiVersion": GV, "kind": "WorkspaceAccessToken",
        "metadata": {"name": "ci-deploy", "namespace": "ws-dev"},
        "spec": {"description": "My deployment token", "expiry": "2099-01-01T00:00:00Z"},
        "unknownTopLevel": true
    });
    let (status, created) = api
        .call(Method::POST, &ws_path("dev", ""), Some(ADMIN), Some(body))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert_eq!(created["kind"], "WorkspaceAccessToken");
    assert_eq!(created["apiVersion"], GV);
    assert_eq!(created["metadata"]["name"], "ci-deploy");
    assert_eq!(created["metadata"]["namespace"], "ws-dev");
    assert_eq!(created["spec"]["description"], "My deployment token");
    assert_eq!(created["spec"]["expiry"], "2099-01-01T00:00:00Z");
    assert_eq!(created["status"]["generation"], 0);
    assert!(
        created["metadata"]["creationTimestamp"]
            .as_str()
            .unwrap()
            .parse::<Timestamp>()
            .is_ok()
    );

    let (status, got) = api
        .call(Method::GET, &ws_path("dev", "/ci-deploy"), Some(ADMIN), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(got["metadata"]["uid"], created["metadata"]["uid"]);

    let token = api.issue(ADMIN, "dev", "ci-deploy").await;
    let c = claims(&token);
    assert_eq!(c["scopes"], json!(["wayfinder:auth:exchange"]));
    assert_eq!(c["generation"], 1);
    assert_eq!(c["exp"], json!(Timestamp::from_second(4070908800).unwrap().as_second()));
    for claim in ["sub", "aud", "iss", "iat", "jti"] {
        assert!(!c[claim].is_null(), "missing {claim}");
    }
    let (_, got) = api
        .call(Method::GET, &ws_path("dev", "/ci-deploy"), Some(ADMIN), None)
        .await;
    assert_eq!(got["status"]["generation"], 1);
    assert!(got["status"]["lastIssued"].is_string());

    let (status, exchanged) = api.exchange(&token).await;
    assert_eq!(status, StatusCode::OK, "{exchanged}");
    let api_token = exchanged["token"].as_str().unwrap();
    let c = claims(api_token);
    assert_eq!(c["scopes"], json!(["wayfinder:system:accesstoken"]));
    let now = Timestamp::now().as_second();
    let exp = c["exp"].as_i64().unwrap();
    assert!((now + 1790..=now + 1810).contains(&exp), "exp {exp} now {now}");
    assert_eq!(exchanged["expires"], c["exp"]);

    // ttl is capped at one hour
    let (_, capped) = api
        .call(Method::POST, "/api/v2/exchange?ttl=5h", Some(&token), None)
        .await;
    let exp = claims(capped["token"].as_str().unwrap())["exp"].as_i64().unwrap();
    assert!(exp <= Timestamp::now().as_second() + 3600);

    let (status, list) = api.call(Method::GET, &ws_path("dev", ""), Some(ADMIN), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(list["kind"], "WorkspaceAccessTokenList");
    assert_eq!(list["apiVersion"], GV);
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let (_, other_ws) = api.call(Method::GET, &ws_path("prod", ""), Some(ADMIN), None).await;
    assert_eq!(other_ws["items"], json!([]));

    let update = json!({"metadata": {"name": "ci-deploy"}, "spec": {"description": "changed"}});
    let (status, updated) = api
        .call(Method::PUT, &ws_path("dev", "/ci-deploy"), Some(ADMIN), Some(update))
        .await;
    assert_eq!(status, StatusCode::OK, "{updated}");
    assert_eq!(updated["spec"]["description"], "changed");
    assert!(updated["spec"].get("expiry").is_none());

    let (status, deleted) = api
        .call(Method::DELETE, &ws_path("dev", "/ci-deploy"), Some(ADMIN), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(deleted["metadata"]["name"], "ci-deploy");
    // As documented, an exchange of a token that does not exist is a 404.
    let (status, body) = api.exchange(&token).await;
    assert_error_body(status, &body, StatusCode::NOT_FOUND);
    let (status, body) = api.call(Method::GET, "/api/v2/whoami", Some(api_token), None).await;
    assert_error_body(status, &body, StatusCode::UNAUTHORIZED);
    let (status, body) = api
        .call(Method::GET, &ws_path("dev", "/ci-deploy"), Some(ADMIN), None)
        .await;
    assert_error_body(status, &body, StatusCode::NOT_FOUND);
    assert_eq!(body["message"], "workspaceaccesstoken \"ci-deploy\" not found");

    // A new token of the same name does not revive the old secret.
    api.create(ADMIN, "dev", "ci-deploy").await;
    let (status, _) = api.exchange(&token).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn reset_invalidates_previous_secret_and_keeps_roles() {
    let api = Api::start().await;
    api.create(ADMIN, "dev", "rotate").await;
    let first = api.issue(ADMIN, "dev", "rotate").await;
    let first_api = api.exchanged(&first).await;
    let (status, roles) = api
        .call(
            Method::POST,
            &ws_path("dev", "/rotate/accessroles"),
            Some(ADMIN),
            Some(json!({"role": "cluster.deployer", "cluster": "c1", "namespace": "apps"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{roles}");
    assert_eq!(
        roles["accessRoles"],
        json!([{"role": "cluster.deployer", "cluster": "c1", "namespace": "apps"}])
    );
    let (_, roles) = api
        .call(
            Method::POST,
            &ws_path("dev", "/rotate/wayfinderroles"),
            Some(ADMIN),
            Some(json!({"role": "workspace.accesstokenmanager"})),
        )
        .await;
    assert_eq!(roles["wayfinderRoles"], json!(["workspace.accesstokenmanager"]));

    let second = api.issue(ADMIN, "dev", "rotate").await;
    assert_eq!(claims(&second)["generation"], 2);
    let (status, body) = api.exchange(&first).await;
    assert_error_body(status, &body, StatusCode::UNAUTHORIZED);
    let (status, _) = api.call(Method::GET, "/api/v2/whoami", Some(&first_api), None).await;
    assert_eq!(
        status,
        StatusCode::UNAUTHORIZED,
        "an API token from a reset secret stops working"
    );
    api.exchanged(&second).await;

    let (status, roles) = api
        .call(Method::GET, &ws_path("dev", "/rotate/roles"), Some(ADMIN), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(roles["wayfinderRoles"], json!(["workspace.accesstokenmanager"]));
    assert_eq!(roles["accessRoles"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn platform_tokens() {
    let api = Api::start().await;
    let body =
        json!({"kind": "PlatformAccessToken", "metadata": {"name": "platform-ci"}, "spec": {"description": "p"}});
    let (status, created) = api
        .call(Method::POST, &platform_path(""), Some(ADMIN), Some(body))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    assert!(created["metadata"].get("namespace").is_none());
    let (status, body) = api
        .call(
            Method::POST,
            &platform_path(""),
            Some(ADMIN),
            Some(json!({"metadata": {"name": "x", "namespace": "ws-dev"}})),
        )
        .await;
    assert_error_body(status, &body, StatusCode::BAD_REQUEST);
    let (_, issued) = api
        .call(Method::POST, &platform_path("/platform-ci/token"), Some(ADMIN), None)
        .await;
    let token = issued["token"].as_str().unwrap();
    assert!(claims(token).get("workspace").is_none());
    let api_token = api.exchanged(token).await;
    let (_, me) = api.call(Method::GET, "/api/v2/whoami", Some(&api_token), None).await;
    assert_eq!(me["subjectKind"], "PlatformAccessToken");
    assert_eq!(me["authMethod"], "accesstoken");
    let (_, list) = api.call(Method::GET, &platform_path(""), Some(ADMIN), None).await;
    assert_eq!(list["kind"], "PlatformAccessTokenList");
    assert_eq!(list["items"].as_array().unwrap().len(), 1);
    let (status, _) = api
        .call(Method::DELETE, &platform_path("/platform-ci"), Some(ADMIN), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = api.exchange(token).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[tokio::test]
async fn dry_run_persists_nothing() {
    let api = Api::start().await;
    let body = json!({"metadata": {"name": "dry"}, "spec": {"description": "d"}});
    let path = format!("{}?dryRun=All", ws_path("dev", ""));
    let (status, obj) = api.call(Method::POST, &path, Some(ADMIN), Some(body.clone())).await;
    assert_eq!(status, StatusCode::CREATED);
    assert_eq!(obj["metadata"]["name"], "dry");
    // Nothing a creation would assign is invented for an object that was not created.
    for assigned in ["uid", "creationTimestamp", "resourceVersion"] {
        assert!(obj["metadata"].get(assigned).is_none(), "{assigned}: {obj}");
    }
    assert!(obj.get("status").is_none(), "{obj}");
    let (_, list) = api.call(Method::GET, &ws_path("dev", ""), Some(ADMIN), None).await;
    assert_eq!(list["items"], json!([]));
    let (status, _) = api.call(Method::GET, &ws_path("dev", "/dry"), Some(ADMIN), None).await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    // Validation still applies, and so does the duplicate check.
    let (status, body) = api
        .call(
            Method::POST,
            &path,
            Some(ADMIN),
            Some(json!({"metadata": {"name": "Bad"}})),
        )
        .await;
    assert_error_body(status, &body, StatusCode::BAD_REQUEST);
    api.create(ADMIN, "dev", "dry").await;
    let (status, _) = api
        .call(
            Method::POST,
            &path,
            Some(ADMIN),
            Some(json!({"metadata": {"name": "dry"}})),
        )
        .await;
    assert_eq!(status, StatusCode::CONFLICT);
    let (status, body) = api
        .call(
            Method::POST,
            &format!("{}?dryRun=Some", ws_path("dev", "")),
            Some(ADMIN),
            Some(json!({"metadata": {"name": "x"}})),
        )
        .await;
    assert_error_body(status, &body, StatusCode::BAD_REQUEST);
    assert_eq!(body["fieldErrors"][0]["field"], "dryRun");
}

#[tokio::test]
async fn validation_errors_name_their_fields() {
    let api = Api::start().await;
    let cases = [
        (json!({"metadata": {"name": "Upper"}}), "metadata.name", "pattern"),
        (
            json!({"metadata": {"name": "a".repeat(64)}}),
            "metadata.name",
            "maxLength",
        ),
        (json!({"metadata": {}}), "metadata.name", "required"),
        (
            json!({"metadata": {"name": "ok"}, "spec": {"description": "x".repeat(513)}}),
            "spec.description",
            "maxLength",
        ),
        (
            json!({"metadata": {"name": "ok"}, "spec": {"description": "a\u{7}b"}}),
            "spec.description",
            "invalidValue",
        ),
        (
            json!({"metadata": {"name": "ok"}, "spec": {"expiry": "tomorrow"}}),
            "spec.expiry",
            "invalidValue",
        ),
        (
            json!({"metadata": {"name": "ok"}, "spec": {"expiry": "2001-01-01T00:00:00Z"}}),
            "spec.expiry",
            "invalidValue",
        ),
        (
            json!({"metadata": {"name": "ok", "namespace": "ws-prod"}}),
            "metadata.namespace",
            "invalidValue",
        ),
        (
            json!({"kind": "PlatformAccessToken", "metadata": {"name": "ok"}}),
            "kind",
            "invalidValue",
        ),
        (
            json!({"apiVersion": "v1", "metadata": {"name": "ok"}}),
            "apiVersion",
            "invalidValue",
        ),
    ];
    for (body, field, code) in cases {
        let (status, answer) = api
            .call(Method::POST, &ws_path("dev", ""), Some(ADMIN), Some(body))
            .await;
        assert_error_body(status, &answer, StatusCode::BAD_REQUEST);
        assert_eq!(answer["fieldErrors"][0]["field"], field, "{answer}");
        assert_eq!(answer["fieldErrors"][0]["errCode"], code, "{answer}");
    }
    let long_ws = "w".repeat(31);
    let (status, answer) = api.create(ADMIN, &long_ws, "ok").await;
    assert_error_body(status, &answer, StatusCode::BAD_REQUEST);
    assert_eq!(answer["fieldErrors"][0]["field"], "workspace");
    api.create(ADMIN, "dev", "target").await;
    for (sub, body) in [
        ("accessroles", json!({"role": ""})),
        ("accessroles", json!({"role": "ok", "cluster": "Bad Cluster"})),
        ("wayfinderroles", json!({"role": "Not A Role"})),
    ] {
        let (status, answer) = api
            .call(
                Method::POST,
                &ws_path("dev", &format!("/target/{sub}")),
                Some(ADMIN),
                Some(body),
            )
            .await;
        assert_error_body(status, &answer, StatusCode::BAD_REQUEST);
        assert!(answer["fieldErrors"].as_array().is_some_and(|a| !a.is_empty()));
    }
    let (status, answer) = api
        .call(
            Method::PUT,
            &ws_path("dev", "/target"),
            Some(ADMIN),
            Some(json!({"metadata": {"name": "other"}})),
        )
        .await;
    assert_error_body(status, &answer, StatusCode::BAD_REQUEST);
}

#[tokio::test]
async fn every_failure_has_a_json_body() {
    let api = Api::start().await;
    let raw = |method: Method, path: &str, body: &'static str| {
        let req = api
            .http
            .request(method, api.url(path))
            .bearer_auth(ADMIN)
            .header("content-type", "application/json")
            .body(body);
        async move {
            let resp = req.send().await.unwrap();
            let status = resp.status();
            (status, resp.json::<Value>().await.unwrap())
        }
    };
    let (s, b) = raw(Method::POST, &ws_path("dev", ""), "{not json").await;
    assert_error_body(s, &b, StatusCode::BAD_REQUEST);
    let (s, b) = raw(Method::POST, &ws_path("dev", ""), "[1,2]").await;
    assert_error_body(s, &b, StatusCode::BAD_REQUEST);
    let (s, b) = raw(Method::POST, &ws_path("dev", ""), "{\"metadata\": \"hunter2\"}").await;
    assert_error_body(s, &b, StatusCode::BAD_REQUEST);
    assert!(
        !b.to_string().contains("hunter2"),
        "a rejected body is never echoed: {b}"
    );
    let (s, b) = raw(Method::GET, "/no/such/route", "").await;
    assert_error_body(s, &b, StatusCode::NOT_FOUND);
    let (s, b) = raw(Method::PATCH, &ws_path("dev", "/x"), "").await;
    assert_error_body(s, &b, StatusCode::METHOD_NOT_ALLOWED);
    let big =
        Box::leak(format!("{{\"metadata\": {{\"name\": \"{}\"}}}}", "a".repeat(2 * 1024 * 1024)).into_boxed_str());
    let (s, b) = raw(Method::POST, &ws_path("dev", ""), big).await;
    assert_error_body(s, &b, StatusCode::PAYLOAD_TOO_LARGE);
    let (s, b) = raw(Method::POST, &ws_path("dev", "/missing/token"), "").await;
    assert_error_body(s, &b, StatusCode::NOT_FOUND);
    let (s, b) = raw(
        Method::POST,
        &ws_path("dev", "/missing/wayfinderroles"),
        "{\"role\": \"workspace.admin\"}",
    )
    .await;
    assert_error_body(s, &b, StatusCode::NOT_FOUND);
    let (s, b) = raw(Method::DELETE, &platform_path("/missing"), "").await;
    assert_error_body(s, &b, StatusCode::NOT_FOUND);
    let (s, b) = raw(Method::POST, "/api/v2/exchange?ttl=banana", "").await;
    assert_error_body(s, &b, StatusCode::UNAUTHORIZED); // the admin token cannot be exchanged

    let (s, b) = api
        .call(Method::GET, &ws_path("dev", ""), Some("not-a-token"), None)
        .await;
    assert_error_body(s, &b, StatusCode::UNAUTHORIZED);
    let (s, b) = api.call(Method::GET, &ws_path("dev", ""), None, None).await;
    assert_error_body(s, &b, StatusCode::UNAUTHORIZED);
    let resp = api
        .http
        .get(api.url(&ws_path("dev", "")))
        .header("authorization", "Basic abc")
        .send()
        .await
        .unwrap();
    assert_eq!(resp.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn local_users_log_in_refresh_and_stay_in_their_workspaces() {
    let api = Api::start().await;
    let (status, body) = api.login("alice", "wrong").await;
    assert_error_body(status, &body, StatusCode::UNAUTHORIZED);
    let (status, body) = api.login("alice", "wonderland").await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let token = body["token"].as_str().unwrap().to_owned();
    let refresh = body["refresh-token"].as_str().unwrap().to_owned();
    assert_eq!(claims(&token)["scopes"], json!(["wayfinder:system:user"]));
    assert_eq!(claims(&refresh)["scopes"], json!(["wayfinder:auth:refresh"]));

    let (_, me) = api.call(Method::GET, "/api/v2/whoami", Some(&token), None).await;
    assert_eq!(me["username"], "alice");
    assert_eq!(me["workspaces"], json!(["dev", "prod"]));
    assert_eq!(me["authMethod"], "local");
    // The documented shape: groups in Wayfinder and in each workspace.
    assert_eq!(me["wayfinderGroups"], json!([]));
    assert_eq!(me["workspaceGroups"], json!({"dev": ["member"], "prod": ["member"]}));

    let (status, _) = api.create(&token, "dev", "mine").await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, body) = api.create(&token, "ops", "not-mine").await;
    assert_error_body(status, &body, StatusCode::FORBIDDEN);
    let (status, _) = api.call(Method::GET, &platform_path(""), Some(&token), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    let (status, body) = api
        .call(
            Method::POST,
            "/api/v2/login/token",
            Some(&refresh),
            Some(json!({"refresh-token": refresh})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let renewed = body["token"].as_str().unwrap();
    let (status, _) = api.call(Method::GET, "/api/v2/whoami", Some(renewed), None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = api
        .call(
            Method::POST,
            "/api/v2/login/token",
            Some(&token),
            Some(json!({"refresh-token": token})),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "an API token is not a refresh token");
}

#[tokio::test]
async fn access_tokens_act_within_their_roles() {
    let api = Api::start().await;
    api.create(ADMIN, "dev", "pipeline").await;
    let secret = api.issue(ADMIN, "dev", "pipeline").await;
    let (status, body) = api.call(Method::GET, &ws_path("dev", ""), Some(&secret), None).await;
    assert_error_body(status, &body, StatusCode::UNAUTHORIZED);
    assert!(body["message"].as_str().unwrap().contains("exchanged"));

    let bare = api.exchanged(&secret).await;
    let (status, me) = api.call(Method::GET, "/api/v2/whoami", Some(&bare), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(me["subjectKind"], "WorkspaceAccessToken");
    assert_eq!(me["workspaces"], json!(["dev"]));
    let (status, _) = api.call(Method::GET, "/api/v2/serverinfo", Some(&bare), None).await;
    assert_eq!(status, StatusCode::OK);
    let (status, body) = api.create(&bare, "dev", "other").await;
    assert_error_body(status, &body, StatusCode::FORBIDDEN);

    api.call(
        Method::POST,
        &ws_path("dev", "/pipeline/wayfinderroles"),
        Some(ADMIN),
        Some(json!({"role": "workspace.accesstokenmanager"})),
    )
    .await;
    let manager = api.exchanged(&secret).await;
    let (status, _) = api.create(&manager, "dev", "other").await;
    assert_eq!(status, StatusCode::CREATED);
    api.issue(&manager, "dev", "other").await;
    let (status, _) = api.create(&manager, "prod", "other").await;
    assert_eq!(status, StatusCode::FORBIDDEN, "only its own workspace");
    let (status, _) = api
        .call(
            Method::POST,
            &ws_path("dev", "/other/wayfinderroles"),
            Some(&manager),
            Some(json!({"role": "workspace.accesstokenmanager"})),
        )
        .await;
    assert_eq!(status, StatusCode::FORBIDDEN, "may not grant roles");
    let (status, _) = api.call(Method::GET, &platform_path(""), Some(&manager), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // A pipeline that resets itself: its current API token stops at once.
    let new_secret = api.issue(&manager, "dev", "pipeline").await;
    let (status, _) = api.call(Method::GET, &ws_path("dev", ""), Some(&manager), None).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    api.exchanged(&new_secret).await;

    // Control endpoints are the admin's.
    let (status, _) = api
        .call(
            Method::POST,
            "/emulator/faults",
            Some(&bare),
            Some(json!({"path_prefix": "/"})),
        )
        .await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "reset secret's API token");
    let (_, login) = api.login("alice", "wonderland").await;
    let alice = login["token"].as_str().unwrap();
    let (status, _) = api.call(Method::GET, "/emulator/stats", Some(alice), None).await;
    assert_eq!(status, StatusCode::FORBIDDEN);

    // A platform manager may manage everything and grant roles.
    api.call(
        Method::POST,
        &platform_path(""),
        Some(ADMIN),
        Some(json!({"metadata": {"name": "root"}})),
    )
    .await;
    api.call(
        Method::POST,
        &platform_path("/root/wayfinderroles"),
        Some(ADMIN),
        Some(json!({"role": "platform.accesstokenmanager"})),
    )
    .await;
    let (_, issued) = api
        .call(Method::POST, &platform_path("/root/token"), Some(ADMIN), None)
        .await;
    let root = api.exchanged(issued["token"].as_str().unwrap()).await;
    let (status, _) = api.create(&root, "prod", "from-platform").await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = api
        .call(
            Method::POST,
            &ws_path("prod", "/from-platform/accessroles"),
            Some(&root),
            Some(json!({"role": "cluster.viewer", "cluster": "c1"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[tokio::test]
async fn expired_access_tokens_stop_exchanging() {
    let api = Api::start().await;
    let expiry = Timestamp::now() + jiff::SignedDuration::from_secs(2);
    let body = json!({"metadata": {"name": "short"}, "spec": {"expiry": expiry.round(jiff::Unit::Second).unwrap().to_string()}});
    let (status, created) = api
        .call(Method::POST, &ws_path("dev", ""), Some(ADMIN), Some(body))
        .await;
    assert_eq!(status, StatusCode::CREATED, "{created}");
    let secret = api.issue(ADMIN, "dev", "short").await;
    let (status, exchanged) = api.exchange(&secret).await;
    assert_eq!(status, StatusCode::OK);
    let exp = claims(exchanged["token"].as_str().unwrap())["exp"].as_i64().unwrap();
    assert!(
        exp <= expiry.as_second() + 1,
        "an API token never outlives its access token"
    );
    tokio::time::sleep(Duration::from_millis(3100)).await;
    let (status, body) = api.exchange(&secret).await;
    assert_error_body(status, &body, StatusCode::UNAUTHORIZED);
    assert!(body["message"].as_str().unwrap().contains("expired"), "{body}");
}

#[tokio::test]
async fn forged_and_wrong_scope_tokens_are_refused() {
    let api = Api::start().await;
    let other = Api::start().await;
    api.create(ADMIN, "dev", "a").await;
    other.create(ADMIN, "dev", "a").await;
    let foreign = other.issue(ADMIN, "dev", "a").await;
    let (status, _) = api.exchange(&foreign).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "signed by another emulator");
    let (_, login) = api.login("alice", "wonderland").await;
    let user_token = login["token"].as_str().unwrap();
    let (status, _) = api.exchange(user_token).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "wrong scope");
    let secret = api.issue(ADMIN, "dev", "a").await;
    let mut parts: Vec<String> = secret.split('.').map(str::to_owned).collect();
    parts[2] = "AAAA".into();
    let (status, _) = api.exchange(&parts.join(".")).await;
    assert_eq!(status, StatusCode::UNAUTHORIZED, "bad signature");
}

#[tokio::test]
async fn faults_and_stats() {
    let api = Api::start().await;
    let (status, _) = api
        .call(
            Method::POST,
            "/emulator/faults",
            Some(ADMIN),
            Some(json!({"path_prefix": "/api/v2/whoami", "status": 429, "times": 2, "retry_after_s": 7})),
        )
        .await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    for _ in 0..2 {
        let resp = api
            .http
            .get(api.url("/api/v2/whoami"))
            .bearer_auth(ADMIN)
            .send()
            .await
            .unwrap();
        assert_eq!(resp.status(), StatusCode::TOO_MANY_REQUESTS);
        assert_eq!(resp.headers()["retry-after"], "7");
        let body: Value = resp.json().await.unwrap();
        assert_eq!(body["code"], 429);
    }
    let (status, _) = api.call(Method::GET, "/api/v2/whoami", Some(ADMIN), None).await;
    assert_eq!(status, StatusCode::OK, "the fault is spent");

    api.emulator
        .inject_fault(Fault {
            malformed_body: true,
            ..Fault::new("/apiinfo")
        })
        .unwrap();
    let text = api
        .http
        .get(api.url("/apiinfo"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(serde_json::from_str::<Value>(&text).is_err());

    api.emulator
        .inject_fault(Fault {
            drop_connection: true,
            ..Fault::new("/apiinfo")
        })
        .unwrap();
    let err = api.http.get(api.url("/apiinfo")).send().await.unwrap_err();
    assert!(!err.is_status(), "{err}");

    api.emulator
        .inject_fault(Fault {
            delay_ms: Some(300),
            ..Fault::new("/apiinfo")
        })
        .unwrap();
    let started = std::time::Instant::now();
    let (status, _) = api.call(Method::GET, "/apiinfo", None, None).await;
    assert_eq!(status, StatusCode::OK, "a delay alone still serves the request");
    assert!(started.elapsed() >= Duration::from_millis(300));

    api.emulator
        .inject_fault(Fault {
            status: Some(503),
            body_bytes: Some(10 * 1024 * 1024),
            ..Fault::new("/apiinfo")
        })
        .unwrap();
    let resp = api.http.get(api.url("/apiinfo")).send().await.unwrap();
    assert_eq!(resp.status(), StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(resp.bytes().await.unwrap().len(), 10 * 1024 * 1024);

    let (status, body) = api
        .call(
            Method::POST,
            "/emulator/faults",
            Some(ADMIN),
            Some(json!({"path_prefix": "x", "status": 42})),
        )
        .await;
    assert_error_body(status, &body, StatusCode::BAD_REQUEST);
    api.call(
        Method::POST,
        "/emulator/faults",
        Some(ADMIN),
        Some(json!({"path_prefix": "/", "status": 500, "times": 100})),
    )
    .await;
    let (status, _) = api.call(Method::DELETE, "/emulator/faults", Some(ADMIN), None).await;
    assert_eq!(status, StatusCode::NO_CONTENT);
    let (status, _) = api.call(Method::GET, "/apiinfo", None, None).await;
    assert_eq!(status, StatusCode::OK, "faults cleared");

    let (status, stats) = api.call(Method::GET, "/emulator/stats", Some(ADMIN), None).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(stats["requests"]["GET /api/v2/whoami"], 3);
    assert_eq!(stats["requests"]["GET /apiinfo"], 5);
    assert!(
        stats["requests"].get("GET /emulator/stats").is_none(),
        "control calls are not counted"
    );
    assert_eq!(api.emulator.stats().count("GET", "/apiinfo"), 5);
    api.call(Method::DELETE, "/emulator/stats", Some(ADMIN), None).await;
    assert_eq!(api.emulator.stats().total, 0);
}

#[tokio::test]
async fn restart_from_data_file_keeps_tokens_valid() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("emulator.db");
    let api = Api::with(Emulator::builder().data(&data)).await;
    api.create(ADMIN, "dev", "durable").await;
    let secret = api.issue(ADMIN, "dev", "durable").await;
    api.call(
        Method::POST,
        &ws_path("dev", "/durable/wayfinderroles"),
        Some(ADMIN),
        Some(json!({"role": "workspace.accesstokenmanager"})),
    )
    .await;
    let api_token = api.exchanged(&secret).await;
    let Api { emulator, .. } = api;
    emulator.shutdown().await;

    let api = Api::with(Emulator::builder().data(&data)).await;
    api.exchanged(&secret).await;
    let (status, _) = api.call(Method::GET, "/api/v2/whoami", Some(&api_token), None).await;
    assert_eq!(status, StatusCode::OK, "API tokens survive a restart too");
    let (_, roles) = api
        .call(Method::GET, &ws_path("dev", "/durable/roles"), Some(ADMIN), None)
        .await;
    assert_eq!(roles["wayfinderRoles"], json!(["workspace.accesstokenmanager"]));
    let (status, _) = api.create(ADMIN, "dev", "durable").await;
    assert_eq!(status, StatusCode::CONFLICT);
}

#[tokio::test]
async fn custom_group_version() {
    let api = Api::with(Emulator::builder().api_group_version("tokens.example.com/v1")).await;
    let (status, _) = api
        .call(
            Method::POST,
            "/resources/tokens.example.com/v1/workspaces/dev/workspaceaccesstokens",
            Some(ADMIN),
            Some(json!({"metadata": {"name": "x"}})),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    let (status, _) = api.create(ADMIN, "dev", "y").await;
    assert_eq!(status, StatusCode::NOT_FOUND);
    assert!(Emulator::builder().api_group_version("nogroup").start().await.is_err());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_creates_and_resets_lose_nothing() {
    let api = std::sync::Arc::new(Api::start().await);
    let mut tasks = Vec::new();
    for client in 0..32 {
        let api = std::sync::Arc::clone(&api);
        tasks.push(tokio::spawn(async move {
            let mut pairs = Vec::new();
            for i in 0..50 {
                let name = format!("c{client}-t{i}");
                let ws = format!("ws{}", client % 4);
                let (status, _) = api.create(ADMIN, &ws, &name).await;
                assert_eq!(status, StatusCode::CREATED);
                let first = api.issue(ADMIN, &ws, &name).await;
                let last = api.issue(ADMIN, &ws, &name).await;
                pairs.push((first, last));
            }
            pairs
        }));
    }
    let mut all = Vec::new();
    for t in tasks {
        all.extend(t.await.unwrap());
    }
    assert_eq!(all.len(), 1600);
    for (first, last) in &all {
        assert_eq!(api.exchange(last).await.0, StatusCode::OK);
        assert_eq!(api.exchange(first).await.0, StatusCode::UNAUTHORIZED);
    }
    let mut total = 0;
    for ws in 0..4 {
        let (_, list) = api
            .call(Method::GET, &ws_path(&format!("ws{ws}"), ""), Some(ADMIN), None)
            .await;
        total += list["items"].as_array().unwrap().len();
    }
    assert_eq!(total, 1600);
}

#[tokio::test]
async fn a_manager_token_cannot_take_over_a_more_privileged_sibling() {
    let api = Api::start().await;
    let grant = |name: &'static str, role: &'static str| {
        let api = &api;
        async move {
            let (status, _) = api
                .call(
                    Method::POST,
                    &ws_path("dev", &format!("/{name}/wayfinderroles")),
                    Some(ADMIN),
                    Some(json!({"role": role})),
                )
                .await;
            assert_eq!(status, StatusCode::OK, "{name} {role}");
        }
    };
    for name in ["pipeline", "admin-sibling", "peer", "plain"] {
        api.create(ADMIN, "dev", name).await;
    }
    grant("pipeline", "workspace.accesstokenmanager").await;
    grant("admin-sibling", "workspace.accesstokenmanager").await;
    grant("admin-sibling", "workspace.admin").await;
    grant("peer", "workspace.accesstokenmanager").await;
    let sibling_secret = api.issue(ADMIN, "dev", "admin-sibling").await;
    let manager = api.exchanged(&api.issue(ADMIN, "dev", "pipeline").await).await;

    let (status, body) = api
        .call(
            Method::POST,
            &ws_path("dev", "/admin-sibling/token"),
            Some(&manager),
            None,
        )
        .await;
    assert_error_body(status, &body, StatusCode::FORBIDDEN);
    assert!(body.get("token").is_none(), "no secret in the refusal");
    let (status, body) = api
        .call(Method::DELETE, &ws_path("dev", "/admin-sibling"), Some(&manager), None)
        .await;
    assert_error_body(status, &body, StatusCode::FORBIDDEN);
    api.exchanged(&sibling_secret).await;

    // Equal or smaller role sets stay manageable.
    api.issue(&manager, "dev", "peer").await;
    api.issue(&manager, "dev", "plain").await;
    let (status, _) = api
        .call(Method::DELETE, &ws_path("dev", "/plain"), Some(&manager), None)
        .await;
    assert_eq!(status, StatusCode::OK);
    let (status, _) = api
        .call(Method::DELETE, &ws_path("dev", "/missing"), Some(&manager), None)
        .await;
    assert_eq!(status, StatusCode::NOT_FOUND);
}

#[cfg(unix)]
#[tokio::test]
async fn data_file_is_created_private() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("emulator.db");
    let api = Api::with(Emulator::builder().data(&data)).await;
    api.create(ADMIN, "dev", "written").await;
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&data), 0o600, "the data file holds the signing key");
    let wal = dir.path().join("emulator.db-wal");
    if wal.exists() {
        assert_eq!(mode(&wal), 0o600);
    }
}

#[tokio::test]
async fn only_configured_workspaces_exist() {
    let api = Api::start().await;
    let (status, body) = api.create(ADMIN, "nowhere", "t").await;
    assert_error_body(status, &body, StatusCode::NOT_FOUND);
    assert!(
        body["message"]
            .as_str()
            .unwrap()
            .contains("workspace \"nowhere\" not found")
    );
    // Strangers learn nothing: authentication comes first.
    let (status, _) = api.create("not-a-token", "nowhere", "t").await;
    assert_eq!(status, StatusCode::UNAUTHORIZED);
    let (status, _) = api.create(ADMIN, "ws3", "t").await;
    assert_eq!(status, StatusCode::CREATED);
    // With none configured, a bare emulator has `dev`.
    let bare = Emulator::builder().start().await.unwrap();
    let http = reqwest::Client::new();
    for (ws, expected) in [("dev", 200), ("prod", 404)] {
        let status = http
            .get(format!("{}{}", bare.url(), ws_path(ws, "")))
            .bearer_auth(bare.admin_token())
            .send()
            .await
            .unwrap()
            .status();
        assert_eq!(status.as_u16(), expected, "{ws}");
    }
}

#[tokio::test]
async fn roles_are_known_and_assign_rules_are_checked() {
    let api = Api::with(Emulator::builder().known_role("namespace:team.ops".parse().unwrap())).await;
    api.create(ADMIN, "dev", "r").await;
    let cases = [
        ("accessroles", json!({"role": "cluster.viewer"}), "cluster", "required"),
        (
            "accessroles",
            json!({"role": "namespace.admin", "cluster": "c1"}),
            "namespace",
            "required",
        ),
        (
            "accessroles",
            json!({"role": "team.ops", "cluster": "c1"}),
            "namespace",
            "required",
        ),
        (
            "accessroles",
            json!({"role": "no.such.role", "cluster": "c1"}),
            "role",
            "mustExist",
        ),
        (
            "accessroles",
            json!({"role": "workspace.admin", "cluster": "c1"}),
            "role",
            "notAllowed",
        ),
        ("wayfinderroles", json!({"role": "cluster.admin"}), "role", "notAllowed"),
        ("wayfinderroles", json!({"role": "no.such.role"}), "role", "mustExist"),
    ];
    for (endpoint, body, field, code) in cases {
        let (status, answer) = api
            .call(
                Method::POST,
                &ws_path("dev", &format!("/r/{endpoint}")),
                Some(ADMIN),
                Some(body.clone()),
            )
            .await;
        assert_error_body(status, &answer, StatusCode::BAD_REQUEST);
        assert_eq!(answer["fieldErrors"][0]["field"], field, "{body}");
        assert_eq!(answer["fieldErrors"][0]["errCode"], code, "{body}");
    }
    let (status, roles) = api
        .call(
            Method::POST,
            &ws_path("dev", "/r/accessroles"),
            Some(ADMIN),
            Some(json!({"role": "team.ops", "cluster": "c1", "namespace": "apps"})),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{roles}");
}

#[tokio::test]
async fn a_stale_write_is_a_409_the_vendor_client_recognises() {
    let api = Api::start().await;
    let (_, created) = api.create(ADMIN, "dev", "stale").await;
    let version = created["metadata"]["resourceVersion"].clone();
    let body = json!({"metadata": {"name": "stale", "resourceVersion": version}, "spec": {"description": "x"}});
    let put = || {
        reqwest::Client::new()
            .put(format!("{}{}", api.emulator.url(), ws_path("dev", "/stale")))
            .bearer_auth(ADMIN)
            .json(&body)
            .send()
    };
    assert_eq!(put().await.unwrap().status(), StatusCode::OK);
    // The same version again is now stale.
    let response = put().await.unwrap();
    assert_eq!(response.status(), StatusCode::CONFLICT);
    assert_eq!(response.headers()["x-wayfinder-objectmodified"], "true");
    // A create of a name taken is a 409 without it.
    let (status, _) = api.create(ADMIN, "dev", "stale").await;
    assert_eq!(status, StatusCode::CONFLICT);
    let taken = reqwest::Client::new()
        .post(format!("{}{}", api.emulator.url(), ws_path("dev", "")))
        .bearer_auth(ADMIN)
        .json(&json!({"metadata": {"name": "stale"}}))
        .send()
        .await
        .unwrap();
    assert!(taken.headers().get("x-wayfinder-objectmodified").is_none());
}

/// A duplicate create is a 409 that says "already exists", with the object in
/// the way as the `dependents` the vendor's client decodes a 409 into (its
/// text is then the message followed by each dependent, so its
/// `IsAlreadyExists` sees "already exists") and the Kubernetes reason.
#[tokio::test]
async fn a_duplicate_create_says_already_exists_as_the_vendor_client_reads_it() {
    let api = Api::start().await;
    api.create(ADMIN, "dev", "twice").await;
    let (status, body) = api.create(ADMIN, "dev", "twice").await;
    assert_error_body(status, &body, StatusCode::CONFLICT);
    assert_eq!(body["message"], "workspaceaccesstoken \"twice\" already exists");
    assert_eq!(body["reason"], "AlreadyExists");
    assert_eq!(
        body["dependents"],
        json!([{"kind": "WorkspaceAccessToken", "name": "twice", "workspace": "dev", "system": false}])
    );
}
