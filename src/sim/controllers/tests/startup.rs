//! What the controllers pick up when they start: objects written before them, but not the
//! scale generator's objects, which come without events.

use super::*;
use crate::labels::labels_of;
use crate::sim::store::Render;

struct OneDeployment;

impl Render for OneDeployment {
    fn render(&self, _id: u64) -> Value {
        let mut d = deployment("generated", 2, "nginx:1.25");
        d["metadata"]["namespace"] = json!("demo");
        d["metadata"]["uid"] = json!("00000000-0000-4000-8000-000000000001");
        d["metadata"]["generation"] = json!(1);
        d
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn objects_written_before_start_are_reconciled_and_generated_ones_ignored() {
    let c = Cluster::new(Clock::new(50.0));
    let nsobj = json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "demo"}});
    c.create(k("", "namespaces"), "", nsobj, WriteOpts::by("test")).unwrap();
    let generated = OneDeployment.render(0);
    let labels = Arc::new(labels_of(&generated));
    c.store.insert_lazy(k("apps", "deployments"), "demo", "generated", labels, Arc::new(OneDeployment), 0);
    create(&c, "apps", "deployments", "demo", deployment("early", 2, "nginx:1.25"));
    spawn_all(c.clone());
    rolled_out(&c, "demo", "early").await;
    // Start-up work is queued in store order before anything else, so had the generated
    // Deployment been queued its ReplicaSet would exist by now.
    let sets: Vec<String> = c
        .store
        .all(k("apps", "replicasets"), Some("demo"))
        .iter()
        .map(|r| s(r, "/metadata/name").to_string())
        .collect();
    assert_eq!(sets.len(), 1, "{sets:?}");
    assert!(sets[0].starts_with("early-"));
    let g = c.get(k("apps", "deployments"), "demo", "generated").unwrap();
    assert!(g.get("status").is_none());
}
