//! One copy of the parts that repeat across decoded objects: the pods of one workload carry
//! the same labels, annotations, containers and conditions, so at 100,000 pods sharing them
//! is most of the snapshot's memory. Pure data structures; no IO.

use super::types::{Condition, Container, ContainerStatus, OwnerRef, Pod};
use crate::labels::Labels;
use serde::{Deserialize, Deserializer};
use std::collections::HashSet;
use std::hash::Hash;
use std::ops::Deref;
use std::sync::Arc;

/// A value that may be shared with other objects. Reads go through `Deref`; it is immutable
/// once decoded (the snapshot replaces objects, it never edits them in place).
#[derive(Debug, Default, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Shared<T>(Arc<T>);

impl<T> Clone for Shared<T> {
    fn clone(&self) -> Self {
        Shared(self.0.clone())
    }
}

impl<T> Deref for Shared<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

impl<T> From<T> for Shared<T> {
    fn from(v: T) -> Self {
        Shared(Arc::new(v))
    }
}

impl<'de, T: Deserialize<'de>> Deserialize<'de> for Shared<T> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        T::deserialize(d).map(Shared::from)
    }
}

impl<'a, T> IntoIterator for &'a Shared<T>
where
    &'a T: IntoIterator,
{
    type Item = <&'a T as IntoIterator>::Item;
    type IntoIter = <&'a T as IntoIterator>::IntoIter;
    fn into_iter(self) -> Self::IntoIter {
        (&*self.0).into_iter()
    }
}

impl<T> Shared<T> {
    /// Whether both hold the very same copy (not merely equal values).
    pub fn same(a: &Self, b: &Self) -> bool {
        Arc::ptr_eq(&a.0, &b.0)
    }
}

/// The distinct values seen so far of one type. Values no object holds any more are
/// dropped once the pool has doubled since the last sweep, so churn cannot grow it forever.
#[derive(Debug, Clone)]
pub struct Pool<T> {
    set: HashSet<Arc<T>, foldhash::fast::RandomState>,
    sweep_at: usize,
}

impl<T> Default for Pool<T> {
    fn default() -> Self {
        Pool { set: HashSet::default(), sweep_at: 1024 }
    }
}

impl<T: Hash + Eq> Pool<T> {
    /// Replaces `v` by the pool's copy of an equal value, or makes `v` that copy.
    pub fn share(&mut self, v: &mut Shared<T>) {
        match self.set.get(&v.0) {
            Some(kept) => v.0 = kept.clone(),
            None => {
                if self.set.len() >= self.sweep_at {
                    self.set.retain(|a| Arc::strong_count(a) > 1);
                    self.sweep_at = (self.set.len() * 2).max(1024);
                }
                self.set.insert(v.0.clone());
            }
        }
    }

    /// Takes over another pool's values, so objects moved from it keep sharing.
    pub fn absorb(&mut self, other: Pool<T>) {
        self.set.extend(other.set);
        self.sweep_at = self.sweep_at.max(self.set.len() * 2);
    }

    pub fn len(&self) -> usize {
        self.set.len()
    }

    pub fn is_empty(&self) -> bool {
        self.set.is_empty()
    }
}

/// The pools of the parts pods repeat.
#[derive(Debug, Clone, Default)]
pub(crate) struct PodParts {
    labels: Pool<Labels>,
    owners: Pool<Vec<OwnerRef>>,
    containers: Pool<Vec<Container>>,
    conditions: Pool<Vec<Condition>>,
    statuses: Pool<Vec<ContainerStatus>>,
}

impl PodParts {
    pub(crate) fn share(&mut self, pod: &mut Pod) {
        let m = &mut pod.metadata;
        self.labels.share(&mut m.labels);
        self.labels.share(&mut m.annotations);
        self.owners.share(&mut m.owner_references);
        self.containers.share(&mut pod.spec.containers);
        self.containers.share(&mut pod.spec.init_containers);
        self.conditions.share(&mut pod.status.conditions);
        self.statuses.share(&mut pod.status.container_statuses);
    }

    pub(crate) fn absorb(&mut self, other: PodParts) {
        self.labels.absorb(other.labels);
        self.owners.absorb(other.owners);
        self.containers.absorb(other.containers);
        self.conditions.absorb(other.conditions);
        self.statuses.absorb(other.statuses);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    fn labels(pairs: &[(&str, &str)]) -> Shared<BTreeMap<String, String>> {
        Shared::from(pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect::<BTreeMap<_, _>>())
    }

    #[test]
    fn equal_values_end_up_as_one_copy_and_unequal_ones_stay_apart() {
        let mut pool = Pool::default();
        let mut a = labels(&[("app", "web"), ("version", "v1")]);
        let mut b = labels(&[("app", "web"), ("version", "v1")]);
        let mut c = labels(&[("app", "web"), ("version", "v2")]);
        assert!(!Shared::same(&a, &b));
        for v in [&mut a, &mut b, &mut c] {
            pool.share(v);
        }
        assert!(Shared::same(&a, &b));
        assert!(!Shared::same(&a, &c));
        assert_eq!(c.get("version").map(String::as_str), Some("v2"));
        assert_eq!(pool.len(), 2);
    }

    #[test]
    fn values_nobody_holds_are_swept_once_the_pool_doubles() {
        let mut pool = Pool::default();
        let mut kept = labels(&[("keep", "me")]);
        pool.share(&mut kept);
        for i in 0..1023 {
            pool.share(&mut labels(&[("n", &i.to_string())]));
        }
        assert_eq!(pool.len(), 1024);
        // The 1025th distinct value triggers the sweep: only `kept` is still held elsewhere.
        pool.share(&mut labels(&[("n", "last")]));
        assert_eq!(pool.len(), 2);
        let mut again = labels(&[("keep", "me")]);
        pool.share(&mut again);
        assert!(Shared::same(&kept, &again));
    }

    #[test]
    fn decodes_like_the_inner_value() {
        let v: Shared<Vec<String>> = serde_json::from_str(r#"["a","b"]"#).unwrap();
        assert_eq!(v.iter().map(String::as_str).collect::<Vec<_>>(), ["a", "b"]);
        assert_eq!((&v).into_iter().count(), 2);
    }
}
