//! End to end in tmux: the rng migration through the terminal UI's keys. `meshdeck demo` runs
//! in a real terminal; each action is staged from its row with its form, the preview is read
//! off the screen, the apply is confirmed (taking over the PeerAuthentication's mode, which
//! kubectl owns), and the cluster's objects are checked through the API afterwards. Skips,
//! saying so, where tmux is not installed.

mod common;

use common::DEADLINE;
use common::tmux::{Session, keys, start, text, wait_screen};
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind};
use serde_json::{Value, json};

/// The status bar's staged count reaching `n`.
fn staged(s: &Session, n: usize) {
    wait_screen(s, &format!("{n} staged"), DEADLINE, |t| t.contains(&format!("{n} staged")));
}

/// Filters the current list down to `name` so it is the selected row (Ctrl-U first empties
/// the filter line, which opens with the previous filter).
fn pick(s: &Session, name: &str) {
    keys(s, &["/", "C-u"]);
    text(s, name);
    keys(s, &["Enter"]);
    wait_screen(s, &format!("the list filtered to {name}"), DEADLINE, |t| t.contains(&format!("/{name}")));
}

fn api(client: &kube::Client, group: &str, kind: &str, ns: &str) -> Api<DynamicObject> {
    let ar = ApiResource::from_gvk(&GroupVersionKind::gvk(group, "v1", kind));
    Api::namespaced_with(client.clone(), ns, &ar)
}

