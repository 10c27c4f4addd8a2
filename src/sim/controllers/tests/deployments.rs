//! Deployments: first rollout, restart, a rollout that never becomes ready, deletion.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deployment_reaches_three_of_three_with_status_and_replicaset() {
    let c = start("demo");
    create(&c, "apps", "deployments", "demo", deployment("web", 3, "nginx:1.25"));
    let d = rolled_out(&c, "demo", "web").await;
    let st = &d["status"];
    assert_eq!((int(st, "/replicas"), int(st, "/updatedReplicas")), (3, 3));
    assert_eq!((int(st, "/readyReplicas"), int(st, "/availableReplicas")), (3, 3));
    assert!(st.get("unavailableReplicas").is_none(), "zero counts are omitted: {st}");
    assert_eq!(int(st, "/observedGeneration"), int(&d, "/metadata/generation"));
    let avail = cond(&d, "Available").unwrap();
    assert_eq!((s(avail, "/status"), s(avail, "/reason")), ("True", "MinimumReplicasAvailable"));
    let prog = cond(&d, "Progressing").unwrap();
    assert_eq!((s(prog, "/status"), s(prog, "/reason")), ("True", "NewReplicaSetAvailable"));
    assert_eq!(s(&d, "/metadata/annotations/deployment.kubernetes.io~1revision"), "1");

    let sets = c.store.all(k("apps", "replicasets"), Some("demo"));
    assert_eq!(sets.len(), 1);
    let rs = &sets[0];
    let hash = s(rs, "/metadata/labels/pod-template-hash");
    assert!(!hash.is_empty());
    assert_eq!(s(rs, "/metadata/name"), format!("web-{hash}"));
    assert_eq!(s(rs, "/spec/selector/matchLabels/pod-template-hash"), hash);
    assert_eq!(s(rs, "/spec/template/metadata/labels/pod-template-hash"), hash);
    assert_eq!(s(rs, "/metadata/annotations/deployment.kubernetes.io~1revision"), "1");
    assert_eq!(rs["metadata"]["ownerReferences"][0]["controller"], true);
    assert_eq!(s(rs, "/metadata/ownerReferences/0/uid"), s(&d, "/metadata/uid"));
    assert_eq!(prog["message"], format!("ReplicaSet \"web-{hash}\" has successfully progressed."));

    let pods = pods_with(&c, "demo", "web");
    assert_eq!(pods.len(), 3);
    for p in &pods {
        assert!(s(p, "/metadata/name").starts_with(&format!("web-{hash}-")));
        assert_eq!(s(p, "/metadata/ownerReferences/0/name"), format!("web-{hash}"));
        assert_eq!(s(p, "/status/phase"), "Running");
        assert!(s(p, "/status/podIP").starts_with("10.244."));
        assert!(s(p, "/spec/nodeName").starts_with("sim-node-"));
        assert!(!s(p, "/status/hostIP").is_empty());
        assert_eq!(p["status"]["containerStatuses"][0]["ready"], true);
    }
    let scaled = c.store.all(k("", "events"), Some("demo")).into_iter().any(|e| {
        e["reason"] == "ScalingReplicaSet"
            && e["involvedObject"]["name"] == "web"
            && e["message"] == format!("Scaled up replica set web-{hash} from 0 to 3")
    });
    assert!(scaled, "deployment records its scale-up");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restart_rolls_within_surge_and_unavailability() {
    let c = start("demo");
    create(&c, "apps", "deployments", "demo", deployment("web", 3, "nginx:1.25"));
    rolled_out(&c, "demo", "web").await;
    let old_rs = s(&c.store.all(k("apps", "replicasets"), Some("demo"))[0], "/metadata/name").to_string();
    let mut rx = c.store.subscribe();
    let mut log = PodLog::seed(&c, "demo");
    // What `kubectl rollout restart` writes (a strategic merge patch of this annotation).
    let at = c.now_str();
    c.mutate(k("apps", "deployments"), "demo", "web", "kubectl-rollout", |d| {
        d["spec"]["template"]["metadata"]["annotations"] = json!({"kubectl.kubernetes.io/restartedAt": at});
    })
    .unwrap();
    let d = rolled_out(&c, "demo", "web").await;
    let new_hash = wait_for("old pods gone and old set at 0", || {
        let sets = c.store.all(k("apps", "replicasets"), Some("demo"));
        let old = sets.iter().find(|r| s(r, "/metadata/name") == old_rs).ok_or("old set missing")?;
        let new = sets.iter().find(|r| s(r, "/metadata/name") != old_rs).ok_or("no new set")?;
        let hash = s(new, "/metadata/labels/pod-template-hash").to_string();
        let pods = pods_with(&c, "demo", "web");
        let all_new = pods.iter().all(|p| s(p, "/metadata/labels/pod-template-hash") == hash);
        if int(old, "/spec/replicas") == 0 && int(old, "/status/replicas") == 0 && all_new && pods.len() == 3 {
            Ok(hash)
        } else {
            Err(format!("old {} new {} pods {}", old["status"], new["status"], pods.len()))
        }
    })
    .await;
    assert_eq!(s(&d, "/metadata/annotations/deployment.kubernetes.io~1revision"), "2");
    let new_rs = c.get(k("apps", "replicasets"), "demo", &format!("web-{new_hash}")).unwrap();
    assert_eq!(s(&new_rs, "/metadata/annotations/deployment.kubernetes.io~1revision"), "2");
    assert!(!s(&new_rs, "/spec/template/metadata/annotations/kubectl.kubernetes.io~1restartedAt").is_empty());
    // maxSurge 25% of 3 rounds up to 1, maxUnavailable 25% of 3 rounds down to 0.
    let (mut most, mut fewest_ready) = (log.count("web", false), log.count("web", true));
    let mut deleted = 0;
    for ev in drain(&mut rx) {
        if let Some(ev) = log.apply(&ev, "demo") {
            deleted += usize::from(ev.kind_of_change == EventType::Deleted);
            most = most.max(log.count("web", false));
            fewest_ready = fewest_ready.min(log.count("web", true));
        }
    }
    assert_eq!(deleted, 3, "the log saw every old pod go");
    assert_eq!(most, 4, "at most replicas + maxSurge pods, and the surge was used");
    assert!(fewest_ready >= 3, "never fewer than replicas - maxUnavailable ready, saw {fewest_ready}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_image_exceeds_progress_deadline_while_old_pods_serve() {
    let c = start("demo");
    let mut d = deployment("api", 3, "nginx:1.25");
    d["spec"]["progressDeadlineSeconds"] = json!(2);
    create(&c, "apps", "deployments", "demo", d);
    rolled_out(&c, "demo", "api").await;
    c.mutate(k("apps", "deployments"), "demo", "api", "kubectl-set", |d| {
        d["spec"]["template"]["spec"]["containers"][0]["image"] = json!("fail.invalid/x:1");
    })
    .unwrap();
    let d = wait_for("progress deadline exceeded", || {
        let d = c.get(k("apps", "deployments"), "demo", "api").map_err(|e| e.to_string())?;
        match cond(&d, "Progressing") {
            Some(p) if p["status"] == "False" && p["reason"] == "ProgressDeadlineExceeded" => Ok(d),
            _ => Err(d["status"].to_string()),
        }
    })
    .await;
    let st = &d["status"];
    assert_eq!(int(st, "/readyReplicas"), 3, "old pods keep serving: {st}");
    assert_eq!(int(st, "/availableReplicas"), 3);
    assert_eq!(int(st, "/updatedReplicas"), 1, "one surge pod of the new template: {st}");
    assert_eq!(cond(&d, "Available").unwrap()["status"], "True");
    let msg = s(cond(&d, "Progressing").unwrap(), "/message");
    assert!(msg.starts_with("ReplicaSet \"api-") && msg.ends_with("\" has timed out progressing."), "{msg}");
    let ready_pods = pods_with(&c, "demo", "api").iter().filter(|p| ready(p)).count();
    assert_eq!(ready_pods, 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleting_a_deployment_removes_its_replicasets_and_pods() {
    let c = start("demo");
    create(&c, "apps", "deployments", "demo", deployment("gone", 2, "nginx:1.25"));
    rolled_out(&c, "demo", "gone").await;
    c.delete(k("apps", "deployments"), "demo", "gone", WriteOpts::by("test")).unwrap();
    wait_for("replica sets and pods collected", || {
        let sets = c.store.all(k("apps", "replicasets"), Some("demo")).len();
        let pods = pods_with(&c, "demo", "gone").len();
        if sets == 0 && pods == 0 { Ok(()) } else { Err(format!("{sets} sets, {pods} pods")) }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn recreate_removes_old_pods_before_starting_new_ones() {
    let c = start("demo");
    let mut d = deployment("batch", 2, "nginx:1.25");
    d["spec"]["strategy"] = json!({"type": "Recreate"});
    create(&c, "apps", "deployments", "demo", d);
    rolled_out(&c, "demo", "batch").await;
    let mut rx = c.store.subscribe();
    let mut log = PodLog::seed(&c, "demo");
    c.mutate(k("apps", "deployments"), "demo", "batch", "test", |d| {
        d["spec"]["template"]["spec"]["containers"][0]["image"] = json!("nginx:1.26");
    })
    .unwrap();
    rolled_out(&c, "demo", "batch").await;
    let hash_of = |v: &Value| v["pod-template-hash"].as_str().unwrap_or_default().to_string();
    let mut added = 0;
    for ev in drain(&mut rx) {
        if let Some(ev) = log.apply(&ev, "demo")
            && ev.kind_of_change == EventType::Added
        {
            added += 1;
            let new_hash = s(&ev.object, "/metadata/labels/pod-template-hash").to_string();
            let others: Vec<String> = log.live.values().map(|(l, _)| hash_of(l)).filter(|h| *h != new_hash).collect();
            assert!(others.is_empty(), "a new pod started while old ones remained: {others:?}");
        }
    }
    assert_eq!(added, 2, "both new pods seen starting");
    assert!(pods_with(&c, "demo", "batch").iter().all(|p| s(p, "/spec/containers/0/image") == "nginx:1.26"));
}
