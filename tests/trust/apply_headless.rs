//! The same safety rules through the real binary: two applies started at once, error findings
//! that block an apply, and a journal shared by two clusters.

use crate::common::cli::{Cli, both, code, text};
use crate::common::{restorable, sim};
use meshdeck::sim::api::faults::Answer;
use serde_json::Value;

const HEAD: &str = "apiVersion: meshdeck.dev/v1alpha1\nkind: Plan\nactions:\n";

async fn get(client: &kube::Client, path: &str) -> Option<Value> {
    let req = http_get(path);
    client.request::<Value>(req).await.ok()
}

fn http_get(path: &str) -> hyper::Request<Vec<u8>> {
    hyper::Request::get(path).body(Vec::new()).unwrap()
}

/// The demo cluster, a directory for the journal and the plan, and a plan holding `actions`
/// (YAML of the plan after `actions:`), for tests that drive the binary with one plan.
async fn demo_with_plan(actions: &str) -> (meshdeck::sim::run::SimHandle, tempfile::TempDir, Cli) {
    let h = sim(&["demo"], 50.0).await;
    let dir = tempfile::tempdir().unwrap();
    let cli = Cli::new(&h, dir.path());
    std::fs::write(&cli.plan, format!("{HEAD}{actions}")).unwrap();
    (h, dir, cli)
}

const PA: &str = "/apis/security.istio.io/v1/namespaces/rng/peerauthentications/default";
const DEPLOY: &str = "/apis/apps/v1/namespaces/rng/deployments/numbers-api";

fn mode(v: &Value) -> String {
    v["spec"]["mtls"]["mode"].as_str().unwrap_or("").to_string()
}

fn template(v: &Value) -> (Option<String>, Option<String>) {
    let m = &v["spec"]["template"]["metadata"];
    let s = |x: &Value| x.as_str().map(String::from);
    (s(&m["labels"]["sidecar.istio.io/inject"]), s(&m["annotations"]["kubectl.kubernetes.io/restartedAt"]))
}

/// Two plans over the same PeerAuthentication and Deployment, applied at the same moment on
/// one machine, with every request slowed down. Whatever the interleaving, an apply either
/// wrote everything its preview showed on top of exactly what it recorded, or wrote nothing
/// and said why; and undoing what was applied, newest first, restores the start.
#[tokio::test(flavor = "multi_thread")]
async fn two_applies_at_once_lose_nothing() {
    let h = crate::common::sim_with_faults(&["demo"], 50.0, "latency=300").await;
    let dir = tempfile::tempdir().unwrap();
    let a = Cli::new(&h, dir.path());
    let b = Cli { plan: dir.path().join("b.yaml"), ..Cli::new(&h, dir.path()) };
    let client = crate::common::client(&h, "sim-admin").await;
    let start_pa = get(&client, PA).await.unwrap();
    let start_deploy = get(&client, DEPLOY).await.unwrap();
    std::fs::write(
        &a.plan,
        format!(
            "{HEAD}- action: inject\n  target: deploy/rng/numbers-api\n  restartedAt: 2026-11-27T01:00:00Z\n- action: mtls\n  target: ns/rng\n  mode: STRICT\n"
        ),
    )
    .unwrap();
    std::fs::write(
        &b.plan,
        format!(
            "{HEAD}- action: mtls\n  target: ns/rng\n  mode: DISABLE\n- action: restart\n  target: deploy/rng/numbers-api\n  restartedAt: 2026-11-27T02:00:00Z\n"
        ),
    )
    .unwrap();
    let args = ["apply", "--yes", "--force-conflicts"];
    let (mut ca, mut cb) = (a.command(&args), b.command(&args));
    let (oa, ob) = tokio::join!(
        tokio::task::spawn_blocking(move || ca.output().unwrap()),
        tokio::task::spawn_blocking(move || cb.output().unwrap())
    );
    let outs = [oa.unwrap(), ob.unwrap()];
    let applied = outs.iter().filter(|o| code(o) == 0).count();
    for o in &outs {
        eprintln!("exit {}: {}", code(o), text(&o.stderr).lines().last().unwrap_or(""));
    }
    assert!(applied >= 1, "one of them applies: {}\n---\n{}", both(&outs[0]), both(&outs[1]));
    for o in &outs {
        match code(o) {
            0 => assert!(text(&o.stdout).contains("2 of 2 changes applied"), "{}", both(o)),
            2 => {
                let err = text(&o.stderr);
                assert!(
                    err.contains("another apply to this cluster is running: meshdeck (pid ")
                        || err.contains("changed since the preview: PeerAuthentication rng/default (spec.mtls.mode is"),
                    "{err}"
                );
            }
            _ => panic!("{}", both(o)),
        }
    }
    assert_eq!(a.journal_files(), applied, "a journal entry for each apply that wrote, none for a refusal");

    // The journal is true: each entry's "before" is what the cluster held when it wrote.
    let journal = a.run(&["journal", "-o", "json"]).await;
    let entries: Vec<Value> = serde_json::from_slice(&journal.stdout).expect("journal JSON");
    let mut expect_mode = mode(&start_pa);
    for e in &entries {
        let pa_item =
            e["items"].as_array().unwrap().iter().find(|i| i["change"]["ref"]["kind"] == "PeerAuthentication").unwrap();
        assert_eq!(mode(&pa_item["before"]), expect_mode, "{e}");
        expect_mode = mode(&pa_item["after"]);
    }
    assert_eq!(mode(&get(&client, PA).await.unwrap()), expect_mode, "the cluster holds the last apply's value");

    for _ in 0..applied {
        let undo = a.run(&["undo", "last", "--yes", "--force-conflicts"]).await;
        assert_eq!(code(&undo), 0, "{}", both(&undo));
    }
    assert_eq!(mode(&get(&client, PA).await.unwrap()), mode(&start_pa));
    assert_eq!(template(&get(&client, DEPLOY).await.unwrap()), template(&start_deploy));
}

