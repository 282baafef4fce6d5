//! The data structures the reference policies share: doubly linked lists
//! threaded through the store's dense slot ids (no allocation per operation,
//! as quick-cache's `linked_slab`), and ghost lists of evicted key ids.
//!
//! A [`Links`] holds the `prev`/`next` arrays and, per slot, which of the
//! policy's lists it is on (0: none), so several [`List`]s (S3-FIFO's small
//! and main queues, ARC's T1 and T2) share one set of arrays and an unlink
//! never touches a list the slot is not on. Each list runs from its *front*
//! (oldest, the eviction end) to its *back* (newest).
//!
//! Ghost entries outlive their slot (the store reuses a freed slot for
//! another key), so a [`Ghost`] is keyed by key id.

use rustc_hash::FxHashMap;

/// No slot.
pub const NONE: u32 = u32::MAX;

/// One slot's place: its neighbours and the list it is on (0: none), kept
/// together so an unlink touches one cache line per slot, not three.
#[derive(Clone, Copy, Debug)]
struct Node {
    prev: u32,
    next: u32,
    owner: u8,
}

const UNLINKED: Node = Node {
    prev: NONE,
    next: NONE,
    owner: 0,
};

/// Per-slot links and list membership, shared by a policy's lists.
#[derive(Clone, Debug, Default)]
pub struct Links {
    nodes: Vec<Node>,
}

impl Links {
    /// Makes room for `slot`.
    #[inline]
    pub fn ensure(&mut self, slot: u32) {
        let need = slot as usize + 1;
        if self.nodes.len() < need {
            let n = need.max(self.nodes.len() * 2).max(64);
            self.nodes.resize(n, UNLINKED);
        }
    }

    /// Hints the CPU to load `slot`'s node.
    #[inline]
    pub fn prefetch(&self, slot: u32) {
        if let Some(n) = self.nodes.get(slot as usize) {
            crate::store::prefetch::prefetch(n);
        }
    }

    /// Hints the CPU to load the nodes before and after `slot`'s (reading
    /// its node).
    #[inline]
    pub fn prefetch_neighbours(&self, slot: u32) {
        if let Some(n) = self.nodes.get(slot as usize) {
            for s in [n.prev, n.next] {
                if let Some(m) = self.nodes.get(s as usize) {
                    crate::store::prefetch::prefetch(m);
                }
            }
        }
    }

    /// The list id `slot` is on (0: none).
    #[inline]
    pub fn owner(&self, slot: u32) -> u8 {
        self.nodes.get(slot as usize).map_or(0, |n| n.owner)
    }

    /// The slot after `slot` (towards the back), or [`NONE`].
    #[inline]
    pub fn next(&self, slot: u32) -> u32 {
        self.nodes.get(slot as usize).map_or(NONE, |n| n.next)
    }

    /// Forgets every membership (the lists must be reset too).
    pub fn clear(&mut self) {
        self.nodes.iter_mut().for_each(|n| n.owner = 0);
    }

    /// Bytes of the arrays.
    pub fn bytes(&self) -> u64 {
        (self.nodes.capacity() * std::mem::size_of::<Node>()) as u64
    }
}

/// One list over [`Links`], identified by a non-zero id.
#[derive(Clone, Copy, Debug)]
pub struct List {
    id: u8,
    head: u32,
    tail: u32,
    len: usize,
}

impl List {
    /// An empty list with id `id` (1..=255).
    pub const fn new(id: u8) -> List {
        List {
            id,
            head: NONE,
            tail: NONE,
            len: 0,
        }
    }

    /// Number of slots on the list.
    #[inline]
    pub fn len(&self) -> usize {
        self.len
    }

    /// True when the list is empty.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The oldest slot.
    #[inline]
    pub fn front(&self) -> Option<u32> {
        (self.head != NONE).then_some(self.head)
    }

    /// True if `slot` is on this list.
    #[inline]
    pub fn contains(&self, links: &Links, slot: u32) -> bool {
        links.owner(slot) == self.id
    }

