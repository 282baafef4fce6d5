//! Trace replay: an engine [`Client`] that sends a trace's requests at their
//! times, whatever the format ([`crate::workload::trace`]).
//!
//! * Time is re-based to the first record ([`Rebased`]), so absolute Unix
//!   timestamps just work.
//! * A cache-trace GET (`fill`: oracle-general, twr, a CSV without an op
//!   column, a native `get` with a size) that misses is followed by a SET of
//!   the record's size and TTL, as libCacheSim replays them, unless `--no-fill`.
//! * A MONITOR line runs through the command layer ([`crate::command::Exec`]),
//!   exactly as `ttlsim shell` runs it, so every option keeps its meaning;
//!   commands the model does not have (hashes, lists, ...) are skipped and
//!   counted per command in the summary (`--strict` makes them an error).
//! * Keys: a name's namespace is the part before its last `:`; a numeric
//!   suffix becomes the key number, any other suffix gets a number of its
//!   own. Numeric ids (binary traces) go straight to the `obj` namespace with
//!   no string work, and with a key length of their decimal digits when the
//!   trace gives none (0 under the `objects` memory model, which counts only
//!   the sizes the trace gives).

use anyhow::{bail, Result};
use rustc_hash::FxHashMap;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use crate::command;
use crate::limits::{MemoryGuard, MemoryLimit};
use crate::metrics::recorder::NsStats;
use crate::metrics::result::Row;
use crate::metrics::schema::{outcome, Outcomes, Unit};
use crate::sim::ctx::{Prefetch, Read};
use crate::sim::keys::{SimKey, MAPPED_BIT};
use crate::sim::{Client, Ctx};
use crate::workload::refill::Refills;
use crate::workload::spec::sanitize;
use crate::workload::trace::piped::Piped;
use crate::workload::trace::{
    open, shared::memory_budget, CsvSpec, DecodedSource, DecodedTrace, Format, KeyRef, Rebased,
    Rec, RecBatch, TraceError, TraceOp, TraceRecord, TraceSource,
};

/// The columns a replay adds (not namespaced).
pub const OUTCOMES: Outcomes = &[
    outcome("trace_rows", Unit::Count, "Trace records replayed (warm-up included)."),
    outcome(
        "trace_skipped",
        Unit::Count,
        "Trace records not replayed: commands the model does not have, other databases, MULTI/EXEC and EVAL wrappers (listed by name in the run summary).",
    ),
];

/// Most namespaces a trace may define before the rest are folded into
/// `other`.
pub const MAX_NAMESPACES: usize = 64;

/// The namespace that collects keys beyond [`MAX_NAMESPACES`].
const OTHER: &str = "other";

/// The namespace of numeric ids (binary cache traces).
pub const IDS: &str = "obj";

/// The column prefix a replay gives the namespace `name` (a key prefix
/// before the last `:`, or [`IDS`]): lowercased, other characters than
/// `[a-z0-9_]` as `_`, and `default` for keys without a prefix.
pub fn namespace_column(name: &str) -> String {
    match sanitize(name) {
        c if c.is_empty() => "default".to_string(),
        c => c,
    }
}

/// [`namespace_column`], made unique among the prefixes in `taken` (names
/// that sanitise alike, `a-b` and `a_b`, get `_2`, `_3`, ... in the order
/// they are met), and added to them. `trace stats` names its namespaces
/// with it too, so its rows match a replay's columns.
pub fn unique_column(taken: &mut Vec<String>, name: &str) -> String {
    let base = namespace_column(name);
    let mut col = base.clone();
    let mut n = 2;
    while taken.contains(&col) {
        col = format!("{base}_{n}");
        n += 1;
    }
    taken.push(col.clone());
    col
}

/// Most significant digits of a numeric suffix used as a key number (fits
/// below [`MAPPED_BIT`]); leading zeros do not count.
const MAX_DIGITS: usize = 14;

/// A ttlsim trace whose first time is below this (one day) counts from the
/// start of the run; a later one is an absolute timestamp, re-based.
pub const RELATIVE_BELOW_US: u64 = 86_400_000_000;

/// Most distinct names `--strict`-less replays list as skipped.
const MAX_SKIP_NAMES: usize = 64;

