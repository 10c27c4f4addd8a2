//! Selector helpers for the mesh model: Istio's matchLabels-only subset test, and an index
//! that finds which selectors can match a label set without scanning all of them. Pure;
//! generic LabelSelector (matchExpressions) matching stays in `crate::labels`.

use crate::labels::Labels;
use std::collections::HashMap;

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
    keyed: HashMap<(&'a str, &'a str), Vec<(&'a Labels, T)>>,
}

impl<'a, T> Default for SelectorIndex<'a, T> {
    fn default() -> Self {
        SelectorIndex { unselected: Vec::new(), keyed: HashMap::new() }
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
