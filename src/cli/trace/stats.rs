//! `ttlsim trace stats FILE [--out DIR]`: what a trace holds, in one pass.
//!
//! The trace is streamed once through [`Rebased`]; memory is bounded apart
//! from one entry per distinct key (a `u64` id, or the key's bytes, plus 32
//! bytes of state) and one per distinct namespace. It prints a table and
//! writes `trace_stats.csv` to `--out` (default `results/<stem>/`),
//! atomically, in long format with three columns `metric,label,value`
//! (`label` is empty for single numbers; one row per op, namespace or
//! histogram bucket otherwise), so it loads into pandas as is and new
//! metrics never change the columns.
//!
//! Definitions:
//! - `requests`: records the reader returned; `skipped` (label: the
//!   reader's reason) those it read but did not return; `time_clamped`
//!   records whose time went back a little and was clamped by [`Rebased`].
//! - `time_first_s`, `time_last_s`: the first and last record's time as the
//!   file gives it (after clamping), in seconds; `time_span_s` the
//!   difference.
//! - `op` (label: the op): requests per [`TraceOp`] name; for a monitor
//!   trace, per command name (`argv[0]` upper-cased; at most 64 names, the
//!   rest as `other`).
//! - `distinct_keys`: distinct keys; an id and a name are different keys
//!   (`7` and `007` in a CSV). A monitor command without an argument
//!   (`PING`) has no key: it counts in `requests` and `keyless_requests`.
//! - `namespace_requests`, `namespace_keys` (label: the namespace): a
//!   named key's namespace is its prefix before the last `:`, an id key's
//!   is `obj`, each named as a replay names its columns (`nz:u` → `nz_u`,
//!   no prefix → `default`; `workload::replay::unique_column`); the 64
//!   namespaces with the most requests are listed, the rest summed as
//!   `other`.
//! - a key's *size* is the value size of the last request to it with a
//!   size > 0 (0 when none had one) and its *key length* likewise; its
//!   *TTL* the TTL given by the last request that wrote it or set its TTL
//!   (see "liveness" below; PERSIST clears it). `value_size_keys` and
//!   `ttl_keys` are histograms over distinct keys: log2 buckets (`0`,
//!   `1-1`, `2-3`, `4-7`, …, in bytes; in whole seconds for TTLs, `<1` below
//!   one second) and `none` for keys without a TTL; `keys_with_ttl` and
//!   `ttl_key_fraction` sum them.
//! - `one_hit_wonders`: keys requested exactly once, and their fraction of
//!   distinct keys.
//! - `working_set_bytes`: the sum over distinct keys of key length + size.
//! - `live_keys_at_end`, `live_working_set_bytes`: the same over the keys a
//!   store with unlimited memory would still hold after the last request.
//!   Liveness follows the trace's own writes, on the rebased clock: a key
//!   becomes live when written — `set`; `setnx` only if not live; `setxx`
//!   only if live; a filling `get` (cache traces: oracle-general, twr, a
//!   CSV without ops) only if not live; `incr`/`decr`/`append` create it
//!   (as Redis does) — and is live while `now < write time + TTL` (always
//!   without a TTL). `expire` with a TTL > 0, and `getex` with one,
//!   restart the TTL of a live key (`expire` 0 deletes it, as in Redis);
//!   `persist` removes it; `del` ends it. A monitor trace's commands are
//!   read the same way: SET (EX/PX/EXAT/PXAT/NX/XX/KEEPTTL), SETNX, SETEX,
//!   PSETEX, GETSET, APPEND, INCR/INCRBY/DECR/DECRBY/INCRBYFLOAT, DEL,
//!   UNLINK, GETDEL, EXPIRE, PEXPIRE, EXPIREAT, PEXPIREAT, PERSIST, GETEX
//!   (only the first key of a multi-key command), their value size being
//!   the value argument's length; other commands change nothing.

use anyhow::{Context, Result};
use clap::Args;
use rustc_hash::FxHashMap;
use std::io::Write;
use std::path::{Path, PathBuf};

use super::with_share;
use crate::cli::TraceOpts;
use crate::say;
use crate::units::{atomic_write, csv_line, fmt_f64};
use crate::workload::replay::{unique_column, IDS};
use crate::workload::trace::{
    Format, KeyRef, Pos, Rebased, TraceError, TraceOp, TraceRecord, TraceSource,
};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

