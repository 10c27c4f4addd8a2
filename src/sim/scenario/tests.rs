//! Tests of scenario parsing, client-side apply and the settle wait, against an in-process
//! cluster without controllers.

use super::*;
use crate::sim::clock::Clock;
use crate::sim::ops::WriteOpts;
use crate::sim::store::EventType;
use serde_json::json;

fn kind(group: &str, plural: &str) -> &'static Kind {
    kinds::by_group_plural(group, plural).unwrap()
}

fn files(list: &[(&str, &str)]) -> Vec<(String, String)> {
    list.iter().map(|(n, t)| (n.to_string(), t.to_string())).collect()
}

fn quick() -> LoadOptions {
    LoadOptions { settle_timeout: Duration::from_millis(50) }
}

#[test]
fn parses_documents_lists_and_empty_documents() {
    let text = "\
--- # leading separator with a comment
# only a comment here
---
apiVersion: v1
kind: Namespace
metadata: {name: a}
---

---
apiVersion: v1
kind: List
items:
  - {apiVersion: v1, kind: ConfigMap, metadata: {name: x, namespace: a}}
  - {apiVersion: v1, kind: ConfigMap, metadata: {name: y, namespace: a}, data: {port: 80}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: z, namespace: a}
data:
  s: |
    ---not a separator inside a block scalar
";
    let docs = parse_documents("f.yaml", text).unwrap();
    let names: Vec<&str> = docs.iter().map(|d| d["metadata"]["name"].as_str().unwrap()).collect();
    assert_eq!(names, ["a", "x", "y", "z"]);
    assert_eq!(docs[2]["data"]["port"], json!(80));
    assert_eq!(docs[3]["data"]["s"], "---not a separator inside a block scalar\n");
}

#[test]
fn parse_errors_name_file_document_and_line() {
    let cases = [
        // A bad mapping on line 6, in the second non-empty document.
        ("a: 1\n---\nkind: X\nmetadata:\n  name: x\n   bad: indent\n", 2, 6),
        ("---\n- just\n- a list\n", 1, 2),
        ("apiVersion: v1\nkind: List\n", 1, 1),
        ("a: 1\n---\nb: [1, 2\n", 2, 4),
    ];
    for (text, doc, line) in cases {
        match parse_documents("bad.yaml", text) {
            Err(ScenarioError::Parse { file, doc: d, line: l, message }) => {
                assert_eq!((file.as_str(), d, l), ("bad.yaml", doc, line), "{text:?}: {message}");
            }
            other => panic!("{text:?}: expected a parse error, got {other:?}"),
        }
    }
}

#[test]
fn resolves_builtins_files_and_folders() {
    let demo = resolve("demo").unwrap();
    let names: Vec<&str> = demo.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["istio.yaml", "demo/10-apps.yaml", "demo/20-promote.yaml"]);
    assert_eq!(resolve("istio").unwrap().len(), 1);

    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("b.yaml"), "b: 1\n").unwrap();
    std::fs::write(dir.path().join("a.yml"), "a: 1\n").unwrap();
    std::fs::write(dir.path().join("notes.txt"), "no").unwrap();
    let got = resolve(dir.path().to_str().unwrap()).unwrap();
    let texts: Vec<&str> = got.iter().map(|(_, t)| t.as_str()).collect();
    assert_eq!(texts, ["a: 1\n", "b: 1\n"]);
    assert!(got[0].0.ends_with("a.yml"));

    let single = dir.path().join("b.yaml");
    assert_eq!(resolve(single.to_str().unwrap()).unwrap().len(), 1);
    assert!(matches!(resolve("no-such-scenario"), Err(ScenarioError::Unknown { .. })));
    let empty = tempfile::tempdir().unwrap();
    assert!(matches!(resolve(empty.path().to_str().unwrap()), Err(ScenarioError::EmptyFolder { .. })));
}

#[tokio::test]
async fn unknown_kinds_fail_before_anything_is_applied() {
    let cluster = Cluster::new(Clock::default());
    let text = "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\n# widget\napiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w, namespace: a}\n";
    let err = load_with(&cluster, &files(&[("w.yaml", text)]), quick()).await.unwrap_err();
    match &err {
        ScenarioError::UnknownKind { file, doc, line, kind, .. } => {
            assert_eq!((file.as_str(), *doc, *line, kind.as_str()), ("w.yaml", 2, 5, "Widget"));
        }
        other => panic!("unexpected {other:?}"),
    }
    assert!(err.to_string().starts_with("w.yaml: document 2 (line 5): unknown kind \"Widget\""));
    assert!(cluster.get(kind("", "namespaces"), "", "a").is_err());
}

