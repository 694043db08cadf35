//! Recognising a delivery the sender sends again. Alertmanager re-sends every alert group at each
//! `group_interval` and `repeat_interval`, byte for byte, and in a storm those repeats are most of
//! the traffic. A delivery whose body matches one already applied, and whose alerts have not
//! changed since (the store checks their revisions), only moves `last_seen`: the same outcome as
//! applying it in full, without parsing and routing it again.

use std::collections::{HashMap, VecDeque};
use std::hash::{BuildHasher, RandomState};

use stopline_store::Receipt;

/// Deliveries remembered; the oldest is forgotten first.
pub const CAPACITY: usize = 64;
/// Larger deliveries are not remembered (each costs 16 bytes per alert).
pub const MAX_ALERTS: usize = 50_000;

/// Identifies a body: its source, its length, and a keyed hash. The key is random per process, so
/// a sender cannot construct a different body with the same hash.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct BodyKey {
    source: String,
    length: usize,
    digest: u64,
}

/// What applying a remembered delivery did.
#[derive(Debug, Clone)]
pub struct Remembered {
    pub receipt: Receipt,
    /// It contained the heartbeat alert.
    pub heartbeat: bool,
}

#[derive(Debug, Default)]
pub struct ReplayCache {
    hasher: RandomState,
    entries: HashMap<BodyKey, Remembered>,
    order: VecDeque<BodyKey>,
}

impl ReplayCache {
    pub fn key(&self, source: &str, body: &[u8]) -> BodyKey {
        BodyKey {
            source: source.to_owned(),
            length: body.len(),
            digest: self.hasher.hash_one(body),
        }
    }

    pub fn get(&self, key: &BodyKey) -> Option<Remembered> {
        self.entries.get(key).cloned()
    }

    pub fn remember(&mut self, key: BodyKey, remembered: Remembered) {
        if remembered.receipt.len() > MAX_ALERTS {
            return;
        }
        if self.entries.insert(key.clone(), remembered).is_none() {
            self.order.push_back(key);
        }
        while self.order.len() > CAPACITY {
            if let Some(oldest) = self.order.pop_front() {
                self.entries.remove(&oldest);
            }
        }
    }

    pub fn forget(&mut self, key: &BodyKey) {
        if self.entries.remove(key).is_some() {
            self.order.retain(|k| k != key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn remembered() -> Remembered {
        Remembered {
            receipt: Receipt::default(),
            heartbeat: false,
        }
    }

    #[test]
    fn bodies_are_told_apart_by_source_and_content() {
        let cache = ReplayCache::default();
        assert_eq!(cache.key("am", b"{}"), cache.key("am", b"{}"));
        assert_ne!(cache.key("am", b"{}"), cache.key("grafana", b"{}"));
        assert_ne!(cache.key("am", b"{\"a\":1}"), cache.key("am", b"{\"a\":2}"));
    }

    #[test]
    fn the_oldest_is_forgotten_first() {
        let mut cache = ReplayCache::default();
        let keys: Vec<BodyKey> = (0..=CAPACITY)
            .map(|i| cache.key("am", i.to_string().as_bytes()))
            .collect();
        for key in &keys {
            cache.remember(key.clone(), remembered());
        }
        assert!(cache.get(&keys[0]).is_none());
        assert!(cache.get(&keys[CAPACITY]).is_some());
        cache.forget(&keys[CAPACITY]);
        assert!(cache.get(&keys[CAPACITY]).is_none());
    }
}
