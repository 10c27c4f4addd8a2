//! The kubeconfig `meshdeck sim` writes: one cluster, two users by bearer token, contexts
//! `sim-admin` (every verb) and `sim-viewer` (read only).

use base64::Engine;
use serde_json::json;

pub fn render(server: &str, ca_pem: &str, admin_token: &str, viewer_token: &str) -> String {
    let ca = base64::engine::general_purpose::STANDARD.encode(ca_pem);
    let doc = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "meshdeck-sim", "cluster": {"server": server, "certificate-authority-data": ca}}],
        "users": [
            {"name": "sim-admin", "user": {"token": admin_token}},
            {"name": "sim-viewer", "user": {"token": viewer_token}}
        ],
        "contexts": [
            {"name": "sim-admin", "context": {"cluster": "meshdeck-sim", "user": "sim-admin"}},
            {"name": "sim-viewer", "context": {"cluster": "meshdeck-sim", "user": "sim-viewer"}}
        ],
        "current-context": "sim-admin",
        "preferences": {}
    });
    serde_yaml::to_string(&doc).unwrap_or_default()
}
