//! Trace replay: a client that sends a trace's rows at their times.
//!
//! A `get` that misses is followed by a fill (SET with the row's size and
//! TTL) when the row's size is not 0, unless filling is off (`--no-fill`).
//! Keys are strings: the namespace is the part before the last `:`; a
//! numeric suffix becomes the key number (so a recorded workload replays
//! with the very key ids it was generated with), any other suffix gets a
//! number of its own.

use anyhow::{Context, Result};
use rustc_hash::FxHashMap;
use std::io::Read as IoRead;
use std::path::Path;

use crate::metrics::recorder::NsStats;
use crate::metrics::result::Row;
use crate::sim::ctx::{Ctx, Read};
use crate::sim::keys::{SimKey, MAPPED_BIT};
use crate::sim::Client;
use crate::workload::spec::sanitize;
use crate::workload::trace::{Op, TraceReader};

/// Most namespaces a trace may define before the rest are folded into
/// `other`.
pub const MAX_NAMESPACES: usize = 64;

/// The namespace that collects keys beyond [`MAX_NAMESPACES`].
const OTHER: &str = "other";

/// Most significant digits of a numeric suffix used as a key number (fits
/// below [`MAPPED_BIT`]); leading zeros do not count.
const MAX_DIGITS: usize = 14;

struct NsInfo {
    name: String,
    ns: u32,
    base: u64,
    /// Width of the numeric suffixes of this namespace (first one seen).
    width: Option<usize>,
    next_mapped: u64,
}

/// The columns a replay adds (not namespaced).
pub const OUTCOMES: crate::metrics::schema::Outcomes = &[crate::metrics::schema::outcome(
    "trace_rows",
    crate::metrics::schema::Unit::Count,
    "Trace rows replayed (warm-up included).",
)];

/// The replay client.
pub struct Replay {
    reader: TraceReader<Box<dyn IoRead + Send>>,
    fill: bool,
    namespaces: FxHashMap<String, usize>,
    info: Vec<NsInfo>,
    mapped: FxHashMap<Box<str>, u64>,
    // The row to send next.
    op: Op,
    key: String,
    size: u32,
    ttl_ms: u64,
    rows: u64,
    /// Column prefixes in use.
    columns: Vec<String>,
    /// Whether namespaces beyond the limit are being folded into `other`.
    folded: bool,
    /// For the `belady` policy: per row, the index of the next row with the
    /// same key (`u64::MAX`: never again).
    next_use: Option<Vec<u64>>,
}

impl Replay {
    /// Opens a trace file (streamed, not loaded) and checks its header.
    pub fn open(path: &Path, fill: bool) -> Result<Self> {
        Ok(Self::from_reader(open_reader(path)?, fill))
    }

    /// Replays from any reader; `file` names it in errors.
    pub fn new(input: Box<dyn IoRead + Send>, file: &str, fill: bool) -> Result<Self> {
        Ok(Self::from_reader(TraceReader::new(input, file)?, fill))
    }

    fn from_reader(reader: TraceReader<Box<dyn IoRead + Send>>, fill: bool) -> Self {
        Replay {
            reader,
            fill,
            namespaces: FxHashMap::default(),
            info: Vec::new(),
            mapped: FxHashMap::default(),
            op: Op::Get,
            key: String::new(),
            size: 0,
            ttl_ms: 0,
            rows: 0,
            columns: Vec::new(),
            folded: false,
            next_use: None,
        }
    }

    /// Reads the whole trace once ahead of the replay to learn, for every
    /// row, when its key is requested next: the future that the `belady`
    /// reference policy evicts by (the key needed farthest ahead goes first).
    pub fn load_future(&mut self, path: &Path) -> Result<()> {
        let mut reader = open_reader(path)?;
        let mut next = Vec::new();
        let mut last: FxHashMap<Box<str>, usize> = FxHashMap::default();
        while let Some(row) = reader.next_row()? {
            let i = next.len();
            next.push(u64::MAX);
            match last.get_mut(row.key) {
                Some(prev) => {
                    next[*prev] = i as u64;
                    *prev = i;
                }
                None => {
                    last.insert(row.key.into(), i);
                }
            }
        }
        self.next_use = Some(next);
        Ok(())
    }

    /// Reads the next row and schedules it.
    fn advance(&mut self, ctx: &mut Ctx) -> Result<()> {
        if let Some(row) = self.reader.next_row()? {
            self.op = row.op;
            self.key.clear();
            self.key.push_str(row.key);
            self.size = row.size;
            self.ttl_ms = row.ttl_ms;
            ctx.schedule_rel(row.time_ms as f64 * 1000.0, 0);
        }
        Ok(())
    }

