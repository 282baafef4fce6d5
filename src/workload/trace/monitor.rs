//! The output of `redis-cli MONITOR`.
//!
//! ```text
//! OK
//! 1764620000.123456 [0 127.0.0.1:50012] "SET" "k" "v" "EX" "30"
//! 1764620000.200000 [0 lua] "INCR" "counter"
//! +1764620000.300000 [3 unix:/run/redis.sock] "GET" "k"
//! ```
//!
//! Redis 7.0 writes a line per command in `replicationFeedMonitors`
//! (`src/replication.c`): `%ld.%06ld` Unix time, then `[db source]` where
//! source is `lua` for a script's commands, `unix:PATH` for a Unix socket,
//! or the peer `ip:port` (`[::1]:6379` for IPv6), then every argument quoted
//! by `sdscatrepr` (`src/sds.c`): `\\` and `\"`, `\n` `\r` `\t` `\a` `\b`,
//! any other non-printable byte as `\xHH`. The reader undoes exactly those
//! escapes (hex digits in either case); any other escape is an error. A
//! leading `+` (the raw RESP status line) is accepted, and a first line `OK`
//! (MONITOR's reply) is skipped, as are empty lines.
//!
//! Each command becomes a [`TraceOp::Command`] record with the whole
//! command in `argv` (`argv[0]` its name, as sent), the time in µs since the
//! epoch, and `key` = `argv[1]` as a [`KeyRef::Name`] (empty when the
//! command has no argument) with its length as `key_len`.
//!
//! Replay semantics the reader applies, each skipped line counted in
//! [`skipped`](TraceSource::skipped):
//! - a command on a database other than 0 is skipped, counted as `db N`
//!   (the simulator models one database);
//! - `MULTI`, `EXEC`, `DISCARD` are skipped, counted by name: the queued
//!   commands appear as their own lines when EXEC runs them;
//! - `EVAL`, `EVALSHA`, `EVAL_RO`, `EVALSHA_RO`, `FCALL`, `FCALL_RO` are
//!   skipped, counted by name, and the script's `[0 lua]` lines are kept:
//!   they are the commands the script ran. (Redis 7 feeds monitors after a
//!   command runs, so a script's lines come just before its EVAL line.)
//!
//! A malformed line (bad timestamp, missing `[db source]`, unterminated
//! quote, bad escape) is an error naming its line and what is wrong. A line
//! may hold at most 16 MiB: MONITOR lines carry whole values, escaped up to
//! 4 bytes per byte, so Redis's 64 KiB inline-command limit would refuse
//! real traces; 16 MiB holds a 4 MiB binary value and still bounds memory.

use super::input::{parse_decimal_us, parse_u64, show, LineReader};
use super::record::{
    Format, KeyRef, Pos, SkipCounts, TraceError, TraceOp, TraceRecord, TraceSource,
};
use std::io::BufRead;

/// Longest line accepted.
pub const MAX_LINE: usize = 16 << 20;

/// Commands skipped because their effect appears as other lines.
const WRAPPERS: [&str; 9] = [
    "MULTI",
    "EXEC",
    "DISCARD",
    "EVAL",
    "EVALSHA",
    "EVAL_RO",
    "EVALSHA_RO",
    "FCALL",
    "FCALL_RO",
];

/// Streams a MONITOR capture.
pub struct MonitorReader<R> {
    lines: LineReader<R>,
    file: String,
    args: Vec<Vec<u8>>,
    argc: usize,
    skipped: SkipCounts,
    seen_line: bool,
    /// Reused for the `db N` skip reason, so skipping allocates nothing.
    reason: String,
}

impl<R: BufRead + Send> MonitorReader<R> {
    /// A reader over `input`; `file` names it in errors.
    pub fn new(input: R, file: &str) -> Self {
        MonitorReader {
            lines: LineReader::new(input, MAX_LINE),
            file: file.to_string(),
            args: Vec::new(),
            argc: 0,
            skipped: SkipCounts::default(),
            seen_line: false,
            reason: String::new(),
        }
    }
}

/// One parsed line's header.
pub(crate) struct Parsed {
    pub(crate) time_us: u64,
    pub(crate) db: u64,
    pub(crate) argc: usize,
    /// A hash of the `[db source]` source (`127.0.0.1:50012`, `lua`,
    /// `unix:/path`): which client sent the command.
    pub(crate) client: u64,
}

fn hex(c: u8) -> Option<u8> {
    match c {
        b'0'..=b'9' => Some(c - b'0'),
        b'a'..=b'f' => Some(c - b'a' + 10),
        b'A'..=b'F' => Some(c - b'A' + 10),
        _ => None,
    }
}

