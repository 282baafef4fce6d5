//! [`World`] (the simulated server's state) and [`Ctx`]: what a client sees
//! while it handles one event: the clock, its own timers, and typed Redis
//! commands against the world.
//!
//! Every command is run the way `processCommand` runs it: `Store::begin`
//! (eviction first; a DENYOOM write refused with OOM when nothing can be
//! freed), the operation, then the key events the command caused are
//! absorbed into the metrics (expiry lag, evictions, each key's fate) before
//! the reply is classified, so a miss knows whether the key had expired or
//! been evicted. With a trace writer attached, each command is also recorded.

use std::io::Write;

use super::keys::{Fate, KeyBook, Namespaces, SimKey};
use super::queue::{Class, EventQueue};
use crate::command::{Exec, KeyMap};
use crate::metrics::recorder::{MissCause, Recorder};
use crate::reply::Reply;
use crate::store::{
    ExpireCond, GetexAction, Key, Micros, Payload, Removal, SetCond, SetTtl, SimValue, Store,
};
use crate::workload::trace::{Op, Request, TraceWriter};

/// A recording sink for generated workloads.
pub type TraceSink = TraceWriter<Box<dyn Write + Send>>;

/// The reply to a read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Read {
    /// The key's value.
    Hit(SimValue),
    /// No key, and why.
    Miss(MissCause),
}

impl Read {
    /// True on a hit.
    pub fn is_hit(self) -> bool {
        matches!(self, Read::Hit(_))
    }
}

/// The simulated server's state, passed to clients as one `&mut`: the
/// store, the metrics recorder, the key book (each key's last fate) and the
/// namespace table.
pub struct World {
    pub(crate) store: Store<SimValue>,
    pub(crate) rec: Recorder,
    pub(crate) book: KeyBook,
    pub(crate) names: Namespaces,
}

impl World {
    /// Moves the store's key events into the key book and the recorder.
    /// Most commands leave none: that check is inlined into every command.
    #[inline(always)]
    pub fn absorb(&mut self) {
        if !self.store.pending_events().is_empty() {
            self.absorb_events();
        }
    }

    /// [`World::absorb`] when there are events.
    #[inline(never)]
    fn absorb_events(&mut self) {
        let mut evicted = false;
        for ev in self.store.drain_events() {
            evicted |= ev.cause == Removal::Evicted;
            let Some(n) = self.names.of(ev.key) else {
                continue;
            };
            let fate = match ev.cause {
                Removal::ExpiredLazy | Removal::ExpiredActive => Fate::Expired,
                Removal::Evicted => Fate::Evicted,
                Removal::Deleted => Fate::Deleted,
            };
            self.book.set_removed(n, ev.key, fate);
            self.rec.removed(n as usize, &ev);
        }
        // The next eviction's key book cells, when the policy knows it.
        if evicted {
            if let Some(k) = self.store.next_victim_key() {
                self.store.prefetch_removal(k);
                if let Some(n) = self.names.of(k) {
                    self.book.prefetch(n, k);
                }
            }
        }
    }

    /// Hints the CPU to load the key book cells of the keys the store just
    /// removed (an eviction before a write), which [`World::absorb`] will
    /// write once the command is done: their loads overlap the command.
    #[inline]
    pub fn prefetch_removed(&self) {
        for ev in self.store.pending_events() {
            if let Some(n) = self.names.of(ev.key) {
                self.book.prefetch(n, ev.key);
            }
        }
    }

    /// After server work (cron, beforeSleep): absorbs key events and
    /// accounts the expire cycle's modelled time as blocking.
    pub fn server_work(&mut self) {
        self.absorb();
        let used = self.store.stats().expire_cycle_time_used_us;
        self.rec.blocked(used - self.rec.expire_seen_us);
        self.rec.expire_seen_us = used;
        self.rec.memory(self.store.used_memory());
    }
}

