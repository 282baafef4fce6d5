//! The keyspace model: one Redis 7.0 database on a simulated clock.
//!
//! [`Store`] owns the main dict and the expires dict ([`dict::Dict`]), one
//! slot per main-dict entry in a dense array of per-key structs (value,
//! key length, expires-entry link, bytes, creation time; the LRU/LFU field
//! lives in the dict entry), the memory counter
//! ([`memory`]), the active expire cycle (`expire.rs`) and eviction
//! (`evict.rs`). It never reads the system clock: every command runs at the
//! time given to [`Store::begin`], like Redis's per-command cached time.
//!
//! A command is `begin` (eviction before the command, as `processCommand`
//! does; refuses DENYOOM commands when nothing can be freed) followed by one
//! of the typed operations below. Under the objects memory model
//! ([`MemoryModel::Objects`]) `maxmemory` bounds the sum of key and value
//! sizes only, and a write of a new key makes room for itself first. The text front end (`crate::command`) parses
//! Redis syntax onto the same operations, so the simulator and the shell share
//! every rule.

mod append;
pub mod config;
pub mod dict;
pub mod evict;
mod expire;
pub mod memory;
pub mod prefetch;
pub mod stale;
pub mod value;

pub use append::{TooLong, MAX_STRING};
pub use config::{Config, CostModel, MemoryModel, Policy};
pub use evict::{Admission, PolicyParams, ReferencePolicy, Registration, REGISTRY};
pub use value::{Payload, SimValue};

use dict::{Dict, GrowthGuard, NIL};
use memory::Encoding;
use rand::{RngCore, SeedableRng};
use rand_pcg::Pcg64Mcg;
use stale::StaleTracker;
use std::cell::RefCell;

/// Simulated time: microseconds since the Unix epoch.
pub use crate::units::Micros;

/// A key: an integer id (the front end maps names to ids) and its length in
/// bytes (for the memory model).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Key {
    /// Unique id of the key name.
    pub id: u64,
    /// Length of the key name in bytes.
    pub len: u32,
}

/// Why a key left the keyspace (reported in [`KeyEvent`]s).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Removal {
    /// Found expired by a lookup (`expireIfNeeded`).
    ExpiredLazy,
    /// Reclaimed by the active expire cycle.
    ExpiredActive,
    /// Evicted to honour `maxmemory`.
    Evicted,
    /// Deleted by a command (DEL, GETDEL, EXPIRE in the past, FLUSHALL).
    Deleted,
}

/// A key leaving the keyspace, for metrics (expiry lag, miss causes).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KeyEvent {
    /// The key id.
    pub key: u64,
    /// Why it left.
    pub cause: Removal,
    /// Its expire time in Unix ms, or [`NO_TTL`].
    pub expire_at_ms: i64,
    /// When it left (simulated µs).
    pub at: Micros,
    /// Bytes of `used_memory` it held (entry, key, value, expires entry).
    pub bytes: u64,
    /// When it was created (simulated µs): how long it stayed resident is
    /// `at - born`. Overwrites keep a key's creation time.
    pub born: Micros,
}

/// Marks "no TTL" in expire-time fields.
pub const NO_TTL: i64 = i64::MIN;

/// Counters Redis reports in `INFO stats`, plus model-only detail.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Stats {
    /// `keyspace_hits`.
    pub keyspace_hits: u64,
    /// `keyspace_misses`.
    pub keyspace_misses: u64,
    /// `expired_keys` (lazy and active expiry).
    pub expired_keys: u64,
    /// `expired_stale_perc` as a fraction (EMA of expired/sampled).
    pub expired_stale_perc: f64,
    /// `expired_time_cap_reached_count`.
    pub expired_time_cap_reached_count: u64,
    /// `expire_cycle_cpu_milliseconds`, kept in µs.
    pub expire_cycle_time_used_us: u64,
    /// `evicted_keys`.
    pub evicted_keys: u64,
    /// Model only: keys removed by the active cycle.
    pub expired_active: u64,
    /// Model only: keys examined by the active cycle.
    pub expire_keys_sampled: u64,
    /// Model only: active expire cycles run (slow and fast).
    pub expire_cycles: u64,
    /// Model only: longest modelled cycle (µs): the server is blocked that long.
    pub expire_cycle_max_us: u64,
    /// Model only: commands refused with OOM.
    pub oom_rejections: u64,
    /// Model only: evicted keys that were already logically expired (the rest
    /// of `evicted_keys` were evicted before their TTL ran out: premature).
    pub evicted_stale_keys: u64,
    /// Model only: time spent evicting (µs, modelled).
    pub eviction_time_us: u64,
    /// Model only: writes of a new key left unstored because the key is
    /// larger than `maxmemory` (objects model) or a reference policy's
    /// admission refused it (as libCacheSim's S3-FIFO refuses objects larger
    /// than its small queue).
    pub writes_not_admitted: u64,
}

/// The `-OOM` refusal of a DENYOOM command.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Oom;

/// NX / XX for SET.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetCond {
    /// Always write.
    Always,
    /// Only if the key does not exist.
    Nx,
    /// Only if the key exists.
    Xx,
}

/// What SET does to the key's TTL.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SetTtl {
    /// No expiry option: any TTL is removed.
    Clear,
    /// KEEPTTL.
    Keep,
    /// Expire at this absolute Unix time in ms (EX/PX already converted).
    At(i64),
}

