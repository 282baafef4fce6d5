//! A user's own CSV, described by a [`CsvSpec`].
//!
//! The spec names 1-based columns, and the file's shape:
//!
//! ```text
//! time=1,key=2,op=3,size=4,ttl=5,key_size=6,delim=tab,header=yes,unit=s
//! ```
//!
//! Only `key` is required. Missing columns mean:
//! - no `time`: record *n* (counting from 0) happens at *n* ms, a steady
//!   1,000 requests per simulated second, so TTLs keep a meaning;
//! - no `op`: every request is a [`TraceOp::Get`] that fills on a miss with
//!   `size` (a cache trace, as libCacheSim reads a CSV). With an `op` column
//!   a `get` does not fill: such a trace records its own sets;
//! - no `size`: 0 (no value size given); no `ttl`: no TTL;
//! - no `key_size`: the key field's length in bytes.
//!
//! `unit` (`s`, `ms` or `us`; default `ms`) is the unit of `time` **and**
//! `ttl`; both may have a decimal fraction (`1764620000.25`), kept to the µs.
//! A TTL shorter than 1 ms rounds up to 1 ms, so it never becomes "none".
//! `delim` is one character or `comma`, `tab`, `space`, `semicolon`,
//! `pipe` (default comma); `header=yes` skips the first line.
//!
//! Op names are ttlsim's (`get`, `set`, `del`, `expire`, `persist`, `incr`,
//! `getex`, `setnx`) and the Twitter trace's (`gets`, `add`, `replace`,
//! `cas`, `append`, `prepend`, `delete`, `decr`), case-insensitive, mapped as
//! those formats map them.
//!
//! A key of ASCII digits without a leading zero that fits in a u64 becomes
//! [`KeyRef::Id`] (so `7` and `007` stay different keys); any other key is a
//! [`KeyRef::Name`]. A field may be wrapped in double quotes (to hold the
//! delimiter; no escapes inside). Empty lines are skipped. Every line must
//! have as many fields as the first (the header, if any); an empty numeric
//! field is an error, not 0. Lines are at most 1 MiB.

use super::input::{show, split_fields, LineReader};
use super::record::{Format, KeyRef, Pos, TraceError, TraceOp, TraceRecord, TraceSource};
use super::ttlsim::Op;
use super::twitter::{bytes_field, parse_op, time_field, ttl_field};
use std::io::BufRead;
use std::str::FromStr;

/// Longest line accepted.
pub const MAX_LINE: usize = 1 << 20;

/// The unit of a CSV's `time` and `ttl` columns.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TimeUnit {
    /// Seconds.
    S,
    /// Milliseconds.
    Ms,
    /// Microseconds.
    Us,
}

impl TimeUnit {
    /// µs per unit.
    pub fn micros(self) -> u64 {
        match self {
            TimeUnit::S => 1_000_000,
            TimeUnit::Ms => 1000,
            TimeUnit::Us => 1,
        }
    }

    /// The spec's name (`s`, `ms`, `us`).
    pub fn name(self) -> &'static str {
        match self {
            TimeUnit::S => "s",
            TimeUnit::Ms => "ms",
            TimeUnit::Us => "us",
        }
    }
}

/// Where a CSV keeps each field, and how it is written.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CsvSpec {
    /// 1-based column of the time, if any.
    pub time: Option<usize>,
    /// 1-based column of the key.
    pub key: usize,
    /// 1-based column of the op, if any.
    pub op: Option<usize>,
    /// 1-based column of the value size, if any.
    pub size: Option<usize>,
    /// 1-based column of the TTL, if any.
    pub ttl: Option<usize>,
    /// 1-based column of the key size, if any.
    pub key_size: Option<usize>,
    /// Field delimiter.
    pub delimiter: u8,
    /// Whether the first line is a header.
    pub header: bool,
    /// Unit of `time` and `ttl`.
    pub unit: TimeUnit,
}

