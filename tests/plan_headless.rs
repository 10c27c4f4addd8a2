//! The plan commands end to end against the simulated cluster, through the real binary: the rng
//! migration staged, diffed, applied with a rollout wait, checked on the cluster, and undone;
//! the refusals (read-only, no terminal, RBAC, empty or contradicting plans) that must happen
//! before any write; the plan file shared by many `stage` processes and the UI at once; and a
//! closed stdout.

mod common;

use common::cli::{Cli, code, text};
use common::{DEADLINE, restorable, sim, wait_for};
use kube::api::{Api, DynamicObject};
use kube::core::{ApiResource, GroupVersionKind};
use meshdeck::sim::run::SimHandle;
use serde_json::{Value, json};
use std::path::Path;
use std::process::{Command, Stdio};

fn api(client: &kube::Client, group: &str, version: &str, kind: &str, ns: &str) -> Api<DynamicObject> {
    let ar = ApiResource::from_gvk(&GroupVersionKind::gvk(group, version, kind));
    if ns.is_empty() { Api::all_with(client.clone(), &ar) } else { Api::namespaced_with(client.clone(), ns, &ar) }
}

async fn get(client: &kube::Client, group: &str, kind: &str, ns: &str, name: &str) -> Option<Value> {
    let version = "v1";
    let o = api(client, group, version, kind, ns).get_opt(name).await.expect("get works")?;
    Some(serde_json::to_value(o).unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_rng_migration_headless_then_undone() {
    let h = sim(&["demo"], 50.0).await;
    let dir = tempfile::tempdir().unwrap();
    let cli = Cli::new(&h, dir.path());
    let client = common::client(&h, "sim-admin").await;

    let before: Vec<Value> = vec![
        get(&client, "apps", "Deployment", "rng", "numbers-api").await.unwrap(),
        get(&client, "apps", "Deployment", "rng", "numbers-web").await.unwrap(),
        get(&client, "security.istio.io", "PeerAuthentication", "rng", "default").await.unwrap(),
    ];

    let stages: [&[&str]; 6] = [
        &["stage", "inject", "deploy/rng/numbers-api", "--restart"],
        &["stage", "inject", "deploy/rng/numbers-web", "--restart"],
        &["stage", "mtls", "ns/rng", "--mode", "strict"],
        &["stage", "allow", "deploy/rng/numbers-api", "--from", "sa/rng/numbers-web", "--methods", "GET"],
        &[
            "stage",
            "allow",
            "deploy/rng/numbers-web",
            "--from",
            "sa/istio-system/istio-ingressgateway-service-account",
            "--methods",
            "GET",
        ],
        &[
            "stage",
            "route",
            "svc/rng/numbers-web",
            "--host",
            "rng.example.com",
            "--gateway",
            "istio-system/ingressgateway",
            "--export-to",
            "istio-system",
        ],
    ];
    for s in stages {
        let out = cli.run(s).await;
        assert_eq!(code(&out), 0, "{s:?}: {}", text(&out.stderr));
    }
    let plan = std::fs::read_to_string(&cli.plan).unwrap();
    assert!(plan.starts_with("apiVersion: meshdeck.dev/v1alpha1\nkind: Plan\n"), "{plan}");
    assert_eq!(plan.matches("restartedAt:").count(), 2, "{plan}");

    let diff = cli.run(&["diff"]).await;
    assert_eq!(code(&diff), 1, "{}{}", text(&diff.stdout), text(&diff.stderr));
    let shown = text(&diff.stdout);
    assert!(shown.contains("+        sidecar.istio.io/inject: 'true'"), "{shown}");
    assert!(shown.contains("-    mode: PERMISSIVE\n   +    mode: STRICT"), "{shown}");
    assert!(!shown.contains("\x1b["), "no colour when not on a terminal");

    // The PeerAuthentication's mode belongs to kubectl: not taken without being asked.
    let refused = cli.run(&["apply", "--yes"]).await;
    assert_eq!(code(&refused), 2);
    let err = text(&refused.stderr);
    assert!(err.contains("PeerAuthentication rng/default"), "{err}");
    assert!(err.contains("spec.mtls.mode owned by kubectl-client-side-apply"), "{err}");
    assert!(err.contains("--force-conflicts"), "{err}");
    assert_eq!(cli.journal_files(), 0, "nothing journaled for a refused apply");

    let applied = cli.run(&["apply", "--yes", "--force-conflicts", "--wait", "--timeout", "240"]).await;
    assert_eq!(code(&applied), 0, "{}{}", text(&applied.stdout), text(&applied.stderr));
    assert!(text(&applied.stdout).contains("6 of 6 changes applied"), "{}", text(&applied.stdout));
    assert_eq!(cli.journal_files(), 1);

    for app in ["numbers-api", "numbers-web"] {
        let n = wait_for(&format!("{app} pods 2/2 with istio-proxy"), DEADLINE, || {
            common::all_injected_and_ready(&client, "rng", app)
        })
        .await;
        assert_eq!(n, 2, "{app}");
    }
    let pa = get(&client, "security.istio.io", "PeerAuthentication", "rng", "default").await.unwrap();
    assert_eq!(pa["spec"]["mtls"]["mode"], "STRICT");
    let ap = get(&client, "security.istio.io", "AuthorizationPolicy", "rng", "numbers-api-allow").await.unwrap();
    assert_eq!(
        ap["spec"],
        json!({"selector": {"matchLabels": {"app": "numbers-api"}}, "action": "ALLOW", "rules": [{
            "from": [{"source": {"principals": ["cluster.local/ns/rng/sa/numbers-web"]}}],
            "to": [{"operation": {"methods": ["GET"]}}]}]})
    );
    let ap = get(&client, "security.istio.io", "AuthorizationPolicy", "rng", "numbers-web-allow").await.unwrap();
    assert_eq!(
        ap["spec"]["rules"][0]["from"][0]["source"]["principals"],
        json!(["cluster.local/ns/istio-system/sa/istio-ingressgateway-service-account"])
    );
    assert_eq!(ap["spec"]["selector"], json!({"matchLabels": {"app": "numbers-web"}}));
    let vs = get(&client, "networking.istio.io", "VirtualService", "rng", "numbers-web").await.unwrap();
    assert_eq!(vs["spec"]["hosts"], json!(["rng.example.com"]));
    assert_eq!(vs["spec"]["gateways"], json!(["istio-system/ingressgateway"]));
    assert_eq!(vs["spec"]["exportTo"], json!(["istio-system"]));
    assert_eq!(vs["spec"]["http"][0]["route"][0]["destination"]["host"], "numbers-web.rng.svc.cluster.local");

    let again = cli.run(&["diff"]).await;
    assert_eq!(code(&again), 0, "{}{}", text(&again.stdout), text(&again.stderr));

    let undo = cli.run(&["undo", "last", "--yes", "--wait", "--timeout", "240"]).await;
    assert_eq!(code(&undo), 0, "{}{}", text(&undo.stdout), text(&undo.stderr));
    assert_eq!(cli.journal_files(), 2);
    for name in ["numbers-api-allow", "numbers-web-allow"] {
        assert_eq!(get(&client, "security.istio.io", "AuthorizationPolicy", "rng", name).await, None, "{name}");
    }
    assert_eq!(get(&client, "networking.istio.io", "VirtualService", "rng", "numbers-web").await, None);
    let after: Vec<Value> = vec![
        get(&client, "apps", "Deployment", "rng", "numbers-api").await.unwrap(),
        get(&client, "apps", "Deployment", "rng", "numbers-web").await.unwrap(),
        get(&client, "security.istio.io", "PeerAuthentication", "rng", "default").await.unwrap(),
    ];
    for (b, a) in before.iter().zip(&after) {
        assert_eq!(restorable(a), restorable(b), "{} restored exactly", b["metadata"]["name"]);
    }
    assert_eq!(after[2]["spec"]["mtls"]["mode"], "PERMISSIVE");

    let journal = cli.run(&["journal", "-o", "json"]).await;
    let entries: Value = serde_json::from_slice(&journal.stdout).expect("journal prints JSON");
    assert_eq!(entries[1]["undoes"], entries[0]["id"]);
    assert_eq!(entries[0]["user"], "sim-admin");
    assert_eq!(entries[0]["context"], "sim-admin");
}

fn small_plan(cli: &Cli) {
    std::fs::write(
        &cli.plan,
        "apiVersion: meshdeck.dev/v1alpha1\nkind: Plan\nactions:\n- action: mtls\n  target: ns/bookinfo\n  mode: STRICT\n",
    )
    .unwrap();
}

/// Writes that reached the cluster (dry-runs and access reviews are not writes).
fn real_writes(h: &SimHandle) -> Vec<String> {
    h.log
        .entries()
        .into_iter()
        .filter(|e| e.is_mutating() && !e.query.contains("dryRun=All"))
        .map(|e| format!("{} {} ({})", e.method, e.path, e.user))
        .collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn refusals_happen_before_any_write() {
    let h = sim(&["demo"], 50.0).await;
    let dir = tempfile::tempdir().unwrap();
    let cli = Cli::new(&h, dir.path());
    small_plan(&cli);
    let writes_before = real_writes(&h).len();

    // Read-only: the client refuses the write itself.
    let out = cli.run(&["--read-only", "apply", "--yes"]).await;
    assert_eq!(code(&out), 2, "{}", text(&out.stderr));
    assert!(text(&out.stderr).contains("read-only"), "{}", text(&out.stderr));
    // The diff still works under --read-only: dry-runs pass.
    let out = cli.run(&["--read-only", "diff"]).await;
    assert_eq!(code(&out), 1, "{}", text(&out.stderr));

    // No terminal and no --yes: refused.
    let out = cli.run(&["apply"]).await;
    assert_eq!(code(&out), 2);
    assert!(text(&out.stderr).contains("no terminal to ask on; pass --yes"), "{}", text(&out.stderr));

    // As a viewer: the access review says no before anything is sent.
    let out = cli.run(&["--context", "sim-viewer", "apply", "--yes"]).await;
    assert_eq!(code(&out), 2);
    let err = text(&out.stderr);
    assert!(err.contains("PeerAuthentication bookinfo/default"), "{err}");
    assert!(err.contains("forbidden: may not create PeerAuthentication bookinfo/default"), "{err}");
    assert!(err.contains("RBAC: User \"sim-viewer\""), "{err}");
    assert!(text(&out.stdout).contains("[FORBIDDEN]"), "{}", text(&out.stdout));

    assert_eq!(cli.journal_files(), 0, "no journal entry for a refused apply");
    assert_eq!(real_writes(&h)[writes_before..], [] as [String; 0], "no write reached the cluster");
    assert!(
        h.log.entries().iter().all(|e| !(e.user == "sim-viewer" && e.is_mutating())),
        "the viewer's plan was not even dry-run"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn bad_plans_name_the_place() {
    let h = sim(&["demo"], 50.0).await;
    let dir = tempfile::tempdir().unwrap();
    let cli = Cli::new(&h, dir.path());
    let cases = [
        (
            "apiVersion: meshdeck.dev/v1alpha1\nkind: Plan\nactions:\n- action: mtls\n  target: [\n",
            "plan.yaml:5:11: actions[0].target: invalid type: sequence",
        ),
        ("apiVersion: meshdeck.dev/v1alpha1\nkind: Plan\nactions:\n- action: explode\n  target: ns/rng\n", "explode"),
        ("apiVersion: meshdeck.dev/v1alpha1\nkind: Plan\nactions:\n- action: mtls\n  mode: STRICT\n", "target"),
        (
            "apiVersion: meshdeck.dev/v1alpha1\nkind: Plan\nactions:\n- action: mtls\n  target: ns/nowhere\n  mode: STRICT\n",
            "nowhere",
        ),
    ];
    let place = cli.plan.display().to_string();
    let field = format!("{place}:6:3: actions[0]: unknown field `mdoe`");
    let how =
        format!("stage actions with `meshdeck stage …` (e.g. `meshdeck stage mtls ns/NS --mode strict -f {place}`)");
    let empty = format!("{place}: the plan is empty: nothing to preview or apply; {how}");
    let cases = cases.into_iter().map(|(p, w)| (Some(p), w.to_string())).chain([
        (Some("apiVersion: meshdeck.dev/v1alpha1\nkind: Plan\nactions:\n- action: mtls\n  target: ns/rng\n  mdoe: STRICT\n"), field),
        (Some(""), empty.clone()),
        (Some("apiVersion: meshdeck.dev/v1alpha1\nkind: Plan\nactions: []\n"), empty),
        (None, format!("{place} does not exist: nothing is staged; {how}")),
        (
            Some("apiVersion: meshdeck.dev/v1alpha1\nkind: Plan\nactions:\n- {action: mtls, target: ns/rng, mode: STRICT}\n- {action: mtls, target: ns/rng, mode: DISABLE}\n"),
            "the plan contradicts itself, so it has no one outcome to preview; drop one action of each pair:\n  action 2 (mtls ns/rng DISABLE) contradicts action 1 (mtls ns/rng STRICT): both set the mTLS mode of ns/rng: STRICT against DISABLE".into(),
        ),
    ]);
    for (plan, want) in cases {
        match plan {
            Some(plan) => std::fs::write(&cli.plan, plan).unwrap(),
            None => std::fs::remove_file(&cli.plan).unwrap(),
        }
        for args in [&["apply", "--yes"][..], &["diff"]] {
            let out = cli.run(args).await;
            let err = text(&out.stderr);
            assert_eq!(code(&out), 2, "{args:?} {plan:?}: {err}");
            assert!(err.contains(&place), "names the file: {err}");
            assert!(err.contains(&want), "{args:?}\n got: {err}\nwant: {want}");
        }
    }
    assert_eq!(cli.journal_files(), 0);
    assert_eq!(real_writes(&h), [] as [String; 0]);
}

#[tokio::test(flavor = "multi_thread")]
async fn export_writes_one_file_per_object() {
    let h = sim(&["demo"], 50.0).await;
    let dir = tempfile::tempdir().unwrap();
    let cli = Cli::new(&h, dir.path());
    small_plan(&cli);
    let out_dir = dir.path().join("out");
    let out = cli.run(&["export", "--dir", out_dir.to_str().unwrap()]).await;
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    let mut names: Vec<String> =
        std::fs::read_dir(&out_dir).unwrap().map(|e| e.unwrap().file_name().to_string_lossy().into_owned()).collect();
    names.sort();
    assert!(names.contains(&"kustomization.yaml".to_string()), "{names:?}");
    let pa = names.iter().find(|n| n.contains("peerauthentication")).expect("a file for the PeerAuthentication");
    let body: Value = serde_yaml::from_str(&std::fs::read_to_string(out_dir.join(pa)).unwrap()).unwrap();
    assert_eq!(body["spec"]["mtls"]["mode"], "STRICT");
    assert_eq!(body["metadata"]["namespace"], "bookinfo");
    assert_eq!(real_writes(&h), [] as [String; 0], "export writes nothing to the cluster");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_killed_apply_leaves_a_journal_undo_can_use() {
    // Slow answers, so the apply can be caught between two writes.
    let h = common::sim_with_faults(&["demo"], 50.0, "latency=300").await;
    let dir = tempfile::tempdir().unwrap();
    let cli = Cli::new(&h, dir.path());
    let client = common::client(&h, "sim-admin").await;
    std::fs::write(
        &cli.plan,
        concat!(
            "apiVersion: meshdeck.dev/v1alpha1\nkind: Plan\nactions:\n",
            "- action: inject\n  target: ns/legacy\n",
            "- action: mtls\n  target: ns/bookinfo\n  mode: STRICT\n",
            "- action: allow\n  target: deploy/bookinfo/productpage-v1\n  from: [ns/istio-system]\n",
            "- action: allow\n  target: deploy/bookinfo/reviews-v1\n  from: [sa/bookinfo/bookinfo-productpage]\n",
            "- action: route\n  service: svc/bookinfo/productpage\n  hosts: [bookinfo.example.com]\n  gateway: bookinfo/bookinfo-gateway\n",
        ),
    )
    .unwrap();
    let ns_before = get(&client, "", "Namespace", "", "legacy").await.unwrap();

    let mut child = Command::new(env!("CARGO_BIN_EXE_meshdeck"))
        .args(["apply", "--yes", "-f"])
        .arg(&cli.plan)
        .env("KUBECONFIG", &cli.kubeconfig)
        .env("MESHDECK_STATE_DIR", &cli.state)
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let journal = cli.state.join("journal");
    let states = wait_for("an apply between two writes", DEADLINE, || {
        let journal = journal.clone();
        async move {
            let file = std::fs::read_dir(&journal)
                .ok()?
                .filter_map(Result::ok)
                .find(|e| e.path().extension().is_some_and(|x| x == "json"))?;
            let entry: Value = serde_json::from_slice(&std::fs::read(file.path()).ok()?).ok()?;
            let states: Vec<String> =
                entry["items"].as_array()?.iter().map(|i| i["state"].as_str().unwrap_or("").to_string()).collect();
            (states.iter().any(|s| s == "applied") && states.iter().any(|s| s == "pending")).then_some(states)
        }
    })
    .await;
    child.kill().unwrap();
    child.wait().unwrap();
    assert_eq!(states.len(), 5, "{states:?}");

    let undo = cli.run(&["undo", "last", "--yes"]).await;
    assert_eq!(code(&undo), 0, "{}{}", text(&undo.stdout), text(&undo.stderr));
    let ns_after = get(&client, "", "Namespace", "", "legacy").await.unwrap();
    assert_eq!(ns_after["metadata"]["labels"], ns_before["metadata"]["labels"]);
    assert_eq!(get(&client, "security.istio.io", "PeerAuthentication", "bookinfo", "default").await, None);
    for name in ["productpage-v1-allow", "reviews-v1-allow"] {
        assert_eq!(get(&client, "security.istio.io", "AuthorizationPolicy", "bookinfo", name).await, None, "{name}");
    }
    assert_eq!(get(&client, "networking.istio.io", "VirtualService", "bookinfo", "productpage").await, None);
}

/// `meshdeck stage ARGS -f PLAN`. Staging works offline: no cluster is needed.
fn stage(plan: &Path, args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_meshdeck"));
    cmd.arg("stage").args(args).arg("-f").arg(plan).env_remove("MESHDECK_LOG").stdin(Stdio::null());
    cmd
}

fn staged(plan: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(plan).unwrap();
    let plan = meshdeck::plan::Plan::from_yaml(&text, "plan").unwrap();
    plan.actions.iter().map(|a| a.summary()).collect()
}

fn sorted(mut v: Vec<String>) -> Vec<String> {
    v.sort();
    v
}

#[cfg(unix)]
fn mode(p: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).unwrap().permissions().mode() & 0o777
}

#[test]
fn twenty_stagings_at_once_keep_every_action() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plans/rng.yaml");
    let children: Vec<_> = (0..20)
        .map(|i| {
            stage(&plan, &["inject", &format!("deploy/rng/app-{i}")])
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .spawn()
                .unwrap()
        })
        .collect();
    for child in children {
        let out = child.wait_with_output().unwrap();
        assert!(out.status.success(), "{}", text(&out.stderr));
    }
    let want: Vec<String> = (0..20).map(|i| format!("inject deploy/rng/app-{i}")).collect();
    assert_eq!(sorted(staged(&plan)), sorted(want));
    #[cfg(unix)]
    {
        let lock = dir.path().join("plans/.rng.yaml.lock");
        assert_eq!((mode(&plan), mode(&lock), mode(&dir.path().join("plans"))), (0o600, 0o600, 0o700));
        let leftovers: Vec<_> =
            std::fs::read_dir(dir.path().join("plans")).unwrap().map(|e| e.unwrap().file_name()).collect();
        assert_eq!(leftovers.len(), 2, "the plan and its lock, no temporary file: {leftovers:?}");
    }
}

#[test]
fn stage_refuses_a_contradiction_and_skips_a_repeat() {
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("plan.yaml");
    let run = |args: &[&str]| stage(&plan, args).output().unwrap();
    for args in [
        &["mtls", "ns/rng", "--mode", "strict"][..],
        &["revision", "ns/rng", "--to", "canary"],
        &["inject", "deploy/rng/web"],
    ] {
        let out = run(args);
        assert_eq!(code(&out), 0, "{args:?}: {}", text(&out.stderr));
    }
    let before = std::fs::read_to_string(&plan).unwrap();
    let place = plan.display().to_string();
    let refused = [
        (
            &["mtls", "ns/rng", "--mode", "disable"][..],
            "`mtls ns/rng DISABLE` not staged: it contradicts action 1 (mtls ns/rng STRICT): both set the mTLS mode of ns/rng: STRICT against DISABLE. A plan says one thing per object: drop action 1 first",
        ),
        (
            &["revision", "ns/rng", "--to", "stable"],
            "`revision ns/rng to stable` not staged: it contradicts action 2 (revision ns/rng to canary): both set sidecar injection of ns/rng: revision canary (istio.io/rev=canary) against revision stable (istio.io/rev=stable)",
        ),
        (
            &["uninject", "deploy/rng/web", "--restart"],
            "`uninject deploy/rng/web with restart` not staged: it contradicts action 3 (inject deploy/rng/web): both set sidecar injection of deploy/rng/web: injection on against injection off",
        ),
    ];
    for (args, want) in refused {
        let out = run(args);
        assert_eq!(code(&out), 2, "{args:?}");
        let err = text(&out.stderr);
        assert!(err.contains(&format!("{place}: {want}")), "{args:?}\n got: {err}\nwant: {want}");
    }
    let out = run(&["mtls", "ns/rng", "--mode", "strict"]);
    assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).starts_with(
            "`mtls ns/rng STRICT` is already staged: it repeats action 1 (mtls ns/rng STRICT); nothing added\n"
        ),
        "{}",
        text(&out.stdout)
    );
    assert_eq!(std::fs::read_to_string(&plan).unwrap(), before, "nothing added, nothing lost");
}

/// The UI's save path (`PlanFile::sync`, what the run loop calls after each change and when
/// the file changed on disk), driven in-process, against `meshdeck stage` processes.
#[test]
fn the_ui_and_stage_interleave_without_losing_actions() {
    use meshdeck::plan::Action;
    use meshdeck::ui::tasks::PlanFile;
    let dir = tempfile::tempdir().unwrap();
    let plan = dir.path().join("meshdeck-plan.yaml");
    let ok = |mut cmd: Command| {
        let out = cmd.output().unwrap();
        assert_eq!(code(&out), 0, "{}", text(&out.stderr));
    };
    let restart =
        |name: &str| Action::Restart { target: name.parse().unwrap(), restarted_at: "2026-11-27T01:30:00Z".into() };
    let (mut ui, read) = PlanFile::open(&plan);
    let mut mine = read.unwrap();

    // Turn by turn: the UI stages after `stage` did, then drops its own after another `stage`.
    ok(stage(&plan, &["mtls", "ns/rng", "--mode", "strict"]));
    mine.actions.push(restart("ns/ui"));
    mine = ui.sync(&mine).unwrap().plan;
    assert_eq!(staged(&plan), ["mtls ns/rng STRICT", "restart ns/ui"]);
    ok(stage(&plan, &["inject", "deploy/rng/web"]));
    mine.actions.retain(|a| *a != restart("ns/ui"));
    mine = ui.sync(&mine).unwrap().plan;
    assert_eq!(staged(&plan), ["mtls ns/rng STRICT", "inject deploy/rng/web"]);
    assert_eq!(mine.actions.len(), 2);

    // At once: ten `stage` processes while the UI stages ten of its own.
    let children: Vec<_> = (0..10)
        .map(|i| stage(&plan, &["inject", &format!("deploy/rng/cli-{i}")]).stdout(Stdio::null()).spawn().unwrap())
        .collect();
    let start = std::time::Instant::now();
    for i in 0..10 {
        mine.actions.push(restart(&format!("deploy/rng/ui-{i}")));
        // A save that could not have the lock in time keeps the change for the next one, as
        // the UI does.
        mine = loop {
            match ui.sync(&mine) {
                Ok(s) => break s.plan,
                Err(e) if !e.unreadable && start.elapsed() < DEADLINE => continue,
                Err(e) => panic!("{}", e.message),
            }
        };
    }
    for mut child in children {
        assert!(child.wait().unwrap().success());
    }
    // Stagings after its last save reach the UI as a reload.
    if ui.changed() {
        mine = ui.sync(&mine).unwrap().plan;
    }
    let mut want = vec!["mtls ns/rng STRICT".to_string(), "inject deploy/rng/web".into()];
    want.extend((0..10).map(|i| format!("inject deploy/rng/cli-{i}")));
    want.extend((0..10).map(|i| format!("restart deploy/rng/ui-{i}")));
    assert_eq!(sorted(staged(&plan)), sorted(want));
    assert_eq!(mine.actions.iter().map(|a| a.summary()).collect::<Vec<_>>(), staged(&plan), "the UI shows the file");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_closed_stdout_ends_every_command_quietly() {
    let h = sim(&["demo"], 50.0).await;
    let dir = tempfile::tempdir().unwrap();
    let cli = Cli::new(&h, dir.path());
    small_plan(&cli);
    let commands: [&[&str]; 7] = [
        &["journal"],
        &["journal", "-o", "json"],
        &["inventory"],
        &["inventory", "-o", "json"],
        &["diff"],
        &["diff", "-o", "json"],
        &["stage", "restart", "ns/rng"],
    ];
    for args in commands {
        let (reader, writer) = std::io::pipe().unwrap();
        drop(reader);
        let mut cmd = cli.command(args);
        cmd.stdout(writer);
        let out = tokio::task::spawn_blocking(move || cmd.output().unwrap()).await.unwrap();
        assert_eq!((code(&out), text(&out.stderr)), (0, String::new()), "{args:?}: exit 0 and no message");
    }
    assert_eq!(staged(&cli.plan).len(), 2, "the stage itself happened");
    // A failure is still one: an error with a closed stdout exits 2 and says why.
    std::fs::remove_file(&cli.plan).unwrap();
    let (reader, writer) = std::io::pipe().unwrap();
    drop(reader);
    let mut cmd = cli.command(&["diff"]);
    cmd.stdout(writer);
    let out = tokio::task::spawn_blocking(move || cmd.output().unwrap()).await.unwrap();
    assert_eq!(code(&out), 2);
    assert!(text(&out.stderr).contains("does not exist"), "{}", text(&out.stderr));
}