/// The NX/XX/GT/LT conditions of EXPIRE (combinable as Redis allows: XX with
/// GT or LT).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct ExpireCond {
    /// Only if the key has no TTL.
    pub nx: bool,
    /// Only if the key has a TTL.
    pub xx: bool,
    /// Only if the new time is later than the current one (no TTL = infinite).
    pub gt: bool,
    /// Only if the new time is earlier (no TTL counts as infinite).
    pub lt: bool,
}

/// GETEX's expiry action.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum GetexAction {
    /// Leave the TTL alone.
    None,
    /// Set the expire time (absolute ms).
    At(i64),
    /// Remove the TTL.
    Persist,
}

/// The TTL family's answer before unit conversion.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TtlState {
    /// No such key (-2).
    Missing,
    /// The key has no TTL (-1).
    Persistent,
    /// Absolute expire time in ms.
    At(i64),
}

/// INCR's failures, with Redis's texts in `crate::command`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum IncrError {
    /// The value is not an integer.
    NotInteger,
    /// The result would overflow i64.
    Overflow,
}

/// One key's fields, together so that a command on a key reads one or two
/// cache lines of them, not one per field. Its `robj.lru` lives in its
/// dict entry instead ([`dict::Dict::aux`]), where eviction's sampling
/// reads it with the key.
#[derive(Clone, Debug)]
struct Slot<P> {
    value: Option<P>,
    /// Bytes this key holds as the memory model counts them (Redis:
    /// `used_memory` excluding buckets; objects: key length + value size).
    bytes: u64,
    key_len: u32,
    /// Expires-dict entry id, or NIL.
    exp_id: u32,
    encoding: Encoding,
    /// When the key was created (`dbAdd`; not a Redis field): carried to
    /// its removal's [`KeyEvent`], so the metrics learn how long it stayed
    /// without a per-key record of their own to read back.
    created: Micros,
}

/// Per-key fields, indexed by main-dict entry id.
#[derive(Clone, Debug, Default)]
struct Slots<P>(Vec<Slot<P>>);

impl<P: Clone> Slots<P> {
    fn ensure(&mut self, id: u32) {
        let need = id as usize + 1;
        if self.0.len() < need {
            self.0.resize(
                need,
                Slot {
                    value: None,
                    bytes: 0,
                    key_len: 0,
                    exp_id: NIL,
                    encoding: Encoding::Raw,
                    created: 0,
                },
            );
        }
    }
}

impl<P> Slots<P> {
    /// True when slot `id` holds a resident key (a freed slot has no
    /// value).
    #[inline]
    fn is_live(&self, id: u32) -> bool {
        self.0.get(id as usize).is_some_and(|s| s.value.is_some())
    }

    /// Hints the CPU to load slot `id`: the line it starts in and the one
    /// it may end in.
    #[inline]
    fn prefetch(&self, id: u32) {
        if let Some(slot) = self.0.get(id as usize) {
            let p = slot as *const Slot<P> as *const u8;
            prefetch::prefetch(p);
            prefetch::prefetch(p.wrapping_add(std::mem::size_of::<Slot<P>>() - 1));
        }
    }
}

impl<P> std::ops::Index<usize> for Slots<P> {
    type Output = Slot<P>;
    #[inline]
    fn index(&self, i: usize) -> &Slot<P> {
        &self.0[i]
    }
}

impl<P> std::ops::IndexMut<usize> for Slots<P> {
    #[inline]
    fn index_mut(&mut self, i: usize) -> &mut Slot<P> {
        &mut self.0[i]
    }
}

/// Growth guard for the DB dicts: `dictExpandAllowed` (server.c).
struct MaxmemoryGuard {
    used: u64,
    maxmemory: u64,
}

impl GrowthGuard for MaxmemoryGuard {
    fn allow(&self, more_bytes: u64) -> bool {
        self.maxmemory == 0 || self.used + more_bytes <= self.maxmemory
    }
}

/// One modelled Redis 7.0 database and the server state around it.
pub struct Store<P: Payload> {
    cfg: Config,
    main: Dict,
    expires: Dict,
    slots: Slots<P>,
    /// Expire time (ms) per expires-dict entry id.
    exp_when: Vec<i64>,
    /// Main-dict entry id per expires-dict entry id.
    exp_main: Vec<u32>,
    /// Bytes of keys and values (everything but buckets, baseline, clients).
    data_bytes: u64,
    now: Micros,
    lru_clock: u32,
    stats: Stats,
    expire_state: expire::State,
    /// Cron ticks so far (a miniature's slow expire cycle skips some).
    cron_ticks: u64,
    evict_state: evict::State,
    rng: Pcg64Mcg,
    /// See [`Store::policy_used`].
    policy_used: bool,
    events: Vec<KeyEvent>,
    record_events: bool,
    scratch: Vec<u32>,
    /// Stale keys and bytes, kept as keys change (folded when read).
    stale: RefCell<StaleTracker>,
    /// Values APPEND grew, by slot: their sds allocation and capacity.
    grown: rustc_hash::FxHashMap<u32, append::Grown>,
}

