//! `belady`: Belady's MIN, the offline optimum for equal-sized objects.
//!
//! Rule: the victim is the key whose next request is farthest in the future
//! (keys never requested again first). Belady, "A study of replacement
//! algorithms for a virtual-storage computer", IBM Systems Journal 5(2),
//! 1966. The driver supplies each key's next use after every request
//! ([`Store::set_next_use`](crate::store::Store::set_next_use)); a key whose
//! next use has not been given counts as never used again.
//!
//! The order is a max-heap on the next use, a line-for-line port of the
//! libpqueue heap libCacheSim's `Belady.c` uses (`pqueue_insert`,
//! `pqueue_change_priority`, `pqueue_remove`, `pqueue_pop`): among keys with
//! the same next use (all the never-again keys) the heap's layout decides, so
//! the same heap gives the same victims and, on cloudPhysicsIO, exactly
//! libCacheSim's miss counts. libCacheSim files a new object under the next
//! use of the request that inserts it; here the store inserts first and the
//! driver's `set_next_use` follows, so a new slot is held back until its next
//! use arrives (or until anything else happens) and then inserted once.

use super::{ReferencePolicy, Registration};

/// The registry entry.
pub const REGISTRATION: Registration = Registration {
    name: "belady",
    needs_future: true,
    make: |_| Box::new(Belady::default()),
};

/// No next use known: never requested again.
const NEVER: u64 = u64::MAX;

/// Belady's MIN over slots.
#[derive(Clone, Debug)]
pub struct Belady {
    /// 1-based binary heap of slots (index 0 unused), as libpqueue.
    heap: Vec<u32>,
    /// Heap position per slot; 0 = not in the heap.
    pos: Vec<u32>,
    /// Next use per slot.
    pri: Vec<u64>,
    /// A slot inserted whose next use has not arrived yet.
    pending: Option<u32>,
}

impl Default for Belady {
    fn default() -> Self {
        Belady {
            heap: vec![u32::MAX],
            pos: Vec::new(),
            pri: Vec::new(),
            pending: None,
        }
    }
}

impl Belady {
    fn ensure(&mut self, slot: u32) {
        let need = slot as usize + 1;
        if self.pos.len() < need {
            let n = need.max(self.pos.len() * 2).max(64);
            self.pos.resize(n, 0);
            self.pri.resize(n, NEVER);
        }
    }

    /// libpqueue's `cmppri(next, curr)`: `next < curr` (a max-heap).
    #[inline]
    fn lower(&self, a: u64, b: u64) -> bool {
        a < b
    }

    #[inline]
    fn pri_at(&self, i: usize) -> u64 {
        self.pri[self.heap[i] as usize]
    }

    #[inline]
    fn set(&mut self, i: usize, slot: u32) {
        self.heap[i] = slot;
        self.pos[slot as usize] = i as u32;
    }

    fn bubble_up(&mut self, mut i: usize) {
        let moving = self.heap[i];
        let moving_pri = self.pri[moving as usize];
        let mut parent = i >> 1;
        while i > 1 && self.lower(self.pri_at(parent), moving_pri) {
            let p = self.heap[parent];
            self.set(i, p);
            i = parent;
            parent = i >> 1;
        }
        self.set(i, moving);
    }

    fn max_child(&self, i: usize) -> usize {
        let child = i << 1;
        if child >= self.heap.len() {
            return 0;
        }
        if child + 1 < self.heap.len() && self.lower(self.pri_at(child), self.pri_at(child + 1)) {
            child + 1
        } else {
            child
        }
    }

    fn percolate_down(&mut self, mut i: usize) {
        let moving = self.heap[i];
        let moving_pri = self.pri[moving as usize];
        loop {
            let child = self.max_child(i);
            if child == 0 || !self.lower(moving_pri, self.pri_at(child)) {
                break;
            }
            let c = self.heap[child];
            self.set(i, c);
            i = child;
        }
        self.set(i, moving);
    }

    /// `pqueue_insert`.
    fn heap_insert(&mut self, slot: u32, next: u64) {
        self.pri[slot as usize] = next;
        self.heap.push(slot);
        let i = self.heap.len() - 1;
        self.pos[slot as usize] = i as u32;
        self.bubble_up(i);
    }

