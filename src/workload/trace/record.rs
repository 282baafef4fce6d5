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
