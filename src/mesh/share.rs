//! One copy of the parts that repeat across decoded objects: the pods of one workload carry
//! the same labels, annotations, containers and conditions, so at 100,000 pods sharing them
//! is most of the snapshot's memory. Pure data structures; no IO.

use super::feed::{Feed, Fields, WireOf};
use super::types::{Condition, Container, ContainerStatus, Meta, OwnerRef, Pod, PodSpec, PodStatus};
use super::wire::{PodWire, Str};
use crate::labels::Labels;
use serde::{Deserialize, Deserializer};
use std::collections::{HashMap, HashSet};
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

/// The distinct values seen so far of one type, by their `Feed` hash: a wire form finds the
/// copy of the value it stands for without being built. Two distinct values with one hash
/// (a 64-bit collision) just go unshared. Values no object holds any more are dropped once
/// the pool has doubled since the last sweep, so churn cannot grow it forever.
#[derive(Debug, Clone)]
pub struct Pool<T> {
    map: HashMap<u64, Arc<T>, foldhash::fast::RandomState>,
    sweep_at: usize,
}

impl<T> Default for Pool<T> {
    fn default() -> Self {
        Pool { map: HashMap::default(), sweep_at: 1024 }
    }
}

fn hash_of(v: &(impl Fields + ?Sized)) -> u64 {
    let mut f = Feed::default();
    v.feed(&mut f);
    f.finish()
}

impl<T: Fields + Eq> Pool<T> {
    /// Replaces `v` by the pool's copy of an equal value, or makes `v` that copy.
    pub fn share(&mut self, v: &mut Shared<T>) {
        let h = hash_of(&*v.0);
        match self.map.get(&h) {
            Some(kept) if **kept == *v.0 => v.0 = kept.clone(),
            Some(_) => {}
            None => self.insert(h, v.0.clone()),
        }
    }

    /// The pool's copy of the value `w` stands for, built and kept if there is none yet.
    pub fn from_wire<W: WireOf<T>>(&mut self, w: &W) -> Shared<T> {
        let mut f = Feed::default();
        w.feed(&mut f);
        let h = f.finish();
        match self.map.get(&h) {
            Some(kept) if w.matches(kept) => Shared(kept.clone()),
            Some(_) => Shared::from(w.build()),
            None => {
                let v = Arc::new(w.build());
                self.insert(h, v.clone());
                Shared(v)
            }
        }
    }

    fn insert(&mut self, h: u64, v: Arc<T>) {
        if self.map.len() >= self.sweep_at {
            self.map.retain(|_, a| Arc::strong_count(a) > 1);
            self.sweep_at = (self.map.len() * 2).max(1024);
        }
        self.map.insert(h, v);
    }

    /// Takes over another pool's values, so objects moved from it keep sharing.
    pub fn absorb(&mut self, other: Pool<T>) {
        for (h, v) in other.map {
            self.map.entry(h).or_insert(v);
        }
        self.sweep_at = self.sweep_at.max(self.map.len() * 2);
    }

    pub fn len(&self) -> usize {
        self.map.len()
    }

    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }
}

/// One shared copy per distinct string. Only few-valued strings go in (service accounts,
/// nodes, phases, proxy revisions and images); strings nobody holds any more are dropped
/// should distinct values ever pile up.
#[derive(Debug, Clone, Default)]
struct Interner(HashSet<Arc<str>, foldhash::fast::RandomState>);

impl Interner {
    fn get(&mut self, s: &str) -> Arc<str> {
        match self.0.get(s) {
            Some(kept) => kept.clone(),
            None => {
                if self.0.len() >= 65_536 {
                    self.0.retain(|a| Arc::strong_count(a) > 1);
                }
                let v: Arc<str> = Arc::from(s);
                self.0.insert(v.clone());
                v
            }
        }
    }
}

/// The pools of the parts pods repeat.
#[derive(Debug, Clone, Default)]
pub(crate) struct PodParts {
    strings: Interner,
    labels: Pool<Labels>,
    owners: Pool<Vec<OwnerRef>>,
    containers: Pool<Vec<Container>>,
    conditions: Pool<Vec<Condition>>,
    statuses: Pool<Vec<ContainerStatus>>,
}

impl PodParts {
    /// Replaces a few-valued string by the shared copy.
    pub(crate) fn share_string(&mut self, s: &mut Option<Arc<str>>) {
        if let Some(v) = s {
            *v = self.strings.get(v);
        }
    }

    pub(crate) fn share(&mut self, pod: &mut Pod) {
        self.share_string(&mut pod.spec.service_account_name);
        self.share_string(&mut pod.spec.node_name);
        self.share_string(&mut pod.status.phase);
        let m = &mut pod.metadata;
        self.labels.share(&mut m.labels);
        self.labels.share(&mut m.annotations);
        self.owners.share(&mut m.owner_references);
        self.containers.share(&mut pod.spec.containers);
        self.containers.share(&mut pod.spec.init_containers);
        self.conditions.share(&mut pod.status.conditions);
        self.statuses.share(&mut pod.status.container_statuses);
    }

    /// The pod `w` describes, its repeated parts taken from the pools.
    pub(crate) fn build(&mut self, w: &PodWire) -> Pod {
        let (m, status) = (&w.metadata, &w.status);
        let spec = {
            let PodParts { strings, containers, .. } = self;
            PodSpec::from_wire(&w.spec, |c| containers.from_wire(c), |s| strings.get(s))
        };
        Pod {
            metadata: Meta {
                name: m.name.owned(),
                namespace: m.namespace.owned(),
                labels: self.labels.from_wire(&m.labels),
                annotations: self.labels.from_wire(&m.annotations),
                owner_references: self.owners.from_wire(&m.owner_references),
                creation_timestamp: m.creation_timestamp.as_ref().map(Str::owned),
                deletion_timestamp: m.deletion_timestamp.as_ref().map(Str::owned),
            },
            spec,
            status: PodStatus {
                phase: status.phase.as_ref().map(|s| self.strings.get(s.as_str())),
                conditions: self.conditions.from_wire(&status.conditions),
                container_statuses: self.statuses.from_wire(&status.container_statuses),
            },
            mesh: Default::default(),
        }
    }

    pub(crate) fn absorb(&mut self, other: PodParts) {
        self.strings.0.extend(other.strings.0);
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