/// An error finding about the plan's own objects blocks the apply until the user says
/// otherwise; nothing is written meanwhile.
#[tokio::test(flavor = "multi_thread")]
async fn error_findings_block_unless_allowed() {
    let (_h, _dir, cli) = demo_with_plan(
        "- action: mtls\n  target: ns/bookinfo\n  mode: STRICT\nedits:\n- ref: {apiVersion: security.istio.io/v1, kind: PeerAuthentication, namespace: legacy, name: default}\n  body: {apiVersion: security.istio.io/v1, kind: PeerAuthentication, metadata: {name: default, namespace: legacy}, spec: {mtls: {mode: STRICT}}}\n",
    )
    .await;
    let out = cli.run(&["apply", "--yes"]).await;
    assert_eq!(code(&out), 2, "{}", both(&out));
    assert!(
        text(&out.stderr).contains(
            "error: edit 1 (PeerAuthentication legacy/default): the plan applies no such object, so the edit replaces nothing; to apply anyway, confirm with --allow-errors"
        ),
        "{}",
        both(&out)
    );
    assert_eq!(cli.journal_files(), 0);
    let out = cli.run(&["apply", "--yes", "--allow-errors"]).await;
    assert_eq!(code(&out), 0, "{}", both(&out));
    assert!(text(&out.stdout).contains("1 of 1 changes applied"), "{}", both(&out));
}

/// One state directory, two clusters: `journal` shows the current one's entries, `--all`
/// every one, `undo` refuses an entry of the other cluster, and a second undo says so.
#[tokio::test(flavor = "multi_thread")]
async fn the_journal_is_tied_to_its_cluster() {
    let (h1, h2) = (sim(&[], 1.0).await, sim(&[], 1.0).await);
    let dir = tempfile::tempdir().unwrap();
    let one = Cli::new(&h1, dir.path());
    let two = Cli::new(&h2, dir.path());
    std::fs::write(&one.plan, format!("{HEAD}- action: mtls\n  target: ns/default\n  mode: STRICT\n")).unwrap();
    let out = one.run(&["apply", "--yes"]).await;
    assert_eq!(code(&out), 0, "{}", both(&out));
    let listed: Vec<Value> = serde_json::from_slice(&one.run(&["journal", "-o", "json"]).await.stdout).unwrap();
    assert_eq!(listed.len(), 1);
    let id = listed[0]["id"].as_str().unwrap().to_string();
    assert_eq!(listed[0]["server"], h1.server());

    let out = two.run(&["journal"]).await;
    assert_eq!(code(&out), 0, "{}", both(&out));
    assert!(
        text(&out.stdout).contains(&format!("has no entries for {} (context sim-admin)", h2.server())),
        "{}",
        both(&out)
    );
    let all = text(&two.run(&["journal", "--all"]).await.stdout);
    assert!(all.contains(&id) && all.contains(&h1.server()), "{all}");
    let out = two.run(&["undo", &id, "--yes"]).await;
    assert_eq!(code(&out), 2, "{}", both(&out));
    assert!(
        text(&out.stderr).contains(&format!("journal entry {id} was applied to another cluster ({}", h1.server())),
        "{}",
        both(&out)
    );
    let out = two.run(&["undo", "--yes"]).await;
    assert_eq!(code(&out), 2, "{}", both(&out));
    assert!(text(&out.stderr).contains("has no entry for this cluster"), "{}", both(&out));

    let out = one.run(&["undo", &id, "--yes"]).await;
    assert_eq!(code(&out), 0, "{}", both(&out));
    let table = text(&one.run(&["journal"]).await.stdout);
    assert!(table.contains("undone by "), "{table}");
    let out = one.run(&["undo", &id, "--yes"]).await;
    assert_eq!(code(&out), 2, "{}", both(&out));
    assert!(text(&out.stderr).contains(&format!("journal entry {id} was already undone by ")), "{}", both(&out));
}

