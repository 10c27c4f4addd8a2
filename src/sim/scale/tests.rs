//! Tests of the scale generator: exact counts and names for small specs, rendered pods,
//! label consistency with the store, paging.

use super::*;
use crate::labels::{Selector, labels_of, selector_matches};
use crate::sim::clock::{Clock, parse_rfc3339};
use crate::sim::store::ListQuery;
use serde_json::json;
use std::collections::HashSet;

fn spec(namespaces: usize, workloads: usize, pods_per_workload: usize) -> ScaleSpec {
    ScaleSpec { namespaces, workloads, pods_per_workload }
}

fn names(values: &[Arc<Value>]) -> Vec<String> {
    values.iter().map(|v| v["metadata"]["name"].as_str().unwrap().to_string()).collect()
}

#[test]
fn parses_scale_specs() {
    let ok = [
        ("namespaces=1000,workloads=10000,pods-per-workload=10", spec(1000, 10_000, 10)),
        (" pods-per-workload = 2 , namespaces=3,workloads=6 ", spec(3, 6, 2)),
        ("namespaces=1,workloads=0,pods-per-workload=0", spec(1, 0, 0)),
        ("namespaces=1_000,workloads=10_000,pods-per-workload=10", spec(1000, 10_000, 10)),
    ];
    for (text, want) in ok {
        assert_eq!(text.parse::<ScaleSpec>(), Ok(want), "{text}");
    }
    let bad = [
        (
            "namespaces",
            "scale spec: \"namespaces\" is not key=value (expected e.g. namespaces=1000,workloads=10000,pods-per-workload=10)",
        ),
        ("namespaces=1,pods=2", "scale spec: unknown key \"pods\" (known: namespaces, workloads, pods-per-workload)"),
        ("namespaces=ten", "scale spec: namespaces=\"ten\" is not a whole number"),
        ("namespaces=-1", "scale spec: namespaces=\"-1\" is not a whole number"),
        ("namespaces=1,namespaces=2", "scale spec: namespaces is given twice"),
        ("workloads=5", "scale spec: missing namespaces, pods-per-workload"),
        ("", "scale spec: missing namespaces, workloads, pods-per-workload"),
        ("namespaces=0,workloads=1,pods-per-workload=1", "scale spec: namespaces must be at least 1"),
        (
            "namespaces=1,workloads=100000,pods-per-workload=100",
            "scale spec: pods 10000000 is over the limit of 2000000",
        ),
    ];
    for (text, want) in bad {
        assert_eq!(text.parse::<ScaleSpec>().unwrap_err().to_string(), want, "{text}");
    }
}

