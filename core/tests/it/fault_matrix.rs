//! Every operation against every injected fault: the right typed error or a
//! correct retry, a bounded number of attempts (from the emulator's stats),
//! no panic, and a way back to a working secret when issuing fails midway.

use std::time::Duration;

use crate::common::{ADMIN, admin, emulator, options};
use wayfinder_emulator::{Emulator, Fault};
use wayfinder_tokens::{Client, ClientOptions, CreateOptions, Error, Hint, RustSpelling};

const MAX_RETRIES: u32 = 2;
const COLLECTION: &str = "/resources/accesstokens.appvia.io/v2beta1/workspaces/dev/workspaceaccesstokens";

#[derive(Clone, Copy, Debug, PartialEq)]
enum Op {
    Create,
    Reset,
    Get,
    List,
    Delete,
    AssignAccessRole,
    AssignWayfinderRole,
    Roles,
    WhoAmI,
    Exchange,
}

impl Op {
    /// The method and path of the request the fault targets.
    fn target(self) -> (&'static str, String) {
        let token = format!("{COLLECTION}/target");
        match self {
            Op::Create => ("POST", COLLECTION.to_owned()),
            Op::Reset => ("POST", format!("{token}/token")),
            Op::Get => ("GET", token),
            Op::List => ("GET", COLLECTION.to_owned()),
            Op::Delete => ("DELETE", token),
            Op::AssignAccessRole => ("POST", format!("{token}/accessroles")),
            Op::AssignWayfinderRole => ("POST", format!("{token}/wayfinderroles")),
            Op::Roles => ("GET", format!("{token}/roles")),
            Op::WhoAmI | Op::Exchange => ("GET", "/api/v2/whoami".to_owned()),
        }
    }

    /// Whether the request may be repeated after it may have reached the server.
    fn replay_safe(self) -> bool {
        !matches!(self, Op::Create | Op::Delete)
    }

    async fn run(self, client: &Client) -> Result<(), Error> {
        let none = CreateOptions::default();
        match self {
            Op::Create => client
                .create_workspace_access_token("target", None, &none)
                .await
                .map(drop),
            Op::Reset => client.reset_workspace_access_token("target", None).await.map(drop),
            Op::Get => client.get_workspace_access_token("target", None).await.map(drop),
            Op::List => client.list_workspace_access_tokens(None).await.map(drop),
            Op::Delete => client.delete_workspace_access_token("target", None).await.map(drop),
            Op::AssignAccessRole => client
                .assign_access_role("target", "cluster.viewer", Some("c1"), None, None)
                .await
                .map(drop),
            Op::AssignWayfinderRole => client
                .assign_wayfinder_role("target", "workspace.viewer", None)
                .await
                .map(drop),
            Op::Roles => client.get_workspace_access_token_roles("target", None).await.map(drop),
            Op::WhoAmI | Op::Exchange => client.whoami().await.map(drop),
        }
    }
}

#[derive(Clone, Copy, Debug)]
enum Kind {
    RateLimitedWithRetryAfter,
    RateLimitedWithout,
    RateLimitedForGood,
    Unavailable,
    Dropped,
    Slow,
    Malformed,
    Huge,
}

impl Kind {
    fn fault(self, prefix: &str) -> Fault {
        let base = Fault::new(prefix);
        match self {
            Kind::RateLimitedWithRetryAfter => Fault {
                status: Some(429),
                retry_after_s: Some(1),
                ..base
            },
            Kind::RateLimitedWithout => Fault {
                status: Some(429),
                ..base
            },
            Kind::RateLimitedForGood => Fault {
                status: Some(429),
                retry_after_s: Some(0),
                times: 100,
                ..base
            },
            Kind::Unavailable => Fault {
                status: Some(503),
                ..base
            },
            Kind::Dropped => Fault {
                drop_connection: true,
                ..base
            },
            Kind::Slow => Fault {
                delay_ms: Some(1500),
                ..base
            },
            Kind::Malformed => Fault {
                malformed_body: true,
                ..base
            },
            Kind::Huge => Fault {
                status: Some(500),
                body_bytes: Some(10 * 1024 * 1024),
                ..base
            },
        }
    }