/// Which trace to replay, and how.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceInput {
    /// The file (`.gz` and `.zst` are read as streams).
    pub path: PathBuf,
    /// Its format; `None`: detected from the file.
    pub format: Option<Format>,
    /// The column spec of a `csv` trace.
    pub csv: Option<CsvSpec>,
    /// A cache-trace GET that misses writes the record's value.
    pub fill: bool,
    /// A command the model does not have is an error instead of skipped.
    pub strict: bool,
    /// The trace decoded once in memory ([`TraceInput::share`]): every
    /// [`TraceInput::open`] then reads it instead of the file.
    pub shared: Option<SharedTrace>,
    /// How far the replay's memory may grow (`--force`: no limit).
    pub memory: MemoryLimit,
}

/// A decoded trace shared by every run of a sweep (equal when it is the
/// same decoding).
#[derive(Clone, Debug)]
pub struct SharedTrace(pub Arc<DecodedTrace>);

impl PartialEq for SharedTrace {
    fn eq(&self, other: &Self) -> bool {
        Arc::ptr_eq(&self.0, &other.0)
    }
}

impl Eq for SharedTrace {}

impl TraceInput {
    /// A trace detected from its file, filling on misses.
    pub fn new(path: impl Into<PathBuf>) -> Self {
        TraceInput {
            path: path.into(),
            format: None,
            csv: None,
            fill: true,
            strict: false,
            shared: None,
            memory: MemoryLimit::Machine,
        }
    }

    /// Opens it: streamed from the file, or read from memory once shared.
    pub fn open(&self) -> Result<Box<dyn TraceSource>> {
        if let Some(s) = &self.shared {
            return Ok(Box::new(DecodedSource::new(Arc::clone(&s.0))));
        }
        open(&self.path, self.format, self.csv.as_ref())
    }

    /// Decodes a binary trace (oracle-general, twr, twr-ns) once into
    /// memory, within [`memory_budget`], so that every later
    /// [`TraceInput::open`] (each run of a sweep) reads the same decoded
    /// records instead of parsing the file again. Other formats, larger
    /// traces and files with an error are left to stream per run.
    pub fn share(mut self) -> Result<Self> {
        if self.shared.is_none() {
            let mut source = self.open()?;
            self.shared = DecodedTrace::decode(&mut *source, memory_budget())
                .map(|d| SharedTrace(Arc::new(d)));
        }
        Ok(self)
    }

    /// Where the simulated clock starts, in µs since the Unix epoch, for a
    /// trace whose commands carry absolute times: a MONITOR capture starts at
    /// its first line's time, so `EXPIREAT`, `PXAT` and `EXAT` arguments
    /// mean what they meant on the server. `None` for other formats.
    pub fn clock_start_us(&self) -> Result<Option<u64>> {
        let mut source = self.open()?;
        if source.format() != Format::Monitor {
            return Ok(None);
        }
        Ok(source.next_record()?.map(|r| r.time_us))
    }
}

struct NsInfo {
    name: String,
    ns: u32,
    base: u64,
    /// Width of the numeric suffixes of this namespace (first one seen).
    width: Option<usize>,
    next_mapped: u64,
}

impl NsInfo {
    /// A key number of its own for a key that is not a small number.
    fn next_number(&mut self) -> u64 {
        let n = MAPPED_BIT | self.next_mapped;
        self.next_mapped += 1;
        n
    }
}

/// Turns a trace's key names and ids into the engine's keys, registering
/// namespaces as it meets them.
#[derive(Default)]
struct KeyResolver {
    namespaces: FxHashMap<Vec<u8>, usize>,
    info: Vec<NsInfo>,
    mapped: FxHashMap<Box<[u8]>, u64>,
    mapped_ids: FxHashMap<u64, u64>,
    /// Column prefixes in use.
    columns: Vec<String>,
    /// Whether namespaces beyond the limit are being folded into `other`.
    folded: bool,
    /// The namespace of numeric ids, once known (looked up once, not per
    /// record).
    ids: Option<IdSpace>,
}

/// Where numeric ids go: the [`IDS`] namespace, and how their keys count.
#[derive(Clone, Copy)]
struct IdSpace {
    /// Its index in `KeyResolver::info`.
    info: usize,
    ns: u32,
    base: u64,
    /// Without a key size from the trace, Redis's model counts the id's
    /// decimal digits as the key's name; the objects model counts only
    /// what the trace gives, as libCacheSim does.
    digits_as_name: bool,
}