#[test]
fn generates_a_small_cluster_exactly() {
    let cluster = Cluster::new(Clock::default());
    let sum = generate(&cluster, &spec(3, 6, 2));
    assert_eq!(
        sum,
        ScaleSummary {
            namespaces: 3,
            nodes: 1,
            service_accounts: 9,
            services: 6,
            deployments: 6,
            replica_sets: 6,
            pods: 12,
            peer_authentications: 1,
            authorization_policies: 1,
        }
    );
    let store = &cluster.store;
    let all = |group: &str, plural: &str, ns: Option<&str>| store.all(kind(group, plural), ns);

    let namespaces = all("", "namespaces", None);
    assert_eq!(names(&namespaces), ["scale-0000", "scale-0001", "scale-0002"]);
    let ns_labels: Vec<Labels> = namespaces.iter().map(|n| labels_of(n)).collect();
    assert_eq!(ns_labels[0].get("istio-injection").map(String::as_str), Some("enabled"));
    assert_eq!(ns_labels[1].get("istio.io/rev").map(String::as_str), Some("1-25-0"));
    assert_eq!(ns_labels[2].len(), 1, "only kubernetes.io/metadata.name: {:?}", ns_labels[2]);

    assert_eq!(names(&all("apps", "deployments", Some("scale-0000"))), ["cart-00000", "inventory-00003"]);
    assert_eq!(names(&all("", "services", Some("scale-0001"))), ["checkout-00001", "pricing-00004"]);
    assert_eq!(names(&all("", "serviceaccounts", Some("scale-0002"))), ["catalog-00002", "default", "search-00005"]);
    assert_eq!(names(&all("security.istio.io", "peerauthentications", None)), ["default"]);
    assert_eq!(names(&all("security.istio.io", "authorizationpolicies", Some("scale-0000"))), ["cart-00000-viewers"]);
    assert_eq!(names(&all("", "nodes", None)), ["scale-node-000"]);

    let deploy = cluster.get(kind("apps", "deployments"), "scale-0001", "checkout-00001").unwrap();
    assert_eq!(deploy["metadata"]["generation"], 1);
    assert_eq!(deploy["status"]["observedGeneration"], 1);
    assert_eq!(deploy["status"]["readyReplicas"], 2);
    assert_eq!(deploy["spec"]["replicas"], 2);
    let rss = all("apps", "replicasets", Some("scale-0001"));
    let rs = rss.iter().find(|r| r["metadata"]["ownerReferences"][0]["name"] == "checkout-00001").unwrap();
    assert_eq!(rs["metadata"]["ownerReferences"][0]["uid"], deploy["metadata"]["uid"]);
    let rs_name = rs["metadata"]["name"].as_str().unwrap();
    assert!(rs_name.starts_with("checkout-00001-") && rs_name.len() == "checkout-00001-".len() + 10, "{rs_name}");

    let pods = all("", "pods", Some("scale-0001"));
    assert_eq!(pods.len(), 4);
    let sel = Selector::parse("app=checkout-00001").unwrap();
    let q = ListQuery { namespace: Some("scale-0001"), name: None, selector: Some(&sel), limit: None, after: None };
    let mine = store.list(kind("", "pods"), &q).items;
    assert_eq!(mine.len(), 2);
    for pod in &mine {
        let owner = &pod["metadata"]["ownerReferences"][0];
        assert_eq!((owner["kind"].as_str(), owner["name"].as_str()), (Some("ReplicaSet"), Some(rs_name)));
        assert_eq!(owner["uid"], rs["metadata"]["uid"]);
        assert!(selector_matches(Some(&rs["spec"]["selector"]), &labels_of(pod)));
        assert!(pod["metadata"]["name"].as_str().unwrap().starts_with(&format!("{rs_name}-")));
    }
}

fn container_names(pod: &Value, list: &str) -> Vec<String> {
    pod["spec"][list].as_array().map(|cs| names_of(cs)).unwrap_or_default()
}

fn names_of(cs: &[Value]) -> Vec<String> {
    cs.iter().map(|c| c["name"].as_str().unwrap().to_string()).collect()
}

#[test]
fn rendered_pods_look_injected() {
    let cluster = Cluster::new(Clock::default());
    generate(&cluster, &spec(3, 6, 2));
    let pods = |ns: &str| cluster.store.all(kind("", "pods"), Some(ns));

    // scale-0000: istio-injection=enabled, so the default revision (1-24-3) injected it.
    let pod = pods("scale-0000")[0].clone();
    let text = pod.to_string();
    assert!(text.len() > 3 * 1024, "{} bytes", text.len());
    assert_eq!(container_names(&pod, "containers"), ["cart", "istio-proxy"]);
    assert_eq!(container_names(&pod, "initContainers"), ["istio-init"]);
    let ann = &pod["metadata"]["annotations"];
    assert_eq!(ann["istio.io/rev"], "1-24-3");
    let status: Value = serde_json::from_str(ann["sidecar.istio.io/status"].as_str().unwrap()).unwrap();
    assert_eq!(status["revision"], "1-24-3");
    assert_eq!(status["containers"], json!(["istio-proxy"]));
    assert_eq!(status["initContainers"], json!(["istio-init"]));
    assert_eq!(pod["metadata"]["labels"]["security.istio.io/tlsMode"], "istio");
    let proxy = &pod["spec"]["containers"][1];
    assert_eq!(proxy["image"], "docker.io/istio/proxyv2:1.24.3");
    let ca = proxy["env"].as_array().unwrap().iter().find(|e| e["name"] == "CA_ADDR").unwrap();
    assert_eq!(ca["value"], "istiod-1-24-3.istio-system.svc:15012");
    assert_eq!(pod["spec"]["containers"][0]["readinessProbe"]["httpGet"]["path"], "/app-health/cart/readyz");
    let volumes = names_of(pod["spec"]["volumes"].as_array().unwrap());
    assert!(volumes.iter().any(|v| v == "istiod-ca-cert") && volumes.iter().any(|v| v.starts_with("kube-api-access-")));
    assert_eq!(pod["status"]["phase"], "Running");
    let ready: Vec<bool> =
        pod["status"]["containerStatuses"].as_array().unwrap().iter().map(|s| s["ready"] == true).collect();
    assert_eq!(ready, [true, true]);
    assert!(pod["metadata"]["resourceVersion"].as_str().is_some_and(|rv| !rv.is_empty()));
    let created = parse_rfc3339(pod["metadata"]["creationTimestamp"].as_str().unwrap()).unwrap();
    assert!(created < std::time::SystemTime::now() - Duration::from_secs(86_400));

    // scale-0001: istio.io/rev=1-25-0.
    let pod = pods("scale-0001")[0].clone();
    assert_eq!(pod["metadata"]["annotations"]["istio.io/rev"], "1-25-0");
    assert_eq!(pod["spec"]["containers"][1]["image"], "docker.io/istio/proxyv2:1.25.0");

    // scale-0002: no label, no sidecar.
    let pod = pods("scale-0002")[0].clone();
    assert_eq!(container_names(&pod, "containers"), ["catalog"]);
    assert!(pod["spec"].get("initContainers").is_none());
    assert!(pod["metadata"].get("annotations").is_none());
    assert!(pod["metadata"]["labels"].get("security.istio.io/tlsMode").is_none());
}

