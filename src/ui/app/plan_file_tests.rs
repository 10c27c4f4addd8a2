//! The plan as the UI shares it with other processes: staging that repeats or contradicts the
//! plan, a plan file changed elsewhere adopted and said in the status bar, a file that does
//! not read, and an apply that takes out only what it applied.

use super::plan_state::{SyncError, Synced};
use super::test_support::*;
use super::tests::demo_view;
use super::*;
use crate::plan::Action;
use crate::ui::widgets::notice::Level;

fn a(yaml: &str) -> Action {
    serde_yaml::from_str(yaml).unwrap()
}

const STRICT: &str = "{action: mtls, target: ns/rng, mode: STRICT}";
const DISABLE: &str = "{action: mtls, target: ns/rng, mode: DISABLE}";
const RESTART: &str = "{action: restart, target: ns/web, restartedAt: '2026-11-27T01:30:00Z'}";

fn app() -> App {
    let mut app = App::new(demo_view(), None);
    app.now = fixed_now;
    app.plan.file = Some("meshdeck-plan.yaml".into());
    app
}

fn newest(app: &App) -> (Level, String) {
    let n = app.notices.newest().expect("a notice");
    (n.level, n.text.clone())
}

fn synced(plan: Plan) -> Result<Synced, SyncError> {
    Ok(Synced { plan, others: true, left_out: vec![] })
}

#[test]
fn staging_refuses_a_contradiction_and_skips_a_repeat() {
    let mut app = app();
    assert_eq!(app.stage(a(STRICT)).len(), 1, "saved");
    assert_eq!(app.stage(a(DISABLE)), vec![], "nothing saved");
    assert_eq!(
        newest(&app),
        (
            Level::Warn,
            "not staged: `mtls ns/rng DISABLE` contradicts action 1 (mtls ns/rng STRICT): both set the mTLS mode of ns/rng: STRICT against DISABLE; drop action 1 first (d on the plan screen)".into()
        )
    );
    assert_eq!(app.stage(a(STRICT)), vec![]);
    assert_eq!(
        newest(&app),
        (
            Level::Info,
            "already staged: `mtls ns/rng STRICT` repeats action 1 (mtls ns/rng STRICT); nothing added".into()
        )
    );
    assert_eq!(app.plan.plan.actions, vec![a(STRICT)]);
}

#[test]
fn a_plan_file_changed_elsewhere_is_adopted_and_said() {
    let mut app = app_with_preview(demo_view());
    let generation = app.plan.generation;
    let mut theirs = migration_plan();
    theirs.actions.push(a(RESTART));
    // On the plan screen: the preview is asked for again, nothing is saved (the file is new).
    let effects = app.on_task(TaskResult::PlanReloaded(synced(theirs.clone())));
    assert_eq!(app.plan.plan, theirs);
    assert_eq!(newest(&app), (Level::Info, "the plan file changed on disk: reloaded (4 staged)".into()));
    assert_eq!(effects, vec![Effect::Preview { plan: theirs.clone(), generation: generation + 1 }]);

    // The same file again changes nothing and says nothing.
    let notices = app.notices.len();
    assert_eq!(app.on_task(TaskResult::PlanReloaded(synced(theirs.clone()))), vec![]);
    assert_eq!((app.plan.generation, app.notices.len()), (generation + 1, notices));

    // A save that merged another process's change says so, and the merge's leftovers are
    // warned about.
    let mut merged = theirs.clone();
    merged.actions.remove(3);
    let result =
        Ok(Synced { plan: merged.clone(), others: true, left_out: vec!["`x` was staged elsewhere too".into()] });
    app.on_task(TaskResult::PlanSaved(result));
    assert_eq!(app.plan.plan, merged);
    assert_eq!(newest(&app), (Level::Info, "the plan file was changed elsewhere too: merged (3 staged)".into()));
    assert!(app.notices.iter().any(|n| n.level == Level::Warn && n.text == "`x` was staged elsewhere too"));
}

#[test]
fn a_reload_while_confirming_asks_for_a_new_confirmation() {
    let mut app = app_with_preview(demo_view());
    app.update(Intent::ApplyPlan);
    assert_eq!(app.mode, Mode::Confirm);
    let mut theirs = migration_plan();
    theirs.actions.push(a(RESTART));
    app.on_task(TaskResult::PlanReloaded(synced(theirs)));
    assert!(app.plan.confirm.is_none());
    assert_eq!(app.mode, Mode::Preview);
    assert!(app.plan.ready().is_none(), "the preview shown was of the old plan");
}

