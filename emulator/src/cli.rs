//! The emulator's command line, shared by the `wayfinder-emulator` binary,
//! `python -m wayfinder_tokens.testing` and `npx wayfinder-tokens emulator`:
//! the same flags, the same first line, the same way to stop.

use std::io::Write;
use std::net::SocketAddr;
use std::path::PathBuf;

use clap::Parser;

use crate::catalog::KnownRole;
use crate::{DEFAULT_API_GROUP_VERSION, Emulator, EmulatorBuilder, LocalUser, TlsMode};

/// A local emulator of the Wayfinder access-token API, for tests.
///
/// Prints `listening on http://HOST:PORT admin-token=T` as its first line,
/// then one line per request on stderr. Ctrl-C or SIGTERM stops it.
#[derive(Debug, Parser)]
#[command(name = "wayfinder-emulator", version)]
struct Args {
    /// Address to listen on (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    listen: SocketAddr,
    /// SQLite file to keep state in (WAL); in memory if not given.
    #[arg(long)]
    data: Option<PathBuf>,
    /// The admin's static token (generated if not given).
    #[arg(long, env = "WAYFINDER_EMULATOR_ADMIN_TOKEN", hide_env_values = true)]
    admin_token: Option<String>,
    /// A local user, NAME:PASSWORD@ws1,ws2 (repeatable); their workspaces exist too.
    #[arg(long = "user", value_name = "NAME:PASSWORD@WS,...")]
    users: Vec<LocalUser>,
    /// A workspace that exists (repeatable); with none here or in --user, only `dev` exists.
    #[arg(long = "workspace", value_name = "NAME")]
    workspaces: Vec<String>,
    /// A role the server knows besides the built-in ones, SCOPE:NAME with scope
    /// wayfinder, cluster or namespace (repeatable).
    #[arg(long = "known-role", value_name = "SCOPE:NAME")]
    known_roles: Vec<KnownRole>,
    /// Group/version of the access-token kinds.
    #[arg(long, value_name = "G/V", default_value = DEFAULT_API_GROUP_VERSION)]
    api_group_version: String,
    /// Serve HTTPS with a generated CA and a server certificate for localhost,
    /// 127.0.0.1 and ::1 signed by it
    #[arg(long, conflicts_with_all = ["tls_self_signed", "tls_cert"])]
    tls: bool,
    /// Serve HTTPS with one self-signed certificate that is also a CA (as the wf CLI pins)
    #[arg(long, conflicts_with = "tls_cert")]
    tls_self_signed: bool,
    /// Serve HTTPS with this PEM certificate chain (needs --tls-key)
    #[arg(long, value_name = "PATH", requires = "tls_key")]
    tls_cert: Option<PathBuf>,
    /// The PEM private key of --tls-cert
    #[arg(long, value_name = "PATH", requires = "tls_cert")]
    tls_key: Option<PathBuf>,
    /// Write the certificate clients should trust (PEM) to this file
    #[arg(long, value_name = "PATH")]
    tls_ca_out: Option<PathBuf>,
    /// Do not log requests on stderr.
    #[arg(long)]
    quiet: bool,
}

/// The first line the emulator prints: where it listens and the admin token.
pub fn first_line(emulator: &Emulator) -> String {
    format!("listening on {} admin-token={}", emulator.url(), emulator.admin_token())
}

/// What the command line asks for when it does not ask to serve: help or
/// the version (exit code 0, printed on stdout) or a usage error (exit
/// code 2, printed on stderr).
#[derive(Debug)]
pub struct Usage {
    /// The process exit code.
    pub code: i32,
    /// The text to print.
    pub text: String,
}

/// Parses the emulator's flags (`args` without the program name) into a
/// configured builder, and where to write the certificate clients should
/// trust (`--tls-ca-out`).
pub fn parse<I, S>(args: I) -> Result<(EmulatorBuilder, Option<PathBuf>), Usage>
where
    I: IntoIterator<Item = S>,
    S: Into<std::ffi::OsString> + Clone,
{
    parse_as(PROGRAM, args)
}

/// The command's own name.
pub const PROGRAM: &str = "wayfinder-emulator";

