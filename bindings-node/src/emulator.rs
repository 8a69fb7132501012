//! `Emulator`: the embedded Wayfinder emulator, for users' own tests.

use std::path::PathBuf;
use std::sync::Mutex;

use napi::bindgen_prelude::*;
use wayfinder_emulator::catalog::KnownRole;
use wayfinder_emulator::{Emulator as CoreEmulator, EmulatorBuilder, Fault, LocalUser, cli};
use wayfinder_tokens::{Error as CoreError, Field, FieldError};

use crate::call::{Failure, js_error, spawn, sync};
use crate::types::EmulatorStats;

/// Options for `Emulator.start`.
#[napi(object, object_to_js = false)]
pub struct EmulatorOptions {
    /// The admin's static token (generated if not given).
    pub admin_token: Option<String>,
    /// Local users, like `"alice:secret@dev,prod"`.
    pub users: Option<Vec<String>>,
    /// Keep state in this SQLite file, so a restart keeps every token.
    pub data: Option<String>,
    /// The group/version the access-token kinds are served under.
    pub api_group_version: Option<String>,
    /// Workspaces that exist besides those the users name (with none at all, only `dev`).
    pub workspaces: Option<Vec<String>>,
    /// Roles the server knows besides the built-in ones, as `"SCOPE:NAME"`
    /// (scope `wayfinder`, `cluster` or `namespace`).
    pub known_roles: Option<Vec<String>>,
}

/// Makes the next `times` requests whose path starts with `pathPrefix` misbehave.
#[napi(object, object_to_js = false)]
pub struct FaultOptions {
    /// The fault applies to requests whose path starts with this.
    pub path_prefix: String,
    /// Answer with this HTTP status instead.
    pub status: Option<u16>,
    /// How many matching requests the fault applies to (default: 1).
    pub times: Option<u32>,
    /// Send `Retry-After` with this many seconds.
    pub retry_after_s: Option<u32>,
    /// Wait this long before answering.
    pub delay_ms: Option<u32>,
    /// Close the connection without an answer.
    pub drop_connection: Option<bool>,
    /// Handle the request, then drop the connection unanswered (the answer is lost).
    pub drop_answer: Option<bool>,
    /// Answer with a body that is not valid JSON.
    pub malformed_body: Option<bool>,
    /// Answer with a body of this many bytes.
    pub body_bytes: Option<u32>,
    /// Answer with exactly this body.
    pub body: Option<String>,
}

fn launch(env: &Env, builder: EmulatorBuilder, trust_out: Option<PathBuf>) -> Result<PromiseRaw<'_, Emulator>> {
    let start = async move {
        let emulator = builder
            .start()
            .await
            .map_err(|e| CoreError::invalid(Field::named("emulator"), "invalidValue", format!("cannot start: {e}")))?;
        cli::write_trust(&emulator, trust_out.as_deref()).map_err(|e| raw("args", e.to_string()))?;
        Ok(emulator)
    };
    spawn(env, None, start, |emulator: CoreEmulator| Emulator {
        first_line: cli::first_line(&emulator),
        url: emulator.url().to_owned(),
        admin_token: emulator.admin_token().to_owned(),
        running: Mutex::new(Some(emulator)),
    })
}

/// What the emulator command prints and exits with instead of serving.
#[napi(object, object_from_js = false)]
pub struct EmulatorUsage {
    /// 0 for `--help` and `--version` (printed on stdout), 2 for bad flags (stderr).
    pub code: i32,
    /// The help or error text to print.
    pub text: String,
}

/// A running emulator of the Wayfinder API on loopback.
#[napi]
pub struct Emulator {
    first_line: String,
    url: String,
    admin_token: String,
    running: Mutex<Option<CoreEmulator>>,
}

/// A validation error whose sentence is `sentence` as it stands (a usage
/// text, the emulator's own words).
fn raw(field: &str, sentence: impl Into<String>) -> CoreError {
    CoreError::from_field_errors(vec![FieldError::new(Field::named(field), "invalidValue", sentence)])
}

fn not_running() -> CoreError {
    CoreError::invalid(Field::named("emulator"), "invalidValue", "is stopped")
}

impl Emulator {
    fn with_running<T>(&self, f: impl FnOnce(&CoreEmulator) -> T) -> wayfinder_tokens::Result<T> {
        let guard = self.running.lock().unwrap_or_else(|e| e.into_inner());
        guard.as_ref().map(f).ok_or_else(not_running)
    }
}