impl KeyResolver {
    /// Registers a namespace (once per name) with a column prefix that no
    /// other namespace uses: names that sanitise alike (`a-b`, `a_b`) get
    /// `_2`, `_3`, ... so their columns stay apart.
    fn add_namespace(&mut self, ctx: &mut Ctx, name: &str) -> usize {
        if let Some(i) = self.info.iter().position(|n| n.name == name) {
            return i;
        }
        let col = unique_column(&mut self.columns, name);
        let ns = ctx.namespace(name, &col);
        let base = ctx.names().handle(ns, 0).base;
        self.info.push(NsInfo {
            name: name.to_string(),
            ns,
            base,
            width: None,
            next_mapped: 0,
        });
        self.info.len() - 1
    }

    fn namespace_of(&mut self, ctx: &mut Ctx, prefix: &[u8]) -> usize {
        if let Some(&i) = self.namespaces.get(prefix) {
            return i;
        }
        let i = if self.info.len() >= MAX_NAMESPACES {
            // Per-entity prefixes (`user:42:profile`) would make a
            // namespace, and a set of columns, per key: fold the rest
            // into one namespace, keyed by the whole name.
            if !self.folded {
                self.folded = true;
                eprintln!(
                    "warning: the trace has more than {MAX_NAMESPACES} namespaces (key prefixes before the last `:`); the rest are counted together as `{OTHER}`"
                );
            }
            self.add_namespace(ctx, OTHER)
        } else {
            self.add_namespace(ctx, &String::from_utf8_lossy(prefix))
        };
        self.namespaces.insert(prefix.to_vec(), i);
        i
    }

    /// The key id `id` will have, if that needs nothing registered (the
    /// id namespace is known and the id is small), for prefetching; the
    /// key length is not computed.
    #[inline]
    fn peek_id(&self, id: u64) -> Option<SimKey> {
        let ids = self.ids?;
        (id < MAPPED_BIT).then_some(SimKey {
            ns: ids.ns,
            id: ids.base | id,
            len: 0,
        })
    }

    /// The key of a numeric id. Inlined into the replay's loop with its
    /// rare paths out of line: returned from a call, the key went through
    /// memory and its reload stalled on store forwarding (a tenth of a
    /// trace replay's time in `perf annotate`).
    #[inline(always)]
    fn id(&mut self, ctx: &mut Ctx, id: u64, key_len: u32) -> SimKey {
        let ids = match self.ids {
            Some(ids) => ids,
            None => self.first_id(ctx),
        };
        let n = if id < MAPPED_BIT {
            id
        } else {
            self.mapped(ids, id)
        };
        let len = if key_len > 0 || !ids.digits_as_name {
            key_len
        } else {
            crate::store::value::decimal_len(id as i64).max(1) as u32
        };
        SimKey {
            ns: ids.ns,
            id: ids.base | n,
            len,
        }
    }

    /// Registers the namespace of numeric ids, at the first one.
    #[cold]
    #[inline(never)]
    fn first_id(&mut self, ctx: &mut Ctx) -> IdSpace {
        let i = self.namespace_of(ctx, IDS.as_bytes());
        let ids = IdSpace {
            info: i,
            ns: self.info[i].ns,
            base: self.info[i].base,
            digits_as_name: !ctx.objects_memory(),
        };
        self.ids = Some(ids);
        ids
    }

    /// The number given to an id too large to be its own number.
    #[inline(never)]
    fn mapped(&mut self, ids: IdSpace, id: u64) -> u64 {
        let info = &mut self.info[ids.info];
        *self
            .mapped_ids
            .entry(id)
            .or_insert_with(|| info.next_number())
    }

