//! `wayfinder-emulator`: serves the Wayfinder access-token API on loopback
//! (flags: `wayfinder-emulator --help`, or `wayfinder_emulator::cli`).

use std::process::ExitCode;

#[tokio::main]
async fn main() -> ExitCode {
    let code = wayfinder_emulator::cli::main(std::env::args_os().skip(1)).await;
    ExitCode::from(u8::try_from(code).unwrap_or(1))
}
