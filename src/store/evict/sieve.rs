//! `sieve`: a FIFO queue with a moving hand and one visited bit per key.
//!
//! Zhang, Yang, Yue, Vigfusson, Rashmi, "SIEVE is simpler than LRU: an
//! efficient turn-key eviction algorithm for web caches", NSDI 2024; as
//! libCacheSim's `Sieve.c`:
//!
//! ```text
//! insert k:  push at the head (newest), visited = 0
//! read k:    visited = 1
//! evict:     from the hand (or the tail, oldest, when the hand is unset),
//!            walk towards the head clearing visited bits, wrapping to the
//!            tail; evict the first unvisited key; the hand stays at its
//!            newer neighbour
//! ```
//!
//! Unlike CLOCK, survivors are not moved: new keys stay near the head, so
//! one-hit wonders are evicted quickly (lazy promotion, quick demotion).

use super::list::{Links, List, NONE};
use super::{ReferencePolicy, Registration};

/// The registry entry.
pub const REGISTRATION: Registration = Registration {
    name: "sieve",
    needs_future: false,
    make: |_| Box::new(Sieve::default()),
};

/// SIEVE over slots. The list runs from the oldest key (front) to the
/// newest (back); the hand moves from front to back.
#[derive(Clone, Debug)]
pub struct Sieve {
    links: Links,
    list: List,
    visited: Vec<bool>,
    /// The next key the hand examines; [`NONE`]: start at the oldest.
    hand: u32,
}

impl Default for Sieve {
    fn default() -> Self {
        Sieve {
            links: Links::default(),
            list: List::new(1),
            visited: Vec::new(),
            hand: NONE,
        }
    }
}

impl ReferencePolicy for Sieve {
    fn name(&self) -> &'static str {
        REGISTRATION.name
    }
    fn insert(&mut self, slot: u32, _key: u64, _size: u64) {
        self.remove(slot);
        let need = slot as usize + 1;
        if self.visited.len() < need {
            let n = need.max(self.visited.len() * 2).max(64);
            self.visited.resize(n, false);
        }
        self.visited[slot as usize] = false;
        self.list.push_back(&mut self.links, slot);
    }
    fn access(&mut self, slot: u32) {
        if self.list.contains(&self.links, slot) {
            self.visited[slot as usize] = true;
        }
    }
    fn remove(&mut self, slot: u32) {
        if !self.list.contains(&self.links, slot) {
            return;
        }
        if self.hand == slot {
            self.hand = self.links.next(slot);
        }
        self.list.unlink(&mut self.links, slot);
    }
    fn evict(&mut self) -> Option<u32> {
        let oldest = self.list.front()?;
        let mut t = if self.hand == NONE { oldest } else { self.hand };
        while self.visited[t as usize] {
            self.visited[t as usize] = false;
            t = match self.links.next(t) {
                NONE => self.list.front()?,
                n => n,
            };
        }
        self.hand = self.links.next(t);
        self.list.unlink(&mut self.links, t);
        Some(t)
    }
    fn clear(&mut self) {
        self.links.clear();
        self.list.reset();
        self.hand = NONE;
    }
    fn len(&self) -> usize {
        self.list.len()
    }
    fn overhead_bytes(&self) -> u64 {
        self.links.bytes() + self.visited.capacity() as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_hand_skips_visited_keys_and_keeps_its_place() {
        let mut p = Sieve::default();
        // Oldest → newest: 0 1 2 3.
        for s in 0..4 {
            p.insert(s, s as u64, 1);
        }
        p.access(0);
        p.access(2);
        // Hand from the oldest: 0 visited (cleared), 1 evicted; hand at 2.
        assert_eq!(p.evict(), Some(1));
        p.insert(4, 4, 1); // newest
                           // 2 visited (cleared), 3 evicted; hand at 4.
        assert_eq!(p.evict(), Some(3));
        p.access(4);
        // 4 visited (cleared) → wrap to 0 (cleared before) → evict 0.
        assert_eq!(p.evict(), Some(0));
        // Hand at 2 (0's newer neighbour), unvisited now.
        assert_eq!(p.evict(), Some(2));
        assert_eq!(p.evict(), Some(4));
        assert_eq!(p.evict(), None);
    }

    #[test]
    fn removing_the_key_under_the_hand_moves_the_hand_on() {
        let mut p = Sieve::default();
        for s in 0..3 {
            p.insert(s, s as u64, 1);
        }
        assert_eq!(p.evict(), Some(0)); // hand at 1
        p.access(2);
        p.remove(1); // hand at 2
        assert_eq!(
            p.evict(),
            Some(2),
            "visited once: cleared, wrapped to, evicted"
        );
        assert_eq!(p.len(), 0);
    }
}
