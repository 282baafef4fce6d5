//! The Twitter cache-trace CSV (github.com/twitter/cache-trace).
//!
//! No header; one request a line, seven comma-separated fields:
//!
//! ```text
//! timestamp,anonymized key,key size,value size,client id,operation,TTL
//! 0,nz:u:eeW511W3dcH3de3d15ec,17,0,1,get,0
//! 0,nz:u:eeW511W3dcH3de3d15ec,17,88,1,set,3600
//! ```
//!
//! `timestamp` is in seconds (the published traces start at 0), `TTL` in
//! seconds with 0 meaning none, sizes in bytes. The key is a
//! [`KeyRef::Name`] with `key_len` the `key size` field (the key's length
//! before anonymisation, which is what the cache stored); the client id is
//! checked to be present and otherwise ignored.
//!
//! Operations follow memcached's semantics: `get`, `gets` → [`TraceOp::Get`]
//! **without fill** (the traces record the sets the clients issued after a
//! miss, so filling as well would write twice; a get's value size is what it
//! returned, 0 on a miss); `set` → `Set`; `add` → `SetNx`; `replace`, `cas`
//! → `SetXx`; `append`, `prepend` → `Append` (grow by the value size);
//! `delete` → `Del`; `incr`/`decr` → `Incr`/`Decr`, which fail on a missing
//! key as in memcached. Operation names are case-insensitive.
//!
//! Empty lines are skipped; a line with another field count, an empty or
//! non-numeric number, an empty key or an unknown operation is an error
//! naming its line. Lines are at most 64 KiB.

use super::input::{parse_decimal_us, parse_u32, show, split_fields, LineReader};
use super::record::{Format, KeyRef, Pos, TraceError, TraceOp, TraceRecord, TraceSource};
use super::ttlsim::MAX_TTL_MS;
use std::io::BufRead;

/// Longest line accepted.
pub const MAX_LINE: usize = 64 * 1024;

/// The operation names and what they become.
pub(crate) const OPS: [(&str, TraceOp); 11] = [
    ("get", TraceOp::Get),
    ("gets", TraceOp::Get),
    ("set", TraceOp::Set),
    ("add", TraceOp::SetNx),
    ("replace", TraceOp::SetXx),
    ("cas", TraceOp::SetXx),
    ("append", TraceOp::Append),
    ("prepend", TraceOp::Append),
    ("delete", TraceOp::Del),
    ("incr", TraceOp::Incr),
    ("decr", TraceOp::Decr),
];

/// A memcached operation name (case-insensitive).
pub(crate) fn parse_op(s: &[u8]) -> Option<TraceOp> {
    OPS.iter()
        .find(|(n, _)| n.as_bytes().eq_ignore_ascii_case(s))
        .map(|&(_, op)| op)
}

/// Streams a Twitter cache trace.
pub struct TwitterReader<R> {
    lines: LineReader<R>,
    file: String,
    fields: Vec<(usize, usize)>,
}

impl<R: BufRead + Send> TwitterReader<R> {
    /// A reader over `input`; `file` names it in errors.
    pub fn new(input: R, file: &str) -> Self {
        TwitterReader {
            lines: LineReader::new(input, MAX_LINE),
            file: file.to_string(),
            fields: Vec::with_capacity(8),
        }
    }
}

/// A byte count field (u32), or the error message.
pub(crate) fn bytes_field(name: &str, f: &[u8]) -> Result<u32, String> {
    if f.is_empty() {
        return Err(format!("empty {name} field"));
    }
    parse_u32(f).ok_or_else(|| format!("{name} `{}` is not a byte count", show(f)))
}

