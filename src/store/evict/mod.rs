//! `maxmemory` eviction as Redis 7.0 does it (src/evict.c), and the seam the
//! reference policies that Redis does not have plug into.
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
//! * reference policies (exact LRU/LFU, FIFO, Belady, S3-FIFO, SIEVE, ARC,
//!   W-TinyLFU, LHD, LRU-2) each live in their own file behind
//!   [`ReferencePolicy`] and are listed once in [`REGISTRY`]; the store tells
//!   the active one about every insert, access and removal of a key (by its
//!   dense slot id) and asks it for victims.
//!
//! Under the `objects` memory model ([`MemoryModel::Objects`](super::config::MemoryModel))
//! a write of a new key first makes room for itself, as libCacheSim's
//! `cache_get_base` does: a key larger than `maxmemory` is not stored, and
//! otherwise victims are evicted until `used + size <= maxmemory`
//! (`Store::make_room`). The same victims (Redis's sampled ones or a
//! reference policy's) are chosen as under the Redis model.
//!
//! ## Adding a policy
//!
//! Write `src/store/evict/<name>.rs` with a type implementing
//! [`ReferencePolicy`] and a `pub const REGISTRATION: Registration`, declare
//! the module below and add one line to [`REGISTRY`]. `Policy::parse`,
//! `Policy::ALL`, `Policy::REFERENCE`, `CONFIG SET maxmemory-policy`, sweeps
//! and reports then know it.

use super::config::{Config, MemoryModel};
use super::dict::NIL;
use super::{Payload, Policy, Removal, Store, NO_TTL};
use rand::{Rng, RngCore};
use std::fmt::Debug;

pub mod arc;
pub mod belady;
pub mod exact_lfu;
pub mod exact_lru;
pub mod fifo;
pub mod lhd;
pub mod list;
pub mod lru2;
pub mod s3fifo;
pub mod sieve;
pub mod wtinylfu;

/// Every reference policy, in `Policy::REFERENCE` order. The first four
/// indices are fixed (`Policy::ExactLru`, `ExactLfu`, `Fifo`, `Belady`);
/// append new policies at the end.
pub const REGISTRY: &[Registration] = &[
    exact_lru::REGISTRATION,
    exact_lfu::REGISTRATION,
    fifo::REGISTRATION,
    belady::REGISTRATION,
    s3fifo::REGISTRATION,
    sieve::REGISTRATION,
    arc::REGISTRATION,
    wtinylfu::REGISTRATION,
    lhd::REGISTRATION,
    lru2::REGISTRATION,
];

/// A reference policy's entry in [`REGISTRY`].
#[derive(Clone, Copy)]
pub struct Registration {
    /// The `maxmemory-policy` name (lower case).
    pub name: &'static str,
    /// True if the policy reads each key's next use
    /// ([`Store::set_next_use`](super::Store::set_next_use)).
    pub needs_future: bool,
    /// Builds a fresh, empty instance.
    pub make: fn(&PolicyParams) -> Box<dyn ReferencePolicy>,
}

impl Debug for Registration {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Registration")
            .field("name", &self.name)
            .field("needs_future", &self.needs_future)
            .finish()
    }
}

/// What a policy is built with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct PolicyParams {
    /// Bytes the keys may occupy, in the units of the sizes the policy is
    /// given: `maxmemory` under the objects model; `maxmemory` minus the
    /// baseline and client memory under the Redis model; `u64::MAX / 4` when
    /// there is no limit.
    pub capacity: u64,
    /// Seed for policies that draw random numbers (LHD's sampling, W-TinyLFU's
    /// admission tie-break).
    pub seed: u64,
}

/// A policy's answer before a new key is written ([`ReferencePolicy::prepare`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Admission {
    /// Make room and insert it.
    Insert,
    /// Do not store it, and evict nothing for it.
    Reject,
    /// Make room as for an insert, then do not store it (libCacheSim's
    /// S3-FIFO does this for an object exactly as large as its small queue).
    EvictThenReject,
}

