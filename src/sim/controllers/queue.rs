//! The controllers' work queue: keys of objects to reconcile, coalesced so a burst of
//! events for one object becomes one reconcile, plus delayed re-adds for timers. It knows
//! nothing about what a key means.

use std::collections::{HashMap, HashSet, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;
use tokio::time::Instant;

/// What a controller reconciles.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum What {
    Deployment,
    ReplicaSet,
    StatefulSet,
    DaemonSet,
    Job,
    /// The kubelet's and scheduler's view of one pod.
    Pod,
    Pdb,
    Hpa,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    pub what: What,
    pub ns: String,
    pub name: String,
}

impl Key {
    pub fn new(what: What, ns: &str, name: &str) -> Key {
        Key { what, ns: ns.to_string(), name: name.to_string() }
    }
}

#[derive(Default)]
struct Inner {
    order: VecDeque<Key>,
    queued: HashSet<Key>,
    /// The earliest pending timer per key, so repeated requests do not pile up tasks.
    timers: HashMap<Key, Instant>,
}

#[derive(Default)]
pub struct Queue {
    inner: Mutex<Inner>,
    notify: Notify,
}

impl Queue {
    fn lock(&self) -> std::sync::MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn add(&self, key: Key) {
        let mut q = self.lock();
        if q.queued.insert(key.clone()) {
            q.order.push_back(key);
            drop(q);
            self.notify.notify_one();
        }
    }

    /// Adds `key` after `after`, unless a timer for it fires earlier already.
    pub fn add_after(self: &Arc<Self>, key: Key, after: Duration) {
        let at = Instant::now() + after;
        {
            let mut q = self.lock();
            if q.timers.get(&key).is_some_and(|t| *t <= at) {
                return;
            }
            q.timers.insert(key.clone(), at);
        }
        let me = self.clone();
        tokio::spawn(async move {
            tokio::time::sleep_until(at).await;
            let fire = {
                let mut q = me.lock();
                if q.timers.get(&key) == Some(&at) {
                    q.timers.remove(&key);
                    true
                } else {
                    false
                }
            };
            if fire {
                me.add(key);
            }
        });
    }

    /// The next key, waiting until there is one.
    pub async fn next(&self) -> Key {
        loop {
            let notified = self.notify.notified();
            {
                let mut q = self.lock();
                if let Some(k) = q.order.pop_front() {
                    q.queued.remove(&k);
                    return k;
                }
            }
            notified.await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn coalesces_repeated_keys_in_order() {
        let q = Queue::default();
        q.add(Key::new(What::Pod, "a", "1"));
        q.add(Key::new(What::Pod, "a", "2"));
        q.add(Key::new(What::Pod, "a", "1"));
        assert_eq!(q.next().await.name, "1");
        assert_eq!(q.next().await.name, "2");
        q.add(Key::new(What::Pod, "a", "1"));
        assert_eq!(q.next().await.name, "1");
    }

    #[tokio::test]
    async fn delayed_add_arrives() {
        let q = Arc::new(Queue::default());
        q.add_after(Key::new(What::Job, "a", "j"), Duration::from_millis(5));
        q.add_after(Key::new(What::Job, "a", "j"), Duration::from_millis(50));
        let k = tokio::time::timeout(Duration::from_secs(10), q.next()).await.expect("timer fired");
        assert_eq!(k.what, What::Job);
    }
}