/// What a client sees while it handles one event: the clock, its own
/// timers, and typed Redis commands against the [`World`].
pub struct Ctx<'a> {
    pub(crate) now: Micros,
    pub(crate) start: Micros,
    pub(crate) src: u32,
    pub(crate) world: &'a mut World,
    pub(crate) queue: &'a mut EventQueue,
    pub(crate) trace: Option<&'a mut TraceSink>,
    pub(crate) trace_err: &'a mut Option<std::io::Error>,
    /// The event loop's clock, while a client handles an event: lets it
    /// run its next event in place ([`Ctx::next_in_place`]). `None` while
    /// clients start.
    pub(crate) clock: Option<&'a mut super::Clock>,
    /// The latest time a client event may run before the loop must take
    /// over: the next cron tick, the end of the run, and once
    /// `queue_read`, the queue's next event.
    pub(crate) in_place_until: Micros,
    /// Whether `in_place_until` counts every event queued.
    pub(crate) queue_read: bool,
}

/// Rounds a delay up to whole milliseconds: clients act on ms boundaries,
/// Redis's expiry resolution, which is also what a trace can say.
#[inline]
pub fn ceil_ms(us: Micros) -> Micros {
    us.div_ceil(1000) * 1000
}

/// The two steps of [`Ctx::prefetch`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Prefetch {
    /// What needs nothing in cache to be found: the key's dict bucket (or
    /// direct-index cell) and its key-book cell, hinted this early because
    /// nothing else waits on them.
    Bucket,
    /// What the bucket leads to: the entry, the slot and the reference
    /// policy's record of the key (reads the bucket, so it should come
    /// after [`Prefetch::Bucket`]).
    Slot,
    /// What the policy's record leads to (a list's neighbours): reads
    /// that record, so it should come after [`Prefetch::Slot`].
    Neighbours,
}

