//! The shape of injected pods: classic and native forms, images, identity labels, probes,
//! Prometheus merging and the template's switches.

use super::*;

/// A pod as a Deployment's ReplicaSet creates it.
fn reviews_pod() -> Value {
    json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": "reviews-v1-7f6d8c9b5-q2w9z",
            "generateName": "reviews-v1-7f6d8c9b5-",
            "namespace": "bookinfo",
            "labels": {"app": "reviews", "version": "v1", "pod-template-hash": "7f6d8c9b5"},
            "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "reviews-v1-7f6d8c9b5",
                                 "uid": "6a1f3c2e-0000-4000-8000-000000000002", "controller": true}],
        },
        "spec": {
            "serviceAccountName": "bookinfo-reviews",
            "containers": [{
                "name": "reviews",
                "image": "docker.io/istio/examples-bookinfo-reviews-v1:1.20.2",
                "ports": [{"containerPort": 9080}],
                "readinessProbe": {"httpGet": {"path": "/health", "port": 9080}, "periodSeconds": 5},
            }],
        },
    })
}

#[test]
fn classic_injection_has_the_full_sidecar() {
    let store = cluster();
    namespace(&store, "bookinfo", &[("istio-injection", "enabled")]);
    let out = admit(&store, reviews_pod()).unwrap();
    assert!(out.to_string().len() > 5000, "a realistic injected pod is several KB");
    assert_eq!(names(&out, "containers"), ["reviews", "istio-proxy"]);
    assert_eq!(names(&out, "initContainers"), ["istio-init"]);
    assert_eq!(
        names(&out, "volumes"),
        [
            "workload-socket",
            "credential-socket",
            "workload-certs",
            "istio-envoy",
            "istio-data",
            "istio-podinfo",
            "istio-token",
            "istiod-ca-cert"
        ]
    );
    assert_eq!(out["spec"]["volumes"][7]["configMap"]["name"], "istio-ca-root-cert");

    let annotations = &out["metadata"]["annotations"];
    assert_eq!(
        annotations["sidecar.istio.io/status"],
        r#"{"initContainers":["istio-init"],"containers":["istio-proxy"],"volumes":["workload-socket","credential-socket","workload-certs","istio-envoy","istio-data","istio-podinfo","istio-token","istiod-ca-cert"],"imagePullSecrets":null,"revision":"1-24-3"}"#
    );
    assert_eq!(annotations["istio.io/rev"], "1-24-3");
    assert_eq!(annotations["kubectl.kubernetes.io/default-container"], "reviews");
    assert_eq!(annotations["kubectl.kubernetes.io/default-logs-container"], "reviews");
    assert_eq!(annotations["prometheus.io/port"], "15020");
    assert_eq!(annotations["prometheus.io/path"], "/stats/prometheus");
    assert_eq!(annotations["prometheus.io/scrape"], "true");
    let labels = &out["metadata"]["labels"];
    assert_eq!(labels["security.istio.io/tlsMode"], "istio");
    assert_eq!(labels["service.istio.io/canonical-name"], "reviews");
    assert_eq!(labels["service.istio.io/canonical-revision"], "v1");
    assert_eq!(labels["app"], "reviews");

    let proxy = container(&out, "istio-proxy");
    assert_eq!(proxy["image"], "docker.io/istio/proxyv2:1.24.3");
    assert_eq!(
        proxy["args"],
        json!([
            "proxy",
            "sidecar",
            "--domain",
            "$(POD_NAMESPACE).svc.cluster.local",
            "--proxyLogLevel=warning",
            "--proxyComponentLogLevel=misc:error",
            "--log_output_level=default:info"
        ])
    );
    for (name, want) in [
        ("PILOT_CERT_PROVIDER", "istiod"),
        ("CA_ADDR", "istiod-1-24-3.istio-system.svc:15012"),
        ("PROXY_CONFIG", "{\"discoveryAddress\":\"istiod-1-24-3.istio-system.svc:15012\"}\n"),
        ("ISTIO_META_POD_PORTS", "[\n    {\"containerPort\":9080,\"protocol\":\"TCP\"}\n]"),
        ("ISTIO_META_APP_CONTAINERS", "reviews"),
        ("ISTIO_META_CLUSTER_ID", "Kubernetes"),
        ("ISTIO_META_INTERCEPTION_MODE", "REDIRECT"),
        ("ISTIO_META_WORKLOAD_NAME", "reviews-v1"),
        ("ISTIO_META_OWNER", "kubernetes://apis/apps/v1/namespaces/bookinfo/deployments/reviews-v1"),
        ("ISTIO_META_MESH_ID", "cluster.local"),
        ("TRUST_DOMAIN", "cluster.local"),
        (
            "ISTIO_KUBE_APP_PROBERS",
            r#"{"/app-health/reviews/readyz":{"httpGet":{"path":"/health","port":9080,"scheme":"HTTP"},"timeoutSeconds":1}}"#,
        ),
    ] {
        assert_eq!(env_value(proxy, name).as_deref(), Some(want), "{name}");
    }
    let pod_name = proxy["env"].as_array().unwrap().iter().find(|e| e["name"] == "POD_NAME").unwrap();
    assert_eq!(pod_name["valueFrom"]["fieldRef"]["fieldPath"], "metadata.name");
    assert_eq!(proxy["ports"], json!([{"containerPort": 15090, "name": "http-envoy-prom", "protocol": "TCP"}]));
    assert_eq!(proxy["readinessProbe"]["httpGet"], json!({"path": "/healthz/ready", "port": 15021, "scheme": "HTTP"}));
    assert_eq!(proxy["resources"]["requests"], json!({"cpu": "100m", "memory": "128Mi"}));
    assert_eq!(proxy["securityContext"]["runAsUser"], 1337);
    assert!(proxy.get("restartPolicy").is_none());
    // Re-defaulted after the mutation, like the API server does.
    assert_eq!(proxy["imagePullPolicy"], "IfNotPresent");
    assert_eq!(proxy["terminationMessagePath"], "/dev/termination-log");

    let init = container(&out, "istio-init");
    assert_eq!(init["image"], "docker.io/istio/proxyv2:1.24.3");
    assert_eq!(
        init["args"],
        json!([
            "istio-iptables",
            "-p",
            "15001",
            "-z",
            "15006",
            "-u",
            "1337",
            "-m",
            "REDIRECT",
            "-i",
            "*",
            "-x",
            "",
            "-b",
            "*",
            "-d",
            "15090,15021,15020",
            "--log_output_level=default:info"
        ])
    );
    assert_eq!(init["securityContext"]["capabilities"]["add"], json!(["NET_ADMIN", "NET_RAW"]));
    assert_eq!(init["securityContext"]["runAsUser"], 0);

    // The application's probe now goes through the agent.
    let app = container(&out, "reviews");
    assert_eq!(
        app["readinessProbe"],
        json!({"httpGet": {"path": "/app-health/reviews/readyz", "port": 15020, "scheme": "HTTP"}, "periodSeconds": 5})
    );
}

