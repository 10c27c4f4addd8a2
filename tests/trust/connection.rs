//! Connections and credentials: broken kubeconfigs never print their secrets on any path;
//! refused, x509, 401 and DNS failures are named at once with exit 2; reads, dry-runs and
//! reviews get through injected 500s and 429s while real writes are sent once; the UI names a
//! broken connection and recovers when the kubeconfig is rewritten.

use crate::common::tmux::{self, keys, wait_screen};
use crate::common::{DEADLINE, wait_for};
use base64::Engine;
use meshdeck::cluster::cause::Cause;
use meshdeck::cluster::client::{self, ConnectOptions};
use meshdeck::cluster::live::Live;
use meshdeck::sim::api::faults::Faults;
use meshdeck::sim::run::{SimHandle, SimOptions, start};
use std::path::{Path, PathBuf};
use std::time::Duration;

const BIN: &str = env!("CARGO_BIN_EXE_meshdeck");
const TOKEN: &str = "eyJhbGciOiJSUzI1NiJ9.cGxhbnRlZC1zZWNyZXQtdG9rZW4.c2lnbmF0dXJlLWJ5dGVz";
const PASSWORD: &str = "correct-horse-battery-staple-42";
const NEVER: &str = "timed out waiting for the watches to sync";

struct Run {
    code: i32,
    out: String,
}

