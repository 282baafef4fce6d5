//! `maxmemory` eviction as Redis 7.0 does it (src/evict.c), plus the exact
//! reference policies that Redis does not have.
//!
//! Before each command, while `used_memory > maxmemory`, one victim at a time
//! is chosen and deleted until the excess computed at the start is freed
//! (`performEvictions`). Every 16 evictions the modelled time is compared with
//! `maxmemory-eviction-tenacity`'s budget; past it the command runs anyway and
//! the next command continues (Redis's eviction timer proc).
//!
//! * LRU, LFU and volatile-ttl use the persistent 16-entry eviction pool
//!   (`evictionPoolPopulate`): each round samples `maxmemory-samples` entries
//!   with `dictGetSomeKeys` (adjacent buckets from a random start), scores
//!   them (idle ms from the 24-bit, 1-second LRU clock; `255 − decayed LFU
//!   counter`; `u64::MAX − expire time`), inserts them in the sorted pool
//!   without refreshing old scores, then takes the best entry whose key still
//!   exists (others are ghosts, dropped).
//! * random policies take `dictGetRandomKey` (uniform over non-empty buckets,
//!   then over the chain).
//! * `exact-lru`, `exact-lfu`, `fifo` are references for comparison: true
//!   least-recently-used, least-frequently-used (ties: least recent) and
//!   first-written keys, kept in exact order. `belady` evicts the key whose
//!   next use is farthest away (never-used-again keys first), from next-use
//!   times the driver supplies: the optimum where the future is known.

use super::{Payload, Policy, Removal, Store, NO_TTL};
use rand::{Rng, RngCore};
use std::cmp::Reverse;
use std::collections::BinaryHeap;

/// `EVPOOL_SIZE`.
pub const POOL_SIZE: usize = 16;
/// `LFU_INIT_VAL`: the counter of a new object.
pub const LFU_INIT_VAL: u8 = 5;
/// `LRU_CLOCK_MAX`.
const LRU_CLOCK_MAX: u32 = (1 << 24) - 1;
/// Absent link in the reference list.
const NONE: u32 = u32::MAX;

#[derive(Clone, Copy, Debug)]
struct PoolEntry {
    key: u64,
    score: u64,
}

/// Eviction state kept across calls: the pool and the reference policies'
/// exact orderings.
#[derive(Clone, Debug)]
pub struct State {
    pool: Vec<PoolEntry>,
    /// Reference list (exact LRU / FIFO): previous and next slot, head = oldest.
    prev: Vec<u32>,
    next: Vec<u32>,
    head: u32,
    tail: u32,
    /// Exact LFU: access count and version per slot, and a lazy min-heap.
    /// Belady reuses `count` for the next-use time and `far` as a max-heap.
    count: Vec<u64>,
    version: Vec<u64>,
    heap: BinaryHeap<Reverse<(u64, u64, u32)>>,
    far: BinaryHeap<(u64, u64, u32)>,
    seq: u64,
    live: usize,
}

impl Default for State {
    fn default() -> Self {
        State {
            pool: Vec::with_capacity(POOL_SIZE),
            prev: Vec::new(),
            next: Vec::new(),
            head: NONE,
            tail: NONE,
            count: Vec::new(),
            version: Vec::new(),
            heap: BinaryHeap::new(),
            far: BinaryHeap::new(),
            seq: 0,
            live: 0,
        }
    }
}

