//! Owning the terminal: entering and leaving raw mode and the alternate screen (with mouse
//! capture and bracketed paste), restoring it on every exit path (drop guard, chained panic
//! hook), SIGTERM/SIGHUP as an orderly quit, handing the terminal to $EDITOR, and frame output:
//! one 64 KiB buffer, one write per frame, inside a DEC 2026 synchronized update. Nothing else
//! may write to stdout or stderr while a `Tui` is entered.

use crossterm::cursor::{Hide, Show};
use crossterm::event::{DisableBracketedPaste, DisableMouseCapture, EnableBracketedPaste, EnableMouseCapture};
use crossterm::execute;
use crossterm::terminal::{
    BeginSynchronizedUpdate, Clear, ClearType, EndSynchronizedUpdate, EnterAlternateScreen, LeaveAlternateScreen,
    disable_raw_mode, enable_raw_mode,
};
use ratatui::backend::CrosstermBackend;
use ratatui::layout::Rect;
use ratatui::{Frame, Terminal, TerminalOptions, Viewport};
use std::fs::File;
use std::io::{self, BufWriter, Write};
use std::path::Path;
use std::process::{Command, ExitStatus};
use std::sync::Arc;
use std::sync::Once;
use std::sync::atomic::{AtomicBool, Ordering};

/// Frame output buffer size: a full 200×50 frame is about 8.5 KB, so one frame is one write.
pub const FRAME_BUFFER: usize = 64 * 1024;

/// True while this process has the terminal in raw mode / alternate screen, so that `restore`
/// (also called from the panic hook) undoes it exactly once.
static ACTIVE: AtomicBool = AtomicBool::new(false);
static PANIC_HOOK: Once = Once::new();

/// Buffers everything ratatui writes and only passes it on when the `Tui` releases the frame.
/// ratatui flushes several times per draw; those flushes are held back so a frame costs one
/// `write(2)`.
struct FrameWriter<W: Write> {
    inner: BufWriter<W>,
    release: Arc<AtomicBool>,
}

impl<W: Write> Write for FrameWriter<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.inner.write(buf)
    }

    fn flush(&mut self) -> io::Result<()> {
        if self.release.swap(false, Ordering::Relaxed) { self.inner.flush() } else { Ok(()) }
    }
}

/// The terminal, entered. Dropping it restores the terminal.
pub struct Tui<W: Write = File> {
    terminal: Terminal<CrosstermBackend<FrameWriter<W>>>,
    release: Arc<AtomicBool>,
    /// Whether this value put the real terminal into raw mode (false for `headless`).
    owns_terminal: bool,
}

impl Tui<File> {
    /// Takes over the terminal on stdout: raw mode, alternate screen, mouse capture, bracketed
    /// paste, hidden cursor. Installs the panic hook the first time. On error the terminal is
    /// restored before returning.
    pub fn enter() -> io::Result<Tui<File>> {
        install_panic_hook();
        enter_modes()?;
        let make = || -> io::Result<Tui<File>> {
            // A duplicate of fd 1 without std's line buffering in front, so that a flush is
            // exactly one write of the frame.
            let out = File::from(std::os::fd::AsFd::as_fd(&io::stdout()).try_clone_to_owned()?);
            let mut tui = Tui::build(out, Viewport::Fullscreen)?;
            tui.owns_terminal = true;
            Ok(tui)
        };
        make().inspect_err(|_| {
            let _ = restore();
        })
    }

    /// Gives the terminal back (for $EDITOR or a shell) without dropping the `Tui`.
    pub fn suspend(&mut self) -> io::Result<()> {
        restore()
    }

    /// Takes the terminal again after `suspend` and forces a full redraw.
    pub fn resume(&mut self) -> io::Result<()> {
        enter_modes()?;
        self.clear()
    }

    /// Runs `cmd` (typically `editor_command`) in the foreground with the terminal handed over,
    /// then takes it back. The caller must drop its crossterm `EventStream` first and create a
    /// new one afterwards; otherwise crossterm's reader keeps consuming the keys meant for the
    /// editor.
    pub fn run_foreground(&mut self, cmd: &mut Command) -> io::Result<ExitStatus> {
        self.suspend()?;
        let status = cmd.status();
        self.resume()?;
        status
    }

    /// Restores the terminal now and reports errors (dropping does the same, silently).
    pub fn leave(mut self) -> io::Result<()> {
        self.owns_terminal = false;
        restore()
    }
}

impl<W: Write> Tui<W> {
    /// A `Tui` that writes frames to `out` with a fixed size and never touches the real terminal:
    /// for tests and benchmarks of the output path.
    pub fn headless(out: W, area: Rect) -> io::Result<Tui<W>> {
        Tui::build(out, Viewport::Fixed(area))
    }

    fn build(out: W, viewport: Viewport) -> io::Result<Tui<W>> {
        let release = Arc::new(AtomicBool::new(false));
        let writer = FrameWriter { inner: BufWriter::with_capacity(FRAME_BUFFER, out), release: release.clone() };
        let terminal = Terminal::with_options(CrosstermBackend::new(writer), TerminalOptions { viewport })?;
        Ok(Tui { terminal, release, owns_terminal: false })
    }