#[test]
fn stored_labels_match_rendered_labels_and_uids_are_stable() {
    let cluster = Cluster::new(Clock::default());
    generate(&cluster, &spec(4, 9, 3));
    let mut uids = HashSet::new();
    let mut count = 0;
    for k in kinds::all().filter(|k| !k.virtual_only) {
        for obj in cluster.store.all(k, None) {
            let ns = obj["metadata"]["namespace"].as_str().unwrap_or_default();
            let name = obj["metadata"]["name"].as_str().unwrap();
            let entry = cluster.store.get(k, ns, name).unwrap();
            assert_eq!(*entry.labels, labels_of(&obj), "{} {ns}/{name}", k.kind);
            let uid = obj["metadata"]["uid"].as_str().unwrap().to_string();
            assert_eq!(entry.value()["metadata"]["uid"], uid.as_str(), "uid changes between renders");
            assert!(uids.insert(uid), "duplicate uid on {} {ns}/{name}", k.kind);
            count += 1;
        }
    }
    // 4 ns + 1 node + (4 + 9) SAs + 9 services + 9 deployments + 9 RS + 27 pods + 1 PA + 1 AP.
    assert_eq!(count, 74);
}

#[test]
fn list_pages_through_every_pod() {
    let cluster = Cluster::new(Clock::default());
    generate(&cluster, &spec(3, 7, 5));
    let pods = kind("", "pods");
    for namespace in [None, Some("scale-0001")] {
        let mut seen = Vec::new();
        let mut after = None;
        let mut pages = 0;
        loop {
            let q = ListQuery { namespace, name: None, selector: None, limit: Some(4), after: after.take() };
            let page = cluster.store.list(pods, &q);
            assert!(page.items.len() <= 4);
            for p in &page.items {
                seen.push((
                    p["metadata"]["namespace"].as_str().unwrap().to_string(),
                    p["metadata"]["name"].as_str().unwrap().to_string(),
                ));
            }
            pages += 1;
            match page.next {
                Some(n) => after = Some(n),
                None => break,
            }
        }
        // 7 workloads round-robin over 3 namespaces: 3, 2 and 2 of them, 5 pods each.
        let want = if namespace.is_some() { 10 } else { 35 };
        assert_eq!(seen.len(), want, "{namespace:?}");
        assert_eq!(pages, want.div_ceil(4), "{namespace:?}");
        let mut sorted = seen.clone();
        sorted.sort();
        sorted.dedup();
        assert_eq!(sorted, seen, "pages overlap or are out of order");
    }
}

#[test]
fn uids_and_digests_keep_their_shape() {
    // Computed independently from the definition (splitmix64, then printf-style hex fields).
    let cases: [(u64, &str); 3] = [
        (0, "e220a839-7b1d-4daf-a706-dd2f4d197e6f"),
        (id(Tag::Pod, 12), "ad4bb501-cb05-4743-a0fb-1febd75bb0fd"),
        (u64::MAX, "e4d97177-1b65-4c20-a309-143e67a47936"),
    ];
    for (seed, want) in cases {
        assert_eq!(uid(seed), want, "uid({seed})");
    }
    assert_eq!(hex64(7), "63cbe1e459320dd79e5651b0ef953636aeaf52febe706064088712be8a582fca");
    assert_eq!(hex64(u64::MAX), "e4d971771b652c20e220a8397b1dcdaf910a2dec89025cc1975835de1c9756ce");
}
