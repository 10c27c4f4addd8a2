//! GitOps ownership, diffs, export and the plan file.