/// `ttlsim trace stats` arguments.
#[derive(Args)]
pub struct StatsArgs {
    /// The trace file (plain, .gz or .zst).
    pub file: PathBuf,
    /// Write trace_stats.csv here (default: `results/<file stem>/`).
    #[arg(long)]
    pub out: Option<PathBuf>,
    #[command(flatten)]
    #[allow(missing_docs)]
    pub input: TraceOpts,
}

/// Namespaces listed by name; the rest are `other`.
pub const MAX_NAMESPACES: usize = 64;
/// Monitor command names counted by name; the rest are `other`.
pub const MAX_COMMANDS: usize = 64;

/// What a request does to its key, for liveness and TTLs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Effect {
    /// Nothing (a read, an unknown command).
    None,
    /// Store a value: `size` bytes with `ttl`, if `cond` holds.
    Write { size: u32, ttl: Ttl, cond: Cond },
    /// Grow the value by `size` bytes; creates the key.
    Append(u32),
    /// A counter: creates the key with no TTL, keeps a live key's TTL.
    Counter,
    /// Delete.
    Del,
    /// Set a live key's TTL (ms > 0).
    Expire(u64),
    /// Remove a live key's TTL.
    Persist,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Ttl {
    None,
    Ms(u64),
    Keep,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Cond {
    Always,
    IfAbsent,
    IfLive,
}

fn ttl_of(ms: u64) -> Ttl {
    if ms == 0 {
        Ttl::None
    } else {
        Ttl::Ms(ms)
    }
}

/// The effect of a record in one of ttlsim's vocabularies.
fn native_effect(r: &TraceRecord<'_>) -> Effect {
    let write = |cond| Effect::Write {
        size: r.size,
        ttl: ttl_of(r.ttl_ms),
        cond,
    };
    match r.op {
        TraceOp::Get if r.fill => write(Cond::IfAbsent),
        TraceOp::Get | TraceOp::Command => Effect::None,
        TraceOp::Set => write(Cond::Always),
        TraceOp::SetNx => write(Cond::IfAbsent),
        TraceOp::SetXx => write(Cond::IfLive),
        TraceOp::Append => Effect::Append(r.size),
        TraceOp::Del => Effect::Del,
        TraceOp::Incr | TraceOp::Decr => Effect::Counter,
        TraceOp::Expire if r.ttl_ms == 0 => Effect::Del,
        TraceOp::Expire => Effect::Expire(r.ttl_ms),
        TraceOp::Persist => Effect::Persist,
        TraceOp::Getex if r.ttl_ms > 0 => Effect::Expire(r.ttl_ms),
        TraceOp::Getex => Effect::None,
    }
}

fn int_arg(a: &[u8]) -> Option<i64> {
    std::str::from_utf8(a).ok()?.parse().ok()
}

/// A relative TTL in ms from a unit-scaled argument; `None` when Redis
/// would refuse it.
fn rel_ms(a: &[u8], per: i64) -> Option<u64> {
    let v = int_arg(a)?.checked_mul(per)?;
    u64::try_from(v).ok().filter(|&v| v > 0)
}

/// A TTL in ms from an absolute Unix time argument (`per` ms per unit) at
/// `now_ms`; 0 when it is already past.
fn abs_ms(a: &[u8], per: i64, now_ms: i64) -> Option<u64> {
    let at = int_arg(a)?.checked_mul(per)?;
    Some(u64::try_from(at.saturating_sub(now_ms)).unwrap_or(0))
}

/// The effect of a monitor command (`argv[0]` upper-cased in `name`);
/// `now_ms` is the command's Unix time, for EXAT/PXAT.
fn command_effect(name: &[u8], argv: &[Vec<u8>], now_ms: i64) -> Effect {
    let len = |i: usize| {
        argv.get(i)
            .map_or(0, |v| u32::try_from(v.len()).unwrap_or(u32::MAX))
    };
    match name {
        b"SET" => {
            let (mut ttl, mut cond) = (Some(Ttl::None), Cond::Always);
            let mut i = 3;
            while i < argv.len() {
                let opt = argv[i].to_ascii_uppercase();
                let next = argv.get(i + 1).map(|v| &v[..]);
                let t = match (opt.as_slice(), next) {
                    (b"EX", Some(v)) => Some(rel_ms(v, 1000)),
                    (b"PX", Some(v)) => Some(rel_ms(v, 1)),
                    (b"EXAT", Some(v)) => Some(abs_ms(v, 1000, now_ms)),
                    (b"PXAT", Some(v)) => Some(abs_ms(v, 1, now_ms)),
                    _ => None,
                };
                if let Some(t) = t {
                    ttl = match t {
                        None => None, // refused by Redis: no effect
                        Some(0) => return Effect::Del,
                        Some(ms) => Some(Ttl::Ms(ms)),
                    };
                    i += 2;
                    continue;
                }
                match opt.as_slice() {
                    b"NX" => cond = Cond::IfAbsent,
                    b"XX" => cond = Cond::IfLive,
                    b"KEEPTTL" => ttl = Some(Ttl::Keep),
                    _ => {}
                }
                i += 1;
            }
            match ttl {
                Some(ttl) if argv.len() >= 3 => Effect::Write {
                    size: len(2),
                    ttl,
                    cond,
                },
                _ => Effect::None,
            }
        }
        b"SETNX" | b"GETSET" if argv.len() >= 3 => Effect::Write {
            size: len(2),
            ttl: Ttl::None,
            cond: if name == b"SETNX" {
                Cond::IfAbsent
            } else {
                Cond::Always
            },
        },
        b"SETEX" | b"PSETEX" if argv.len() >= 4 => {
            let per = if name == b"SETEX" { 1000 } else { 1 };
            match rel_ms(&argv[2], per) {
                Some(ms) => Effect::Write {
                    size: len(3),
                    ttl: Ttl::Ms(ms),
                    cond: Cond::Always,
                },
                None => Effect::None,
            }
        }
        b"APPEND" if argv.len() >= 3 => Effect::Append(len(2)),
        b"INCR" | b"DECR" | b"INCRBY" | b"DECRBY" | b"INCRBYFLOAT" => Effect::Counter,
        b"DEL" | b"UNLINK" | b"GETDEL" => Effect::Del,
        b"EXPIRE" | b"PEXPIRE" | b"EXPIREAT" | b"PEXPIREAT" if argv.len() >= 3 => {
            // A relative TTL <= 0, like an absolute one in the past, deletes.
            let relative = |per: i64| match int_arg(&argv[2]) {
                Some(v) if v <= 0 => Some(0),
                _ => rel_ms(&argv[2], per),
            };
            let t = match name {
                b"EXPIRE" => relative(1000),
                b"PEXPIRE" => relative(1),
                b"EXPIREAT" => abs_ms(&argv[2], 1000, now_ms),
                _ => abs_ms(&argv[2], 1, now_ms),
            };
            match t {
                Some(0) => Effect::Del,
                Some(ms) => Effect::Expire(ms),
                None => Effect::None,
            }
        }
        b"PERSIST" => Effect::Persist,
        b"GETEX" if argv.len() >= 4 => {
            let opt = argv[2].to_ascii_uppercase();
            let t = match opt.as_slice() {
                b"EX" => rel_ms(&argv[3], 1000),
                b"PX" => rel_ms(&argv[3], 1),
                b"EXAT" => abs_ms(&argv[3], 1000, now_ms),
                b"PXAT" => abs_ms(&argv[3], 1, now_ms),
                _ => None,
            };
            match t {
                Some(0) => Effect::Del,
                Some(ms) => Effect::Expire(ms),
                None => Effect::None,
            }
        }
        b"GETEX"
            if argv
                .get(2)
                .is_some_and(|o| o.eq_ignore_ascii_case(b"PERSIST")) =>
        {
            Effect::Persist
        }
        _ => Effect::None,
    }
}

/// One distinct key's state.
#[derive(Clone, Copy, Debug, Default)]
struct KeyStat {
    /// Requests (saturating).
    count: u32,
    /// Last key length > 0.
    key_len: u32,
    /// Last value size > 0 (grown by appends).
    size: u32,
    /// Index of its namespace.
    ns: u32,
    /// The TTL last given to it, ms (0: none).
    ttl_ms: u64,
    /// When it stops being live, µs on the rebased clock: 0 never written
    /// or deleted, `u64::MAX` live without a TTL.
    expire_at: u64,
}

impl KeyStat {
    fn live(&self, now: u64) -> bool {
        self.expire_at > now
    }

    fn apply(&mut self, e: Effect, now: u64) {
        let live = self.live(now);
        let until = |ms: u64| {
            now.saturating_add(ms.saturating_mul(1000))
                .min(u64::MAX - 1)
        };
        match e {
            Effect::None => {}
            Effect::Write { size, ttl, cond } => {
                let go = match cond {
                    Cond::Always => true,
                    Cond::IfAbsent => !live,
                    Cond::IfLive => live,
                };
                if !go {
                    return;
                }
                if size > 0 {
                    self.size = size;
                }
                match ttl {
                    Ttl::None => {
                        self.ttl_ms = 0;
                        self.expire_at = u64::MAX;
                    }
                    Ttl::Ms(ms) => {
                        self.ttl_ms = ms;
                        self.expire_at = until(ms);
                    }
                    Ttl::Keep if live => {}
                    Ttl::Keep => {
                        self.ttl_ms = 0;
                        self.expire_at = u64::MAX;
                    }
                }
            }
            Effect::Append(n) => {
                if live {
                    self.size = self.size.saturating_add(n);
                } else {
                    self.size = if n > 0 { n } else { self.size };
                    self.ttl_ms = 0;
                    self.expire_at = u64::MAX;
                }
            }
            Effect::Counter => {
                if !live {
                    self.ttl_ms = 0;
                    self.expire_at = u64::MAX;
                }
            }
            Effect::Del => self.expire_at = 0,
            Effect::Expire(ms) if live => {
                self.ttl_ms = ms;
                self.expire_at = until(ms);
            }
            Effect::Persist if live => {
                self.ttl_ms = 0;
                self.expire_at = u64::MAX;
            }
            Effect::Expire(_) | Effect::Persist => {}
        }
    }
}

/// A namespace's counts.
#[derive(Clone, Debug)]
struct Namespace {
    name: String,
    requests: u64,
    keys: u64,
}

/// Log2 buckets: index 0 holds 0, index b >= 1 holds [2^(b-1), 2^b).
fn log2_bucket(v: u64) -> usize {
    (64 - v.leading_zeros()) as usize
}

/// The label of log2 bucket `b`.
fn bucket_label(b: usize) -> String {
    if b == 0 {
        return "0".into();
    }
    let lo = 1u128 << (b - 1);
    format!("{lo}-{}", (lo << 1) - 1)
}

/// Everything `trace stats` reports.
#[derive(Clone, Debug, Default)]
pub struct TraceStats {
    /// The trace's format name.
    pub format: String,
    /// Records returned.
    pub requests: u64,
    /// Records skipped by the reader, by reason.
    pub skipped: Vec<(String, u64)>,
    /// Records whose time was clamped.
    pub clamped: u64,
    /// First record's time in the file, µs.
    pub first_us: u64,
    /// Last record's time in the file (after clamping), µs.
    pub last_us: u64,
    /// Requests per op (or monitor command), most frequent first.
    pub ops: Vec<(String, u64)>,
    /// Requests without a key (monitor commands without arguments).
    pub keyless: u64,
    /// Distinct keys.
    pub distinct_keys: u64,
    /// (namespace, requests, keys), most requested first, `other` last.
    pub namespaces: Vec<(String, u64, u64)>,
    /// Keys per log2 value-size bucket (index as in the module docs).
    pub size_hist: Vec<u64>,
    /// Keys per log2 TTL bucket of whole seconds (index 0: under 1 s).
    pub ttl_hist: Vec<u64>,
    /// Keys without a TTL.
    pub no_ttl: u64,
    /// Keys requested exactly once.
    pub one_hit_wonders: u64,
    /// Sum of key length + size over distinct keys.
    pub working_set_bytes: u64,
    /// Keys live after the last request.
    pub live_keys: u64,
    /// Sum of key length + size over live keys.
    pub live_working_set_bytes: u64,
}

/// The per-key tables of one pass.
#[derive(Default)]
struct Tables {
    ids: FxHashMap<u64, KeyStat>,
    names: FxHashMap<Box<[u8]>, KeyStat>,
    ns_index: FxHashMap<Box<[u8]>, u32>,
    ns: Vec<Namespace>,
    id_ns: Option<u32>,
    /// Namespace names in use (see [`unique_column`]).
    columns: Vec<String>,
}

impl Tables {
    /// The namespace of a key, named as a replay names its columns: ids
    /// share the `obj` namespace (with names prefixed `obj:`, as in a
    /// replay), names without a prefix are `default`.
    fn namespace(&mut self, key: KeyRef<'_>) -> u32 {
        let prefix: &[u8] = match key {
            KeyRef::Id(_) => IDS.as_bytes(),
            KeyRef::Name(n) => match memchr::memrchr(b':', n) {
                Some(i) => &n[..i],
                None => b"",
            },
        };
        if let Some(&i) = self.ns_index.get(prefix) {
            return i;
        }
        let i = u32::try_from(self.ns.len()).unwrap_or(u32::MAX);
        let name = unique_column(&mut self.columns, &String::from_utf8_lossy(prefix));
        self.ns.push(Namespace {
            name,
            requests: 0,
            keys: 0,
        });
        self.ns_index.insert(prefix.into(), i);
        i
    }

    /// The key's state, created on first sight.
    fn key(&mut self, key: KeyRef<'_>) -> Option<&mut KeyStat> {
        match key {
            KeyRef::Id(id) => {
                let ns = match self.id_ns {
                    Some(i) => i,
                    None => {
                        let i = self.namespace(key);
                        self.id_ns = Some(i);
                        i
                    }
                };
                let mut fresh = false;
                let k = self.ids.entry(id).or_insert_with(|| {
                    fresh = true;
                    KeyStat {
                        ns,
                        ..KeyStat::default()
                    }
                });
                if fresh {
                    if let Some(n) = self.ns.get_mut(ns as usize) {
                        n.keys += 1;
                    }
                }
                Some(k)
            }
            KeyRef::Name(n) => {
                if !self.names.contains_key(n) {
                    let ns = self.namespace(key);
                    if let Some(x) = self.ns.get_mut(ns as usize) {
                        x.keys += 1;
                    }
                    let st = KeyStat {
                        ns,
                        ..KeyStat::default()
                    };
                    self.names.insert(n.into(), st);
                }
                self.names.get_mut(n)
            }
        }
    }
}

/// A source that remembers its first record's time (what [`Rebased`]
/// subtracts), readable while a record borrows the reader.
struct FirstTime<S> {
    inner: S,
    first: Arc<AtomicU64>,
    seen: bool,
}

impl<S: TraceSource> TraceSource for FirstTime<S> {
    fn format(&self) -> Format {
        self.inner.format()
    }
    fn file(&self) -> &str {
        self.inner.file()
    }
    fn next_record(&mut self) -> Result<Option<TraceRecord<'_>>, TraceError> {
        let r = self.inner.next_record()?;
        if let (Some(r), false) = (&r, self.seen) {
            self.first.store(r.time_us, Ordering::Relaxed);
            self.seen = true;
        }
        Ok(r)
    }
    fn position(&self) -> Pos {
        self.inner.position()
    }
    fn skipped(&self) -> Vec<(String, u64)> {
        self.inner.skipped()
    }
}