impl<P: Payload> Store<P> {
    /// A fresh, empty server at simulated time `now`, its randomness (hash
    /// seed, sampling, LFU increments) drawn from `seed`.
    pub fn new(cfg: Config, seed: u64, now: Micros) -> Self {
        let mut rng = Pcg64Mcg::seed_from_u64(seed);
        let hash_seed = rng.next_u64();
        let main = if evict::chains_needed(&cfg) {
            Dict::with_direct_index(hash_seed)
        } else {
            Dict::without_chains(hash_seed)
        };
        let mut s = Store {
            cfg,
            main,
            expires: Dict::new(hash_seed),
            slots: Slots(Vec::new()),
            exp_when: Vec::new(),
            exp_main: Vec::new(),
            data_bytes: 0,
            now,
            lru_clock: 0,
            stats: Stats::default(),
            expire_state: expire::State::default(),
            cron_ticks: 0,
            evict_state: evict::State::default(),
            rng,
            policy_used: false,
            events: Vec::new(),
            record_events: false,
            scratch: Vec::new(),
            stale: RefCell::new(StaleTracker::new((now / 1000) as i64)),
            grown: rustc_hash::FxHashMap::default(),
        };
        s.lru_clock = s.lru_clock_now();
        s.evict_state.seed = seed;
        s.sync_config();
        s
    }

    /// Turns on [`KeyEvent`] recording (for the simulator's metrics).
    pub fn record_events(&mut self, on: bool) {
        self.record_events = on;
    }