    /// The key of a name; `key_len` is the key size the memory model
    /// counts (a Twitter trace's `key size` is the real key's, not the
    /// anonymised name's), or 0 for the name's own length.
    fn name(&mut self, ctx: &mut Ctx, key: &[u8], key_len: u32) -> SimKey {
        let (prefix, suffix) = match key.iter().rposition(|&b| b == b':') {
            Some(i) => (&key[..i], &key[i + 1..]),
            None => (&key[..0], key),
        };
        let idx = self.namespace_of(ctx, prefix);
        let info = &mut self.info[idx];
        let digits = {
            let z = suffix.iter().take_while(|&&b| b == b'0').count();
            &suffix[z..]
        };
        let numeric = info.name != OTHER
            && !suffix.is_empty()
            && digits.len() <= MAX_DIGITS
            && suffix.iter().all(u8::is_ascii_digit);
        if numeric && info.width.is_none() {
            info.width = Some(suffix.len());
        }
        let n = if numeric && info.width == Some(suffix.len()) {
            digits
                .iter()
                .fold(0u64, |n, &d| n * 10 + u64::from(d - b'0'))
        } else {
            match self.mapped.get(key) {
                Some(&n) => n,
                None => {
                    let n = info.next_number();
                    self.mapped.insert(key.into(), n);
                    n
                }
            }
        };
        SimKey {
            ns: info.ns,
            id: info.base | n,
            len: if key_len > 0 {
                key_len
            } else {
                u32::try_from(key.len()).unwrap_or(u32::MAX)
            },
        }
    }
}

/// How many records ahead the replay hints the record itself: the helper
/// thread wrote the block on the other core, and the first touch of each
/// line (the bucket stage's read of the key) otherwise waits for it to
/// cross (32 was no better).
const PREFETCH_RECORD: usize = 16;
/// How many records ahead the replay hints each stage of a request's
/// memory (see [`Replay::prefetch_ahead`]): its dict bucket 4 ahead, its
/// entry, slot and policy record 2 ahead, the policy record's neighbours 1
/// ahead. Near enough that the hints in flight do not wait for free fill
/// buffers (8/4 and 6/3 were slower, as were 5/3/1 and 4/3/1).
const PREFETCH_STAGES: [(usize, Prefetch); 3] = [
    (4, Prefetch::Bucket),
    (2, Prefetch::Slot),
    (1, Prefetch::Neighbours),
];

/// The request to send next, copied out of the reader's buffers (a
/// command's words go to [`Replay::argv`]).
#[derive(Clone, Copy)]
struct Pending {
    op: TraceOp,
    key: SimKey,
    size: u32,
    ttl_ms: u64,
    fill: bool,
    /// The MONITOR client that sent it.
    client: u64,
    next_access: Option<u64>,
}

/// The replay client.
pub struct Replay {
    /// The trace, re-based ([`Rebased`]), and decoded on a helper thread
    /// for a single run ([`Piped`]).
    source: Box<dyn TraceSource>,
    format: Format,
    fill: bool,
    strict: bool,
    keys: KeyResolver,
    /// The resolved keys of the current command (a reused buffer).
    cmd_keys: Vec<SimKey>,
    /// The current command's words: the first `argc` of these buffers,
    /// reused from command to command.
    argv: Vec<Vec<u8>>,
    argc: usize,
    pending: Option<Pending>,
    rows: u64,
    /// Records not replayed, by reason (the model lacks the command, ...).
    skipped: BTreeMap<String, u64>,
    /// For a policy that needs the future: per record, the index of the next
    /// record with the same key (`u64::MAX`: never again), when the format
    /// does not carry it.
    next_use: Option<Vec<u64>>,
    /// Stops the replay before the model outgrows the machine.
    guard: MemoryGuard,
    /// Records decoded ahead, for a source that has a compact form
    /// ([`TraceSource::next_batch`]), and the next one to take.
    batch: RecBatch,
    taken: usize,
    /// False once the source said it has no compact form.
    batched: bool,
    /// A MONITOR replay's write-backs of keys the server kept (see
    /// [`crate::workload::refill`]); `None` for other formats or with
    /// `--no-fill`.
    refills: Option<Refills>,
}

