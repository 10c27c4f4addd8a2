//! A set of field paths as server-side apply records them (`fieldsV1`): a tree whose edges
//! are path elements (`f:name`, `k:{"name":"app"}`, `v:"x"`) and whose nodes may be members.
//! It is set algebra and the fieldsV1 encoding only; it never looks at object values.

use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// One node: `member` says the path leading here is itself in the set; `children` hold the
/// paths below. The root is never a member.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct FieldSet {
    pub member: bool,
    pub children: BTreeMap<String, FieldSet>,
}

impl FieldSet {
    pub fn is_empty(&self) -> bool {
        !self.member && self.children.values().all(FieldSet::is_empty)
    }

    pub fn insert(&mut self, path: &[String]) {
        let mut node = self;
        for pe in path {
            node = node.children.entry(pe.clone()).or_default();
        }
        node.member = true;
    }

    pub fn node(&self, path: &[String]) -> Option<&FieldSet> {
        let mut node = self;
        for pe in path {
            node = node.children.get(pe)?;
        }
        Some(node)
    }

    pub fn contains(&self, path: &[String]) -> bool {
        self.node(path).is_some_and(|n| n.member)
    }

    /// Every member path, parents before children, siblings in fieldsV1 order.
    pub fn members(&self) -> Vec<Vec<String>> {
        fn walk(n: &FieldSet, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
            if n.member {
                out.push(prefix.clone());
            }
            for (pe, c) in &n.children {
                prefix.push(pe.clone());
                walk(c, prefix, out);
                prefix.pop();
            }
        }
        let mut out = Vec::new();
        walk(self, &mut Vec::new(), &mut out);
        out
    }

    pub fn union(&self, other: &FieldSet) -> FieldSet {
        let mut out = self.clone();
        out.member |= other.member;
        for (pe, c) in &other.children {
            let merged = match out.children.get(pe) {
                Some(mine) => mine.union(c),
                None => c.clone(),
            };
            out.children.insert(pe.clone(), merged);
        }
        out
    }

    /// Members of `self` that `other` lacks (exact paths: a member of `other` does not remove
    /// what lies below it).
    pub fn difference(&self, other: &FieldSet) -> FieldSet {
        let mut out = FieldSet { member: self.member && !other.member, children: BTreeMap::new() };
        for (pe, c) in &self.children {
            let d = match other.children.get(pe) {
                Some(o) => c.difference(o),
                None => c.clone(),
            };
            if !d.is_empty() {
                out.children.insert(pe.clone(), d);
            }
        }
        out
    }

    pub fn intersection(&self, other: &FieldSet) -> FieldSet {
        let mut out = FieldSet { member: self.member && other.member, children: BTreeMap::new() };
        for (pe, c) in &self.children {
            if let Some(o) = other.children.get(pe) {
                let i = c.intersection(o);
                if !i.is_empty() {
                    out.children.insert(pe.clone(), i);
                }
            }
        }
        out
    }

    /// Drops `path` and everything below it.
    pub fn remove_subtree(&mut self, path: &[String]) {
        let Some((last, parents)) = path.split_last() else {
            *self = FieldSet::default();
            return;
        };
        let mut node = &mut *self;
        for pe in parents {
            match node.children.get_mut(pe) {
                Some(n) => node = n,
                None => return,
            }
        }
        node.children.remove(last);
        self.prune();
    }

    /// Removes non-member nodes with nothing below them.
    fn prune(&mut self) {
        for c in self.children.values_mut() {
            c.prune();
        }
        self.children.retain(|_, c| !c.is_empty());
    }

    /// The fieldsV1 object: members with children carry `".":{}`.
    pub fn to_json(&self) -> Value {
        let mut m = Map::new();
        if self.member && !self.children.is_empty() {
            m.insert(".".into(), Value::Object(Map::new()));
        }
        for (pe, c) in &self.children {
            if !c.is_empty() {
                m.insert(pe.clone(), c.to_json());
            }
        }
        Value::Object(m)
    }

    /// Reads a fieldsV1 object; anything that is not an object reads as empty.
    pub fn from_json(v: &Value) -> FieldSet {
        fn node(v: &Value) -> FieldSet {
            let mut out = FieldSet::default();
            let Some(m) = v.as_object() else { return out };
            if m.is_empty() {
                out.member = true;
            }
            for (k, c) in m {
                if k == "." {
                    out.member = true;
                } else {
                    out.children.insert(k.clone(), node(c));
                }
            }
            out
        }
        let mut root = node(v);
        root.member = false;
        root
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn p(s: &[&str]) -> Vec<String> {
        s.iter().map(|x| x.to_string()).collect()
    }

    #[test]
    fn fields_v1_round_trip_and_algebra() {
        let v = json!({"f:data": {".": {}, "f:a": {}}, "f:metadata": {"f:labels": {"f:app": {}}}});
        let s = FieldSet::from_json(&v);
        assert_eq!(s.to_json(), v);
        assert_eq!(s.members(), vec![p(&["f:data"]), p(&["f:data", "f:a"]), p(&["f:metadata", "f:labels", "f:app"])]);
        let mut other = FieldSet::default();
        other.insert(&p(&["f:data", "f:a"]));
        assert_eq!(s.difference(&other).to_json(), json!({"f:data": {}, "f:metadata": {"f:labels": {"f:app": {}}}}));
        assert_eq!(s.intersection(&other).to_json(), json!({"f:data": {"f:a": {}}}));
        let mut s2 = s.clone();
        s2.remove_subtree(&p(&["f:metadata", "f:labels"]));
        assert_eq!(s2.to_json(), json!({"f:data": {".": {}, "f:a": {}}}));
        assert_eq!(s2.union(&s), s);
    }
}
