//! What the emulator's GitHub routes keep: the sealing key pair, the stored
//! (sealed) secrets and the variables, by `SCOPE/NAME`.

use std::collections::{BTreeMap, HashMap};
use std::sync::Mutex;

/// The sealing key pair, the stored secrets and variables.
pub struct GithubState {
    inner: Mutex<Inner>,
}

impl std::fmt::Debug for GithubState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("GithubState { .. }")
    }
}

pub(crate) struct Inner {
    pub(crate) key: crypto_box::SecretKey,
    pub(crate) key_id: String,
    /// `SCOPE/NAME` → the stored secret.
    pub(crate) secrets: BTreeMap<String, StoredSecret>,
    /// `SCOPE/NAME` → the variable.
    pub(crate) variables: BTreeMap<String, StoredVariable>,
    /// `OWNER/REPO` → its id.
    pub(crate) repositories: HashMap<String, u64>,
}

#[derive(Clone)]
pub(crate) struct StoredSecret {
    pub(crate) encrypted_value: String,
    pub(crate) key_id: String,
    pub(crate) created_at: String,
    pub(crate) updated_at: String,
    pub(crate) visibility: Option<String>,
}

#[derive(Clone)]
pub(crate) struct StoredVariable {
    pub(crate) value: String,
    pub(crate) created_at: String,
    pub(crate) updated_at: String,
    pub(crate) visibility: Option<String>,
}

pub(crate) fn new_key() -> (crypto_box::SecretKey, String) {
    let key = crypto_box::SecretKey::generate(&mut crypto_box::aead::OsRng);
    let mut id = [0u8; 8];
    let _ = getrandom::fill(&mut id);
    (key, u64::from_le_bytes(id).to_string())
}

impl Default for GithubState {
    fn default() -> GithubState {
        let (key, key_id) = new_key();
        GithubState {
            inner: Mutex::new(Inner {
                key,
                key_id,
                secrets: BTreeMap::new(),
                variables: BTreeMap::new(),
                repositories: HashMap::new(),
            }),
        }
    }
}

impl GithubState {
    pub(crate) fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}
