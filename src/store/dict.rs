//! A model of Redis's `dict` (src/dict.c, 7.0): a chained hash table with
//! power-of-two bucket arrays, incremental rehashing between two tables, and
//! the two sampling primitives eviction relies on (`dictGetSomeKeys`,
//! `dictGetRandomKey`).
//!
//! The layout matters for fidelity, not only for speed: the active expire
//! cycle walks the expires table bucket by bucket with a cursor, and eviction
//! samples runs of adjacent buckets, so which keys they see depends on where
//! keys hash and how chains are ordered. New entries go to the head of their
//! chain, rehashing moves a whole bucket at a time (reversing its chain into
//! the new table), exactly as dict.c does.
//!
//! Storage is dense: entries live in a slab (`Vec<Entry>`) addressed by `u32`
//! ids that callers use to index their own parallel arrays; buckets hold the id
//! of the chain's first entry. No allocation per operation once warm.
//!
//! Beside the chains, a direct index (`Direct`) maps dense key numbers to
//! entry ids, so a lookup reads one cell instead of a bucket and a chain:
//! it answers what the chains answer (a test compares them through inserts,
//! removals, rehashing and clears) and changes nothing they model. Where
//! nothing reads the chains, the keyspace dict keeps none
//! ([`Dict::without_chains`]): the index and a map of the keys it does not
//! cover answer alone.

use rustc_hash::FxHashMap;

/// Marks "no entry" in a bucket or chain link.
pub const NIL: u32 = u32::MAX;

/// A chainless dict's mark, in a free entry's link, that it holds no key.
const FREED: u32 = u32::MAX - 1;

/// `DICT_HT_INITIAL_SIZE`: the smallest table, created on first insert.
pub const INITIAL_SIZE: usize = 4;

/// `dict_force_resize_ratio`: growth is forced above this load factor.
const FORCE_RESIZE_RATIO: usize = 5;

/// `HASHTABLE_MAX_LOAD_FACTOR` (server.c): below it, growth may be refused
/// when the new bucket array would push used memory over `maxmemory`.
const MAX_LOAD_FACTOR: f64 = 1.618;

/// Buckets the cron's `dictRehashMilliseconds(d, 1)` moves per tick: modelled
/// as 100,000 (about 10 ns a bucket, in steps of 100).
pub const CRON_REHASH_BUCKETS: usize = 100_000;

/// Bytes per bucket pointer (`sizeof(dictEntry*)`).
pub const BUCKET_BYTES: u64 = 8;

/// 16 bytes: the key, a word its owner keeps here ([`Dict::aux`]), and the
/// chain link. Rehashing recomputes the key's hash (a few multiplies)
/// rather than keeping it.
#[derive(Clone, Copy, Debug)]
struct Entry {
    key: u64,
    aux: u32,
    next: u32,
}

#[derive(Clone, Debug, Default)]
struct Table {
    buckets: Vec<u32>,
    used: usize,
}

impl Table {
    fn size(&self) -> usize {
        self.buckets.len()
    }
    fn mask(&self) -> usize {
        self.buckets.len().wrapping_sub(1)
    }
}

/// Where `dictGetSomeKeys` is in its walk over the buckets.
struct Walk {
    /// The bucket index.
    i: usize,
    /// The largest table's mask (a jump lands anywhere in it).
    mask: usize,
    /// Empty buckets met in a row.
    empty_len: usize,
}

