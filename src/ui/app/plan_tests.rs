//! The plan workflow driven through intents and keys: staging from rows into hand-written
//! expected actions, form validation, editor errors, the apply confirmation, stale previews,
//! and undo from the journal.

use super::test_support::*;
use super::tests::demo_view;
use super::*;
use crate::plan::{Action, Caller, MtlsMode, ServiceRef, Target};
use crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

fn app() -> App {
    let mut app = App::new(demo_view(), None);
    app.now = fixed_now;
    app.plan.file = Some("meshdeck-plan.yaml".into());
    app
}

fn select(app: &mut App, name: &str) {
    let pos = app
        .current_rows()
        .iter()
        .position(|&i| match app.screen {
            Screen::Namespaces => app.view.namespaces[i].name == name,
            _ => app.view.workloads[i].name == name,
        })
        .unwrap_or_else(|| panic!("{name} is listed"));
    app.set_window(Window { selected: pos, offset: 0 });
}

fn deploy(name: &str) -> Target {
    format!("deploy/rng/{name}").parse().unwrap()
}

fn ctrl_u(app: &mut App) {
    app.text_key(&KeyEvent::new(KeyCode::Char('u'), KeyModifiers::CONTROL));
}

/// Each case: screen row, key, what is typed or chosen in the form, the staged action.
#[test]
fn staging_keys_on_rows_stage_the_expected_actions() {
    type Fill = fn(&mut App);
    let cases: Vec<(&str, &str, Intent, Fill, Action)> = vec![
        (
            "ns",
            "rng",
            Intent::StageMtls,
            |_| {},
            Action::Mtls { target: Target::Namespace("rng".into()), mode: MtlsMode::Strict },
        ),
        (
            "ns",
            "rng",
            Intent::StageMtls,
            |a| press(a, KeyCode::Right),
            Action::Mtls { target: Target::Namespace("rng".into()), mode: MtlsMode::Permissive },
        ),
        (
            "wl",
            "numbers-api",
            Intent::StageInject,
            |_| {},
            Action::Inject { target: deploy("numbers-api"), revision: None, restarted_at: Some(NOW.into()) },
        ),
        (
            "wl",
            "numbers-web",
            Intent::StageUninject,
            |a| press(a, KeyCode::Char('n')),
            Action::Uninject { target: deploy("numbers-web"), restarted_at: None },
        ),
        (
            "ns",
            "rng",
            Intent::StageInject,
            |a| {
                press(a, KeyCode::Right); // the first revision after the default
                a.update(Intent::NextField);
                press(a, KeyCode::Char(' ')); // no restart
            },
            Action::Inject {
                target: Target::Namespace("rng".into()),
                revision: Some("1-24-3".into()),
                restarted_at: None,
            },
        ),
        (
            "wl",
            "numbers-api",
            Intent::StageAllow,
            |a| {
                type_text(a, "sa/rng/numbers-web");
                press(a, KeyCode::Down);
                type_text(a, "get, post");
                press(a, KeyCode::Down);
                type_text(a, "/numbers/*");
                press(a, KeyCode::Down);
                type_text(a, "8080");
            },
            Action::Allow {
                target: deploy("numbers-api"),
                from: vec![Caller::ServiceAccount { namespace: "rng".into(), name: "numbers-web".into() }],
                methods: vec!["GET".into(), "POST".into()],
                paths: vec!["/numbers/*".into()],
                ports: vec![8080],
            },
        ),
        (
            "wl",
            "numbers-web",
            Intent::StageRoute,
            |a| {
                press(a, KeyCode::Down);
                type_text(a, "rng.example.com");
                press(a, KeyCode::Down);
                ctrl_u(a);
                type_text(a, "istio-system/ingressgateway");
                press(a, KeyCode::Down);
                type_text(a, "istio-system");
            },
            Action::Route {
                service: ServiceRef { namespace: "rng".into(), name: "numbers-web".into() },
                hosts: vec!["rng.example.com".into()],
                gateway: "istio-system/ingressgateway".into(),
                export_to: vec!["istio-system".into()],
            },
        ),
        (
            "ns",
            "rng",
            Intent::StageRevision,
            |a| press(a, KeyCode::Right),
            Action::Revision {
                target: Target::Namespace("rng".into()),
                to: "1-25-0".into(),
                restarted_at: Some(NOW.into()),
            },
        ),
    ];
    for (screen, row, intent, fill, want) in cases {
        let mut app = app();
        app.run_command(if screen == "ns" { "ns" } else { "wl rng" });
        select(&mut app, row);
        assert!(app.update(intent).is_empty(), "{intent:?} on {row} only opens a form");
        assert_eq!(app.mode, Mode::Form, "{intent:?} on {row}");
        fill(&mut app);
        let effects = app.update(Intent::Submit);
        assert_eq!(app.form.as_ref().and_then(|f| f.error.clone()), None, "{intent:?} on {row}");
        assert_eq!(app.plan.plan.actions, vec![want.clone()], "{intent:?} on {row}");
        assert_eq!(effects, vec![Effect::SavePlan(app.plan.plan.clone())], "saved, no preview off the plan screen");
        assert_eq!(app.mode, Mode::Table);
    }
}

