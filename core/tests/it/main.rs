//! The core's integration tests, one module a subject, linked as one binary
//! (a change relinks one test binary, not one per file).
#![allow(clippy::too_many_lines, clippy::unwrap_used)]

mod bad_inputs;
mod common;
#[cfg(unix)]
mod config_crash;
mod config_files;
mod converge;
mod deliver;
mod fault_matrix;
mod faults;
mod fleet;
mod fuzz_corpora;
mod hostile;
mod operations;
mod secrets;
mod tls;
mod vectors;
