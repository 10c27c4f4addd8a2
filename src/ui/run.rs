//! The one loop of the terminal UI: it waits on input, new mesh views, quit signals, a look
//! at the plan file every two seconds and (only while data is stale) a one-second clock;
//! drains everything ready, updates the app state, and draws once, only when something
//! visible changed. It never waits on the network: the watchers and the derivation run on
//! their own tasks, and the plan's previews and applies run as spawned tasks (`tasks.rs`)
//! whose results come back on a channel. While the connection is broken (refused, x509, 401
//! …) it re-reads the kubeconfig every few seconds and, when the files changed, connects
//! again with what they now say.

use crate::cluster::client::{ConnectOptions, Connection, contexts};
use crate::cluster::live::{Derived, Live};
use crate::config::{self, Env, Paths};
use crate::mesh::MeshView;
use crate::ui::app::{App, Effect, SyncInfo, TaskResult};
use crate::ui::backend::{PlanBackend, make_backend};
use crate::ui::intent::Intent;
use crate::ui::keymap::{Keymap, Pending, Resolution};
use crate::ui::tasks::{PlanFile, Tasks};
use crate::ui::terminal::{QuitSignals, Tui};
use crate::ui::widgets::notice::Notice;
use crate::ui::{logging, views};
use crossterm::event::{Event, EventStream, KeyEventKind, MouseEventKind};
use futures::StreamExt;
use ratatui::layout::Rect;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// How often the plan file is looked at for changes made by other processes.
const PLAN_POLL: Duration = Duration::from_secs(2);

pub struct RunArgs {
    pub kubeconfig: Option<PathBuf>,
    pub context: Option<String>,
    pub namespace: Option<String>,
    /// `--read-only`: the UI stages but never applies (the engine refuses writes as well).
    pub read_only: bool,
    /// Where the staged plan is kept (`meshdeck-plan.yaml` in the current directory, shared
    /// with the headless commands); `None` keeps it in memory only.
    pub plan_file: Option<PathBuf>,
    /// `--request-timeout`.
    pub request_timeout: Option<Duration>,
}

struct Session {
    live: Live,
    conn: Connection,
    backend: Arc<dyn PlanBackend>,
    /// Of the kubeconfig this session was built from.
    fingerprint: u64,
}

async fn open(args: &RunArgs, context: Option<&str>) -> anyhow::Result<Session> {
    let opts = ConnectOptions {
        kubeconfig: args.kubeconfig.clone(),
        context: context.map(str::to_string),
        read_only: args.read_only,
        request_timeout: args.request_timeout,
    };
    let c = crate::cluster::client::open(&opts).await?;
    let live = Live::start_for(c.client.clone(), &c.conn);
    let backend = make_backend(&c.client, &c.conn, live.snapshot());
    Ok(Session { live, conn: c.conn, backend, fingerprint: c.fingerprint })
}

/// How often a broken connection looks at the kubeconfig for new credentials.
const RECHECK: Duration = Duration::from_secs(2);

/// When the kubeconfig was last looked at, and the content last tried, so a file that does
/// not work is reported once, not every few seconds.
struct Recheck {
    last: Instant,
    tried: Option<u64>,
}

/// A new session when the connection is broken and the kubeconfig's content changed since the
/// session was built; `None` when there is nothing new to try.
async fn renew(args: &RunArgs, session: &Session, recheck: &mut Recheck) -> Option<anyhow::Result<Session>> {
    if !session.live.summary().cause.is_some_and(|c| c.is_connection()) || recheck.last.elapsed() < RECHECK {
        return None;
    }
    recheck.last = Instant::now();
    let now = crate::cluster::kubeconfig::fingerprint(args.kubeconfig.as_deref())?;
    if now == session.fingerprint || recheck.tried == Some(now) {
        return None;
    }
    recheck.tried = Some(now);
    Some(open(args, Some(&session.conn.context)).await)
}

