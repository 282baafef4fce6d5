//! ttlsim's trace format: a CSV of requests, one a row.
//!
//! ```text
//! time_ms,op,key,size,ttl_ms
//! 0,set,session:00000000000000000000000000000001,612,1800000
//! 3,get,cache:000000000042,830,300000
//! ```
//!
//! `time_ms` counts from the start of the run and never decreases; `op` is
//! `get`, `set`, `del`, `expire`, `persist`, `incr`, or one of ttlsim's two
//! extensions `getex` (GETEX with PX `ttl_ms`) and `setnx` (SET NX with PX
//! `ttl_ms`); `ttl_ms` 0 means no TTL. A `get` that misses writes the key
//! with the row's size and TTL (a cache-aside fill) unless its size is 0 or
//! the replay runs with `--no-fill`. README.md ("Traces") says exactly what
//! `ttlsim record` writes.
//!
//! [`TraceReader`] streams rows through one reused record buffer;
//! [`TraceWriter`] writes them, folding a fill into the `get` it follows.
//!
//! As a [`TraceSource`], [`TtlsimSource`] maps the ops 1:1 (`setnx` to
//! [`TraceOp::SetNx`]), gives times in µs (`time_ms` × 1000), the key as a
//! name with its length as `key_len`, and marks a `get` as filling when its
//! size is > 0. Its errors are [`TraceReader`]'s, with the same text.

use super::record::{Format, KeyRef, Pos, TraceError, TraceOp, TraceRecord, TraceSource};
use anyhow::{bail, Context, Result};
use std::io::{Read, Write};

/// The header line.
pub const HEADER: &str = "time_ms,op,key,size,ttl_ms";

/// Largest `time_ms` a trace may hold: about 100 years of simulated time,
/// far from the clock's overflow.
pub const MAX_TIME_MS: u64 = 100 * 365 * 24 * 3600 * 1000;

/// Largest `ttl_ms`: about 100 years, so an expire time never overflows.
pub const MAX_TTL_MS: u64 = MAX_TIME_MS;

/// A trace operation.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Op {
    /// GET (fills on a miss when `size` > 0, unless `--no-fill`).
    Get,
    /// SET with a size, PX `ttl_ms` if not 0.
    Set,
    /// DEL.
    Del,
    /// PEXPIRE `ttl_ms` (must be > 0).
    Expire,
    /// PERSIST.
    Persist,
    /// INCR.
    Incr,
    /// GETEX PX `ttl_ms` (plain GETEX when 0). A ttlsim extension.
    Getex,
    /// SET NX, PX `ttl_ms` if not 0. A ttlsim extension.
    Setnx,
}

impl Op {
    /// The name in the `op` column.
    pub fn name(self) -> &'static str {
        match self {
            Op::Get => "get",
            Op::Set => "set",
            Op::Del => "del",
            Op::Expire => "expire",
            Op::Persist => "persist",
            Op::Incr => "incr",
            Op::Getex => "getex",
            Op::Setnx => "setnx",
        }
    }

    /// Parses the `op` column (case-insensitive).
    pub fn parse(s: &[u8]) -> Option<Op> {
        Some(match s.to_ascii_lowercase().as_slice() {
            b"get" => Op::Get,
            b"set" => Op::Set,
            b"del" => Op::Del,
            b"expire" => Op::Expire,
            b"persist" => Op::Persist,
            b"incr" => Op::Incr,
            b"getex" => Op::Getex,
            b"setnx" => Op::Setnx,
            _ => return None,
        })
    }
}

/// One parsed row, borrowing the reader's buffer.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Row<'a> {
    /// Milliseconds from the start of the run.
    pub time_ms: u64,
    /// The operation.
    pub op: Op,
    /// The key name.
    pub key: &'a str,
    /// Value size in bytes (for `set`, `setnx` and fills).
    pub size: u32,
    /// TTL in ms; 0 means none.
    pub ttl_ms: u64,
}