    /// `pqueue_change_priority`.
    fn change(&mut self, slot: u32, next: u64) {
        let old = self.pri[slot as usize];
        self.pri[slot as usize] = next;
        let p = self.pos[slot as usize] as usize;
        if self.lower(old, next) {
            self.bubble_up(p);
        } else {
            self.percolate_down(p);
        }
    }

    /// `pqueue_remove`.
    fn heap_remove(&mut self, slot: u32) {
        let p = self.pos[slot as usize] as usize;
        let last = self.heap.pop().unwrap_or(slot);
        self.pos[slot as usize] = 0;
        if p < self.heap.len() {
            self.set(p, last);
            if self.lower(self.pri[slot as usize], self.pri[last as usize]) {
                self.bubble_up(p);
            } else {
                self.percolate_down(p);
            }
        }
    }

    /// `pqueue_pop`.
    fn pop(&mut self) -> Option<u32> {
        if self.heap.len() <= 1 {
            return None;
        }
        let top = self.heap[1];
        let last = self.heap.pop().unwrap_or(top);
        self.pos[top as usize] = 0;
        if self.heap.len() > 1 {
            self.set(1, last);
            self.percolate_down(1);
        }
        Some(top)
    }

    fn in_heap(&self, slot: u32) -> bool {
        self.pos.get(slot as usize).is_some_and(|&p| p != 0)
    }

    /// Files a held-back slot as never used again.
    fn flush(&mut self) {
        if let Some(s) = self.pending.take() {
            self.heap_insert(s, NEVER);
        }
    }
}

impl ReferencePolicy for Belady {
    fn name(&self) -> &'static str {
        REGISTRATION.name
    }
    fn insert(&mut self, slot: u32, _key: u64, _size: u64) {
        self.flush();
        self.ensure(slot);
        if self.in_heap(slot) {
            self.heap_remove(slot);
        }
        self.pending = Some(slot);
    }
    fn access(&mut self, _slot: u32) {}
    fn remove(&mut self, slot: u32) {
        if self.pending == Some(slot) {
            self.pending = None;
        } else if self.in_heap(slot) {
            self.heap_remove(slot);
        }
    }
    fn evict(&mut self) -> Option<u32> {
        self.flush();
        self.pop()
    }
    fn clear(&mut self) {
        self.pending = None;
        for &s in &self.heap[1..] {
            self.pos[s as usize] = 0;
        }
        self.heap.truncate(1);
    }
    fn needs_future(&self) -> bool {
        true
    }
    fn set_next_use(&mut self, slot: u32, next: u64) {
        if self.pending == Some(slot) {
            self.pending = None;
            self.heap_insert(slot, next);
        } else if self.in_heap(slot) {
            self.change(slot, next);
        }
    }
    fn len(&self) -> usize {
        self.heap.len() - 1 + self.pending.is_some() as usize
    }
    fn overhead_bytes(&self) -> u64 {
        (self.heap.capacity() * 4 + self.pos.capacity() * 12) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn filed(p: &mut Belady, slot: u32, next: u64) {
        p.insert(slot, slot as u64, 1);
        p.set_next_use(slot, next);
    }

    #[test]
    fn evicts_the_farthest_next_use_and_never_used_keys_first() {
        let mut p = Belady::default();
        filed(&mut p, 0, 10);
        filed(&mut p, 1, 30);
        filed(&mut p, 2, 20);
        p.insert(3, 3, 1); // next use never given: never again
        assert_eq!(p.evict(), Some(3));
        assert_eq!(p.evict(), Some(1));
        p.set_next_use(0, 40); // key 0 was requested; next at 40
        assert_eq!(p.evict(), Some(0));
        p.remove(2);
        assert_eq!(p.evict(), None);
        assert_eq!(p.len(), 0);
    }

    #[test]
    fn the_heap_stays_a_heap_under_changes_and_removals() {
        let mut p = Belady::default();
        let mut x: u64 = 7;
        for s in 0..200u32 {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            filed(&mut p, s, x >> 54);
        }
        for s in (0..200u32).step_by(3) {
            p.remove(s);
        }
        for s in (1..200u32).step_by(3) {
            x = x
                .wrapping_mul(6364136223846793005)
                .wrapping_add(1442695040888963407);
            p.set_next_use(s, x >> 54);
        }
        let mut last = u64::MAX;
        while let Some(s) = p.evict() {
            let pri = p.pri[s as usize];
            assert!(pri <= last, "popped {pri} after {last}");
            last = pri;
        }
    }
}
