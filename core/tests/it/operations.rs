//! Every operation against the emulator, for workspace and platform tokens.

use std::time::Duration;

use crate::common::{ADMIN, admin, alice_refresh_token, described, emulator, options, with};
use wayfinder_emulator::ROLE_WORKSPACE_MANAGER;
use wayfinder_tokens::auth::read_claims;
use wayfinder_tokens::{ClientOptions, CreateOptions, Error, ErrorKind, RustSpelling, Secret};

#[tokio::test]
async fn workspace_token_lifecycle() {
    let emu = emulator().await;
    let client = admin(&emu);
    let issued = client
        .create_workspace_access_token("ci-deploy", None, &described("My deployment token"))
        .await
        .unwrap();
    assert_eq!(issued.name, "ci-deploy");
    assert_eq!(issued.workspace.as_deref(), Some("dev"));
    assert_eq!(issued.server, emu.url());
    assert_eq!(issued.description.as_deref(), Some("My deployment token"));
    assert_eq!(issued.resource.workspace(), Some("dev"));
    let secret = issued.token.clone().unwrap();
    assert!(
        read_claims(secret.expose())
            .unwrap()
            .has_scope("wayfinder:auth:exchange")
    );

    // The secret works: a client built from it exchanges it and calls the API.
    let pipeline = with(options(&emu, secret.expose()));
    let me = pipeline.whoami().await.unwrap();
    assert_eq!(me.subject_kind, "WorkspaceAccessToken");
    assert_eq!(me.workspaces, vec!["dev"]);

    let got = client.get_workspace_access_token("ci-deploy", None).await.unwrap();
    assert_eq!(got.description(), Some("My deployment token"));
    assert_eq!(got.generation(), 1);
    let listed = client.list_workspace_access_tokens(Some("dev")).await.unwrap();
    assert_eq!(listed.iter().map(|t| t.name()).collect::<Vec<_>>(), vec!["ci-deploy"]);
    assert!(
        client
            .list_workspace_access_tokens(Some("prod"))
            .await
            .unwrap()
            .is_empty()
    );

    let roles = client
        .assign_access_role("ci-deploy", "cluster.deployer", Some("c1"), Some("apps"), None)
        .await
        .unwrap();
    assert_eq!(roles.access_roles[0].role, "cluster.deployer");
    assert_eq!(roles.access_roles[0].cluster.as_deref(), Some("c1"));
    let roles = client
        .assign_wayfinder_role("ci-deploy", ROLE_WORKSPACE_MANAGER, None)
        .await
        .unwrap();
    assert_eq!(roles.wayfinder_roles, vec![ROLE_WORKSPACE_MANAGER]);
    assert_eq!(roles.access_roles.len(), 1);

    // Reset: a new secret, the old one refused, roles kept.
    let reset = client.reset_workspace_access_token("ci-deploy", None).await.unwrap();
    let new_secret = reset.token.clone().unwrap();
    assert_ne!(new_secret, secret);
    let stale = with(options(&emu, secret.expose()));
    assert_eq!(stale.whoami().await.unwrap_err().kind(), ErrorKind::Unauthenticated);
    let roles = client
        .get_workspace_access_token_roles("ci-deploy", None)
        .await
        .unwrap();
    assert_eq!(roles.wayfinder_roles, vec![ROLE_WORKSPACE_MANAGER]);

    // create with reset_token on an existing name is a reset.
    let again = client
        .create_workspace_access_token(
            "ci-deploy",
            None,
            &CreateOptions {
                reset_token: true,
                ..CreateOptions::default()
            },
        )
        .await
        .unwrap();
    assert_eq!(again.description.as_deref(), Some("My deployment token"));
    assert_eq!(
        with(options(&emu, new_secret.expose()))
            .whoami()
            .await
            .unwrap_err()
            .kind(),
        ErrorKind::Unauthenticated
    );

    let deleted = client.delete_workspace_access_token("ci-deploy", None).await.unwrap();
    assert_eq!(deleted.name(), "ci-deploy");
    let current = with(options(&emu, again.token.as_ref().unwrap().expose()));
    assert_eq!(current.whoami().await.unwrap_err().kind(), ErrorKind::Unauthenticated);
    let missing = client.get_workspace_access_token("ci-deploy", None).await.unwrap_err();
    assert_eq!((missing.kind(), missing.status()), (ErrorKind::NotFound, Some(404)));
}