pub async fn run(args: RunArgs) -> anyhow::Result<()> {
    let env = Env::from_process();
    let paths = Paths::resolve(Paths::platform(), &env);
    let cfg = config::load(paths.as_ref(), &env);
    let _log_guard = match &paths {
        Some(p) => match logging::init_file_logging(&p.cache_dir) {
            Ok((guard, file)) => {
                eprintln!("meshdeck: logging to {}", file.display());
                Some(guard)
            }
            Err(e) => {
                eprintln!("meshdeck: no log file ({e})");
                None
            }
        },
        None => None,
    };
    for w in &cfg.warnings {
        tracing::warn!("{w}");
    }
    let mut session = open(&args, args.context.as_deref()).await?;
    let mut app = App::new(Arc::new(MeshView::default()), args.namespace.clone());
    app.contexts = contexts(args.kubeconfig.as_deref()).unwrap_or_default();
    for w in &cfg.warnings {
        app.notices.push(Notice::from(w));
    }
    app.read_only = args.read_only;
    app.external_editor = ["VISUAL", "EDITOR"].iter().any(|v| std::env::var(v).is_ok_and(|e| !e.trim().is_empty()));
    app.plan.file = args.plan_file.clone();
    let mut plan_file = args.plan_file.as_ref().map(|path| {
        let (file, read) = PlanFile::open(path);
        match read {
            Ok(plan) => app.plan.plan = plan,
            Err(e) => {
                app.notices.push(Notice::warn(format!("the plan file does not read and will not be overwritten: {e}")));
                app.plan.file_error = Some(e);
            }
        }
        file
    });
    // Another process (`meshdeck stage`, another UI) may change the plan file. A stat every
    // two seconds notices it without a watcher thread and its dependencies; nothing is drawn
    // unless the file changed.
    let mut plan_poll = tokio::time::interval(PLAN_POLL);
    plan_poll.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    set_sync(&mut app, &session);
    let mut tasks = Tasks::new(cfg.theme.clone());

    let mut tui = Tui::enter()?;
    let mut signals = QuitSignals::new()?;
    let mut events = EventStream::new();
    let mut pending = Pending::default();
    let mut derived = session.live.subscribe();
    let mut dirty = true;
    let mut size = Rect::default();
    let mut recheck = Recheck { last: Instant::now(), tried: None };
    loop {
        if dirty {
            let snap = session.live.snapshot();
            tui.draw(|f| {
                size = f.area();
                app.page = views::layout(size, &app).table.height.saturating_sub(1).max(1) as usize;
                let guard = snap.read().unwrap_or_else(|e| e.into_inner());
                if let Some(pos) = views::render(&app, Some(&guard), &cfg.theme, &cfg.keymap, size, f.buffer_mut()) {
                    f.set_cursor_position(pos);
                }
            })?;
            dirty = false;
        }
        let stale = app.sync.stale;
        let mut effects = Vec::new();
        tokio::select! {
            ev = events.next() => {
                let Some(Ok(ev)) = ev else { break };
                dirty |= handle_event(&mut app, &cfg.keymap, &mut pending, ev, size, &mut effects);
                // Drain what is already queued before drawing once. Polled from this task
                // (not with `now_or_never`): the stream must keep this task's waker.
                loop {
                    tokio::select! {
                        biased;
                        ev = events.next() => match ev {
                            Some(Ok(ev)) => dirty |= handle_event(&mut app, &cfg.keymap, &mut pending, ev, size, &mut effects),
                            _ => break,
                        },
                        _ = std::future::ready(()) => break,
                    }
                }
            }
            r = derived.changed() => {
                if r.is_ok() {
                    let d: Arc<Derived> = derived.borrow_and_update().clone();
                    app.set_view(d.view.clone());
                    set_sync(&mut app, &session);
                    dirty = true;
                }
            }
            Some(result) = tasks.rx.recv() => {
                effects.extend(app.on_task(result));
                dirty = true;
            }
            _ = plan_poll.tick(), if plan_file.is_some() => {
                if let Some(file) = plan_file.as_mut().filter(|f| f.changed()) {
                    // The file lock may be held by a `meshdeck stage` for a moment: not on a runtime worker.
                    let synced = tokio::task::block_in_place(|| file.sync(&app.plan.plan));
                    effects.extend(app.on_task(TaskResult::PlanReloaded(synced)));
                    dirty = true;
                }
            }
            _ = signals.recv() => break,
            _ = tokio::time::sleep(Duration::from_secs(1)), if stale => {
                match renew(&args, &session, &mut recheck).await {
                    Some(Ok(s)) => {
                        session = s;
                        derived = session.live.subscribe();
                        app.notice(format!(
                            "the kubeconfig changed: connecting to {} again (context {})",
                            session.conn.server, session.conn.context
                        ));
                    }
                    Some(Err(err)) => app.notice(format!("the kubeconfig changed but cannot be used: {err:#}")),
                    None => {}
                }
                set_sync(&mut app, &session);
                dirty = true;
            }
        }
        let mut queue = std::collections::VecDeque::from(effects);
        while let Some(e) = queue.pop_front() {
            match e {
                Effect::Quit => {
                    tui.leave()?;
                    return Ok(());
                }
                Effect::Relist => {
                    session.live.restart();
                    app.notice("listing everything again");
                }
                Effect::SwitchContext(name) => match open(&args, Some(&name)).await {
                    Ok(s) => {
                        session = s;
                        derived = session.live.subscribe();
                        app.set_view(Arc::new(MeshView::default()));
                        set_sync(&mut app, &session);
                        app.notice(format!("switched to context {name}"));
                    }
                    Err(err) => app.notice(format!("cannot switch to {name}: {err:#}")),
                },
                Effect::SavePlan(plan) => {
                    if let Some(file) = plan_file.as_mut() {
                        let synced = tokio::task::block_in_place(|| file.sync(&plan));
                        queue.extend(app.on_task(TaskResult::PlanSaved(synced)));
                    }
                }
                Effect::Preview { plan, generation } => tasks.preview(session.backend.clone(), plan, generation),
                Effect::Apply { plan, preview, options } => {
                    tasks.apply(session.backend.clone(), plan, preview, options)
                }
                Effect::LoadJournal => tasks.journal(session.backend.clone()),
                Effect::ExternalEdit { target, text } => {
                    // crossterm's reader must not take the editor's keys: drop it, make a new one.
                    drop(events);
                    let result = external_edit(&mut tui, &target, &text);
                    events = EventStream::new();
                    queue.extend(app.on_task(TaskResult::Edited { target, result }));
                }
            }
            dirty = true;
        }
    }
    tui.leave()?;
    Ok(())
}

