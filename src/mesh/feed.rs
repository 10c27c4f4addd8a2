//! How a pooled value and its wire form hash and compare alike, so a pool finds its copy of
//! a value from the wire form without building it. Pure: no IO.

use super::types::{Condition, Container, ContainerStatus, OwnerRef};
use super::wire::{ConditionWire, ContainerStatusWire, ContainerWire, OwnerWire, Pairs, Str};
use crate::labels::Labels;

fn opt(s: &Option<Str>) -> Option<String> {
    s.as_ref().map(Str::owned)
}

/// A wire form that builds, hashes and compares like the stored value it stands for, so a
/// pool can hand out its copy of that value without the wire form being built first.
pub trait WireOf<T> {
    fn feed(&self, f: &mut Feed);
    fn matches(&self, v: &T) -> bool;
    fn build(&self) -> T;
}

/// The hashing of pooled values: `Feed` takes the same calls from a stored value (see
/// `Fields`) and from its wire form, so both hash alike.
pub struct Feed(foldhash::fast::FoldHasher<'static>);

impl Default for Feed {
    fn default() -> Self {
        use std::hash::BuildHasher;
        static SEED: foldhash::fast::FixedState = foldhash::fast::FixedState::with_seed(0x6d65_7368);
        Feed(SEED.build_hasher())
    }
}

impl Feed {
    pub fn str(&mut self, s: &str) {
        use std::hash::Hasher;
        self.0.write_usize(s.len());
        self.0.write(s.as_bytes());
    }

    pub fn opt(&mut self, s: Option<&str>) {
        use std::hash::Hasher;
        match s {
            Some(s) => {
                self.0.write_u8(1);
                self.str(s);
            }
            None => self.0.write_u8(0),
        }
    }

    pub fn int(&mut self, n: i64) {
        use std::hash::Hasher;
        self.0.write_i64(n);
    }

    pub fn finish(&self) -> u64 {
        use std::hash::Hasher;
        self.0.finish()
    }
}

/// A stored value's side of `Feed`.
pub trait Fields {
    fn feed(&self, f: &mut Feed);
}

impl<T: Fields> Fields for Vec<T> {
    fn feed(&self, f: &mut Feed) {
        f.int(self.len() as i64);
        self.iter().for_each(|v| v.feed(f));
    }
}

impl<T, W: WireOf<T>> WireOf<Vec<T>> for Vec<W> {
    fn feed(&self, f: &mut Feed) {
        f.int(self.len() as i64);
        self.iter().for_each(|w| w.feed(f));
    }
    fn matches(&self, v: &Vec<T>) -> bool {
        self.len() == v.len() && self.iter().zip(v).all(|(w, v)| w.matches(v))
    }
    fn build(&self) -> Vec<T> {
        self.iter().map(W::build).collect()
    }
}

impl Fields for Labels {
    fn feed(&self, f: &mut Feed) {
        f.int(self.len() as i64);
        for (k, v) in self {
            f.str(k);
            f.str(v);
        }
    }
}

impl WireOf<Labels> for Pairs<'_> {
    fn feed(&self, f: &mut Feed) {
        f.int(self.0.len() as i64);
        for (k, v) in &self.0 {
            f.str(k.as_str());
            f.str(v.as_str());
        }
    }
    fn matches(&self, v: &Labels) -> bool {
        self.0.len() == v.len() && self.0.iter().zip(v).all(|((a, b), (c, d))| a.as_str() == c && b.as_str() == d)
    }
    fn build(&self) -> Labels {
        Pairs::build(self)
    }
}

impl Fields for OwnerRef {
    fn feed(&self, f: &mut Feed) {
        f.str(&self.kind);
        f.str(&self.name);
        f.int(self.controller as i64);
    }
}

impl WireOf<OwnerRef> for OwnerWire<'_> {
    fn feed(&self, f: &mut Feed) {
        f.str(self.kind.as_str());
        f.str(self.name.as_str());
        f.int(self.controller as i64);
    }
    fn matches(&self, v: &OwnerRef) -> bool {
        self.kind.as_str() == v.kind && self.name.as_str() == v.name && self.controller == v.controller
    }
    fn build(&self) -> OwnerRef {
        OwnerRef { kind: self.kind.owned(), name: self.name.owned(), controller: self.controller }
    }
}

impl Fields for Container {
    fn feed(&self, f: &mut Feed) {
        f.str(&self.name);
        f.opt(self.image.as_deref());
        f.opt(self.restart_policy.as_deref());
    }
}

impl WireOf<Container> for ContainerWire<'_> {
    fn feed(&self, f: &mut Feed) {
        f.str(self.name.as_str());
        f.opt(self.image.as_ref().map(Str::as_str));
        f.opt(self.restart_policy.as_ref().map(Str::as_str));
    }
    fn matches(&self, v: &Container) -> bool {
        self.name.as_str() == v.name
            && self.image.as_ref().map(Str::as_str) == v.image.as_deref()
            && self.restart_policy.as_ref().map(Str::as_str) == v.restart_policy.as_deref()
    }
    fn build(&self) -> Container {
        Container { name: self.name.owned(), image: opt(&self.image), restart_policy: opt(&self.restart_policy) }
    }
}

impl Fields for Condition {
    fn feed(&self, f: &mut Feed) {
        f.str(&self.type_);
        f.str(&self.status);
    }
}

impl WireOf<Condition> for ConditionWire<'_> {
    fn feed(&self, f: &mut Feed) {
        f.str(self.type_.as_str());
        f.str(self.status.as_str());
    }
    fn matches(&self, v: &Condition) -> bool {
        self.type_.as_str() == v.type_ && self.status.as_str() == v.status
    }
    fn build(&self) -> Condition {
        Condition { type_: self.type_.owned(), status: self.status.owned() }
    }
}

impl Fields for ContainerStatus {
    fn feed(&self, f: &mut Feed) {
        f.str(&self.name);
        f.int(self.ready as i64);
        f.int(self.restart_count);
        f.opt(self.image.as_deref());
    }
}

impl WireOf<ContainerStatus> for ContainerStatusWire<'_> {
    fn feed(&self, f: &mut Feed) {
        f.str(self.name.as_str());
        f.int(self.ready as i64);
        f.int(self.restart_count);
        f.opt(self.image.as_ref().map(Str::as_str));
    }
    fn matches(&self, v: &ContainerStatus) -> bool {
        self.name.as_str() == v.name
            && self.ready == v.ready
            && self.restart_count == v.restart_count
            && self.image.as_ref().map(Str::as_str) == v.image.as_deref()
    }
    fn build(&self) -> ContainerStatus {
        ContainerStatus {
            name: self.name.owned(),
            ready: self.ready,
            restart_count: self.restart_count,
            image: opt(&self.image),
        }
    }
}
