//! The kubeconfig `meshdeck sim` writes: one cluster, two users by bearer token, contexts
//! `sim-admin` (every verb), `sim-viewer` (read only) and `sim-restricted` (read only, no Secrets
//! or webhook configurations).

use base64::Engine;
use serde_json::json;

pub fn render(server: &str, ca_pem: &str, tokens: &crate::sim::api::auth::Tokens) -> String {
    let ca = base64::engine::general_purpose::STANDARD.encode(ca_pem);
    let doc = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "meshdeck-sim", "cluster": {"server": server, "certificate-authority-data": ca}}],
        "users": [
            {"name": "sim-admin", "user": {"token": tokens.admin}},
            {"name": "sim-viewer", "user": {"token": tokens.viewer}},
            {"name": "sim-restricted", "user": {"token": tokens.restricted}}
        ],
        "contexts": [
            {"name": "sim-admin", "context": {"cluster": "meshdeck-sim", "user": "sim-admin"}},
            {"name": "sim-viewer", "context": {"cluster": "meshdeck-sim", "user": "sim-viewer"}},
            {"name": "sim-restricted", "context": {"cluster": "meshdeck-sim", "user": "sim-restricted"}}
        ],
        "current-context": "sim-admin",
        "preferences": {}
    });
    serde_yaml::to_string(&doc).unwrap_or_default()
}