/// Streams a trace, one reused record buffer, checking every row.
pub struct TraceReader<R: Read> {
    csv: csv::Reader<crate::limits::LineCap<R>>,
    rec: csv::ByteRecord,
    file: String,
    last_time: u64,
    line: u64,
}

fn num<T: std::str::FromStr>(field: &[u8]) -> Option<T> {
    std::str::from_utf8(field).ok()?.trim().parse().ok()
}

impl<R: Read> TraceReader<R> {
    /// A reader over `input`; `file` names it in errors. Checks the header.
    pub fn new(input: R, file: &str) -> Result<Self> {
        let mut csv = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .from_reader(crate::limits::LineCap::new(
                input,
                crate::limits::MAX_TRACE_LINE,
            ));
        let mut rec = csv::ByteRecord::new();
        let ok = csv
            .read_byte_record(&mut rec)
            .with_context(|| format!("{file}:1: cannot read the header"))?;
        let header: Vec<&[u8]> = rec.iter().collect();
        let want: Vec<&[u8]> = HEADER.split(',').map(str::as_bytes).collect();
        if !ok || header != want {
            bail!(
                "{file}:1: bad header `{}`: expected `{HEADER}`",
                String::from_utf8_lossy(&header.join(&b","[..]))
            );
        }
        Ok(TraceReader {
            csv,
            rec,
            file: file.to_string(),
            last_time: 0,
            line: 1,
        })
    }

    /// The next row, or `None` at the end. A malformed row is an error
    /// naming the file and line.
    pub fn next_row(&mut self) -> Result<Option<Row<'_>>> {
        Ok(self.next_row_at()?.map(|(row, _)| row))
    }

    /// [`next_row`](Self::next_row) with the row's line number, for callers
    /// that hold the row while they name its line.
    pub fn next_row_at(&mut self) -> Result<Option<(Row<'_>, u64)>> {
        let more = self
            .csv
            .read_byte_record(&mut self.rec)
            .with_context(|| format!("{}:{}: unreadable row", self.file, self.line + 1))?;
        if !more {
            return Ok(None);
        }
        self.line = self.rec.position().map_or(self.line + 1, |p| p.line());
        let (file, line) = (&self.file, self.line);
        let bad = |why: String| anyhow::anyhow!("{file}:{line}: bad row: {why}");
        if self.rec.len() != 5 {
            return Err(bad(format!(
                "expected 5 fields ({HEADER}), found {}",
                self.rec.len()
            )));
        }
        // An empty number is a mistake, not a zero.
        for (i, name) in [(0, "time_ms"), (3, "size"), (4, "ttl_ms")] {
            if self.rec[i].iter().all(u8::is_ascii_whitespace) {
                return Err(bad(format!("{name} is empty (write 0 for none)")));
            }
        }
        let time_ms: u64 = num(&self.rec[0]).ok_or_else(|| {
            bad(format!(
                "time_ms `{}` is not a whole number of ms",
                String::from_utf8_lossy(&self.rec[0])
            ))
        })?;
        if time_ms > MAX_TIME_MS {
            return Err(bad(format!(
                "time_ms {time_ms} is out of range (at most {MAX_TIME_MS}, about 100 years)"
            )));
        }
        if time_ms < self.last_time {
            return Err(bad(format!(
                "time_ms {time_ms} is earlier than the previous row's {}",
                self.last_time
            )));
        }
        let op = Op::parse(&self.rec[1]).ok_or_else(|| {
            bad(format!(
                "unknown op `{}` (expected get, set, del, expire, persist, incr, getex or setnx)",
                String::from_utf8_lossy(&self.rec[1])
            ))
        })?;
        let key = std::str::from_utf8(&self.rec[2]).map_err(|_| bad("key is not UTF-8".into()))?;
        if key.is_empty() {
            return Err(bad("empty key".into()));
        }
        let size: u32 = num(&self.rec[3]).ok_or_else(|| {
            bad(format!(
                "size `{}` is not a byte count",
                String::from_utf8_lossy(&self.rec[3])
            ))
        })?;
        let ttl_ms: u64 = num(&self.rec[4]).ok_or_else(|| {
            bad(format!(
                "ttl_ms `{}` is not a whole number of ms >= 0",
                String::from_utf8_lossy(&self.rec[4])
            ))
        })?;
        if ttl_ms > MAX_TTL_MS {
            return Err(bad(format!(
                "ttl_ms {ttl_ms} is out of range (at most {MAX_TTL_MS}, about 100 years; Redis answers \"invalid expire time\")"
            )));
        }
        if matches!(op, Op::Set | Op::Setnx) && size == 0 {
            return Err(bad(format!("{} needs a size > 0", op.name())));
        }
        if op == Op::Expire && ttl_ms == 0 {
            return Err(bad("expire needs ttl_ms > 0".into()));
        }
        self.last_time = time_ms;
        Ok(Some((
            Row {
                time_ms,
                op,
                key,
                size,
                ttl_ms,
            },
            line,
        )))
    }

    /// Line number of the last row read.
    pub fn line(&self) -> u64 {
        self.line
    }
}

