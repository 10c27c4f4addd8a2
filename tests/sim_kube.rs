//! kube-rs against the simulated cluster: list and watch with resume, dry-run, RBAC refusals,
//! 410 Gone followed by a re-list.

mod common;

use common::{DEADLINE, client, sim};
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{ConfigMap, Secret};
use kube::api::{Api, ListParams, PostParams, WatchEvent, WatchParams};
use kube::runtime::watcher;
use serde_json::json;

fn cm(name: &str, app: &str) -> ConfigMap {
    serde_json::from_value(json!({
        "apiVersion": "v1", "kind": "ConfigMap",
        "metadata": {"name": name, "labels": {"app": app}}, "data": {"k": name}
    }))
    .unwrap()
}

#[tokio::test]
async fn list_then_watch_resumes_from_the_list_version() {
    let h = sim(&[], 1.0).await;
    let c = client(&h, "sim-admin").await;
    let api: Api<ConfigMap> = Api::namespaced(c, "default");
    api.create(&PostParams::default(), &cm("a", "web")).await.unwrap();
    api.create(&PostParams::default(), &cm("b", "api")).await.unwrap();

    let list = api.list(&ListParams::default().labels("app=web")).await.unwrap();
    assert_eq!(list.items.iter().map(|c| c.metadata.name.clone().unwrap()).collect::<Vec<_>>(), vec!["a"]);
    let rv = list.metadata.resource_version.clone().unwrap();

    let mut stream = api.watch(&WatchParams::default().labels("app=web"), &rv).await.unwrap().boxed();
    api.create(&PostParams::default(), &cm("c", "web")).await.unwrap();
    api.create(&PostParams::default(), &cm("d", "api")).await.unwrap();
    api.delete("a", &Default::default()).await.unwrap();
    let mut seen = Vec::new();
    while seen.len() < 2 {
        match tokio::time::timeout(DEADLINE, stream.try_next()).await.expect("watch event in time").unwrap() {
            Some(WatchEvent::Added(o)) => seen.push(format!("added {}", o.metadata.name.unwrap())),
            Some(WatchEvent::Deleted(o)) => seen.push(format!("deleted {}", o.metadata.name.unwrap())),
            Some(WatchEvent::Bookmark(_)) => {}
            other => panic!("unexpected {other:?}"),
        }
    }
    // "d" does not match the selector; "c" and the deletion of "a" arrive in order.
    assert_eq!(seen, vec!["added c", "deleted a"]);

    // Resuming from the list's version replays the same changes.
    let mut again = api.watch(&WatchParams::default().labels("app=web"), &rv).await.unwrap().boxed();
    let first = tokio::time::timeout(DEADLINE, again.try_next()).await.unwrap().unwrap();
    assert!(matches!(first, Some(WatchEvent::Added(ref o)) if o.metadata.name.as_deref() == Some("c")));
}

