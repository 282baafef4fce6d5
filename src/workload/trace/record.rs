//! The types every trace reader shares: one borrowing [`TraceRecord`], one
//! [`TraceSource`] trait, one [`TraceError`] that names file and position.
//!
//! A record borrows the reader's buffers (the key name, monitor's argv), so
//! reading a trace allocates nothing per record; copy what you keep.

use std::fmt;

/// A request's key: numeric ids (binary traces, all-digit CSV keys) stay
/// integers, so replaying them needs no string work.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyRef<'a> {
    /// A numeric object id.
    Id(u64),
    /// A key name, as bytes (Redis keys are binary-safe).
    Name(&'a [u8]),
}

/// What a request does, in the vocabulary of Redis and memcached.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum TraceOp {
    /// Read the key (memcached `get`/`gets`, Redis GET); see [`TraceRecord::fill`].
    Get,
    /// Write the key with `size` bytes, PX `ttl_ms` when not 0.
    Set,
    /// Write only if the key is absent (memcached `add`, Redis SET NX).
    SetNx,
    /// Write only if the key exists (memcached `replace` and `cas`, SET XX).
    SetXx,
    /// Grow an existing value by `size` bytes (memcached `append`/`prepend`,
    /// Redis APPEND); a miss writes nothing, as in memcached.
    Append,
    /// Delete the key.
    Del,
    /// Increment a counter (memcached `incr` fails on a missing key).
    Incr,
    /// Decrement a counter (memcached `decr` fails on a missing key).
    Decr,
    /// Set the TTL to `ttl_ms` (PEXPIRE).
    Expire,
    /// Remove the TTL (PERSIST).
    Persist,
    /// GETEX PX `ttl_ms` (plain GETEX when 0).
    Getex,
    /// A whole Redis command (monitor traces): see [`TraceRecord::argv`].
    Command,
}

impl TraceOp {
    /// Every operation, in declaration order.
    pub const ALL: [TraceOp; 12] = [
        TraceOp::Get,
        TraceOp::Set,
        TraceOp::SetNx,
        TraceOp::SetXx,
        TraceOp::Append,
        TraceOp::Del,
        TraceOp::Incr,
        TraceOp::Decr,
        TraceOp::Expire,
        TraceOp::Persist,
        TraceOp::Getex,
        TraceOp::Command,
    ];

    /// A lower-case name for messages and summaries.
    pub fn name(self) -> &'static str {
        match self {
            TraceOp::Get => "get",
            TraceOp::Set => "set",
            TraceOp::SetNx => "setnx",
            TraceOp::SetXx => "setxx",
            TraceOp::Append => "append",
            TraceOp::Del => "del",
            TraceOp::Incr => "incr",
            TraceOp::Decr => "decr",
            TraceOp::Expire => "expire",
            TraceOp::Persist => "persist",
            TraceOp::Getex => "getex",
            TraceOp::Command => "command",
        }
    }
}

/// One request, borrowing the reader's buffers until the next call.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TraceRecord<'a> {
    /// Time in µs as the file gives it (absolute or relative); [`Rebased`]
    /// moves the first record to 0.
    ///
    /// [`Rebased`]: super::Rebased
    pub time_us: u64,
    /// The operation.
    pub op: TraceOp,
    /// The key.
    pub key: KeyRef<'a>,
    /// Key bytes for the memory model: the name's length, the format's key
    /// size, or 0 when the format does not say.
    pub key_len: u32,
    /// Value bytes (0: none given).
    pub size: u32,
    /// TTL in ms; 0 means none.
    pub ttl_ms: u64,
    /// A `Get` that misses is followed by a SET of `size` bytes with
    /// `ttl_ms` (cache-trace semantics: oracle-general, twr, a CSV without
    /// an op column, ttlsim's `get` with a size).
    pub fill: bool,
    /// oracle-general's next-access vtime (1-based position of the next
    /// request to the same object), when the file gives one.
    pub next_access: Option<u64>,
    /// Monitor traces only: the whole command, `argv[0]` its name; empty
    /// otherwise.
    pub argv: &'a [Vec<u8>],
    /// Monitor traces only: which client sent the command (a hash of the
    /// line's source); 0 otherwise.
    pub client: u64,
    /// Where the record is in the file, so a consumer can name it in an
    /// error while still holding the record (the reader is borrowed).
    pub pos: Pos,
}