/// A request as [`TraceWriter`] takes it: the key as namespace + number.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Request {
    /// Milliseconds from the start of the run.
    pub time_ms: u64,
    /// Operation.
    pub op: Op,
    /// Namespace index (into the writer's names).
    pub ns: u32,
    /// Key number.
    pub number: u64,
    /// Key length in bytes.
    pub len: u32,
    /// Size (fills, sets).
    pub size: u32,
    /// TTL in ms (0: none).
    pub ttl_ms: u64,
}

/// Writes a trace. A `get` is held back until the next request: when that
/// is the `set` of the same key after the `get` missed, and the `get` was
/// marked as filling, the `set` is the fill the replay will redo, so only
/// the `get` is written.
pub struct TraceWriter<W: Write> {
    w: ::csv::Writer<W>,
    names: Vec<String>,
    pending: Option<(Request, bool)>,
    rows: u64,
    /// The key field being formatted (a reused buffer).
    key: String,
}

impl<W: Write> TraceWriter<W> {
    /// A writer over `w`; writes the header.
    pub fn new(w: W) -> std::io::Result<Self> {
        let mut w = crate::units::csv_writer(w);
        w.write_record(HEADER.split(','))?;
        Ok(TraceWriter {
            w,
            names: Vec::new(),
            pending: None,
            rows: 0,
            key: String::new(),
        })
    }

    /// Sets the namespace names (index → key prefix).
    pub fn set_names(&mut self, names: &[String]) {
        self.names = names.to_vec();
    }

    fn write(&mut self, r: &Request) -> std::io::Result<()> {
        use std::fmt::Write as _;
        let ns = &self.names[r.ns as usize];
        let width = (r.len as usize).saturating_sub(ns.len() + 1);
        self.rows += 1;
        self.key.clear();
        // Writing to a String cannot fail.
        let _ = write!(self.key, "{ns}:{:0width$}", r.number);
        let (mut time, mut size, mut ttl) = (
            itoa::Buffer::new(),
            itoa::Buffer::new(),
            itoa::Buffer::new(),
        );
        self.w.write_record([
            time.format(r.time_ms),
            r.op.name(),
            &self.key,
            size.format(r.size),
            ttl.format(r.ttl_ms),
        ])?;
        Ok(())
    }

    /// Records a `get`; `fills` says the client will SET the key right
    /// after a miss with `size` and `ttl_ms`, `missed` whether it missed.
    pub fn get(&mut self, r: Request, fills: bool, missed: bool) -> std::io::Result<()> {
        self.flush_pending()?;
        let r = if fills {
            r
        } else {
            Request {
                size: 0,
                ttl_ms: 0,
                ..r
            }
        };
        self.pending = Some((r, fills && missed));
        Ok(())
    }

