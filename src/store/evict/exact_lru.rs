//! `exact-lru`: true least-recently-used.
//!
//! Rule: every insert and access moves the key to the most-recent end of one
//! list; the victim is the key at the least-recent end. The classic policy
//! (e.g. Mattson et al., "Evaluation techniques for storage hierarchies",
//! IBM Systems Journal 1970); libCacheSim's `LRU.c` is the same list, and on
//! cloudPhysicsIO under the objects model this one reproduces its miss counts
//! exactly (tests/policy_cloudphysics.rs).

use super::list::{Links, List};
use super::{ReferencePolicy, Registration};

/// The registry entry.
pub const REGISTRATION: Registration = Registration {
    name: "exact-lru",
    needs_future: false,
    make: |_| Box::new(ExactLru::default()),
};

/// Exact LRU over slots.
#[derive(Clone, Debug)]
pub struct ExactLru {
    links: Links,
    list: List,
}

impl Default for ExactLru {
    fn default() -> Self {
        ExactLru {
            links: Links::default(),
            list: List::new(1),
        }
    }
}

impl ReferencePolicy for ExactLru {
    fn name(&self) -> &'static str {
        REGISTRATION.name
    }
    fn insert(&mut self, slot: u32, _key: u64, _size: u64) {
        self.list.push_back(&mut self.links, slot);
    }
    fn access(&mut self, slot: u32) {
        self.list.move_to_back(&mut self.links, slot);
    }
    fn remove(&mut self, slot: u32) {
        self.list.unlink(&mut self.links, slot);
    }
    fn prefetch(&self, slot: u32) {
        self.links.prefetch(slot);
    }
    fn prefetch_neighbours(&self, slot: u32) {
        self.links.prefetch_neighbours(slot);
    }
    fn next_victim(&self) -> Option<u32> {
        self.list.front()
    }
    fn evict(&mut self) -> Option<u32> {
        self.list.pop_front(&mut self.links)
    }
    fn clear(&mut self) {
        self.links.clear();
        self.list.reset();
    }
    fn len(&self) -> usize {
        self.list.len()
    }
    fn overhead_bytes(&self) -> u64 {
        self.links.bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_the_least_recently_used() {
        let mut p = ExactLru::default();
        for s in 0..4 {
            p.insert(s, 100 + s as u64, 1);
        }
        p.access(0);
        p.access(2);
        p.remove(1);
        // Order, least recent first: 3, 0, 2.
        assert_eq!(p.evict(), Some(3));
        assert_eq!(p.evict(), Some(0));
        p.insert(1, 7, 1);
        assert_eq!(p.evict(), Some(2));
        assert_eq!(p.evict(), Some(1));
        assert_eq!(p.evict(), None);
    }
}