/// [`parse`], with usage lines naming `program`, how the user ran it
/// (`python -m wayfinder_tokens.testing`, `npx wayfinder-tokens emulator`).
pub fn parse_as<I, S>(program: &str, args: I) -> Result<(EmulatorBuilder, Option<PathBuf>), Usage>
where
    I: IntoIterator<Item = S>,
    S: Into<std::ffi::OsString> + Clone,
{
    let args =
        Args::try_parse_from(std::iter::once(program.into()).chain(args.into_iter().map(Into::into))).map_err(|e| {
            Usage {
                code: if e.use_stderr() { 2 } else { 0 },
                text: e.render().to_string(),
            }
        })?;
    let mut builder = Emulator::builder()
        .listen(args.listen)
        .api_group_version(args.api_group_version)
        .log_requests(!args.quiet);
    if let Some(data) = args.data {
        builder = builder.data(data);
    }
    if let Some(token) = args.admin_token {
        builder = builder.admin_token(token);
    }
    for user in args.users {
        builder = builder.user(user);
    }
    for workspace in args.workspaces {
        builder = builder.workspace(workspace);
    }
    for role in args.known_roles {
        builder = builder.known_role(role);
    }
    let tls = match (args.tls, args.tls_self_signed, &args.tls_cert, &args.tls_key) {
        (true, ..) => Some(TlsMode::Generated),
        (_, true, ..) => Some(TlsMode::SelfSignedCa),
        (_, _, Some(cert), Some(key)) => {
            let read = |p: &PathBuf| {
                std::fs::read_to_string(p).map_err(|e| Usage {
                    code: 2,
                    text: format!("error: cannot read {}: {e}\n", p.display()),
                })
            };
            Some(TlsMode::Pem {
                chain: read(cert)?,
                key: read(key)?,
            })
        }
        _ => None,
    };
    if let Some(mode) = tls {
        builder = builder.tls(mode);
    }
    Ok((builder, args.tls_ca_out))
}

/// Runs the emulator command: parses `args` (without the program name),
/// starts, prints [`first_line`] on stdout, serves until Ctrl-C or SIGTERM,
/// then stops. Returns the process exit code (2 for bad usage).
pub async fn main<I, S>(args: I) -> i32
where
    I: IntoIterator<Item = S>,
    S: Into<std::ffi::OsString> + Clone,
{
    main_as(PROGRAM, args).await
}

/// [`main`], with usage lines and errors naming `program`.
pub async fn main_as<I, S>(program: &str, args: I) -> i32
where
    I: IntoIterator<Item = S>,
    S: Into<std::ffi::OsString> + Clone,
{
    let (builder, ca_out) = match parse_as(program, args) {
        Ok(parsed) => parsed,
        Err(usage) => {
            if usage.code == 0 {
                print!("{}", usage.text);
            } else {
                eprint!("{}", usage.text);
            }
            return usage.code;
        }
    };
    let emulator = match builder.start().await {
        Ok(e) => e,
        Err(e) => {
            eprintln!("{program}: {e}");
            return 1;
        }
    };
    if let Err(e) = write_trust(&emulator, ca_out.as_deref()) {
        eprintln!("{program}: {e}");
        return 1;
    }
    let mut stdout = std::io::stdout();
    let _ = writeln!(stdout, "{}", first_line(&emulator));
    let _ = stdout.flush();
    wait_for_signal().await;
    emulator.shutdown().await;
    0
}

/// Writes the certificate clients should trust to `path` (`--tls-ca-out`).
pub fn write_trust(emulator: &Emulator, path: Option<&std::path::Path>) -> std::io::Result<()> {
    match (path, emulator.ca_certificate()) {
        (Some(path), Some(pem)) => {
            use std::io::Write as _;
            let mut options = std::fs::OpenOptions::new();
            options.write(true).create(true).truncate(true);
            // A link planted at the path would have its target overwritten.
            #[cfg(unix)]
            std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NOFOLLOW);
            let mut file = options.open(path).map_err(|e| {
                let link = std::fs::symlink_metadata(path).is_ok_and(|m| m.file_type().is_symlink());
                let why = if link {
                    "it is a symbolic link".to_owned()
                } else {
                    e.to_string()
                };
                std::io::Error::new(e.kind(), format!("cannot write {}: {why}", path.display()))
            })?;
            file.write_all(pem.as_bytes())?;
            file.sync_all()
        }
        (Some(_), None) => Err(std::io::Error::other(
            "--tls-ca-out needs --tls or --tls-self-signed (there is no certificate of its own to write)",
        )),
        (None, _) => Ok(()),
    }
}

/// Resolves on Ctrl-C (SIGINT) or SIGTERM.
pub async fn wait_for_signal() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        match signal(SignalKind::terminate()) {
            Ok(mut term) => {
                tokio::select! {
                    _ = tokio::signal::ctrl_c() => {}
                    _ = term.recv() => {}
                }
            }
            Err(_) => {
                let _ = tokio::signal::ctrl_c().await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
}
