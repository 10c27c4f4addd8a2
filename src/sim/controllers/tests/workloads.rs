//! StatefulSets, DaemonSets and Jobs.

use super::*;

fn statefulset(name: &str, replicas: i64, strategy: Value) -> Value {
    json!({"apiVersion": "apps/v1", "kind": "StatefulSet", "metadata": {"name": name},
           "spec": {"replicas": replicas, "serviceName": name, "selector": {"matchLabels": {"app": name}},
                    "updateStrategy": strategy, "template": template(name, "postgres:16")}})
}

fn set_image(c: &Cluster, group: &str, plural: &str, name: &str, image: &str) {
    c.mutate(k(group, plural), "demo", name, "test", |o| {
        o["spec"]["template"]["spec"]["containers"][0]["image"] = json!(image);
    })
    .unwrap();
}

async fn sts_settled(c: &Cluster, name: &str, ready_want: i64) -> Arc<Value> {
    wait_for(&format!("statefulset {name} settled"), || {
        let o = c.get(k("apps", "statefulsets"), "demo", name).map_err(|e| e.to_string())?;
        let ok = int(&o, "/status/observedGeneration") == int(&o, "/metadata/generation")
            && int(&o, "/status/readyReplicas") == ready_want
            && int(&o, "/status/replicas") == ready_want;
        if ok { Ok(o) } else { Err(o["status"].to_string()) }
    })
    .await
}