/// The latest MONITOR timestamp read: 253402300799.999999, the last
/// second of the year 9999 (the simulated clock starts at the first one).
pub const MAX_TIMESTAMP_US: u64 = 253_402_300_799_999_999;

/// Parses a MONITOR line (without `+`/terminator handling done by the
/// caller: a leading `+` is accepted here) into `args`, reusing its vectors.
pub(crate) fn parse_line(line: &[u8], args: &mut Vec<Vec<u8>>) -> Result<Parsed, String> {
    let s = line.strip_prefix(b"+").unwrap_or(line);
    let sp = memchr::memchr(b' ', s).unwrap_or(s.len());
    let ts = &s[..sp];
    if memchr::memchr(b'.', ts).is_none() {
        return Err(format!(
            "bad timestamp `{}`: expected Unix seconds.microseconds",
            show(ts)
        ));
    }
    let time_us = parse_decimal_us(ts, 1_000_000).ok_or_else(|| {
        format!(
            "bad timestamp `{}`: expected Unix seconds.microseconds",
            show(ts)
        )
    })?;
    if time_us > MAX_TIMESTAMP_US {
        return Err(format!("bad timestamp `{}`: after the year 9999", show(ts)));
    }
    let rest = s.get(sp + 1..).unwrap_or(&[]);
    let Some(rest) = rest.strip_prefix(b"[") else {
        return Err("missing `[db source]` after the timestamp".into());
    };
    let dsp = memchr::memchr(b' ', rest).ok_or("missing `[db source]` after the timestamp")?;
    let db = parse_u64(&rest[..dsp]).ok_or_else(|| {
        format!(
            "bad database number `{}` in `[db source]`",
            show(&rest[..dsp])
        )
    })?;
    let rest = &rest[dsp + 1..];
    let close = memchr::memmem::find(rest, b"] \"").ok_or_else(|| {
        if rest.ends_with(b"]") {
            "no command after `[db source]`".to_string()
        } else {
            "missing `] ` closing `[db source]` before the command".to_string()
        }
    })?;
    let client = crate::units::fnv1a(&rest[..close]);
    let mut p = close + 2;
    let mut argc = 0;
    loop {
        let n = argc + 1;
        if rest.get(p) != Some(&b'"') {
            return Err(format!("argument {n} does not start with `\"`"));
        }
        p += 1;
        if argc == args.len() {
            args.push(Vec::new());
        }
        let a = &mut args[argc];
        a.clear();
        loop {
            let Some(k) = memchr::memchr2(b'"', b'\\', &rest[p..]) else {
                return Err(format!("unterminated quote in argument {n}"));
            };
            a.extend_from_slice(&rest[p..p + k]);
            p += k;
            if rest[p] == b'"' {
                p += 1;
                break;
            }
            let c = rest.get(p + 1).copied();
            let (byte, len) = match c {
                Some(b'\\') => (b'\\', 2),
                Some(b'"') => (b'"', 2),
                Some(b'n') => (b'\n', 2),
                Some(b'r') => (b'\r', 2),
                Some(b't') => (b'\t', 2),
                Some(b'a') => (0x07, 2),
                Some(b'b') => (0x08, 2),
                Some(b'x') => {
                    let hi = rest.get(p + 2).copied().and_then(hex);
                    let lo = rest.get(p + 3).copied().and_then(hex);
                    match (hi, lo) {
                        (Some(h), Some(l)) => (h * 16 + l, 4),
                        _ => {
                            let end = (p + 4).min(rest.len());
                            return Err(format!(
                                "bad escape `{}` in argument {n} (expected \\xHH)",
                                show(&rest[p..end])
                            ));
                        }
                    }
                }
                None => return Err(format!("unterminated quote in argument {n}")),
                Some(c) => {
                    return Err(format!(
                        "bad escape `\\{}` in argument {n} (Redis writes only \\\\ \\\" \\n \\r \\t \\a \\b \\xHH)",
                        show(&[c])
                    ))
                }
            };
            a.push(byte);
            p += len;
        }
        argc += 1;
        match rest.get(p) {
            None => break,
            Some(b' ') => p += 1,
            Some(_) => return Err(format!("expected a space after argument {n}")),
        }
    }
    Ok(Parsed {
        time_us,
        db,
        argc,
        client,
    })
}

impl<R: BufRead + Send> TraceSource for MonitorReader<R> {
    fn format(&self) -> Format {
        Format::Monitor
    }