async fn get(client: &kube::Client, group: &str, kind: &str, ns: &str, name: &str) -> Option<Value> {
    let o = api(client, group, kind, ns).get_opt(name).await.expect("get works")?;
    Some(serde_json::to_value(o).unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_rng_migration_through_the_ui() {
    if !common::tmux::available("the_rng_migration_through_the_ui") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    let name = format!("meshdeck-e2e-plan-{}", std::process::id());
    // The plan file lands in the working directory: the test's own.
    let cmd = format!(
        "cd {d} && env -u EDITOR -u VISUAL MESHDECK_CONFIG_DIR={d}/config MESHDECK_CACHE_DIR={d}/cache MESHDECK_STATE_DIR={d}/state {bin} demo --time-scale 50 --kubeconfig-out {kc} 2>{d}/stderr",
        d = dir.path().display(),
        bin = env!("CARGO_BIN_EXE_meshdeck"),
        kc = kubeconfig.display()
    );
    let s = start(name, &cmd);
    wait_screen(&s, "the namespaces screen with rng", DEADLINE, |t| t.contains("Namespaces") && t.contains("rng"));

    // Inject both workloads, with their restarts (the form's default).
    keys(&s, &[":wl rng", "Enter"]);
    wait_screen(&s, "rng's workloads", DEADLINE, |t| t.contains("numbers-api") && t.contains("numbers-web"));
    for (n, app) in [(1, "numbers-api"), (2, "numbers-web")] {
        pick(&s, app);
        keys(&s, &["i"]);
        wait_screen(&s, "the inject form", DEADLINE, |t| t.contains("Inject sidecars") && t.contains("restart"));
        keys(&s, &["Enter"]);
        staged(&s, n);
    }

    // Allow GET on numbers-api from numbers-web, and on numbers-web from the ingress gateway.
    let allows = [
        (3, "numbers-api", "sa/rng/numbers-web"),
        (4, "numbers-web", "sa/istio-system/istio-ingressgateway-service-account"),
    ];
    for (n, app, from) in allows {
        pick(&s, app);
        keys(&s, &["a"]);
        wait_screen(&s, "the allow form", DEADLINE, |t| t.contains("Allow callers"));
        text(&s, from);
        keys(&s, &["Tab"]);
        text(&s, "GET");
        keys(&s, &["Enter"]);
        staged(&s, n);
    }

    // Route rng.example.com through the demo's one Gateway to numbers-web, exported to istio-system.
    pick(&s, "numbers-web");
    keys(&s, &["t"]);
    wait_screen(&s, "the route form", DEADLINE, |t| t.contains("Route through a gateway"));
    keys(&s, &["Tab"]);
    text(&s, "rng.example.com");
    keys(&s, &["Tab"]);
    text(&s, "istio-system/ingressgateway");
    keys(&s, &["Tab"]);
    text(&s, "istio-system");
    keys(&s, &["Enter"]);
    staged(&s, 5);

    // STRICT mTLS for the namespace.
    keys(&s, &[":ns", "Enter"]);
    wait_screen(&s, "the namespaces screen", DEADLINE, |t| t.contains("Namespaces"));
    pick(&s, "rng");
    keys(&s, &["m"]);
    wait_screen(&s, "the mTLS form", DEADLINE, |t| t.contains("PeerAuthentication") && t.contains("STRICT"));
    keys(&s, &["Enter"]);
    staged(&s, 6);
    let plan = std::fs::read_to_string(dir.path().join("meshdeck-plan.yaml")).expect("the plan file is written");
    assert_eq!(plan.matches("action:").count(), 6, "{plan}");
    assert_eq!(plan.matches("restartedAt:").count(), 2, "{plan}");

    // The preview: computed by the engine, with the PeerAuthentication's conflict shown.
    keys(&s, &["p"]);
    let screen = wait_screen(&s, "the preview", DEADLINE, |t| t.contains("pods to restart"));
    assert!(screen.contains("conflict") && screen.contains("PeerAuthentication rng/default"), "{screen}");
    assert!(screen.contains("VirtualService rng/numbers-web"), "{screen}");

    // Apply: the dialog asks to take the conflicting field over; Tab does, Enter applies.
    keys(&s, &["A"]);
    wait_screen(&s, "the confirmation", DEADLINE, |t| {
        t.contains("Apply to sim-admin?") && t.contains("other managers own")
    });
    keys(&s, &["Tab"]);
    wait_screen(&s, "take-over chosen", DEADLINE, |t| t.contains("[x] take those fields over"));
    keys(&s, &["Enter"]);
    let screen =
        wait_screen(&s, "the apply's result", DEADLINE, |t| t.contains("applied: 6 written") || t.contains("✖"));
    assert!(screen.contains("applied: 6 written"), "{screen}");
    assert!(screen.contains("RESTARTING"), "{screen}");

    let kc = kube::config::Kubeconfig::read_from(&kubeconfig).unwrap();
    let cfg = kube::Config::from_custom_kubeconfig(kc, &Default::default()).await.unwrap();
    let client = kube::Client::try_from(cfg).unwrap();
    for app in ["numbers-api", "numbers-web"] {
        let n = common::wait_for(&format!("{app} pods 2/2 with istio-proxy"), DEADLINE * 4, || {
            common::all_injected_and_ready(&client, "rng", app)
        })
        .await;
        assert_eq!(n, 2, "{app}");
    }
    let pa = get(&client, "security.istio.io", "PeerAuthentication", "rng", "default").await.unwrap();
    assert_eq!(pa["spec"]["mtls"]["mode"], "STRICT");
    let ap = get(&client, "security.istio.io", "AuthorizationPolicy", "rng", "numbers-api-allow").await.unwrap();
    assert_eq!(
        ap["spec"]["rules"][0]["from"][0]["source"]["principals"],
        json!(["cluster.local/ns/rng/sa/numbers-web"])
    );
    assert_eq!(ap["spec"]["rules"][0]["to"][0]["operation"]["methods"], json!(["GET"]));
    let ap = get(&client, "security.istio.io", "AuthorizationPolicy", "rng", "numbers-web-allow").await.unwrap();
    assert_eq!(
        ap["spec"]["rules"][0]["from"][0]["source"]["principals"],
        json!(["cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account"])
    );
    let vs = get(&client, "networking.istio.io", "VirtualService", "rng", "numbers-web").await.unwrap();
    assert_eq!(vs["spec"]["hosts"], json!(["rng.example.com"]));
    assert_eq!(vs["spec"]["gateways"], json!(["istio-system/ingressgateway"]));
    assert_eq!(vs["spec"]["exportTo"], json!(["istio-system"]));

    // The rollout screen follows the live view: both workloads end ready with proxies.
    wait_screen(&s, "the rollout done on screen", DEADLINE, |t| {
        t.lines().filter(|l| l.contains("Deployment rng/numbers-") && l.contains("2/2") && l.contains("ready")).count()
            == 2
    });
    let plan = std::fs::read_to_string(dir.path().join("meshdeck-plan.yaml")).unwrap();
    assert!(!plan.contains("action:"), "the applied plan is emptied: {plan}");
    keys(&s, &["q"]);
}
