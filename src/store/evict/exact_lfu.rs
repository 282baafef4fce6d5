//! `exact-lfu`: true least-frequently-used.
//!
//! Rule: each key counts its accesses since it was written (1 at the write);
//! the victim is the key with the smallest count, the least recently counted
//! among equals. Classic "perfect LFU" without aging (see e.g. Breslau et
//! al., "Web caching and Zipf-like distributions", INFOCOM 1999, for
//! perfect vs in-cache LFU: this is in-cache LFU, a key's count is lost when
//! it leaves).
//!
//! A lazy min-heap of `(count, version, slot)`: an access pushes a new entry
//! and bumps the slot's version, so older entries are recognised as stale
//! when they surface; the heap is compacted when stale entries dominate.

use super::{ReferencePolicy, Registration};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// The registry entry.
pub const REGISTRATION: Registration = Registration {
    name: "exact-lfu",
    needs_future: false,
    make: |_| Box::new(ExactLfu::default()),
};

/// Exact in-cache LFU over slots.
#[derive(Clone, Debug, Default)]
pub struct ExactLfu {
    count: Vec<u64>,
    /// Version of the slot's live heap entry; 0 = not tracked.
    version: Vec<u64>,
    heap: BinaryHeap<Reverse<(u64, u64, u32)>>,
    seq: u64,
    live: usize,
}

impl ExactLfu {
    fn ensure(&mut self, slot: u32) {
        let need = slot as usize + 1;
        if self.count.len() < need {
            let n = need.max(self.count.len() * 2).max(64);
            self.count.resize(n, 0);
            self.version.resize(n, 0);
        }
    }

    fn push(&mut self, slot: u32) {
        self.seq += 1;
        self.version[slot as usize] = self.seq;
        self.heap
            .push(Reverse((self.count[slot as usize], self.seq, slot)));
        if self.heap.len() > 4 * self.live + 1024 {
            let (count, version) = (&self.count, &self.version);
            let live: Vec<_> = self
                .heap
                .drain()
                .filter(|Reverse((c, v, i))| version[*i as usize] == *v && count[*i as usize] == *c)
                .collect();
            self.heap.extend(live);
        }
    }

    fn tracked(&self, slot: u32) -> bool {
        self.version.get(slot as usize).is_some_and(|&v| v != 0)
    }
}

impl ReferencePolicy for ExactLfu {
    fn name(&self) -> &'static str {
        REGISTRATION.name
    }
    fn insert(&mut self, slot: u32, _key: u64, _size: u64) {
        self.ensure(slot);
        if !self.tracked(slot) {
            self.live += 1;
        }
        self.count[slot as usize] = 1;
        self.push(slot);
    }
    fn access(&mut self, slot: u32) {
        if self.tracked(slot) {
            self.count[slot as usize] += 1;
            self.push(slot);
        }
    }
    fn remove(&mut self, slot: u32) {
        if self.tracked(slot) {
            // The heap entry goes stale: its version no longer matches.
            self.version[slot as usize] = 0;
            self.live -= 1;
        }
    }
    fn evict(&mut self) -> Option<u32> {
        loop {
            let Reverse((c, v, slot)) = self.heap.pop()?;
            let i = slot as usize;
            if self.version[i] == v && self.count[i] == c {
                self.version[i] = 0;
                self.live -= 1;
                return Some(slot);
            }
        }
    }
    fn clear(&mut self) {
        self.heap.clear();
        self.version.iter_mut().for_each(|v| *v = 0);
        self.live = 0;
    }
    fn len(&self) -> usize {
        self.live
    }
    fn overhead_bytes(&self) -> u64 {
        (self.count.capacity() * 16 + self.heap.capacity() * 24) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn evicts_the_least_frequent_then_the_least_recent() {
        let mut p = ExactLfu::default();
        for s in 0..4 {
            p.insert(s, s as u64, 1);
        }
        p.access(0);
        p.access(0);
        p.access(1);
        p.access(3);
        // Counts: 0→3, 1→2, 2→1, 3→2 (3 counted after 1).
        assert_eq!(p.evict(), Some(2));
        assert_eq!(p.evict(), Some(1));
        p.remove(3);
        assert_eq!(p.len(), 1);
        assert_eq!(p.evict(), Some(0));
        assert_eq!(p.evict(), None);
    }
}
