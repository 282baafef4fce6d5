//! `arc`: Adaptive Replacement Cache.
//!
//! Megiddo, Modha, "ARC: a self-tuning, low overhead replacement cache",
//! FAST 2003. Two LRU lists of resident keys, T1 (seen once recently) and T2
//! (seen at least twice), each with a ghost list of evicted ids, B1 and B2;
//! the target size `p` of T1 adapts: a hit in B1 grows it by
//! `max(|B2|/|B1|, 1)`, a hit in B2 shrinks it by `max(|B1|/|B2|, 1)`.
//! REPLACE evicts T1's LRU key into B1 when `|T1| > p` (or `|T1| = p` and the
//! request hit B2, or T2 is empty), else T2's LRU key into B2.
//!
//! Sizes are bytes, as in libCacheSim's `ARC.c`, which this follows line by
//! line (`_ARC_replace`, `_ARC_evict_miss_on_all_queues`): `|X|` is the sum of
//! the sizes on X and `p` is a byte count adapted by the ratio above, the
//! paper's case IV trims B1 when `|T1| + |B1| + incoming > c` (or evicts T1's
//! LRU without a ghost when B1 is empty), and trims B2 when the four lists
//! reach `2c`. The ghost lookup happens when a new key is about to be
//! written ([`ReferencePolicy::prepare`]), before room is made for it, as
//! libCacheSim's `ARC_find` does on the miss. Ghost lists are simulator
//! memory, not Redis memory.

use super::list::{Ghost, Links, List};
use super::{PolicyParams, ReferencePolicy, Registration};

/// The registry entry.
pub const REGISTRATION: Registration = Registration {
    name: "arc",
    needs_future: false,
    make: |p| Box::new(Arc::new(p)),
};

const T1: u8 = 1;
const T2: u8 = 2;

/// ARC over slots.
#[derive(Clone, Debug)]
pub struct Arc {
    links: Links,
    t1: List,
    t2: List,
    b1: Ghost,
    b2: Ghost,
    size: Vec<u64>,
    key: Vec<u64>,
    t1_bytes: u64,
    t2_bytes: u64,
    /// Target bytes of T1.
    p: f64,
    cap: u64,
    /// The key being written was found in B1 / B2.
    in_b1: bool,
    in_b2: bool,
    /// Size of the key being written (0 when none is).
    incoming: u64,
}

impl Arc {
    /// An empty ARC for `params.capacity` bytes.
    pub fn new(params: &PolicyParams) -> Arc {
        Arc {
            links: Links::default(),
            t1: List::new(T1),
            t2: List::new(T2),
            b1: Ghost::new(),
            b2: Ghost::new(),
            size: Vec::new(),
            key: Vec::new(),
            t1_bytes: 0,
            t2_bytes: 0,
            p: 0.0,
            cap: params.capacity,
            in_b1: false,
            in_b2: false,
            incoming: 0,
        }
    }

    fn ensure(&mut self, slot: u32) {
        let need = slot as usize + 1;
        if self.size.len() < need {
            let n = need.max(self.size.len() * 2).max(64);
            self.size.resize(n, 0);
            self.key.resize(n, 0);
        }
    }

    fn evict_t1(&mut self, ghost: bool) -> Option<u32> {
        let t = self.t1.pop_front(&mut self.links)?;
        let i = t as usize;
        self.t1_bytes -= self.size[i];
        if ghost {
            self.b1.push_back(self.key[i], self.size[i]);
        }
        Some(t)
    }

    fn evict_t2(&mut self) -> Option<u32> {
        let t = self.t2.pop_front(&mut self.links)?;
        let i = t as usize;
        self.t2_bytes -= self.size[i];
        self.b2.push_back(self.key[i], self.size[i]);
        Some(t)
    }

    /// `_ARC_replace`.
    fn replace(&mut self) -> Option<u32> {
        let t1 = self.t1_bytes as f64;
        let c1 = self.t1_bytes > 0;
        let c2 = t1 > self.p;
        let c3 = t1 == self.p && self.in_b2;
        let c4 = self.t2_bytes == 0;
        if ((c1 && (c2 || c3)) || c4) && !self.t1.is_empty() {
            self.evict_t1(true)
        } else if !self.t2.is_empty() {
            self.evict_t2()
        } else {
            self.evict_t1(true)
        }
    }

    /// `_ARC_evict_miss_on_all_queues` (the paper's case IV).
    fn evict_miss(&mut self) -> Option<u32> {
        let l1 = self.t1_bytes + self.b1.bytes();
        if l1.saturating_add(self.incoming) > self.cap {
            if self.b1.bytes() > 0 {
                self.b1.pop_front();
                self.replace()
            } else if !self.t1.is_empty() {
                self.evict_t1(false)
            } else {
                self.replace()
            }
        } else {
            let total = l1 + self.t2_bytes + self.b2.bytes();
            if total >= self.cap.saturating_mul(2) && self.b2.bytes() > 0 {
                self.b2.pop_front();
            }
            self.replace()
        }
    }
}

/// libCacheSim's `MAX(ratio, 1)` (a NaN ratio gives 1, as the C macro does).
fn at_least_one(ratio: f64) -> f64 {
    if ratio > 1.0 {
        ratio
    } else {
        1.0
    }
}

