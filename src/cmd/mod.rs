//! The headless commands (`stage`, `diff`, `apply`, `undo`, `journal`, `export`): argument
//! handling, prompts and printing around the same engine the terminal UI uses. Each returns
//! the process exit code; errors (exit 2) are returned as `anyhow::Error`. Output goes
//! through `outln!`/`out!`, whose write errors are returned: a reader that went away ends
//! the command quietly (`stdout_closed`), never with a panic.

/// `println!` that returns the write's error (as a `StdoutError`) instead of panicking.
macro_rules! outln {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        writeln!(std::io::stdout().lock(), $($arg)*).map_err($crate::cmd::StdoutError)
    }};
}

/// `print!` that returns the write's error (as a `StdoutError`) instead of panicking.
macro_rules! out {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        write!(std::io::stdout().lock(), $($arg)*).map_err($crate::cmd::StdoutError)
    }};
}

mod apply;
mod export;
pub mod health;
mod journal;
pub mod plan_file;
pub mod render;
mod stage;

pub use apply::{run_apply, run_undo};
pub use export::run_export;
pub use health::HealthExit;
pub use journal::run_journal;
pub use stage::run_stage;

use crate::apply::{Engine, EngineOptions};
use crate::cli::{DiffArgs, DiffFormat};
use crate::cluster::client::Connected;
use std::io::IsTerminal;

/// Exit codes of `diff` (and errors everywhere).
pub const EXIT_NO_CHANGES: u8 = 0;
pub const EXIT_CHANGES: u8 = 1;
pub const EXIT_ERROR: u8 = 2;

/// A failed write to stdout, kept apart from other IO errors: a broken pipe to the API
/// server is a failure, a closed stdout is not.
#[derive(Debug, thiserror::Error)]
#[error("writing to stdout: {0}")]
pub struct StdoutError(pub std::io::Error);

/// True when `e` comes from writing to a stdout whose reader has gone
/// (`meshdeck journal -o json | head -1`): the command then ends quietly with exit 0, as
/// command-line tools do.
pub fn stdout_closed(e: &anyhow::Error) -> bool {
    use std::io::ErrorKind::BrokenPipe;
    let broken = |io: &std::io::Error| {
        io.kind() == BrokenPipe
            // serde_json's writers wrap the error they hit (`inventory -o json`).
            || io.get_ref().and_then(|e| e.downcast_ref::<serde_json::Error>()).and_then(|e| e.io_error_kind())
                == Some(BrokenPipe)
    };
    e.chain().any(|c| c.downcast_ref::<StdoutError>().is_some_and(|s| broken(&s.0)))
}

/// The engine on a connection (its client honours `--read-only`), with the journal opened.
pub fn engine(c: Connected) -> anyhow::Result<Engine> {
    Engine::new(c.client, c.conn, EngineOptions::default())
}

/// `meshdeck diff`: exit 0 when nothing would change, 1 when something would.
pub async fn run_diff(args: DiffArgs, connected: Connected) -> anyhow::Result<u8> {
    let plan = plan_file::to_preview(&args.plan.file)?;
    let engine = engine(connected)?;
    let preview = engine.preview(&plan).await.map_err(|e| anyhow::anyhow!("{}: {e:#}", args.plan.file.display()))?;
    match args.output {
        DiffFormat::Json => outln!("{}", serde_json::to_string_pretty(&preview)?)?,
        DiffFormat::Text => out!("{}", render::preview_text(&preview, std::io::stdout().is_terminal()))?,
    }
    Ok(if preview.has_changes() { EXIT_CHANGES } else { EXIT_NO_CHANGES })
}