    /// Draws one frame: only the cells that changed since the last frame are sent, wrapped in a
    /// synchronized update so the terminal shows the frame at once, with one write. Call it only
    /// when something visible changed: even an unchanged frame costs a few bytes.
    pub fn draw(&mut self, render: impl FnOnce(&mut Frame)) -> io::Result<()> {
        execute_queued(self.terminal.backend_mut(), BeginSynchronizedUpdate)?;
        self.terminal.draw(render)?;
        execute_queued(self.terminal.backend_mut(), EndSynchronizedUpdate)?;
        self.commit()
    }

    /// Forgets what is on screen so the next `draw` repaints everything (after a resume, or
    /// when something else may have written to the terminal).
    pub fn clear(&mut self) -> io::Result<()> {
        // Not `Terminal::clear`: it asks the terminal for the cursor position and waits for the
        // reply on stdin, which races the input reader. Clearing the screen and blanking both
        // buffers gives the same full repaint.
        execute_queued(self.terminal.backend_mut(), Clear(ClearType::All))?;
        self.terminal.swap_buffers();
        self.terminal.swap_buffers();
        self.commit()
    }

    fn commit(&mut self) -> io::Result<()> {
        self.release.store(true, Ordering::Relaxed);
        self.terminal.backend_mut().flush()
    }
}

impl<W: Write> Drop for Tui<W> {
    fn drop(&mut self) {
        if self.owns_terminal {
            let _ = restore();
        }
    }
}

fn execute_queued(w: &mut impl Write, cmd: impl crossterm::Command) -> io::Result<()> {
    crossterm::queue!(w, cmd)
}

fn enter_modes() -> io::Result<()> {
    enable_raw_mode()?;
    // Marked active before the escapes so a failure part way is still undone by `restore`.
    ACTIVE.store(true, Ordering::SeqCst);
    let result = execute!(io::stdout(), EnterAlternateScreen, EnableMouseCapture, EnableBracketedPaste, Hide);
    if result.is_err() {
        let _ = restore();
    }
    result
}

/// Undoes everything `Tui::enter` did, if it is in effect: safe to call more than once and
/// from the panic hook. Every step is tried even if an earlier one fails.
pub fn restore() -> io::Result<()> {
    if !ACTIVE.swap(false, Ordering::SeqCst) {
        return Ok(());
    }
    let mut out = io::stdout();
    let escapes =
        execute!(out, EndSynchronizedUpdate, DisableBracketedPaste, DisableMouseCapture, LeaveAlternateScreen, Show);
    let raw = disable_raw_mode();
    escapes.and(raw)
}

/// Restores the terminal before the previous panic hook prints, so the message lands on the
/// normal screen instead of vanishing with the alternate one.
fn install_panic_hook() {
    PANIC_HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            let _ = restore();
            previous(info);
        }));
    });
}

/// The command that opens `file` in the user's editor: $VISUAL, else $EDITOR, else `vi`. The
/// variables may carry arguments ("code --wait").
pub fn editor_command(visual: Option<&str>, editor: Option<&str>, file: &Path) -> Command {
    let line = [visual, editor].into_iter().flatten().map(str::trim).find(|s| !s.is_empty()).unwrap_or("vi");
    let mut words = line.split_whitespace();
    let mut cmd = Command::new(words.next().unwrap_or("vi"));
    cmd.args(words).arg(file);
    cmd
}

/// A signal that asks meshdeck to quit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QuitSignal {
    Terminate,
    Hangup,
    Interrupt,
}

/// SIGTERM, SIGHUP and SIGINT as a stream the run loop selects on, so they end the session
/// through the normal quit path (finishing a journal write, restoring the terminal) instead of
/// killing the process. In raw mode Ctrl-C is a key, not SIGINT; SIGINT here comes from `kill`.
pub struct QuitSignals {
    term: tokio::signal::unix::Signal,
    hup: tokio::signal::unix::Signal,
    int: tokio::signal::unix::Signal,
}

impl QuitSignals {
    /// Installs the handlers; needs a running tokio runtime.
    pub fn new() -> io::Result<QuitSignals> {
        use tokio::signal::unix::{SignalKind, signal};
        Ok(QuitSignals {
            term: signal(SignalKind::terminate())?,
            hup: signal(SignalKind::hangup())?,
            int: signal(SignalKind::interrupt())?,
        })
    }

    /// Waits for the next quit signal.
    pub async fn recv(&mut self) -> QuitSignal {
        tokio::select! {
            Some(()) = self.term.recv() => QuitSignal::Terminate,
            Some(()) = self.hup.recv() => QuitSignal::Hangup,
            Some(()) = self.int.recv() => QuitSignal::Interrupt,
            else => std::future::pending().await,
        }
    }
}

#[cfg(test)]
mod tests;
