//! Create, reset, list, delete and grant roles to Wayfinder workspace and
//! platform access tokens, and render them the way CI systems want them.
//!
//! ```no_run
//! # async fn demo() -> wayfinder_tokens::Result<()> {
//! use wayfinder_tokens::{Client, CreateOptions};
//!
//! let client = Client::from_env()?; // WAYFINDER_SERVER + WAYFINDER_TOKEN, else the wf config
//! let issued = client
//!     .create_workspace_access_token("ci-deploy", Some("dev"), &CreateOptions::default())
//!     .await?;
//! print!("{}", wayfinder_tokens::render::export(&issued)?);
//! # Ok(()) }
//! ```
//!
//! The Python and Node packages are thin bindings over this crate; every
//! decision about tokens, configs and HTTP is made here.

// Every public item is documented (checked by the compiler).
#![deny(missing_docs)]

pub mod auth;
pub mod client;
pub mod config;
pub mod converge;
pub mod deliver;
pub mod error;
pub mod fleet;
pub mod github;
pub mod model;
pub mod names;
pub mod render;
pub mod requests;
pub mod secret;
pub mod settings;
mod tls;
pub mod tokens;
pub mod transport;

pub use client::{ApiRequest, Client, Replay, VERSION};
pub use error::{
    ApiError, Argument, CredentialSource, Error, ErrorKind, Field, FieldError, Hint, Result, RustSpelling, Spelling,
    TokenFamily,
};
pub use model::Scope;
pub use model::{AccessRole, AccessToken, IssuedToken, Roles, WhoAmI};
pub use secret::Secret;
pub use settings::{ClientOptions, DEFAULT_API_GROUP_VERSION};
pub use tokens::CreateOptions;