#[tokio::test]
async fn duplicate_create_is_already_exists_with_a_hint() {
    let emu = emulator().await;
    let client = admin(&emu);
    client
        .create_workspace_access_token("dup", None, &CreateOptions::default())
        .await
        .unwrap();
    let err = client
        .create_workspace_access_token("dup", None, &CreateOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "ALREADY_EXISTS");
    assert_eq!(err.status(), Some(409));
    assert!(err.to_string().contains("reset_token"), "{err}");
}

#[tokio::test]
async fn dry_run_creates_nothing_and_has_no_secret() {
    let emu = emulator().await;
    let client = admin(&emu);
    let dry = CreateOptions {
        dry_run: true,
        description: Some("d".into()),
        expires_in: Some(Duration::from_secs(86400)),
        ..CreateOptions::default()
    };
    let issued = client.create_workspace_access_token("dry", None, &dry).await.unwrap();
    assert!(issued.token.is_none());
    assert!(issued.is_dry_run());
    assert_eq!(issued.resource.name(), "dry");
    assert!(issued.resource.expiry().is_some());
    assert!(client.list_workspace_access_tokens(None).await.unwrap().is_empty());
    assert_eq!(emu.stats().count_suffix("POST", "/dry/token"), 0);
}

#[tokio::test]
async fn expiry_is_sent_and_reported_back() {
    let emu = emulator().await;
    let client = admin(&emu);
    let issued = client
        .create_workspace_access_token(
            "short",
            None,
            &CreateOptions {
                expires_in: Some(Duration::from_secs(3600)),
                ..CreateOptions::default()
            },
        )
        .await
        .unwrap();
    let expiry: jiff::Timestamp = issued.resource.expiry().unwrap().parse().unwrap();
    let from_now = expiry.as_second() - jiff::Timestamp::now().as_second();
    assert!((3590..=3610).contains(&from_now), "{from_now}");
    assert_eq!(issued.expires, Some(expiry.as_second()));
}

#[tokio::test]
async fn platform_token_lifecycle() {
    let emu = emulator().await;
    let client = admin(&emu);
    let issued = client
        .create_platform_access_token("platform-ci", &described("p"))
        .await
        .unwrap();
    assert_eq!(issued.workspace, None);
    assert_eq!(issued.resource.workspace(), None);
    let roles = client
        .assign_platform_wayfinder_role("platform-ci", "platform.accesstokenmanager")
        .await
        .unwrap();
    assert_eq!(roles.wayfinder_roles.len(), 1);
    client
        .assign_platform_access_role("platform-ci", "cluster.viewer", Some("c1"), None)
        .await
        .unwrap();
    assert_eq!(
        client
            .get_platform_access_token_roles("platform-ci")
            .await
            .unwrap()
            .access_roles
            .len(),
        1
    );

    // A platform manager token can manage workspace tokens anywhere.
    let platform = with(ClientOptions {
        workspace: Some("prod".into()),
        ..options(&emu, issued.token.as_ref().unwrap().expose())
    });
    platform
        .create_workspace_access_token("made-by-platform", None, &CreateOptions::default())
        .await
        .unwrap();

    let reset = client.reset_platform_access_token("platform-ci").await.unwrap();
    assert_ne!(reset.token, issued.token);
    assert_eq!(
        client
            .get_platform_access_token("platform-ci")
            .await
            .unwrap()
            .generation(),
        2
    );
    assert_eq!(client.list_platform_access_tokens().await.unwrap().len(), 1);
    client.delete_platform_access_token("platform-ci").await.unwrap();
    assert!(client.list_platform_access_tokens().await.unwrap().is_empty());
}

#[tokio::test]
async fn users_log_in_with_refresh_tokens() {
    let emu = emulator().await;
    let refresh = alice_refresh_token(&emu).await;
    let alice = with(options(&emu, &refresh));
    assert_eq!(alice.whoami().await.unwrap().username, "alice");
    let err = alice
        .create_workspace_access_token("x", Some("ops"), &CreateOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "PERMISSION_DENIED");
    assert_eq!(err.status(), Some(403));
    alice
        .create_workspace_access_token("mine", Some("prod"), &CreateOptions::default())
        .await
        .unwrap();
    assert_eq!(emu.stats().count("POST", "/api/v2/login/token"), 1);
}

#[tokio::test]
async fn exchange_is_shared_and_cached() {
    let emu = emulator().await;
    let secret = admin(&emu)
        .create_workspace_access_token("pipeline", None, &CreateOptions::default())
        .await
        .unwrap()
        .token
        .unwrap();
    let pipeline = with(options(&emu, secret.expose()));
    let calls: Vec<_> = (0..20).map(|_| pipeline.whoami()).collect();
    for result in futures::future::join_all(calls).await {
        assert_eq!(result.unwrap().subject_kind, "WorkspaceAccessToken");
    }
    pipeline.whoami().await.unwrap();
    assert_eq!(
        emu.stats().count("POST", "/api/v2/exchange"),
        1,
        "one exchange for 21 calls"
    );
    assert_eq!(emu.stats().count("GET", "/api/v2/whoami"), 21);
}