fn revision(c: &Cluster, pod: &str) -> String {
    let p = c.get(k("", "pods"), "demo", pod).unwrap();
    s(&p, "/metadata/labels/controller-revision-hash").to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statefulset_starts_in_order_and_rolls_from_the_highest_ordinal() {
    let c = start("demo");
    let mut rx = c.store.subscribe();
    create(&c, "apps", "statefulsets", "demo", statefulset("db", 3, json!({"type": "RollingUpdate"})));
    let set = sts_settled(&c, "db", 3).await;
    assert_eq!(s(&set, "/status/currentRevision"), s(&set, "/status/updateRevision"));
    let mut log = PodLog::default();
    let mut created = Vec::new();
    for ev in drain(&mut rx) {
        if let Some(ev) = log.apply(&ev, "demo")
            && ev.kind_of_change == EventType::Added
        {
            // OrderedReady: each pod starts only when every lower ordinal is ready.
            let earlier_ready = log.live.iter().filter(|(n, _)| **n != ev.name).all(|(_, (_, r))| *r);
            assert!(earlier_ready, "{} created before its predecessors were ready", ev.name);
            created.push(ev.name.clone());
        }
    }
    assert_eq!(created, ["db-0", "db-1", "db-2"]);
    let pod = c.get(k("", "pods"), "demo", "db-1").unwrap();
    assert_eq!(s(&pod, "/spec/hostname"), "db-1");
    assert_eq!(s(&pod, "/spec/subdomain"), "db");
    assert_eq!(s(&pod, "/metadata/labels/statefulset.kubernetes.io~1pod-name"), "db-1");
    assert_eq!(s(&pod, "/metadata/labels/controller-revision-hash"), s(&set, "/status/updateRevision"));

    set_image(&c, "apps", "statefulsets", "db", "postgres:17");
    let set = wait_for("rolling update complete", || {
        let o = c.get(k("apps", "statefulsets"), "demo", "db").map_err(|e| e.to_string())?;
        let ok = int(&o, "/status/observedGeneration") == int(&o, "/metadata/generation")
            && int(&o, "/status/updatedReplicas") == 3
            && int(&o, "/status/readyReplicas") == 3
            && s(&o, "/status/currentRevision") == s(&o, "/status/updateRevision");
        if ok { Ok(o) } else { Err(o["status"].to_string()) }
    })
    .await;
    let deleted: Vec<String> = drain(&mut rx)
        .into_iter()
        .filter(|e| e.kind.plural == "pods" && e.kind_of_change == EventType::Deleted)
        .map(|e| e.name)
        .collect();
    assert_eq!(deleted, ["db-2", "db-1", "db-0"]);
    for p in ["db-0", "db-1", "db-2"] {
        assert_eq!(revision(&c, p), s(&set, "/status/updateRevision"));
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statefulset_partition_keeps_lower_ordinals() {
    let c = start("demo");
    let strategy = json!({"type": "RollingUpdate", "rollingUpdate": {"partition": 2}});
    create(&c, "apps", "statefulsets", "demo", statefulset("db", 3, strategy));
    let before = sts_settled(&c, "db", 3).await;
    let old = s(&before, "/status/updateRevision").to_string();
    set_image(&c, "apps", "statefulsets", "db", "postgres:17");
    let set = wait_for("ordinal 2 updated and all ready", || {
        let o = c.get(k("apps", "statefulsets"), "demo", "db").map_err(|e| e.to_string())?;
        let ok = int(&o, "/status/observedGeneration") == int(&o, "/metadata/generation")
            && int(&o, "/status/updatedReplicas") == 1
            && int(&o, "/status/readyReplicas") == 3;
        if ok { Ok(o) } else { Err(o["status"].to_string()) }
    })
    .await;
    assert_eq!(revision(&c, "db-2"), s(&set, "/status/updateRevision"));
    assert_eq!((revision(&c, "db-0"), revision(&c, "db-1")), (old.clone(), old.clone()));
    assert_eq!(s(&set, "/status/currentRevision"), old);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn statefulset_on_delete_waits_for_a_deleted_pod() {
    let c = start("demo");
    create(&c, "apps", "statefulsets", "demo", statefulset("db", 2, json!({"type": "OnDelete"})));
    let before = sts_settled(&c, "db", 2).await;
    let old = s(&before, "/status/updateRevision").to_string();
    let uid0 = s(&c.get(k("", "pods"), "demo", "db-0").unwrap(), "/metadata/uid").to_string();
    set_image(&c, "apps", "statefulsets", "db", "postgres:17");
    let set = sts_settled(&c, "db", 2).await;
    let new = s(&set, "/status/updateRevision").to_string();
    assert_ne!(new, old);
    assert_eq!(int(&set, "/status/updatedReplicas"), 0, "nothing replaced yet: {}", set["status"]);
    assert_eq!((revision(&c, "db-0"), revision(&c, "db-1")), (old.clone(), old.clone()));
    c.delete(k("", "pods"), "demo", "db-1", WriteOpts::by("test")).unwrap();
    wait_for("db-1 back on the new revision, ready", || {
        let p = c.get(k("", "pods"), "demo", "db-1").map_err(|e| e.to_string())?;
        let ok = ready(&p) && s(&p, "/metadata/labels/controller-revision-hash") == new;
        if ok { Ok(()) } else { Err(p["metadata"]["labels"].to_string()) }
    })
    .await;
    let p0 = c.get(k("", "pods"), "demo", "db-0").unwrap();
    assert_eq!((s(&p0, "/metadata/uid"), revision(&c, "db-0")), (uid0.as_str(), old));
    assert_eq!(s(&p0, "/spec/containers/0/image"), "postgres:16");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn daemonset_runs_one_pod_per_node_and_rolls_one_at_a_time() {
    let c = start("demo");
    let ds = json!({"apiVersion": "apps/v1", "kind": "DaemonSet", "metadata": {"name": "agent"},
                    "spec": {"selector": {"matchLabels": {"app": "agent"}}, "template": template("agent", "fluent-bit:3")}});
    create(&c, "apps", "daemonsets", "demo", ds);
    let settled = |c: &Cluster| {
        let o = c.get(k("apps", "daemonsets"), "demo", "agent").map_err(|e| e.to_string())?;
        let st = |f: &str| int(&o, &format!("/status/{f}"));
        let ok = st("observedGeneration") == int(&o, "/metadata/generation")
            && st("desiredNumberScheduled") == 3
            && st("currentNumberScheduled") == 3
            && st("updatedNumberScheduled") == 3
            && st("numberReady") == 3
            && st("numberAvailable") == 3;
        if ok { Ok(o) } else { Err(o["status"].to_string()) }
    };
    wait_for("daemonset ready on 3 nodes", || settled(&c)).await;
    let mut nodes: Vec<String> =
        pods_with(&c, "demo", "agent").iter().map(|p| s(p, "/spec/nodeName").to_string()).collect();
    nodes.sort();
    assert_eq!(nodes, ["sim-node-1", "sim-node-2", "sim-node-3"]);

    let mut rx = c.store.subscribe();
    let mut log = PodLog::seed(&c, "demo");
    set_image(&c, "apps", "daemonsets", "agent", "fluent-bit:4");
    wait_for("daemonset rolled", || {
        settled(&c)?;
        let pods = pods_with(&c, "demo", "agent");
        let all_new = pods.len() == 3 && pods.iter().all(|p| s(p, "/spec/containers/0/image") == "fluent-bit:4");
        if all_new { Ok(()) } else { Err("old pods remain".into()) }
    })
    .await;
    let mut fewest_ready = 3;
    let mut deleted = 0;
    for ev in drain(&mut rx) {
        if let Some(ev) = log.apply(&ev, "demo") {
            deleted += usize::from(ev.kind_of_change == EventType::Deleted);
            fewest_ready = fewest_ready.min(log.count("agent", true));
        }
    }
    assert_eq!(deleted, 3, "every old pod replaced");
    assert_eq!(fewest_ready, 2, "maxUnavailable 1: one node at a time");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_completes() {
    let c = start("demo");
    let mut t = template("migrate", "busybox:1.36");
    t["spec"]["restartPolicy"] = json!("Never");
    let job =
        json!({"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": "migrate"}, "spec": {"template": t}});
    create(&c, "batch", "jobs", "demo", job);
    let j = wait_for("job complete", || {
        let j = c.get(k("batch", "jobs"), "demo", "migrate").map_err(|e| e.to_string())?;
        if cond(&j, "Complete").is_some_and(|c| c["status"] == "True") { Ok(j) } else { Err(j["status"].to_string()) }
    })
    .await;
    assert_eq!(int(&j, "/status/succeeded"), 1);
    assert!(!s(&j, "/status/completionTime").is_empty());
    assert!(!s(&j, "/status/startTime").is_empty());
    assert!(j["status"].get("active").is_none());
    let pods = pods_with(&c, "demo", "migrate");
    assert_eq!(pods.len(), 1);
    assert_eq!(s(&pods[0], "/status/phase"), "Succeeded");
    assert_eq!(s(&pods[0], "/metadata/labels/job-name"), "migrate");
}