impl CsvSpec {
    /// A spec with only the key column; comma-separated, no header, ms.
    pub fn new(key: usize) -> Self {
        CsvSpec {
            time: None,
            key,
            op: None,
            size: None,
            ttl: None,
            key_size: None,
            delimiter: b',',
            header: false,
            unit: TimeUnit::Ms,
        }
    }

    /// Parses `time=1,key=2,op=3,size=4,ttl=5,key_size=6,delim=tab,header=yes,unit=s`.
    pub fn parse(s: &str) -> Result<CsvSpec, String> {
        let mut spec = CsvSpec::new(0);
        for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (name, value) = item
                .split_once('=')
                .ok_or_else(|| format!("csv spec: `{item}` is not name=value"))?;
            let (name, value) = (name.trim(), value.trim());
            let col = || -> Result<usize, String> {
                match value.parse::<usize>() {
                    Ok(c) if c >= 1 => Ok(c),
                    _ => Err(format!(
                        "csv spec: {name}={value}: a column is a number from 1"
                    )),
                }
            };
            match name {
                "time" => spec.time = Some(col()?),
                "key" => spec.key = col()?,
                "op" => spec.op = Some(col()?),
                "size" => spec.size = Some(col()?),
                "ttl" => spec.ttl = Some(col()?),
                "key_size" => spec.key_size = Some(col()?),
                "delim" | "delimiter" => {
                    spec.delimiter = match value {
                        "comma" => b',',
                        "tab" | "\\t" => b'\t',
                        "space" => b' ',
                        "semicolon" => b';',
                        "pipe" => b'|',
                        v if v.len() == 1 && v.is_ascii() && v != "\"" => v.as_bytes()[0],
                        _ => {
                            return Err(format!(
                                "csv spec: delim={value}: expected one character or comma, tab, space, semicolon, pipe"
                            ))
                        }
                    }
                }
                "header" => {
                    spec.header = match value {
                        "yes" | "true" | "1" | "on" => true,
                        "no" | "false" | "0" | "off" => false,
                        _ => return Err(format!("csv spec: header={value}: expected yes or no")),
                    }
                }
                "unit" => {
                    spec.unit = match value {
                        "s" => TimeUnit::S,
                        "ms" => TimeUnit::Ms,
                        "us" => TimeUnit::Us,
                        _ => return Err(format!("csv spec: unit={value}: expected s, ms or us")),
                    }
                }
                _ => {
                    return Err(format!(
                        "csv spec: unknown name `{name}` (expected time, key, op, size, ttl, key_size, delim, header, unit)"
                    ))
                }
            }
        }
        if spec.key == 0 {
            return Err("csv spec: `key=COLUMN` is required".into());
        }
        let mut cols: Vec<(usize, &str)> = [
            (spec.time, "time"),
            (Some(spec.key), "key"),
            (spec.op, "op"),
            (spec.size, "size"),
            (spec.ttl, "ttl"),
            (spec.key_size, "key_size"),
        ]
        .into_iter()
        .filter_map(|(c, n)| c.map(|c| (c, n)))
        .collect();
        cols.sort();
        if let Some(w) = cols.windows(2).find(|w| w[0].0 == w[1].0) {
            return Err(format!(
                "csv spec: {} and {} are both column {}",
                w[0].1, w[1].1, w[0].0
            ));
        }
        Ok(spec)
    }

    fn max_column(&self) -> usize {
        [
            self.time,
            Some(self.key),
            self.op,
            self.size,
            self.ttl,
            self.key_size,
        ]
        .into_iter()
        .flatten()
        .max()
        .unwrap_or(self.key)
    }
}

impl FromStr for CsvSpec {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        CsvSpec::parse(s)
    }
}

/// An op name of ttlsim's or the Twitter trace's.
fn parse_any_op(s: &[u8]) -> Option<TraceOp> {
    Op::parse(s).map(Op::trace_op).or_else(|| parse_op(s))
}