/// Three requests in ten fail, with 500 or 429, on every kind of request (lists, watches,
/// gets, dry-runs, access reviews, writes — half of the failed writes after they were
/// committed): the apply and its undo still do exactly what they previewed.
#[tokio::test(flavor = "multi_thread")]
async fn an_apply_and_its_undo_are_exact_through_transient_errors() {
    let h = sim(&["demo"], 50.0).await;
    let dir = tempfile::tempdir().unwrap();
    let cli = Cli::new(&h, dir.path());
    let client = crate::common::client(&h, "sim-admin").await;
    let paths = [
        DEPLOY,
        "/apis/apps/v1/namespaces/rng/deployments/numbers-web",
        PA,
        "/apis/security.istio.io/v1/namespaces/rng/authorizationpolicies/numbers-api-allow",
        "/apis/networking.istio.io/v1/namespaces/rng/virtualservices/numbers-web",
    ];
    let mut start = Vec::new();
    for p in paths {
        start.push(get(&client, p).await.map(|v| restorable(&v)));
    }
    std::fs::write(
        &cli.plan,
        format!(
            "{HEAD}- action: inject\n  target: deploy/rng/numbers-api\n  restartedAt: 2026-11-27T01:00:00Z\n\
             - action: inject\n  target: deploy/rng/numbers-web\n  restartedAt: 2026-11-27T01:00:00Z\n\
             - action: mtls\n  target: ns/rng\n  mode: STRICT\n\
             - action: allow\n  target: deploy/rng/numbers-api\n  from: [sa/rng/numbers-web]\n  methods: [GET]\n\
             - action: route\n  service: svc/rng/numbers-web\n  hosts: [rng.example.com]\n  gateway: istio-system/ingressgateway\n"
        ),
    )
    .unwrap();
    // The intended result, from a clean run's dry-run: what every object must look like.
    let shown: Value = serde_json::from_slice(&cli.run(&["diff", "-o", "json"]).await.stdout).unwrap();
    let intended: Vec<Value> = shown["items"].as_array().unwrap().iter().map(|i| restorable(&i["result"])).collect();
    assert_eq!(intended.len(), 5);

    h.faults().set_error_answers(&[Answer::Status(500), Answer::Status(429)]);
    h.faults().set_error_rate(0.3);
    let applied = cli.run(&["apply", "--yes", "--force-conflicts"]).await;
    assert_eq!(code(&applied), 0, "{}", both(&applied));
    assert!(text(&applied.stdout).contains("5 of 5 changes applied"), "{}", both(&applied));
    let struck_apply = h.faults().injected();
    let undone = cli.run(&["undo", "last", "--yes", "--force-conflicts"]).await;
    assert_eq!(code(&undone), 0, "{}", both(&undone));
    let struck = h.faults().injected();
    h.faults().set_error_rate(0.0);
    assert!(struck_apply >= 10 && struck > struck_apply, "the faults struck: {struck_apply}, then {struck}");

    // The apply's journal holds what each write made; it is what the dry-run showed.
    let journal: Vec<Value> = serde_json::from_slice(&cli.run(&["journal", "-o", "json"]).await.stdout).unwrap();
    assert_eq!(journal.len(), 2);
    for (item, want) in journal[0]["items"].as_array().unwrap().iter().zip(&intended) {
        assert_eq!(item["state"], "applied", "{item}");
        let after = restorable(&item["after"]);
        // The Deployments' template is what matters; their revision annotation moves.
        assert_eq!(after["spec"]["template"], want["spec"]["template"], "{}", item["change"]["ref"]);
        assert_eq!(after["spec"].get("mtls"), want["spec"].get("mtls"), "{}", item["change"]["ref"]);
    }
    // And the undo restored every object exactly, removing the ones the apply created.
    for (p, was) in paths.iter().zip(&start) {
        let now = get(&client, p).await.map(|v| restorable(&v));
        assert_eq!(&now, was, "{p}");
    }
}

