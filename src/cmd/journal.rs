//! `meshdeck journal`: the applies meshdeck made to the current context's cluster (every
//! cluster's with `--all`), as a table or JSON.

use crate::cli::{GlobalArgs, JournalArgs, JournalFormat};
use std::time::Duration;

pub async fn run_journal(args: JournalArgs, global: GlobalArgs) -> anyhow::Result<u8> {
    let journal = crate::apply::Journal::open(crate::apply::journal::default_dir()?)?;
    let mut entries = journal.list()?;
    let mut scope = "every cluster".to_string();
    let engine = if args.all { None } else { Some(super::engine(&global).await) };
    if let Some(Err(e)) = &engine {
        // Without a usable context there is no current cluster to filter by.
        eprintln!("meshdeck: {e:#}\nmeshdeck: no current cluster to filter by: listing every cluster's entries");
    }
    if let Some(Ok(engine)) = engine {
        let server = engine.connection().server.clone();
        // The journal works offline: without an answer, the server address decides.
        let uid = tokio::time::timeout(Duration::from_secs(5), engine.cluster_uid()).await.ok().flatten();
        if uid.is_none() {
            eprintln!(
                "meshdeck: the identity of {server} could not be read; listing the entries recorded for that address"
            );
        }
        entries.retain(|e| e.is_of_cluster(&server, uid.as_deref()));
        scope = format!("{server} (context {})", engine.connection().context);
    }
    match args.output {
        JournalFormat::Json => outln!("{}", serde_json::to_string_pretty(&entries)?)?,
        JournalFormat::Table if entries.is_empty() => {
            outln!("the journal in {} has no entries for {scope}", journal.dir().display())?
        }
        JournalFormat::Table => out!("{}", super::render::journal_table(&entries))?,
    }
    Ok(0)
}