/// A TTL given in whole or fractional units of `unit_us` µs, as ms (sub-ms
/// TTLs round up to 1 ms so they do not become "no TTL").
pub(crate) fn ttl_field(name: &str, f: &[u8], unit_us: u64, unit: &str) -> Result<u64, String> {
    if f.is_empty() {
        return Err(format!("empty {name} field"));
    }
    let out_of_range = || {
        format!(
            "{name} {} is out of range (at most about 100 years)",
            show(f)
        )
    };
    let us = parse_decimal_us(f, unit_us).ok_or_else(|| {
        if is_decimal(f) {
            out_of_range()
        } else {
            format!("{name} `{}` is not a number of {unit} >= 0", show(f))
        }
    })?;
    let ms = us.div_ceil(1000);
    if ms > MAX_TTL_MS {
        return Err(out_of_range());
    }
    Ok(ms)
}

/// A time field in units of `unit_us` µs, as µs.
pub(crate) fn time_field(name: &str, f: &[u8], unit_us: u64, unit: &str) -> Result<u64, String> {
    if f.is_empty() {
        return Err(format!("empty {name} field"));
    }
    parse_decimal_us(f, unit_us).ok_or_else(|| {
        if is_decimal(f) {
            format!("{name} {} is out of range", show(f))
        } else {
            format!("{name} `{}` is not a time in {unit} >= 0", show(f))
        }
    })
}

/// `digits[.digits]`: a well-formed number, so a failed parse means it is
/// too large.
fn is_decimal(f: &[u8]) -> bool {
    let mut parts = f.splitn(2, |&c| c == b'.');
    let ok =
        |p: Option<&[u8]>| p.is_some_and(|p| !p.is_empty() && p.iter().all(u8::is_ascii_digit));
    let int = parts.next();
    match parts.next() {
        None => ok(int),
        frac => ok(int) && ok(frac),
    }
}

impl<R: BufRead + Send> TraceSource for TwitterReader<R> {
    fn format(&self) -> Format {
        Format::Twitter
    }

    fn file(&self) -> &str {
        &self.file
    }