    /// The expected outcome: `None` for success, else the error code; and the attempts.
    fn expect(self, op: Op) -> (Option<&'static str>, u64) {
        let all = u64::from(MAX_RETRIES) + 1;
        match self {
            Kind::RateLimitedWithRetryAfter | Kind::RateLimitedWithout | Kind::Unavailable => (None, 2),
            Kind::RateLimitedForGood => (Some("RATE_LIMITED"), all),
            Kind::Dropped if op.replay_safe() => (None, 2),
            Kind::Dropped => (Some("TRANSPORT"), 1),
            Kind::Slow => (Some("TIMEOUT"), 1),
            Kind::Malformed | Kind::Huge => (Some("SERVER"), 1),
        }
    }
}

const OPS: [Op; 10] = [
    Op::Create,
    Op::Reset,
    Op::Get,
    Op::List,
    Op::Delete,
    Op::AssignAccessRole,
    Op::AssignWayfinderRole,
    Op::Roles,
    Op::WhoAmI,
    Op::Exchange,
];
const KINDS: [Kind; 8] = [
    Kind::RateLimitedWithRetryAfter,
    Kind::RateLimitedWithout,
    Kind::RateLimitedForGood,
    Kind::Unavailable,
    Kind::Dropped,
    Kind::Slow,
    Kind::Malformed,
    Kind::Huge,
];

async fn client_for(emu: &Emulator, op: Op) -> Client {
    let admin_client = admin(emu);
    if op != Op::Create {
        admin_client
            .create_workspace_access_token("target", None, &CreateOptions::default())
            .await
            .unwrap();
    }
    let token = if op == Op::Exchange {
        // A pipeline's own access token: the exchange is part of the call.
        let issued = admin_client
            .create_workspace_access_token("pipeline", None, &CreateOptions::default())
            .await
            .unwrap();
        issued.token.unwrap().expose().to_owned()
    } else {
        ADMIN.to_owned()
    };
    let client = Client::new(&ClientOptions {
        max_retries: Some(MAX_RETRIES),
        timeout: Some(Duration::from_millis(500)),
        ..options(emu, &token)
    })
    .unwrap();
    if op != Op::Exchange {
        client.api_info().await.unwrap();
    }
    client
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_operation_against_every_fault() {
    let mut figures = Vec::new();
    for op in OPS {
        for kind in KINDS {
            let emu = emulator().await;
            let client = client_for(&emu, op).await;
            let (method, path) = if op == Op::Exchange {
                ("POST", "/api/v2/exchange".to_owned())
            } else {
                op.target()
            };
            emu.reset_stats();
            emu.inject_fault(kind.fault(&path)).unwrap();
            let outcome = op.run(&client).await;
            let attempts = emu.stats().count(method, &path);
            let (expected, expected_attempts) = kind.expect(op);
            assert_eq!(
                outcome.as_ref().err().map(Error::code),
                expected,
                "{op:?} under {kind:?}: {outcome:?}"
            );
            assert_eq!(attempts, expected_attempts, "{op:?} under {kind:?}: attempts");
            figures.push(format!("{op:?}/{kind:?}: {attempts} attempt(s)"));
            emu.shutdown().await;
        }
    }
    println!("{} operation × fault cases:\n{}", figures.len(), figures.join("\n"));
}

#[tokio::test]
async fn a_secret_lost_midway_is_recovered_by_a_reset() {
    let emu = emulator().await;
    let client = admin(&emu);
    // The create lands, then every attempt to issue the secret fails.
    emu.inject_fault(Fault {
        drop_connection: true,
        times: 100,
        ..Fault::new(format!("{COLLECTION}/midway/token"))
    })
    .unwrap();
    let err = client
        .create_workspace_access_token("midway", None, &CreateOptions::default())
        .await
        .unwrap_err();
    assert_eq!(err.code(), "TRANSPORT");
    assert!(matches!(err.hint(), Some(Hint::SecretNotIssued { name, .. }) if name == "midway"));
    assert!(
        err.describe(&RustSpelling)
            .contains("reset_workspace_access_token(\"midway\", workspace)"),
        "{err}"
    );
    assert_eq!(
        emu.stats().count("POST", &format!("{COLLECTION}/midway/token")),
        u64::from(wayfinder_tokens::settings::DEFAULT_MAX_RETRIES) + 1
    );
    emu.clear_faults();
    let recovered = client.reset_workspace_access_token("midway", None).await.unwrap();
    let pipeline = Client::new(&options(&emu, recovered.token.unwrap().expose())).unwrap();
    pipeline.whoami().await.unwrap();
}
