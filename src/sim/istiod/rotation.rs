//! Which workload certificate a sidecar's agent holds at a given instant, as a pure function
//! of the pod's start, the certificate lifetime and the readiness history of its istiod
//! revision. No clock, no store, no signing: callers pass every time in (milliseconds since
//! the Unix epoch) and sign whatever issuance this module names.
//!
//! The agent's behaviour (ISTIO.md §7.4, §7.7):
//! - it asks for a certificate when the pod starts and keeps retrying until istiod answers;
//! - it renews at about half the certificate's life, with ±1% jitter;
//! - while istiod is down the renewal keeps being retried, so the certificate may expire;
//!   when istiod is back, the pending request is answered at once.
//!
//! Within one span of readiness that starts serving at `t0`, renewals fall at
//! `t_k = t0 + k·T/2 + T·j(k)` with `j(k)` a per-renewal jitter in [-0.5%, +0.5%] of the
//! lifetime `T`, hashed from the pod's seed, `t0` and `k`. Each certificate is therefore
//! renewed at between 49% and 51% of its life, and the latest issuance before any instant
//! is found in constant time, however long the pod has lived. The first renewal due outside
//! a ready span is served at the start of the next span.

/// Milliseconds since the Unix epoch.
pub type Millis = i64;

/// Stands for "ready since before anything we know of", without overflowing arithmetic.
pub const ALWAYS: Millis = i64::MIN / 4;

/// The spans `[from, until)` during which a revision's istiod had a ready replica; the last
/// span is open while it still has one.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Readiness {
    spans: Vec<(Millis, Option<Millis>)>,
}

impl Readiness {
    /// Records that readiness is `ready` from `at` on. Repeating the current state is a no-op;
    /// an instant before the last change counts as that change's instant.
    pub fn record(&mut self, at: Millis, ready: bool) {
        match (self.spans.last_mut(), ready) {
            (Some((from, until @ None)), false) => {
                let end = at.max(*from);
                if end == *from {
                    self.spans.pop();
                } else {
                    *until = Some(end);
                }
            }
            (Some((_, Some(until))), true) => {
                let start = at.max(*until);
                self.spans.push((start, None));
            }
            (None, true) => self.spans.push((at, None)),
            _ => {}
        }
    }

    pub fn is_ready(&self) -> bool {
        matches!(self.spans.last(), Some((_, None)))
    }

    pub fn spans(&self) -> &[(Millis, Option<Millis>)] {
        &self.spans
    }
}

/// One issuance: when istiod signed, and when that certificate expires (before any cap by
/// the CA's own expiry).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Issue {
    pub at: Millis,
    pub expires: Millis,
}

/// FNV-1a: a small, stable hash for jitter and made-up build identifiers.
pub fn fnv64(parts: &[&[u8]]) -> u64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for p in parts {
        for b in *p {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0000_0100_0000_01b3);
        }
        h ^= 0xff;
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

fn jitter(seed: u64, t0: Millis, k: i64, amplitude: i64) -> i64 {
    if amplitude == 0 {
        return 0;
    }
    let h = fnv64(&[&seed.to_le_bytes(), &t0.to_le_bytes(), &k.to_le_bytes()]);
    (h % (2 * amplitude as u64 + 1)) as i64 - amplitude
}

/// The certificate the agent of a pod started at `start` holds at `now`: the latest
/// issuance at or before `now`, or None when istiod never answered. `ttl` is the lifetime
/// (at least 2 ms); `seed` distinguishes pods so their renewals do not all coincide.
pub fn current_issue(start: Millis, ttl: Millis, readiness: &Readiness, now: Millis, seed: u64) -> Option<Issue> {
    if now < start {
        return None;
    }
    let ttl = ttl.max(2);
    let half = ttl / 2;
    let amplitude = ttl / 200;
    // When the agent next wants a certificate.
    let mut pending = start;
    let mut last = None;
    for &(from, until) in readiness.spans() {
        if from > now {
            break;
        }
        // The last instant of this span at which istiod can still answer, up to now.
        let limit = until.map_or(now, |u| (u - 1).min(now));
        let t0 = pending.max(from);
        if t0 > limit {
            continue;
        }
        let at = |k: i64| if k == 0 { t0 } else { t0 + k * half + jitter(seed, t0, k, amplitude) };
        let estimate = (limit - t0) / half;
        // The jitter is smaller than half a life, so the answer is one of three neighbours.
        let k = ((estimate - 1).max(0)..=estimate + 1).rev().find(|&k| at(k) <= limit).unwrap_or(0);
        last = Some(Issue { at: at(k), expires: at(k) + ttl });
        pending = at(k + 1);
    }
    last
}

#[cfg(test)]
mod tests {
    use super::*;

    const T: Millis = 1_000_000;

    fn always() -> Readiness {
        let mut r = Readiness::default();
        r.record(ALWAYS, true);
        r
    }

    fn spans(list: &[(Millis, Option<Millis>)]) -> Readiness {
        let mut r = Readiness::default();
        for &(from, until) in list {
            r.record(from, true);
            if let Some(u) = until {
                r.record(u, false);
            }
        }
        r
    }