/// Edits the API server or Istio's validation refuse: the preview shows the refusal per
/// object, and the apply writes nothing.
#[tokio::test(flavor = "multi_thread")]
async fn invalid_edits_are_refused_before_anything_is_written() {
    let h = sim(&["demo"], 50.0).await;
    let dir = tempfile::tempdir().unwrap();
    let cli = Cli::new(&h, dir.path());
    let client = crate::common::client(&h, "sim-admin").await;
    let deploy = get(&client, "/apis/apps/v1/namespaces/rng/deployments/numbers-web").await.unwrap();
    let edit_pa = "- ref: {apiVersion: security.istio.io/v1, kind: PeerAuthentication, namespace: rng, name: default}\n  body: {apiVersion: security.istio.io/v1, kind: PeerAuthentication, metadata: {name: default, namespace: rng}, spec: {mtls: {mode: BOGUS}}}\n";
    let edit_replicas = "- ref: {apiVersion: apps/v1, kind: Deployment, namespace: rng, name: numbers-web}\n  body: {apiVersion: apps/v1, kind: Deployment, metadata: {name: numbers-web, namespace: rng}, spec: {replicas: many}}\n";
    let edit_selector = "- ref: {apiVersion: apps/v1, kind: Deployment, namespace: rng, name: numbers-web}\n  body: {apiVersion: apps/v1, kind: Deployment, metadata: {name: numbers-web, namespace: rng}, spec: {selector: {matchLabels: {app: other}}, template: {metadata: {labels: {app: other}}}}}\n";
    let cases = [
        (
            "- action: mtls\n  target: ns/rng\n  mode: STRICT\n",
            edit_pa,
            "PeerAuthentication rng/default",
            "spec.mtls.mode: Unsupported value: \"BOGUS\"",
        ),
        (
            "- action: restart\n  target: deploy/rng/numbers-web\n  restartedAt: 2026-11-27T01:00:00Z\n",
            edit_replicas,
            "Deployment rng/numbers-web",
            "failed to create typed patch object",
        ),
        (
            "- action: restart\n  target: deploy/rng/numbers-web\n  restartedAt: 2026-11-27T01:00:00Z\n",
            edit_selector,
            "Deployment rng/numbers-web",
            "field is immutable",
        ),
    ];
    for (action, edit, object, refusal) in cases {
        std::fs::write(&cli.plan, format!("{HEAD}{action}edits:\n{edit}")).unwrap();
        let diff = cli.run(&["diff"]).await;
        assert!(text(&diff.stdout).contains(&format!("{object} [INVALID] edited by hand")), "{}", both(&diff));
        assert!(text(&diff.stdout).contains(refusal), "{refusal}: {}", both(&diff));
        let out = cli.run(&["apply", "--yes", "--force-conflicts", "--allow-errors"]).await;
        assert_eq!(code(&out), 2, "{}", both(&out));
        assert!(text(&out.stderr).contains(&format!("{object} (edited by hand")), "{}", both(&out));
        assert!(text(&out.stderr).contains("refused by the API server"), "{}", both(&out));
        assert!(text(&out.stderr).contains(refusal), "{refusal}: {}", both(&out));
    }
    assert_eq!(cli.journal_files(), 0, "nothing journaled");
    let writes: Vec<String> = h
        .log
        .entries()
        .iter()
        .filter(|r| r.is_mutating() && !r.query.contains("dryRun=All") && !r.path.contains("selfsubject"))
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert_eq!(writes, [] as [String; 0], "no write reached the cluster");
    let after = get(&client, "/apis/apps/v1/namespaces/rng/deployments/numbers-web").await.unwrap();
    assert_eq!(after["metadata"]["resourceVersion"], deploy["metadata"]["resourceVersion"]);
    assert_eq!(mode(&get(&client, PA).await.unwrap()), "PERMISSIVE");
}

/// A user who may not write is told so per object, each refusal naming its own object.
#[tokio::test(flavor = "multi_thread")]
async fn refusals_name_each_object() {
    let (_h, _dir, cli) = demo_with_plan(
        "- action: restart\n  target: deploy/rng/numbers-api\n  restartedAt: 2026-11-27T01:00:00Z\n- action: restart\n  target: deploy/rng/numbers-web\n  restartedAt: 2026-11-27T01:00:00Z\n",
    )
    .await;
    let out = cli.run(&["--context", "sim-viewer", "apply", "--yes"]).await;
    assert_eq!(code(&out), 2, "{}", both(&out));
    for name in ["numbers-api", "numbers-web"] {
        assert!(
            text(&out.stderr).contains(&format!(
                "Deployment rng/{name} (restart): forbidden: may not patch Deployment rng/{name}: RBAC"
            )),
            "{name}: {}",
            both(&out)
        );
    }
}
