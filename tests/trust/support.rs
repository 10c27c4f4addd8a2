//! What the engine-driven trust tests share: an engine on the simulated cluster with a journal
//! of its own, plans written inline, and the confirmation that takes fields over.

use meshdeck::apply::{ApplyOptions, Engine, EngineOptions};
use meshdeck::plan::Plan;
use meshdeck::sim::run::SimHandle;
use std::path::Path;

/// An engine as sim-admin, through meshdeck's own client, journaling into `journal`.
pub async fn engine(h: &SimHandle, journal: &Path) -> Engine {
    let (client, conn) =
        meshdeck::cluster::client::connect_with(Some(&h.kubeconfig_path), Some("sim-admin"), false).await.unwrap();
    Engine::new(client, conn, EngineOptions { journal_dir: Some(journal.to_path_buf()), ..Default::default() }).unwrap()
}

/// A plan from its actions' YAML.
pub fn plan(actions: &str) -> Plan {
    Plan::from_yaml(&format!("apiVersion: meshdeck.dev/v1alpha1\nkind: Plan\nactions:\n{actions}"), "test").unwrap()
}

/// The demo's PeerAuthentications were made with kubectl: taking their mode over is confirmed.
pub fn forced() -> ApplyOptions {
    ApplyOptions { force_conflicts: true, ..ApplyOptions::default() }
}