/// Reads `source` to its end and computes its statistics.
pub fn compute(source: Box<dyn TraceSource>) -> Result<TraceStats> {
    let format = source.format();
    let first = Arc::new(AtomicU64::new(0));
    let mut src = Rebased::new(FirstTime {
        inner: source,
        first: Arc::clone(&first),
        seen: false,
    });
    let mut t = Tables::default();
    let mut native_ops = [0u64; 12];
    let mut commands: Vec<(Vec<u8>, u64)> = Vec::new();
    let mut name_buf: Vec<u8> = Vec::new();
    let (mut requests, mut keyless, mut last) = (0u64, 0u64, 0u64);
    while let Some(r) = src.next_record()? {
        requests += 1;
        last = r.time_us;
        let effect = if r.op == TraceOp::Command {
            name_buf.clear();
            if let Some(a0) = r.argv.first() {
                name_buf.extend(a0.iter().map(u8::to_ascii_uppercase));
            }
            if let Some(e) = commands.iter_mut().find(|(n, _)| *n == name_buf) {
                e.1 += 1;
            } else if commands.len() < MAX_COMMANDS {
                commands.push((name_buf.clone(), 1));
            } else if let Some(e) = commands.iter_mut().find(|(n, _)| n == b"\0other") {
                e.1 += 1;
            } else {
                commands.push((b"\0other".to_vec(), 1));
            }
            if r.argv.len() < 2 {
                keyless += 1;
                continue;
            }
            let base = first.load(Ordering::Relaxed);
            let now_ms = i64::try_from(base.saturating_add(r.time_us) / 1000).unwrap_or(i64::MAX);
            command_effect(&name_buf, r.argv, now_ms)
        } else {
            native_ops[r.op as usize] += 1;
            native_effect(&r)
        };
        let (key, key_len, size, now) = (r.key, r.key_len, r.size, r.time_us);
        let Some(k) = t.key(key) else { continue };
        k.count = k.count.saturating_add(1);
        if key_len > 0 {
            k.key_len = key_len;
        }
        if size > 0 && r.op != TraceOp::Append {
            k.size = size;
        }
        k.apply(effect, now);
        let ns = k.ns as usize;
        if let Some(n) = t.ns.get_mut(ns) {
            n.requests += 1;
        }
    }
    let base = src.base_us().unwrap_or(0);
    let mut s = TraceStats {
        format: format.name().to_string(),
        requests,
        skipped: src.skipped(),
        clamped: src.clamped(),
        first_us: base,
        last_us: base.saturating_add(last),
        keyless,
        size_hist: vec![0; 33],
        ttl_hist: vec![0; 65],
        ..TraceStats::default()
    };
    for op in TraceOp::ALL {
        let n = native_ops[op as usize];
        if n > 0 {
            s.ops.push((op.name().to_string(), n));
        }
    }
    for (name, n) in commands {
        let name = if name == b"\0other" {
            "other".to_string()
        } else {
            String::from_utf8_lossy(&name).into_owned()
        };
        s.ops.push((name, n));
    }
    s.ops
        .sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
    for k in t.ids.values().chain(t.names.values()) {
        s.distinct_keys += 1;
        s.one_hit_wonders += u64::from(k.count == 1);
        let bytes = u64::from(k.key_len) + u64::from(k.size);
        s.working_set_bytes += bytes;
        if k.live(last) {
            s.live_keys += 1;
            s.live_working_set_bytes += bytes;
        }
        s.size_hist[log2_bucket(u64::from(k.size))] += 1;
        if k.ttl_ms == 0 {
            s.no_ttl += 1;
        } else {
            s.ttl_hist[log2_bucket(k.ttl_ms / 1000)] += 1;
        }
    }
    let mut ns = t.ns;
    ns.sort_by(|a, b| {
        b.requests
            .cmp(&a.requests)
            .then_with(|| a.name.cmp(&b.name))
    });
    let rest = ns.split_off(ns.len().min(MAX_NAMESPACES));
    s.namespaces = ns
        .into_iter()
        .map(|n| (n.name, n.requests, n.keys))
        .collect();
    if !rest.is_empty() {
        let (r, k) = rest
            .iter()
            .fold((0, 0), |(r, k), n| (r + n.requests, k + n.keys));
        s.namespaces.push(("other".into(), r, k));
    }
    Ok(s)
}