impl<P: Payload> Store<P> {
    /// `performEvictions`: returns false (`EVICT_FAIL`) when memory is over
    /// the limit and nothing can be evicted.
    pub(super) fn perform_evictions(&mut self) -> bool {
        let used = self.used_memory();
        let max = self.cfg.maxmemory;
        if used <= max {
            return true;
        }
        let policy = self.cfg.policy;
        if policy == Policy::NoEviction {
            return false;
        }
        let tofree = used - max;
        let mut freed = 0u64;
        let mut evicted = 0u64;
        let limit = self.cfg.eviction_time_limit_us();
        let cost = self.cfg.cost.evict_ns;
        let now_ms = self.now_ms();
        let mut ok = true;
        while freed < tofree {
            let victim = match policy {
                Policy::AllKeysRandom | Policy::VolatileRandom => self.random_victim(),
                Policy::ExactLru | Policy::ExactLfu | Policy::Fifo | Policy::Belady => {
                    self.reference_victim()
                }
                _ => self.pool_victim(),
            };
            let Some(id) = victim else {
                ok = false;
                break;
            };
            let when = self.expire_at(id);
            if when != NO_TTL && now_ms > when {
                self.stats.evicted_stale_keys += 1;
            }
            let before = self.used_memory();
            self.delete_slot(id, Removal::Evicted);
            freed += before.saturating_sub(self.used_memory());
            self.stats.evicted_keys += 1;
            evicted += 1;
            if evicted.is_multiple_of(16) {
                if let Some(limit) = limit {
                    if evicted * cost / 1000 > limit {
                        break;
                    }
                }
            }
        }
        self.stats.eviction_time_us += evicted * cost / 1000;
        ok
    }

    fn random_victim(&mut self) -> Option<u32> {
        let rng = &mut self.rng;
        let mut draw = || rng.next_u64();
        if self.cfg.policy.all_keys() {
            self.main.random_key(&mut draw)
        } else {
            let eid = self.expires.random_key(&mut draw)?;
            Some(self.exp_main[eid as usize])
        }
    }

    /// Pool policies: populate, then pop the best live entry; sample again if
    /// the pool held only ghosts.
    fn pool_victim(&mut self) -> Option<u32> {
        let all_keys = self.cfg.policy.all_keys();
        loop {
            let empty = if all_keys {
                self.main.is_empty()
            } else {
                self.expires.is_empty()
            };
            if empty {
                return None;
            }
            self.pool_populate(all_keys);
            while let Some(entry) = self.evict_state.pool.pop() {
                if all_keys {
                    if let Some(id) = self.main.find(entry.key) {
                        return Some(id);
                    }
                } else if let Some(eid) = self.expires.find(entry.key) {
                    return Some(self.exp_main[eid as usize]);
                }
            }
        }
    }

    /// `evictionPoolPopulate`.
    fn pool_populate(&mut self, all_keys: bool) {
        let samples = self.cfg.samples as usize;
        let mut sample = std::mem::take(&mut self.scratch);
        {
            let rng = &mut self.rng;
            let mut draw = || rng.next_u64();
            if all_keys {
                self.main.some_keys(samples, &mut draw, &mut sample);
            } else {
                self.expires.some_keys(samples, &mut draw, &mut sample);
            }
        }
        let policy = self.cfg.policy;
        for &sid in &sample {
            let (key, score) = if policy == Policy::VolatileTtl {
                let when = self.exp_when[sid as usize];
                (self.expires.key(sid), u64::MAX - when as u64)
            } else {
                let (key, id) = if all_keys {
                    (self.main.key(sid), sid)
                } else {
                    // The expires dict holds no object: look the key up again.
                    let key = self.expires.key(sid);
                    match self.main.find(key) {
                        Some(id) => (key, id),
                        None => continue,
                    }
                };
                let score = if policy.is_lfu() {
                    255 - self.lfu_decr_and_return(id) as u64
                } else {
                    self.idle_ms(id)
                };
                (key, score)
            };
            self.pool_insert(PoolEntry { key, score });
        }
        self.scratch = sample;
    }

    /// Inserts into the sorted pool as evictionPoolPopulate does: ties go left
    /// of equal scores; a full pool drops its worst entry (or the sample, if
    /// the sample is worse than everything).
    fn pool_insert(&mut self, e: PoolEntry) {
        let pool = &mut self.evict_state.pool;
        let k = pool.iter().take_while(|p| p.score < e.score).count();
        let full = pool.len() == POOL_SIZE;
        if k == 0 && full {
            return;
        }
        if !full {
            pool.insert(k, e);
        } else {
            pool.remove(0);
            pool.insert(k - 1, e);
        }
    }

