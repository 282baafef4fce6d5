//! Key ids and per-key bookkeeping.
//!
//! A key id is `tag << 48 | number`: `tag` is a 16-bit hash of the
//! namespace (so the same namespace gets the same ids in a generated run and
//! in the replay of its trace, and the store's hash table sees the same
//! keys), `number` the key's number within the namespace. Keys of a trace
//! whose suffix is not a number get `1 << 47 | counter`.
//!
//! [`KeyBook`] keeps, per key, what happened to it last (never written,
//! live, expired, evicted, deleted), a byte a key in dense arrays per
//! namespace: that is how a miss is classified. How long keys stay resident
//! comes from the store's removal events, which carry each key's creation
//! time.

use rustc_hash::FxHashMap;

/// Bits of a key id below the namespace tag (the store's dict indexes
/// keys by this layout).
pub const NS_SHIFT: u32 = crate::store::dict::NUMBER_BITS;
/// The number part of a key id.
pub const NUM_MASK: u64 = (1 << NS_SHIFT) - 1;
/// Marks numbers assigned to non-numeric trace keys.
pub const MAPPED_BIT: u64 = 1 << 47;
/// Key numbers below this are tracked in dense arrays; others in a map.
const DENSE_LIMIT: u64 = 1 << 26;

/// A key as clients address it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SimKey {
    /// Namespace index.
    pub ns: u32,
    /// Key id in the store.
    pub id: u64,
    /// Byte length of the key name.
    pub len: u32,
}

impl SimKey {
    /// The key's number within its namespace.
    #[inline]
    pub fn number(self) -> u64 {
        self.id & NUM_MASK
    }
}

/// A namespace handle: builds keys from numbers.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct NsRef {
    /// Namespace index.
    pub ns: u32,
    /// `tag << 48`.
    pub base: u64,
    /// Byte length of key names.
    pub len: u32,
}

impl NsRef {
    /// Key number `n`.
    #[inline]
    pub fn key(self, n: u64) -> SimKey {
        SimKey {
            ns: self.ns,
            id: self.base | (n & NUM_MASK),
            len: self.len,
        }
    }
}

fn tag_of(name: &str) -> u16 {
    // FNV-1a, folded to 16 bits: stable across runs and platforms.
    let h = crate::units::fnv1a(name.as_bytes());
    (h ^ (h >> 16) ^ (h >> 32) ^ (h >> 48)) as u16
}

/// The namespaces of a run, in registration order.
#[derive(Clone, Debug)]
pub struct Namespaces {
    names: Vec<String>,
    tags: Vec<u16>,
    by_tag: Vec<u32>,
}

impl Default for Namespaces {
    fn default() -> Self {
        Namespaces {
            names: Vec::new(),
            tags: Vec::new(),
            by_tag: vec![u32::MAX; 1 << 16],
        }
    }
}

impl Namespaces {
    /// The index of `name`, registering it if new.
    pub fn register(&mut self, name: &str) -> u32 {
        if let Some(i) = self.find(name) {
            return i;
        }
        let mut tag = tag_of(name);
        while self.by_tag[tag as usize] != u32::MAX {
            tag = tag.wrapping_add(1);
        }
        let i = self.names.len() as u32;
        self.names.push(name.to_string());
        self.tags.push(tag);
        self.by_tag[tag as usize] = i;
        i
    }

    /// A handle for keys of `ns` that are `len` bytes long.
    pub fn handle(&self, ns: u32, len: u32) -> NsRef {
        NsRef {
            ns,
            base: (self.tags[ns as usize] as u64) << NS_SHIFT,
            len,
        }
    }

    /// The index of a registered namespace.
    pub fn find(&self, name: &str) -> Option<u32> {
        self.names.iter().position(|n| n == name).map(|i| i as u32)
    }

    /// The namespace of a key id.
    #[inline]
    pub fn of(&self, id: u64) -> Option<u32> {
        match self.by_tag[(id >> NS_SHIFT) as usize] {
            u32::MAX => None,
            i => Some(i),
        }
    }

    /// Names in registration order.
    pub fn names(&self) -> &[String] {
        &self.names
    }
}

/// What happened to a key last.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[repr(u8)]
pub enum Fate {
    /// Never written.
    #[default]
    Never = 0,
    /// Resident.
    Live = 1,
    /// Removed by expiry.
    Expired = 2,
    /// Removed by eviction.
    Evicted = 3,
    /// Deleted by a command.
    Deleted = 4,
}