    /// Takes the recorded key events, oldest first.
    pub fn drain_events(&mut self) -> std::vec::Drain<'_, KeyEvent> {
        self.events.drain(..)
    }

    /// The key events not drained yet.
    #[inline]
    pub fn pending_events(&self) -> &[KeyEvent] {
        &self.events
    }

    /// The settings.
    pub fn config(&self) -> &Config {
        &self.cfg
    }

    /// Changes settings (CONFIG SET). Shrinking `maxmemory` takes effect at
    /// the next command, as in Redis; so do a new policy (rebuilt from the
    /// keys present) and a new memory model (every key recounted).
    pub fn config_mut(&mut self) -> &mut Config {
        self.evict_state.dirty = true;
        &mut self.cfg
    }

    /// Counters.
    pub fn stats(&self) -> &Stats {
        &self.stats
    }

    /// True once anything depended on which of its class
    /// ([`Policy::alike_until_eviction`]) the eviction policy is, or on the
    /// eviction-only settings ([`config::EVICTION_ONLY_SETTINGS`]): memory
    /// was found over `maxmemory` (the policy was asked to free some), or a
    /// reply showed the policy or a key's LRU/LFU field ([`Store::use_policy`]).
    /// While it is false, the run so far is the same under any policy of its
    /// class, which lets a sweep simulate one run for all of them.
    pub fn policy_used(&self) -> bool {
        self.policy_used
    }

    /// Notes that something depended on the policy ([`Store::policy_used`]).
    #[inline]
    pub fn use_policy(&mut self) {
        self.policy_used = true;
    }

    /// `CONFIG RESETSTAT`: zeroes the counters Redis resets.
    pub fn reset_stats(&mut self) {
        self.stats = Stats::default();
    }

    /// Current simulated time.
    pub fn now(&self) -> Micros {
        self.now
    }

    /// Current time in Unix ms (Redis's expiry resolution).
    #[inline]
    pub fn now_ms(&self) -> i64 {
        (self.now / 1000) as i64
    }

    /// `DBSIZE`: keys, including expired keys not yet reclaimed.
    pub fn dbsize(&self) -> usize {
        self.main.len()
    }

    /// Keys with a TTL (`expires=` in INFO keyspace).
    pub fn volatile_keys(&self) -> usize {
        self.expires.len()
    }

    /// `avg_ttl` of INFO keyspace (ms), as estimated by the active cycle.
    pub fn avg_ttl(&self) -> i64 {
        self.expire_state.avg_ttl
    }

    /// The memory `maxmemory` is compared with. Redis model: the model of
    /// `used_memory`, baseline + clients + keys + bucket arrays. Objects
    /// model: the sum of key lengths and value sizes, nothing else.
    #[inline]
    pub fn used_memory(&self) -> u64 {
        match self.model() {
            MemoryModel::Redis => {
                self.cfg.baseline_memory
                    + self.cfg.client_memory
                    + self.data_bytes
                    + self.main.bucket_bytes()
                    + self.expires.bucket_bytes()
            }
            MemoryModel::Objects => self.data_bytes,
        }
    }

    /// Memory of the keyspace alone (`used_memory` minus baseline and
    /// clients; under the objects model the same as `used_memory`).
    pub fn dataset_memory(&self) -> u64 {
        match self.model() {
            MemoryModel::Redis => {
                self.data_bytes + self.main.bucket_bytes() + self.expires.bucket_bytes()
            }
            MemoryModel::Objects => self.data_bytes,
        }
    }

    /// The memory model keys are counted with: `Config::memory_model` as of
    /// the last command (a change is applied, and every key recounted, by
    /// the next [`Store::begin`]).
    #[inline]
    pub fn model(&self) -> MemoryModel {
        self.evict_state.model
    }

    /// Bytes the memory model counts for a key name of `len` bytes.
    #[inline]
    fn key_cost(&self, len: u32) -> u64 {
        match self.model() {
            MemoryModel::Redis => memory::key_bytes(len as u64),
            MemoryModel::Objects => len as u64,
        }
    }

    /// Bytes the memory model counts for a value of `len` bytes in `enc`.
    #[inline]
    fn value_cost(&self, enc: Encoding, len: u64) -> u64 {
        match self.model() {
            MemoryModel::Redis => enc.value_bytes(len),
            MemoryModel::Objects => len,
        }
    }

    /// Bytes the memory model counts for a key's TTL (its expires entry).
    #[inline]
    fn ttl_cost(&self) -> u64 {
        match self.model() {
            MemoryModel::Redis => memory::DICT_ENTRY,
            MemoryModel::Objects => 0,
        }
    }

    /// Recounts every key's bytes after a memory-model change.
    fn recount_memory(&mut self) {
        let mut total = 0;
        let ids: Vec<u32> = self.main.ids().collect();
        for id in ids {
            let i = id as usize;
            let mut b = self.key_cost(self.slots[i].key_len) + self.slot_value_cost(id);
            if self.slots[i].exp_id != NIL {
                b += self.ttl_cost();
            }
            self.slots[i].bytes = b;
            total += b;
        }
        self.data_bytes = total;
        let tracker = self.stale.get_mut();
        tracker.clear();
        for slot in &self.slots.0 {
            if slot.exp_id != NIL {
                tracker.add(self.exp_when[slot.exp_id as usize], slot.bytes);
            }
        }
    }

    /// Keys that are logically expired but still resident, and their bytes,
    /// from the incremental [`StaleTracker`]: O(expire times passed since
    /// the last call), not O(keys).
    pub fn stale(&self) -> (u64, u64) {
        self.stale.borrow_mut().at(self.now_ms())
    }

    /// [`Store::stale`] by a linear scan of the per-key slots (for checks).
    pub fn stale_scan(&self) -> (u64, u64) {
        let now = self.now_ms();
        let mut keys = 0;
        let mut bytes = 0;
        for slot in &self.slots.0 {
            // Freed slots have no expires link (delete_slot clears it).
            if slot.exp_id != NIL && now > self.exp_when[slot.exp_id as usize] {
                keys += 1;
                bytes += slot.bytes;
            }
        }
        (keys, bytes)
    }

    fn lru_clock_now(&self) -> u32 {
        ((self.now / 1_000_000) & 0xff_ffff) as u32
    }

    fn lfu_minutes(&self) -> u32 {
        ((self.now / 60_000_000) & 0xffff) as u32
    }

    /// Starts a command at time `now`: caches the time, then, when
    /// `maxmemory` is set, evicts until used memory is within it
    /// (`performEvictions`). Returns `Err(Oom)` for a DENYOOM command when
    /// nothing could be freed; the command must then not run.
    #[inline(always)]
    pub fn begin(&mut self, now: Micros, denyoom: bool) -> Result<(), Oom> {
        self.now = self.now.max(now);
        if self.evict_state.dirty {
            self.sync_config();
        }
        if self.cfg.maxmemory != 0 && !self.perform_evictions() && denyoom {
            self.stats.oom_rejections += 1;
            return Err(Oom);
        }
        Ok(())
    }

    /// The server cron tick (`serverCron` → `databasesCron`): refresh the LRU
    /// clock, run the slow active expire cycle, shrink sparse tables, spend
    /// ~1 ms on incremental rehashing.
    pub fn cron(&mut self, now: Micros) {
        self.now = self.now.max(now);
        self.lru_clock = self.lru_clock_now();
        // A miniature runs the slow cycle on one tick in 1/rate (see
        // `Config::miniature_rate`).
        self.cron_ticks = self.cron_ticks.wrapping_add(1);
        if self.cron_ticks.is_multiple_of(self.cfg.slow_expire_every()) {
            self.active_expire_cycle(expire::CycleKind::Slow);
        }
        self.main.shrink_if_needed();
        self.expires.shrink_if_needed();
        let buckets = dict::CRON_REHASH_BUCKETS;
        if self.main.is_rehashing() {
            self.main.rehash(buckets);
        } else if self.expires.is_rehashing() {
            self.expires.rehash(buckets);
        }
    }

    /// Cron ticks, from the next one, that would only advance the LRU
    /// clock and count empty expire cycles: none while a table rehashes or
    /// could shrink or a fast expire cycle is due; all of them while no key
    /// has a TTL (a slow cycle then finds nothing to sample, so a sparse
    /// trace's long gaps cost nothing); otherwise those before the next
    /// slow expire cycle (which a full-size server runs on every tick, a
    /// miniature on one in 1/rate). An event loop may skip them with
    /// [`Store::skip_idle_ticks`] as long as nothing else changes the store
    /// meanwhile.
    pub fn idle_ticks_ahead(&self) -> u64 {
        if self.expire_state.timelimit_exit
            || self.main.is_rehashing()
            || self.expires.is_rehashing()
            || self.main.would_shrink()
            || self.expires.would_shrink()
        {
            return 0;
        }
        if self.expires.is_empty() {
            return u64::MAX;
        }
        let every = self.cfg.slow_expire_every();
        every - 1 - self.cron_ticks % every
    }

    /// Runs `n` idle cron ticks (see [`Store::idle_ticks_ahead`]), the last
    /// at `last`: exactly what `n` calls of [`Store::cron`] would do then.
    pub fn skip_idle_ticks(&mut self, n: u64, last: Micros) {
        debug_assert!(n <= self.idle_ticks_ahead());
        self.now = self.now.max(last);
        self.lru_clock = self.lru_clock_now();
        let every = self.cfg.slow_expire_every();
        let before = self.cron_ticks;
        self.cron_ticks = before.wrapping_add(n);
        // The slow cycles among them, each on an empty expires dict.
        let cycles = (u128::from(before) + u128::from(n)) / u128::from(every)
            - u128::from(before) / u128::from(every);
        if cycles > 0 {
            self.empty_expire_cycles(cycles as u64);
        }
    }

    /// Interval between cron ticks at the configured `hz`.
    pub fn cron_period(&self) -> Micros {
        1_000_000 / self.cfg.hz.clamp(1, 500) as u64
    }

    /// `beforeSleep`: the fast active expire cycle, which runs only after a
    /// cycle that hit its time cap.
    pub fn before_sleep(&mut self, now: Micros) {
        self.now = self.now.max(now);
        self.active_expire_cycle(expire::CycleKind::Fast);
    }

    // ----- lookups ------------------------------------------------------

    /// `expireIfNeeded`: deletes the key in slot `id` if it is logically
    /// expired (counted in `expired_keys`). Returns true if it was deleted.
    #[inline(always)]
    fn expire_if_needed(&mut self, id: u32) -> bool {
        if self.expires.is_empty() {
            return false;
        }
        self.expire_if_due(id)
    }

    /// [`Store::expire_if_needed`] once some key has a TTL.
    #[inline(never)]
    fn expire_if_due(&mut self, id: u32) -> bool {
        // getExpire's dictFind on the expires dict advances its rehash.
        self.expires.rehash_step();
        let when = self.expire_at(id);
        if when != NO_TTL && self.now_ms() > when {
            self.stats.expired_keys += 1;
            self.delete_slot(id, Removal::ExpiredLazy);
            return true;
        }
        false
    }

    /// Hints the CPU to load what a command on `key` will read first: its
    /// dict bucket. Call it a few requests ahead, then
    /// [`Store::prefetch_slot`] nearer; hints never change a result.
    #[inline]
    pub fn prefetch_bucket(&self, key: u64) {
        self.main.prefetch_bucket(key);
    }

    /// Hints the CPU to load what evicting or deleting `key` will write
    /// in the dict (its bucket and direct index cell): for a victim known
    /// ahead ([`Store::next_victim_key`]).
    #[inline]
    pub fn prefetch_removal(&self, key: u64) {
        self.main.prefetch_removal(key);
    }

    /// Hints the CPU to load the entry (key, LRU stamp), the slot fields
    /// (expire link, value) and the reference policy's record of the key at
    /// the head of `key`'s chain, which is most likely `key` itself when it
    /// is resident.
    #[inline]
    pub fn prefetch_slot(&self, key: u64) {
        if let Some(id) = self.main.prefetch_chain(key) {
            self.slots.prefetch(id);
            self.reference_prefetch(id);
        }
    }

    /// `lookupKey`: find, lazily expire, touch, count hits/misses.
    #[inline(always)]
    fn lookup(&mut self, key: u64, mode: Lookup) -> Option<u32> {
        let mut found = self.main.find(key);
        if let Some(id) = found {
            if self.expire_if_needed(id) {
                found = None;
            }
        }
        match found {
            Some(id) => {
                if mode != Lookup::ReadNoTouch {
                    self.touch_slot(id);
                }
                if mode != Lookup::Write {
                    self.stats.keyspace_hits += 1;
                }
            }
            None => {
                if mode != Lookup::Write {
                    self.stats.keyspace_misses += 1;
                }
            }
        }
        found
    }

    /// Records an access in the object's LRU/LFU field.
    #[inline(always)]
    fn touch_slot(&mut self, id: u32) {
        if self.cfg.policy.is_lfu() {
            let c = self.lfu_decr_and_return(id);
            let c = self.lfu_log_incr(c);
            self.main.set_aux(id, (self.lfu_minutes() << 8) | c as u32);
        } else {
            self.main.set_aux(id, self.lru_clock);
        }
        self.reference_touch(id);
    }

    /// The expire time of the key in slot `id`, or [`NO_TTL`].
    #[inline]
    fn expire_at(&self, id: u32) -> i64 {
        match self.slots[id as usize].exp_id {
            NIL => NO_TTL,
            eid => self.exp_when[eid as usize],
        }
    }

    fn guard(&self) -> MaxmemoryGuard {
        MaxmemoryGuard {
            used: self.used_memory(),
            // Bucket arrays are not counted under the objects model.
            maxmemory: match self.model() {
                MemoryModel::Redis => self.cfg.maxmemory,
                MemoryModel::Objects => 0,
            },
        }
    }

    fn fresh_lru(&self) -> u32 {
        if self.cfg.policy.is_lfu() {
            (self.lfu_minutes() << 8) | evict::LFU_INIT_VAL as u32
        } else {
            self.lru_clock
        }
    }

    fn encode(&self, value: &P) -> Encoding {
        let shared_ok = self.cfg.maxmemory == 0 || !self.cfg.policy.no_shared_integers();
        Encoding::choose(value.len(), value.as_int(), shared_ok)
    }

    /// Bytes a new key of `key_len` bytes holding `value` will count for.
    fn new_key_cost(&self, key_len: u32, value: &P) -> u64 {
        self.key_cost(key_len) + self.value_cost(self.encode(value), value.len())
    }

    /// `dbAdd`: a new key in the main dict.
    #[inline(always)]
    fn add_slot(&mut self, key: Key, value: P) -> u32 {
        let guard = self.guard();
        let id = self.main.insert(key.id, &guard);
        self.slots.ensure(id);
        let enc = self.encode(&value);
        let bytes = self.key_cost(key.len) + self.value_cost(enc, value.len());
        let i = id as usize;
        self.slots[i].value = Some(value);
        self.slots[i].key_len = key.len;
        self.main.set_aux(id, self.fresh_lru());
        self.slots[i].exp_id = NIL;
        self.slots[i].encoding = enc;
        self.slots[i].bytes = bytes;
        self.slots[i].created = self.now;
        self.data_bytes += bytes;
        self.reference_insert(id, key.id, bytes);
        id
    }

    /// A key's value changed size from `old_bytes` to `new_bytes`: its slot,
    /// the data total, a reference policy's record and the stale tracker
    /// follow (SET over a key, APPEND).
    fn resize_value(&mut self, id: u32, old_bytes: u64, new_bytes: u64) {
        if old_bytes == new_bytes {
            return;
        }
        let i = id as usize;
        let old_slot = self.slots[i].bytes;
        self.slots[i].bytes = old_slot - old_bytes + new_bytes;
        self.data_bytes = self.data_bytes - old_bytes + new_bytes;
        self.reference_resize(id, self.slots[i].bytes);
        let eid = self.slots[i].exp_id;
        if eid != NIL {
            self.stale
                .get_mut()
                .resize(self.exp_when[eid as usize], old_slot, self.slots[i].bytes);
        }
    }

    /// `dbOverwrite`: a new value object for an existing key (LFU policies
    /// keep the old LFU field; otherwise the new object's stamp is now).
    fn overwrite_slot(&mut self, id: u32, value: P) {
        let i = id as usize;
        let enc = self.encode(&value);
        let old_bytes = self.slot_value_cost(id);
        self.grown.remove(&id);
        let new_bytes = self.value_cost(enc, value.len());
        self.resize_value(id, old_bytes, new_bytes);
        self.slots[i].value = Some(value);
        self.slots[i].encoding = enc;
        if !self.cfg.policy.is_lfu() {
            self.main.set_aux(id, self.lru_clock);
        }
    }

    /// `setExpire`.
    fn set_expire_slot(&mut self, id: u32, when: i64) {
        let i = id as usize;
        match self.slots[i].exp_id {
            NIL => {
                let key = self.main.key(id);
                let guard = self.guard();
                let eid = self.expires.insert(key, &guard);
                let e = eid as usize;
                if self.exp_when.len() <= e {
                    self.exp_when.resize(e + 1, NO_TTL);
                    self.exp_main.resize(e + 1, NIL);
                }
                self.exp_when[e] = when;
                self.exp_main[e] = id;
                self.slots[i].exp_id = eid;
                let cost = self.ttl_cost();
                if cost != 0 {
                    self.slots[i].bytes += cost;
                    self.data_bytes += cost;
                    self.reference_resize(id, self.slots[i].bytes);
                }
                self.stale.get_mut().add(when, self.slots[i].bytes);
            }
            eid => {
                self.expires.rehash_step();
                let old = std::mem::replace(&mut self.exp_when[eid as usize], when);
                if old != when {
                    let tracker = self.stale.get_mut();
                    tracker.remove(old, self.slots[i].bytes);
                    tracker.add(when, self.slots[i].bytes);
                }
            }
        }
    }

    /// `removeExpire`: returns true if a TTL was removed.
    fn remove_expire_slot(&mut self, id: u32) -> bool {
        let i = id as usize;
        if self.slots[i].exp_id == NIL {
            return false;
        }
        let key = self.main.key(id);
        let when = self.exp_when[self.slots[i].exp_id as usize];
        self.stale.get_mut().remove(when, self.slots[i].bytes);
        self.expires.remove(key);
        self.slots[i].exp_id = NIL;
        let cost = self.ttl_cost();
        if cost != 0 {
            self.slots[i].bytes -= cost;
            self.data_bytes -= cost;
            self.reference_resize(id, self.slots[i].bytes);
        }
        true
    }

    /// `dbGenericDelete`: removes the key in slot `id` from both dicts.
    fn delete_slot(&mut self, id: u32, cause: Removal) {
        self.delete_slot_inner(id, cause, true);
    }

    /// [`Store::delete_slot`]; `notify_policy` is false when the reference
    /// policy itself chose the key (it has already forgotten it).
    #[inline(always)]
    fn delete_slot_inner(&mut self, id: u32, cause: Removal, notify_policy: bool) {
        let i = id as usize;
        let key = self.main.key(id);
        let expire_at_ms = self.expire_at(id);
        if notify_policy {
            self.reference_remove(id);
        }
        self.main.remove(key);
        if !self.expires.is_empty() {
            self.expires.remove(key);
        }
        let bytes = self.slots[i].bytes;
        if expire_at_ms != NO_TTL {
            self.stale.get_mut().remove(expire_at_ms, bytes);
        }
        self.data_bytes -= bytes;
        self.grown.remove(&id);
        self.slots[i].value = None;
        self.slots[i].exp_id = NIL;
        if self.record_events {
            self.events.push(KeyEvent {
                key,
                cause,
                expire_at_ms,
                at: self.now,
                bytes,
                born: self.slots[i].created,
            });
        }
    }

    // ----- commands -----------------------------------------------------

    /// GET: the value, or `None` (counts a hit or a miss).
    #[inline(always)]
    pub fn get(&mut self, key: Key) -> Option<&P> {
        let id = self.lookup(key.id, Lookup::Read)?;
        self.slots[id as usize].value.as_ref()
    }

    /// SET with its options. Returns whether the value was written and, when
    /// `get` is set, the old value (SET … GET reads it first, counting a hit
    /// or miss).
    ///
    /// A new key is first offered to the reference policy, if any, and under
    /// the objects memory model makes room for itself (evicting until
    /// `used + size <= maxmemory`, as libCacheSim inserts on a miss); a key
    /// larger than `maxmemory`, or one the policy does not admit, is not
    /// written (`writes_not_admitted`), nor one nothing can be evicted for
    /// (`oom_rejections`): the reply is then "not written". An overwrite
    /// that grows a key is evicted for by the next command, as in Redis.
    pub fn set(
        &mut self,
        key: Key,
        value: P,
        cond: SetCond,
        ttl: SetTtl,
        get: bool,
    ) -> (bool, Option<P>) {
        let old = if get { self.get(key).cloned() } else { None };
        let found = self.lookup(key.id, Lookup::Write);
        if (cond == SetCond::Nx && found.is_some()) || (cond == SetCond::Xx && found.is_none()) {
            return (false, old);
        }
        let id = match found {
            Some(id) => {
                self.overwrite_slot(id, value);
                if ttl != SetTtl::Keep {
                    self.remove_expire_slot(id);
                }
                id
            }
            None => {
                if self.admission_needed() {
                    let bytes = self.new_key_cost(key.len, &value);
                    if !self.admit_new(key.id, bytes) {
                        return (false, old);
                    }
                }
                self.add_slot(key, value)
            }
        };
        if let SetTtl::At(when) = ttl {
            self.set_expire_slot(id, when);
        }
        (true, old)
    }

    /// GETDEL.
    pub fn getdel(&mut self, key: Key) -> Option<P> {
        let id = self.lookup(key.id, Lookup::Read)?;
        let v = self.slots[id as usize].value.clone();
        self.delete_slot(id, Removal::Deleted);
        v
    }

    /// GETEX: reads the value (counting a hit or miss), then applies the
    /// expiry action; an absolute time already past deletes the key.
    pub fn getex(&mut self, key: Key, action: GetexAction) -> Option<P> {
        let v = self.get(key).cloned()?;
        self.getex_apply(key, action);
        Some(v)
    }

    /// GETEX's expiry action on a key that a read lookup just found live.
    pub fn getex_apply(&mut self, key: Key, action: GetexAction) {
        let Some(id) = self.main.find_no_rehash(key.id) else {
            return;
        };
        match action {
            GetexAction::None => {}
            GetexAction::Persist => {
                self.remove_expire_slot(id);
            }
            GetexAction::At(when) if when <= self.now_ms() => {
                self.delete_slot(id, Removal::Deleted)
            }
            GetexAction::At(when) => self.set_expire_slot(id, when),
        }
    }

    /// DEL / UNLINK of one key: true if a live key was deleted (an expired one
    /// is expired, counted in `expired_keys`, and reported as not deleted).
    pub fn del(&mut self, key: Key) -> bool {
        let Some(id) = self.main.find(key.id) else {
            return false;
        };
        if self.expire_if_needed(id) {
            return false;
        }
        self.delete_slot(id, Removal::Deleted);
        true
    }

    /// EXISTS of one key (a read lookup that does not touch the key).
    pub fn exists(&mut self, key: Key) -> bool {
        self.lookup(key.id, Lookup::ReadNoTouch).is_some()
    }

    /// TOUCH of one key (a read lookup that updates LRU/LFU).
    pub fn touch(&mut self, key: Key) -> bool {
        self.lookup(key.id, Lookup::Read).is_some()
    }

    /// INCRBY (INCR, DECR, DECRBY): keeps the TTL; a missing key starts at 0.
    /// A new key is admitted as by [`Store::set`]; if it is not, the result
    /// is still returned but not stored.
    pub fn incr_by(&mut self, key: Key, delta: i64) -> Result<i64, IncrError> {
        let found = self.lookup(key.id, Lookup::Write);
        let current = match found {
            Some(id) => self.slots[id as usize]
                .value
                .as_ref()
                .and_then(Payload::as_int)
                .ok_or(IncrError::NotInteger)?,
            None => 0,
        };
        let new = current.checked_add(delta).ok_or(IncrError::Overflow)?;
        // incrDecrCommand updates an INT object in place or installs a new
        // one with dbOverwrite; either way the field ends as the write lookup
        // left it (LRU: now; LFU: touched and copied), which overwrite_slot
        // reproduces.
        match found {
            Some(id) => self.overwrite_slot(id, P::from_int(new)),
            None => {
                let value = P::from_int(new);
                if self.admission_needed() {
                    let bytes = self.new_key_cost(key.len, &value);
                    if !self.admit_new(key.id, bytes) {
                        return Ok(new);
                    }
                }
                self.add_slot(key, value);
            }
        }
        Ok(new)
    }

    /// EXPIRE family with the time already converted to absolute ms. Returns
    /// whether the TTL was set (or the key deleted because the time is past).
    pub fn expire(&mut self, key: Key, when: i64, cond: ExpireCond) -> bool {
        let Some(id) = self.lookup(key.id, Lookup::Write) else {
            return false;
        };
        let current = self.expire_at(id);
        let has_ttl = current != NO_TTL;
        if (cond.nx && has_ttl)
            || (cond.xx && !has_ttl)
            || (cond.gt && (!has_ttl || when <= current))
            || (cond.lt && has_ttl && when >= current)
        {
            return false;
        }
        if when <= self.now_ms() {
            self.delete_slot(id, Removal::Deleted);
        } else {
            self.set_expire_slot(id, when);
        }
        true
    }

    /// PERSIST: true if a TTL was removed.
    pub fn persist(&mut self, key: Key) -> bool {
        match self.lookup(key.id, Lookup::Write) {
            Some(id) => self.remove_expire_slot(id),
            None => false,
        }
    }

    /// The TTL family's lookup (does not touch; counts a hit or miss).
    pub fn ttl(&mut self, key: Key) -> TtlState {
        match self.lookup(key.id, Lookup::ReadNoTouch) {
            None => TtlState::Missing,
            Some(id) => match self.expire_at(id) {
                NO_TTL => TtlState::Persistent,
                when => TtlState::At(when),
            },
        }
    }

    /// FLUSHALL: removes every key (reported as deleted).
    pub fn flushall(&mut self) {
        if self.record_events {
            let ids: Vec<u32> = self.main.ids().collect();
            for id in ids {
                self.delete_slot(id, Removal::Deleted);
            }
        }
        self.main.clear();
        self.expires.clear();
        self.data_bytes = 0;
        self.grown.clear();
        self.slots.0.clear();
        self.stale.get_mut().clear();
        self.reference_clear();
    }

    /// Read-only view of a key without side effects: value, expire time,
    /// encoding, LRU/LFU field. `None` if absent (expired keys still show).
    pub fn peek(&self, key: u64) -> Option<(&P, i64, Encoding, u32)> {
        let id = self.main.find_no_rehash(key)?;
        let i = id as usize;
        Some((
            self.slots[i].value.as_ref()?,
            self.expire_at(id),
            self.slots[i].encoding,
            self.main.aux(i as u32),
        ))
    }

    /// Bytes `used_memory` holds for one key (entry, key, value, expires entry).
    pub fn key_memory(&self, key: u64) -> Option<u64> {
        let id = self.main.find_no_rehash(key)?;
        Some(self.slots[id as usize].bytes)
    }

    /// Checks internal invariants (memory adds up, expires ⊆ keyspace,
    /// links consistent). For tests; O(keys).
    pub fn validate(&self) -> Result<(), String> {
        let mut bytes = 0u64;
        let mut volatile = 0usize;
        for id in self.main.ids() {
            let i = id as usize;
            if self.slots[i].value.is_none() {
                return Err("live slot without value".into());
            }
            if self.main.find_no_rehash(self.main.key(id)) != Some(id) {
                return Err(format!(
                    "key {} not found in its entry {id}",
                    self.main.key(id)
                ));
            }
            let mut b = self.key_cost(self.slots[i].key_len) + self.slot_value_cost(id);
            let eid = self.slots[i].exp_id;
            if eid != NIL {
                volatile += 1;
                b += self.ttl_cost();
                if self.exp_main[eid as usize] != id {
                    return Err(format!("expires entry {eid} does not point back to {id}"));
                }
                if self.expires.find_no_rehash(self.main.key(id)) != Some(eid) {
                    return Err(format!("key {} missing from expires", self.main.key(id)));
                }
            }
            if b != self.slots[i].bytes {
                return Err(format!("slot {id}: bytes {} != {}", self.slots[i].bytes, b));
            }
            bytes += b;
        }
        if bytes != self.data_bytes {
            return Err(format!("data bytes {} != sum {}", self.data_bytes, bytes));
        }
        self.stale.borrow().check(self.main.ids().filter_map(|id| {
            let i = id as usize;
            let eid = self.slots[i].exp_id;
            (eid != NIL).then(|| (self.exp_when[eid as usize], self.slots[i].bytes))
        }))?;
        if self.stale() != self.stale_scan() {
            return Err(format!(
                "stale keys/bytes {:?}, a scan finds {:?}",
                self.stale(),
                self.stale_scan()
            ));
        }
        if volatile != self.expires.len() {
            return Err(format!(
                "{} volatile keys but expires has {}",
                volatile,
                self.expires.len()
            ));
        }
        if let Some(n) = self.policy_len() {
            if !self.evict_state.dirty && n != self.main.len() {
                return Err(format!(
                    "reference policy tracks {n} keys, the keyspace has {}",
                    self.main.len()
                ));
            }
        }
        Ok(())
    }
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Lookup {
    Read,
    ReadNoTouch,
    Write,
}

#[cfg(test)]
mod tests;
