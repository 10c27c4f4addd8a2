//! Tests of the plan: expansion, undo, preflight, gitops, diff and export, against small hand-built snapshots.