#[test]
fn canary_revision_points_the_proxy_at_its_own_istiod() {
    let store = cluster();
    namespace(&store, "bookinfo", &[("istio.io/rev", "1-25-0")]);
    let out = admit(&store, reviews_pod()).unwrap();
    let proxy = container(&out, "istio-proxy");
    assert_eq!(proxy["image"], "docker.io/istio/proxyv2:1.25.0");
    assert_eq!(env_value(proxy, "CA_ADDR").as_deref(), Some("istiod-1-25-0.istio-system.svc:15012"));
    assert!(
        out["metadata"]["annotations"]["sidecar.istio.io/status"]
            .as_str()
            .unwrap()
            .ends_with(r#""revision":"1-25-0"}"#)
    );
}

#[test]
fn native_sidecar_form() {
    let want_status = r#"{"initContainers":["istio-init","istio-proxy"],"containers":null,"volumes":["workload-socket","credential-socket","workload-certs","istio-envoy","istio-data","istio-podinfo","istio-token","istiod-ca-cert"],"imagePullSecrets":null,"revision":"1-24-3"}"#;
    let check_native = |out: &Value| {
        assert_eq!(names(out, "initContainers"), ["istio-init", "istio-proxy", "migrate"]);
        assert_eq!(names(out, "containers"), ["app"]);
        assert_eq!(container(out, "istio-proxy")["restartPolicy"], "Always");
        assert_eq!(out["metadata"]["annotations"]["sidecar.istio.io/status"], want_status);
    };
    let with_migration = |mut pod: Value| {
        pod["spec"]["initContainers"] = json!([{"name": "migrate", "image": "docker.io/example/migrate:1.0"}]);
        pod
    };
    let store = cluster();
    namespace(&store, "apps", &[("istio-injection", "enabled")]);
    let pod = with_migration(app_pod("apps", "web", &[], &[("sidecar.istio.io/nativeSidecar", "true")]));
    check_native(&admit(&store, pod).unwrap());

    // istiod-wide setting through the values, and the per-pod opt-out.
    edit_values(&store, "istio-sidecar-injector-1-24-3", |v| {
        v["pilot"] = json!({"env": {"ENABLE_NATIVE_SIDECARS": true}})
    });
    check_native(&admit(&store, with_migration(app_pod("apps", "web", &[], &[]))).unwrap());
    let pod = with_migration(app_pod("apps", "web", &[], &[("sidecar.istio.io/nativeSidecar", "false")]));
    let out = admit(&store, pod).unwrap();
    assert_eq!(names(&out, "initContainers"), ["migrate", "istio-init"]);
    assert_eq!(names(&out, "containers"), ["app", "istio-proxy"]);
}

#[test]
fn native_sidecar_auto_follows_the_kubelets() {
    let store = cluster();
    edit(&store, kind("", "pods"), "istio-system", "istiod-1-24-3-5d9c8b7f6-x7k2p", |p| {
        p["spec"]["containers"][0]["env"]
            .as_array_mut()
            .unwrap()
            .push(json!({"name": "ENABLE_NATIVE_SIDECARS", "value": "auto"}));
    });
    namespace(&store, "apps", &[("istio-injection", "enabled")]);
    let node = |name: &str, version: &str| {
        json!({"apiVersion": "v1", "kind": "Node", "metadata": {"name": name},
               "status": {"nodeInfo": {"kubeletVersion": version}}})
    };
    store.create(kind("", "nodes"), node("worker-1", "v1.33.2")).unwrap();
    let out = admit(&store, app_pod("apps", "web", &[], &[])).unwrap();
    assert_eq!(names(&out, "initContainers"), ["istio-init", "istio-proxy"]);
    store.create(kind("", "nodes"), node("worker-2", "v1.32.5")).unwrap();
    let out = admit(&store, app_pod("apps", "web", &[], &[])).unwrap();
    assert_eq!(names(&out, "initContainers"), ["istio-init"], "one old kubelet keeps the classic form");
    let mut pinned = app_pod("apps", "web", &[], &[]);
    pinned["spec"]["nodeName"] = json!("worker-1");
    let out = admit(&store, pinned).unwrap();
    assert_eq!(names(&out, "initContainers"), ["istio-init", "istio-proxy"], "a scheduled pod checks its node");
}

#[test]
fn proxy_image_from_values_and_annotation() {
    let store = cluster();
    namespace(&store, "apps", &[("istio-injection", "enabled")]);
    let images = |store: &Store, annotations: &[(&str, &str)]| {
        let out = admit(store, app_pod("apps", "web", &[], annotations)).unwrap();
        (
            container(&out, "istio-proxy")["image"].as_str().unwrap().to_string(),
            container(&out, "istio-init")["image"].as_str().unwrap().to_string(),
        )
    };
    edit_values(&store, "istio-sidecar-injector-1-24-3", |v| v["global"]["hub"] = json!("registry.example.com/mesh"));
    let hub = "registry.example.com/mesh/proxyv2:1.24.3".to_string();
    assert_eq!(images(&store, &[]), (hub.clone(), hub.clone()));
    assert_eq!(
        images(&store, &[("sidecar.istio.io/proxyImageType", "distroless")]),
        (
            "registry.example.com/mesh/proxyv2:1.24.3-distroless".into(),
            "registry.example.com/mesh/proxyv2:1.24.3-distroless".into()
        )
    );
    // The annotation replaces the proxy's image only, and only when it is a full reference.
    assert_eq!(
        images(&store, &[("sidecar.istio.io/proxyImage", "docker.io/istio/proxyv2:1.24.3-debug")]),
        ("docker.io/istio/proxyv2:1.24.3-debug".into(), hub.clone())
    );
    assert_eq!(images(&store, &[("sidecar.istio.io/proxyImage", "proxyv2-custom")]), (hub.clone(), hub));
    edit_values(&store, "istio-sidecar-injector-1-24-3", |v| {
        v["global"]["proxy"]["image"] = json!("gcr.io/acme/istio-proxy:1.24.3-acme");
    });
    let abs = "gcr.io/acme/istio-proxy:1.24.3-acme".to_string();
    assert_eq!(images(&store, &[]), (abs.clone(), abs));
}

type Pair<'a> = (&'a str, &'a str);

#[test]
fn canonical_labels_and_workload_fallbacks() {
    let store = cluster();
    namespace(&store, "apps", &[("istio-injection", "enabled")]);
    // (case, pod labels, controlling owner (kind, name), (canonical name, revision), ISTIO_META_OWNER)
    let cases: &[(&str, Pairs, Option<Pair>, Pair, &str)] = &[
        (
            "app.kubernetes.io labels first",
            &[
                ("app.kubernetes.io/name", "ratings"),
                ("app.kubernetes.io/version", "2.1"),
                ("app", "x"),
                ("version", "y"),
            ],
            None,
            ("ratings", "2.1"),
            "kubernetes://apis/v1/namespaces/apps/pods/web",
        ),
        (
            "app and version",
            &[("app", "details"), ("version", "v2")],
            None,
            ("details", "v2"),
            "kubernetes://apis/v1/namespaces/apps/pods/web",
        ),
        (
            "explicit canonical labels stay",
            &[
                ("service.istio.io/canonical-name", "front"),
                ("service.istio.io/canonical-revision", "blue"),
                ("app", "x"),
            ],
            None,
            ("front", "blue"),
            "kubernetes://apis/v1/namespaces/apps/pods/web",
        ),
        (
            "Deployment name from the ReplicaSet",
            &[("pod-template-hash", "6b746f74dc")],
            Some(("ReplicaSet", "productpage-v1-6b746f74dc")),
            ("productpage-v1", "latest"),
            "kubernetes://apis/apps/v1/namespaces/apps/deployments/productpage-v1",
        ),
        (
            "CronJob name from the Job",
            &[],
            Some(("Job", "backup-28391520")),
            ("backup", "latest"),
            "kubernetes://apis/batch/v1/namespaces/apps/cronjobs/backup",
        ),
        (
            "StatefulSet owner",
            &[],
            Some(("StatefulSet", "kafka")),
            ("kafka", "latest"),
            "kubernetes://apis/apps/v1/namespaces/apps/statefulsets/kafka",
        ),
        ("bare pod", &[], None, ("web", "latest"), "kubernetes://apis/v1/namespaces/apps/pods/web"),
    ];
    for (what, labels, owner, (name, revision), owner_uri) in cases {
        let mut pod = app_pod("apps", "web", labels, &[]);
        if let Some((kind, owner_name)) = owner {
            let api_version = match *kind {
                "Job" => "batch/v1",
                _ => "apps/v1",
            };
            pod["metadata"]["generateName"] = json!(format!("{owner_name}-"));
            pod["metadata"]["ownerReferences"] =
                json!([{"apiVersion": api_version, "kind": kind, "name": owner_name, "uid": "u", "controller": true}]);
        }
        let out = admit(&store, pod).unwrap();
        let l = &out["metadata"]["labels"];
        assert_eq!(
            (l["service.istio.io/canonical-name"].as_str(), l["service.istio.io/canonical-revision"].as_str()),
            (Some(*name), Some(*revision)),
            "{what}"
        );
        assert_eq!(
            env_value(container(&out, "istio-proxy"), "ISTIO_META_OWNER").as_deref(),
            Some(*owner_uri),
            "{what}"
        );
    }
}

#[test]
fn prometheus_settings_move_into_the_proxy() {
    let store = cluster();
    namespace(&store, "apps", &[("istio-injection", "enabled")]);
    let pod = app_pod(
        "apps",
        "web",
        &[],
        &[("prometheus.io/scrape", "true"), ("prometheus.io/port", "9090"), ("prometheus.io/path", "/metrics")],
    );
    let out = admit(&store, pod).unwrap();
    assert_eq!(
        env_value(container(&out, "istio-proxy"), "ISTIO_PROMETHEUS_ANNOTATIONS").as_deref(),
        Some(r#"{"scrape":"true","path":"/metrics","port":"9090"}"#)
    );
    assert_eq!(out["metadata"]["annotations"]["prometheus.io/port"], "15020");
    // A pod that opts out of scraping keeps its annotations and gets none added.
    let out = admit(&store, app_pod("apps", "web", &[], &[("prometheus.io/scrape", "false")])).unwrap();
    assert_eq!(out["metadata"]["annotations"].get("prometheus.io/port"), None);
    assert_eq!(env_value(container(&out, "istio-proxy"), "ISTIO_PROMETHEUS_ANNOTATIONS"), None);
}

#[test]
fn template_switches() {
    let store = cluster();
    namespace(&store, "apps", &[("istio-injection", "enabled")]);
    // Hold the application until the proxy is ready: proxy first, waiting in postStart.
    let pod = app_pod("apps", "web", &[], &[("proxy.istio.io/config", "holdApplicationUntilProxyStarts: true")]);
    let out = admit(&store, pod).unwrap();
    assert_eq!(names(&out, "containers"), ["istio-proxy", "app"]);
    assert_eq!(
        container(&out, "istio-proxy")["lifecycle"]["postStart"]["exec"]["command"],
        json!(["pilot-agent", "wait"])
    );
    // No traffic capture: no init container at all.
    let out = admit(&store, app_pod("apps", "web", &[], &[("sidecar.istio.io/interceptionMode", "NONE")])).unwrap();
    assert_eq!(names(&out, "initContainers"), Vec::<String>::new());
    assert!(
        out["metadata"]["annotations"]["sidecar.istio.io/status"]
            .as_str()
            .unwrap()
            .starts_with(r#"{"initContainers":null,"#)
    );
    // Istio CNI: only a validation init container, unprivileged.
    edit_values(&store, "istio-sidecar-injector-1-24-3", |v| v["pilot"] = json!({"cni": {"enabled": true}}));
    let out = admit(&store, app_pod("apps", "web", &[], &[])).unwrap();
    assert_eq!(names(&out, "initContainers"), ["istio-validation"]);
    let validation = container(&out, "istio-validation");
    assert!(validation["args"].as_array().unwrap().contains(&json!("--run-validation")));
    assert_eq!(validation["securityContext"]["capabilities"]["add"], Value::Null);
    assert_eq!(out["metadata"]["annotations"]["sidecar.istio.io/interceptionMode"], "REDIRECT");
    // Per-pod resources.
    let out = admit(&store, app_pod("apps", "web", &[], &[("sidecar.istio.io/proxyCPU", "50m")])).unwrap();
    assert_eq!(container(&out, "istio-proxy")["resources"], json!({"requests": {"cpu": "50m"}}));
}

#[test]
fn user_customised_proxy_container_wins() {
    let store = cluster();
    namespace(&store, "apps", &[("istio-injection", "enabled")]);
    let mut pod = app_pod("apps", "web", &[], &[]);
    pod["spec"]["containers"].as_array_mut().unwrap().push(json!({
        "name": "istio-proxy", "image": "auto",
        "resources": {"requests": {"cpu": "10m"}},
        "env": [{"name": "ISTIO_META_DNS_CAPTURE", "value": "true"}, {"name": "CA_ADDR", "value": "ca.example:15012"}],
    }));
    let out = admit(&store, pod).unwrap();
    assert_eq!(injected_revision(&out).as_deref(), Some("1-24-3"));
    assert_eq!(names(&out, "containers"), ["app", "istio-proxy"]);
    let proxy = container(&out, "istio-proxy");
    assert_eq!(proxy["image"], "docker.io/istio/proxyv2:1.24.3");
    assert_eq!(proxy["resources"], json!({"requests": {"cpu": "10m"}}));
    assert_eq!(env_value(proxy, "CA_ADDR").as_deref(), Some("ca.example:15012"));
    assert_eq!(env_value(proxy, "ISTIO_META_DNS_CAPTURE").as_deref(), Some("true"));
    assert_eq!(env_value(proxy, "ISTIO_META_APP_CONTAINERS").as_deref(), Some("app"));
}