/// `KeyRef::Id` for a canonical decimal that fits a u64.
pub(crate) fn key_ref(k: &[u8]) -> KeyRef<'_> {
    let canonical = !k.is_empty() && (k == b"0" || k[0] != b'0');
    match canonical.then(|| super::input::parse_u64(k)).flatten() {
        Some(id) => KeyRef::Id(id),
        None => KeyRef::Name(k),
    }
}

/// Streams a CSV trace described by a [`CsvSpec`].
pub struct CsvReader<R> {
    lines: LineReader<R>,
    file: String,
    spec: CsvSpec,
    fields: Vec<(usize, usize)>,
    /// Field count and the line that fixed it.
    width: Option<(usize, u64)>,
    index: u64,
}

impl<R: BufRead + Send> CsvReader<R> {
    /// A reader over `input`; `file` names it in errors.
    pub fn new(input: R, file: &str, spec: &CsvSpec) -> Self {
        CsvReader {
            lines: LineReader::new(input, MAX_LINE),
            file: file.to_string(),
            spec: spec.clone(),
            fields: Vec::with_capacity(8),
            width: None,
            index: 0,
        }
    }

    /// Reads the next non-empty line and splits it, checking the width.
    fn next_fields(&mut self) -> Result<bool, TraceError> {
        loop {
            match self.lines.next_line() {
                Ok(Some([])) => continue,
                Ok(Some(_)) => break,
                Ok(None) => return Ok(false),
                Err(e) => {
                    let pos = Pos::Line(self.lines.line());
                    return Err(TraceError::new(&self.file, pos, e.message()));
                }
            }
        }
        let line = self.lines.line();
        let bad =
            |why: String| TraceError::new(&self.file, Pos::Line(line), format!("bad row: {why}"));
        split_fields(
            self.lines.current(),
            self.spec.delimiter,
            true,
            &mut self.fields,
        )
        .map_err(bad)?;
        let n = self.fields.len();
        match self.width {
            None => {
                let need = self.spec.max_column();
                if n < need {
                    return Err(bad(format!(
                        "the column spec uses column {need} but the line has {n} fields"
                    )));
                }
                self.width = Some((n, line));
            }
            Some((w, first)) if w != n => {
                return Err(bad(format!(
                    "expected {w} fields (as on line {first}), found {n}"
                )));
            }
            Some(_) => {}
        }
        Ok(true)
    }
}

impl<R: BufRead + Send> TraceSource for CsvReader<R> {
    fn format(&self) -> Format {
        Format::Csv
    }

    fn file(&self) -> &str {
        &self.file
    }