impl ReferencePolicy for Arc {
    fn name(&self) -> &'static str {
        REGISTRATION.name
    }
    fn prepare(&mut self, key: u64, size: u64) -> super::Admission {
        self.in_b1 = false;
        self.in_b2 = false;
        let (b1, b2) = (self.b1.bytes() as f64, self.b2.bytes() as f64);
        if self.b1.contains(key) {
            self.in_b1 = true;
            self.p = (self.p + at_least_one(b2 / b1)).min(self.cap as f64);
            self.b1.remove(key);
        } else if self.b2.contains(key) {
            self.in_b2 = true;
            self.p = (self.p - at_least_one(b1 / b2)).max(0.0);
            self.b2.remove(key);
        }
        self.incoming = size;
        super::Admission::Insert
    }
    fn cancel(&mut self) {
        self.in_b1 = false;
        self.in_b2 = false;
        self.incoming = 0;
    }
    fn insert(&mut self, slot: u32, key: u64, size: u64) {
        self.remove(slot);
        self.ensure(slot);
        let i = slot as usize;
        self.size[i] = size;
        self.key[i] = key;
        if self.in_b1 || self.in_b2 {
            self.t2.push_back(&mut self.links, slot);
            self.t2_bytes += size;
        } else {
            self.t1.push_back(&mut self.links, slot);
            self.t1_bytes += size;
        }
        self.cancel();
    }
    fn access(&mut self, slot: u32) {
        let i = slot as usize;
        if self.t1.unlink(&mut self.links, slot) {
            self.t1_bytes -= self.size[i];
            self.t2.push_back(&mut self.links, slot);
            self.t2_bytes += self.size[i];
        } else {
            self.t2.move_to_back(&mut self.links, slot);
        }
    }
    fn resize(&mut self, slot: u32, size: u64) {
        let i = slot as usize;
        match self.links.owner(slot) {
            T1 => self.t1_bytes = self.t1_bytes - self.size[i] + size,
            T2 => self.t2_bytes = self.t2_bytes - self.size[i] + size,
            _ => return,
        }
        self.size[i] = size;
    }
    fn remove(&mut self, slot: u32) {
        let i = slot as usize;
        if self.t1.unlink(&mut self.links, slot) {
            self.t1_bytes -= self.size[i];
        } else if self.t2.unlink(&mut self.links, slot) {
            self.t2_bytes -= self.size[i];
        }
    }
    fn evict(&mut self) -> Option<u32> {
        if self.in_b1 || self.in_b2 {
            self.replace()
        } else {
            self.evict_miss()
        }
    }
    fn clear(&mut self) {
        self.links.clear();
        self.t1.reset();
        self.t2.reset();
        self.b1.clear();
        self.b2.clear();
        self.t1_bytes = 0;
        self.t2_bytes = 0;
        self.p = 0.0;
        self.cancel();
    }
    fn set_capacity(&mut self, bytes: u64) {
        self.cap = bytes;
        self.p = self.p.min(bytes as f64);
    }
    fn len(&self) -> usize {
        self.t1.len() + self.t2.len()
    }
    fn overhead_bytes(&self) -> u64 {
        self.links.bytes()
            + (self.size.capacity() * 16) as u64
            + self.b1.overhead_bytes()
            + self.b2.overhead_bytes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn arc(cap: u64) -> Arc {
        Arc::new(&PolicyParams {
            capacity: cap,
            seed: 0,
        })
    }

    fn put(p: &mut Arc, slot: u32, key: u64) {
        p.prepare(key, 1);
        p.insert(slot, key, 1);
    }

    #[test]
    fn recency_then_frequency_and_ghost_hits_adapt_p() {
        // Four unit-size keys fit.
        let mut p = arc(4);
        for s in 0..4 {
            put(&mut p, s, 10 + s as u64);
        }
        p.access(0); // 0 → T2
        assert_eq!(p.links.owner(0), T2);
        // Miss on key 14: |T1| + |B1| + 1 = 4 ≤ 4, so REPLACE: |T1| = 3 > p = 0
        // → T1's LRU (key 11, slot 1) goes to B1.
        p.prepare(14, 1);
        assert_eq!(p.evict(), Some(1));
        assert!(p.b1.contains(11));
        p.insert(1, 14, 1);
        // Key 11 again: a B1 hit grows p by max(|B2|/|B1|, 1) = 1 and the
        // key enters T2.
        p.prepare(11, 1);
        assert_eq!(p.p, 1.0);
        assert_eq!(p.evict(), Some(2), "|T1| = 3 > p: T1's LRU (key 12)");
        p.insert(2, 11, 1);
        assert_eq!(p.links.owner(2), T2);
        // A B1 hit on key 12 now: T1 = {13, 14} (2 B) > p = 2? no, equal and
        // the hit was in B1, not B2 → T2's LRU (key 10, slot 0) goes to B2.
        p.prepare(12, 1);
        assert_eq!(p.p, 2.0);
        assert_eq!(p.evict(), Some(0));
        assert!(p.b2.contains(10));
        p.insert(0, 12, 1);
        // A B2 hit shrinks p by max(|B1|/|B2|, 1).
        p.prepare(10, 1);
        assert_eq!(p.p, 1.0);
        p.cancel();
    }

    #[test]
    fn case_iv_drops_t1_without_a_ghost_when_b1_is_empty() {
        let mut p = arc(2);
        put(&mut p, 0, 10);
        put(&mut p, 1, 11);
        // |T1| + |B1| + 1 = 3 > 2 and B1 is empty: T1's LRU leaves, no ghost.
        p.prepare(12, 1);
        assert_eq!(p.evict(), Some(0));
        assert!(p.b1.is_empty());
    }
}
