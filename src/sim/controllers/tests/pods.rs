//! Pods: replacement, scale-down, crash loops, nodes.

use super::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deleted_pod_is_replaced_and_scale_down_removes_pods() {
    let c = start("demo");
    create(&c, "apps", "deployments", "demo", deployment("web", 3, "nginx:1.25"));
    rolled_out(&c, "demo", "web").await;
    let victim = s(&pods_with(&c, "demo", "web")[0], "/metadata/name").to_string();
    c.delete(k("", "pods"), "demo", &victim, WriteOpts::by("test")).unwrap();
    wait_for("a replacement pod, ready", || {
        let pods = pods_with(&c, "demo", "web");
        let fine = pods.len() == 3 && pods.iter().all(|p| ready(p) && s(p, "/metadata/name") != victim);
        if fine { Ok(()) } else { Err(format!("{} pods", pods.len())) }
    })
    .await;
    c.mutate(k("apps", "deployments"), "demo", "web", "test", |d| d["spec"]["replicas"] = json!(1)).unwrap();
    let d = rolled_out(&c, "demo", "web").await;
    assert_eq!(int(&d, "/status/replicas"), 1);
    wait_for("two pods removed", || match pods_with(&c, "demo", "web").len() {
        1 => Ok(()),
        n => Err(format!("{n} pods")),
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_image_crash_loops_with_backoff_events() {
    let c = start("demo");
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "bad", "labels": {"app": "bad"}},
        "spec": {"containers": [{"name": "app", "image": "fail.invalid/x:1"}]}});
    create(&c, "", "pods", "demo", pod);
    let p = wait_for("restartCount of at least 2", || {
        let p = c.get(k("", "pods"), "demo", "bad").map_err(|e| e.to_string())?;
        if int(&p, "/status/containerStatuses/0/restartCount") >= 2 { Ok(p) } else { Err(p["status"].to_string()) }
    })
    .await;
    assert_eq!(s(&p, "/status/phase"), "Running");
    assert_eq!(s(&p, "/status/containerStatuses/0/state/waiting/reason"), "CrashLoopBackOff");
    assert_eq!(p["status"]["containerStatuses"][0]["ready"], false);
    assert_eq!(cond(&p, "Ready").unwrap()["status"], "False");
    let ev = wait_for("an aggregated BackOff event", || {
        let evs = c.store.all(k("", "events"), Some("demo"));
        evs.into_iter()
            .find(|e| e["reason"] == "BackOff" && int(e, "/count") >= 2)
            .ok_or_else(|| "no BackOff event with count >= 2".to_string())
    })
    .await;
    assert_eq!(ev["type"], "Warning");
    assert_eq!(s(&ev, "/involvedObject/name"), "bad");
    assert_eq!(s(&ev, "/involvedObject/kind"), "Pod");
    assert_eq!(s(&ev, "/involvedObject/fieldPath"), "spec.containers{app}");
    assert_eq!(s(&ev, "/source/component"), "kubelet");
    assert_eq!(s(&ev, "/reportingComponent"), "kubelet");
    let uid = s(&p, "/metadata/uid");
    assert_eq!(s(&ev, "/message"), format!("Back-off restarting failed container app in pod bad_demo({uid})"));
    assert!(!s(&ev, "/firstTimestamp").is_empty() && !s(&ev, "/lastTimestamp").is_empty());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn native_sidecar_and_init_container_statuses() {
    let c = start("demo");
    let pod = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "meshed"},
        "spec": {"initContainers": [{"name": "istio-init", "image": "istio/proxyv2:1.26.0"},
                                    {"name": "istio-proxy", "image": "istio/proxyv2:1.26.0", "restartPolicy": "Always"}],
                 "containers": [{"name": "app", "image": "nginx:1.25"}]}});
    create(&c, "", "pods", "demo", pod);
    let p = wait_for("pod ready", || {
        let p = c.get(k("", "pods"), "demo", "meshed").map_err(|e| e.to_string())?;
        if ready(&p) { Ok(p) } else { Err(p["status"].to_string()) }
    })
    .await;
    let inits = &p["status"]["initContainerStatuses"];
    assert_eq!(s(inits, "/0/state/terminated/reason"), "Completed");
    assert_eq!(s(inits, "/1/name"), "istio-proxy");
    assert_eq!((inits[1]["ready"].clone(), inits[1]["started"].clone()), (json!(true), json!(true)));
    assert!(!s(inits, "/1/state/running/startedAt").is_empty());
    assert_eq!(s(inits, "/1/image"), "docker.io/istio/proxyv2:1.26.0");
    let app = &p["status"]["containerStatuses"][0];
    assert_eq!((s(app, "/name"), app["restartCount"].clone()), ("app", json!(0)));
    assert!(s(app, "/imageID").starts_with("docker.io/library/nginx@sha256:"));
    let types: Vec<&str> = p["status"]["conditions"].as_array().unwrap().iter().map(|c| s(c, "/type")).collect();
    for t in ["PodScheduled", "Initialized", "ContainersReady", "Ready"] {
        assert!(types.contains(&t), "{t} in {types:?}");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_ready_nodes_exist() {
    let c = start("demo");
    let nodes = c.store.all(k("", "nodes"), None);
    let names: Vec<&str> = nodes.iter().map(|n| s(n, "/metadata/name")).collect();
    assert_eq!(names, ["sim-node-1", "sim-node-2", "sim-node-3"]);
    for n in &nodes {
        assert_eq!(s(n, "/status/nodeInfo/kubeletVersion"), "v1.33.1");
        assert_eq!(cond(n, "Ready").unwrap()["status"], "True");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pdb_counts_healthy_pods_and_hpa_holds_min_replicas() {
    let c = start("demo");
    create(&c, "apps", "deployments", "demo", deployment("web", 3, "nginx:1.25"));
    let pdb = json!({"apiVersion": "policy/v1", "kind": "PodDisruptionBudget", "metadata": {"name": "web"},
                     "spec": {"minAvailable": 2, "selector": {"matchLabels": {"app": "web"}}}});
    create(&c, "policy", "poddisruptionbudgets", "demo", pdb);
    let p = wait_for("pdb with three healthy pods", || {
        let p = c.get(k("policy", "poddisruptionbudgets"), "demo", "web").map_err(|e| e.to_string())?;
        if int(&p, "/status/currentHealthy") == 3 { Ok(p) } else { Err(p["status"].to_string()) }
    })
    .await;
    assert_eq!((int(&p, "/status/desiredHealthy"), int(&p, "/status/expectedPods")), (2, 3));
    assert_eq!(int(&p, "/status/disruptionsAllowed"), 1);
    assert_eq!(cond(&p, "DisruptionAllowed").unwrap()["reason"], "SufficientPods");

    let hpa = json!({"apiVersion": "autoscaling/v2", "kind": "HorizontalPodAutoscaler", "metadata": {"name": "web"},
                     "spec": {"scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "web"},
                              "minReplicas": 4, "maxReplicas": 6}});
    create(&c, "autoscaling", "horizontalpodautoscalers", "demo", hpa);
    let d = wait_for("deployment raised to the HPA minimum", || {
        let d = c.get(k("apps", "deployments"), "demo", "web").map_err(|e| e.to_string())?;
        if int(&d, "/status/availableReplicas") == 4 { Ok(d) } else { Err(d["status"].to_string()) }
    })
    .await;
    assert_eq!(int(&d, "/spec/replicas"), 4);
    let h = wait_for("hpa status", || {
        let h = c.get(k("autoscaling", "horizontalpodautoscalers"), "demo", "web").map_err(|e| e.to_string())?;
        if int(&h, "/status/currentReplicas") == 4 { Ok(h) } else { Err(h["status"].to_string()) }
    })
    .await;
    assert_eq!(int(&h, "/status/desiredReplicas"), 4);
    assert!(!s(&h, "/status/lastScaleTime").is_empty());
}
