//! `lru-2`: LRU-K with K = 2.
//!
//! O'Neil, O'Neil, Weikum, "The LRU-K page replacement algorithm for
//! database disk buffering", SIGMOD 1993. Rule: the victim is the key whose
//! second-most-recent access is the oldest (largest backward 2-distance);
//! keys accessed only once since they were written have an infinite
//! distance and go first, least recently used first. Simplifications: no
//! correlated-reference period, and a key's history is forgotten when it
//! leaves (no retained-information period), so a re-written key starts
//! over.

use super::list::{Links, List};
use super::{ReferencePolicy, Registration};
use std::collections::BTreeSet;

/// The registry entry.
pub const REGISTRATION: Registration = Registration {
    name: "lru-2",
    needs_future: false,
    make: |_| Box::new(Lru2::default()),
};

/// LRU-2 over slots.
#[derive(Clone, Debug)]
pub struct Lru2 {
    /// Keys seen once, least recent first.
    links: Links,
    once: List,
    /// Keys seen at least twice, by (penultimate access, slot).
    twice: BTreeSet<(u64, u32)>,
    last: Vec<u64>,
    penultimate: Vec<u64>,
    clock: u64,
}

impl Default for Lru2 {
    fn default() -> Self {
        Lru2 {
            links: Links::default(),
            once: List::new(1),
            twice: BTreeSet::new(),
            last: Vec::new(),
            penultimate: Vec::new(),
            clock: 0,
        }
    }
}

/// `penultimate` of a key seen once.
const UNSEEN: u64 = 0;

impl Lru2 {
    fn tick(&mut self) -> u64 {
        self.clock += 1;
        self.clock
    }
}

impl ReferencePolicy for Lru2 {
    fn name(&self) -> &'static str {
        REGISTRATION.name
    }
    fn insert(&mut self, slot: u32, _key: u64, _size: u64) {
        self.remove(slot);
        let need = slot as usize + 1;
        if self.last.len() < need {
            let n = need.max(self.last.len() * 2).max(64);
            self.last.resize(n, 0);
            self.penultimate.resize(n, UNSEEN);
        }
        let now = self.tick();
        self.last[slot as usize] = now;
        self.penultimate[slot as usize] = UNSEEN;
        self.once.push_back(&mut self.links, slot);
    }
    fn access(&mut self, slot: u32) {
        let i = slot as usize;
        if self.once.unlink(&mut self.links, slot) {
        } else if !self
            .twice
            .remove(&(self.penultimate.get(i).copied().unwrap_or(UNSEEN), slot))
        {
            return;
        }
        let now = self.tick();
        self.penultimate[i] = self.last[i];
        self.last[i] = now;
        self.twice.insert((self.penultimate[i], slot));
    }
    fn remove(&mut self, slot: u32) {
        if !self.once.unlink(&mut self.links, slot) {
            if let Some(&p) = self.penultimate.get(slot as usize) {
                self.twice.remove(&(p, slot));
            }
        }
    }
    fn evict(&mut self) -> Option<u32> {
        if let Some(s) = self.once.pop_front(&mut self.links) {
            return Some(s);
        }
        self.twice.pop_first().map(|(_, s)| s)
    }
    fn clear(&mut self) {
        self.links.clear();
        self.once.reset();
        self.twice.clear();
    }
    fn len(&self) -> usize {
        self.once.len() + self.twice.len()
    }
    fn overhead_bytes(&self) -> u64 {
        self.links.bytes() + (self.last.capacity() * 16 + self.twice.len() * 24) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_seen_once_go_first_then_the_oldest_second_access() {
        let mut p = Lru2::default();
        for s in 0..4 {
            p.insert(s, s as u64, 1); // t = 1..4
        }
        p.access(0); // 0: penultimate 1
        p.access(2); // 2: penultimate 3
        p.access(0); // 0: penultimate 5
        p.access(3); // 3: penultimate 4
                     // Seen once: 1 only.
        assert_eq!(p.evict(), Some(1));
        // Then by penultimate access: 2 (3), 3 (4), 0 (5).
        assert_eq!(p.evict(), Some(2));
        p.remove(3);
        assert_eq!(p.evict(), Some(0));
        assert_eq!(p.evict(), None);
    }
}