    fn file(&self) -> &str {
        &self.file
    }

    fn next_record(&mut self) -> Result<Option<TraceRecord<'_>>, TraceError> {
        loop {
            let line = match self.lines.next_line() {
                Ok(Some(l)) => l,
                Ok(None) => return Ok(None),
                Err(e) => {
                    let pos = Pos::Line(self.lines.line());
                    return Err(TraceError::new(&self.file, pos, e.message()));
                }
            };
            if line.is_empty() {
                continue;
            }
            let first = !self.seen_line;
            self.seen_line = true;
            if first && (line == b"OK" || line == b"+OK") {
                continue;
            }
            let parsed = parse_line(self.lines.current(), &mut self.args)
                .map_err(|m| TraceError::new(&self.file, Pos::Line(self.lines.line()), m))?;
            let name = &self.args[0];
            if parsed.db != 0 {
                use std::fmt::Write as _;
                self.reason.clear();
                let _ = write!(self.reason, "db {}", parsed.db);
                self.skipped.add(&self.reason);
                continue;
            }
            if let Some(w) = WRAPPERS
                .iter()
                .find(|w| w.as_bytes().eq_ignore_ascii_case(name))
            {
                self.skipped.add(w);
                continue;
            }
            self.argc = parsed.argc;
            let argv = &self.args[..self.argc];
            let key = argv.get(1).map_or(&[][..], |k| &k[..]);
            return Ok(Some(TraceRecord {
                time_us: parsed.time_us,
                op: TraceOp::Command,
                key: KeyRef::Name(key),
                key_len: u32::try_from(key.len()).unwrap_or(u32::MAX),
                size: 0,
                ttl_ms: 0,
                fill: false,
                next_access: None,
                argv,
                client: parsed.client,
                pos: Pos::Line(self.lines.line()),
            }));
        }
    }

    fn position(&self) -> Pos {
        Pos::Line(self.lines.line())
    }

    fn skipped(&self) -> Vec<(String, u64)> {
        self.skipped.to_vec()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::path::Path;

    fn open(name: &str) -> MonitorReader<std::io::BufReader<std::fs::File>> {
        let p = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("tests/data/traces")
            .join(name);
        MonitorReader::new(
            std::io::BufReader::new(std::fs::File::open(p).unwrap()),
            name,
        )
    }

    fn read_all<R: BufRead + Send>(r: &mut MonitorReader<R>) -> Vec<(u64, Vec<Vec<u8>>)> {
        let mut v = Vec::new();
        while let Some(x) = r.next_record().unwrap() {
            assert_eq!(x.op, TraceOp::Command);
            let want_key = x.argv.get(1).map_or(&[][..], |k| &k[..]);
            assert_eq!(x.key, KeyRef::Name(want_key));
            v.push((x.time_us, x.argv.to_vec()));
        }
        v
    }

    fn strs(argv: &[Vec<u8>]) -> Vec<String> {
        argv.iter()
            .map(|a| String::from_utf8_lossy(a).into_owned())
            .collect()
    }

    #[test]
    fn reads_the_fixture_with_replay_semantics() {
        let mut r = open("small.monitor");
        let got = read_all(&mut r);
        let cmds: Vec<Vec<String>> = got.iter().map(|(_, a)| strs(a)).collect();
        assert_eq!(got[0].0, 1_764_620_000_123_456);
        assert_eq!(cmds[0], ["SET", "k", "v", "EX", "30"]);
        assert_eq!(cmds[1], ["GET", "k"]);
        // The EVAL line is dropped, the script's own commands kept.
        assert_eq!(cmds[2], ["INCR", "counter"]);
        assert_eq!(cmds[3], ["EXPIRE", "counter", "60"]);
        // MULTI/EXEC dropped, the queued commands kept.
        assert_eq!(cmds[4], ["SET", "a", "1"]);
        assert_eq!(cmds[5], ["SET", "b", "2"]);
        assert_eq!(cmds[6], ["GET", "unix-socket"]);
        assert_eq!(cmds[7], ["GET", "ipv6"]);
        assert_eq!(
            got[8].1[2],
            b"line\nbreak\t\"quoted\" back\\slash \x07\x08\r\x00\xff\xAB"
        );
        assert_eq!(cmds[9], ["PING"]);
        assert_eq!(cmds[10], ["set", "lower", "x"]);
        assert_eq!(cmds.len(), 24);
        assert_eq!(cmds[23], ["DEL", "k"]);
        assert_eq!(
            r.skipped(),
            vec![
                ("EVAL".to_string(), 1),
                ("MULTI".to_string(), 2),
                ("EXEC".to_string(), 1),
                ("db 3".to_string(), 2),
                ("EVALSHA".to_string(), 1),
                ("DISCARD".to_string(), 1),
                ("FCALL".to_string(), 1),
            ]
        );
    }

    #[test]
    fn bad_escape_and_unterminated_quote_fixtures() {
        let mut r = open("bad_escape.monitor");
        read_all_until_error(&mut r, 2);
        let mut r = open("unterminated.monitor");
        read_all_until_error(&mut r, 1);
    }

    fn read_all_until_error<R: BufRead + Send>(r: &mut MonitorReader<R>, good: usize) {
        for _ in 0..good {
            r.next_record().unwrap().unwrap();
        }
        let e = r.next_record().unwrap_err().to_string();
        let want = if r.file() == "bad_escape.monitor" {
            "bad_escape.monitor:4: bad escape `\\q` in argument 3 (Redis writes only \\\\ \\\" \\n \\r \\t \\a \\b \\xHH)"
        } else {
            "unterminated.monitor:3: unterminated quote in argument 2"
        };
        assert_eq!(e, want);
    }

    fn first_error(body: &str) -> String {
        let mut r = MonitorReader::new(body.as_bytes(), "m.txt");
        loop {
            match r.next_record() {
                Ok(Some(_)) => {}
                Ok(None) => return "no error".into(),
                Err(e) => return e.to_string(),
            }
        }
    }

    #[test]
    fn malformed_lines_say_what_is_wrong() {
        let ok = "OK\n1.000001 [0 1.2.3.4:5] \"GET\" \"k\"\n";
        for (bad, want) in [
            (
                "abc [0 lua] \"GET\"",
                "m.txt:3: bad timestamp `abc`: expected Unix seconds.microseconds",
            ),
            (
                "17646 [0 lua] \"GET\"",
                "m.txt:3: bad timestamp `17646`: expected Unix seconds.microseconds",
            ),
            (
                "1.5 \"GET\" \"k\"",
                "m.txt:3: missing `[db source]` after the timestamp",
            ),
            (
                "1.5 [x lua] \"GET\"",
                "m.txt:3: bad database number `x` in `[db source]`",
            ),
            ("1.5 [0 lua]", "m.txt:3: no command after `[db source]`"),
            (
                "1.5 [0 lua \"GET\"",
                "m.txt:3: missing `] ` closing `[db source]` before the command",
            ),
            (
                "1.5 [0 lua] \"GET\" k",
                "m.txt:3: argument 2 does not start with `\"`",
            ),
            (
                "1.5 [0 lua] \"GET\"\"k\"",
                "m.txt:3: expected a space after argument 1",
            ),
            (
                "1.5 [0 lua] \"GET\" \"k\\",
                "m.txt:3: unterminated quote in argument 2",
            ),
            (
                "1.5 [0 lua] \"GET\" \"k\\x4g\"",
                "m.txt:3: bad escape `\\x4g` in argument 2 (expected \\xHH)",
            ),
            (
                "1.5 [0 lua] \"GET\" \"k\\x4",
                "m.txt:3: bad escape `\\x4` in argument 2 (expected \\xHH)",
            ),
            (
                "OK",
                "m.txt:3: bad timestamp `OK`: expected Unix seconds.microseconds",
            ),
            (
                "253402300800.000000 [0 lua] \"GET\" \"k\"",
                "m.txt:3: bad timestamp `253402300800.000000`: after the year 9999",
            ),
        ] {
            assert_eq!(first_error(&format!("{ok}{bad}\n")), want, "{bad}");
        }
        let long = format!(
            "{ok}1.5 [0 lua] \"SET\" \"k\" \"{}\"\n",
            "v".repeat(MAX_LINE)
        );
        assert_eq!(
            first_error(&long),
            "m.txt:3: line is longer than 16777216 bytes (the limit for this format)"
        );
    }

    #[test]
    fn argument_buffers_are_reused() {
        let body = "1.0 [0 lua] \"SET\" \"key\" \"value\"\n2.0 [0 lua] \"GET\" \"k\"\n";
        let mut r = MonitorReader::new(body.as_bytes(), "m");
        r.next_record().unwrap().unwrap();
        let ptr = r.args[1].as_ptr();
        let x = r.next_record().unwrap().unwrap();
        assert_eq!(strs(x.argv), ["GET", "k"]);
        assert_eq!(r.args[1].as_ptr(), ptr);
        assert_eq!(r.args.len(), 3);
    }
}