    /// Registers a namespace (once per name) with a column prefix that no
    /// other namespace uses: names that sanitise alike (`a-b`, `a_b`) get
    /// `_2`, `_3`, ... so their columns stay apart.
    fn add_namespace(&mut self, ctx: &mut Ctx, name: &str) -> usize {
        if let Some(i) = self.info.iter().position(|n| n.name == name) {
            return i;
        }
        let base_col = match sanitize(name) {
            c if c.is_empty() => "default".to_string(),
            c => c,
        };
        let mut col = base_col.clone();
        let mut n = 2;
        while self.columns.contains(&col) {
            col = format!("{base_col}_{n}");
            n += 1;
        }
        self.columns.push(col.clone());
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

    /// The store key of the current row's key name.
    fn resolve(&mut self, ctx: &mut Ctx) -> SimKey {
        // Moved out (not copied) so the tables can be updated while reading it.
        let key = std::mem::take(&mut self.key);
        let k = self.resolve_name(ctx, &key);
        self.key = key;
        k
    }

    fn resolve_name(&mut self, ctx: &mut Ctx, key: &str) -> SimKey {
        let (ns_name, suffix) = match key.rfind(':') {
            Some(i) => (&key[..i], &key[i + 1..]),
            None => ("", key),
        };
        let idx = match self.namespaces.get(ns_name) {
            Some(&i) => i,
            None if self.info.len() >= MAX_NAMESPACES => {
                // Per-entity prefixes (`user:42:profile`) would make a
                // namespace, and a set of columns, per key: fold the rest
                // into one namespace, keyed by the whole name.
                if !self.folded {
                    self.folded = true;
                    eprintln!(
                        "warning: the trace has more than {MAX_NAMESPACES} namespaces (key prefixes before the last `:`); the rest are counted together as `{OTHER}`"
                    );
                }
                let i = self.add_namespace(ctx, OTHER);
                self.namespaces.insert(ns_name.to_string(), i);
                i
            }
            None => {
                let i = self.add_namespace(ctx, ns_name);
                self.namespaces.insert(ns_name.to_string(), i);
                i
            }
        };
        let info = &mut self.info[idx];
        let digits = suffix.trim_start_matches('0');
        let numeric = info.name != OTHER
            && !suffix.is_empty()
            && digits.len() <= MAX_DIGITS
            && suffix.bytes().all(|b| b.is_ascii_digit());
        if numeric && info.width.is_none() {
            info.width = Some(suffix.len());
        }
        let n = if numeric && info.width == Some(suffix.len()) {
            digits.parse::<u64>().unwrap_or(0)
        } else {
            match self.mapped.get(key) {
                Some(&n) => n,
                None => {
                    let n = MAPPED_BIT | info.next_mapped;
                    info.next_mapped += 1;
                    self.mapped.insert(key.into(), n);
                    n
                }
            }
        };
        SimKey {
            ns: info.ns,
            id: info.base | n,
            len: key.len() as u32,
        }
    }
}

/// A streaming reader over a trace file, header checked.
fn open_reader(path: &Path) -> Result<TraceReader<Box<dyn IoRead + Send>>> {
    let f = std::fs::File::open(path)
        .with_context(|| format!("cannot open trace {}", path.display()))?;
    let input: Box<dyn IoRead + Send> = Box::new(std::io::BufReader::with_capacity(1 << 16, f));
    TraceReader::new(input, &path.display().to_string())
}

impl Client for Replay {
    fn start(&mut self, ctx: &mut Ctx) -> Result<()> {
        self.advance(ctx)
    }

    fn event(&mut self, _token: u64, ctx: &mut Ctx) -> Result<()> {
        let k = self.resolve(ctx);
        let (size, ttl) = (self.size, self.ttl_ms);
        match self.op {
            Op::Get if self.fill && size > 0 => {
                if let Read::Miss(_) = ctx.get_for_fill(k, size, ttl) {
                    ctx.set(k, size, ttl);
                }
            }
            Op::Get => {
                ctx.get(k);
            }
            Op::Set => {
                ctx.set(k, size, ttl);
            }
            Op::Del => {
                ctx.del(k);
            }
            Op::Expire => {
                ctx.expire(k, ttl);
            }
            Op::Persist => {
                ctx.persist(k);
            }
            Op::Incr => {
                ctx.incr(k);
            }
            Op::Getex => {
                ctx.getex(k, ttl);
            }
            Op::Setnx => {
                ctx.set_nx(k, size, ttl);
            }
        }
        if let Some(next) = &self.next_use {
            ctx.set_next_use(k, next[self.rows as usize]);
        }
        self.rows += 1;
        self.advance(ctx)
    }

    fn outcomes(&self, _ns: &[NsStats], _measured_s: f64, out: &mut Row) {
        out.put("trace_rows", self.rows);
    }
}