#[test]
fn restart_stages_at_once_and_the_status_bar_counts_staged_actions() {
    let mut app = app();
    app.run_command("wl rng");
    select(&mut app, "numbers-web");
    app.update(Intent::StageRestart);
    assert_eq!(
        app.plan.plan.actions,
        vec![Action::Restart { target: deploy("numbers-web"), restarted_at: NOW.into() }]
    );
    assert_eq!(app.mode, Mode::Table);
    app.update(Intent::StageMtls);
    app.update(Intent::Submit);
    assert_eq!(app.plan.plan.actions.len(), 2);
    assert!(
        app.notices.newest().unwrap().text.starts_with("staged: mtls deploy/rng/numbers-web STRICT (2 in the plan")
    );
}

#[test]
fn forms_say_which_field_is_wrong() {
    type Fill = fn(&mut App);
    let cases: Vec<(&str, Intent, Fill, &str)> = vec![
        ("numbers-api", Intent::StageAllow, |_| {}, "from: name at least one caller (sa/NS/NAME or ns/NS)"),
        (
            "numbers-api",
            Intent::StageAllow,
            |a| type_text(a, "user/bob"),
            "from: `user/bob`: a caller is sa/NS/NAME or ns/NS",
        ),
        (
            "numbers-api",
            Intent::StageAllow,
            |a| {
                type_text(a, "ns/rng");
                press(a, KeyCode::Down);
                type_text(a, "G3T");
            },
            "methods: `G3T` is not an HTTP method",
        ),
        (
            "numbers-api",
            Intent::StageAllow,
            |a| {
                type_text(a, "ns/rng");
                press(a, KeyCode::Down);
                press(a, KeyCode::Down);
                type_text(a, "numbers");
            },
            "paths: `numbers` must start with /",
        ),
        (
            "numbers-api",
            Intent::StageAllow,
            |a| {
                type_text(a, "ns/rng");
                press(a, KeyCode::Up);
                type_text(a, "80,http");
            },
            "ports: `http` is not a port number (1-65535)",
        ),
        ("numbers-web", Intent::StageRoute, |_| {}, "hosts: name at least one host"),
        (
            "numbers-web",
            Intent::StageRoute,
            |a| {
                press(a, KeyCode::Down);
                type_text(a, "Bad_Host");
            },
            "hosts: `Bad_Host` is not a DNS name",
        ),
        (
            "numbers-web",
            Intent::StageRoute,
            |a| {
                press(a, KeyCode::Down);
                type_text(a, "rng.example.com");
                press(a, KeyCode::Down);
                ctrl_u(a);
                type_text(a, "ingressgateway");
            },
            "gateway: `ingressgateway` is not NS/NAME",
        ),
    ];
    for (row, intent, fill, want) in cases {
        let mut app = app();
        app.run_command("wl rng");
        select(&mut app, row);
        app.update(intent);
        fill(&mut app);
        assert!(app.update(Intent::Submit).is_empty(), "{want}");
        let err = app.form.as_ref().and_then(|f| f.error.clone()).unwrap_or_default();
        assert!(err.starts_with(want), "got {err:?}, want {want:?}");
        assert!(app.plan.plan.actions.is_empty(), "nothing staged on error");
        assert_eq!(app.mode, Mode::Form, "the form stays open");
        app.update(Intent::Back);
        assert_eq!((app.mode, app.form.is_none()), (Mode::Table, true));
    }
}

#[test]
fn actions_that_do_not_fit_the_row_say_where_they_belong() {
    let mut app = app();
    select(&mut app, "rng");
    app.update(Intent::StageAllow);
    assert_eq!(app.notices.newest().unwrap().text, "allow applies to a workload (on the workloads screen)");
    app.run_command("wl rng");
    app.update(Intent::StageRevision);
    assert_eq!(app.notices.newest().unwrap().text, "revision applies to a namespace");
    assert!(app.form.is_none() && app.plan.plan.actions.is_empty());
}