#[napi]
impl Emulator {
    /// Starts an emulator on 127.0.0.1 and a free port.
    #[napi]
    pub fn start<'env>(env: &'env Env, options: Option<EmulatorOptions>) -> Result<PromiseRaw<'env, Emulator>> {
        let mut builder = CoreEmulator::builder();
        let options = options.unwrap_or(EmulatorOptions {
            admin_token: None,
            users: None,
            data: None,
            api_group_version: None,
            workspaces: None,
            known_roles: None,
        });
        for workspace in options.workspaces.unwrap_or_default() {
            builder = builder.workspace(workspace);
        }
        for spec in options.known_roles.unwrap_or_default() {
            let role: KnownRole = sync(
                env,
                spec.parse().map_err(|e| {
                    CoreError::invalid(
                        Field::named("knownRoles"),
                        "invalidValue",
                        format!("entry is invalid: {e}"),
                    )
                }),
            )?;
            builder = builder.known_role(role);
        }
        for spec in options.users.unwrap_or_default() {
            let user: LocalUser = sync(
                env,
                spec.parse().map_err(|e| {
                    CoreError::invalid(Field::named("users"), "invalidValue", format!("entry is invalid: {e}"))
                }),
            )?;
            builder = builder.user(user);
        }
        if let Some(token) = options.admin_token {
            builder = builder.admin_token(token);
        }
        if let Some(data) = options.data {
            builder = builder.data(data);
        }
        if let Some(gv) = options.api_group_version {
            builder = builder.api_group_version(gv);
        }
        launch(env, builder, None)
    }

    /// Starts an emulator from the command line's flags (`--listen`,
    /// `--user`, `--data`…), as `npx wayfinder-tokens emulator` does. Check
    /// them first with `Emulator.usage`.
    #[napi]
    pub fn from_args<'env>(env: &'env Env, args: Vec<String>) -> Result<PromiseRaw<'env, Emulator>> {
        let (builder, trust_out) = cli::parse_as(NPX_PROGRAM, args)
            .map_err(|usage| js_error(env, Failure::Core(raw("args", usage.text.trim_end()))))?;
        launch(env, builder, trust_out)
    }

    /// Checks the emulator command's flags: `null` when they ask to serve,
    /// else the help, version or usage error to print and the exit code.
    #[napi]
    pub fn usage(args: Vec<String>) -> Option<EmulatorUsage> {
        cli::parse_as(NPX_PROGRAM, args).err().map(|usage| EmulatorUsage {
            code: usage.code,
            text: usage.text,
        })
    }

    /// `listening on URL admin-token=TOKEN`: the command's first line.
    #[napi(getter)]
    pub fn first_line(&self) -> String {
        self.first_line.clone()
    }

    /// The base URL, e.g. `http://127.0.0.1:41234`.
    #[napi(getter)]
    pub fn url(&self) -> String {
        self.url.clone()
    }

    /// The admin's static token.
    #[napi(getter)]
    pub fn admin_token(&self) -> String {
        self.admin_token.clone()
    }

    /// Makes the next `times` requests under `pathPrefix` misbehave (status, delay, dropped connection, lost answer, odd body).
    #[napi]
    pub fn inject_fault(&self, env: &Env, fault: FaultOptions) -> Result<()> {
        let fault = Fault {
            path_prefix: fault.path_prefix,
            status: fault.status,
            times: fault.times.unwrap_or(1),
            retry_after_s: fault.retry_after_s.map(u64::from),
            delay_ms: fault.delay_ms.map(u64::from),
            drop_connection: fault.drop_connection.unwrap_or(false),
            drop_answer: fault.drop_answer.unwrap_or(false),
            malformed_body: fault.malformed_body.unwrap_or(false),
            body_bytes: fault.body_bytes.map(|b| b as usize),
            body: fault.body,
        };
        let result = self
            .with_running(|e| e.inject_fault(fault))
            .and_then(|r| r.map_err(|m| raw("fault", m)));
        sync(env, result)
    }

    /// Removes every injected fault.
    #[napi]
    pub fn clear_faults(&self, env: &Env) -> Result<()> {
        sync(env, self.with_running(CoreEmulator::clear_faults))
    }

    /// Requests served so far, by `"METHOD /path"`.
    #[napi]
    pub fn stats(&self, env: &Env) -> Result<EmulatorStats> {
        let snapshot = sync(env, self.with_running(CoreEmulator::stats))?;
        Ok(EmulatorStats {
            requests: snapshot.requests.into_iter().map(|(k, v)| (k, v as i64)).collect(),
            total: snapshot.total as i64,
        })
    }

    /// Forgets the requests counted so far.
    #[napi]
    pub fn reset_stats(&self, env: &Env) -> Result<()> {
        sync(env, self.with_running(CoreEmulator::reset_stats))
    }

    /// Stops the server (idempotent).
    #[napi]
    pub fn stop<'env>(&self, env: &'env Env) -> Result<PromiseRaw<'env, ()>> {
        let running = self.running.lock().unwrap_or_else(|e| e.into_inner()).take();
        let stop = async move {
            if let Some(emulator) = running {
                emulator.shutdown().await;
            }
            Ok(())
        };
        spawn(env, None, stop, |()| ())
    }
}

/// How the npm package runs the emulator command.
const NPX_PROGRAM: &str = "wayfinder-tokens emulator";
