//! End to end in tmux: `meshdeck demo` in a real terminal, keys sent, the screen read back.
//! Skips, saying so, where tmux is not installed.

mod common;

use common::DEADLINE;
use k8s_openapi::api::core::v1::Namespace;
use kube::api::{Api, Patch, PatchParams};
use serde_json::json;
use std::process::Command;
use std::time::{Duration, Instant};

struct Session {
    name: String,
}

impl Drop for Session {
    fn drop(&mut self) {
        let _ = Command::new("tmux").args(["kill-session", "-t", &self.name]).status();
    }
}

fn capture(s: &Session) -> String {
    let out = Command::new("tmux").args(["capture-pane", "-p", "-t", &s.name]).output().expect("tmux capture-pane");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn keys(s: &Session, keys: &[&str]) {
    let status = Command::new("tmux").arg("send-keys").arg("-t").arg(&s.name).args(keys).status().unwrap();
    assert!(status.success());
}

fn wait_screen(s: &Session, what: &str, deadline: Duration, ok: impl Fn(&str) -> bool) -> String {
    let end = Instant::now() + deadline;
    loop {
        let screen = capture(s);
        if ok(&screen) {
            return screen;
        }
        if Instant::now() > end {
            panic!("timed out waiting for {what}; the screen was:\n{screen}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

fn row<'a>(screen: &'a str, starts: &str) -> Option<&'a str> {
    screen.lines().find(|l| l.trim_start().starts_with(starts))
}

#[tokio::test(flavor = "multi_thread")]
async fn demo_shows_numbers_api_and_follows_a_label_change() {
    if Command::new("tmux").arg("-V").output().is_err() {
        println!("SKIPPED demo_shows_numbers_api_and_follows_a_label_change: tmux is not installed");
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
    let status =
        Command::new("tmux").args(["new-session", "-d", "-s", &name, "-x", "160", "-y", "48", &cmd]).status().unwrap();
    assert!(status.success());
    let s = Session { name };

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