    /// Records any other request.
    pub fn request(&mut self, r: Request) -> std::io::Result<()> {
        if let Some((g, true)) = self.pending {
            if r.op == Op::Set && g.ns == r.ns && g.number == r.number {
                // The fill of the get just written: the replay redoes it.
                // The row carries what the client wrote.
                let g = Request {
                    size: r.size,
                    ttl_ms: r.ttl_ms,
                    ..g
                };
                self.pending = None;
                return self.write(&g);
            }
        }
        self.flush_pending()?;
        self.write(&r)
    }

    fn flush_pending(&mut self) -> std::io::Result<()> {
        if let Some((g, _)) = self.pending.take() {
            self.write(&g)?;
        }
        Ok(())
    }

    /// Flushes and returns the inner writer and the number of rows written.
    pub fn finish(mut self) -> std::io::Result<(W, u64)> {
        self.flush_pending()?;
        self.w.flush()?;
        let rows = self.rows;
        let mut w = self.w.into_inner().map_err(|e| e.into_error())?;
        w.flush()?;
        Ok((w, rows))
    }
}

/// [`TraceReader`] as a [`TraceSource`].
pub struct TtlsimSource<R: Read> {
    reader: TraceReader<R>,
    file: String,
}

impl<R: Read + Send> TtlsimSource<R> {
    /// A source over `input`; `file` names it in errors. Checks the header.
    pub fn new(input: R, file: &str) -> Result<Self> {
        Ok(TtlsimSource {
            reader: TraceReader::new(input, file)?,
            file: file.to_string(),
        })
    }
}

impl Op {
    /// The shared operation this op is.
    pub fn trace_op(self) -> TraceOp {
        match self {
            Op::Get => TraceOp::Get,
            Op::Set => TraceOp::Set,
            Op::Del => TraceOp::Del,
            Op::Expire => TraceOp::Expire,
            Op::Persist => TraceOp::Persist,
            Op::Incr => TraceOp::Incr,
            Op::Getex => TraceOp::Getex,
            Op::Setnx => TraceOp::SetNx,
        }
    }
}

/// Splits `file:LINE: message` (what [`TraceReader`] writes) into a
/// [`TraceError`], keeping the text.
fn split_error(file: &str, fallback_line: u64, e: &anyhow::Error) -> TraceError {
    let text = format!("{e:#}");
    let parsed = text
        .strip_prefix(file)
        .and_then(|t| t.strip_prefix(':'))
        .and_then(|t| t.split_once(": "))
        .and_then(|(n, msg)| Some((n.parse::<u64>().ok()?, msg)));
    match parsed {
        Some((line, msg)) => TraceError::new(file, Pos::Line(line), msg),
        None => TraceError::new(file, Pos::Line(fallback_line), text),
    }
}

impl<R: Read + Send> TraceSource for TtlsimSource<R> {
    fn format(&self) -> Format {
        Format::Ttlsim
    }

    fn file(&self) -> &str {
        &self.file
    }

