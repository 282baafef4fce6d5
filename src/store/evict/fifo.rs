//! `fifo`: first in, first out.
//!
//! Rule: keys queue in the order they were written; an access changes
//! nothing; the victim is the oldest written key. The baseline of every
//! eviction study (Belady, "A study of replacement algorithms for a
//! virtual-storage computer", IBM Systems Journal 1966); libCacheSim's
//! `FIFO.c` is the same queue and this one reproduces its cloudPhysicsIO miss
//! counts exactly.

use super::list::{Links, List};
use super::{ReferencePolicy, Registration};

/// The registry entry.
pub const REGISTRATION: Registration = Registration {
    name: "fifo",
    needs_future: false,
    make: |_| Box::new(Fifo::default()),
};

/// FIFO over slots.
#[derive(Clone, Debug)]
pub struct Fifo {
    links: Links,
    list: List,
}

impl Default for Fifo {
    fn default() -> Self {
        Fifo {
            links: Links::default(),
            list: List::new(1),
        }
    }
}

impl ReferencePolicy for Fifo {
    fn name(&self) -> &'static str {
        REGISTRATION.name
    }
    fn insert(&mut self, slot: u32, _key: u64, _size: u64) {
        self.list.push_back(&mut self.links, slot);
    }
    fn access(&mut self, _slot: u32) {}
    fn remove(&mut self, slot: u32) {
        self.list.unlink(&mut self.links, slot);
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
    fn evicts_in_write_order_whatever_the_accesses() {
        let mut p = Fifo::default();
        for s in 0..3 {
            p.insert(s, s as u64, 1);
        }
        p.access(0);
        p.access(0);
        assert_eq!(p.evict(), Some(0));
        p.remove(2);
        assert_eq!(p.evict(), Some(1));
        assert_eq!(p.evict(), None);
    }
}