    /// Appends `slot` at the back (newest). A slot already on a list is
    /// unlinked from it first only if it is this list; on another list it is
    /// left alone and false is returned.
    #[inline(always)]
    pub fn push_back(&mut self, links: &mut Links, slot: u32) -> bool {
        links.ensure(slot);
        match links.owner(slot) {
            0 => {}
            o if o == self.id => {
                self.unlink(links, slot);
            }
            _ => return false,
        }
        links.nodes[slot as usize] = Node {
            prev: self.tail,
            next: NONE,
            owner: self.id,
        };
        if self.tail != NONE {
            links.nodes[self.tail as usize].next = slot;
        } else {
            self.head = slot;
        }
        self.tail = slot;
        self.len += 1;
        true
    }

    /// Removes `slot` if it is on this list; returns whether it was.
    #[inline]
    pub fn unlink(&mut self, links: &mut Links, slot: u32) -> bool {
        if links.owner(slot) != self.id {
            return false;
        }
        let Node {
            prev: p, next: n, ..
        } = links.nodes[slot as usize];
        if p != NONE {
            links.nodes[p as usize].next = n;
        } else {
            self.head = n;
        }
        if n != NONE {
            links.nodes[n as usize].prev = p;
        } else {
            self.tail = p;
        }
        links.nodes[slot as usize] = UNLINKED;
        self.len -= 1;
        true
    }

    /// Moves `slot` to the back if it is on this list (a hit's whole work
    /// in an LRU list, so done in place: one read of its node and a write
    /// to each neighbour, nothing when it is the back already).
    #[inline]
    pub fn move_to_back(&mut self, links: &mut Links, slot: u32) {
        let Some(node) = links.nodes.get(slot as usize).copied() else {
            return;
        };
        if node.owner != self.id || self.tail == slot {
            return;
        }
        // Not the back, so it has a next; the list's back is another slot.
        if node.prev != NONE {
            links.nodes[node.prev as usize].next = node.next;
        } else {
            self.head = node.next;
        }
        links.nodes[node.next as usize].prev = node.prev;
        links.nodes[self.tail as usize].next = slot;
        links.nodes[slot as usize] = Node {
            prev: self.tail,
            next: NONE,
            owner: self.id,
        };
        self.tail = slot;
    }

    /// Removes and returns the oldest slot.
    #[inline]
    pub fn pop_front(&mut self, links: &mut Links) -> Option<u32> {
        let s = self.front()?;
        self.unlink(links, s);
        Some(s)
    }

    /// Empties the list (call [`Links::clear`] too, or unlink each slot).
    pub fn reset(&mut self) {
        *self = List::new(self.id);
    }
}

#[derive(Clone, Copy, Debug)]
struct GhostNode {
    key: u64,
    size: u64,
    prev: u32,
    next: u32,
}

/// A FIFO of evicted key ids with their sizes (what S3-FIFO's ghost queue
/// and ARC's B1/B2 remember), found by key id.
#[derive(Clone, Debug, Default)]
pub struct Ghost {
    map: FxHashMap<u64, u32>,
    nodes: Vec<GhostNode>,
    free: Vec<u32>,
    head: u32,
    tail: u32,
    bytes: u64,
}

impl Ghost {
    /// An empty ghost list.
    pub fn new() -> Ghost {
        Ghost {
            head: NONE,
            tail: NONE,
            ..Ghost::default()
        }
    }

    /// Entries remembered.
    pub fn len(&self) -> usize {
        self.map.len()
    }

    /// True when nothing is remembered.
    pub fn is_empty(&self) -> bool {
        self.map.is_empty()
    }

    /// Sum of the remembered sizes.
    #[inline]
    pub fn bytes(&self) -> u64 {
        self.bytes
    }

    /// True if `key` is remembered.
    #[inline]
    pub fn contains(&self, key: u64) -> bool {
        !self.map.is_empty() && self.map.contains_key(&key)
    }

    /// Appends `key` at the back (newest); a key already remembered is moved.
    pub fn push_back(&mut self, key: u64, size: u64) {
        self.remove(key);
        let node = GhostNode {
            key,
            size,
            prev: self.tail,
            next: NONE,
        };
        let id = match self.free.pop() {
            Some(id) => {
                self.nodes[id as usize] = node;
                id
            }
            None => {
                self.nodes.push(node);
                (self.nodes.len() - 1) as u32
            }
        };
        if self.tail != NONE {
            self.nodes[self.tail as usize].next = id;
        } else {
            self.head = id;
        }
        self.tail = id;
        self.bytes += size;
        self.map.insert(key, id);
    }

