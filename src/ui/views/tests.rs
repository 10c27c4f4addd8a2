//! Every screen rendered at 80×24 and 160×48 from the demo cluster's fixture, snapshotted.

use crate::mesh::{Snapshot, derive};
use crate::ui::app::{App, Screen};
use crate::ui::intent::Intent;
use crate::ui::keymap::Keymap;
use crate::ui::theme::Theme;
use ratatui::buffer::Buffer;
use ratatui::layout::Rect;
use std::sync::Arc;
use std::time::{Duration, SystemTime};

fn fixture() -> (Snapshot, Arc<crate::mesh::MeshView>) {
    let v: serde_json::Value = serde_json::from_str(include_str!("../../../tests/fixtures/demo-cluster.json")).unwrap();
    let snap = Snapshot::from_objects(vec![v]);
    let mut view = derive(&snap, SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000));
    view.context = "sim-admin".into();
    (snap, Arc::new(view))
}

/// The demo cluster as `sim-restricted` sees it: RBAC refuses the webhook configurations.
fn restricted_fixture() -> (Snapshot, Arc<crate::mesh::MeshView>) {
    let mut v: serde_json::Value =
        serde_json::from_str(include_str!("../../../tests/fixtures/demo-cluster.json")).unwrap();
    v["items"].as_array_mut().unwrap().retain(|o| o["kind"] != "MutatingWebhookConfiguration");
    let mut snap = Snapshot::from_objects(vec![v]);
    snap.hidden = crate::mesh::Hidden::of([crate::mesh::Input::MutatingWebhookConfiguration]);
    let mut view = derive(&snap, SystemTime::UNIX_EPOCH + Duration::from_secs(1_800_000_000));
    view.context = "sim-restricted".into();
    (snap, Arc::new(view))
}