#[test]
fn the_plan_screen_computes_the_preview_and_drops_stale_results() {
    let mut app = app();
    app.plan.plan = migration_plan();
    let effects = app.update(Intent::OpenPreview);
    assert_eq!(app.screen, Screen::Plan);
    assert_eq!(app.mode, Mode::Preview);
    assert_eq!(effects, vec![Effect::Preview { plan: migration_plan(), generation: 0 }]);
    assert!(matches!(app.plan.preview, PreviewState::Computing));
    // Delete the first action while the preview computes: a new preview is asked for...
    let effects = app.update(Intent::DeleteStaged);
    assert_eq!(app.plan.plan.actions.len(), 2);
    assert!(matches!(effects.as_slice(), [Effect::SavePlan(_), Effect::Preview { generation: 1, .. }]), "{effects:?}");
    // ...and the old one, arriving late, is dropped.
    app.on_task(TaskResult::Previewed { generation: 0, result: Ok(migration_preview()), lines: vec![] });
    assert!(matches!(app.plan.preview, PreviewState::Computing));
    app.on_task(TaskResult::Previewed { generation: 1, result: Err("forbidden".into()), lines: vec![] });
    assert!(matches!(&app.plan.preview, PreviewState::Failed(e) if e == "forbidden"));
    app.update(Intent::Back);
    assert_eq!(app.screen, Screen::Namespaces);
}

#[test]
fn editor_errors_keep_the_staged_object_and_a_good_edit_recomputes() {
    let mut app = app_with_preview(demo_view());
    // Rows: 3 actions, then the objects; the PeerAuthentication is the second object.
    app.plan.window.select(4, app.plan.rows().len(), 10);
    assert!(app.update(Intent::EditStaged).is_empty());
    assert_eq!(app.mode, Mode::Editor);
    let ed = app.plan.editor.as_mut().unwrap();
    assert!(ed.text().contains("mode: STRICT"), "{}", ed.text());
    ed.area = tui_textarea::TextArea::new(vec!["apiVersion: security.istio.io/v1".into(), "kind: [oops".into()]);
    assert!(app.update(Intent::Save).is_empty());
    let err = app.plan.editor.as_ref().and_then(|e| e.error.clone()).unwrap_or_default();
    assert!(err.starts_with("line 3, column 1: did not find expected ',' or ']'"), "{err}");
    assert_eq!((app.mode, app.plan.plan.edits.len()), (Mode::Editor, 0), "object unchanged on error");
    app.update(Intent::Back);
    assert_eq!((app.mode, app.plan.plan.edits.len()), (Mode::Preview, 0));

    app.update(Intent::EditStaged);
    let text = app.plan.editor.as_ref().unwrap().text().replace("STRICT", "PERMISSIVE");
    app.plan.editor.as_mut().unwrap().area = tui_textarea::TextArea::new(text.lines().map(String::from).collect());
    let effects = app.update(Intent::Save);
    assert_eq!(app.plan.plan.edits.len(), 1);
    assert_eq!(app.plan.plan.edits[0].target, pa_ref());
    assert_eq!(app.plan.plan.edits[0].body.pointer("/spec/mtls/mode").and_then(|v| v.as_str()), Some("PERMISSIVE"));
    assert!(matches!(effects.as_slice(), [Effect::Preview { generation: 1, .. }]), "in memory: {effects:?}");

    // With $EDITOR set, the run loop edits; an error there opens the in-app editor with it.
    let mut app = app_with_preview(demo_view());
    app.external_editor = true;
    app.plan.window.select(4, app.plan.rows().len(), 10);
    let effects = app.update(Intent::EditStaged);
    assert!(matches!(&effects[..], [Effect::ExternalEdit { target, .. }] if *target == pa_ref()), "{effects:?}");
    app.on_task(TaskResult::Edited {
        target: pa_ref(),
        result: Ok("kind: PeerAuthentication\nmetadata: {name: x}\n".into()),
    });
    assert_eq!(app.mode, Mode::Editor);
    assert!(app.plan.editor.as_ref().unwrap().error.as_deref().unwrap().contains("apiVersion must stay"));
    assert!(app.plan.plan.edits.is_empty());
}

