//! Fault injection for reliability tests: latency, closing watches, expiring resource versions
//! early, a random error rate over a mix of answers, and targeted rules aimed at one request.
//! `Faults` is the specification (`--faults SPEC`); `FaultControl` applies it at run time and
//! lets tests change it while the cluster runs.

mod control;
mod rule;
#[cfg(test)]
mod tests;

pub use control::{FaultControl, RuleId, Strike, Struck};
pub use rule::{Answer, RequestInfo, Rule, Timing, Verb};

use std::time::Duration;

/// A fault specification:
/// `watch-close=SECS,error-rate=FRACTION,error-code=CODE[+CODE...],write-after=FRACTION,`
/// `latency=MS,expire=SECS,seed=N,rule=VERB:RESOURCE:OBJECT:ANSWER[:OPTION...]` (any subset, any
/// order; `rule` may repeat).
#[derive(Debug, Clone, PartialEq)]
pub struct Faults {
    pub watch_close: Option<Duration>,
    pub error_rate: f64,
    /// The answers the error rate picks from, evenly; empty means 500.
    pub error_answers: Vec<Answer>,
    /// Of the error rate's failures of real writes, the share struck after the write was
    /// committed.
    pub write_after: f64,
    pub latency: Option<Duration>,
    pub expire: Option<Duration>,
    /// Seeds the error rate's random choices.
    pub seed: Option<u64>,
    pub rules: Vec<Rule>,
}

impl Default for Faults {
    fn default() -> Faults {
        Faults {
            watch_close: None,
            error_rate: 0.0,
            error_answers: Vec::new(),
            write_after: 0.5,
            latency: None,
            expire: None,
            seed: None,
            rules: Vec::new(),
        }
    }
}

const KEYS: &str = "watch-close, error-rate, error-code, write-after, latency, expire, seed, rule";

impl Faults {
    pub fn parse(spec: &str) -> Result<Faults, String> {
        let mut f = Faults::default();
        for part in spec.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let (k, v) = part.split_once('=').ok_or_else(|| format!("fault {part:?}: expected KEY=VALUE"))?;
            let num = |v: &str| v.parse::<f64>().map_err(|_| format!("fault {k}: {v:?} is not a number"));
            let fraction = |v: &str| {
                let r = num(v)?;
                if (0.0..=1.0).contains(&r) { Ok(r) } else { Err(format!("fault {k}: {r} is not between 0 and 1")) }
            };
            let secs = |v: &str| {
                let s = num(v)?;
                if s.is_finite() && s >= 0.0 { Ok(s) } else { Err(format!("fault {k}: {v:?} is not a duration")) }
            };
            match k {
                "watch-close" => f.watch_close = Some(Duration::from_secs_f64(secs(v)?)),
                "error-rate" => f.error_rate = fraction(v)?,
                "error-code" => {
                    f.error_answers = v
                        .split('+')
                        .map(|c| Answer::parse(c).map_err(|e| format!("fault error-code: {e}")))
                        .collect::<Result<_, _>>()?;
                }
                "write-after" => f.write_after = fraction(v)?,
                "latency" => f.latency = Some(Duration::from_secs_f64(secs(v)? / 1000.0)),
                "expire" => f.expire = Some(Duration::from_secs_f64(secs(v)?)),
                "seed" => f.seed = Some(v.parse().map_err(|_| format!("fault seed: {v:?} is not a whole number"))?),
                "rule" => f.rules.push(Rule::parse(v)?),
                _ => return Err(format!("unknown fault {k:?}; known: {KEYS}")),
            }
        }
        Ok(f)
    }
}