impl Replay {
    /// Opens a trace (streamed, not loaded); `piped`: decoded on a helper
    /// thread ([`Piped`]), for a single run, which has a core to spare.
    pub fn open(input: &TraceInput, piped: bool) -> Result<Self> {
        let source = input.open()?;
        let format = source.format();
        // ttlsim's own traces count from the start of the run (as `record`
        // writes them): kept as they are unless they are absolute times.
        let keep = if format == Format::Ttlsim {
            RELATIVE_BELOW_US
        } else {
            0
        };
        // Re-based before the pipe: the helper makes the pass over each
        // block's times, and the replay's thread meets each record once.
        let mut source: Box<dyn TraceSource> = Box::new(Rebased::new(source).relative_below(keep));
        if piped {
            source = Box::new(Piped::new(source));
        }
        Ok(Replay {
            source,
            format,
            fill: input.fill,
            strict: input.strict,
            keys: KeyResolver::default(),
            cmd_keys: Vec::new(),
            argv: Vec::new(),
            argc: 0,
            refills: (format == Format::Monitor && input.fill).then(Refills::default),
            pending: None,
            rows: 0,
            skipped: BTreeMap::new(),
            next_use: None,
            guard: MemoryGuard::new(input.memory),
            batch: RecBatch::default(),
            taken: 0,
            batched: true,
        })
    }

    /// Reads the whole trace once ahead of the replay to learn, for every
    /// record, when its key is requested next: the future that `belady`
    /// evicts by. Formats that carry it (oracle-general) need no pass.
    pub fn load_future(&mut self, input: &TraceInput) -> Result<()> {
        match self.format {
            Format::OracleGeneral => return Ok(()),
            Format::Monitor => bail!(
                "{}: a policy that needs the future cannot replay a MONITOR capture (a command may touch several keys, or none); convert it to a key trace or choose another policy",
                input.path.display()
            ),
            _ => {}
        }
        let mut source = input.open()?;
        let mut next = Vec::new();
        let mut last_id: FxHashMap<u64, usize> = FxHashMap::default();
        let mut last_name: FxHashMap<Box<[u8]>, usize> = FxHashMap::default();
        while let Some(r) = source.next_record()? {
            let i = next.len();
            self.guard.tick(|| {
                format!(
                    "{}: record {} (reading ahead for the future)",
                    input.path.display(),
                    i + 1
                )
            })?;
            next.push(u64::MAX);
            let prev = match r.key {
                KeyRef::Id(id) => last_id.insert(id, i),
                KeyRef::Name(n) => match last_name.get_mut(n) {
                    Some(p) => Some(std::mem::replace(p, i)),
                    None => {
                        last_name.insert(n.into(), i);
                        None
                    }
                },
            };
            if let Some(p) = prev {
                next[p] = i as u64;
            }
        }
        self.next_use = Some(next);
        Ok(())
    }

    fn skip(&mut self, reason: String) {
        let n = self.skipped.len();
        let key = if n >= MAX_SKIP_NAMES && !self.skipped.contains_key(&reason) {
            "other".to_string()
        } else {
            reason
        };
        *self.skipped.entry(key).or_insert(0) += 1;
    }

    /// The next record of a source with a compact form, decoded in blocks;
    /// `Ok(None)` at the end, or when the source has none (then
    /// `self.batched` turns false).
    #[inline]
    fn next_rec(&mut self) -> Result<Option<Rec>> {
        if self.taken == self.batch.len() {
            self.batch.clear();
            self.taken = 0;
            if !self.source.next_batch(&mut self.batch)? {
                self.batched = false;
                return Ok(None);
            }
        }
        let r = self.batch.recs.get(self.taken).copied();
        self.taken += 1;
        Ok(r)
    }

    /// Counts a record read against the memory guard
    /// ([`MemoryGuard::tick`]), whose message names the file and the
    /// records replayed (made only when it fails).
    #[inline]
    fn tick_guard(&mut self) -> Result<()> {
        let (source, rows) = (&self.source, self.rows);
        self.guard
            .tick(|| format!("{}: after {rows} records replayed", source.file()))
    }

    /// Hints the CPU about the records a few places ahead in the block, a
    /// stage of each ([`PREFETCH_STAGES`]): a stage reads what the one
    /// before brought in, so their lookups find their memory in cache.
    /// The record [`PREFETCH_RECORD`] ahead is hinted first, for the
    /// stages to read.
    #[inline(always)]
    fn prefetch_ahead(&self, ctx: &Ctx) {
        if let Some(r) = self.batch.recs.get(self.taken - 1 + PREFETCH_RECORD) {
            crate::store::prefetch::prefetch(r);
        }
        // Unrolled by hand: a loop kept the stage a run-time value (5%
        // more instructions a request). The last stage is skipped when
        // nothing keeps per-key records to hint.
        self.hint(ctx, PREFETCH_STAGES[0]);
        self.hint(ctx, PREFETCH_STAGES[1]);
        if ctx.hints_neighbours() {
            self.hint(ctx, PREFETCH_STAGES[2]);
        }
    }