    /// `estimateObjectIdleTime` in ms (1-second resolution, wrap-aware).
    pub(super) fn idle_ms(&self, id: u32) -> u64 {
        let clock = self.lru_clock;
        let lru = self.slots.lru[id as usize];
        let secs = if clock >= lru {
            clock - lru
        } else {
            clock + (LRU_CLOCK_MAX - lru)
        };
        secs as u64 * 1000
    }

    /// `LFUDecrAndReturn`: the counter after decay, without storing it.
    pub(super) fn lfu_decr_and_return(&self, id: u32) -> u8 {
        let field = self.slots.lru[id as usize];
        let ldt = field >> 8;
        let counter = (field & 255) as u8;
        let decay = self.cfg.lfu_decay_time;
        if decay == 0 {
            return counter;
        }
        let now = self.lfu_minutes();
        let elapsed = if now >= ldt {
            now - ldt
        } else {
            65535 - ldt + now
        };
        let periods = elapsed / decay;
        counter.saturating_sub(periods.min(255) as u8)
    }

    /// `LFULogIncr`: increments with probability 1 / ((c − 5) × factor + 1).
    pub(super) fn lfu_log_incr(&mut self, c: u8) -> u8 {
        if c == 255 {
            return 255;
        }
        let r: f64 = self.rng.gen();
        let base = (c as f64 - LFU_INIT_VAL as f64).max(0.0);
        let p = 1.0 / (base * self.cfg.lfu_log_factor as f64 + 1.0);
        if r < p {
            c + 1
        } else {
            c
        }
    }

    // ----- reference policies ----------------------------------------

    fn reference_on(&self) -> bool {
        self.cfg.policy.is_reference()
    }

    fn ensure_reference(&mut self, id: u32) {
        let st = &mut self.evict_state;
        let need = id as usize + 1;
        if st.prev.len() < need {
            st.prev.resize(need, NONE);
            st.next.resize(need, NONE);
            st.count.resize(need, 0);
            st.version.resize(need, 0);
        }
    }

    fn list_push_back(&mut self, id: u32) {
        let st = &mut self.evict_state;
        st.prev[id as usize] = st.tail;
        st.next[id as usize] = NONE;
        if st.tail != NONE {
            st.next[st.tail as usize] = id;
        } else {
            st.head = id;
        }
        st.tail = id;
    }

    fn list_unlink(&mut self, id: u32) {
        let st = &mut self.evict_state;
        let (p, n) = (st.prev[id as usize], st.next[id as usize]);
        if p != NONE {
            st.next[p as usize] = n;
        } else {
            st.head = n;
        }
        if n != NONE {
            st.prev[n as usize] = p;
        } else {
            st.tail = p;
        }
    }

    fn lfu_push(&mut self, id: u32) {
        let st = &mut self.evict_state;
        st.seq += 1;
        st.version[id as usize] = st.seq;
        st.heap.push(Reverse((st.count[id as usize], st.seq, id)));
        // Compact the lazy heap when stale entries dominate.
        if st.heap.len() > 4 * st.live + 1024 {
            let (count, version) = (&st.count, &st.version);
            let live: Vec<_> = st
                .heap
                .drain()
                .filter(|Reverse((c, v, i))| version[*i as usize] == *v && count[*i as usize] == *c)
                .collect();
            st.heap.extend(live);
        }
    }

    /// Belady: (re)files slot `id` under its next-use time.
    fn far_push(&mut self, id: u32) {
        let st = &mut self.evict_state;
        st.seq += 1;
        st.version[id as usize] = st.seq;
        st.far.push((st.count[id as usize], st.seq, id));
        if st.far.len() > 4 * st.live + 1024 {
            let version = &st.version;
            let live: Vec<_> = st
                .far
                .drain()
                .filter(|(_, v, i)| version[*i as usize] == *v)
                .collect();
            st.far.extend(live);
        }
    }