/// Where a reader is: the line of a text trace, or the byte offset and
/// 1-based record number of a binary one.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Pos {
    /// 1-based line number.
    Line(u64),
    /// Byte offset of a record in the (decompressed) stream and its 1-based
    /// record number.
    Byte {
        /// Offset of the record's first byte.
        offset: u64,
        /// 1-based record number.
        record: u64,
    },
}

/// Bits of [`Rec::meta`] below the op and fill flag: the TTL in ms.
const TTL_BITS: u32 = 48;
const FILL_BIT: u64 = 1 << TTL_BITS;
const OP_SHIFT: u32 = 56;

/// One key request in 40 bytes: what a binary cache trace's record holds,
/// decoded. Shared decoded traces keep them ([`super::DecodedTrace`]) and
/// [`TraceSource::next_batch`] returns them in blocks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Rec {
    /// Time in µs as the file gives it.
    pub time_us: u64,
    /// Object id.
    pub id: u64,
    /// Next access vtime, or `u64::MAX` when the file gives none.
    pub next: u64,
    /// TTL ms (low 48 bits), the fill flag (bit 48), the op's index in
    /// [`TraceOp::ALL`] (bits 56..).
    pub meta: u64,
    /// Value bytes.
    pub size: u32,
    /// Key bytes.
    pub key_len: u32,
}

impl Rec {
    /// The compact form of a key request; `None` for a record it cannot
    /// hold (a key name, a whole command, a TTL of 2^48 ms or more).
    pub fn of(r: &TraceRecord<'_>) -> Option<Rec> {
        let (KeyRef::Id(id), true) = (r.key, r.argv.is_empty()) else {
            return None;
        };
        let mut rec = Rec::new(r.time_us, r.op, id, r.key_len, r.size, r.ttl_ms, r.fill)?;
        rec.next = r.next_access.unwrap_or(u64::MAX);
        Some(rec)
    }

    /// A request with no next-access time; `None` for a TTL of 2^48 ms or
    /// more.
    #[inline]
    pub fn new(
        time_us: u64,
        op: TraceOp,
        id: u64,
        key_len: u32,
        size: u32,
        ttl_ms: u64,
        fill: bool,
    ) -> Option<Rec> {
        if ttl_ms >= 1 << TTL_BITS {
            return None;
        }
        // The declaration order is [`TraceOp::ALL`]'s (a test checks it).
        let op = op as u64;
        Some(Rec {
            time_us,
            id,
            next: u64::MAX,
            meta: ttl_ms | if fill { FILL_BIT } else { 0 } | op << OP_SHIFT,
            size,
            key_len,
        })
    }

    /// A cache-trace GET that fills on a miss, with no TTL (oracle-general).
    #[inline]
    pub fn fill_get(time_us: u64, id: u64, size: u32, next: Option<u64>) -> Rec {
        Rec {
            time_us,
            id,
            next: next.unwrap_or(u64::MAX),
            meta: FILL_BIT,
            size,
            key_len: 0,
        }
    }

    /// The operation.
    #[inline]
    pub fn op(&self) -> TraceOp {
        TraceOp::ALL[(self.meta >> OP_SHIFT) as usize]
    }

    /// TTL in ms, 0 for none.
    #[inline]
    pub fn ttl_ms(&self) -> u64 {
        self.meta & (FILL_BIT - 1)
    }

    /// See [`TraceRecord::fill`].
    #[inline]
    pub fn fill(&self) -> bool {
        self.meta & FILL_BIT != 0
    }

