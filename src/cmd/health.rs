//! The exit status every headless health command shares (`certs`, `check`, `rollout status`,
//! `upgrade status`): 1 when it finds a problem, else 3 when RBAC hid something it needed,
//! else 0; 2 when it could not run. Reports such as `inventory` are not health checks and keep
//! exit 0 on success. Only the convention lives here; each command decides what it found.

/// The outcome of a health command, ordered as they take precedence: a problem found is
/// reported even when more is hidden, since it needs acting on either way.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HealthExit {
    /// Everything it needed was readable and nothing is wrong.
    Healthy,
    /// It found at least one problem.
    Problem,
    /// It could not run (bad arguments, no connection, an error): exit 2, like every command.
    Failed,
    /// Nothing wrong among what it could see, but RBAC hid something it needed.
    Partial,
}

impl HealthExit {
    /// From what the command found: whether any problem, and which resources (`plural.group`)
    /// it needed but may not read.
    pub fn judge(problems: bool, hidden: &[String]) -> HealthExit {
        match (problems, hidden.is_empty()) {
            (true, _) => HealthExit::Problem,
            (false, false) => HealthExit::Partial,
            (false, true) => HealthExit::Healthy,
        }
    }

    pub fn code(self) -> u8 {
        match self {
            HealthExit::Healthy => 0,
            HealthExit::Problem => 1,
            HealthExit::Failed => 2,
            HealthExit::Partial => 3,
        }
    }

    /// The line to print on stderr so exit 3 says what was hidden; `None` when nothing was.
    pub fn hidden_note(hidden: &[String]) -> Option<String> {
        (!hidden.is_empty()).then(|| {
            format!("not allowed to read {}; the result is incomplete, not healthy (exit 3)", hidden.join(", "))
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_problem_outranks_what_is_hidden_and_hidden_outranks_healthy() {
        let webhooks = vec!["mutatingwebhookconfigurations.admissionregistration.k8s.io".to_string()];
        assert_eq!(HealthExit::judge(true, &webhooks).code(), 1);
        assert_eq!(HealthExit::judge(true, &[]).code(), 1);
        assert_eq!(HealthExit::judge(false, &webhooks).code(), 3);
        assert_eq!(HealthExit::judge(false, &[]).code(), 0);
        assert_eq!(HealthExit::Failed.code(), 2);
        assert_eq!(HealthExit::hidden_note(&[]), None);
        assert_eq!(
            HealthExit::hidden_note(&webhooks).as_deref(),
            Some(
                "not allowed to read mutatingwebhookconfigurations.admissionregistration.k8s.io; \
                 the result is incomplete, not healthy (exit 3)"
            )
        );
    }
}
