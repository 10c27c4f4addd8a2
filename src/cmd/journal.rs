//! `meshdeck journal`: the applies meshdeck made to the current context's cluster (every
//! cluster's with `--all`), as a table or JSON.

use crate::cli::{GlobalArgs, JournalArgs, JournalFormat};
use std::time::Duration;

pub async fn run_journal(args: JournalArgs, global: GlobalArgs) -> anyhow::Result<u8> {
    let dir = crate::apply::journal::default_dir()?;
    let all = || crate::apply::Journal::open(&dir)?.list();
    let mut scope = "every cluster".to_string();
    let entries = if args.all {
        all()?
    } else {
        // The journal works offline: the client is built, nothing is asked of the server but
        // its identity, and without an answer the server address decides.
        match crate::cluster::client::open(&global.connect_options()).await.and_then(super::engine) {
            Err(e) => {
                eprintln!(
                    "meshdeck: {e:#}\nmeshdeck: no current cluster to filter by: listing every cluster's entries"
                );
                all()?
            }
            Ok(engine) => {
                let server = engine.connection().server.clone();
                let uid = tokio::time::timeout(Duration::from_secs(5), engine.cluster_uid()).await.ok().flatten();
                if uid.is_none() {
                    eprintln!(
                        "meshdeck: the identity of {server} could not be read; listing the entries recorded for that address"
                    );
                }
                scope = format!("{server} (context {})", engine.connection().context);
                engine.entries_of(uid.as_deref()).await?
            }
        }
    };
    match args.output {
        JournalFormat::Json => outln!("{}", serde_json::to_string_pretty(&entries)?)?,
        JournalFormat::Table if entries.is_empty() => {
            outln!("the journal in {} has no entries for {scope}", dir.display())?
        }
        JournalFormat::Table => out!("{}", super::render::journal_table(&entries))?,
    }
    Ok(0)
}