    /// See [`TraceRecord::next_access`].
    #[inline]
    pub fn next_access(&self) -> Option<u64> {
        (self.next != u64::MAX).then_some(self.next)
    }

    /// As a [`TraceRecord`] at `pos`.
    pub fn record(&self, pos: Pos) -> TraceRecord<'static> {
        TraceRecord {
            time_us: self.time_us,
            op: self.op(),
            key: KeyRef::Id(self.id),
            key_len: self.key_len,
            size: self.size,
            ttl_ms: self.ttl_ms(),
            fill: self.fill(),
            next_access: self.next_access(),
            argv: &[],
            client: 0,
            pos,
        }
    }
}

/// Records a [`TraceSource::next_batch`] call returns at most: 16,384
/// (640 KiB of records), so that a replay whose trace is decoded on a
/// helper thread takes a block, and wakes the helper, once per 16,384
/// records (4,096 took 4–5% more wall time on the 10 M anchor). Unit
/// tests use 4,096, so that their fixtures of a few thousand records span
/// several blocks and exercise the blocks' edges.
#[cfg(not(test))]
pub const BATCH_LEN: usize = 16_384;
/// See above: the unit tests' block length.
#[cfg(test)]
pub const BATCH_LEN: usize = 4096;

/// A block of decoded key requests with their places in the file (byte
/// offset, 1-based record number), reused from block to block.
#[derive(Debug, Default)]
pub struct RecBatch {
    /// The records.
    pub recs: Vec<Rec>,
    /// Where each record is, for an error about it.
    pub pos: Vec<(u64, u64)>,
}

impl RecBatch {
    /// Empties it, keeping its memory.
    pub fn clear(&mut self) {
        self.recs.clear();
        self.pos.clear();
    }

    /// Records held.
    pub fn len(&self) -> usize {
        self.recs.len()
    }

    /// True when it holds none.
    pub fn is_empty(&self) -> bool {
        self.recs.is_empty()
    }

    /// Adds a record found at `offset`, record number `record`.
    #[inline]
    pub fn push(&mut self, rec: Rec, offset: u64, record: u64) {
        self.recs.push(rec);
        self.pos.push((offset, record));
    }

    /// Where record `i` is.
    pub fn pos_of(&self, i: usize) -> Pos {
        let (offset, record) = self.pos[i];
        Pos::Byte { offset, record }
    }

    /// Drops the records from `i` on.
    pub fn truncate(&mut self, i: usize) {
        self.recs.truncate(i);
        self.pos.truncate(i);
    }

    /// Moves the records from `i` on to the end of `to`.
    pub fn move_tail(&mut self, i: usize, to: &mut RecBatch) {
        to.recs.extend_from_slice(&self.recs[i..]);
        to.pos.extend_from_slice(&self.pos[i..]);
        self.truncate(i);
    }
}

/// A malformed trace: the file, the position, what is wrong.
///
/// Displays as `file:LINE: message` for text formats (the shape of
/// [`TraceReader`](super::TraceReader)'s errors) and
/// `file: byte OFFSET (record N): message` for binary ones.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TraceError {
    /// The file as the user named it.
    pub file: String,
    /// Where in the file.
    pub pos: Pos,
    /// What is wrong.
    pub message: String,
}

impl TraceError {
    /// An error at `pos` of `file`.
    pub fn new(file: &str, pos: Pos, message: impl Into<String>) -> Self {
        TraceError {
            file: file.to_string(),
            pos,
            message: message.into(),
        }
    }
}

impl fmt::Display for TraceError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.pos {
            Pos::Line(line) => write!(f, "{}:{line}: {}", self.file, self.message),
            Pos::Byte { offset, record } => write!(
                f,
                "{}: byte {offset} (record {record}): {}",
                self.file, self.message
            ),
        }
    }
}

impl std::error::Error for TraceError {}