#[test]
fn an_unreadable_plan_file_is_not_written_until_it_reads_again() {
    let mut app = app();
    app.stage(a(STRICT));
    let err = SyncError {
        message: "meshdeck-plan.yaml:6:9: actions[0].mode: unknown variant `BOGUS`".into(),
        unreadable: true,
    };
    assert_eq!(app.on_task(TaskResult::PlanReloaded(Err(err.clone()))), vec![]);
    let (level, text) = newest(&app);
    assert_eq!(level, Level::Error);
    assert!(text.starts_with("the plan file changed on disk and does not read: meshdeck-plan.yaml:6:9:"), "{text}");
    assert!(text.ends_with("it is not overwritten, and the plan here is kept until it is fixed"), "{text}");
    assert_eq!(app.plan.file_error.as_deref(), Some(err.message.as_str()));
    // Staging goes on in memory, without saving.
    let effects = app.stage(a(RESTART));
    assert!(!effects.iter().any(|e| matches!(e, Effect::SavePlan(_))), "{effects:?}");
    assert_eq!(app.plan.plan.actions.len(), 2);

    // Fixed: the reload (which merged the UI's plan in and wrote it) clears the error.
    let mine = app.plan.plan.clone();
    app.on_task(TaskResult::PlanReloaded(synced(mine)));
    assert_eq!(app.plan.file_error, None);
    assert_eq!(newest(&app), (Level::Info, "the plan file reads again; the plan here is saved in it".into()));
    assert_eq!(app.stage(a(DISABLE.replace("ns/rng", "ns/web").as_str())).len(), 1, "saved again");

    // A save that could not take the lock keeps the change for the next save.
    let busy = SyncError { message: "another process has held the lock".into(), unreadable: false };
    app.on_task(TaskResult::PlanSaved(Err(busy)));
    assert_eq!(app.plan.file_error, None);
    assert!(newest(&app).1.ends_with("it goes out with the next change"));
}

#[test]
fn a_complete_apply_takes_out_what_it_applied_and_keeps_what_was_staged_meanwhile() {
    let mut app = app_with_preview(demo_view());
    app.plan.file = Some("meshdeck-plan.yaml".into());
    app.update(Intent::ApplyPlan);
    app.update(Intent::TakeOver);
    app.update(Intent::Submit);
    assert_eq!(app.plan.rollout.as_ref().map(|r| &r.plan), Some(&migration_plan()));
    // While it applies, `meshdeck stage` adds one and the UI reloads it.
    let mut theirs = migration_plan();
    theirs.actions.push(a(RESTART));
    app.on_task(TaskResult::PlanReloaded(synced(theirs)));
    let outcome = crate::ui::backend::ApplyOutcome {
        entry: Some("20261127T013000Z-1a2b".into()),
        applied: vec!["Deployment rng/numbers-api".into()],
        not_applied: vec![],
    };
    let effects = app.on_task(TaskResult::Applied(Ok(outcome)));
    let rest = Plan { actions: vec![a(RESTART)], ..Plan::default() };
    assert_eq!(app.plan.plan, rest);
    assert_eq!(effects, vec![Effect::SavePlan(rest)]);
    assert!(
        app.notices.iter().any(|n| n.text == "applied; 1 action(s) staged since stay in the plan (u undoes the apply)")
    );
}

#[test]
fn a_plan_that_contradicts_itself_is_not_applied() {
    let mut app = app_with_preview(demo_view());
    let mut plan = migration_plan();
    plan.actions.push(a(DISABLE));
    app.on_task(TaskResult::PlanReloaded(synced(plan)));
    app.update(Intent::ApplyPlan);
    assert!(app.plan.confirm.is_none());
    assert_eq!(
        newest(&app),
        (
            Level::Warn,
            "the plan contradicts itself: action 4 (mtls ns/rng DISABLE) contradicts action 2 (mtls ns/rng STRICT): both set the mTLS mode of ns/rng: STRICT against DISABLE; drop one of the two (d) before applying".into()
        )
    );
}