impl Ctx<'_> {
    /// Current simulated time (µs since the Unix epoch).
    #[inline]
    pub fn now(&self) -> Micros {
        self.now
    }

    /// Current time in Unix ms.
    #[inline]
    pub fn now_ms(&self) -> i64 {
        (self.now / 1000) as i64
    }

    /// Milliseconds since the start of the run.
    #[inline]
    pub fn rel_ms(&self) -> u64 {
        (self.now - self.start) / 1000
    }

    /// Start of the run (µs since the Unix epoch).
    pub fn start(&self) -> Micros {
        self.start
    }

    /// True once the warm-up is over: outcomes count only then.
    #[inline]
    pub fn measuring(&self) -> bool {
        self.world.rec.measuring
    }

    /// Schedules this client's event `token` after `delay_us` (rounded up to
    /// the ms).
    #[inline]
    pub fn schedule_in(&mut self, delay_us: Micros, token: u64) {
        self.push_client(self.now + ceil_ms(delay_us), token);
    }

    /// Queues this client's event `token` at `at`.
    #[inline]
    fn push_client(&mut self, at: Micros, token: u64) {
        self.queue.push(at, Class::Client, self.src, token);
        self.queue_read = false;
    }

    /// Schedules this client's next arrival (event `token`) at `rel_us` µs
    /// from the start of the run (rounded up to the ms, never before now),
    /// in the client's arrival slot ([`EventQueue::push_arrival`]).
    #[inline]
    pub fn schedule_arrival(&mut self, rel_us: f64, token: u64) {
        let at = self.after_start(rel_us.max(0.0).ceil() as Micros);
        self.queue.push_arrival(at, self.src, token);
        self.queue_read = false;
    }

    /// This client's next event, at `rel_us` µs from the start of the run,
    /// a whole number of µs (a trace's times; rounded up to the ms, never
    /// before now): when it is the run's next event (nothing comes first:
    /// the cron, a sample, another client's event, the end), moves the
    /// clock there, with what leaving the present runs (`beforeSleep`, the
    /// warm-up's end), and returns true, for the caller to handle it at
    /// once; else schedules it as `token` and returns false. Events run in
    /// exactly the order the queue would pop them either way; a replay
    /// skips the queue and the event loop for most of its records.
    #[inline(always)]
    pub fn next_in_place(&mut self, rel_us: Micros, token: u64) -> bool {
        let at = self.after_start(rel_us);
        if let Some(clock) = self.clock.as_deref_mut() {
            if !self.queue_read {
                // The queue only gains events while a client runs, so its
                // bound only comes earlier.
                self.in_place_until = self.in_place_until.min(self.queue.client_first_until());
                self.queue_read = true;
            }
            if at <= self.in_place_until {
                clock.advance(self.world, at);
                self.now = at;
                return true;
            }
        }
        self.push_client(at, token);
        false
    }

    /// The time `rel_us` µs from the start of the run, rounded up to the
    /// ms, never before now.
    #[inline]
    fn after_start(&self, rel_us: Micros) -> Micros {
        (self.start + ceil_ms(rel_us)).max(self.now)
    }

    /// Hints the CPU about a request to come on `k`: call it with
    /// [`Prefetch::Bucket`] a few requests ahead, [`Prefetch::Slot`]
    /// nearer and [`Prefetch::Neighbours`] nearest, so that the request
    /// finds its memory in cache. A hint never changes what the run
    /// computes.
    #[inline]
    pub fn prefetch(&self, k: SimKey, stage: Prefetch) {
        match stage {
            Prefetch::Bucket => {
                self.world.store.prefetch_bucket(k.id);
                self.world.book.prefetch(k.ns, k.id);
            }
            Prefetch::Slot => self.world.store.prefetch_slot(k.id),
            Prefetch::Neighbours => self.world.store.prefetch_neighbours(k.id),
        }
    }

    /// True when [`Prefetch::Neighbours`] has something to hint (a
    /// reference policy keeps records of keys): the caller can skip that
    /// stage's work otherwise.
    #[inline(always)]
    pub fn hints_neighbours(&self) -> bool {
        self.world.store.has_reference_policy()
    }

    /// Registers a namespace (for trace replay, which meets them as it goes).
    pub fn namespace(&mut self, name: &str, col: &str) -> u32 {
        if let Some(i) = self.world.names.find(name) {
            return i;
        }
        let i = self.world.names.register(name);
        self.world.book.ensure_ns(i);
        self.world.rec.add_ns(name, col);
        i
    }

    /// The namespace table.
    pub fn names(&self) -> &Namespaces {
        &self.world.names
    }

    /// Tells a policy that needs the future ([`crate::store::Policy::needs_future`])
    /// when key `k` is used next (`u64::MAX`: never again).
    pub fn set_next_use(&mut self, k: SimKey, next: u64) {
        self.world.store.set_next_use(k.id, next);
    }

    /// What happened to a key last (as the metrics know it).
    pub fn fate(&self, k: SimKey) -> Fate {
        self.world.book.fate(k.ns, k.id)
    }

    /// The value and expire time (Unix ms or `NO_TTL`) of `k` as the store
    /// holds it, without touching it (expired-but-resident keys show).
    pub fn peek_value(&self, k: SimKey) -> Option<(SimValue, i64)> {
        self.world.store.peek(k.id).map(|(v, e, _, _)| (*v, e))
    }

    #[inline]
    fn begin(&mut self, k: SimKey, denyoom: bool) -> bool {
        self.begin_as(k, denyoom, false)
    }

    /// Starts a command of key `k`: a client request, or with `fill` a
    /// cache fill (a command, but not a request).
    #[inline(always)]
    fn begin_as(&mut self, k: SimKey, denyoom: bool, fill: bool) -> bool {
        if fill {
            self.world.rec.fill(k.ns as usize);
        } else {
            self.world.rec.request(k.ns as usize);
        }
        if self.world.store.begin(self.now, denyoom).is_err() {
            self.world.rec.oom(k.ns as usize);
            self.finish();
            return false;
        }
        self.world.prefetch_removed();
        true
    }

    #[inline]
    fn finish(&mut self) {
        self.world.absorb();
        let evict = self.world.store.stats().eviction_time_us;
        self.world
            .rec
            .blocked(evict - self.world.rec.eviction_seen_us);
        self.world.rec.eviction_seen_us = evict;
        self.world.rec.memory(self.world.store.used_memory());
    }

    #[inline(always)]
    fn written(&mut self, k: SimKey) {
        if self.world.book.set_live(k.ns, k.id) != Fate::Live {
            self.world.rec.created(k.ns as usize);
        }
    }

    #[inline(always)]
    fn classify(&mut self, k: SimKey, v: Option<SimValue>) -> Read {
        let r = match v {
            Some(v) => Read::Hit(v),
            None => Read::Miss(match self.world.book.fate(k.ns, k.id) {
                Fate::Expired => MissCause::Expired,
                Fate::Evicted => MissCause::Evicted,
                _ => MissCause::Cold,
            }),
        };
        self.world.rec.read(
            k.ns as usize,
            match r {
                Read::Hit(_) => None,
                Read::Miss(c) => Some(c),
            },
        );
        r
    }

    #[inline]
    fn record(&mut self, op: Op, k: SimKey, size: u32, ttl_ms: u64) {
        if let Some(t) = self.trace.as_deref_mut() {
            let r = Request {
                time_ms: (self.now - self.start) / 1000,
                op,
                ns: k.ns,
                number: k.number(),
                len: k.len,
                size,
                ttl_ms,
            };
            if let Err(e) = t.request(r) {
                self.trace_err.get_or_insert(e);
            }
        }
    }

    #[inline]
    fn record_get(&mut self, k: SimKey, fill: Option<(u32, u64)>, missed: bool) {
        if let Some(t) = self.trace.as_deref_mut() {
            let (size, ttl_ms) = fill.unwrap_or((0, 0));
            let r = Request {
                time_ms: (self.now - self.start) / 1000,
                op: Op::Get,
                ns: k.ns,
                number: k.number(),
                len: k.len,
                size,
                ttl_ms,
            };
            if let Err(e) = t.get(r, fill.is_some(), missed) {
                self.trace_err.get_or_insert(e);
            }
        }
    }

    #[inline]
    fn key(k: SimKey) -> Key {
        Key {
            id: k.id,
            len: k.len,
        }
    }

    #[inline]
    fn ttl_at(&self, ttl_ms: u64) -> SetTtl {
        if ttl_ms == 0 {
            SetTtl::Clear
        } else {
            SetTtl::At(self.now_ms() + ttl_ms as i64)
        }
    }

    /// GET.
    pub fn get(&mut self, k: SimKey) -> Read {
        self.get_inner(k, None)
    }

    /// GET by a client that, on a miss, will at once SET the key with
    /// `size` bytes and `ttl_ms` (0: no TTL). The same as [`Ctx::get`] for
    /// the store; a trace records the fill in the `get` row.
    #[inline(always)]
    pub fn get_for_fill(&mut self, k: SimKey, size: u32, ttl_ms: u64) -> Read {
        self.get_inner(k, Some((size, ttl_ms)))
    }

    #[inline(always)]
    fn get_inner(&mut self, k: SimKey, fill: Option<(u32, u64)>) -> Read {
        self.begin(k, false);
        let v = self.world.store.get(Self::key(k)).copied();
        self.finish();
        self.record_get(k, fill, v.is_none());
        self.classify(k, v)
    }

    /// GETEX key PX ttl_ms (0: plain GETEX).
    pub fn getex(&mut self, k: SimKey, ttl_ms: u64) -> Read {
        self.begin(k, false);
        let action = if ttl_ms == 0 {
            GetexAction::None
        } else {
            GetexAction::At(self.now_ms() + ttl_ms as i64)
        };
        let v = self.world.store.getex(Self::key(k), action);
        self.finish();
        self.record(Op::Getex, k, 0, ttl_ms);
        self.classify(k, v)
    }

    /// `SET key <size bytes> [PX ttl_ms]` (0: no TTL). False if refused (OOM).
    pub fn set(&mut self, k: SimKey, size: u32, ttl_ms: u64) -> bool {
        self.set_value(k, SimValue::Blob(size.max(1)), ttl_ms)
    }

    /// SET with any value (integers are stored as Redis stores them).
    pub fn set_value(&mut self, k: SimKey, v: SimValue, ttl_ms: u64) -> bool {
        self.set_as(k, v, ttl_ms, false)
    }

    /// A cache fill: the SET a client sends, right after its GET missed, to
    /// store what it fetched from the origin (the fill `record` folds into
    /// the GET's row). Counted as a command, not as a client request.
    /// `SET key <size bytes> [PX ttl_ms]`, as [`Ctx::set`].
    pub fn fill(&mut self, k: SimKey, size: u32, ttl_ms: u64) -> bool {
        self.set_as(k, SimValue::Blob(size.max(1)), ttl_ms, true)
    }

    fn set_as(&mut self, k: SimKey, v: SimValue, ttl_ms: u64, fill: bool) -> bool {
        if !self.begin_as(k, true, fill) {
            self.record(Op::Set, k, v.len() as u32, ttl_ms);
            return false;
        }
        let ttl = self.ttl_at(ttl_ms);
        let (ok, _) = self
            .world
            .store
            .set(Self::key(k), v, SetCond::Always, ttl, false);
        self.finish();
        if ok {
            self.written(k);
        }
        self.record(Op::Set, k, v.len() as u32, ttl_ms);
        ok
    }

    /// `SET key <size bytes> NX [PX ttl_ms]`: true if written. Also returns the
    /// key's fate before the command (after any lazy expiry it caused).
    pub fn set_nx(&mut self, k: SimKey, size: u32, ttl_ms: u64) -> (bool, Fate) {
        if !self.begin(k, true) {
            self.record(Op::Setnx, k, size, ttl_ms);
            return (false, self.fate(k));
        }
        let ttl = self.ttl_at(ttl_ms);
        let (ok, _) = self.world.store.set(
            Self::key(k),
            SimValue::Blob(size.max(1)),
            SetCond::Nx,
            ttl,
            false,
        );
        self.finish();
        let before = self.fate(k);
        if ok {
            self.written(k);
        }
        self.record(Op::Setnx, k, size, ttl_ms);
        (ok, before)
    }

    /// DEL: true if a live key was deleted; otherwise the key's fate says why not.
    pub fn del(&mut self, k: SimKey) -> bool {
        self.begin(k, false);
        let ok = self.world.store.del(Self::key(k));
        self.finish();
        self.record(Op::Del, k, 0, 0);
        ok
    }

    /// INCR: the new value, or `None` if refused (OOM) or not an integer.
    pub fn incr(&mut self, k: SimKey) -> Option<i64> {
        if !self.begin(k, true) {
            self.record(Op::Incr, k, 0, 0);
            return None;
        }
        let r = self.world.store.incr_by(Self::key(k), 1).ok();
        self.finish();
        if r.is_some() {
            self.written(k);
        }
        self.record(Op::Incr, k, 0, 0);
        r
    }

    /// PEXPIRE key ttl_ms: true if the TTL was set.
    pub fn expire(&mut self, k: SimKey, ttl_ms: u64) -> bool {
        self.begin(k, false);
        let when = self.now_ms() + ttl_ms as i64;
        let ok = self
            .world
            .store
            .expire(Self::key(k), when, ExpireCond::default());
        self.finish();
        self.record(Op::Expire, k, 0, ttl_ms);
        ok
    }

    /// `SET key <size bytes> XX [PX ttl_ms]` (memcached's replace and cas):
    /// true if the key existed and was written.
    pub fn set_xx(&mut self, k: SimKey, size: u32, ttl_ms: u64) -> bool {
        if !self.begin(k, true) {
            return false;
        }
        let ttl = self.ttl_at(ttl_ms);
        let (ok, _) = self.world.store.set(
            Self::key(k),
            SimValue::Blob(size.max(1)),
            SetCond::Xx,
            ttl,
            false,
        );
        self.finish();
        ok
    }

    /// memcached's append / prepend: an existing value grows by `size`
    /// bytes and keeps its TTL; a missing key stays missing. True if it grew.
    pub fn append(&mut self, k: SimKey, size: u32) -> bool {
        if !self.begin(k, true) {
            return false;
        }
        let len = self.world.store.peek(k.id).map_or(0, |(v, ..)| {
            crate::store::Payload::len(v).min(u32::MAX as u64) as u32
        });
        let grown = SimValue::Blob(len.saturating_add(size).max(1));
        let (ok, _) = self
            .world
            .store
            .set(Self::key(k), grown, SetCond::Xx, SetTtl::Keep, false);
        self.finish();
        ok
    }

    /// INCRBY `delta`; with `create` false (memcached's incr and decr) a
    /// missing key is not created. The new value, or `None` if refused,
    /// missing or not an integer.
    pub fn incr_by(&mut self, k: SimKey, delta: i64, create: bool) -> Option<i64> {
        if !create && self.world.store.peek(k.id).is_none() {
            self.world.rec.request(k.ns as usize);
            return None;
        }
        if !self.begin(k, true) {
            return None;
        }
        let r = self.world.store.incr_by(Self::key(k), delta).ok();
        self.finish();
        if r.is_some() {
            self.written(k);
        }
        r
    }

    /// Runs a whole Redis command (a MONITOR line) through the command
    /// layer, as `ttlsim shell` would, with the metrics every typed command
    /// gets: a request of its first key's namespace, OOM refusals, reads
    /// (GET, GETEX, GETDEL, MGET) classified as hits or misses by cause, and
    /// keys created. `keys` are the command's key arguments in order
    /// ([`crate::command::key_positions`]), resolved by the caller.
    pub fn command(&mut self, argv: &[Vec<u8>], keys: &[SimKey]) {
        // Keyless commands (PING, DBSIZE, FLUSHALL) run, uncounted.
        let first = keys.first().copied();
        if let Some(k) = first {
            self.world.rec.request(k.ns as usize);
        }
        let mut names = CommandKeys { argv, keys };
        let (reply, _) = Exec {
            store: &mut self.world.store,
            keys: &mut names,
        }
        .execute(argv, self.now);
        let Some(first) = first else {
            self.finish();
            return;
        };
        if matches!(&reply, Reply::Error(e) if e.starts_with("OOM")) {
            self.world.rec.oom(first.ns as usize);
        }
        self.finish();
        let name = argv[0].to_ascii_lowercase();
        match (name.as_slice(), &reply) {
            (b"get" | b"getex" | b"getdel", r) => {
                let v = matches!(r, Reply::Bulk(_)).then_some(SimValue::Blob(1));
                self.classify(first, v);
            }
            (b"mget", Reply::Array(items)) => {
                for (k, r) in keys.iter().zip(items) {
                    let v = matches!(r, Reply::Bulk(_)).then_some(SimValue::Blob(1));
                    self.classify(*k, v);
                }
            }
            _ => {}
        }
        for &k in keys {
            if self.world.store.peek(k.id).is_some() && self.fate(k) != Fate::Live {
                self.written(k);
            }
        }
    }

    /// True under the `objects` memory model (only the trace's sizes count).
    pub fn objects_memory(&self) -> bool {
        self.world.store.config().memory_model == crate::store::MemoryModel::Objects
    }

    /// True when the policy evicts by next use: the driver must call
    /// [`Ctx::set_next_use`] for every key it touches.
    pub fn needs_future(&self) -> bool {
        self.world.store.config().policy.needs_future()
    }

    /// PERSIST: true if a TTL was removed.
    pub fn persist(&mut self, k: SimKey) -> bool {
        self.begin(k, false);
        let ok = self.world.store.persist(Self::key(k));
        self.finish();
        self.record(Op::Persist, k, 0, 0);
        ok
    }
}

/// A command's key arguments (`argv` positions from
/// [`crate::command::key_positions`]) mapped to their resolved keys.
struct CommandKeys<'a> {
    argv: &'a [Vec<u8>],
    keys: &'a [SimKey],
}

impl KeyMap for CommandKeys<'_> {
    fn key(&mut self, name: &[u8]) -> Key {
        let found = crate::command::key_positions(self.argv)
            .zip(self.keys)
            .find(|(i, _)| self.argv[*i] == name)
            .map(|(_, k)| *k);
        match found {
            Some(k) => Key {
                id: k.id,
                len: k.len,
            },
            // Every key the command layer asks for is one of its key
            // arguments; a name that is not gets a key no trace key can be.
            None => Key {
                id: u64::MAX,
                len: name.len() as u32,
            },
        }
    }
}