#[tokio::test]
async fn apply_errors_name_the_object() {
    let cluster = Cluster::new(Clock::default());
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: missing}\n";
    let err = load_with(&cluster, &files(&[("c.yaml", text)]), quick()).await.unwrap_err();
    assert_eq!(err.to_string(), "c.yaml: document 1 (line 1): ConfigMap \"c\": namespaces \"missing\" not found");
}

/// Scenarios go through the same validation as `kubectl apply` against a real API server.
#[tokio::test]
async fn invalid_objects_in_a_scenario_are_refused_as_the_api_server_would() {
    let cluster = Cluster::new(Clock::default());
    let deploy = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  replicas: many\n";
    let err = load_with(&cluster, &files(&[("d.yaml", deploy)]), quick()).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "d.yaml: document 1 (line 1): Deployment \"web\": Deployment in version \"v1\" cannot be handled as a Deployment: json: cannot unmarshal string into Go struct field DeploymentSpec.spec.replicas of type int32"
    );
    let pa = "apiVersion: v1\nkind: Namespace\nmetadata: {name: rng}\n---\napiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: default, namespace: rng}\nspec: {mtls: {mode: BOGUS}}\n";
    let err = load_with(&cluster, &files(&[("pa.yaml", pa)]), quick()).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "pa.yaml: document 2 (line 5): PeerAuthentication \"default\": PeerAuthentication.security.istio.io \"default\" is invalid: spec.mtls.mode: Unsupported value: \"BOGUS\": supported values: \"UNSET\", \"DISABLE\", \"PERMISSIVE\", \"STRICT\""
    );
}

#[tokio::test]
async fn namespaces_are_created_before_their_contents() {
    let cluster = Cluster::new(Clock::default());
    let text = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c, namespace: late}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: late}\n";
    let report = load_with(&cluster, &files(&[("c.yaml", text)]), quick()).await.unwrap();
    let lines: Vec<String> = report.applied.iter().map(Applied::kubectl_line).collect();
    assert_eq!(lines, ["namespace/late created", "configmap/c created"]);
}

fn demo_objects(report: &LoadReport, file: &str) -> Vec<String> {
    report
        .applied
        .iter()
        .filter(|a| a.file == file)
        .map(|a| format!("{} {}/{} {:?}", a.kind.kind, a.namespace, a.name, a.outcome))
        .collect()
}