/// An eviction policy the store consults instead of Redis's sampling.
///
/// Slots are the store's dense key ids (main-dict entry ids): the store calls
/// [`insert`](Self::insert) when a key is added, [`access`](Self::access) on
/// every lookup that touches it, [`remove`](Self::remove) when it leaves for
/// any reason other than this policy's own eviction (lazy or active expiry,
/// DEL, overwrite by GETDEL, FLUSHALL is [`clear`](Self::clear)), and
/// [`evict`](Self::evict) when memory must be freed. A freed slot is reused
/// for the next new key, so anything that must outlive a key (ghost entries,
/// frequency sketches) is keyed by key id.
///
/// `evict` chooses a victim and forgets it *as an eviction* (ghost lists are
/// updated); the store then deletes that key without calling `remove`. A
/// policy only ever returns slots it was given and has not forgotten; should
/// it return a slot that holds no key, the store asks again (a bounded number
/// of times) and then treats the policy as empty.
pub trait ReferencePolicy: Send + Debug {
    /// The `maxmemory-policy` name, as in [`REGISTRY`].
    fn name(&self) -> &'static str;
    /// A write is about to add `key` of `size` bytes (before any room is
    /// made): policies with ghost lists look the key up here, as libCacheSim
    /// does in `find` before evicting for the miss. Followed by
    /// [`insert`](Self::insert) or [`cancel`](Self::cancel).
    fn prepare(&mut self, _key: u64, _size: u64) -> Admission {
        Admission::Insert
    }
    /// The prepared key will not be inserted.
    fn cancel(&mut self) {}
    /// `key`, of `size` bytes, now lives in `slot`.
    fn insert(&mut self, slot: u32, key: u64, size: u64);
    /// The key in `slot` was accessed.
    fn access(&mut self, slot: u32);
    /// The key in `slot` now has `size` bytes (a value overwritten, a TTL
    /// added or removed).
    fn resize(&mut self, _slot: u32, _size: u64) {}
    /// The key in `slot` left (expired, deleted); not called for evictions.
    fn remove(&mut self, slot: u32);
    /// Chooses a victim, forgets it as evicted and returns its slot; `None`
    /// when the policy holds no key.
    fn evict(&mut self) -> Option<u32>;
    /// The slot [`evict`](Self::evict) would choose next, when the policy
    /// knows it without work (the front of a list), so the store can hint
    /// the CPU about it an eviction ahead.
    fn next_victim(&self) -> Option<u32> {
        None
    }
    /// Hints the CPU about what [`access`](Self::access) of `slot` will
    /// read, a few requests ahead; hints only, never a change.
    fn prefetch(&self, _slot: u32) {}
    /// Hints the CPU about what access of `slot` reads after its own
    /// record (a list's neighbours), a request ahead, when that record
    /// should be in cache from [`prefetch`](Self::prefetch).
    fn prefetch_neighbours(&self, _slot: u32) {}
    /// Forgets everything (FLUSHALL).
    fn clear(&mut self);
    /// The memory limit changed (`CONFIG SET maxmemory`).
    fn set_capacity(&mut self, _bytes: u64) {}
    /// True if the policy needs [`set_next_use`](Self::set_next_use).
    fn needs_future(&self) -> bool {
        false
    }
    /// The key in `slot` is next requested at `next` (any monotone unit;
    /// `u64::MAX`: never).
    fn set_next_use(&mut self, _slot: u32, _next: u64) {}
    /// Keys the policy tracks (for invariant checks).
    fn len(&self) -> usize;
    /// True when the policy tracks no key.
    fn is_empty(&self) -> bool {
        self.len() == 0
    }
    /// Simulator memory the policy holds (orderings, ghosts, sketches): not
    /// part of the modelled `used_memory`.
    fn overhead_bytes(&self) -> u64;
}

/// `EVPOOL_SIZE`.
pub const POOL_SIZE: usize = 16;
/// `LFU_INIT_VAL`: the counter of a new object.
pub const LFU_INIT_VAL: u8 = 5;
/// `LRU_CLOCK_MAX`.
const LRU_CLOCK_MAX: u32 = (1 << 24) - 1;

#[derive(Clone, Copy, Debug)]
struct PoolEntry {
    key: u64,
    score: u64,
    /// The main-dict entry the key was sampled in (all-keys policies;
    /// NIL otherwise): where [`Store::pool_find`] looks first.
    id: u32,
}