/// The trace formats ttlsim reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Format {
    /// ttlsim's own CSV (`time_ms,op,key,size,ttl_ms`).
    Ttlsim,
    /// The output of `redis-cli MONITOR`.
    Monitor,
    /// libCacheSim's oracleGeneral binary format.
    OracleGeneral,
    /// libCacheSim's `twr` binary format (Twitter traces, 20-byte records).
    Twr,
    /// libCacheSim's `twrNS` binary format (`twr` plus a namespace, 22 bytes).
    TwrNs,
    /// A user's CSV described by a [`CsvSpec`](super::CsvSpec).
    Csv,
    /// The Twitter cache-trace CSV (twitter/cache-trace).
    Twitter,
}

impl Format {
    /// Every format, in the order detection tries them.
    pub const ALL: [Format; 7] = [
        Format::Ttlsim,
        Format::Monitor,
        Format::OracleGeneral,
        Format::TwrNs,
        Format::Twr,
        Format::Twitter,
        Format::Csv,
    ];

    /// The name `--trace-format` takes.
    pub fn name(self) -> &'static str {
        match self {
            Format::Ttlsim => "ttlsim",
            Format::Monitor => "monitor",
            Format::OracleGeneral => "oracle-general",
            Format::Twr => "twr",
            Format::TwrNs => "twr-ns",
            Format::Csv => "csv",
            Format::Twitter => "twitter",
        }
    }

    /// Parses a name (case-insensitive; libCacheSim's spellings
    /// `oracleGeneral` and `twrNS` are accepted too). An unknown name is an
    /// error listing the valid ones.
    pub fn parse(s: &str) -> Result<Format, String> {
        let l = s.trim().to_ascii_lowercase();
        let alias = match l.as_str() {
            "oraclegeneral" | "oracle_general" => Some(Format::OracleGeneral),
            "twrns" | "twr_ns" => Some(Format::TwrNs),
            _ => None,
        };
        alias
            .or_else(|| Format::ALL.into_iter().find(|f| f.name() == l))
            .ok_or_else(|| {
                let names: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
                format!(
                    "unknown trace format `{s}` (expected one of: {})",
                    names.join(", ")
                )
            })
    }
}

impl fmt::Display for Format {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// A stream of trace records: one implementation per format.
pub trait TraceSource: Send {
    /// The format being read.
    fn format(&self) -> Format;
    /// The file name used in errors.
    fn file(&self) -> &str;
    /// The next record, or `None` at the end of the trace. After an error
    /// the reader should not be used again.
    fn next_record(&mut self) -> Result<Option<TraceRecord<'_>>, TraceError>;
    /// Position of the last record returned (or of the last error).
    fn position(&self) -> Pos;
    /// Records read but not returned, by reason, with their counts (for
    /// example monitor's commands on other databases). Empty by default.
    fn skipped(&self) -> Vec<(String, u64)> {
        vec![]
    }
    /// Records whose time stepped back a little and was clamped to the
    /// previous record's (a re-basing source's count; 0 by default).
    fn clamped(&self) -> u64 {
        0
    }
    /// Appends the next records, at most [`BATCH_LEN`], to `out` in their
    /// compact form, for a source whose records are all key requests (the
    /// binary cache traces), so that a replay takes them from an array
    /// instead of a call per record. `Ok(true)` and nothing appended: the
    /// end of the trace. `Ok(false)`: this source has no compact form (the
    /// default); read it with [`next_record`](Self::next_record). A block
    /// ends before a record that is skipped, clamped or malformed after the
    /// first one, so [`skipped`](Self::skipped), clamps and errors come
    /// exactly when reading record by record would have them: a replay cut
    /// short counts what it read, not the rest of a block. After a call,
    /// [`position`](Self::position) is that of the last record appended (or
    /// the end, or the error).
    fn next_batch(&mut self, out: &mut RecBatch) -> Result<bool, TraceError> {
        let _ = out;
        Ok(false)
    }
}

impl<T: TraceSource + ?Sized> TraceSource for Box<T> {
    fn format(&self) -> Format {
        (**self).format()
    }
    fn file(&self) -> &str {
        (**self).file()
    }
    fn next_record(&mut self) -> Result<Option<TraceRecord<'_>>, TraceError> {
        (**self).next_record()
    }
    fn position(&self) -> Pos {
        (**self).position()
    }
    fn skipped(&self) -> Vec<(String, u64)> {
        (**self).skipped()
    }
    fn clamped(&self) -> u64 {
        (**self).clamped()
    }
    fn next_batch(&mut self, out: &mut RecBatch) -> Result<bool, TraceError> {
        (**self).next_batch(out)
    }
}