impl Fate {
    /// The fate whose discriminant is `b` (`Never` for any other).
    #[inline]
    fn from_bits(b: u8) -> Fate {
        match b {
            1 => Fate::Live,
            2 => Fate::Expired,
            3 => Fate::Evicted,
            4 => Fate::Deleted,
            _ => Fate::Never,
        }
    }
}

/// A namespace's dense array: key numbers below `limit` are tracked here,
/// the others in [`KeyBook`]'s map.
#[derive(Clone, Debug)]
struct Dense {
    /// Per key number, its fate (`Fate as u8`; 0: never written). One byte
    /// a key, so that a million keys' fates fit in a core's L2 cache.
    cells: Vec<u8>,
    /// Numbers below this are in the arrays. It starts at
    /// [`FIRST_DENSE_LIMIT`] and doubles as keys accumulate (at most
    /// [`DENSE_LIMIT`]), so a trace whose key numbers are sparse (ids up to
    /// 2^26 for 50,000 keys) does not zero-fill arrays sized by its largest
    /// id in every run.
    limit: u64,
    /// Distinct keys of this namespace written live at least once.
    keys: u64,
    /// Its keys' tag (`id >> NS_SHIFT`), from the first one set: how its
    /// keys are told apart in the map.
    tag: u64,
}

impl Default for Dense {
    fn default() -> Self {
        Dense {
            cells: Vec::new(),
            limit: FIRST_DENSE_LIMIT,
            keys: 0,
            tag: u64::MAX,
        }
    }
}

impl Dense {
    /// The cell of key number `n` (below `limit`), growing the array by
    /// half again when it is short.
    #[inline]
    fn cell(&mut self, n: u64) -> &mut u8 {
        let i = n as usize;
        if self.cells.len() <= i {
            let len = (i + 1)
                .max(self.cells.len() * 3 / 2)
                .min(self.limit as usize);
            self.cells.resize(len, Fate::Never as u8);
        }
        &mut self.cells[i]
    }
}

/// Where the dense arrays of a namespace start: numbers below this.
const FIRST_DENSE_LIMIT: u64 = 1 << 20;

/// Per-key fate: what happened to each key last, so that a miss can be
/// classified (cold, expired or evicted). How long a key stayed comes with
/// its removal ([`crate::store::KeyEvent::born`]), not from here: a
/// removal writes its fate without reading anything back.
#[derive(Clone, Debug, Default)]
pub struct KeyBook {
    dense: Vec<Dense>,
    sparse: FxHashMap<u64, Fate>,
}

impl KeyBook {
    /// Books for `n` namespaces.
    pub fn new(namespaces: usize) -> Self {
        KeyBook {
            dense: vec![Dense::default(); namespaces],
            sparse: FxHashMap::default(),
        }
    }

    /// Makes room for namespace `ns`.
    pub fn ensure_ns(&mut self, ns: u32) {
        if self.dense.len() <= ns as usize {
            self.dense.resize(ns as usize + 1, Dense::default());
        }
    }

    /// The fate of a key.
    #[inline]
    pub fn fate(&self, ns: u32, id: u64) -> Fate {
        let n = id & NUM_MASK;
        let d = &self.dense[ns as usize];
        if n < d.limit {
            d.cells
                .get(n as usize)
                .map_or(Fate::Never, |&c| Fate::from_bits(c))
        } else {
            self.sparse.get(&id).copied().unwrap_or(Fate::Never)
        }
    }

    /// Hints the CPU to load a key's fate (a write or a miss's
    /// classification of it is coming).
    #[inline]
    pub fn prefetch(&self, ns: u32, id: u64) {
        let n = (id & NUM_MASK) as usize;
        if let Some(d) = self.dense.get(ns as usize) {
            if let Some(c) = d.cells.get(n) {
                crate::store::prefetch::prefetch(c);
            }
        }
    }

    /// Records that a key was written (it is live); returns its previous
    /// fate.
    #[inline]
    pub fn set_live(&mut self, ns: u32, id: u64) -> Fate {
        let n = id & NUM_MASK;
        let d = &mut self.dense[ns as usize];
        let old = if n < d.limit {
            std::mem::replace(d.cell(n), Fate::Live as u8)
        } else {
            self.sparse.insert(id, Fate::Live).map_or(0, |f| f as u8)
        };
        let old = Fate::from_bits(old);
        if old == Fate::Never {
            d.keys += 1;
            d.tag = id >> NS_SHIFT;
            if d.keys * 4 > d.limit && d.limit < DENSE_LIMIT {
                self.widen(ns);
            }
        }
        old
    }

