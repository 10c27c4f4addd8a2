//! Preflight findings.
