//! End to end in tmux: `meshdeck demo` in a real terminal, keys sent, the screen read back.
//! Skips, saying so, where tmux is not installed.

mod common;

use common::DEADLINE;
use common::tmux::{keys, start, wait_screen};
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, Patch, PatchParams};
use serde_json::json;
use std::time::Instant;

fn row<'a>(screen: &'a str, starts: &str) -> Option<&'a str> {
    screen.lines().find(|l| l.trim_start().starts_with(starts))
}

#[tokio::test(flavor = "multi_thread")]
async fn demo_shows_numbers_api_and_follows_a_label_change() {
    if !common::tmux::available("demo_shows_numbers_api_and_follows_a_label_change") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let kubeconfig = dir.path().join("kubeconfig");
    let name = format!("meshdeck-e2e-{}", std::process::id());
    let cmd = format!(
        "env MESHDECK_CONFIG_DIR={d}/config MESHDECK_CACHE_DIR={d}/cache MESHDECK_STATE_DIR={d}/state {bin} demo --time-scale 10 --kubeconfig-out {kc} 2>{d}/stderr",
        d = dir.path().display(),
        bin = env!("CARGO_BIN_EXE_meshdeck"),
        kc = kubeconfig.display()
    );
    let s = start(name, &cmd);

    let screen = wait_screen(&s, "the namespaces screen with rng", DEADLINE, |t| {
        t.contains("Namespaces") && row(t, "rng").is_some() && row(t, "payments").is_some()
    });
    assert!(row(&screen, "rng").unwrap().contains("unset"), "{screen}");

    // Reach rng/numbers-api: the command line, then a filter; the detail pane says why.
    keys(&s, &[":wl rng", "Enter"]);
    wait_screen(&s, "rng's workloads", DEADLINE, |t| t.contains("numbers-api") && t.contains("numbers-web"));
    keys(&s, &["/numbers-api", "Enter"]);
    let screen =
        wait_screen(&s, "numbers-api's detail", DEADLINE, |t| t.contains("set by PeerAuthentication rng/default"));
    assert!(screen.contains("PERMISSIVE"), "{screen}");
    assert!(screen.contains("new pods get no sidecar"), "{screen}");
    assert!(screen.contains("numbers-api"), "{screen}");

    // Back to namespaces, then label rng through the API while meshdeck runs.
    keys(&s, &[":ns", "Enter"]);
    wait_screen(&s, "the namespaces screen", DEADLINE, |t| t.contains("Namespaces") && row(t, "rng").is_some());
    let sim = kube::Config::from_custom_kubeconfig(
        kube::config::Kubeconfig::read_from(&kubeconfig).unwrap(),
        &kube::config::KubeConfigOptions::default(),
    )
    .await
    .unwrap();
    let api: Api<Namespace> = Api::all(kube::Client::try_from(sim).unwrap());
    let started = Instant::now();
    let label = json!({"metadata": {"labels": {"istio-injection": "enabled"}}});
    api.patch("rng", &PatchParams::default(), &Patch::Merge(&label)).await.unwrap();
    let screen = wait_screen(&s, "rng to show injection enabled", DEADLINE, |t| {
        row(t, "rng").is_some_and(|r| r.contains("enabled") && r.contains("1-24-3"))
    });
    println!("rng's row changed on screen {:?} after the label was written", started.elapsed());
    assert!(row(&screen, "rng").unwrap().contains("enabled"));

    keys(&s, &["q"]);
}