/// The label of TTL bucket `b` (whole seconds).
fn ttl_label(b: usize) -> String {
    if b == 0 {
        "<1".into()
    } else {
        bucket_label(b)
    }
}

fn secs(us: u64) -> String {
    fmt_f64(us as f64 / 1e6)
}

impl TraceStats {
    /// Keys with a TTL.
    pub fn keys_with_ttl(&self) -> u64 {
        self.distinct_keys - self.no_ttl
    }

    fn fraction(n: u64, of: u64) -> String {
        if of == 0 {
            "0".into()
        } else {
            fmt_f64(n as f64 / of as f64)
        }
    }

    /// The rows of trace_stats.csv (`metric,label,value`).
    pub fn rows(&self) -> Vec<[String; 3]> {
        let mut v: Vec<[String; 3]> = Vec::new();
        let mut one = |m: &str, l: &str, x: String| v.push([m.to_string(), l.to_string(), x]);
        one("format", "", self.format.clone());
        one("requests", "", self.requests.to_string());
        for (why, n) in &self.skipped {
            one("skipped", why, n.to_string());
        }
        one("time_clamped", "", self.clamped.to_string());
        let span = self.last_us - self.first_us.min(self.last_us);
        one("time_first_s", "", secs(self.first_us));
        one("time_last_s", "", secs(self.last_us));
        one("time_span_s", "", secs(span));
        for (op, n) in &self.ops {
            one("op", op, n.to_string());
        }
        one("keyless_requests", "", self.keyless.to_string());
        one("distinct_keys", "", self.distinct_keys.to_string());
        for (ns, r, _) in &self.namespaces {
            one("namespace_requests", ns, r.to_string());
        }
        for (ns, _, k) in &self.namespaces {
            one("namespace_keys", ns, k.to_string());
        }
        for (b, &n) in self.size_hist.iter().enumerate().filter(|x| *x.1 > 0) {
            one("value_size_keys", &bucket_label(b), n.to_string());
        }
        for (b, &n) in self.ttl_hist.iter().enumerate().filter(|x| *x.1 > 0) {
            one("ttl_keys", &ttl_label(b), n.to_string());
        }
        one("ttl_keys", "none", self.no_ttl.to_string());
        one("keys_with_ttl", "", self.keys_with_ttl().to_string());
        one(
            "ttl_key_fraction",
            "",
            Self::fraction(self.keys_with_ttl(), self.distinct_keys),
        );
        one("one_hit_wonders", "", self.one_hit_wonders.to_string());
        one(
            "one_hit_wonder_fraction",
            "",
            Self::fraction(self.one_hit_wonders, self.distinct_keys),
        );
        one("working_set_bytes", "", self.working_set_bytes.to_string());
        one("live_keys_at_end", "", self.live_keys.to_string());
        one(
            "live_working_set_bytes",
            "",
            self.live_working_set_bytes.to_string(),
        );
        v
    }