/// Eviction state kept across calls: Redis's pool, and the reference policy
/// in use with the settings it was built for.
#[derive(Debug)]
pub struct State {
    pool: Vec<PoolEntry>,
    /// The active reference policy (None for Redis's eight).
    reference: Option<Box<dyn ReferencePolicy>>,
    /// The policy, memory model and limit `reference` was last set up for:
    /// `begin` rebuilds or re-sizes when `Config` changed under it.
    policy: Policy,
    /// The memory model keys are counted with ([`Store::model`]).
    pub(super) model: MemoryModel,
    maxmemory: u64,
    /// Seed handed to reference policies (the store's seed).
    pub(super) seed: u64,
    /// `Config` may have changed ([`Store::config_mut`] was called): the
    /// next `begin` re-syncs. A flag, not a comparison, so Redis's policies
    /// pay one load per command for the seam.
    pub(super) dirty: bool,
    /// New keys go through [`Store::admit_new`] (a reference policy is
    /// active, or the objects model with a limit).
    pub(super) admit_new_keys: bool,
}

impl Default for State {
    fn default() -> Self {
        State {
            pool: Vec::with_capacity(POOL_SIZE),
            reference: None,
            policy: Policy::NoEviction,
            model: MemoryModel::Redis,
            maxmemory: 0,
            seed: 0,
            dirty: true,
            admit_new_keys: false,
        }
    }
}

impl State {
    /// The active reference policy.
    #[inline]
    pub(super) fn reference(&mut self) -> Option<&mut (dyn ReferencePolicy + 'static)> {
        self.reference.as_deref_mut()
    }

    /// True when a reference policy is active.
    #[inline]
    pub(super) fn has_reference(&self) -> bool {
        self.reference.is_some()
    }
}

/// Whether the keyspace dict must keep Redis's buckets and chains under
/// `cfg`: for eviction that samples them (Redis's policies; noeviction
/// too, which evicts nothing but is one `CONFIG SET` from a policy that
/// samples, and keeps the layout Redis's own run would have) and for the
/// Redis memory model, which counts the buckets. A reference policy under
/// the objects model needs neither ([`super::dict::Dict::without_chains`]).
pub(super) fn chains_needed(cfg: &Config) -> bool {
    !cfg.policy.is_reference() || cfg.memory_model != MemoryModel::Objects
}

impl<P: Payload> Store<P> {
    /// `performEvictions`: returns false (`EVICT_FAIL`) when memory is over
    /// the limit and nothing can be evicted. The usual case, nothing to
    /// evict, is decided inline in every command.
    #[inline(always)]
    pub(super) fn perform_evictions(&mut self) -> bool {
        let used = self.used_memory();
        let max = self.cfg.maxmemory;
        if used <= max {
            return true;
        }
        self.evict_to_limit(used, max)
    }