    fn unlink(&mut self, id: u32) -> GhostNode {
        let n = self.nodes[id as usize];
        if n.prev != NONE {
            self.nodes[n.prev as usize].next = n.next;
        } else {
            self.head = n.next;
        }
        if n.next != NONE {
            self.nodes[n.next as usize].prev = n.prev;
        } else {
            self.tail = n.prev;
        }
        self.bytes -= n.size;
        self.free.push(id);
        n
    }

    /// Forgets `key`; returns its size if it was remembered.
    #[inline]
    pub fn remove(&mut self, key: u64) -> Option<u64> {
        if self.map.is_empty() {
            return None;
        }
        let id = self.map.remove(&key)?;
        Some(self.unlink(id).size)
    }

    /// Forgets the oldest entry; returns it.
    pub fn pop_front(&mut self) -> Option<(u64, u64)> {
        if self.head == NONE {
            return None;
        }
        let n = self.unlink(self.head);
        self.map.remove(&n.key);
        Some((n.key, n.size))
    }

    /// Forgets everything.
    pub fn clear(&mut self) {
        *self = Ghost::new();
    }

    /// Simulator memory held (entries and index), not Redis memory.
    pub fn overhead_bytes(&self) -> u64 {
        (self.nodes.capacity() * std::mem::size_of::<GhostNode>()
            + self.free.capacity() * 4
            + self.map.capacity() * 16) as u64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_share_links_and_keep_order() {
        let mut links = Links::default();
        let mut a = List::new(1);
        let mut b = List::new(2);
        for s in [3, 1, 2] {
            a.push_back(&mut links, s);
        }
        assert!(!b.push_back(&mut links, 1), "1 is on list a");
        assert!(!b.unlink(&mut links, 1));
        a.move_to_back(&mut links, 3);
        assert_eq!(a.pop_front(&mut links), Some(1));
        assert!(b.push_back(&mut links, 1));
        assert_eq!(a.pop_front(&mut links), Some(2));
        assert_eq!(a.pop_front(&mut links), Some(3));
        assert_eq!(a.pop_front(&mut links), None);
        assert_eq!((b.len(), b.front()), (1, Some(1)));
    }

    /// The list front to back, checking every back link on the way.
    fn walk(list: &List, links: &Links) -> Vec<u32> {
        let mut out = Vec::new();
        let (mut prev, mut at) = (NONE, list.head);
        while at != NONE {
            let n = links.nodes[at as usize];
            assert_eq!((n.prev, n.owner), (prev, list.id), "slot {at}");
            out.push(at);
            (prev, at) = (at, n.next);
        }
        assert_eq!((list.tail, list.len()), (prev, out.len()));
        out
    }

    #[test]
    fn move_to_back_keeps_both_directions_linked() {
        let mut links = Links::default();
        let mut a = List::new(1);
        let mut b = List::new(2);
        for s in 0..5 {
            a.push_back(&mut links, s);
        }
        b.push_back(&mut links, 9);
        a.move_to_back(&mut links, 4); // the back already
        assert_eq!(walk(&a, &links), [0, 1, 2, 3, 4]);
        a.move_to_back(&mut links, 0); // the front
        assert_eq!(walk(&a, &links), [1, 2, 3, 4, 0]);
        a.move_to_back(&mut links, 3); // the middle
        assert_eq!(walk(&a, &links), [1, 2, 4, 0, 3]);
        a.move_to_back(&mut links, 9); // on another list: left alone
        a.move_to_back(&mut links, 1_000); // beyond the arrays
        assert_eq!(walk(&a, &links), [1, 2, 4, 0, 3]);
        assert_eq!(walk(&b, &links), [9]);
        let mut one = List::new(3);
        one.push_back(&mut links, 7);
        one.move_to_back(&mut links, 7);
        assert_eq!(walk(&one, &links), [7]);
    }

    #[test]
    fn ghost_is_a_fifo_by_key() {
        let mut g = Ghost::new();
        g.push_back(10, 5);
        g.push_back(20, 7);
        g.push_back(10, 5);
        assert_eq!(g.bytes(), 12);
        assert_eq!(g.pop_front(), Some((20, 7)));
        assert_eq!(g.remove(10), Some(5));
        assert!(g.is_empty() && g.bytes() == 0 && g.pop_front().is_none());
    }
}