/// Hashes a key id with the dict's seed (Redis seeds siphash randomly at
/// startup; we seed from the run's seed so runs are reproducible).
#[inline]
pub fn hash_key(key: u64, seed: u64) -> u64 {
    // splitmix64 finaliser: a full-avalanche mix of the id.
    let mut z = key ^ seed;
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

/// Memory the dict asks the caller about before growing: `dictExpandAllowed`
/// in server.c refuses growth below the max load factor when the new bucket
/// array would put used memory over `maxmemory`.
pub trait GrowthGuard {
    /// May the dict allocate `more_bytes` of new buckets?
    fn allow(&self, more_bytes: u64) -> bool;
}

/// A guard that always allows growth (no `maxmemory`).
pub struct Unlimited;

impl GrowthGuard for Unlimited {
    fn allow(&self, _more_bytes: u64) -> bool {
        true
    }
}

/// Key numbers at or above this are never indexed by [`Direct`].
const DIRECT_LIMIT: u64 = 1 << 24;
/// Namespaces [`Direct`] indexes; keys of others use the chains only.
const DIRECT_TAGS: usize = 8;
/// A namespace's index covers numbers up to this many cells per key it
/// holds (and at least [`DIRECT_MIN`]): sparse numbers cannot make it
/// large: its memory stays within 64 bytes per key held when it grows.
const DIRECT_DENSITY: usize = 16;
/// The smallest coverage worth having.
const DIRECT_MIN: usize = 1 << 12;

/// A direct index from key to entry id, beside the chains: a lookup reads
/// one cell instead of a bucket and a chain of entries. The chains stay
/// what Redis's are (sampling, the expire cycle's cursor and rehashing walk
/// them); the index only answers "which entry holds this key", which the
/// chains answer the same. Keys are `tag << 48 | number`; per tag (the
/// first [`DIRECT_TAGS`] met) the index covers the numbers below its
/// length and holds every key among them, so a covered key it lacks is
/// absent. Other keys are found through the chains (or, in a dict without
/// chains, its map of uncovered keys). Coverage grows, to
/// twice at least, only while the numbers are dense enough
/// ([`DIRECT_DENSITY`]); growing indexes the keys it newly covers.
#[derive(Clone, Debug, Default)]
struct Direct {
    /// Per tag: the cells (entry id or NIL) and the keys of the tag in
    /// the dict.
    tags: Vec<(u64, Vec<u32>, usize)>,
}

/// Bits of a key id below its namespace tag: ids are `tag << NUMBER_BITS |
/// number` (`crate::sim::keys` builds them so), which the direct index
/// relies on to find a namespace's dense numbers.
pub const NUMBER_BITS: u32 = 48;

/// A key's tag and number.
#[inline]
fn tag_number(key: u64) -> (u64, u64) {
    (key >> NUMBER_BITS, key & ((1 << NUMBER_BITS) - 1))
}

impl Direct {
    /// `key`'s cell, if the index covers it.
    #[inline]
    fn cell(&self, key: u64) -> Option<&u32> {
        let (tag, n) = tag_number(key);
        // Most runs have one namespace: its tag is the first.
        let cells = match self.tags.first() {
            Some((t, cells, _)) if *t == tag => cells,
            _ => &self.tags.iter().find(|t| t.0 == tag)?.1,
        };
        cells.get(n as usize)
    }

    /// `Some(entry)` for a covered key (`Some(None)`: absent); `None` when
    /// the index does not cover it.
    #[inline]
    fn get(&self, key: u64) -> Option<Option<u32>> {
        self.cell(key).map(|&id| (id != NIL).then_some(id))
    }

    /// Records that `key` now lives in entry `id` (`NIL`: it left), and
    /// counts the tag's keys. Returns the tag's index and the coverage
    /// it should grow to, when it should.
    #[inline]
    fn set(&mut self, key: u64, id: u32) -> Option<(usize, usize)> {
        let (tag, n) = tag_number(key);
        let i = match self.tags.iter().position(|t| t.0 == tag) {
            Some(i) => i,
            None if self.tags.len() < DIRECT_TAGS && id != NIL => {
                self.tags.push((tag, Vec::new(), 0));
                self.tags.len() - 1
            }
            None => return None,
        };
        let (_, cells, keys) = &mut self.tags[i];
        if id == NIL {
            *keys = keys.saturating_sub(1);
        } else {
            *keys += 1;
        }
        match cells.get_mut(n as usize) {
            Some(c) => {
                *c = id;
                None
            }
            None if id != NIL && n < DIRECT_LIMIT => {
                let room = (*keys * DIRECT_DENSITY).max(DIRECT_MIN);
                let len = (n as usize + 1)
                    .max(cells.len() * 2)
                    .max(DIRECT_MIN)
                    .min(DIRECT_LIMIT as usize);
                (len <= room && len > n as usize).then_some((i, len))
            }
            None => None,
        }
    }
}

/// One Redis dict over integer keys.
#[derive(Clone, Debug)]
pub struct Dict {
    /// Which entry holds a key, without walking a chain (the main dict's
    /// lookups; see [`Dict::with_direct_index`]).
    direct: Option<Direct>,
    tables: [Table; 2],
    /// `rehashidx`: next bucket of table 0 to move, or `None` when not rehashing.
    rehash_idx: Option<usize>,
    entries: Vec<Entry>,
    free: Vec<u32>,
    seed: u64,
    /// Bytes of bucket arrays currently allocated (both tables).
    bucket_bytes: u64,
    /// `Some` while the dict keeps no chains ([`Dict::without_chains`]):
    /// then it holds the keys the direct index does not cover.
    chainless: Option<FxHashMap<u64, u32>>,
}

impl Dict {
    /// An empty dict whose hash is seeded with `seed`.
    pub fn new(seed: u64) -> Self {
        Dict {
            direct: None,
            tables: [Table::default(), Table::default()],
            rehash_idx: None,
            entries: Vec::new(),
            free: Vec::new(),
            seed,
            bucket_bytes: 0,
            chainless: None,
        }
    }

    /// An empty dict that also keeps a direct index from key numbers to
    /// entries (`Direct`): for the keyspace, which every command looks up;
    /// the expires dict is looked up only when a TTL is removed.
    pub fn with_direct_index(seed: u64) -> Self {
        Dict {
            direct: Some(Direct::default()),
            ..Dict::new(seed)
        }
    }

    /// A keyspace dict that keeps no buckets or chains, only the direct
    /// index and a hash map for the keys it does not cover: for a run in
    /// which nothing walks the chains (no eviction sampling, no bucket
    /// memory: a reference policy under the objects memory model), where
    /// linking and unlinking chains is work nobody reads. Entry ids are
    /// handed out exactly as with chains, so the slots a policy sees are
    /// the same. [`Dict::build_chains`] gives it chains when they are
    /// needed after all.
    pub fn without_chains(seed: u64) -> Self {
        Dict {
            chainless: Some(FxHashMap::default()),
            ..Dict::with_direct_index(seed)
        }
    }

    /// True while the dict keeps buckets and chains (see
    /// [`Dict::without_chains`]).
    #[inline]
    pub fn has_chains(&self) -> bool {
        self.chainless.is_none()
    }

    /// Gives a chainless dict buckets and chains: one table of
    /// `next_power(len)` buckets (at least [`INITIAL_SIZE`]; none while it
    /// is empty, as Redis allocates on the first insert), its entries
    /// inserted at their chains' heads in id order. A layout Redis could
    /// have (the chains' order depends on history the dict did not keep),
    /// so a run that switches to a policy that samples the keyspace goes
    /// on deterministically, if not with the layout a dict with chains all
    /// along would have. The chain walkers call it themselves, so a
    /// sampling policy set before the store has synced its configuration
    /// still finds chains (`Store::sync_config` builds them at once on a
    /// change of policy or memory model).
    pub fn build_chains(&mut self) {
        if self.chainless.is_none() {
            return;
        }
        self.chainless = None;
        let used = self.tables[0].used;
        if used == 0 {
            return;
        }
        let ids: Vec<u32> = self.live_ids().collect();
        let mut table = self.alloc_table(next_power(used).max(INITIAL_SIZE));
        for id in ids {
            let b = (self.hash(self.entries[id as usize].key) as usize) & table.mask();
            self.entries[id as usize].next = table.buckets[b];
            table.buckets[b] = id;
        }
        table.used = used;
        self.tables[0] = table;
    }

    /// The ids of a chainless dict's entries, in id order.
    fn live_ids(&self) -> impl Iterator<Item = u32> + '_ {
        (0..self.entries.len() as u32).filter(move |&id| self.entries[id as usize].next != FREED)
    }

    /// Number of entries.
    #[inline]
    pub fn len(&self) -> usize {
        self.tables[0].used + self.tables[1].used
    }

    /// True when the dict holds no entry.
    #[inline]
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// `dictSlots`: buckets in both tables.
    pub fn slots(&self) -> usize {
        self.tables[0].size() + self.tables[1].size()
    }

    /// Bucket count of table 0 (table 1 while rehashing is the target).
    pub fn table_size(&self, table: usize) -> usize {
        self.tables[table].size()
    }

    /// True while an incremental rehash is in progress.
    #[inline]
    pub fn is_rehashing(&self) -> bool {
        self.rehash_idx.is_some()
    }

    /// Bytes held by the bucket arrays (8 per bucket, both tables).
    pub fn bucket_bytes(&self) -> u64 {
        self.bucket_bytes
    }

    /// Upper bound (exclusive) of entry ids handed out so far; callers size
    /// their parallel arrays with it.
    pub fn capacity(&self) -> usize {
        self.entries.len()
    }

    /// Key stored in entry `id`.
    #[inline]
    pub fn key(&self, id: u32) -> u64 {
        self.entries[id as usize].key
    }

    /// Hints the CPU to load entry `id` (an eviction ahead).
    #[inline]
    pub fn prefetch_entry(&self, id: u32) {
        if let Some(e) = self.entries.get(id as usize) {
            super::prefetch::prefetch(e);
        }
    }

    #[inline]
    fn hash(&self, key: u64) -> u64 {
        hash_key(key, self.seed)
    }

    /// The word entry `id`'s owner keeps in it (0 when inserted): the
    /// keyspace keeps each key's `robj.lru` here, so that eviction's
    /// sampling, which reads the entries it walks, finds their LRU fields
    /// in the same cache line.
    #[inline]
    pub fn aux(&self, id: u32) -> u32 {
        self.entries[id as usize].aux
    }

    /// Sets entry `id`'s word ([`Dict::aux`]).
    #[inline]
    pub fn set_aux(&mut self, id: u32, v: u32) {
        self.entries[id as usize].aux = v;
    }

    /// Hints the CPU to load the bucket(s) `key` hashes to: the first
    /// memory a lookup of `key` soon after will read.
    #[inline]
    pub fn prefetch_bucket(&self, key: u64) {
        if let Some(c) = self.direct.as_ref().and_then(|d| d.cell(key)) {
            return super::prefetch::prefetch(c);
        }
        self.prefetch_buckets(key);
    }

    /// Hints the CPU to load the bucket `key` hashes to in each table in
    /// use.
    #[inline]
    fn prefetch_buckets(&self, key: u64) {
        let h = self.hash(key) as usize;
        for t in &self.tables[..1 + usize::from(self.is_rehashing())] {
            if let Some(b) = t.buckets.get(h & t.mask()) {
                super::prefetch::prefetch(b);
            }
        }
    }

    /// Hints the CPU to load what removing `key` will write: its direct
    /// index cell and the bucket(s) whose chain holds it.
    #[inline]
    pub fn prefetch_removal(&self, key: u64) {
        if let Some(c) = self.direct.as_ref().and_then(|d| d.cell(key)) {
            super::prefetch::prefetch(c);
        }
        self.prefetch_buckets(key);
    }

    /// The first entry of the chain `key` hashes to in the main table (a
    /// read of its bucket, which [`Dict::prefetch_bucket`] should have
    /// brought in), with that entry prefetched: where a lookup of `key`
    /// most likely ends.
    #[inline]
    pub fn prefetch_chain(&self, key: u64) -> Option<u32> {
        if let Some(found) = self.direct.as_ref().and_then(|d| d.get(key)) {
            if let Some(id) = found {
                self.prefetch_entry(id);
            }
            return found;
        }
        let t = &self.tables[0];
        let id = *t.buckets.get(self.hash(key) as usize & t.mask())?;
        let e = self.entries.get(id as usize)?;
        super::prefetch::prefetch(e);
        Some(id)
    }

    /// `dictFind`: the entry id holding `key`. Like Redis, performs one
    /// rehash step first when a rehash is in progress.
    #[inline(always)]
    pub fn find(&mut self, key: u64) -> Option<u32> {
        self.rehash_step();
        self.find_no_rehash(key)
    }

    /// Looks `key` up without advancing a rehash (for read-only inspection).
    /// A key the direct index covers is answered inline; others go to
    /// `find_uncovered`.
    #[inline(always)]
    pub fn find_no_rehash(&self, key: u64) -> Option<u32> {
        if self.is_empty() {
            return None;
        }
        if let Some(found) = self.direct.as_ref().and_then(|d| d.get(key)) {
            return found;
        }
        self.find_uncovered(key)
    }

    /// [`Dict::find_no_rehash`] for a key the direct index does not cover:
    /// the chainless map, or the chains.
    #[inline(never)]
    fn find_uncovered(&self, key: u64) -> Option<u32> {
        if let Some(loose) = &self.chainless {
            return loose.get(&key).copied();
        }
        let h = self.hash(key);
        for t in 0..2 {
            let table = &self.tables[t];
            if table.size() == 0 {
                break;
            }
            let mut id = table.buckets[(h as usize) & table.mask()];
            while id != NIL {
                let e = &self.entries[id as usize];
                if e.key == key {
                    return Some(id);
                }
                id = e.next;
            }
            if !self.is_rehashing() {
                break;
            }
        }
        None
    }

    /// `dictAdd` for a key known to be absent: grows if needed (asking
    /// `guard`), performs a rehash step, links the new entry at the head of its
    /// chain (a dict without chains only indexes it). Returns the new entry
    /// id.
    pub fn insert(&mut self, key: u64, guard: &impl GrowthGuard) -> u32 {
        if self.chainless.is_some() {
            return self.insert_chainless(key);
        }
        self.rehash_step();
        self.expand_if_needed(guard);
        let hash = self.hash(key);
        let id = self.alloc_entry(key);
        let t = if self.is_rehashing() { 1 } else { 0 };
        let table = &mut self.tables[t];
        let b = (hash as usize) & table.mask();
        self.entries[id as usize].next = table.buckets[b];
        table.buckets[b] = id;
        table.used += 1;
        if let Some((tag, len)) = self.direct.as_mut().and_then(|d| d.set(key, id)) {
            self.cover(tag, len);
        }
        id
    }

    /// A fresh entry for `key`, unlinked: the last one freed, else a new
    /// one (so a dict with and one without chains hand out the same ids).
    #[inline]
    fn alloc_entry(&mut self, key: u64) -> u32 {
        let entry = Entry {
            key,
            aux: 0,
            next: NIL,
        };
        match self.free.pop() {
            Some(id) => {
                self.entries[id as usize] = entry;
                id
            }
            None => {
                self.entries.push(entry);
                (self.entries.len() - 1) as u32
            }
        }
    }

    /// [`Dict::insert`] without chains: the same entry id, then the direct
    /// index or, for a key it does not cover, the map.
    #[inline(always)]
    fn insert_chainless(&mut self, key: u64) -> u32 {
        let id = self.alloc_entry(key);
        self.tables[0].used += 1;
        let direct = self
            .direct
            .as_mut()
            .expect("a chainless dict has a direct index");
        if direct.cell(key).is_none() {
            if let Some(loose) = self.chainless.as_mut() {
                loose.insert(key, id);
            }
        }
        if let Some((tag, len)) = direct.set(key, id) {
            self.cover(tag, len);
        }
        id
    }

    /// Grows tag `tag`'s direct index to `len` cells and indexes the keys
    /// it newly covers (they were found through the chains, or a chainless
    /// dict's map, until now):
    /// O(entries), paid once per doubling.
    #[cold]
    fn cover(&mut self, tag: usize, len: usize) {
        let Some(direct) = self.direct.as_mut() else {
            return;
        };
        let (t, cells, _) = &mut direct.tags[tag];
        let from = cells.len();
        cells.resize(len, NIL);
        let covered = |k: u64| {
            let (et, n) = tag_number(k);
            et == *t && (from as u64..len as u64).contains(&n)
        };
        if let Some(loose) = self.chainless.as_mut() {
            loose.retain(|&k, &mut id| {
                let now_covered = covered(k);
                if now_covered {
                    cells[tag_number(k).1 as usize] = id;
                }
                !now_covered
            });
            return;
        }
        for table in &self.tables {
            for &head in &table.buckets {
                let mut id = head;
                while id != NIL {
                    let e = &self.entries[id as usize];
                    let (et, n) = tag_number(e.key);
                    if et == *t && (from as u64..len as u64).contains(&n) {
                        cells[n as usize] = id;
                    }
                    id = e.next;
                }
            }
        }
    }

    /// `dictDelete`: unlinks `key`, returning its entry id (now free for
    /// reuse).
    pub fn remove(&mut self, key: u64) -> Option<u32> {
        if let Some(loose) = self.chainless.as_mut() {
            let direct = self
                .direct
                .as_mut()
                .expect("a chainless dict has a direct index");
            let id = match direct.get(key) {
                Some(found) => found?,
                None => loose.remove(&key)?,
            };
            direct.set(key, NIL);
            self.tables[0].used -= 1;
            self.entries[id as usize].next = FREED;
            self.free.push(id);
            return Some(id);
        }
        self.rehash_step();
        if self.is_empty() {
            return None;
        }
        let h = self.hash(key);
        for t in 0..2 {
            if self.tables[t].size() == 0 {
                break;
            }
            let b = (h as usize) & self.tables[t].mask();
            let mut prev = NIL;
            let mut id = self.tables[t].buckets[b];
            while id != NIL {
                let next = self.entries[id as usize].next;
                if self.entries[id as usize].key == key {
                    if prev == NIL {
                        self.tables[t].buckets[b] = next;
                    } else {
                        self.entries[prev as usize].next = next;
                    }
                    self.tables[t].used -= 1;
                    self.free.push(id);
                    if let Some(d) = self.direct.as_mut() {
                        d.set(key, NIL);
                    }
                    return Some(id);
                }
                prev = id;
                id = next;
            }
            if !self.is_rehashing() {
                break;
            }
        }
        None
    }

    /// Empties the dict and frees its tables (`dictEmpty`, used by FLUSHALL).
    pub fn clear(&mut self) {
        if let Some(d) = self.direct.as_mut() {
            *d = Direct::default();
        }
        self.tables = [Table::default(), Table::default()];
        self.rehash_idx = None;
        self.entries.clear();
        self.free.clear();
        self.bucket_bytes = 0;
        if let Some(loose) = self.chainless.as_mut() {
            loose.clear();
        }
    }

    fn alloc_table(&mut self, size: usize) -> Table {
        self.bucket_bytes += size as u64 * BUCKET_BYTES;
        Table {
            buckets: vec![NIL; size],
            used: 0,
        }
    }

    /// `_dictExpandIfNeeded`.
    fn expand_if_needed(&mut self, guard: &impl GrowthGuard) {
        if self.is_rehashing() {
            return;
        }
        let size = self.tables[0].size();
        if size == 0 {
            self.expand(INITIAL_SIZE);
            return;
        }
        let used = self.tables[0].used;
        if used >= size {
            let ratio = used as f64 / size as f64;
            let new_size = next_power(used + 1);
            let allowed = ratio > MAX_LOAD_FACTOR
                || used / size > FORCE_RESIZE_RATIO
                || guard.allow(new_size as u64 * BUCKET_BYTES);
            if allowed {
                self.expand(new_size);
            }
        }
    }

    /// `dictExpand`: allocate a table of the next power of two ≥ `size`; if
    /// the dict is empty it replaces table 0, otherwise a rehash starts.
    pub fn expand(&mut self, size: usize) {
        if self.is_rehashing() || self.tables[0].used > size {
            return;
        }
        let real = next_power(size);
        if real == self.tables[0].size() {
            return;
        }
        let table = self.alloc_table(real);
        if self.tables[0].size() == 0 {
            self.tables[0] = table;
        } else {
            self.tables[1] = table;
            self.rehash_idx = Some(0);
        }
    }

    /// `htNeedsResize` + `dictResize` (called from the cron's
    /// `tryResizeHashTables`): shrink when fill drops below 10 %.
    pub fn shrink_if_needed(&mut self) {
        if self.would_shrink() {
            self.expand(self.len().max(INITIAL_SIZE));
        }
    }

    /// Whether [`Dict::shrink_if_needed`] would shrink the table now
    /// (`htNeedsResize`: under 10% full, not rehashing, above the minimum).
    pub fn would_shrink(&self) -> bool {
        let size = self.slots();
        !self.is_rehashing() && size > INITIAL_SIZE && self.len() * 100 / size < 10
    }

    /// `_dictRehashStep`: one bucket (visiting at most 10 empty ones).
    #[inline]
    pub fn rehash_step(&mut self) {
        if self.rehash_idx.is_some() {
            self.rehash(1);
        }
    }

    /// `dictRehash(d, n)`: moves up to `n` non-empty buckets from table 0 to
    /// table 1, visiting at most `10 n` empty ones; the old array is freed at
    /// the end. Returns whether more remains.
    pub fn rehash(&mut self, n: usize) -> bool {
        let Some(mut idx) = self.rehash_idx else {
            return false;
        };
        let mut empty_visits = n * 10;
        let mut steps = n;
        while steps > 0 && self.tables[0].used != 0 {
            steps -= 1;
            while self.tables[0].buckets[idx] == NIL {
                idx += 1;
                empty_visits -= 1;
                if empty_visits == 0 {
                    self.rehash_idx = Some(idx);
                    return true;
                }
            }
            let mut id = self.tables[0].buckets[idx];
            let mask1 = self.tables[1].mask();
            while id != NIL {
                let next = self.entries[id as usize].next;
                let b = (self.hash(self.entries[id as usize].key) as usize) & mask1;
                self.entries[id as usize].next = self.tables[1].buckets[b];
                self.tables[1].buckets[b] = id;
                self.tables[0].used -= 1;
                self.tables[1].used += 1;
                id = next;
            }
            self.tables[0].buckets[idx] = NIL;
            idx += 1;
        }
        if self.tables[0].used == 0 {
            let freed = self.tables[0].size() as u64 * BUCKET_BYTES;
            self.bucket_bytes -= freed;
            self.tables[0] = std::mem::take(&mut self.tables[1]);
            self.rehash_idx = None;
            return false;
        }
        self.rehash_idx = Some(idx);
        true
    }

    /// Calls `f(entry_id)` for every entry in bucket `idx` of `table`
    /// (cursor walk of the active expire cycle). The callback may not mutate
    /// the dict; ids are collected first so the caller can delete afterwards.
    pub fn bucket_entries(&self, table: usize, idx: usize, out: &mut Vec<u32>) {
        let t = &self.tables[table];
        if t.size() == 0 {
            return;
        }
        let mut id = t.buckets[idx & t.mask()];
        while id != NIL {
            out.push(id);
            id = self.entries[id as usize].next;
        }
    }

    /// Empty buckets of table 0 from bucket `cursor` on (wrapping), at most
    /// `limit`: a sampling walk (the active expire cycle's) may step over
    /// them at once, since an empty bucket yields nothing. 0 while
    /// rehashing, when a bucket of table 1 may hold entries.
    pub fn empty_run(&self, cursor: u64, limit: u64) -> u64 {
        let t = &self.tables[0];
        if self.is_rehashing() || t.size() == 0 {
            return 0;
        }
        let mask = t.mask();
        let mut n = 0;
        while n < limit && t.buckets[(cursor.wrapping_add(n) as usize) & mask] == NIL {
            n += 1;
        }
        n
    }

    /// `dictGetSomeKeys`: up to `count` entries from a run of adjacent buckets
    /// starting at a random one, jumping elsewhere after a run of empty buckets;
    /// at most `10 × count` bucket steps. Pushes entry ids into `out`.
    pub fn some_keys(&mut self, count: usize, rng: &mut impl FnMut() -> u64, out: &mut Vec<u32>) {
        self.build_chains();
        out.clear();
        let count = count.min(self.len());
        if count == 0 {
            return;
        }
        for _ in 0..count {
            if !self.is_rehashing() {
                break;
            }
            self.rehash_step();
        }
        if !self.is_rehashing() {
            self.some_keys_one_table(count, rng, out);
            return;
        }
        // Rehashing: walk both tables at the same index.
        let max_mask = self.tables[0].mask().max(self.tables[1].mask());
        let mut walk = Walk {
            i: (rng() as usize) & max_mask,
            mask: max_mask,
            empty_len: 0,
        };
        for _ in 0..count * 10 {
            for j in 0..2 {
                if j == 0 {
                    if let Some(ri) = self.rehash_idx {
                        if walk.i < ri {
                            // Buckets of table 0 below rehash_idx are empty.
                            if walk.i >= self.tables[1].size() {
                                walk.i = ri;
                            } else {
                                continue;
                            }
                        }
                    }
                }
                if walk.i >= self.tables[j].size() {
                    continue;
                }
                if self.sample_bucket(self.tables[j].buckets[walk.i], count, &mut walk, rng, out) {
                    return;
                }
            }
            walk.i = (walk.i + 1) & max_mask;
        }
    }

    /// [`Dict::some_keys`] when no rehash is in progress (the usual case):
    /// the same walk over table 0 alone.
    #[inline]
    fn some_keys_one_table(&self, count: usize, rng: &mut impl FnMut() -> u64, out: &mut Vec<u32>) {
        let t = &self.tables[0];
        let mut walk = Walk {
            i: (rng() as usize) & t.mask(),
            mask: t.mask(),
            empty_len: 0,
        };
        for _ in 0..count * 10 {
            if self.sample_bucket(t.buckets[walk.i], count, &mut walk, rng, out) {
                return;
            }
            walk.i = (walk.i + 1) & walk.mask;
        }
    }

    /// One bucket of `dictGetSomeKeys`'s walk, whose chain starts at `head`:
    /// takes its entries into `out` (true once it holds `count`), or counts
    /// it empty and, after a run of empty buckets longer than 5 and than
    /// `count`, jumps the walk to a random bucket.
    #[inline]
    fn sample_bucket(
        &self,
        head: u32,
        count: usize,
        walk: &mut Walk,
        rng: &mut impl FnMut() -> u64,
        out: &mut Vec<u32>,
    ) -> bool {
        let mut id = head;
        if id == NIL {
            walk.empty_len += 1;
            if walk.empty_len >= 5 && walk.empty_len > count {
                walk.i = (rng() as usize) & walk.mask;
                walk.empty_len = 0;
            }
            return false;
        }
        walk.empty_len = 0;
        while id != NIL {
            out.push(id);
            if out.len() == count {
                return true;
            }
            id = self.entries[id as usize].next;
        }
        false
    }

    /// `dictGetRandomKey`: a random non-empty bucket (uniform over buckets),
    /// then a uniform entry of its chain.
    pub fn random_key(&mut self, rng: &mut impl FnMut() -> u64) -> Option<u32> {
        self.build_chains();
        if self.is_empty() {
            return None;
        }
        self.rehash_step();
        let mut head;
        if let Some(ri) = self.rehash_idx {
            let s0 = self.tables[0].size();
            let span = (s0 + self.tables[1].size() - ri) as u64;
            loop {
                let h = ri + (rng() % span) as usize;
                head = if h >= s0 {
                    self.tables[1].buckets[h - s0]
                } else {
                    self.tables[0].buckets[h]
                };
                if head != NIL {
                    break;
                }
            }
        } else {
            let mask = self.tables[0].mask();
            loop {
                head = self.tables[0].buckets[(rng() as usize) & mask];
                if head != NIL {
                    break;
                }
            }
        }
        let mut len = 0u64;
        let mut id = head;
        while id != NIL {
            len += 1;
            id = self.entries[id as usize].next;
        }
        let mut pick = rng() % len;
        id = head;
        while pick > 0 {
            id = self.entries[id as usize].next;
            pick -= 1;
        }
        Some(id)
    }

    /// Iterates over every live entry id (order: table 0 then table 1, bucket
    /// order; id order without chains). For inspection, rebuilds and
    /// invariant checks, not for hot paths.
    pub fn ids(&self) -> impl Iterator<Item = u32> + '_ {
        // A chainless dict's tables are empty: its ids come from the slab.
        let chains = self.tables.iter().flat_map(move |t| {
            t.buckets.iter().flat_map(move |&head| {
                let mut id = head;
                std::iter::from_fn(move || {
                    if id == NIL {
                        return None;
                    }
                    let cur = id;
                    id = self.entries[cur as usize].next;
                    Some(cur)
                })
            })
        });
        let loose = (!self.has_chains()).then(|| self.live_ids());
        chains.chain(loose.into_iter().flatten())
    }
}