fn set_sync(app: &mut App, session: &Session) {
    let s = session.live.summary();
    // The bar names the server already.
    let suffix = format!(" ({})", session.conn.server);
    let text = s.text.strip_suffix(&suffix).map(str::to_string).unwrap_or(s.text);
    app.sync = SyncInfo {
        context: session.conn.context.clone(),
        server: session.conn.server.clone(),
        text,
        stale: s.stale,
        forbidden: s.forbidden,
    };
}

/// One terminal event; returns whether anything visible changed.
fn handle_event(
    app: &mut App,
    keymap: &Keymap,
    pending: &mut Pending,
    ev: Event,
    size: Rect,
    effects: &mut Vec<Effect>,
) -> bool {
    match ev {
        Event::Key(k) if k.kind != KeyEventKind::Release => match keymap.resolve(pending, &k, app.mode) {
            Resolution::Intent(i) => {
                effects.extend(app.update(i));
                true
            }
            Resolution::Pending => true,
            Resolution::Unbound => app.mode.is_text_input() && app.text_key(&k),
        },
        Event::Paste(text) if app.mode.is_text_input() => app.paste(&text),
        Event::Mouse(m) => match m.kind {
            MouseEventKind::ScrollDown => {
                effects.extend(app.update(Intent::Down));
                true
            }
            MouseEventKind::ScrollUp => {
                effects.extend(app.update(Intent::Up));
                true
            }
            MouseEventKind::Down(crossterm::event::MouseButton::Left) => {
                let table = views::layout(size, app).table;
                if m.row > table.y && m.row < table.y + table.height && m.column < table.x + table.width {
                    let visible = app.window().visible(app.current_rows().len(), app.page);
                    let index = visible.start + usize::from(m.row - table.y - 1);
                    if index < visible.end {
                        let (len, page) = (app.current_rows().len(), app.page);
                        let mut w = app.window();
                        w.select(index, len, page);
                        app.set_window(w);
                        return true;
                    }
                }
                false
            }
            _ => false,
        },
        Event::Resize(..) => true,
        _ => false,
    }
}

/// Opens `text` in $VISUAL/$EDITOR on a temporary file, with the terminal handed over, and
/// returns what was saved.
fn external_edit(tui: &mut Tui, target: &crate::plan::ObjRef, text: &str) -> Result<String, String> {
    let dir = tempfile_dir()?;
    let file = dir.join(format!("{}-{}.yaml", target.kind.to_lowercase(), target.name));
    std::fs::write(&file, text).map_err(|e| format!("{}: {e}", file.display()))?;
    let visual = std::env::var("VISUAL").ok();
    let editor = std::env::var("EDITOR").ok();
    let mut cmd = crate::ui::terminal::editor_command(visual.as_deref(), editor.as_deref(), &file);
    let status = tui.run_foreground(&mut cmd).map_err(|e| format!("{cmd:?}: {e}"));
    let result = match status {
        Ok(s) if s.success() => std::fs::read_to_string(&file).map_err(|e| format!("{}: {e}", file.display())),
        Ok(s) => Err(format!("the editor exited with {s}; the staged object is unchanged")),
        Err(e) => Err(e),
    };
    let _ = std::fs::remove_dir_all(&dir);
    result
}

/// A fresh private directory for one edit.
fn tempfile_dir() -> Result<PathBuf, String> {
    let dir = std::env::temp_dir().join(format!("meshdeck-edit-{}-{}", std::process::id(), rand::random::<u32>()));
    std::fs::create_dir(&dir).map_err(|e| format!("{}: {e}", dir.display()))?;
    Ok(dir)
}
