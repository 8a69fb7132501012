//! The emulator's integration tests, one module a subject, linked as one binary.
#![allow(clippy::too_many_lines, clippy::unwrap_used)]

mod api;
mod binary;
mod reliability;
mod shutdown;
mod tls_command;