/// `_dictNextExp`: the smallest power of two ≥ `size` (at least 4).
pub fn next_power(size: usize) -> usize {
    size.max(INITIAL_SIZE).next_power_of_two()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn direct(d: &Dict) -> &Direct {
        d.direct.as_ref().expect("a direct index")
    }

    /// The chains' answer, without the direct index.
    fn chain_find(d: &Dict, key: u64) -> Option<u32> {
        let h = d.hash(key);
        for t in &d.tables {
            if t.size() == 0 {
                continue;
            }
            let mut id = t.buckets[(h as usize) & t.mask()];
            while id != NIL {
                if d.entries[id as usize].key == key {
                    return Some(id);
                }
                id = d.entries[id as usize].next;
            }
        }
        None
    }

    /// Namespace tags for the direct index's tests: more than it indexes.
    fn mixed_tags() -> Vec<u64> {
        (0..DIRECT_TAGS as u64 + 3)
            .map(|t| (t * 7919 + 1) << NUMBER_BITS)
            .collect()
    }

    /// A key generator over [`mixed_tags`]: numbers the index covers, ones
    /// past its limit, mapped ones (bit 47), and sparse ones (too few keys
    /// for the index to cover them all).
    fn mixed_keys() -> impl Fn(&mut rand_pcg::Pcg64Mcg) -> u64 {
        use rand::Rng;
        let tags = mixed_tags();
        move |rng| {
            let n = match rng.gen_range(0..10) {
                0 => DIRECT_LIMIT + rng.gen_range(0..100),
                1 => (1 << 47) | rng.gen_range(0..100),
                2 => rng.gen_range(0..1_000_000),
                _ => rng.gen_range(0..3_000),
            };
            tags[rng.gen_range(0..tags.len())] | n
        }
    }

    /// A chainless dict hands out the same entry ids and answers every
    /// lookup as a dict with chains, through inserts and removals of
    /// covered, uncovered and sparse keys of more namespaces than the index
    /// covers, coverage growth and a clear; once given chains, its chains
    /// hold every key, and it goes on as a chained dict.
    #[test]
    fn a_chainless_dict_answers_as_the_chained_one_and_can_grow_chains() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(5);
        let key = mixed_keys();
        let mut chained = Dict::with_direct_index(3);
        let mut loose = Dict::without_chains(3);
        assert!(!loose.has_chains() && chained.has_chains());
        let sorted_ids = |d: &Dict| {
            let mut v: Vec<u32> = d.ids().collect();
            v.sort_unstable();
            v
        };
        for round in 0..50_000 {
            let k = key(&mut rng);
            if rng.gen_bool(0.55) {
                if chained.find(k).is_none() {
                    assert_eq!(loose.find(k), None);
                    let id = chained.insert(k, &Unlimited);
                    assert_eq!(loose.insert(k, &Unlimited), id, "{k:#x}");
                }
            } else {
                assert_eq!(loose.remove(k), chained.remove(k), "{k:#x}");
            }
            let probe = key(&mut rng);
            assert_eq!(loose.find_no_rehash(probe), chained.find_no_rehash(probe));
            assert_eq!(loose.find_no_rehash(k), chained.find_no_rehash(k));
            assert_eq!(loose.len(), chained.len());
            if round % 5_000 == 0 {
                assert_eq!(sorted_ids(&loose), sorted_ids(&chained));
            }
            if round == 25_000 {
                loose.clear();
                chained.clear();
            }
        }
        assert_eq!(loose.bucket_bytes(), 0);
        let ids = sorted_ids(&loose);
        assert_eq!(ids, sorted_ids(&chained));
        loose.build_chains();
        assert!(loose.has_chains());
        assert_eq!(sorted_ids(&loose), ids);
        for &id in &ids {
            let k = loose.key(id);
            assert_eq!(chain_find(&loose, k), Some(id), "{k:#x} is in its chain");
        }
        // Chained from now on: the same answers through growth and rehashing.
        for _ in 0..20_000 {
            let k = key(&mut rng);
            if rng.gen_bool(0.6) {
                if chained.find(k).is_none() {
                    let id = chained.insert(k, &Unlimited);
                    assert_eq!(loose.insert(k, &Unlimited), id);
                }
            } else {
                assert_eq!(loose.remove(k), chained.remove(k));
            }
            assert_eq!(loose.find_no_rehash(k), chain_find(&loose, k));
            assert_eq!(loose.find_no_rehash(k), chained.find_no_rehash(k));
        }
        let mut out = Vec::new();
        let mut draw = || rng.gen::<u64>();
        loose.some_keys(5, &mut draw, &mut out);
        assert_eq!(out.len(), 5);
        for id in out {
            assert_eq!(loose.find_no_rehash(loose.key(id)), Some(id));
        }
    }

    /// A chainless dict asked to sample (a sampling policy set before the
    /// store synced its configuration) builds its chains first; an empty
    /// one builds no table, as Redis allocates on the first insert.
    #[test]
    fn a_chainless_dict_builds_chains_when_first_sampled() {
        let mut empty = Dict::without_chains(9);
        empty.build_chains();
        assert!(empty.has_chains());
        assert_eq!((empty.bucket_bytes(), empty.slots()), (0, 0));
        let mut d = Dict::without_chains(9);
        for n in 0..100u64 {
            d.insert(1 << NUMBER_BITS | n, &Unlimited);
        }
        let mut rng = 7u64;
        let mut draw = || {
            rng = rng.wrapping_mul(6364136223846793005).wrapping_add(1);
            rng
        };
        let mut out = Vec::new();
        d.some_keys(5, &mut draw, &mut out);
        assert!(d.has_chains());
        assert_eq!(out.len(), 5);
        assert_eq!(d.slots(), 128);
        let mut d = Dict::without_chains(9);
        d.insert(1 << NUMBER_BITS | 3, &Unlimited);
        assert_eq!(d.random_key(&mut draw), Some(0));
        assert!(d.has_chains());
    }

    /// The direct index finds exactly what the chains find, through
    /// inserts, removals, growth, rehashing, shrinking and a clear: keys of
    /// more namespaces than it indexes, and numbers past its limit, fall
    /// back to the chains.
    #[test]
    fn the_direct_index_agrees_with_the_chains() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_pcg::Pcg64Mcg::seed_from_u64(11);
        let tags = mixed_tags();
        let key = mixed_keys();
        // Numbers in order: each insert lands just past the coverage.
        let mut d = Dict::with_direct_index(3);
        for n in 0..20_000u64 {
            d.insert(tags[0] | n, &Unlimited);
        }
        for n in 0..20_000u64 {
            assert_eq!(
                d.find_no_rehash(tags[0] | n),
                chain_find(&d, tags[0] | n),
                "{n}"
            );
        }
        assert!(
            direct(&d).tags[0].1.len() >= 20_000,
            "dense numbers are covered"
        );
        d.clear();
        let mut live = std::collections::HashSet::new();
        for round in 0..60_000 {
            let k = key(&mut rng);
            if rng.gen_bool(0.55) {
                if d.find(k).is_none() {
                    d.insert(k, &Unlimited);
                    live.insert(k);
                }
            } else if d.remove(k).is_some() {
                live.remove(&k);
            }
            if round % 5_000 == 0 {
                d.shrink_if_needed();
            }
            if round % 1_000 == 0 {
                // Every covered number's cell is what the chains say.
                for (tag, cells, _) in &direct(&d).tags {
                    for (n, &id) in cells.iter().enumerate() {
                        let want = chain_find(&d, tag << NUMBER_BITS | n as u64);
                        assert_eq!((id != NIL).then_some(id), want, "{tag:#x} {n}");
                    }
                }
            }
            if round == 30_000 {
                d.clear();
                live.clear();
            }
            let probe = key(&mut rng);
            assert_eq!(d.find_no_rehash(probe), chain_find(&d, probe), "{probe:#x}");
            assert_eq!(d.find_no_rehash(k), chain_find(&d, k), "{k:#x}");
            assert_eq!(d.find_no_rehash(k).is_some(), live.contains(&k));
        }
        assert_eq!(d.len(), live.len());
        assert!(
            direct(&d).tags.len() == DIRECT_TAGS,
            "more tags than indexed"
        );
        for (_, cells, keys) in &direct(&d).tags {
            assert!(cells.len() <= (keys * DIRECT_DENSITY).max(DIRECT_MIN) * 2);
        }
    }

    #[test]
    fn grows_by_doubling_and_rehashes_incrementally() {
        let mut d = Dict::new(7);
        for k in 0..4u64 {
            d.insert(k, &Unlimited);
        }
        assert_eq!(d.table_size(0), 4);
        // The fifth insert finds used >= size and starts a rehash to 8.
        d.insert(4, &Unlimited);
        assert!(d.is_rehashing() || d.table_size(0) == 8);
        for k in 5..1000u64 {
            d.insert(k, &Unlimited);
        }
        while d.is_rehashing() {
            d.rehash(100);
        }
        assert_eq!(d.len(), 1000);
        assert_eq!(d.table_size(0), 1024);
        assert_eq!(d.bucket_bytes(), 1024 * 8);
        for k in 0..1000u64 {
            assert!(d.find_no_rehash(k).is_some(), "key {k} lost");
        }
        assert!(d.find_no_rehash(1000).is_none());
    }

    #[test]
    fn shrinks_below_ten_percent_fill() {
        let mut d = Dict::new(1);
        for k in 0..1000u64 {
            d.insert(k, &Unlimited);
        }
        for k in 0..950u64 {
            d.remove(k);
        }
        while d.is_rehashing() {
            d.rehash(100);
        }
        d.shrink_if_needed();
        while d.is_rehashing() {
            d.rehash(100);
        }
        assert_eq!(d.table_size(0), 64);
        assert_eq!(d.ids().count(), 50);
    }

    #[test]
    fn refuses_growth_when_guard_says_no_until_load_factor_high() {
        struct No;
        impl GrowthGuard for No {
            fn allow(&self, _: u64) -> bool {
                false
            }
        }
        let mut d = Dict::new(3);
        for k in 0..6u64 {
            d.insert(k, &No);
        }
        // 6/4 = 1.5 <= 1.618: still 4 buckets.
        assert_eq!(d.table_size(0), 4);
        d.insert(6, &No);
        d.insert(7, &No);
        // 7/4 = 1.75 > 1.618 at the 8th insert: grows anyway.
        assert!(d.is_rehashing() || d.table_size(0) > 4);
    }

    #[test]
    fn some_keys_returns_distinct_live_entries() {
        let mut d = Dict::new(9);
        for k in 0..100u64 {
            d.insert(k, &Unlimited);
        }
        let mut state = 12345u64;
        let mut rng = || {
            state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
            state >> 11
        };
        let mut out = Vec::new();
        d.some_keys(5, &mut rng, &mut out);
        assert_eq!(out.len(), 5);
        let mut keys: Vec<u64> = out.iter().map(|&id| d.key(id)).collect();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), 5);
        let id = d.random_key(&mut rng);
        assert!(d.key(id.unwrap()) < 100);
    }
}
