//! Fault injection for reliability tests: closing watches, failing a fraction of requests,
//! adding latency, expiring resource versions early. Parsed from `--faults SPEC`.

use std::time::Duration;

/// `watch-close=SECS,error-rate=FRACTION,error-code=500|429,latency=MS,expire=SECS`
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Faults {
    pub watch_close: Option<Duration>,
    pub error_rate: f64,
    pub error_code: u16,
    pub latency: Option<Duration>,
    pub expire: Option<Duration>,
}

impl Faults {
    pub fn parse(spec: &str) -> Result<Faults, String> {
        let mut f = Faults { error_code: 500, ..Faults::default() };
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (k, v) = part.split_once('=').ok_or_else(|| format!("fault {part:?}: expected KEY=VALUE"))?;
            let num = |v: &str| v.parse::<f64>().map_err(|_| format!("fault {k}: {v:?} is not a number"));
            match k {
                "watch-close" => f.watch_close = Some(Duration::from_secs_f64(num(v)?)),
                "error-rate" => {
                    let r = num(v)?;
                    if !(0.0..=1.0).contains(&r) {
                        return Err(format!("fault error-rate: {r} is not between 0 and 1"));
                    }
                    f.error_rate = r;
                }
                "error-code" => {
                    f.error_code = match v {
                        "500" => 500,
                        "429" => 429,
                        _ => return Err(format!("fault error-code: {v:?} must be 500 or 429")),
                    }
                }
                "latency" => f.latency = Some(Duration::from_secs_f64(num(v)? / 1000.0)),
                "expire" => f.expire = Some(Duration::from_secs_f64(num(v)?)),
                _ => {
                    return Err(format!(
                        "unknown fault {k:?}; known: watch-close, error-rate, error-code, latency, expire"
                    ));
                }
            }
        }
        Ok(f)
    }

    /// Should this request fail? Discovery and version stay reliable so clients can start.
    pub fn should_fail(&self, path: &str) -> bool {
        self.error_rate > 0.0
            && !(path == "/version" || path == "/api" || path == "/apis" || path.starts_with("/openapi"))
            && rand::random::<f64>() < self.error_rate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_specs_and_names_errors() {
        let f = Faults::parse("watch-close=5,error-rate=0.1,error-code=429,latency=20,expire=30").unwrap();
        assert_eq!(f.watch_close, Some(Duration::from_secs(5)));
        assert_eq!(f.error_code, 429);
        assert_eq!(f.latency, Some(Duration::from_millis(20)));
        assert_eq!(Faults::parse("").unwrap().error_code, 500);
        assert_eq!(Faults::parse("error-rate=2").unwrap_err(), "fault error-rate: 2 is not between 0 and 1");
        assert!(Faults::parse("bogus=1").unwrap_err().starts_with("unknown fault \"bogus\""));
    }
}
