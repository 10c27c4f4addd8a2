//! Logging a group of watches' connection problems: once when one starts, once when it
//! changes, once when it ends. It decides only what is worth a log line; the watch loop
//! decides what to do about the problem.

use crate::cluster::cause::Cause;
use std::sync::{Arc, Mutex};

/// What is wrong with the connection of a group of watches (every kind of one client), so it
/// is logged once when it starts, once when it changes and once when it ends, not once per
/// kind and attempt. A broken connection (refused, x509, 401 …) is not replaced by the vaguer
/// errors watches see as it breaks (a stream cut short), so a restart logs two lines, not
/// one per kind.
pub struct Trouble {
    label: String,
    current: Mutex<Option<Cause>>,
}

impl Trouble {
    /// `label` names the connection in the log: the server, or the kind for a lone watch.
    pub fn new(label: impl Into<String>) -> Arc<Trouble> {
        Arc::new(Trouble { label: label.into(), current: Mutex::new(None) })
    }

    /// Notes a failure; true when it was news and logged.
    pub(super) fn report(&self, cause: &Cause) -> bool {
        let mut current = self.current.lock().unwrap_or_else(|e| e.into_inner());
        let news = match current.as_ref() {
            None => true,
            Some(c) if std::mem::discriminant(c) == std::mem::discriminant(cause) => {
                matches!((c, cause), (Cause::Tls(a), Cause::Tls(b)) if a != b)
            }
            Some(c) => cause.is_connection() || !c.is_connection(),
        };
        if news {
            tracing::warn!("{}: {cause}; retrying with backoff", self.label);
            *current = Some(cause.clone());
        }
        news
    }

    /// Notes a success; true when it ended a problem, and logged that.
    pub(super) fn clear(&self) -> bool {
        let ended = self.current.lock().unwrap_or_else(|e| e.into_inner()).take().is_some();
        if ended {
            tracing::info!("{}: connected again", self.label);
        }
        ended
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cause_is_news_once_and_a_vaguer_one_does_not_replace_it() {
        let t = Trouble::new("https://10.0.0.1:6443");
        let cut = Cause::Other("error reading a body from connection".into());
        let x509 = |d: &str| Cause::Tls(format!("x509: {d}"));
        let steps = [
            (Some(cut.clone()), true),
            (Some(Cause::Other("another body error".into())), false),
            (Some(Cause::Refused), true),
            (Some(Cause::Refused), false),
            (Some(cut), false),
            (Some(x509("certificate signed by unknown authority")), true),
            (Some(x509("certificate signed by unknown authority")), false),
            (Some(x509("certificate has expired")), true),
            (Some(Cause::Unauthorized), true),
            (None, true),
            (None, false),
            (Some(Cause::Unauthorized), true),
        ];
        for (i, (step, news)) in steps.into_iter().enumerate() {
            let logged = match &step {
                Some(c) => t.report(c),
                None => t.clear(),
            };
            assert_eq!(logged, news, "step {i}: {step:?}");
        }
    }
}
