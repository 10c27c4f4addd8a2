//! Selector helpers for the mesh model: Istio's matchLabels-only subset test, and an index
//! that finds which selectors can match a label set without scanning all of them. Pure;
//! generic LabelSelector (matchExpressions) matching stays in `crate::labels`.

use crate::labels::Labels;
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

/// A multiply-rotate hasher (the FxHash scheme) for maps keyed by cluster names inside one
/// derive. Much cheaper than SipHash on short strings; flooding resistance is not needed
/// for maps that live for one pure computation.
#[derive(Debug, Default, Clone, Copy)]
pub struct FastHasher(u64);

impl FastHasher {
    fn add(&mut self, word: u64) {
        self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(0x51_7c_c1_b7_27_22_0a_95);
    }
}

impl Hasher for FastHasher {
    fn write(&mut self, bytes: &[u8]) {
        let mut chunks = bytes.chunks_exact(8);
        for c in &mut chunks {
            self.add(u64::from_le_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]));
        }
        let mut tail = [0u8; 8];
        let rest = chunks.remainder();
        tail[..rest.len()].copy_from_slice(rest);
        self.add(u64::from_le_bytes(tail) ^ ((rest.len() as u64) << 56));
    }

    fn write_u8(&mut self, i: u8) {
        self.add(u64::from(i));
    }

    fn write_usize(&mut self, i: usize) {
        self.add(i as u64);
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

pub type FastMap<K, V> = HashMap<K, V, BuildHasherDefault<FastHasher>>;

/// matchLabels ⊆ labels. An empty selector is a subset of anything.
pub fn subset(selector: &Labels, labels: &Labels) -> bool {
    selector.iter().all(|(k, v)| labels.get(k) == Some(v))
}

/// Items keyed by a matchLabels selector. Each selected item is filed under one of its
/// (key, value) pairs, so a lookup only checks items sharing at least one label with the
/// target: with thousands of policies, a workload still checks a handful.
#[derive(Debug)]
pub struct SelectorIndex<'a, T> {
    unselected: Vec<T>,
    keyed: FastMap<(&'a str, &'a str), Vec<(&'a Labels, T)>>,
}

impl<'a, T> Default for SelectorIndex<'a, T> {
    fn default() -> Self {
        SelectorIndex { unselected: Vec::new(), keyed: FastMap::default() }
    }
}

impl<'a, T: Copy> SelectorIndex<'a, T> {
    /// Files `item` under `selector`; `None` or an empty selector matches every label set.
    pub fn add(&mut self, selector: Option<&'a Labels>, item: T) {
        match selector.and_then(|s| s.iter().next().map(|(k, v)| (s, k, v))) {
            None => self.unselected.push(item),
            Some((sel, k, v)) => self.keyed.entry((k.as_str(), v.as_str())).or_default().push((sel, item)),
        }
    }

    /// Items whose selector is empty.
    pub fn unselected(&self) -> &[T] {
        &self.unselected
    }

    /// Items with a non-empty selector that is a subset of `labels`.
    pub fn selected_by(&self, labels: &Labels) -> Vec<T> {
        let mut out = Vec::new();
        if self.keyed.is_empty() {
            return out;
        }
        for (k, v) in labels {
            if let Some(items) = self.keyed.get(&(k.as_str(), v.as_str())) {
                out.extend(items.iter().filter(|(sel, _)| subset(sel, labels)).map(|(_, t)| *t));
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn l(pairs: &[(&str, &str)]) -> Labels {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn subset_and_index_agree_with_hand_results() {
        let web = l(&[("app", "web")]);
        let web_v2 = l(&[("app", "web"), ("version", "v2")]);
        let db = l(&[("app", "db")]);
        let empty = Labels::new();
        let mut idx = SelectorIndex::default();
        idx.add(Some(&web), "web");
        idx.add(Some(&web_v2), "web-v2");
        idx.add(Some(&db), "db");
        idx.add(Some(&empty), "empty");
        idx.add(None, "none");
        assert_eq!(idx.unselected(), &["empty", "none"]);
        let mut got = idx.selected_by(&l(&[("app", "web"), ("version", "v2"), ("x", "y")]));
        got.sort();
        assert_eq!(got, vec!["web", "web-v2"]);
        assert_eq!(idx.selected_by(&l(&[("app", "web"), ("version", "v1")])), vec!["web"]);
        assert!(idx.selected_by(&l(&[("version", "v2")])).is_empty());
        assert!(subset(&empty, &l(&[])));
        assert!(!subset(&web, &l(&[("app", "Web")])));
    }
}
