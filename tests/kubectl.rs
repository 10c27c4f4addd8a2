//! The real kubectl against the simulated cluster: discovery, tables, server-side apply, diff,
//! label, rollout restart and status, watch, delete, and the read-only context. Skips, saying
//! so, where kubectl is not installed.

mod common;

use common::{DEADLINE, sim, wait_for};
use std::process::Output;
use tokio::process::Command;

fn have_kubectl() -> bool {
    std::process::Command::new("kubectl").arg("version").arg("--client").output().is_ok_and(|o| o.status.success())
}

async fn kubectl(h: &meshdeck::sim::run::SimHandle, args: &[&str]) -> Output {
    Command::new("kubectl")
        .args(args)
        .env("KUBECONFIG", &h.kubeconfig_path)
        .env_remove("KUBECTL_EXTERNAL_DIFF")
        .output()
        .await
        .expect("kubectl runs")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

const APP: &str = r#"
apiVersion: v1
kind: Namespace
metadata:
  name: shop
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: registry.example/web:1.0
        ports:
        - containerPort: 8080
"#;

#[tokio::test]
async fn kubectl_works_against_the_sim() {
    if !have_kubectl() {
        println!("SKIPPED kubectl_works_against_the_sim: kubectl is not installed");
        return;
    }
    let h = sim(&[], 20.0).await;
    let dir = tempfile::tempdir().unwrap();
    let app = dir.path().join("app.yaml");
    std::fs::write(&app, APP).unwrap();
    let app = app.to_str().unwrap();

    let o = kubectl(&h, &["apply", "--server-side", "-f", app]).await;
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(
        String::from_utf8_lossy(&o.stdout),
        "namespace/shop serverside-applied\ndeployment.apps/web serverside-applied\n"
    );

    let o = kubectl(&h, &["rollout", "status", "deploy/web", "-n", "shop", "--timeout=60s"]).await;
    assert!(o.status.success(), "{}", text(&o));
    assert!(String::from_utf8_lossy(&o.stdout).contains("successfully rolled out"), "{}", text(&o));

    let o = kubectl(&h, &["get", "pods", "-A"]).await;
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(o.status.success(), "{}", text(&o));
    let lines: Vec<&str> = out.lines().collect();
    assert!(lines[0].starts_with("NAMESPACE") && lines[0].contains("READY") && lines[0].contains("STATUS"), "{out}");
    let web: Vec<&&str> = lines.iter().filter(|l| l.starts_with("shop") && l.contains("web-")).collect();
    assert_eq!(web.len(), 2, "{out}");
    assert!(web.iter().all(|l| l.contains("1/1") && l.contains("Running")), "{out}");

    // diff: nothing to change exits 0; a changed replica count exits 1 and shows the change.
    let o = kubectl(&h, &["diff", "--server-side", "-f", app]).await;
    assert_eq!(o.status.code(), Some(0), "{}", text(&o));
    let changed = dir.path().join("changed.yaml");
    std::fs::write(&changed, APP.replace("replicas: 2", "replicas: 3")).unwrap();
    let o = kubectl(&h, &["diff", "--server-side", "-f", changed.to_str().unwrap()]).await;
    assert_eq!(o.status.code(), Some(1), "{}", text(&o));
    let diff = String::from_utf8_lossy(&o.stdout);
    assert!(diff.contains("-  replicas: 2") && diff.contains("+  replicas: 3"), "{diff}");

    let o = kubectl(&h, &["label", "ns", "shop", "istio-injection=enabled"]).await;
    assert!(o.status.success(), "{}", text(&o));
    let o = kubectl(&h, &["get", "ns", "shop", "-o", "jsonpath={.metadata.labels.istio-injection}"]).await;
    assert_eq!(String::from_utf8_lossy(&o.stdout), "enabled");

    // get -w streams the pods of a restart while it happens.
    let mut watch = Command::new("kubectl")
        .args(["get", "pods", "-n", "shop", "-w", "--no-headers"])
        .env("KUBECONFIG", &h.kubeconfig_path)
        .stdout(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let mut stdout = watch.stdout.take().unwrap();
    let lines_seen = std::sync::Arc::new(std::sync::Mutex::new(String::new()));
    let sink = lines_seen.clone();
    tokio::spawn(async move {
        use tokio::io::AsyncReadExt;
        let mut buf = [0u8; 4096];
        while let Ok(n) = stdout.read(&mut buf).await {
            if n == 0 {
                break;
            }
            sink.lock().unwrap().push_str(&String::from_utf8_lossy(&buf[..n]));
        }
    });
    let before: Vec<String> = out
        .lines()
        .filter(|l| l.starts_with("shop"))
        .map(|l| l.split_whitespace().nth(1).unwrap().to_string())
        .collect();
    let o = kubectl(&h, &["rollout", "restart", "deploy/web", "-n", "shop"]).await;
    assert!(o.status.success(), "{}", text(&o));
    let o = kubectl(&h, &["rollout", "status", "deploy/web", "-n", "shop", "--timeout=60s"]).await;
    assert!(o.status.success(), "{}", text(&o));
    wait_for("the watch to show new pods running", DEADLINE, || {
        let seen = lines_seen.lock().unwrap().clone();
        let before = before.clone();
        async move {
            let new_running = seen
                .lines()
                .filter(|l| {
                    !before.iter().any(|b| l.starts_with(b.as_str())) && l.contains("Running") && l.contains("1/1")
                })
                .count();
            (new_running >= 2).then_some(())
        }
    })
    .await;
    drop(watch);

    // The read-only context may look but not touch.
    let o = kubectl(&h, &["--context", "sim-viewer", "get", "deploy", "-n", "shop"]).await;
    assert!(o.status.success(), "{}", text(&o));
    let o = kubectl(&h, &["--context", "sim-viewer", "delete", "deploy", "web", "-n", "shop"]).await;
    assert!(!o.status.success());
    assert!(
        text(&o).contains("Error from server (Forbidden): deployments.apps \"web\" is forbidden: User \"sim-viewer\" cannot delete resource \"deployments\" in API group \"apps\" in the namespace \"shop\""),
        "{}",
        text(&o)
    );

    let o = kubectl(&h, &["delete", "deploy", "web", "-n", "shop"]).await;
    assert!(o.status.success(), "{}", text(&o));
    wait_for("the deployment's pods to go", DEADLINE, || async {
        let o = kubectl(&h, &["get", "pods", "-n", "shop", "-o", "name"]).await;
        String::from_utf8_lossy(&o.stdout).trim().is_empty().then_some(())
    })
    .await;
}
