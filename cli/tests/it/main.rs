//! The command line's integration tests against the emulator, one module a
//! subject, linked as one binary.
#![allow(clippy::too_many_lines, clippy::unwrap_used)]

mod bad_inputs;
mod cli;
mod hostile;
mod support;
mod vectors;