    /// The table `trace stats` prints, one line per entry.
    pub fn table(&self, file: &str) -> Vec<String> {
        let mut v = Vec::new();
        let row = |v: &mut Vec<String>, name: &str, value: String| {
            v.push(format!("{name:<20} {value}"));
        };
        row(&mut v, "trace", format!("{file} ({})", self.format));
        row(&mut v, "requests", self.requests.to_string());
        if !self.skipped.is_empty() {
            let s: Vec<String> = self
                .skipped
                .iter()
                .map(|(w, n)| format!("{w}: {n}"))
                .collect();
            row(&mut v, "skipped", s.join(", "));
        }
        let span = self.last_us - self.first_us.min(self.last_us);
        row(
            &mut v,
            "time",
            format!(
                "{} s to {} s (span {} s){}",
                secs(self.first_us),
                secs(self.last_us),
                secs(span),
                if self.clamped > 0 {
                    format!("; {} times clamped", self.clamped)
                } else {
                    String::new()
                }
            ),
        );
        row(&mut v, "distinct keys", self.distinct_keys.to_string());
        if self.keyless > 0 {
            row(&mut v, "keyless requests", self.keyless.to_string());
        }
        row(
            &mut v,
            "one-hit wonders",
            with_share(self.one_hit_wonders, self.distinct_keys),
        );
        row(
            &mut v,
            "working set",
            format!(
                "{} B (key + value, all keys); {} B in the {} keys live at the end",
                self.working_set_bytes, self.live_working_set_bytes, self.live_keys
            ),
        );
        row(
            &mut v,
            "keys with a TTL",
            with_share(self.keys_with_ttl(), self.distinct_keys),
        );
        let list = |v: &mut Vec<String>, title: &str, items: Vec<(String, String)>| {
            for (i, (k, x)) in items.into_iter().enumerate() {
                let name = if i == 0 { title } else { "" };
                v.push(format!("{name:<20}   {k:<16} {x}"));
            }
        };
        list(
            &mut v,
            "ops",
            self.ops
                .iter()
                .map(|(o, n)| (o.clone(), with_share(*n, self.requests)))
                .collect(),
        );
        list(
            &mut v,
            "namespaces",
            self.namespaces
                .iter()
                .map(|(n, r, k)| {
                    (
                        n.clone(),
                        format!("{} requests, {k} keys", with_share(*r, self.requests)),
                    )
                })
                .collect(),
        );
        list(
            &mut v,
            "value sizes (keys)",
            self.size_hist
                .iter()
                .enumerate()
                .filter(|x| *x.1 > 0)
                .map(|(b, &n)| {
                    (
                        format!("{} B", bucket_label(b)),
                        with_share(n, self.distinct_keys),
                    )
                })
                .collect(),
        );
        let mut ttls: Vec<(String, String)> = self
            .ttl_hist
            .iter()
            .enumerate()
            .filter(|x| *x.1 > 0)
            .map(|(b, &n)| {
                (
                    format!("{} s", ttl_label(b)),
                    with_share(n, self.distinct_keys),
                )
            })
            .collect();
        ttls.push(("none".into(), with_share(self.no_ttl, self.distinct_keys)));
        list(&mut v, "TTLs (keys)", ttls);
        v
    }
}