    /// [`Store::perform_evictions`] once `used` is over `max`.
    #[inline(never)]
    fn evict_to_limit(&mut self, used: u64, max: u64) -> bool {
        self.policy_used = true;
        if self.cfg.policy == Policy::NoEviction {
            return false;
        }
        let tofree = used - max;
        let mut freed = 0u64;
        let mut evicted = 0u64;
        // The tenacity budget is Redis's; the objects model evicts to the limit.
        let limit = match self.model() {
            MemoryModel::Redis => self.cfg.eviction_time_limit_us(),
            MemoryModel::Objects => None,
        };
        let cost = self.cfg.cost.evict_ns;
        let mut ok = true;
        while freed < tofree {
            let Some(bytes) = self.evict_one() else {
                ok = false;
                break;
            };
            freed += bytes;
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

    /// Makes room for a new key of `size` bytes under the objects model, as
    /// libCacheSim's `cache_get_base` does before `insert`: evicts until
    /// `used + size <= maxmemory`. No tenacity limit: the write needs the
    /// room. Returns false if nothing more can be evicted.
    pub(super) fn make_room(&mut self, size: u64) -> bool {
        let max = self.cfg.maxmemory;
        let cost = self.cfg.cost.evict_ns;
        let mut evicted = 0u64;
        let mut ok = true;
        while self.used_memory().saturating_add(size) > max {
            self.policy_used = true;
            if self.cfg.policy == Policy::NoEviction || self.evict_one().is_none() {
                ok = false;
                break;
            }
            evicted += 1;
        }
        self.stats.eviction_time_us += evicted * cost / 1000;
        ok
    }

    /// Chooses one victim by the configured policy and evicts it; returns
    /// the bytes freed, or `None` when there is nothing to evict.
    #[inline]
    fn evict_one(&mut self) -> Option<u64> {
        let (id, notify) = match self.cfg.policy {
            Policy::NoEviction => return None,
            Policy::AllKeysRandom | Policy::VolatileRandom => (self.random_victim()?, true),
            Policy::Reference(_) => (self.reference_victim()?, false),
            _ => (self.pool_victim()?, true),
        };
        let when = self.expire_at(id);
        if when != NO_TTL && self.now_ms() > when {
            self.stats.evicted_stale_keys += 1;
        }
        let before = self.used_memory();
        self.delete_slot_inner(id, Removal::Evicted, notify);
        self.stats.evicted_keys += 1;
        Some(before.saturating_sub(self.used_memory()))
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
                    if let Some(id) = self.pool_find(entry) {
                        return Some(id);
                    }
                } else if let Some(eid) = self.expires.find(entry.key) {
                    return Some(self.exp_main[eid as usize]);
                }
            }
        }
    }

    /// `dictFind(db->dict, key)` for a pool entry of an all-keys policy,
    /// with its rehash step: the entry it was sampled in when that still
    /// holds the key (a resident key has one entry), else the dict's
    /// answer. The same answer without a random read of the key's index
    /// cell: the sampled entry and slot were just read.
    #[inline]
    fn pool_find(&mut self, e: PoolEntry) -> Option<u32> {
        let sampled = self.slots.is_live(e.id) && self.main.key(e.id) == e.key;
        #[cfg(test)]
        let sampled = tests::pool_find_switch(sampled);
        if sampled {
            self.main.rehash_step();
            return Some(e.id);
        }
        self.main.find(e.key)
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
            let id = if all_keys { sid } else { NIL };
            self.pool_insert(PoolEntry { key, score, id });
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
            // Drop the worst (leftmost) entry: the k - 1 better than `e`
            // move one left, and `e` takes the freed place.
            pool.copy_within(1..k, 0);
            pool[k - 1] = e;
        }
    }

    /// `estimateObjectIdleTime` in ms (1-second resolution, wrap-aware).
    pub(super) fn idle_ms(&self, id: u32) -> u64 {
        let clock = self.lru_clock;
        let lru = self.main.aux(id);
        let secs = if clock >= lru {
            clock - lru
        } else {
            clock + (LRU_CLOCK_MAX - lru)
        };
        secs as u64 * 1000
    }

    /// `LFUDecrAndReturn`: the counter after decay, without storing it.
    pub(super) fn lfu_decr_and_return(&self, id: u32) -> u8 {
        let field = self.main.aux(id);
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

    /// What a reference policy is built with under the current settings.
    fn policy_params(&self) -> PolicyParams {
        let max = self.cfg.maxmemory;
        let capacity = if max == 0 {
            u64::MAX / 4
        } else if self.model() == MemoryModel::Objects {
            max
        } else {
            max.saturating_sub(self.cfg.baseline_memory + self.cfg.client_memory)
                .max(1)
        };
        PolicyParams {
            capacity,
            seed: self.evict_state.seed,
        }
    }

    /// True when a new key must be offered to the policy or room made for it
    /// before it is written ([`Store::admit_new`]).
    #[inline]
    pub(super) fn admission_needed(&self) -> bool {
        self.evict_state.admit_new_keys
    }

    /// Before a new key of `size` bytes is written: asks the reference
    /// policy, and under the objects model refuses a key larger than
    /// `maxmemory` (libCacheSim's `can_insert`) or makes room for it. Returns
    /// false if the key must not be stored: counted in
    /// `writes_not_admitted`, or in `oom_rejections` when nothing could be
    /// evicted to make room.
    pub(super) fn admit_new(&mut self, key: u64, size: u64) -> bool {
        let admission = match self.evict_state.reference() {
            Some(r) => r.prepare(key, size),
            None => Admission::Insert,
        };
        let limited = self.model() == MemoryModel::Objects && self.cfg.maxmemory != 0;
        let refuse = if admission == Admission::Reject || (limited && size > self.cfg.maxmemory) {
            self.stats.writes_not_admitted += 1;
            true
        } else if limited && !self.make_room(size) {
            self.stats.oom_rejections += 1;
            true
        } else if admission == Admission::EvictThenReject {
            self.stats.writes_not_admitted += 1;
            true
        } else {
            false
        };
        if refuse {
            if let Some(r) = self.evict_state.reference() {
                r.cancel();
            }
        }
        !refuse
    }

    /// A key was added (slot `id`, `bytes` as the memory model counts it).
    #[inline]
    pub(super) fn reference_insert(&mut self, id: u32, key: u64, bytes: u64) {
        if let Some(r) = self.evict_state.reference() {
            r.insert(id, key, bytes);
        }
    }

    /// The key in slot `id` now holds `bytes`.
    #[inline]
    pub(super) fn reference_resize(&mut self, id: u32, bytes: u64) {
        if let Some(r) = self.evict_state.reference() {
            r.resize(id, bytes);
        }
    }

    /// A key was accessed.
    #[inline]
    pub(super) fn reference_touch(&mut self, id: u32) {
        if let Some(r) = self.evict_state.reference() {
            r.access(id);
        }
    }

    /// A key left (slot `id`) other than by the policy's own eviction.
    #[inline]
    pub(super) fn reference_remove(&mut self, id: u32) {
        if let Some(r) = self.evict_state.reference() {
            r.remove(id);
        }
    }

    /// Forgets every reference ordering (FLUSHALL).
    pub(super) fn reference_clear(&mut self) {
        if let Some(r) = self.evict_state.reference() {
            r.clear();
        }
    }

    /// Hints the CPU about what the reference policy, if any, will read
    /// when the key in slot `id` is accessed.
    #[inline]
    pub(super) fn reference_prefetch(&self, id: u32) {
        if let Some(r) = self.evict_state.reference.as_deref() {
            r.prefetch(id);
        }
    }

    /// True while a reference policy (rather than Redis's eviction) keeps
    /// its own records of the keys.
    #[inline]
    pub fn has_reference_policy(&self) -> bool {
        self.evict_state.reference.is_some()
    }

    /// Hints the CPU to load what touching `key` will write beyond its own
    /// records (a reference policy's list neighbours): call it nearest, a
    /// request ahead, after [`Store::prefetch_slot`]. Nothing without a
    /// reference policy.
    #[inline]
    pub fn prefetch_neighbours(&self, key: u64) {
        if let Some(r) = self.evict_state.reference.as_deref() {
            if let Some(id) = self.main.find_no_rehash(key) {
                r.prefetch_neighbours(id);
            }
        }
    }

    /// The key a reference policy will evict next, when it knows without
    /// work ([`ReferencePolicy::next_victim`]): for hints only.
    pub fn next_victim_key(&self) -> Option<u64> {
        let r = self.evict_state.reference.as_deref()?;
        let slot = r.next_victim()?;
        self.slots.is_live(slot).then(|| self.main.key(slot))
    }

    /// The reference policy's victim, checked against the keyspace.
    fn reference_victim(&mut self) -> Option<u32> {
        let r = self.evict_state.reference.as_deref_mut()?;
        for _ in 0..=r.len() {
            let id = r.evict()?;
            if self.slots.is_live(id) {
                if let Some(next) = r.next_victim() {
                    self.slots.prefetch(next);
                    self.main.prefetch_entry(next);
                }
                return Some(id);
            }
        }
        None
    }

    /// Belady's input: the next time (any monotone unit, e.g. request index)
    /// `key` will be requested, or `u64::MAX` if never. Call after each
    /// command on the key; ignored by policies that do not read the future
    /// and for absent keys.
    pub fn set_next_use(&mut self, key: u64, next: u64) {
        if !self
            .evict_state
            .reference
            .as_deref()
            .is_some_and(|r| r.needs_future())
        {
            return;
        }
        if let Some(id) = self.main.find_no_rehash(key) {
            if let Some(r) = self.evict_state.reference() {
                r.set_next_use(id, next);
            }
        }
    }

    /// Switches the eviction policy; a reference policy starts its ordering
    /// from the keys present now, in [`super::dict::Dict::ids`] order (no
    /// history).
    pub fn set_policy(&mut self, policy: Policy) {
        self.cfg.policy = policy;
        self.evict_state.reference = None;
        self.sync_config();
    }

    /// Brings the eviction state in line with `Config` after a change made
    /// through [`Store::config_mut`]: a new memory model recounts every key,
    /// a new policy or model rebuilds the reference policy, a new
    /// `maxmemory` resizes it.
    pub(super) fn sync_config(&mut self) {
        if chains_needed(&self.cfg) {
            self.main.build_chains();
        }
        let (policy, model, max) = (self.cfg.policy, self.cfg.memory_model, self.cfg.maxmemory);
        let st = &self.evict_state;
        let model_changed = st.model != model;
        let max_changed = st.maxmemory != max;
        let rebuild = st.policy != policy || model_changed || st.reference.is_none();
        if model_changed {
            self.evict_state.model = model;
            self.recount_memory();
        }
        if rebuild {
            let params = self.policy_params();
            self.evict_state.reference = match policy {
                Policy::Reference(i) => REGISTRY.get(i as usize).map(|reg| (reg.make)(&params)),
                _ => None,
            };
            if self.evict_state.has_reference() {
                let ids: Vec<u32> = self.main.ids().collect();
                for id in ids {
                    let (key, bytes) = (self.main.key(id), self.slots[id as usize].bytes);
                    self.reference_insert(id, key, bytes);
                }
            }
        } else if max_changed {
            let capacity = self.policy_params().capacity;
            if let Some(r) = self.evict_state.reference() {
                r.set_capacity(capacity);
            }
        }
        let st = &mut self.evict_state;
        st.policy = policy;
        st.model = model;
        st.maxmemory = max;
        st.admit_new_keys = st.has_reference() || (model == MemoryModel::Objects && max != 0);
        st.dirty = false;
    }

    /// Simulator memory held by the reference policy (orderings, ghost
    /// lists, sketches); 0 for Redis's policies. Not part of `used_memory`.
    pub fn policy_overhead_bytes(&self) -> u64 {
        self.evict_state
            .reference
            .as_deref()
            .map_or(0, |r| r.overhead_bytes())
    }

    /// Keys the reference policy tracks (for invariant checks), or `None`
    /// for Redis's policies.
    pub fn policy_len(&self) -> Option<usize> {
        self.evict_state.reference.as_deref().map(|r| r.len())
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

#[cfg(test)]
mod tests {
    use super::super::{Config, ExpireCond, Key, MemoryModel, SetCond, SetTtl, SimValue, Store};
    use super::*;
    use rand::{Rng, SeedableRng};
    use rand_pcg::Pcg64Mcg;

    const T0: u64 = 1_700_000_000_000_000;

    thread_local! {
        /// Whether [`Store::pool_find`] may take its sampled entry, and how
        /// often it did and did not.
        static POOL_FIND: std::cell::Cell<(bool, u64, u64)> = const { std::cell::Cell::new((true, 0, 0)) };
    }

    /// `ok` when the test allows the sampled entry, counted.
    pub(super) fn pool_find_switch(ok: bool) -> bool {
        POOL_FIND.with(|c| {
            let (on, hit, miss) = c.get();
            let ok = on && ok;
            c.set((on, hit + ok as u64, miss + !ok as u64));
            ok
        })
    }

    /// The pool's victims found through their sampled entries are those
    /// the dict finds: the same evictions, key by key, and the same store,
    /// through sets, deletes and lazy expiry that leave stale pool entries
    /// (keys gone, their entries reused by other keys) and through rehashes.
    #[test]
    fn pool_victims_found_by_their_sampled_entry_are_the_dicts() {
        let run = |fast: bool| {
            POOL_FIND.with(|c| c.set((fast, 0, 0)));
            let mut s = store(
                Policy::AllKeysLru,
                MemoryModel::Redis,
                940_096 + 2_000 * 120,
            );
            s.record_events(true);
            let mut rng = Pcg64Mcg::seed_from_u64(11);
            let mut now = T0;
            let mut evicted = Vec::new();
            for step in 0..100_000u64 {
                now += rng.gen_range(0..3_000);
                // Rare ticks: the rehash a growing dict starts goes on
                // step by step through evictions (a tick finishes it).
                if step % 5_000 == 0 {
                    s.cron(now);
                }
                if step % 10_000 == 9_999 {
                    // Room for more keys: the dict grows, and rehashes while
                    // evictions go on.
                    s.config_mut().maxmemory += 20_000;
                }
                let key = Key {
                    id: rng.gen_range(0..8_000),
                    len: 8,
                };
                if s.begin(now, true).is_err() {
                    continue;
                }
                match rng.gen_range(0..10) {
                    0..=3 => {
                        s.get(key);
                    }
                    4..=7 => random_set(&mut s, &mut rng, key, now, (0.3, 500, 100)),
                    _ => {
                        s.del(key);
                    }
                }
                evicted.extend(
                    s.drain_events()
                        .filter(|e| e.cause == Removal::Evicted)
                        .map(|e| e.key),
                );
            }
            s.validate().unwrap();
            (
                evicted,
                s.dbsize(),
                s.used_memory(),
                POOL_FIND.with(|c| c.get()),
            )
        };
        let (fast, by_dict) = (run(true), run(false));
        assert!(fast.0.len() > 2_000, "{} evictions", fast.0.len());
        assert_eq!(fast.0, by_dict.0);
        assert_eq!((fast.1, fast.2), (by_dict.1, by_dict.2));
        let (_, hit, miss) = fast.3;
        assert!(
            hit > 2_000 && miss > 100,
            "sampled entries taken {hit}, not {miss}"
        );
    }

    /// A SET of `key` at `now` with a random value of under `len` bytes,
    /// and with a share `ttl_share` of a TTL under `ttl_ms`.
    fn random_set(
        s: &mut Store<SimValue>,
        rng: &mut Pcg64Mcg,
        key: Key,
        now: u64,
        (ttl_share, ttl_ms, len): (f64, i64, u32),
    ) {
        let ttl = if rng.gen_bool(ttl_share) {
            SetTtl::At((now / 1000) as i64 + rng.gen_range(1..ttl_ms))
        } else {
            SetTtl::Clear
        };
        let v = SimValue::Blob(rng.gen_range(1..len));
        s.set(key, v, SetCond::Always, ttl, false);
    }

    fn store(policy: Policy, model: MemoryModel, maxmemory: u64) -> Store<SimValue> {
        let cfg = Config {
            policy,
            maxmemory,
            memory_model: model,
            ..Config::default()
        };
        Store::new(cfg, 7, T0)
    }

    fn set(s: &mut Store<SimValue>, id: u64, len: u32) -> bool {
        let _ = s.begin(s.now(), true);
        let key = Key { id, len: 1 };
        s.set(
            key,
            SimValue::Blob(len),
            SetCond::Always,
            SetTtl::Clear,
            false,
        )
        .0
    }

    #[test]
    fn objects_model_counts_only_key_and_value_sizes_and_makes_room_first() {
        let mut s = store(Policy::Fifo, MemoryModel::Objects, 100);
        assert_eq!(s.used_memory(), 0, "no baseline, clients or buckets");
        assert!(set(&mut s, 1, 39));
        assert!(set(&mut s, 2, 39));
        assert_eq!(s.used_memory(), 80);
        // 40 more bytes do not fit: the oldest key leaves before the write.
        assert!(set(&mut s, 3, 39));
        assert_eq!((s.used_memory(), s.dbsize()), (80, 2));
        assert!(!s.exists(Key { id: 1, len: 1 }));
        assert_eq!(s.stats().evicted_keys, 1);
        // A TTL costs nothing under this model.
        let _ = s.begin(s.now(), true);
        s.expire(
            Key { id: 2, len: 1 },
            (T0 / 1000) as i64 + 10_000,
            ExpireCond::default(),
        );
        assert_eq!(s.used_memory(), 80);
        // Larger than the whole cache: not stored, nothing evicted.
        assert!(!set(&mut s, 4, 100));
        assert_eq!(s.stats().writes_not_admitted, 1);
        assert_eq!((s.dbsize(), s.stats().evicted_keys), (2, 1));
        s.validate().unwrap();
    }

    #[test]
    fn noeviction_under_the_objects_model_refuses_what_does_not_fit() {
        let mut s = store(Policy::NoEviction, MemoryModel::Objects, 100);
        assert!(set(&mut s, 1, 59));
        assert!(!set(&mut s, 2, 59));
        assert_eq!((s.dbsize(), s.stats().oom_rejections), (1, 1));
    }

    #[test]
    fn redis_policies_sample_the_same_keys_under_the_objects_model() {
        for policy in [
            Policy::AllKeysLru,
            Policy::AllKeysRandom,
            Policy::AllKeysLfu,
        ] {
            let mut s = store(policy, MemoryModel::Objects, 1000);
            for id in 0..100 {
                assert!(set(&mut s, id, 99));
                assert!(s.used_memory() <= 1000);
            }
            assert_eq!(s.dbsize(), 10, "{policy}");
            s.validate().unwrap();
        }
    }

    #[test]
    fn changing_memory_model_recounts_and_rebuilds() {
        let mut s = store(Policy::ExactLru, MemoryModel::Redis, 0);
        for id in 0..10 {
            set(&mut s, id, 100);
        }
        s.config_mut().memory_model = MemoryModel::Objects;
        s.config_mut().maxmemory = 505;
        s.validate().unwrap();
        assert_eq!(
            s.model(),
            MemoryModel::Redis,
            "counted as before until the next command"
        );
        // Takes effect at the next command: recounted as 10 × 101 B, then
        // evicted down to the limit.
        let _ = s.begin(s.now(), false);
        assert_eq!((s.used_memory(), s.dbsize()), (505, 5));
        s.validate().unwrap();
        assert!(set(&mut s, 10, 100));
        assert_eq!((s.dbsize(), s.used_memory()), (5, 505));
        assert!(!s.exists(Key { id: 0, len: 1 }));
    }

    /// Every reference policy, under both memory models, through random SET
    /// (with and without TTL), GET, DEL, EXPIRE and cron ticks: the store's
    /// invariants hold after every step (the policy tracks exactly the
    /// keyspace), memory stays within the limit under the objects model, and
    /// expired keys leave through lazy and active expiry.
    #[test]
    fn every_reference_policy_keeps_the_store_consistent_with_ttls() {
        for model in [MemoryModel::Redis, MemoryModel::Objects] {
            for policy in Policy::REFERENCE {
                let max = match model {
                    MemoryModel::Redis => 940_096 + 300 * 186,
                    MemoryModel::Objects => 20_000,
                };
                let mut s = store(policy, model, max);
                let mut rng = Pcg64Mcg::seed_from_u64(policy.name().len() as u64);
                let mut now = T0;
                for step in 0..6000u64 {
                    now += rng.gen_range(0..20_000);
                    if step % 50 == 0 {
                        s.cron(now);
                    }
                    let key = Key {
                        id: rng.gen_range(0..1000),
                        len: 8,
                    };
                    let denyoom = rng.gen_bool(0.5);
                    if s.begin(now, denyoom).is_err() {
                        continue;
                    }
                    if model == MemoryModel::Objects {
                        // Overwrites may grow a key past the limit; the next
                        // command's eviction brings memory back within it.
                        assert!(s.used_memory() <= max, "{policy}: {}", s.used_memory());
                    }
                    match rng.gen_range(0..10) {
                        0..=3 => {
                            s.get(key);
                        }
                        4..=6 => random_set(&mut s, &mut rng, key, now, (0.5, 3000, 200)),
                        7 => {
                            s.del(key);
                        }
                        8 => {
                            let at = (now / 1000) as i64 + rng.gen_range(-100..2000);
                            s.expire(key, at, ExpireCond::default());
                        }
                        _ => {
                            let _ = s.incr_by(key, 1);
                        }
                    }
                    s.set_next_use(key.id, now + rng.gen_range(0..1_000_000));
                    if let Err(e) = s.validate() {
                        panic!("{policy} / {model:?}, step {step}: {e}");
                    }
                }
                let st = s.stats();
                assert!(st.evicted_keys > 0, "{policy} / {model:?} never evicted");
                assert!(st.expired_keys > 0, "{policy} / {model:?}: nothing expired");
                assert!(s.policy_overhead_bytes() > 0);
            }
        }
    }

    #[test]
    fn set_policy_starts_a_reference_from_the_keys_present() {
        let mut s = store(Policy::AllKeysLru, MemoryModel::Objects, 1000);
        for id in 0..5 {
            set(&mut s, id, 99);
        }
        assert_eq!(s.policy_len(), None);
        for p in Policy::REFERENCE {
            s.set_policy(p);
            assert_eq!(s.policy_len(), Some(5), "{p}");
            s.validate().unwrap();
        }
        s.flushall();
        assert_eq!(s.policy_len(), Some(0));
    }
}
