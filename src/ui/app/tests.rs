use super::*;
use crate::mesh::{Snapshot, derive};
use std::time::{Duration, SystemTime};

pub(crate) fn demo_view() -> Arc<MeshView> {
    let fixture: serde_json::Value =
        serde_json::from_str(include_str!("../../../tests/fixtures/demo-cluster.json")).expect("fixture parses");
    let snap = Snapshot::from_objects(vec![fixture]);
    let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000);
    let mut v = derive(&snap, now);
    v.context = "sim-admin".into();
    Arc::new(v)
}

fn names(app: &App) -> Vec<String> {
    app.current_rows()
        .iter()
        .map(|&i| match app.screen {
            Screen::Namespaces => app.view.namespaces[i].name.clone(),
            Screen::Workloads => format!("{}/{}", app.view.workloads[i].namespace, app.view.workloads[i].name),
            Screen::ControlPlane => app.view.control_plane.revisions[i].name.clone(),
            Screen::Plan | Screen::Journal | Screen::Rollout => String::new(),
        })
        .collect()
}

#[test]
fn drill_down_into_a_namespace_and_back() {
    let mut app = App::new(demo_view(), None);
    assert_eq!(app.screen, Screen::Namespaces);
    let pos = names(&app).iter().position(|n| n == "rng").expect("rng listed");
    app.set_window(Window { selected: pos, offset: 0 });
    assert!(app.update(Intent::DrillDown).is_empty());
    assert_eq!((app.screen, app.namespace.as_deref()), (Screen::Workloads, Some("rng")));
    assert_eq!(names(&app), vec!["rng/numbers-api", "rng/numbers-web"]);
    app.update(Intent::Back);
    assert_eq!((app.screen, app.namespace.as_deref()), (Screen::Namespaces, None));
}

#[test]
fn filter_narrows_and_escape_clears() {
    let mut app = App::new(demo_view(), None);
    app.update(Intent::GotoWorkloads);
    let all = names(&app).len();
    app.update(Intent::Filter);
    assert_eq!(app.mode, Mode::Filter);
    app.input.set("reviews");
    app.filter_typed();
    assert_eq!(names(&app), vec!["bookinfo/reviews-v1", "bookinfo/reviews-v2", "bookinfo/reviews-v3"]);
    app.update(Intent::Submit);
    assert_eq!((app.mode, app.filter.as_str()), (Mode::Table, "reviews"));
    app.update(Intent::Back);
    assert_eq!(names(&app).len(), all);
}

#[test]
fn sorting_cycles_columns_and_reverses() {
    let mut app = App::new(demo_view(), None);
    let by_name = names(&app);
    let mut sorted = by_name.clone();
    sorted.sort();
    assert_eq!(by_name, sorted);
    app.update(Intent::ReverseSort);
    let mut rev = sorted.clone();
    rev.reverse();
    assert_eq!(names(&app), rev);
    app.update(Intent::NextSortColumn);
    assert_eq!(app.sort[0], SortKey { column: 1, reverse: true });
}

#[test]
fn commands() {
    let mut app = App::new(demo_view(), None);
    app.contexts = vec!["sim-admin".into(), "sim-viewer".into()];
    assert_eq!(app.run_command("q"), vec![Effect::Quit]);
    assert_eq!(app.run_command("ctx sim-viewer"), vec![Effect::SwitchContext("sim-viewer".into())]);
    assert!(app.run_command("ctx prod").is_empty());
    assert_eq!(
        app.notices.newest().map(|n| n.text.clone()).as_deref(),
        Some("no context \"prod\" in the kubeconfig (sim-admin, sim-viewer)")
    );
    app.run_command("wl bookinfo");
    assert_eq!((app.screen, app.namespace.as_deref()), (Screen::Workloads, Some("bookinfo")));
    app.run_command("cp");
    assert_eq!(app.screen, Screen::ControlPlane);
    assert_eq!(names(&app), vec!["1-24-3", "1-25-0"]);
    app.run_command("frobnicate");
    assert!(app.notices.newest().unwrap().text.starts_with("unknown command :frobnicate"));
}

#[test]
fn selection_follows_its_object_across_updates() {
    let view = demo_view();
    let mut app = App::new(view.clone(), None);
    app.update(Intent::GotoWorkloads);
    let pos = names(&app).iter().position(|n| n == "payments/ledger").unwrap();
    app.set_window(Window { selected: pos, offset: 0 });
    // A new view where an earlier row disappeared keeps "ledger" selected.
    let mut smaller = (*view).clone();
    smaller.workloads.retain(|w| w.namespace != "bookinfo");
    app.set_view(Arc::new(smaller));
    assert_eq!(names(&app)[app.window().selected], "payments/ledger");
}