    #[test]
    fn readiness_records_transitions_only() {
        let mut r = Readiness::default();
        r.record(10, false);
        r.record(20, true);
        r.record(25, true);
        r.record(30, false);
        r.record(35, false);
        r.record(40, true);
        assert_eq!(r.spans(), &[(20, Some(30)), (40, None)]);
        assert!(r.is_ready());
        // Ready and down at the same instant leaves nothing behind.
        r.record(40, false);
        assert_eq!(r.spans(), &[(20, Some(30))]);
        assert!(!r.is_ready());
    }

    #[test]
    fn issued_at_start_and_renewed_at_half_life_while_ready() {
        for seed in 0..200u64 {
            let r = always();
            assert_eq!(current_issue(0, T, &r, 0, seed), Some(Issue { at: 0, expires: T }));
            assert_eq!(current_issue(0, T, &r, 489_999, seed).unwrap().at, 0, "seed {seed}");
            let renewed = current_issue(0, T, &r, 510_000, seed).unwrap();
            assert!((490_000..=510_000).contains(&renewed.at), "seed {seed}: renewed at {}", renewed.at);
            assert_eq!(renewed.expires, renewed.at + T);
            // Long after: every renewal came at 49%..51% of the previous certificate's life.
            let mut prev = renewed.at;
            for step in 1..20 {
                let now = prev + 510_000;
                let next = current_issue(0, T, &r, now, seed).unwrap().at;
                assert!((prev + 490_000..=prev + 510_000).contains(&next), "seed {seed} step {step}");
                // Reading again earlier than the renewal still gives the previous certificate.
                assert_eq!(current_issue(0, T, &r, next - 1, seed).unwrap().at, prev);
                prev = next;
            }
        }
    }

    #[test]
    fn jitter_spreads_renewals_across_pods() {
        let r = always();
        let firsts: std::collections::BTreeSet<Millis> =
            (0..50u64).map(|s| current_issue(0, T, &r, 600_000, s).unwrap().at).collect();
        assert!(firsts.len() > 10, "renewal instants should differ between pods: {firsts:?}");
    }

    #[test]
    fn nothing_renews_while_istiod_is_down_and_the_certificate_expires() {
        // Ready until 100s into the pod's life, then down for good.
        let r = spans(&[(ALWAYS, Some(100_000))]);
        for now in [0, 99_999, 600_000, T, 5 * T] {
            assert_eq!(current_issue(0, T, &r, now, 7), Some(Issue { at: 0, expires: T }), "now {now}");
        }
    }

    #[test]
    fn renewal_is_prompt_when_istiod_returns() {
        // Down from 0.2T to 1.5T: the renewal due near 0.5T waits, the certificate expires at T,
        // and the agent's pending request is answered the moment istiod is ready again.
        let r = spans(&[(ALWAYS, Some(200_000)), (1_500_000, None)]);
        assert_eq!(current_issue(0, T, &r, 1_499_999, 3).unwrap().at, 0);
        assert_eq!(current_issue(0, T, &r, 1_500_000, 3), Some(Issue { at: 1_500_000, expires: 2_500_000 }));
        let after = current_issue(0, T, &r, 2_010_000, 3).unwrap();
        assert!((1_990_000..=2_010_000).contains(&after.at), "{after:?}");
        // Back before expiry: the renewal is served at once, not half a life later.
        let r = spans(&[(ALWAYS, Some(200_000)), (700_000, None)]);
        assert_eq!(current_issue(0, T, &r, 700_000, 3).unwrap().at, 700_000);
        // Back and down again before the next renewal fell due: that renewal waits again.
        let r = spans(&[(ALWAYS, Some(200_000)), (700_000, Some(800_000)), (3_000_000, None)]);
        assert_eq!(current_issue(0, T, &r, 2_999_999, 3).unwrap().at, 700_000);
        assert_eq!(current_issue(0, T, &r, 3_000_000, 3).unwrap().at, 3_000_000);
    }

    #[test]
    fn pod_started_while_istiod_was_down_waits_for_its_first_certificate() {
        let r = spans(&[(ALWAYS, Some(50)), (400_000, None)]);
        assert_eq!(current_issue(100, T, &r, 399_999, 1), None);
        assert_eq!(current_issue(100, T, &r, 400_000, 1).unwrap().at, 400_000);
        assert_eq!(current_issue(100, T, &Readiness::default(), 10 * T, 1), None);
        assert_eq!(current_issue(100, T, &r, 99, 1), None, "before the pod started");
    }

    #[test]
    fn long_lived_pods_are_computed_in_closed_form() {
        let r = always();
        let now = 1_000_000 * T;
        let issue = current_issue(0, T, &r, now, 9).unwrap();
        assert!(issue.at <= now && now - issue.at <= 510_000, "{issue:?}");
        // A step later the answer moves forward or stays: reads are consistent over time.
        let later = current_issue(0, T, &r, now + 300_000, 9).unwrap();
        assert!(later.at == issue.at || later.at > now);
    }
}