#[tokio::test]
async fn demo_loads_and_promotes_the_tag() {
    let cluster = Cluster::new(Clock::default());
    let report = load_with(&cluster, &resolve("demo").unwrap(), quick()).await.unwrap();

    let apps = demo_objects(&report, "demo/10-apps.yaml");
    assert_eq!(apps.len(), 44);
    assert!(apps.iter().all(|a| a.ends_with("Created")), "{apps:#?}");
    // Namespaces come first, in file order.
    assert_eq!(
        apps[..4],
        [
            "Namespace /rng Created",
            "Namespace /bookinfo Created",
            "Namespace /legacy Created",
            "Namespace /payments Created"
        ]
    );
    let promote = demo_objects(&report, "demo/20-promote.yaml");
    assert_eq!(
        promote,
        [
            "MutatingWebhookConfiguration /istio-revision-tag-prod-stable Configured",
            "Service istio-system/istiod-revision-tag-prod-stable Configured",
        ]
    );

    // No controllers run here, so the wait before 20-promote ran out, naming the workloads.
    let wait = report.unsettled.iter().find(|u| u.next_file == "demo/20-promote.yaml").expect("a timed-out wait");
    let mut demo_pending: Vec<&str> =
        wait.pending.iter().map(String::as_str).filter(|p| !p.contains(" istio-system/")).collect();
    demo_pending.sort();
    assert_eq!(
        demo_pending,
        [
            "Deployment bookinfo/details-v1",
            "Deployment bookinfo/productpage-v1",
            "Deployment bookinfo/ratings-v1",
            "Deployment bookinfo/reviews-v1",
            "Deployment bookinfo/reviews-v2",
            "Deployment bookinfo/reviews-v3",
            "Deployment legacy/legacy-client",
            "Deployment legacy/report-db",
            "Deployment payments/checkout",
            "Deployment rng/numbers-api",
            "Deployment rng/numbers-web",
            "StatefulSet payments/ledger",
        ]
    );

    let ns = |n: &str| cluster.get(kind("", "namespaces"), "", n).unwrap();
    assert_eq!(ns("rng")["metadata"]["labels"].get("istio-injection"), None);
    assert_eq!(ns("rng")["metadata"]["labels"].get("istio.io/rev"), None);
    assert_eq!(ns("bookinfo")["metadata"]["labels"]["istio-injection"], "enabled");
    assert_eq!(ns("payments")["metadata"]["labels"]["istio.io/rev"], "prod-stable");

    let web = cluster.get(kind("", "services"), "rng", "numbers-web").unwrap();
    assert_eq!(web["spec"]["type"], "LoadBalancer");
    assert_eq!(web["spec"]["ports"][0], json!({"name": "http", "port": 80, "targetPort": 8080, "protocol": "TCP"}));
    let ledger = cluster.get(kind("apps", "statefulsets"), "payments", "ledger").unwrap();
    assert_eq!(ledger["spec"]["updateStrategy"], json!({"type": "OnDelete"}));
    let pa = cluster.get(kind("security.istio.io", "peerauthentications"), "rng", "default").unwrap();
    assert_eq!(pa["spec"]["mtls"]["mode"], "PERMISSIVE");
    let pod = cluster.get(kind("", "pods"), "legacy", "debug-shell").unwrap();
    assert!(pod["metadata"].get("ownerReferences").is_none());

    let mwc = cluster
        .get(
            kind("admissionregistration.k8s.io", "mutatingwebhookconfigurations"),
            "",
            "istio-revision-tag-prod-stable",
        )
        .unwrap();
    assert_eq!(mwc["metadata"]["labels"]["istio.io/rev"], "1-25-0");
    assert_eq!(mwc["metadata"]["labels"]["istio.io/tag"], "prod-stable");
    let hooks: Vec<(&str, &str)> = mwc["webhooks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| (w["name"].as_str().unwrap(), w["clientConfig"]["service"]["name"].as_str().unwrap()))
        .collect();
    assert_eq!(
        hooks,
        [
            ("rev.namespace.sidecar-injector.istio.io", "istiod-1-25-0"),
            ("rev.object.sidecar-injector.istio.io", "istiod-1-25-0")
        ]
    );
    let applied: Value = serde_json::from_str(mwc["metadata"]["annotations"][LAST_APPLIED].as_str().unwrap()).unwrap();
    assert_eq!(applied["metadata"]["labels"]["istio.io/rev"], "1-25-0");

    // The re-applied Service keeps what the API server filled in.
    let tag_svc = cluster.get(kind("", "services"), "istio-system", "istiod-revision-tag-prod-stable").unwrap();
    assert_eq!(tag_svc["spec"]["selector"]["istio.io/rev"], "1-25-0");
    assert!(tag_svc["spec"]["clusterIP"].as_str().is_some_and(|ip| ip.starts_with("10.96.")));
    assert_eq!(tag_svc["spec"]["ports"][2]["targetPort"], 15017);
    assert_eq!(tag_svc["spec"]["ports"][0]["targetPort"], 15010);
}

#[tokio::test]
async fn reapplying_the_same_files_changes_nothing() {
    let cluster = Cluster::new(Clock::default());
    let demo = resolve("demo").unwrap();
    load_with(&cluster, &demo, quick()).await.unwrap();
    let rv = cluster.store.current_rv();
    let again = load_with(&cluster, &demo[1..], quick()).await.unwrap();
    let changed: Vec<String> =
        again.applied.iter().filter(|a| a.outcome != Outcome::Unchanged).map(Applied::kubectl_line).collect();
    // 10-apps.yaml puts the tag back on 1-24-3; 20-promote.yaml moves it on again.
    assert_eq!(
        changed,
        [
            "mutatingwebhookconfiguration.admissionregistration.k8s.io/istio-revision-tag-prod-stable configured",
            "service/istiod-revision-tag-prod-stable configured",
            "mutatingwebhookconfiguration.admissionregistration.k8s.io/istio-revision-tag-prod-stable configured",
            "service/istiod-revision-tag-prod-stable configured",
        ]
    );
    assert_eq!(cluster.store.current_rv(), rv + 4);
}

#[tokio::test]
async fn reapply_removes_what_the_file_dropped_and_keeps_foreign_changes() {
    let cluster = Cluster::new(Clock::default());
    let v1 = "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: a, labels: {app: d, tier: web}}\nspec:\n  selector: {matchLabels: {app: d}}\n  template:\n    metadata: {labels: {app: d}}\n    spec:\n      containers:\n      - {name: app, image: 'app:1', env: [{name: A, value: '1'}, {name: B, value: '2'}]}\n";
    load_with(&cluster, &files(&[("v1.yaml", v1)]), quick()).await.unwrap();
    let deploy = kind("apps", "deployments");
    // Someone else scales it and adds a label.
    cluster
        .mutate(deploy, "a", "d", "kubectl-scale", |d| {
            d["spec"]["replicas"] = json!(3);
            d["metadata"]["labels"]["owner"] = json!("ops");
        })
        .unwrap();
    let v2 = v1.replace(", tier: web", "").replace(", {name: B, value: '2'}", "").replace("app:1", "app:2");
    let report = load_with(&cluster, &files(&[("v2.yaml", &v2)]), quick()).await.unwrap();
    assert_eq!(report.applied[1].kubectl_line(), "deployment.apps/d configured");
    let d = cluster.get(deploy, "a", "d").unwrap();
    assert_eq!(d["metadata"]["labels"], json!({"app": "d", "owner": "ops"}));
    assert_eq!(d["spec"]["replicas"], 3);
    let c = &d["spec"]["template"]["spec"]["containers"][0];
    assert_eq!(c["image"], "app:2");
    assert_eq!(c["env"], json!([{"name": "A", "value": "1"}]));
    assert_eq!(c["terminationMessagePath"], "/dev/termination-log");
    assert_eq!(d["metadata"]["generation"], 3);
}

/// Stands in for the workload controllers: marks each new Deployment fully rolled out.
fn fake_rollouts(cluster: Arc<Cluster>) {
    let mut events = cluster.store.subscribe();
    tokio::spawn(async move {
        while let Some(ev) = events.recv().await {
            if ev.kind.plural != "deployments" || ev.kind_of_change != EventType::Added {
                continue;
            }
            let mut obj = (*ev.object).clone();
            let replicas = obj["spec"]["replicas"].clone();
            obj["status"] = json!({"observedGeneration": obj["metadata"]["generation"], "replicas": replicas,
                "readyReplicas": replicas, "updatedReplicas": replicas, "availableReplicas": replicas});
            obj["metadata"].as_object_mut().unwrap().remove("resourceVersion");
            cluster.update(ev.kind, obj, WriteOpts::by("fake-controller"), true).unwrap();
        }
    });
}

#[tokio::test]
async fn waits_for_workloads_to_settle_between_files() {
    let cluster = Cluster::new(Clock::default());
    fake_rollouts(cluster.clone());
    let first = "apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: a}\nspec:\n  replicas: 2\n  selector: {matchLabels: {app: d}}\n  template:\n    metadata: {labels: {app: d}}\n    spec: {containers: [{name: c, image: 'c:1'}]}\n";
    let second = "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: after, namespace: a}\n";
    let opts = LoadOptions { settle_timeout: Duration::from_secs(120) };
    let report = load_with(&cluster, &files(&[("1.yaml", first), ("2.yaml", second)]), opts).await.unwrap();
    assert!(report.unsettled.is_empty());
    let d = cluster.get(kind("apps", "deployments"), "a", "d").unwrap();
    assert_eq!(d["status"]["readyReplicas"], 2);
    let rv = |v: &Value| v["metadata"]["resourceVersion"].as_str().unwrap().parse::<u64>().unwrap();
    let cm = cluster.get(kind("", "configmaps"), "a", "after").unwrap();
    assert!(rv(&cm) > rv(&d), "the second file was applied before the rollout finished");
}