    fn next_record(&mut self) -> Result<Option<TraceRecord<'_>>, TraceError> {
        let line = loop {
            match self.lines.next_line() {
                Ok(Some([])) => continue,
                Ok(Some(_)) => break self.lines.line(),
                Ok(None) => return Ok(None),
                Err(e) => {
                    let pos = Pos::Line(self.lines.line());
                    return Err(TraceError::new(&self.file, pos, e.message()));
                }
            }
        };
        let text = self.lines.current();
        let file = &self.file;
        let bad = |why: String| TraceError::new(file, Pos::Line(line), format!("bad row: {why}"));
        split_fields(text, b',', false, &mut self.fields).map_err(bad)?;
        if self.fields.len() != 7 {
            return Err(bad(format!(
                "expected 7 fields (timestamp,key,key size,value size,client id,operation,TTL), found {}",
                self.fields.len()
            )));
        }
        let f = |i: usize| {
            let (s, e) = self.fields[i];
            &text[s..e]
        };
        let time_us = time_field("timestamp", f(0), 1_000_000, "seconds").map_err(bad)?;
        let key = f(1);
        if key.is_empty() {
            return Err(bad("empty key".into()));
        }
        let key_len = bytes_field("key size", f(2)).map_err(bad)?;
        let size = bytes_field("value size", f(3)).map_err(bad)?;
        if f(4).is_empty() {
            return Err(bad("empty client id field".into()));
        }
        let op = parse_op(f(5)).ok_or_else(|| {
            bad(format!(
                "unknown operation `{}` (expected get, gets, set, add, replace, cas, append, prepend, delete, incr or decr)",
                show(f(5))
            ))
        })?;
        let ttl_ms = ttl_field("TTL", f(6), 1_000_000, "seconds").map_err(bad)?;
        Ok(Some(TraceRecord {
            time_us,
            op,
            key: KeyRef::Name(key),
            key_len,
            size,
            ttl_ms,
            fill: false,
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

    fn fixture() -> std::path::PathBuf {
        Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/traces/small.twitter.csv")
    }

    #[test]
    fn reads_the_fixture_with_memcached_semantics() {
        let f = std::io::BufReader::new(std::fs::File::open(fixture()).unwrap());
        let mut r = TwitterReader::new(f, "small.twitter.csv");
        let mut got = Vec::new();
        while let Some(x) = r.next_record().unwrap() {
            let KeyRef::Name(k) = x.key else {
                panic!("twitter keys are names")
            };
            got.push((
                x.time_us / 1_000_000,
                String::from_utf8(k.to_vec()).unwrap(),
                x.key_len,
                x.size,
                x.op,
                x.ttl_ms,
                x.fill,
            ));
        }
        assert_eq!(got.len(), 24);
        use TraceOp::*;
        let ops: Vec<TraceOp> = got.iter().map(|g| g.4).collect();
        assert_eq!(
            ops,
            vec![
                Get, Set, Get, Get, SetNx, SetXx, SetXx, Append, Append, Del, Get, Set, Incr, Decr,
                Get, Set, Get, Get, Set, Del, Get, SetNx, Get, Set
            ]
        );
        assert_eq!(
            got[1],
            (
                0,
                "nz:u:eeW511W3dcH3de3d15ec".into(),
                17,
                88,
                Set,
                3_600_000,
                false
            )
        );
        assert!(got.iter().all(|g| !g.6), "twitter gets never fill");
        assert_eq!(got[23].0, 9);
        assert_eq!(r.position(), Pos::Line(25));
    }

    fn first_error(body: &str) -> String {
        let mut r = TwitterReader::new(body.as_bytes(), "t.csv");
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
        let ok = "0,k,1,2,3,get,0\n";
        for (bad, want) in [
            ("0,k,1,2,3,get", "t.csv:2: bad row: expected 7 fields (timestamp,key,key size,value size,client id,operation,TTL), found 6"),
            ("0,k,1,2,3,get,0,9", "t.csv:2: bad row: expected 7 fields (timestamp,key,key size,value size,client id,operation,TTL), found 8"),
            ("0,k,,2,3,get,0", "t.csv:2: bad row: empty key size field"),
            ("0,k,1,2,3,get,", "t.csv:2: bad row: empty TTL field"),
            (",k,1,2,3,get,0", "t.csv:2: bad row: empty timestamp field"),
            ("0,k,1,-2,3,get,0", "t.csv:2: bad row: value size `-2` is not a byte count"),
            ("0,,1,2,3,get,0", "t.csv:2: bad row: empty key"),
            ("0,k,1,2,3,fetch,0", "t.csv:2: bad row: unknown operation `fetch` (expected get, gets, set, add, replace, cas, append, prepend, delete, incr or decr)"),
            ("x,k,1,2,3,get,0", "t.csv:2: bad row: timestamp `x` is not a time in seconds >= 0"),
            ("0,k,1,2,3,get,99999999999999", "t.csv:2: bad row: TTL 99999999999999 is out of range (at most about 100 years)"),
            ("0,k,1,2,3,get,4000000000", "t.csv:2: bad row: TTL 4000000000 is out of range (at most about 100 years)"),
            ("99999999999999999,k,1,2,3,get,0", "t.csv:2: bad row: timestamp 99999999999999999 is out of range"),
            ("1.5x,k,1,2,3,get,0", "t.csv:2: bad row: timestamp `1.5x` is not a time in seconds >= 0"),
        ] {
            assert_eq!(first_error(&format!("{ok}{bad}\n")), want, "{bad}");
        }
        assert_eq!(first_error(&format!("{ok}\n\n{ok}")), "no error");
        let long = format!("{ok}{}\n", "x".repeat(MAX_LINE + 1));
        assert_eq!(
            first_error(&long),
            "t.csv:2: line is longer than 65536 bytes (the limit for this format)"
        );
    }

    #[test]
    fn op_names_are_case_insensitive() {
        assert_eq!(parse_op(b"GETS"), Some(TraceOp::Get));
        assert_eq!(parse_op(b"Prepend"), Some(TraceOp::Append));
        assert_eq!(parse_op(b"del"), None);
    }
}