/// Counts of skipped records by reason, bounded: past `MAX` distinct
/// reasons the rest are counted under `other`, so a garbage file cannot
/// grow it without limit.
#[derive(Clone, Debug, Default)]
pub(crate) struct SkipCounts {
    counts: Vec<(String, u64)>,
}

impl SkipCounts {
    const MAX: usize = 64;

    /// Counts one record skipped for `reason`.
    pub(crate) fn add(&mut self, reason: &str) {
        if let Some(e) = self.counts.iter_mut().find(|(r, _)| r == reason) {
            e.1 += 1;
        } else if self.counts.len() < Self::MAX {
            self.counts.push((reason.to_string(), 1));
        } else if let Some(e) = self.counts.iter_mut().find(|(r, _)| r == "other") {
            e.1 += 1;
        } else {
            self.counts.push(("other".to_string(), 1));
        }
    }

    /// The counts, in first-seen order.
    pub(crate) fn to_vec(&self) -> Vec<(String, u64)> {
        self.counts.clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn compact_records_keep_every_op() {
        for (i, &op) in TraceOp::ALL.iter().enumerate() {
            assert_eq!(op as usize, i);
            let r = Rec::new(7, op, 9, 3, 100, (1 << TTL_BITS) - 1, i % 2 == 0).unwrap();
            assert_eq!(
                (r.op(), r.ttl_ms(), r.fill()),
                (op, (1 << TTL_BITS) - 1, i % 2 == 0)
            );
        }
        assert_eq!(
            Rec::new(7, TraceOp::Set, 9, 3, 100, 1 << TTL_BITS, false),
            None
        );
    }

    #[test]
    fn errors_name_the_file_and_position() {
        let e = TraceError::new("t.csv", Pos::Line(3), "bad row: x");
        assert_eq!(e.to_string(), "t.csv:3: bad row: x");
        let e = TraceError::new(
            "t.bin",
            Pos::Byte {
                offset: 48,
                record: 3,
            },
            "truncated",
        );
        assert_eq!(e.to_string(), "t.bin: byte 48 (record 3): truncated");
        let a: anyhow::Error = e.into();
        assert!(a.to_string().starts_with("t.bin: byte 48"));
    }

    #[test]
    fn format_names_round_trip_and_unknown_lists_all() {
        for f in Format::ALL {
            assert_eq!(Format::parse(f.name()), Ok(f));
        }
        assert_eq!(Format::parse("oracleGeneral"), Ok(Format::OracleGeneral));
        assert_eq!(Format::parse("twrNS"), Ok(Format::TwrNs));
        assert_eq!(
            Format::parse("parquet").unwrap_err(),
            "unknown trace format `parquet` (expected one of: ttlsim, monitor, oracle-general, twr-ns, twr, twitter, csv)"
        );
    }

    #[test]
    fn skip_counts_are_bounded() {
        let mut s = SkipCounts::default();
        for i in 0..100 {
            s.add(&format!("db {i}"));
        }
        s.add("db 0");
        let v = s.to_vec();
        assert_eq!(v.len(), 65);
        assert_eq!(v[0], ("db 0".to_string(), 2));
        assert_eq!(v[64], ("other".to_string(), 36));
    }
}