#[tokio::test]
async fn pages_with_limit_and_continue() {
    let h = sim(&[], 1.0).await;
    let api: Api<ConfigMap> = Api::namespaced(client(&h, "sim-admin").await, "default");
    for i in 0..7 {
        api.create(&PostParams::default(), &cm(&format!("cm-{i}"), "x")).await.unwrap();
    }
    let mut names = Vec::new();
    let mut lp = ListParams::default().limit(3);
    let mut pages = 0;
    loop {
        let page = api.list(&lp).await.unwrap();
        pages += 1;
        names.extend(page.items.iter().map(|c| c.metadata.name.clone().unwrap()));
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(token) => lp = lp.continue_token(&token),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    assert_eq!(names, (0..7).map(|i| format!("cm-{i}")).collect::<Vec<_>>());
}

#[tokio::test]
async fn dry_run_create_stores_nothing() {
    let h = sim(&[], 1.0).await;
    let api: Api<ConfigMap> = Api::namespaced(client(&h, "sim-admin").await, "default");
    let before = h.cluster.store.current_rv();
    let out = api.create(&PostParams { dry_run: true, ..Default::default() }, &cm("ghost", "x")).await.unwrap();
    assert_eq!(out.metadata.name.as_deref(), Some("ghost"));
    assert!(out.metadata.uid.is_some(), "a dry-run answer shows what would be stored");
    assert_eq!(h.cluster.store.current_rv(), before);
    let err = api.get("ghost").await.unwrap_err();
    assert!(matches!(err, kube::Error::Api(ref s) if s.code == 404), "{err:?}");
}

#[tokio::test]
async fn viewer_is_forbidden_to_write() {
    let h = sim(&[], 1.0).await;
    let api: Api<ConfigMap> = Api::namespaced(client(&h, "sim-viewer").await, "default");
    assert!(api.list(&ListParams::default()).await.is_ok());
    let err = api.create(&PostParams::default(), &cm("x", "x")).await.unwrap_err();
    let kube::Error::Api(s) = err else { panic!("expected an API error, got {err:?}") };
    assert_eq!((s.code, s.reason.as_str()), (403, "Forbidden"));
    assert_eq!(
        s.message,
        "configmaps is forbidden: User \"sim-viewer\" cannot create resource \"configmaps\" in API group \"\" in the namespace \"default\""
    );
    assert!(
        h.cluster.store.get(meshdeck::sim::kinds::by_group_plural("", "configmaps").unwrap(), "default", "x").is_none()
    );
}

#[tokio::test]
async fn watch_from_an_expired_version_is_gone_and_the_watcher_relists() {
    let h = sim(&[], 1.0).await;
    let c = client(&h, "sim-admin").await;
    let api: Api<ConfigMap> = Api::namespaced(c.clone(), "default");
    let first = api.create(&PostParams::default(), &cm("one", "x")).await.unwrap();
    let old_rv = first.metadata.resource_version.unwrap();

    // Raw watch: a version older than the history is answered with an ERROR event, code 410.
    let secrets: Api<Secret> = Api::namespaced(c.clone(), "default");
    let s: Secret = serde_json::from_value(json!({"metadata": {"name": "bump"}})).unwrap();
    secrets.create(&PostParams::default(), &s).await.unwrap();
    h.expire_watches();
    let mut stream = api.watch(&WatchParams::default(), &old_rv).await.unwrap().boxed();
    match tokio::time::timeout(DEADLINE, stream.try_next()).await.unwrap().unwrap() {
        Some(WatchEvent::Error(e)) => assert_eq!((e.code, e.reason.as_str()), (410, "Expired")),
        other => panic!("expected 410, got {other:?}"),
    }

    // kube-runtime's watcher: after the expiry it lists again and sees objects made meanwhile.
    let mut w = watcher(api.clone(), watcher::Config::default()).boxed();
    let mut inits = 0;
    let mut names_after_relist = Vec::new();
    let mut expired = false;
    let end = tokio::time::Instant::now() + DEADLINE;
    while inits < 2 || !names_after_relist.contains(&"two".to_string()) {
        let ev = tokio::time::timeout_at(end, w.next()).await.expect("watcher progresses").expect("stream open");
        match ev {
            Ok(watcher::Event::Init) => inits += 1,
            Ok(watcher::Event::InitApply(o)) if inits == 2 => names_after_relist.push(o.metadata.name.unwrap()),
            Ok(watcher::Event::InitDone) if !expired => {
                expired = true;
                api.create(&PostParams::default(), &cm("two", "x")).await.unwrap();
                // A change of another kind after "two" puts the watcher's last version below
                // the compaction point, so its resume is answered 410.
                let bump: Secret = serde_json::from_value(json!({"metadata": {"name": "bump2"}})).unwrap();
                secrets.create(&PostParams::default(), &bump).await.unwrap();
                h.expire_watches();
            }
            Ok(_) => {}
            Err(e) => {
                // The watcher reports the 410 as an error before re-listing.
                assert!(
                    e.to_string().contains("410")
                        || e.to_string().contains("Expired")
                        || e.to_string().contains("too old"),
                    "{e}"
                );
            }
        }
    }
    assert_eq!(inits, 2);
}