#[test]
fn apply_confirms_takes_over_conflicts_only_when_asked_and_handles_a_changed_object() {
    let mut app = app_with_preview(demo_view());
    app.sync.context = "prod-eu".into();
    app.update(Intent::ApplyPlan);
    assert_eq!(app.mode, Mode::Confirm);
    assert!(app.update(Intent::Submit).is_empty());
    assert_eq!(
        app.plan.confirm.as_ref().unwrap().error.as_deref(),
        Some("type the context name prod-eu to apply to it")
    );
    type_text(&mut app, "prod-eu");
    assert!(app.update(Intent::Submit).is_empty());
    assert!(app.plan.confirm.as_ref().unwrap().error.as_deref().unwrap().starts_with("other managers own fields"));
    app.update(Intent::TakeOver);
    let effects = app.update(Intent::Submit);
    assert_eq!(
        effects,
        vec![Effect::Apply {
            plan: migration_plan(),
            preview: migration_preview(),
            options: crate::ui::backend::ApplyOptions { force_conflicts: true, allow_errors: false }
        }]
    );
    assert_eq!((app.screen, app.mode), (Screen::Rollout, Mode::Detail));

    let what = "PeerAuthentication rng/default".to_string();
    let effects = app.on_task(TaskResult::Applied(Err(crate::ui::backend::ApplyError::ChangedSincePreview(what))));
    assert_eq!(app.screen, Screen::Plan);
    assert!(matches!(effects.as_slice(), [Effect::Preview { .. }]), "{effects:?}");
    assert!(app.notices.newest().unwrap().text.contains("changed in the cluster since the preview"));
    assert_eq!(app.plan.plan.actions.len(), 3, "the plan is kept");
}

#[test]
fn a_complete_apply_empties_the_plan_and_read_only_refuses() {
    let mut app = app_with_preview(demo_view());
    app.plan.file = Some("meshdeck-plan.yaml".into());
    app.update(Intent::ApplyPlan);
    app.update(Intent::TakeOver);
    app.update(Intent::Submit);
    let outcome = crate::ui::backend::ApplyOutcome {
        entry: Some("20261127T013000Z-1a2b".into()),
        applied: vec!["Deployment rng/numbers-api".into()],
        not_applied: vec![],
    };
    let effects = app.on_task(TaskResult::Applied(Ok(outcome.clone())));
    assert_eq!(effects, vec![Effect::SavePlan(crate::plan::Plan::default())]);
    assert_eq!(app.plan.rollout.as_ref().unwrap().outcome, Some(Ok(outcome)));
    assert_eq!(app.screen, Screen::Rollout);

    let mut app = app_with_preview(demo_view());
    app.read_only = true;
    app.update(Intent::ApplyPlan);
    assert_eq!(app.mode, Mode::Preview, "no confirmation");
    assert!(app.notices.newest().unwrap().text.starts_with("read-only session (--read-only)"));
}

#[test]
fn undo_is_staged_from_the_journal() {
    let mut app = app();
    let effects = app.update(Intent::UndoLast);
    assert_eq!(effects, vec![Effect::LoadJournal]);
    assert_eq!((app.screen, app.mode), (Screen::Journal, Mode::Journal));
    app.on_task(TaskResult::Journal(Ok(journal_entries())));
    app.update(Intent::DrillDown);
    assert!(app.plan.journal.open);
    let effects = app.update(Intent::UndoLast);
    let undo = Action::Undo { entry: "20261127T013000Z-1a2b".into() };
    assert_eq!(app.plan.plan.actions, vec![undo.clone()]);
    assert_eq!(app.screen, Screen::Plan);
    let mut want = Plan::default();
    want.actions.push(undo);
    assert_eq!(effects, vec![Effect::SavePlan(want.clone()), Effect::Preview { plan: want, generation: 1 }]);
    app.update(Intent::Back);
    assert_eq!(app.screen, Screen::Namespaces, "back to where the journal was opened from");
}

#[test]
fn error_findings_take_a_second_enter_and_then_apply_past_them() {
    let mut app = app_with_preview(demo_view());
    let crate::ui::app::plan_state::PreviewState::Ready { preview, .. } = &mut app.plan.preview else {
        panic!("a preview is shown")
    };
    preview.findings.push(crate::plan::Finding {
        severity: crate::plan::Severity::Error,
        action: None,
        message: "edit 1 (PeerAuthentication legacy/default): the plan applies no such object".into(),
    });
    let shown = preview.clone();
    app.update(Intent::ApplyPlan);
    app.update(Intent::TakeOver);
    assert!(app.update(Intent::Submit).is_empty(), "the first Enter only warns");
    assert_eq!(
        app.plan.confirm.as_ref().unwrap().error.as_deref(),
        Some("the preview has 1 error finding: Enter again applies anyway, Esc goes back")
    );
    let effects = app.update(Intent::Submit);
    assert_eq!(
        effects,
        vec![Effect::Apply {
            plan: migration_plan(),
            preview: shown,
            options: crate::ui::backend::ApplyOptions { force_conflicts: true, allow_errors: true }
        }]
    );
}