    /// Records that a live key left the store (expired, evicted or
    /// deleted). A store into the cell, with nothing read back first: an
    /// eviction's victim is a cold key whose cell is seldom in cache, and
    /// a load would stall the command until it came.
    #[inline]
    pub fn set_removed(&mut self, ns: u32, id: u64, fate: Fate) {
        let n = id & NUM_MASK;
        let d = &mut self.dense[ns as usize];
        if n < d.limit {
            *d.cell(n) = fate as u8;
        } else {
            self.sparse.insert(id, fate);
        }
    }

    /// Doubles namespace `ns`'s dense range (up to [`DENSE_LIMIT`]) and
    /// moves the keys it now covers out of the map, so each key has one
    /// place; amortised, as the range doubles only as keys accumulate.
    #[cold]
    fn widen(&mut self, ns: u32) {
        let d = &mut self.dense[ns as usize];
        let limit = (d.limit * 2).max(d.keys * 4).min(DENSE_LIMIT);
        d.limit = limit;
        let tag = d.tag;
        let moved: Vec<(u64, Fate)> = self
            .sparse
            .iter()
            .filter(|(id, _)| *id >> NS_SHIFT == tag && (**id & NUM_MASK) < limit)
            .map(|(id, f)| (*id, *f))
            .collect();
        for (id, f) in moved {
            self.sparse.remove(&id);
            *self.dense[ns as usize].cell(id & NUM_MASK) = f as u8;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn namespaces_get_stable_distinct_tags() {
        let mut a = Namespaces::default();
        let s = a.register("session");
        let c = a.register("cache");
        assert_ne!(a.handle(s, 40).base, a.handle(c, 18).base);
        let mut b = Namespaces::default();
        let c2 = b.register("cache");
        assert_eq!(a.handle(c, 18).base, b.handle(c2, 18).base);
        let k = a.handle(s, 40).key(77);
        assert_eq!(a.of(k.id), Some(s));
        assert_eq!(k.number(), 77);
    }

    #[test]
    fn book_tracks_fates() {
        let mut b = KeyBook::new(1);
        assert_eq!(b.fate(0, 5), Fate::Never);
        assert_eq!(b.set_live(0, 5), Fate::Never);
        assert_eq!(b.set_live(0, 5), Fate::Live);
        b.set_removed(0, 5, Fate::Evicted);
        assert_eq!(b.fate(0, 5), Fate::Evicted);
        assert_eq!(b.set_live(0, 5), Fate::Evicted);
        let big = MAPPED_BIT | 3;
        assert_eq!(b.set_live(0, big), Fate::Never);
        assert_eq!(b.fate(0, big), Fate::Live);
        b.set_removed(0, big, Fate::Expired);
        assert_eq!(b.fate(0, big), Fate::Expired);
    }

    #[test]
    fn sparse_numbers_widen_the_dense_range_as_keys_accumulate_and_keep_their_fates() {
        // Two namespaces whose numbers are sparse (every 97th up to 2^24):
        // the arrays start small, and each key keeps its fate when the range
        // widens over it.
        let tags = [1u64 << NS_SHIFT, 2 << NS_SHIFT];
        let mut b = KeyBook::new(2);
        let ids: Vec<u64> = (0..600_000u64).map(|i| (i * 97) % (1 << 24)).collect();
        for (t, &id) in ids.iter().enumerate() {
            for (ns, tag) in tags.iter().enumerate() {
                b.set_live(ns as u32, tag | id);
            }
            if t % 3 == 0 {
                b.set_removed(1, tags[1] | id, Fate::Evicted);
            }
        }
        assert!(b.dense[0].limit > FIRST_DENSE_LIMIT && b.dense[0].limit <= DENSE_LIMIT);
        assert!(b.dense[0].cells.len() as u64 <= b.dense[0].limit);
        for (t, &id) in ids.iter().enumerate() {
            assert_eq!(b.fate(0, tags[0] | id), Fate::Live);
            let want = if t % 3 == 0 {
                Fate::Evicted
            } else {
                Fate::Live
            };
            assert_eq!(b.fate(1, tags[1] | id), want);
            // Writing it again tells what it was.
            assert_eq!(b.set_live(1, tags[1] | id), want);
        }
        assert_eq!(b.fate(0, tags[0] | 5), Fate::Never);
    }
}
