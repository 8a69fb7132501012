//! A token as a Kubernetes `Secret` manifest (`-o kubernetes`,
//! `file:…?format=kubernetes`).

use super::payload::Payload;
use crate::error::Result;
use crate::model::IssuedToken;

/// A Kubernetes `Secret` manifest for `kubectl apply -f -`: the three
/// values under `stringData` (names starting with `prefix`), labels naming
/// the token, its workspace and generation, and the time of issue as an
/// annotation (a label cannot hold it).
pub fn kubernetes_secret(issued: &IssuedToken, prefix: &str) -> Result<String> {
    let payload = Payload::of(issued, prefix)?;
    let mut labels = serde_json::Map::new();
    labels.insert("app.kubernetes.io/managed-by".into(), "wayfinder-tokens".into());
    let mut annotations = serde_json::Map::new();
    for (key, value) in payload.labels() {
        match key {
            "rotated-at" => annotations.insert(format!("wayfinder-tokens/{key}"), value.into()),
            _ => labels.insert(format!("wayfinder-tokens/{key}"), value.into()),
        };
    }
    let data: serde_json::Map<String, serde_json::Value> = payload
        .entries
        .iter()
        .map(|e| (e.name.clone(), e.value.into()))
        .collect();
    let manifest = serde_json::json!({
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {"name": issued.name, "labels": labels, "annotations": annotations},
        "type": "Opaque",
        "stringData": data,
    });
    crate::render::to_yaml(&manifest)
}