    /// One stage of [`Replay::prefetch_ahead`]: the record `ahead` places
    /// on, if the block has it.
    #[inline(always)]
    fn hint(&self, ctx: &Ctx, (ahead, stage): (usize, Prefetch)) {
        let at = self.taken - 1 + ahead;
        if let Some(k) = self
            .batch
            .recs
            .get(at)
            .and_then(|r| self.keys.peek_id(r.id))
        {
            ctx.prefetch(k, stage);
        }
    }

    /// Reads the next record to replay and schedules it: from a block of
    /// compact records when the source has them, else record by record.
    /// True when it is the run's next event, to be served at once
    /// ([`Ctx::next_in_place`]).
    #[inline(always)]
    fn advance(&mut self, ctx: &mut Ctx) -> Result<bool> {
        if !self.batched {
            return self.read_record(ctx, false);
        }
        self.tick_guard()?;
        match self.next_rec()? {
            Some(r) => {
                self.prefetch_ahead(ctx);
                let key = self.keys.id(ctx, r.id, r.key_len);
                self.pending = Some(Pending {
                    op: r.op(),
                    key,
                    size: r.size,
                    ttl_ms: r.ttl_ms(),
                    fill: r.fill(),
                    client: 0,
                    next_access: r.next_access(),
                });
                Ok(ctx.next_in_place(r.time_us, 0))
            }
            None if self.batched => {
                self.pending = None;
                Ok(false)
            }
            // The source has no compact form: this record, and every
            // later one, is read on its own (the guard counted it).
            None => self.read_record(ctx, true),
        }
    }

    /// Reads and schedules the next record to replay, skipping commands
    /// the model does not have; the memory guard counts every record read
    /// (`counted`: the first was counted already). True as for
    /// [`Replay::advance`].
    fn read_record(&mut self, ctx: &mut Ctx, mut counted: bool) -> Result<bool> {
        loop {
            if !counted {
                self.tick_guard()?;
            }
            counted = false;
            let Some(r) = self.source.next_record()? else {
                self.pending = None;
                return Ok(false);
            };
            let r: TraceRecord = r;
            let op = r.op;
            let mut key = SimKey {
                ns: 0,
                id: 0,
                len: 0,
            };
            if op == TraceOp::Command {
                let name = r
                    .argv
                    .first()
                    .map(|a| a.to_ascii_uppercase())
                    .unwrap_or_default();
                if !command::is_supported(&name) {
                    let name = String::from_utf8_lossy(&name).into_owned();
                    if self.strict {
                        let pos = r.pos;
                        bail!(
                            "{}",
                            TraceError::new(
                                self.source.file(),
                                pos,
                                format!("{name} is not a command ttlsim models (it models strings and their TTLs); run without --strict to skip such commands")
                            )
                        );
                    }
                    self.skip(name);
                    continue;
                }
                self.argc = r.argv.len();
                if self.argv.len() < self.argc {
                    self.argv.resize(self.argc, Vec::new());
                }
                for (dst, src) in self.argv.iter_mut().zip(r.argv) {
                    dst.clear();
                    dst.extend_from_slice(src);
                }
            } else {
                key = match r.key {
                    KeyRef::Id(id) => self.keys.id(ctx, id, r.key_len),
                    KeyRef::Name(n) => self.keys.name(ctx, n, r.key_len),
                };
            }
            self.pending = Some(Pending {
                op,
                key,
                size: r.size,
                ttl_ms: r.ttl_ms,
                fill: r.fill,
                client: r.client,
                next_access: r.next_access,
            });
            return Ok(ctx.next_in_place(r.time_us, 0));
        }
    }