    fn next_record(&mut self) -> Result<Option<TraceRecord<'_>>, TraceError> {
        if self.spec.header && self.width.is_none() && !self.next_fields()? {
            return Ok(None);
        }
        if !self.next_fields()? {
            return Ok(None);
        }
        let line = self.lines.line();
        let file = &self.file;
        let bad = |why: String| TraceError::new(file, Pos::Line(line), format!("bad row: {why}"));
        let text = self.lines.current();
        let fields = &self.fields;
        // Columns are checked against the first line's width; a column 0
        // (only possible in a hand-built spec) reads as an empty field.
        let f = |c: usize| match c.checked_sub(1).and_then(|i| fields.get(i)) {
            Some(&(s, e)) => &text[s..e],
            None => &[][..],
        };
        let spec = &self.spec;
        let (unit_us, unit) = (spec.unit.micros(), spec.unit.name());
        let time_us = match spec.time {
            Some(c) => time_field("time", f(c), unit_us, unit).map_err(bad)?,
            None => self.index.saturating_mul(1000),
        };
        let k = f(spec.key);
        if k.is_empty() {
            return Err(bad("empty key".into()));
        }
        let op = match spec.op {
            Some(c) => parse_any_op(f(c)).ok_or_else(|| {
                bad(format!(
                    "unknown op `{}` (expected get, set, del, expire, persist, incr, getex, setnx, gets, add, replace, cas, append, prepend, delete or decr)",
                    show(f(c))
                ))
            })?,
            None => TraceOp::Get,
        };
        let size = match spec.size {
            Some(c) => bytes_field("size", f(c)).map_err(bad)?,
            None => 0,
        };
        let ttl_ms = match spec.ttl {
            Some(c) => ttl_field("ttl", f(c), unit_us, unit).map_err(bad)?,
            None => 0,
        };
        let key_len = match spec.key_size {
            Some(c) => bytes_field("key_size", f(c)).map_err(bad)?,
            None => u32::try_from(k.len()).unwrap_or(u32::MAX),
        };
        self.index += 1;
        Ok(Some(TraceRecord {
            time_us,
            op,
            key: key_ref(k),
            key_len,
            size,
            ttl_ms,
            fill: spec.op.is_none(),
            next_access: None,
            argv: &[],
            client: 0,
            pos: Pos::Line(line),
        }))
    }

    fn position(&self) -> Pos {
        Pos::Line(self.lines.line())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn fixture(name: &str) -> std::io::BufReader<std::fs::File> {
        let p = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/traces")
            .join(name);
        std::io::BufReader::new(std::fs::File::open(p).unwrap())
    }

    #[test]
    fn spec_parses_and_refuses_mistakes() {
        let s =
            CsvSpec::parse("time=1,key=2,op=3,size=4,ttl=5,delim=tab,header=yes,unit=s").unwrap();
        assert_eq!(
            s,
            CsvSpec {
                time: Some(1),
                op: Some(3),
                size: Some(4),
                ttl: Some(5),
                delimiter: b'\t',
                header: true,
                unit: TimeUnit::S,
                ..CsvSpec::new(2)
            }
        );
        assert_eq!(CsvSpec::parse("key=3").unwrap(), CsvSpec::new(3));
        assert_eq!("delim=;,key=1".parse::<CsvSpec>().unwrap().delimiter, b';');
        for (bad, want) in [
            ("time=1", "csv spec: `key=COLUMN` is required"),
            ("key=0", "csv spec: key=0: a column is a number from 1"),
            ("key=1,size=1", "csv spec: key and size are both column 1"),
            ("key=1,colour=2", "csv spec: unknown name `colour` (expected time, key, op, size, ttl, key_size, delim, header, unit)"),
            ("key=1,unit=h", "csv spec: unit=h: expected s, ms or us"),
            ("key", "csv spec: `key` is not name=value"),
        ] {
            assert_eq!(CsvSpec::parse(bad).unwrap_err(), want, "{bad}");
        }
    }

    #[test]
    fn reads_a_full_spec_with_header_and_seconds() {
        let spec = CsvSpec::parse("time=1,key=2,op=3,size=4,ttl=5,header=yes,unit=s").unwrap();
        let mut r = CsvReader::new(fixture("small_ops.csv"), "small_ops.csv", &spec);
        let mut got = Vec::new();
        while let Some(x) = r.next_record().unwrap() {
            let key = match x.key {
                KeyRef::Id(i) => format!("#{i}"),
                KeyRef::Name(n) => String::from_utf8_lossy(n).into_owned(),
            };
            got.push((x.time_us, x.op, key, x.key_len, x.size, x.ttl_ms, x.fill));
        }
        use TraceOp::*;
        assert_eq!(got.len(), 20);
        assert_eq!(
            got[0],
            (
                1_764_620_000_000_000,
                Set,
                "user:1".into(),
                6,
                100,
                30_000,
                false
            )
        );
        assert_eq!(
            got[1],
            (1_764_620_000_250_000, Get, "user:1".into(), 6, 0, 0, false)
        );
        assert_eq!(
            got[2],
            (1_764_620_001_000_000, Set, "#42".into(), 2, 10, 1500, false)
        );
        assert_eq!(got[3].2, "007");
        assert_eq!(got[4].2, "hello, world");
        let ops: Vec<TraceOp> = got.iter().map(|g| g.1).collect();
        assert_eq!(
            ops,
            vec![
                Set, Get, Set, Get, Set, Del, Expire, Persist, Incr, Getex, SetNx, Get, SetNx,
                SetXx, SetXx, Append, Append, Del, Decr, Get
            ]
        );
    }

    #[test]
    fn without_op_or_time_every_request_is_a_filling_get_one_ms_apart() {
        let spec = CsvSpec::parse("key=1,size=2,delim=space").unwrap();
        let mut r = CsvReader::new(fixture("small_keys.csv"), "small_keys.csv", &spec);
        let mut n = 0u64;
        while let Some(x) = r.next_record().unwrap() {
            assert_eq!(
                (x.op, x.fill, x.time_us, x.ttl_ms),
                (TraceOp::Get, true, n * 1000, 0)
            );
            if n == 0 {
                assert_eq!((x.key, x.size), (KeyRef::Id(1), 4096));
            }
            n += 1;
        }
        assert_eq!(n, 30);
    }

    fn first_error(spec: &str, body: &str) -> String {
        let spec = CsvSpec::parse(spec).unwrap();
        let mut r = CsvReader::new(body.as_bytes(), "u.csv", &spec);
        loop {
            match r.next_record() {
                Ok(Some(_)) => {}
                Ok(None) => return "no error".into(),
                Err(e) => return e.to_string(),
            }
        }
    }

    #[test]
    fn malformed_rows_are_errors_at_their_line() {
        let spec = "time=1,key=2,op=3,size=4,ttl=5,header=yes";
        let head = "t,k,op,size,ttl\n1,a,get,0,0\n";
        for (bad, want) in [
            ("2,a,get,0", "u.csv:3: bad row: expected 5 fields (as on line 1), found 4"),
            ("2,a,get,0,0,0", "u.csv:3: bad row: expected 5 fields (as on line 1), found 6"),
            ("2,a,set,,0", "u.csv:3: bad row: empty size field"),
            (",a,set,1,0", "u.csv:3: bad row: empty time field"),
            ("2,a,set,1,", "u.csv:3: bad row: empty ttl field"),
            ("2,,set,1,0", "u.csv:3: bad row: empty key"),
            ("2,a,fetch,1,0", "u.csv:3: bad row: unknown op `fetch` (expected get, set, del, expire, persist, incr, getex, setnx, gets, add, replace, cas, append, prepend, delete or decr)"),
            ("2,a,set,1.5,0", "u.csv:3: bad row: size `1.5` is not a byte count"),
            ("2,a,set,1,-1", "u.csv:3: bad row: ttl `-1` is not a number of ms >= 0"),
            ("2,\"a,set,1,0", "u.csv:3: bad row: unterminated quote in field 2"),
        ] {
            assert_eq!(first_error(spec, &format!("{head}{bad}\n")), want, "{bad}");
        }
        assert_eq!(
            first_error("key=2,size=6", "1,a,2\n"),
            "u.csv:1: bad row: the column spec uses column 6 but the line has 3 fields"
        );
        assert_eq!(first_error("key=1", "a\n\nb\n"), "no error");
    }

    #[test]
    fn only_canonical_decimals_become_ids() {
        assert_eq!(key_ref(b"0"), KeyRef::Id(0));
        assert_eq!(key_ref(b"18446744073709551615"), KeyRef::Id(u64::MAX));
        assert_eq!(
            key_ref(b"18446744073709551616"),
            KeyRef::Name(b"18446744073709551616")
        );
        assert_eq!(key_ref(b"007"), KeyRef::Name(b"007"));
        assert_eq!(key_ref(b"12a"), KeyRef::Name(b"12a"));
    }
}