    fn next_record(&mut self) -> Result<Option<TraceRecord<'_>>, TraceError> {
        let fallback = self.reader.line() + 1;
        let (row, line) = match self.reader.next_row_at() {
            Ok(Some(row)) => row,
            Ok(None) => return Ok(None),
            Err(e) => return Err(split_error(&self.file, fallback, &e)),
        };
        Ok(Some(TraceRecord {
            time_us: row.time_ms * 1000,
            op: row.op.trace_op(),
            key: KeyRef::Name(row.key.as_bytes()),
            key_len: u32::try_from(row.key.len()).unwrap_or(u32::MAX),
            size: row.size,
            ttl_ms: row.ttl_ms,
            fill: row.op == Op::Get && row.size > 0,
            next_access: None,
            argv: &[],
            client: 0,
            pos: Pos::Line(line),
        }))
    }

    fn position(&self) -> Pos {
        Pos::Line(self.reader.line())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_rows_and_rejects_bad_ones() {
        let src = "time_ms,op,key,size,ttl_ms\n0,set,a:1,10,0\n5,get,b,0,0\n";
        let mut r = TraceReader::new(src.as_bytes(), "t.csv").unwrap();
        let row = r.next_row().unwrap().unwrap();
        assert_eq!(
            (row.time_ms, row.op, row.key, row.size),
            (0, Op::Set, "a:1", 10)
        );
        assert_eq!(r.next_row().unwrap().unwrap().key, "b");
        assert!(r.next_row().unwrap().is_none());

        for (bad, what) in [
            ("1,fetch,a,1,0", "unknown op"),
            ("x,get,a,1,0", "time_ms"),
            ("1,get,a,1", "5 fields"),
            ("1,set,a,-3,0", "size"),
            ("1,set,a,3,-1", "ttl_ms"),
            ("1,expire,a,0,0", "expire needs"),
        ] {
            let src = format!("time_ms,op,key,size,ttl_ms\n0,get,a,0,0\n{bad}\n");
            let mut r = TraceReader::new(src.as_bytes(), "t.csv").unwrap();
            r.next_row().unwrap();
            let e = r.next_row().unwrap_err().to_string();
            assert!(e.starts_with("t.csv:3: bad row"), "{e}");
            assert!(e.contains(what), "{e}");
        }
        assert!(TraceReader::new("a,b\n".as_bytes(), "t.csv").is_err());
    }

    #[test]
    fn fills_fold_into_their_get() {
        let mut w = TraceWriter::new(Vec::new()).unwrap();
        w.set_names(&["c".to_string()]);
        let r = |op, number, size, ttl_ms| Request {
            time_ms: 1,
            op,
            ns: 0,
            number,
            len: 10,
            size,
            ttl_ms,
        };
        w.get(r(Op::Get, 1, 50, 1000), true, true).unwrap();
        w.request(r(Op::Set, 1, 50, 1000)).unwrap();
        w.get(r(Op::Get, 2, 50, 1000), false, true).unwrap();
        w.request(r(Op::Set, 2, 50, 1000)).unwrap();
        let (out, rows) = w.finish().unwrap();
        assert_eq!(rows, 3);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "time_ms,op,key,size,ttl_ms\n1,get,c:00000001,50,1000\n1,get,c:00000002,0,0\n1,set,c:00000002,50,1000\n"
        );
    }

    #[test]
    fn source_maps_rows_and_keeps_error_text() {
        let src = "time_ms,op,key,size,ttl_ms\n0,set,a:1,10,0\n5,get,b,7,100\n6,get,c,0,0\n7,setnx,d,3,50\n9,fetch,a,1,0\n";
        let mut s = TtlsimSource::new(src.as_bytes(), "t.csv").unwrap();
        let r = s.next_record().unwrap().unwrap();
        assert_eq!(
            (r.time_us, r.op, r.key, r.key_len, r.size, r.ttl_ms, r.fill),
            (0, TraceOp::Set, KeyRef::Name(b"a:1"), 3, 10, 0, false)
        );
        let r = s.next_record().unwrap().unwrap();
        assert_eq!(
            (r.time_us, r.op, r.fill, r.ttl_ms),
            (5000, TraceOp::Get, true, 100)
        );
        assert!(!s.next_record().unwrap().unwrap().fill);
        assert_eq!(s.next_record().unwrap().unwrap().op, TraceOp::SetNx);
        assert_eq!(s.position(), Pos::Line(5));
        let e = s.next_record().unwrap_err();
        assert_eq!(e.pos, Pos::Line(6));
        assert_eq!(
            e.to_string(),
            "t.csv:6: bad row: unknown op `fetch` (expected get, set, del, expire, persist, incr, getex or setnx)"
        );
    }
}
