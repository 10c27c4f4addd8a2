//! The running fault controller: the targeted rules (added and removed while the cluster
//! runs, each counting how often it struck) and the random error rate, deciding for each
//! request whether and how it fails. It decides; the HTTP layer answers.

use super::Faults;
use super::rule::{Answer, RequestInfo, Rule, Timing};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use std::sync::Mutex;

/// A rule's handle, for counting its strikes or removing it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct RuleId(u64);

/// A decision to fail one request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Strike {
    pub answer: Answer,
    pub timing: Timing,
    pub retry_after: u32,
    /// The targeted rule, or `None` for the random error rate.
    pub rule: Option<RuleId>,
}

/// A strike that landed, for tests and logs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Struck {
    pub rule: Option<RuleId>,
    pub answer: Answer,
    pub timing: Timing,
    pub request: RequestInfo,
}

struct Armed {
    id: RuleId,
    rule: Rule,
    fired: u32,
    /// After-strikes decided whose write has not finished yet: they count against `times`.
    pending: u32,
}

struct State {
    rules: Vec<Armed>,
    next_id: u64,
    error_rate: f64,
    answers: Vec<Answer>,
    write_after: f64,
    rng: StdRng,
    injected: u64,
    struck: Vec<Struck>,
}

/// Runs when a matching request arrives, before it is served: another client acting at
/// exactly that moment. Returns true to be spent.
type Tap = Box<dyn FnMut(&RequestInfo) -> bool + Send>;

pub struct FaultControl {
    state: Mutex<State>,
    taps: Mutex<Vec<Tap>>,
}

impl FaultControl {
    pub fn new(f: &Faults) -> FaultControl {
        let rng = match f.seed {
            Some(s) => StdRng::seed_from_u64(s),
            None => StdRng::from_rng(&mut rand::rng()),
        };
        let c = FaultControl {
            state: Mutex::new(State {
                rules: Vec::new(),
                next_id: 0,
                error_rate: f.error_rate,
                answers: f.error_answers.clone(),
                write_after: f.write_after,
                rng,
                injected: 0,
                struck: Vec::new(),
            }),
            taps: Mutex::new(Vec::new()),
        };
        for r in &f.rules {
            c.add(r.clone());
        }
        c
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Arms a rule; it strikes matching requests from now on, before the random error rate.
    /// Rules are tried in the order they were added.
    pub fn add(&self, rule: Rule) -> RuleId {
        let mut s = self.lock();
        let id = RuleId(s.next_id);
        s.next_id += 1;
        s.rules.push(Armed { id, rule, fired: 0, pending: 0 });
        id
    }

    pub fn remove(&self, id: RuleId) {
        self.lock().rules.retain(|a| a.id != id);
    }

    /// Calls `f` with every request before it is served, until `f` returns true. For tests that
    /// need another client to change the cluster at one precise step of a client's work (an
    /// object created between two writes of an apply): the change is made before the request
    /// is answered, so the interleaving is certain.
    pub fn tap(&self, f: impl FnMut(&RequestInfo) -> bool + Send + 'static) {
        self.taps.lock().unwrap_or_else(|e| e.into_inner()).push(Box::new(f));
    }

    /// Runs the taps for a request; spent ones are dropped. They run outside the lock, so a
    /// tap may add another.
    pub(crate) fn run_taps(&self, req: &RequestInfo) {
        let mut taps = std::mem::take(&mut *self.taps.lock().unwrap_or_else(|e| e.into_inner()));
        taps.retain_mut(|f| !f(req));
        let mut held = self.taps.lock().unwrap_or_else(|e| e.into_inner());
        taps.append(&mut held);
        *held = taps;
    }

    /// How many times the rule has struck: a before-rule when it answered in place of the
    /// server, an after-rule when the write it followed had been committed.
    pub fn fired(&self, id: RuleId) -> u32 {
        self.lock().rules.iter().find(|a| a.id == id).map_or(0, |a| a.fired)
    }

    /// Every rule with its id and strike count, in the order they are tried.
    pub fn rules(&self) -> Vec<(RuleId, Rule, u32)> {
        self.lock().rules.iter().map(|a| (a.id, a.rule.clone(), a.fired)).collect()
    }

    /// Fails this fraction (0 to 1) of requests other than discovery.
    pub fn set_error_rate(&self, rate: f64) {
        self.lock().error_rate = rate.clamp(0.0, 1.0);
    }

    /// The answers the error rate picks from, evenly (500 when empty).
    pub fn set_error_answers(&self, answers: &[Answer]) {
        self.lock().answers = answers.to_vec();
    }

    /// The share (0 to 1) of the error rate's failures of real writes that strike after the
    /// write was committed.
    pub fn set_write_after(&self, share: f64) {
        self.lock().write_after = share.clamp(0.0, 1.0);
    }

    /// How many requests the random error rate has failed.
    pub fn injected(&self) -> u64 {
        self.lock().injected
    }

    /// The strikes that landed, oldest first (the last 10,000).
    pub fn struck(&self) -> Vec<Struck> {
        self.lock().struck.clone()
    }

    /// Decides for a request; `None` for discovery, which the random rate spares.
    pub(crate) fn decide(&self, req: Option<&RequestInfo>) -> Option<Strike> {
        let req = req?;
        let mut s = self.lock();
        for a in s.rules.iter_mut() {
            let spent = a.rule.times.is_some_and(|t| a.fired + a.pending >= t);
            if spent || !a.rule.matches(req) {
                continue;
            }
            let after = a.rule.timing == Timing::After && req.mutating;
            let strike = Strike {
                answer: a.rule.answer,
                timing: if after { Timing::After } else { Timing::Before },
                retry_after: a.rule.retry_after,
                rule: Some(a.id),
            };
            if after {
                a.pending += 1;
                return Some(strike);
            }
            a.fired += 1;
            record(&mut s, strike, req);
            return Some(strike);
        }
        if s.error_rate <= 0.0 || s.rng.random::<f64>() >= s.error_rate {
            return None;
        }
        let answer = match s.answers.len() {
            0 => Answer::Status(500),
            n => {
                let i = s.rng.random_range(0..n);
                s.answers[i]
            }
        };
        let after = req.mutating && !req.dry_run && s.rng.random::<f64>() < s.write_after;
        let strike =
            Strike { answer, timing: if after { Timing::After } else { Timing::Before }, retry_after: 1, rule: None };
        if !after {
            s.injected += 1;
            record(&mut s, strike, req);
        }
        Some(strike)
    }

    /// The write an after-strike followed finished: committed (the strike lands) or not (the
    /// server's own answer stands, and the rule keeps its turn).
    pub(crate) fn settle(&self, strike: &Strike, req: &RequestInfo, committed: bool) {
        let mut s = self.lock();
        if let Some(id) = strike.rule
            && let Some(a) = s.rules.iter_mut().find(|a| a.id == id)
        {
            a.pending = a.pending.saturating_sub(1);
            if committed {
                a.fired += 1;
            }
        } else if strike.rule.is_none() && committed {
            s.injected += 1;
        }
        if committed {
            record(&mut s, *strike, req);
        }
    }
}

fn record(s: &mut State, strike: Strike, req: &RequestInfo) {
    if s.struck.len() >= 10_000 {
        s.struck.drain(..5_000);
    }
    tracing::info!(target: "meshdeck::sim::faults", "fault {} ({:?}) struck {} {} {}/{}", strike.answer, strike.timing, req.verb, req.resource, req.namespace, req.name);
    s.struck.push(Struck { rule: strike.rule, answer: strike.answer, timing: strike.timing, request: req.clone() });
}
