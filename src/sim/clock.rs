//! Time for the simulated cluster. Timestamps always come from the real clock so clients and
//! the sim agree on what time it is; only durations of simulated processes (pod start-up,
//! workload-certificate lifetimes) are divided by the time scale.

use std::time::{Duration, SystemTime};

#[derive(Debug, Clone, Copy)]
pub struct Clock {
    pub time_scale: f64,
}

impl Default for Clock {
    fn default() -> Self {
        Clock { time_scale: 1.0 }
    }
}

impl Clock {
    pub fn new(time_scale: f64) -> Clock {
        Clock { time_scale: if time_scale > 0.0 { time_scale } else { 1.0 } }
    }

    pub fn now(&self) -> SystemTime {
        SystemTime::now()
    }

    /// A simulated duration, shortened by the time scale.
    pub fn scaled(&self, d: Duration) -> Duration {
        d.div_f64(self.time_scale)
    }
}

/// RFC 3339 with second precision and `Z`, as Kubernetes writes `metav1.Time`.
pub fn rfc3339(t: SystemTime) -> String {
    let odt = time::OffsetDateTime::from(t);
    let fmt = time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    odt.format(&fmt).unwrap_or_default()
}

/// Parses `metav1.Time` (RFC 3339); None when malformed.
pub fn parse_rfc3339(s: &str) -> Option<SystemTime> {
    time::OffsetDateTime::parse(s, &time::format_description::well_known::Rfc3339).ok().map(SystemTime::from)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_and_parses() {
        let t = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        assert_eq!(rfc3339(t), "2023-11-14T22:13:20Z");
        assert_eq!(parse_rfc3339("2023-11-14T22:13:20Z"), Some(t));
        assert_eq!(Clock::new(10.0).scaled(Duration::from_secs(10)), Duration::from_secs(1));
    }
}
