//! Placeholder until the port-forward implementation lands.
use super::ops::Cluster;
use std::sync::Arc;

pub fn check(_c: &Cluster, _ns: &str, _pod: &str, _ports: &[u16]) -> Result<(), (u16, String)> {
    Err((400, "port-forward is not available".into()))
}

pub async fn serve(_s: axum::extract::ws::WebSocket, _c: Arc<Cluster>, _ns: String, _pod: String, _ports: Vec<u16>) {}