    /// A key was added (slot `id`).
    pub(super) fn reference_insert(&mut self, id: u32) {
        if !self.reference_on() {
            return;
        }
        self.ensure_reference(id);
        self.evict_state.live += 1;
        match self.cfg.policy {
            Policy::ExactLfu => {
                self.evict_state.count[id as usize] = 1;
                self.lfu_push(id);
            }
            // Unknown future until the driver says: treat as never used again.
            Policy::Belady => {
                self.evict_state.count[id as usize] = u64::MAX;
                self.far_push(id);
            }
            _ => self.list_push_back(id),
        }
    }

    /// Belady's input: the next time (any monotone unit, e.g. request index)
    /// `key` will be requested, or `u64::MAX` if never. Call after each
    /// command on the key; ignored for other policies or absent keys.
    pub fn set_next_use(&mut self, key: u64, next: u64) {
        if self.cfg.policy != Policy::Belady {
            return;
        }
        if let Some(id) = self.main.find_no_rehash(key) {
            self.evict_state.count[id as usize] = next;
            self.far_push(id);
        }
    }

    /// A key was accessed.
    pub(super) fn reference_touch(&mut self, id: u32) {
        if !self.reference_on() {
            return;
        }
        match self.cfg.policy {
            Policy::ExactLru => {
                self.list_unlink(id);
                self.list_push_back(id);
            }
            Policy::ExactLfu => {
                self.evict_state.count[id as usize] += 1;
                self.lfu_push(id);
            }
            _ => {}
        }
    }

    /// A key left (slot `id`).
    pub(super) fn reference_remove(&mut self, id: u32) {
        if !self.reference_on() {
            return;
        }
        self.evict_state.live -= 1;
        match self.cfg.policy {
            // The heap entry goes stale: its version no longer matches.
            Policy::ExactLfu | Policy::Belady => self.evict_state.version[id as usize] = 0,
            _ => self.list_unlink(id),
        }
    }

    /// Forgets every reference ordering (FLUSHALL, policy change).
    pub(super) fn reference_clear(&mut self) {
        let st = &mut self.evict_state;
        st.head = NONE;
        st.tail = NONE;
        st.heap.clear();
        st.far.clear();
        st.live = 0;
        st.version.iter_mut().for_each(|v| *v = 0);
    }

    fn reference_victim(&mut self) -> Option<u32> {
        match self.cfg.policy {
            Policy::Belady => loop {
                let (_, v, id) = self.evict_state.far.pop()?;
                if self.evict_state.version[id as usize] == v {
                    return Some(id);
                }
            },
            Policy::ExactLfu => loop {
                let Reverse((c, v, id)) = self.evict_state.heap.pop()?;
                let st = &self.evict_state;
                if st.version[id as usize] == v && st.count[id as usize] == c {
                    return Some(id);
                }
            },
            _ => match self.evict_state.head {
                NONE => None,
                id => Some(id),
            },
        }
    }

    /// Switches the eviction policy; a reference policy starts its exact
    /// ordering from the keys present now (in slot order, no history).
    pub fn set_policy(&mut self, policy: Policy) {
        self.reference_clear();
        self.cfg.policy = policy;
        if policy.is_reference() {
            let ids: Vec<u32> = self.main.ids().collect();
            for id in ids {
                self.reference_insert(id);
            }
        }
    }

    /// `OBJECT FREQ`: the decayed LFU counter, or `None` if the key is absent.
    pub fn object_freq(&mut self, key: u64) -> Option<u8> {
        let id = self.main.find(key)?;
        if self.expire_if_needed(id) {
            return None;
        }
        Some(self.lfu_decr_and_return(id))
    }

    /// `OBJECT IDLETIME` in seconds, or `None` if the key is absent.
    pub fn object_idletime(&mut self, key: u64) -> Option<u64> {
        let id = self.main.find(key)?;
        if self.expire_if_needed(id) {
            return None;
        }
        Some(self.idle_ms(id) / 1000)
    }
}
