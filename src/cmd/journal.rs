//! `meshdeck journal`: the applies meshdeck made, as a table or JSON.

use crate::cli::{JournalArgs, JournalFormat};

pub fn run_journal(args: JournalArgs) -> anyhow::Result<u8> {
    let journal = crate::apply::Journal::open(crate::apply::journal::default_dir()?)?;
    let entries = journal.list()?;
    match args.output {
        JournalFormat::Json => outln!("{}", serde_json::to_string_pretty(&entries)?)?,
        JournalFormat::Table if entries.is_empty() => outln!("the journal in {} is empty", journal.dir().display())?,
        JournalFormat::Table => out!("{}", super::render::journal_table(&entries))?,
    }
    Ok(0)
}
