//! The plan file on disk, shared by the headless commands and the terminal UI, possibly at
//! the same moment: read whole (a writer replaces it by rename, so a reader never sees half a
//! plan), and changed only under the exclusive lock of its sibling `.NAME.lock`, reading it
//! again inside the lock so nobody's change is lost. Files are created 0600 in directories
//! created 0700 (`crate::files`).

use crate::files::{self, Lock};
use crate::plan::{ClashKind, Plan, clashes};
use anyhow::Context;
use std::path::Path;

/// The plan in the file, `None` when there is no file. A plan that does not parse is an
/// error that gives the place (`PATH:LINE:COLUMN: …`).
pub fn read(path: &Path) -> Result<Option<Plan>, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => Plan::from_yaml(&text, &path.display().to_string()).map(Some),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("{}: {e}", path.display())),
    }
}

/// Replaces the file with `plan`. Hold the file's lock, and read the plan inside it.
pub fn write(path: &Path, plan: &Plan) -> std::io::Result<()> {
    files::replace(path, plan.to_yaml().as_bytes())
}

/// Reads the plan under the file's lock (an empty plan when there is none), lets `change`
/// change it, and writes it back if it changed. An error from `change`, or a file that does
/// not parse, leaves the file as it was.
pub fn update<T>(path: &Path, change: impl FnOnce(&mut Plan) -> anyhow::Result<T>) -> anyhow::Result<(Plan, T)> {
    let _lock = Lock::exclusive(path).with_context(|| format!("locking the plan {}", path.display()))?;
    let before = read(path).map_err(anyhow::Error::msg)?.unwrap_or_default();
    let mut plan = before.clone();
    let out = change(&mut plan)?;
    if plan != before {
        write(path, &plan).with_context(|| format!("writing the plan {}", path.display()))?;
    }
    Ok((plan, out))
}

/// The plan `diff`, `apply` and `export` work on. Refused (exit 2) when there is no file,
/// when it stages nothing, and when two of its actions contradict each other: a plan that
/// says two things about one object has no single preview. Repeated actions change nothing
/// and are only warned about.
pub fn to_preview(path: &Path) -> anyhow::Result<Plan> {
    let place = path.display();
    let how =
        format!("stage actions with `meshdeck stage …` (e.g. `meshdeck stage mtls ns/NS --mode strict -f {place}`)");
    let plan = read(path).map_err(anyhow::Error::msg)?;
    let Some(plan) = plan else {
        anyhow::bail!("{place} does not exist: nothing is staged; {how}");
    };
    if plan.actions.is_empty() {
        anyhow::bail!("{place}: the plan is empty: nothing to preview or apply; {how}");
    }
    let mut contradictions = Vec::new();
    for (i, clash) in clashes(&plan.actions) {
        let line = format!("action {} ({}) {clash}", i + 1, plan.actions[i].summary());
        match clash.kind {
            ClashKind::Repeats => eprintln!("meshdeck: warning: {place}: {line}; it changes nothing"),
            ClashKind::Contradicts(_) => contradictions.push(line),
        }
    }
    if !contradictions.is_empty() {
        anyhow::bail!(
            "{place}: the plan contradicts itself, so it has no one outcome to preview; drop one action of each pair:\n  {}",
            contradictions.join("\n  ")
        );
    }
    Ok(plan)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::plan::Action;

    fn mtls(mode: &str) -> Action {
        serde_yaml::from_str(&format!("{{action: mtls, target: ns/rng, mode: {mode}}}")).unwrap()
    }

    #[test]
    fn update_reads_changes_and_writes_under_the_lock() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("plans/p.yaml");
        assert_eq!(read(&path), Ok(None));
        let (plan, ()) = update(&path, |p| {
            p.actions.push(mtls("STRICT"));
            Ok(())
        })
        .unwrap();
        assert_eq!(read(&path).unwrap(), Some(plan));
        // A refused change writes nothing.
        let before = std::fs::read_to_string(&path).unwrap();
        let err = update(&path, |p| -> anyhow::Result<()> {
            p.actions.clear();
            anyhow::bail!("no")
        })
        .unwrap_err();
        assert_eq!(err.to_string(), "no");
        assert_eq!(std::fs::read_to_string(&path).unwrap(), before);
        // An unparsable file is reported with its place and left alone.
        std::fs::write(&path, "apiVersion: meshdeck.dev/v1alpha1\nkind: Plan\nactions:\n- action: mtls\n  mdoe: x\n")
            .unwrap();
        let err = update(&path, |p| {
            p.actions.push(mtls("STRICT"));
            Ok(())
        })
        .unwrap_err();
        assert!(err.to_string().contains("p.yaml:5:3: actions[0]: unknown field `mdoe`"), "{err}");
        assert!(std::fs::read_to_string(&path).unwrap().contains("mdoe"));
    }

    #[test]
    fn plans_to_preview_must_exist_stage_something_and_not_contradict() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("p.yaml");
        let err = to_preview(&path).unwrap_err().to_string();
        assert!(
            err.contains("p.yaml does not exist: nothing is staged; stage actions with `meshdeck stage …`"),
            "{err}"
        );
        for empty in ["", "apiVersion: meshdeck.dev/v1alpha1\nkind: Plan\nactions: []\n"] {
            std::fs::write(&path, empty).unwrap();
            let err = to_preview(&path).unwrap_err().to_string();
            assert!(
                err.contains("p.yaml: the plan is empty: nothing to preview or apply; stage actions with"),
                "{err}"
            );
        }
        let plan = Plan { actions: vec![mtls("STRICT"), mtls("STRICT"), mtls("DISABLE")], ..Plan::default() };
        write(&path, &plan).unwrap();
        let err = to_preview(&path).unwrap_err().to_string();
        assert!(err.contains("the plan contradicts itself"), "{err}");
        assert!(
            err.contains("action 3 (mtls ns/rng DISABLE) contradicts action 1 (mtls ns/rng STRICT): both set the mTLS mode of ns/rng: STRICT against DISABLE"),
            "{err}"
        );
        let plan = Plan { actions: vec![mtls("STRICT"), mtls("STRICT")], ..Plan::default() };
        write(&path, &plan).unwrap();
        assert_eq!(to_preview(&path).unwrap(), plan, "a repeat is only warned about");
    }
}