/// The binary with its state, cache and config in `dir`, run from `dir`.
async fn meshdeck(dir: &Path, env: &[(&str, &str)], args: &[&str]) -> Run {
    let mut cmd = tokio::process::Command::new(BIN);
    cmd.args(args).current_dir(dir).env_remove("KUBECONFIG").stdin(std::process::Stdio::null());
    for sub in ["state", "cache", "config"] {
        cmd.env(format!("MESHDECK_{}_DIR", sub.to_uppercase()), dir.join(sub));
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    let o = cmd.output().await.expect("meshdeck runs");
    let out = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    Run { code: o.status.code().unwrap_or(-1), out }
}

fn b64(s: &str) -> String {
    base64::engine::general_purpose::STANDARD.encode(s)
}

/// Every 8-character piece of every secret (PEM armour aside): none may be shown.
fn assert_secret_free(what: &str, text: &str, secrets: &[String]) {
    for s in secrets {
        let chars: Vec<char> = s
            .lines()
            .filter(|l| !l.starts_with("-----"))
            .flat_map(|l| l.chars())
            .filter(|c| !c.is_whitespace())
            .collect();
        for w in chars.windows(8) {
            let piece: String = w.iter().collect();
            assert!(!text.contains(&piece), "{what}: {piece:?} of a secret was printed:\n{text}");
        }
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

async fn sim_with(faults: &str) -> SimHandle {
    start(SimOptions { faults: Faults::parse(faults).unwrap(), ..SimOptions::default() }).await.unwrap()
}

/// A kubeconfig in the shape `meshdeck sim` writes, pointed at `server` with this CA and token.
fn kubeconfig(server: &str, ca_pem: &str, token: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: {server}\n    certificate-authority-data: {}\nusers:\n- name: sim-admin\n  user:\n    token: {token}\ncontexts:\n- name: sim-admin\n  context:\n    cluster: c\n    user: sim-admin\ncurrent-context: sim-admin\n",
        b64(ca_pem)
    )
}

/// The CA a simulated cluster's kubeconfig trusts.
fn ca_of(h: &SimHandle) -> String {
    let kc = kube::config::Kubeconfig::from_yaml(&h.kubeconfig).unwrap();
    let data = kc.clusters[0].cluster.as_ref().unwrap().certificate_authority_data.clone().unwrap();
    String::from_utf8(base64::engine::general_purpose::STANDARD.decode(data).unwrap()).unwrap()
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

/// Every command that reads the kubeconfig, and `journal`, which must stay offline.
const COMMANDS: &[&[&str]] = &[
    &["inventory"],
    &["diff", "-f", "plan.yaml"],
    &["apply", "-f", "plan.yaml", "--yes"],
    &["undo", "--yes"],
    &["export", "-f", "plan.yaml", "--dir", "out"],
];

async fn staged_plan(dir: &Path) {
    let r = meshdeck(dir, &[], &["stage", "mtls", "ns/default", "--mode", "strict", "-f", "plan.yaml"]).await;
    assert_eq!(r.code, 0, "{}", r.out);
}

#[tokio::test(flavor = "multi_thread")]
async fn broken_kubeconfigs_never_print_their_secrets() {
    let h = sim_with("").await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    staged_plan(d).await;
    let ca = ca_of(&h);
    let client = rcgen::generate_simple_self_signed(vec!["client.test".into()]).unwrap();
    let (cert, key) = (client.cert.pem(), client.signing_key.serialize_pem());
    let good = kubeconfig(&h.server(), &ca, TOKEN);
    let with_user = |user: &str| good.replace(&format!("    token: {TOKEN}\n"), user);
    let keyed = |key_data: &str| {
        with_user(&format!(
            "    token: {TOKEN}\n    client-certificate-data: {}\n    client-key-data: {key_data}\n",
            b64(&cert)
        ))
    };
    let pem_of = |body: &str| format!("-----BEGIN PRIVATE KEY-----\n{}\n-----END PRIVATE KEY-----\n", b64(body));
    let secrets = vec![TOKEN.to_string(), PASSWORD.to_string(), b64(&key), key.clone(), b64(&cert), b64(TOKEN)];
    let cases: Vec<(&str, String)> = vec![
        ("syntax", good.replace(&format!("token: {TOKEN}"), &format!("token: \"{TOKEN}\n    password: {PASSWORD}"))),
        ("token-type", good.replace(&format!("token: {TOKEN}"), &format!("token:\n      value: {TOKEN}"))),
        ("password-type", with_user(&format!("    username: me\n    password: [{PASSWORD}]\n    token: {TOKEN}\n"))),
        ("missing-context", good.replace("current-context: sim-admin", "current-context: gone")),
        ("missing-cluster", good.replace("    cluster: c\n", "    cluster: nowhere\n")),
        ("missing-user", good.replace("    user: sim-admin\n", "    user: nobody\n")),
        ("bad-base64-key", keyed(&format!("{}%{TOKEN}", b64(&key)))),
        ("bad-pem-key", keyed(&b64(&pem_of(&format!("{TOKEN}{PASSWORD}"))))),
        (
            "bad-ca",
            good.replace(
                &b64(&ca),
                &b64(&format!("-----BEGIN CERTIFICATE-----\n{}\n-----END CERTIFICATE-----\n", b64(TOKEN))),
            ),
        ),
        ("bad-ca-text", good.replace(&b64(&ca), &b64(&format!("{TOKEN} {key}")))),
    ];
    let mut files: Vec<(String, PathBuf)> = cases.iter().map(|(n, t)| (n.to_string(), write(d, n, t))).collect();
    // A directory cannot be read as a file, even by root.
    std::fs::create_dir(d.join("unreadable")).unwrap();
    files.push(("unreadable".into(), d.join("unreadable")));
    let good_path = write(d, "good", &good);

    for (name, path) in &files {
        let p = path.to_str().unwrap();
        // The library's error, shown both ways.
        let opts = ConnectOptions { kubeconfig: Some(path.clone()), ..ConnectOptions::default() };
        let e = client::open(&opts).await.err().unwrap_or_else(|| panic!("{name}: the kubeconfig was accepted"));
        let shown = format!("{e:#} {e:?}");
        assert!(shown.contains(p), "{name}: the file is not named: {shown}");
        assert_secret_free(name, &shown, &secrets);
        // Every command, with the file named by flag and first in $KUBECONFIG (before a good
        // file, whose definitions it shadows).
        let merged = format!("{p}:{}", good_path.display());
        for args in COMMANDS {
            for env in [vec![], vec![("KUBECONFIG", merged.as_str())]] {
                let mut argv: Vec<&str> = args.to_vec();
                if env.is_empty() {
                    argv.extend(["--kubeconfig", p]);
                }
                let r = meshdeck(d, &env, &argv).await;
                let what = format!("{name}: meshdeck {} with {env:?}", argv.join(" "));
                assert_secret_free(&what, &r.out, &secrets);
                assert_eq!(r.code, 2, "{what}:\n{}", r.out);
                assert!(r.out.contains("kubeconfig") && r.out.contains(p), "{what}:\n{}", r.out);
            }
        }
        // The UI fails before it takes the terminal: the same words.
        let r = meshdeck(d, &[], &["--kubeconfig", p]).await;
        assert_eq!(r.code, 2, "{name}: meshdeck (the UI):\n{}", r.out);
        assert_secret_free(&format!("{name}: the UI"), &r.out, &secrets);
        // journal stays offline: the broken kubeconfig changes nothing.
        let r = meshdeck(d, &[("KUBECONFIG", p)], &["journal"]).await;
        assert_eq!(r.code, 0, "{name}: journal:\n{}", r.out);
        assert_secret_free(&format!("{name}: journal"), &r.out, &secrets);
    }
    let logs = std::fs::read_dir(d.join("cache")).into_iter().flatten().flatten();
    for f in logs {
        let text = std::fs::read_to_string(f.path()).unwrap_or_default();
        assert_secret_free("the log file", &text, &secrets);
    }
}

/// `meshdeck sim` as a process of its own, so killing it closes every connection as a real
/// API server restart does (an in-process sim dropped keeps serving open connections).
async fn sim_process(port: u16, kubeconfig: &Path) -> tokio::process::Child {
    let _ = std::fs::remove_file(kubeconfig);
    let child = tokio::process::Command::new(BIN)
        .args(["sim", "--listen", &format!("127.0.0.1:{port}"), "--kubeconfig-out"])
        .arg(kubeconfig)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    wait_for("the simulated cluster's kubeconfig", DEADLINE, || async {
        let text = std::fs::read_to_string(kubeconfig).ok()?;
        kube::config::Kubeconfig::from_yaml(&text).ok().filter(|k| !k.auth_infos.is_empty()).map(|_| ())
    })
    .await;
    child
}

#[tokio::test(flavor = "multi_thread")]
async fn broken_connections_are_named_at_once_with_exit_2() {
    let a = sim_with("").await;
    let b = sim_with("").await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    staged_plan(d).await;
    let token = a.tokens.admin.clone();
    let closed = format!("https://127.0.0.1:{}", free_port());
    let cases = [
        ("refused", kubeconfig(&closed, &ca_of(&a), &token), closed.clone(), "connection refused"),
        (
            "wrong CA",
            kubeconfig(&a.server(), &ca_of(&b), &token),
            a.server(),
            "x509: certificate signed by unknown authority",
        ),
        ("bad token", kubeconfig(&a.server(), &ca_of(&a), "admin-0000"), a.server(), "401 Unauthorized"),
        (
            "unknown host",
            kubeconfig("https://nosuch.invalid:6443", &ca_of(&a), &token),
            "https://nosuch.invalid:6443".into(),
            "no such host",
        ),
    ];
    for (name, text, server, cause) in &cases {
        let path = write(d, &name.replace(' ', "-"), text);
        let named = format!("cannot connect to {server} (context sim-admin): ");

        let opts = ConnectOptions { kubeconfig: Some(path.clone()), ..ConnectOptions::default() };
        let c = client::open(&opts).await.unwrap();
        let e = client::check(&c.client, &c.conn).await.unwrap_err();
        assert!(e.to_string().starts_with(&named) && e.to_string().contains(cause), "{name}: {e}");
        // The watches stop waiting at the first such failure, and say why.
        let live = Live::start_for(c.client.clone(), &c.conn);
        let e = live.synced(Duration::from_secs(600)).await.err().expect("no sync without a connection");
        assert!(e.contains(cause) && !e.contains(NEVER), "{name}: {e}");
        let summary = live.summary();
        assert!(summary.cause.as_ref().is_some_and(Cause::is_connection), "{name}: {summary:?}");
        assert!(summary.text.contains(&format!("reconnecting: {}", summary.cause.unwrap())), "{name}");
        assert!(summary.text.ends_with(&format!("({server})")), "{name}: {}", summary.text);

        for args in COMMANDS {
            let mut argv = args.to_vec();
            argv.extend(["--kubeconfig", path.to_str().unwrap()]);
            let r = meshdeck(d, &[], &argv).await;
            let what = format!("{name}: meshdeck {}", argv.join(" "));
            assert_eq!(r.code, 2, "{what}:\n{}", r.out);
            assert!(r.out.starts_with(&format!("meshdeck: {named}")) && r.out.contains(cause), "{what}:\n{}", r.out);
            assert!(!r.out.contains(NEVER) && !r.out.contains("plan.yaml"), "{what}:\n{}", r.out);
        }
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn kubeconfig_files_merge_as_kubectl_merges_them() {
    let h = sim_with("").await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // The first file only chooses the context; the second defines it (and says sim-admin).
    let first = write(d, "first", "current-context: sim-viewer\n");
    let second = write(d, "second", &h.kubeconfig);
    let list = format!("{}::{}:", first.display(), second.display());
    let r = meshdeck(d, &[("KUBECONFIG", &list)], &["inventory", "-o", "json"]).await;
    assert_eq!(r.code, 0, "{}", r.out);
    let users: std::collections::BTreeSet<String> = h.log.entries().into_iter().map(|e| e.user).collect();
    assert_eq!(users.into_iter().collect::<Vec<_>>(), ["sim-viewer"]);
    // Set but empty is unset: ~/.kube/config is read.
    std::fs::create_dir_all(d.join("home/.kube")).unwrap();
    write(&d.join("home/.kube"), "config", &h.kubeconfig);
    let home = d.join("home");
    let r = meshdeck(d, &[("KUBECONFIG", ""), ("HOME", home.to_str().unwrap())], &["inventory"]).await;
    assert_eq!(r.code, 0, "{}", r.out);
    // --kubeconfig is one path, even with a colon in it.
    let r = meshdeck(d, &[], &["inventory", "--kubeconfig", &list]).await;
    assert_eq!(r.code, 2, "{}", r.out);
    assert!(r.out.contains("no such file"), "{}", r.out);
}

#[tokio::test(flavor = "multi_thread")]
async fn safe_requests_get_through_injected_500s_and_429s_and_writes_are_sent_once() {
    for code in [500, 429] {
        let h = sim_with(&format!("error-rate=0.3,error-code={code}")).await;
        let opts = ConnectOptions { kubeconfig: Some(h.kubeconfig_path.clone()), ..ConnectOptions::default() };
        let c = client::open(&opts).await.unwrap();
        let ns: kube::Api<k8s_openapi::api::core::v1::Namespace> = kube::Api::all(c.client.clone());
        let cms: kube::Api<k8s_openapi::api::core::v1::ConfigMap> = kube::Api::namespaced(c.client.clone(), "default");
        let cm = |name: String| {
            serde_json::from_value::<k8s_openapi::api::core::v1::ConfigMap>(
                serde_json::json!({"metadata": {"name": name, "namespace": "default"}}),
            )
            .unwrap()
        };
        let dry = kube::api::PostParams { dry_run: true, ..Default::default() };
        // Twenty of each, at once: every one must succeed (one fails twelve attempts in a row
        // with a chance of 0.3^12, 5e-7: one run in 12,000 for the 160 requests).
        let gets = futures::future::join_all((0..20).map(|_| ns.get("default"))).await;
        let lp = kube::api::ListParams::default();
        let lists = futures::future::join_all((0..20).map(|_| cms.list(&lp))).await;
        let objects: Vec<_> = (0..20).map(|i| cm(format!("dry-{i}"))).collect();
        let dry_runs = futures::future::join_all(objects.iter().map(|o| cms.create(&dry, o))).await;
        use k8s_openapi::api::authorization::v1::SelfSubjectAccessReview;
        let ssar: kube::Api<SelfSubjectAccessReview> = kube::Api::all(c.client.clone());
        let review: SelfSubjectAccessReview = serde_json::from_value(
            serde_json::json!({"spec": {"resourceAttributes": {"verb": "get", "resource": "pods", "namespace": "default"}}}),
        )
        .unwrap();
        let pp = kube::api::PostParams::default();
        let reviews = futures::future::join_all((0..20).map(|_| ssar.create(&pp, &review))).await;
        for (what, failed) in [
            ("get", gets.iter().filter(|r| r.is_err()).count()),
            ("list", lists.iter().filter(|r| r.is_err()).count()),
            ("dry-run", dry_runs.iter().filter(|r| r.is_err()).count()),
            ("review", reviews.iter().filter(|r| r.is_err()).count()),
        ] {
            assert_eq!(failed, 0, "{what} requests failed under error-code={code}");
        }
        let log = h.log.entries();
        let count = |f: &dyn Fn(&meshdeck::sim::api::LoggedRequest) -> bool| log.iter().filter(|e| f(e)).count();
        let sent = count(&|e| {
            let read = ["/api/v1/namespaces/default", "/api/v1/namespaces/default/configmaps"];
            (e.method == "GET" && read.contains(&e.path.as_str()))
                || (e.method == "POST" && e.query.contains("dryRun=All"))
                || e.path.ends_with("/selfsubjectaccessreviews")
        });
        // The faults struck and were retried: more requests reached the server than were made
        // (that none of the 80 failed has a chance of 0.7^80, 4e-13).
        assert!(sent > 80, "{sent} requests sent for 80 under error-code={code}");

        // Real writes are sent once, whatever the answer.
        let mut failed = 0;
        for i in 0..30 {
            match cms.create(&Default::default(), &cm(format!("real-{i}"))).await {
                Ok(_) => {}
                Err(kube::Error::Api(s)) if s.code == code => failed += 1,
                Err(e) => panic!("create real-{i}: {e}"),
            }
        }
        let sent = h
            .log
            .entries()
            .iter()
            .filter(|e| e.method == "POST" && e.path.ends_with("/configmaps") && e.query.is_empty())
            .count();
        assert_eq!(sent, 30, "real creates sent under error-code={code}");
        assert!(failed > 0, "no create failed: the faults did not strike");

        // The whole inventory (a list and a watch of every kind) gets through as well.
        let dir = tempfile::tempdir().unwrap();
        let r = meshdeck(dir.path(), &[], &["inventory", "--kubeconfig", h.kubeconfig_path.to_str().unwrap()]).await;
        assert_eq!(r.code, 0, "inventory under error-code={code}:\n{}", r.out);
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn the_request_timeout_bounds_the_wait_for_an_answer_not_a_watch() {
    let h = sim_with("").await;
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    // A server that accepts connections and never says a word.
    let silent = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let server = format!("https://{}", silent.local_addr().unwrap());
    let held = tokio::spawn(async move {
        let mut open = Vec::new();
        while let Ok((tcp, _)) = silent.accept().await {
            open.push(tcp);
        }
    });
    let path = write(d, "silent", &kubeconfig(&server, &ca_of(&h), &h.tokens.admin));
    let r = meshdeck(d, &[], &["inventory", "--request-timeout", "2s", "--kubeconfig", path.to_str().unwrap()]).await;
    assert_eq!(r.code, 2, "{}", r.out);
    assert!(r.out.contains(&format!("cannot connect to {server}")), "{}", r.out);
    assert!(r.out.contains("no response within 2s (--request-timeout)"), "{}", r.out);
    held.abort();

    // A watch outlives the timeout: it answered at once and then streams.
    let t = Duration::from_secs(1);
    let opts =
        ConnectOptions { kubeconfig: Some(h.kubeconfig_path.clone()), request_timeout: Some(t), ..Default::default() };
    let c = client::open(&opts).await.unwrap();
    let live = Live::start_for(c.client.clone(), &c.conn);
    live.synced(DEADLINE).await.unwrap();
    let watches =
        || h.log.entries().iter().filter(|e| e.path.ends_with("/namespaces") && e.query.contains("watch=true")).count();
    let before = watches();
    // Not a wait for a condition: the time the timeout would have cut the stream at.
    tokio::time::sleep(t * 3).await;
    let ns: kube::Api<k8s_openapi::api::core::v1::Namespace> = kube::Api::all(c.client.clone());
    let obj = serde_json::from_value(serde_json::json!({"metadata": {"name": "late"}})).unwrap();
    ns.create(&Default::default(), &obj).await.unwrap();
    wait_for("the new namespace through the open watch", DEADLINE, || async {
        live.snapshot().read().unwrap().namespaces.contains_key("late").then_some(())
    })
    .await;
    assert_eq!(watches(), before, "the namespaces watch was opened again");
    assert!(live.summary().all_synced);
}

/// The kubeconfig the UI reads: `base` plus a context whose user holds planted secrets in a
/// client key that does not decode.
fn with_leaky_context(base: &str) -> String {
    let mut doc: serde_yaml::Value = serde_yaml::from_str(base).unwrap();
    let user = serde_yaml::from_str(&format!(
        "{{name: leaky, user: {{token: {TOKEN}, client-certificate-data: {}, client-key-data: \"{}%{PASSWORD}\"}}}}",
        b64("x"),
        b64(TOKEN)
    ))
    .unwrap();
    let ctx = serde_yaml::from_str("{name: leaky, context: {cluster: meshdeck-sim, user: leaky}}").unwrap();
    doc["users"].as_sequence_mut().unwrap().push(user);
    doc["contexts"].as_sequence_mut().unwrap().push(ctx);
    serde_yaml::to_string(&doc).unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn the_ui_names_a_broken_connection_and_recovers_when_the_kubeconfig_changes() {
    if !tmux::available("the_ui_names_a_broken_connection_and_recovers_when_the_kubeconfig_changes") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let port = free_port();
    let (first, second, ui) = (d.join("first.yaml"), d.join("second.yaml"), d.join("kubeconfig"));
    let mut sim = sim_process(port, &first).await;
    let first_text = std::fs::read_to_string(&first).unwrap();
    std::fs::write(&ui, with_leaky_context(&first_text)).unwrap();
    let cmd = format!(
        "cd {d} && env MESHDECK_CONFIG_DIR={d}/config MESHDECK_CACHE_DIR={d}/cache MESHDECK_STATE_DIR={d}/state {BIN} --kubeconfig {kc} 2>{d}/stderr",
        d = d.display(),
        kc = ui.display()
    );
    let s = tmux::start(format!("meshdeck-trust-{}", std::process::id()), &cmd);
    let bar = |t: &str| t.lines().last().unwrap_or("").to_string();
    wait_screen(&s, "the first sync", DEADLINE, |t| bar(t).contains("synced") && t.contains("kube-system"));

    // The API server goes away: the bar says so (the data shown stays, marked stale).
    sim.kill().await.unwrap();
    wait_screen(&s, "connection refused in the status bar", DEADLINE, |t| {
        bar(t).contains("reconnecting: connection refused")
    });

    // It comes back on the same port with a new CA and new tokens.
    let _sim = sim_process(port, &second).await;
    wait_screen(&s, "x509 in the status bar", DEADLINE, |t| {
        bar(t).contains("x509: certificate signed by unknown authority")
    });

    // The kubeconfig gets the new CA but an old token: now the server refuses the credentials.
    let second_text = std::fs::read_to_string(&second).unwrap();
    let old_token = first_text.lines().find(|l| l.contains("token: admin-")).unwrap().trim().to_string();
    let new_token = second_text.lines().find(|l| l.contains("token: admin-")).unwrap().trim().to_string();
    std::fs::write(&ui, with_leaky_context(&second_text.replace(&new_token, &old_token))).unwrap();
    wait_screen(&s, "401 in the status bar", DEADLINE, |t| bar(t).contains("401 Unauthorized"));

    // The right credentials: connected again, without restarting anything.
    std::fs::write(&ui, with_leaky_context(&second_text)).unwrap();
    wait_screen(&s, "a fresh sync", DEADLINE, |t| bar(t).contains("synced") && !bar(t).contains("stale"));

    // A context whose key does not decode: named, with nothing of the secrets on screen.
    keys(&s, &[":ctx leaky", "Enter"]);
    let screen = wait_screen(&s, "the failed switch", DEADLINE, |t| t.contains("cannot switch to leaky"));
    let secrets = [TOKEN.to_string(), PASSWORD.to_string(), b64(TOKEN)];
    assert_secret_free("the UI after :ctx leaky", &screen, &secrets);
    keys(&s, &["q"]);
    drop(s);

    let log = std::fs::read_to_string(d.join("cache/meshdeck.log")).unwrap();
    assert_secret_free("the log file", &log, &secrets);
    let lines = |needle: &str| log.lines().filter(|l| l.contains(needle)).count();
    assert_eq!(lines("client error") + lines("eof in poll"), 0, "{log}");
    assert_eq!(lines("connection refused"), 1, "{log}");
    assert!(lines("retrying with backoff") <= 6, "{log}");
}