    /// Serves the pending record and reads the next; true when that one
    /// is due at once ([`Replay::advance`]).
    #[inline]
    fn serve(&mut self, ctx: &mut Ctx) -> Result<bool> {
        let Some(p) = &self.pending else {
            return Ok(false);
        };
        let (k, size, ttl, op, next_access) = (p.key, p.size, p.ttl_ms, p.op, p.next_access);
        let fill = p.fill && self.fill && size > 0;
        let memcached = self.format == Format::Twitter;
        match op {
            TraceOp::Get if fill => {
                if let Read::Miss(_) = ctx.get_for_fill(k, size, ttl) {
                    ctx.fill(k, size, ttl);
                }
            }
            TraceOp::Get => {
                ctx.get(k);
            }
            TraceOp::Set => {
                ctx.set(k, size, ttl);
            }
            TraceOp::SetNx => {
                ctx.set_nx(k, size, ttl);
            }
            TraceOp::SetXx => {
                ctx.set_xx(k, size, ttl);
            }
            TraceOp::Append => {
                ctx.append(k, size);
            }
            TraceOp::Del => {
                ctx.del(k);
            }
            // memcached's incr/decr fail on a missing key; Redis's create it.
            TraceOp::Incr => {
                ctx.incr_by(k, 1, !memcached);
            }
            TraceOp::Decr => {
                ctx.incr_by(k, -1, !memcached);
            }
            TraceOp::Expire => {
                ctx.expire(k, ttl);
            }
            TraceOp::Persist => {
                ctx.persist(k);
            }
            TraceOp::Getex => {
                ctx.getex(k, ttl);
            }
            TraceOp::Command => self.command(ctx),
        }
        if ctx.needs_future() {
            let next = match (&self.next_use, next_access) {
                (Some(next), _) => next.get(self.rows as usize).copied(),
                (None, Some(vtime)) => Some(vtime),
                (None, None) => Some(u64::MAX),
            };
            ctx.set_next_use(k, next.unwrap_or(u64::MAX));
        }
        self.rows += 1;
        self.advance(ctx)
    }

    /// Runs a MONITOR line through the command layer.
    fn command(&mut self, ctx: &mut Ctx) {
        let Some(p) = &self.pending else { return };
        let argv = &self.argv[..self.argc];
        let mut keys = std::mem::take(&mut self.cmd_keys);
        keys.clear();
        for i in command::key_positions(argv) {
            keys.push(self.keys.name(ctx, &argv[i], 0));
        }
        if let Some(r) = &mut self.refills {
            r.before(ctx, p.client, argv, &keys);
        }
        ctx.command(argv, &keys);
        if let Some(r) = &mut self.refills {
            r.after(ctx, p.client, argv, &keys);
        }
        self.cmd_keys = keys;
    }
}

/// The file name of a trace, for the `param_trace_file` column.
pub fn trace_file_name(path: &Path) -> String {
    path.file_name()
        .map_or(String::new(), |n| n.to_string_lossy().into_owned())
}

impl Client for Replay {
    fn start(&mut self, ctx: &mut Ctx) -> Result<()> {
        self.advance(ctx).map(|_| ())
    }

    /// Serves the pending record, and the ones after it for as long as
    /// each is the run's next event.
    fn event(&mut self, _token: u64, ctx: &mut Ctx) -> Result<()> {
        while self.serve(ctx)? {}
        Ok(())
    }

    fn outcomes(&self, _ns: &[NsStats], _measured_s: f64, out: &mut Row) {
        out.put("trace_rows", self.rows);
        let skipped: u64 = self.skipped.values().sum::<u64>()
            + self.source.skipped().iter().map(|s| s.1).sum::<u64>();
        out.put("trace_skipped", skipped);
    }

    fn notes(&self) -> Vec<String> {
        let mut all: BTreeMap<String, u64> = self.skipped.clone();
        for (k, n) in self.source.skipped() {
            *all.entry(k).or_insert(0) += n;
        }
        let mut notes: Vec<String> = all
            .into_iter()
            .map(|(k, n)| format!("skipped {n} × {k}"))
            .collect();
        if let Some(r) = self.refills.as_ref().filter(|r| r.count() > 0) {
            notes.push(format!(
                "wrote back {} keys the server had kept when the model missed a GET the client did not follow with a SET (--no-fill: none)",
                r.count()
            ));
        }
        if self.source.clamped() > 0 {
            notes.push(format!(
                "replayed {} records whose time stepped back (by at most 1 s) at the previous record's time",
                self.source.clamped()
            ));
        }
        notes
    }
}