fn text(buf: &Buffer) -> String {
    let a = buf.area;
    let mut out = String::new();
    for y in a.y..a.y + a.height {
        let mut line = String::new();
        for x in a.x..a.x + a.width {
            line.push_str(buf[(x, y)].symbol());
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// Draws `app` at `w`×`h` with the bundled theme and keymap.
fn draw(app: &mut App, snap: &Snapshot, w: u16, h: u16) -> String {
    let area = Rect::new(0, 0, w, h);
    app.page = super::layout(area, app).table.height.saturating_sub(1).max(1) as usize;
    let mut buf = Buffer::empty(area);
    super::render(app, Some(snap), &Theme::fallback(), &Keymap::fallback(), area, &mut buf);
    text(&buf)
}

fn app_on(screen: Screen, ns: Option<&str>) -> (App, Snapshot) {
    let (snap, view) = fixture();
    let mut app = App::new(view, None);
    app.sync.context = "sim-admin".into();
    app.sync.server = "https://127.0.0.1:6443".into();
    app.sync.text = "synced".into();
    match screen {
        Screen::Namespaces => {}
        Screen::Workloads => {
            app.run_command(&format!("wl {}", ns.unwrap_or("all")));
        }
        Screen::ControlPlane => {
            app.update(Intent::GotoControlPlane);
        }
        other => panic!("{other:?} is opened through the plan workflow"),
    }
    (app, snap)
}

#[test]
fn namespaces_screen() {
    for (w, h) in [(80, 24), (160, 48)] {
        let (mut app, snap) = app_on(Screen::Namespaces, None);
        insta::assert_snapshot!(format!("namespaces_{w}x{h}"), draw(&mut app, &snap, w, h));
    }
}

#[test]
fn workloads_screen_all_namespaces() {
    for (w, h) in [(80, 24), (160, 48)] {
        let (mut app, snap) = app_on(Screen::Workloads, None);
        insta::assert_snapshot!(format!("workloads_{w}x{h}"), draw(&mut app, &snap, w, h));
    }
}

#[test]
fn workload_detail_of_a_stale_statefulset() {
    for (w, h) in [(80, 24), (160, 48)] {
        let (mut app, snap) = app_on(Screen::Workloads, Some("payments"));
        app.update(Intent::Down);
        app.update(Intent::DrillDown);
        insta::assert_snapshot!(format!("detail_payments_ledger_{w}x{h}"), draw(&mut app, &snap, w, h));
    }
}

#[test]
fn control_plane_screen() {
    for (w, h) in [(80, 24), (160, 48)] {
        let (mut app, snap) = app_on(Screen::ControlPlane, None);
        insta::assert_snapshot!(format!("control_plane_{w}x{h}"), draw(&mut app, &snap, w, h));
    }
}

#[test]
fn hidden_facts_show_a_muted_question_mark_and_the_detail_says_why() {
    let (snap, view) = restricted_fixture();
    let mut app = App::new(view, None);
    app.sync.context = "sim-restricted".into();
    app.sync.server = "https://127.0.0.1:6443".into();
    app.sync.text = "synced · forbidden: mutatingwebhookconfigurations.admissionregistration.k8s.io".into();
    app.sync.forbidden = vec!["mutatingwebhookconfigurations.admissionregistration.k8s.io".into()];
    app.run_command("wl payments");
    app.update(Intent::Down);
    app.update(Intent::DrillDown);
    let (w, h) = (160, 48);
    let area = Rect::new(0, 0, w, h);
    app.page = super::layout(area, &app).table.height.saturating_sub(1).max(1) as usize;
    let mut buf = Buffer::empty(area);
    let theme = Theme::fallback();
    super::render(&app, Some(&snap), &theme, &Keymap::fallback(), area, &mut buf);
    let screen = text(&buf);
    insta::assert_snapshot!("restricted_detail_payments_ledger_160x48", screen);
    // Every `?` in the table is drawn muted: unknown, not a value.
    let table = super::layout(area, &app).table;
    let marks: Vec<(u16, u16)> = (table.y..table.y + table.height)
        .flat_map(|y| (table.x..table.x + table.width).map(move |x| (x, y)))
        .filter(|&(x, y)| buf[(x, y)].symbol() == "?")
        .collect();
    assert_eq!(marks.len(), 4, "INJECT and STALE of checkout and ledger:\n{screen}");
    // Those of the row not under the selection bar keep the muted style.
    let checkout = screen.lines().position(|l| l.starts_with("checkout")).unwrap() as u16;
    let unselected: Vec<&(u16, u16)> = marks.iter().filter(|(_, y)| *y == checkout).collect();
    assert_eq!(unselected.len(), 2);
    for &&(x, y) in &unselected {
        assert_eq!(buf[(x, y)].fg, theme.muted.fg.unwrap(), "({x}, {y})");
    }
    // One warning: the view names the refused kind, which the sync state names too.
    assert!(screen.lines().last().unwrap().contains("1 warning"), "{screen}");
    app.update(Intent::GotoControlPlane);
    insta::assert_snapshot!("restricted_control_plane_160x48", draw(&mut app, &snap, w, h));
}

#[test]
fn help_overlay_and_command_line() {
    let (mut app, snap) = app_on(Screen::Namespaces, None);
    app.update(Intent::ToggleHelp);
    insta::assert_snapshot!("help_80x24", draw(&mut app, &snap, 80, 24));
    app.update(Intent::ToggleHelp);
    app.update(Intent::CommandLine);
    app.input.set("wl book");
    let screen = draw(&mut app, &snap, 80, 24);
    assert!(screen.lines().nth(22).unwrap().starts_with(":wl book"), "{screen}");
}

/// The plan screens at both sizes, from the hand-written migration preview.
mod plan_screens {
    use super::*;
    use crate::ui::app::test_support::{app_with_preview, journal_entries};
    use crate::ui::app::{PreviewState, TaskResult};

    fn both(name: &str, setup: impl Fn(&mut App)) {
        for (w, h) in [(80, 24), (160, 48)] {
            let (snap, view) = fixture();
            let mut app = app_with_preview(view);
            setup(&mut app);
            insta::assert_snapshot!(format!("{name}_{w}x{h}"), draw(&mut app, &snap, w, h));
        }
    }

    #[test]
    fn plan_list_while_the_preview_computes() {
        both("plan_computing", |app| app.plan.preview = PreviewState::Computing);
    }

    #[test]
    fn preview_with_the_selected_objects_diff() {
        both("plan_preview_diff", |app| {
            for _ in 0..4 {
                app.update(Intent::Down); // past the 3 actions, onto the PeerAuthentication
            }
        });
    }

    #[test]
    fn apply_confirmation_with_conflicts_on_a_prod_context() {
        both("plan_confirm", |app| {
            app.sync.context = "prod-eu".into();
            app.update(Intent::ApplyPlan);
            app.update(Intent::TakeOver);
        });
    }

    #[test]
    fn staging_form_for_an_allow_policy() {
        for (w, h) in [(80, 24), (160, 48)] {
            let (snap, view) = fixture();
            let mut app = App::new(view, None);
            app.run_command("wl rng");
            app.update(Intent::StageAllow);
            crate::ui::app::test_support::type_text(&mut app, "user/x");
            app.update(Intent::Submit);
            insta::assert_snapshot!(format!("form_allow_{w}x{h}"), draw(&mut app, &snap, w, h));
        }
    }

    #[test]
    fn journal_with_an_entry_open() {
        both("journal", |app| {
            app.update(Intent::OpenJournal);
            app.on_task(TaskResult::Journal(Ok(journal_entries())));
            app.update(Intent::DrillDown);
        });
    }
}