/// Runs `ttlsim trace stats`.
pub fn stats(args: &StatsArgs) -> Result<()> {
    let source = args.input.open(&args.file)?;
    let out = args.out.clone().unwrap_or_else(|| {
        let stem = args
            .file
            .file_stem()
            .map_or("trace".into(), |s| s.to_string_lossy().into_owned());
        Path::new("results").join(stem)
    });
    let s = compute(source)?;
    std::fs::create_dir_all(&out)
        .with_context(|| format!("cannot create directory {}", out.display()))?;
    let path = out.join("trace_stats.csv");
    let rows = s.rows();
    atomic_write(&path, |w| {
        w.write_all(csv_line(["metric", "label", "value"]).as_bytes())?;
        for r in &rows {
            w.write_all(csv_line(r).as_bytes())?;
        }
        Ok(())
    })?;
    for line in s.table(&args.file.display().to_string()) {
        say!("{line}")?;
    }
    say!("wrote {}", path.display())?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn effect(cmd: &str) -> Effect {
        let argv: Vec<Vec<u8>> = cmd.split(' ').map(|a| a.as_bytes().to_vec()).collect();
        let name = argv[0].to_ascii_uppercase();
        command_effect(&name, &argv, 1_000_000)
    }

    #[test]
    fn monitor_commands_map_to_their_writes() {
        let w = |size, ttl, cond| Effect::Write { size, ttl, cond };
        assert_eq!(effect("SET k vvv"), w(3, Ttl::None, Cond::Always));
        assert_eq!(
            effect("set k vv ex 30 nx"),
            w(2, Ttl::Ms(30_000), Cond::IfAbsent)
        );
        assert_eq!(
            effect("SET k v PX 1500 XX"),
            w(1, Ttl::Ms(1500), Cond::IfLive)
        );
        assert_eq!(effect("SET k v KEEPTTL"), w(1, Ttl::Keep, Cond::Always));
        // EXAT/PXAT count from the command's time (1,000,000 ms here).
        assert_eq!(
            effect("SET k v PXAT 1000250"),
            w(1, Ttl::Ms(250), Cond::Always)
        );
        assert_eq!(effect("SET k v EXAT 999"), Effect::Del);
        // Refused by Redis: no effect.
        assert_eq!(effect("SET k v EX 0"), Effect::None);
        assert_eq!(effect("SET k v EX x"), Effect::None);
        assert_eq!(effect("SET k"), Effect::None);
        assert_eq!(
            effect("SETEX k 10 abcd"),
            w(4, Ttl::Ms(10_000), Cond::Always)
        );
        assert_eq!(effect("PSETEX k 10 abcd"), w(4, Ttl::Ms(10), Cond::Always));
        assert_eq!(effect("SETNX k ab"), w(2, Ttl::None, Cond::IfAbsent));
        assert_eq!(effect("EXPIRE k 60"), Effect::Expire(60_000));
        assert_eq!(effect("EXPIRE k -5"), Effect::Del);
        assert_eq!(effect("PEXPIRE k 0"), Effect::Del);
        assert_eq!(effect("EXPIREAT k 1001"), Effect::Expire(1000));
        assert_eq!(effect("GETEX k PX 5"), Effect::Expire(5));
        assert_eq!(effect("GETEX k PERSIST"), Effect::Persist);
        assert_eq!(effect("GETEX k"), Effect::None);
        assert_eq!(effect("APPEND k abc"), Effect::Append(3));
        assert_eq!(effect("INCRBY k 5"), Effect::Counter);
        assert_eq!(effect("UNLINK k"), Effect::Del);
        assert_eq!(effect("GET k"), Effect::None);
        assert_eq!(effect("EXPIRE k 99999999999999999"), Effect::None);
    }

    #[test]
    fn liveness_follows_writes_ttls_and_deletes() {
        let mut k = KeyStat::default();
        assert!(!k.live(0));
        let fill = Effect::Write {
            size: 10,
            ttl: Ttl::Ms(5),
            cond: Cond::IfAbsent,
        };
        k.apply(fill, 1000);
        assert!(k.live(5999) && !k.live(6000));
        // A hit does not refill; after expiry the next fill does.
        k.apply(fill, 3000);
        assert_eq!(k.expire_at, 6000);
        k.apply(fill, 6000);
        assert_eq!(k.expire_at, 11_000);
        k.apply(Effect::Persist, 7000);
        assert!(k.live(u64::MAX - 1));
        k.apply(Effect::Del, 8000);
        assert!(!k.live(8000));
        // Expire and persist need a live key.
        k.apply(Effect::Expire(1), 9000);
        assert!(!k.live(9000));
        k.apply(Effect::Counter, 9000);
        assert!(k.live(u64::MAX - 1) && k.ttl_ms == 0);
    }

    #[test]
    fn log2_buckets_are_labelled_by_their_range() {
        assert_eq!((log2_bucket(0), bucket_label(0)), (0, "0".to_string()));
        assert_eq!((log2_bucket(1), bucket_label(1)), (1, "1-1".to_string()));
        assert_eq!(log2_bucket(255), 8);
        assert_eq!(
            (log2_bucket(256), bucket_label(9)),
            (9, "256-511".to_string())
        );
        assert_eq!(log2_bucket(u64::from(u32::MAX)), 32);
        assert_eq!(bucket_label(64), "9223372036854775808-18446744073709551615");
        assert_eq!(ttl_label(0), "<1");
    }
}