#[tokio::test]
async fn a_refused_api_token_is_renewed_once() {
    let emu = emulator().await;
    let admin_client = admin(&emu);
    let secret = admin_client
        .create_workspace_access_token("pipeline", None, &CreateOptions::default())
        .await
        .unwrap()
        .token
        .unwrap();
    let pipeline = with(options(&emu, secret.expose()));
    pipeline.whoami().await.unwrap();
    // Resetting the token invalidates both the secret and its API token: the
    // client renews once, and the exchange's 401 explains what happened.
    admin_client
        .reset_workspace_access_token("pipeline", None)
        .await
        .unwrap();
    let err = pipeline.whoami().await.unwrap_err();
    assert_eq!(err.code(), "UNAUTHENTICATED");
    assert!(err.to_string().contains("reset, deleted or has expired"), "{err}");
    assert_eq!(emu.stats().count("POST", "/api/v2/exchange"), 2);
}

#[tokio::test]
async fn legacy_servers_without_apiinfo_use_v1alpha1() {
    let emu = emulator().await;
    emu.inject_fault(wayfinder_emulator::Fault {
        status: Some(404),
        ..wayfinder_emulator::Fault::new("/apiinfo")
    })
    .unwrap();
    // A pre-2.4 server answers under its legacy API (here 401 without credentials).
    emu.inject_fault(wayfinder_emulator::Fault {
        status: Some(401),
        ..wayfinder_emulator::Fault::new("/api/v1alpha1/serverinfo")
    })
    .unwrap();
    let err = admin(&emu).whoami().await.unwrap_err();
    assert_eq!(err.code(), "NOT_FOUND");
    assert_eq!(emu.stats().count("GET", "/api/v1alpha1/whoami"), 1);
}

#[tokio::test]
async fn a_url_with_no_wayfinder_api_is_a_configuration_error_naming_it() {
    let emu = emulator().await;
    emu.inject_fault(wayfinder_emulator::Fault {
        status: Some(404),
        body: Some(
            r#"{"kind":"Status","code":404,"message":"the server could not find the requested resource"}"#.into(),
        ),
        times: 10,
        ..wayfinder_emulator::Fault::new("/")
    })
    .unwrap();
    let err = admin(&emu)
        .create_workspace_access_token("ci", None, &CreateOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "CONFIG", "{err}");
    let text = err.to_string();
    assert!(
        text.contains("no Wayfinder API at") && text.contains(emu.url()),
        "{text}"
    );
}

#[tokio::test]
async fn custom_group_version() {
    let emu = wayfinder_emulator::Emulator::builder()
        .admin_token(ADMIN)
        .api_group_version("tokens.example.com/v9")
        .start()
        .await
        .unwrap();
    let default_client = admin(&emu);
    assert_eq!(
        default_client
            .list_workspace_access_tokens(None)
            .await
            .unwrap_err()
            .code(),
        "NOT_FOUND"
    );
    let client = with(ClientOptions {
        api_group_version: Some("tokens.example.com/v9".into()),
        ..options(&emu, ADMIN)
    });
    client
        .create_workspace_access_token("x", None, &CreateOptions::default())
        .await
        .unwrap();
}

#[tokio::test]
async fn bad_input_never_reaches_the_network() {
    let emu = emulator().await;
    let client = admin(&emu);
    let cases: Vec<(Error, &str)> = vec![
        (
            client
                .create_workspace_access_token("Bad_Name", None, &CreateOptions::default())
                .await
                .unwrap_err(),
            "name",
        ),
        (
            client
                .create_workspace_access_token("ok", Some("Nope"), &CreateOptions::default())
                .await
                .unwrap_err(),
            "workspace",
        ),
        (
            client
                .create_workspace_access_token("ok", None, &described(&"x".repeat(513)))
                .await
                .unwrap_err(),
            "description",
        ),
        (
            client
                .create_workspace_access_token(
                    "ok",
                    None,
                    &CreateOptions {
                        expires_in: Some(Duration::ZERO),
                        ..CreateOptions::default()
                    },
                )
                .await
                .unwrap_err(),
            "expires_in",
        ),
        (
            client
                .assign_access_role("ok", "Bad Role", None, None, None)
                .await
                .unwrap_err(),
            "role",
        ),
        (
            client
                .assign_access_role("ok", "r", Some("Bad"), None, None)
                .await
                .unwrap_err(),
            "cluster",
        ),
        (
            client.assign_wayfinder_role("-x", "r", None).await.unwrap_err(),
            "token",
        ),
        (client.delete_platform_access_token("").await.unwrap_err(), "name"),
    ];
    for (err, field) in cases {
        assert_eq!(err.code(), "VALIDATION", "{err}");
        assert_eq!(err.status(), None);
        assert_eq!(err.field_errors()[0].field, field, "{err}");
    }
    let no_ws = with(ClientOptions {
        workspace: None,
        ..options(&emu, ADMIN)
    });
    let err = no_ws.list_workspace_access_tokens(None).await.unwrap_err();
    assert_eq!(err.field_errors()[0].field, "workspace");
    assert_eq!(emu.stats().total, 0, "nothing was sent");
}

#[tokio::test]
async fn server_validation_errors_carry_field_errors() {
    let emu = emulator().await;
    let client = admin(&emu);
    let request = wayfinder_tokens::ApiRequest::new(
        reqwest::Method::POST,
        "/resources/accesstokens.appvia.io/v2beta1/workspaces/dev/workspaceaccesstokens",
    )
    .body(serde_json::json!({"metadata": {"name": "UPPER"}}));
    let err = client.send(&request).await.unwrap_err();
    assert_eq!(err.code(), "VALIDATION");
    assert_eq!(err.status(), Some(400));
    assert_eq!(err.field_errors()[0].field, "metadata.name");
}

#[tokio::test]
async fn unknown_credentials_are_authentication_errors() {
    let emu = emulator().await;
    let client = with(options(&emu, "wrong-token"));
    let err = client.list_workspace_access_tokens(None).await.unwrap_err();
    assert_eq!(err.code(), "UNAUTHENTICATED");
    assert_eq!(err.status(), Some(401));
}

#[tokio::test]
async fn many_concurrent_creates_through_one_client() {
    let emu = emulator().await;
    let client = admin(&emu);
    let creates: Vec<_> = (0..200)
        .map(|i| {
            let client = client.clone();
            async move {
                client
                    .create_workspace_access_token(
                        &format!("t{i}"),
                        Some(&format!("ws{}", i % 5)),
                        &CreateOptions::default(),
                    )
                    .await
            }
        })
        .collect();
    let issued: Vec<_> = futures::future::join_all(creates)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let unique: std::collections::HashSet<_> = issued
        .iter()
        .map(|i| i.token.as_ref().unwrap().expose().to_owned())
        .collect();
    assert_eq!(unique.len(), 200);
    assert_eq!(
        emu.stats().count("GET", "/apiinfo"),
        1,
        "discovery happens once per client"
    );
}

#[test]
fn secrets_are_redacted_in_debug() {
    let issued = wayfinder_tokens::IssuedToken {
        name: "n".into(),
        workspace: None,
        server: "s".into(),
        description: None,
        token: Some(Secret::new("canary-secret-debug")),
        expires: None,
        resource: Default::default(),
    };
    assert!(!format!("{issued:?}").contains("canary-secret-debug"));
    let options = ClientOptions {
        token: Some(Secret::new("canary-secret-debug")),
        ..ClientOptions::default()
    };
    assert!(!format!("{options:?}").contains("canary-secret-debug"));
}

#[tokio::test]
async fn a_refusal_says_where_the_credentials_came_from() {
    let emu = emulator().await;
    let err = with(options(&emu, "not-a-working-token")).whoami().await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Unauthenticated);
    assert!(
        err.describe(&RustSpelling)
            .contains("The credentials came from the token argument"),
        "{err}"
    );
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("config");
    let mut config = wayfinder_tokens::config::Config::default();
    config.set_profile(
        "stale",
        emu.url(),
        &Secret::new("not-a-working-token"),
        Some("dev"),
        true,
    );
    wayfinder_tokens::config::replace(&path, wayfinder_tokens::config::DEFAULT_LOCK_TIMEOUT, &config).unwrap();
    let from_file = with(ClientOptions {
        config_path: Some(path.clone()),
        ..ClientOptions::default()
    });
    let text = from_file.whoami().await.unwrap_err().describe(&RustSpelling);
    assert!(
        text.contains(&format!("profile \"stale\" of {}", path.display())),
        "{text}"
    );
    assert!(text.contains("the profile argument"), "{text}");
}
