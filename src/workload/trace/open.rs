//! Opening a trace file: transparent decompression, format detection, and
//! [`Rebased`] time.
//!
//! [`open`] reads `.gz` and `.zst` files as streams, whatever their name,
//! by their magic bytes (`1f 8b`, `28 b5 2f fd`; concatenated gzip members
//! and zstd frames are read in turn). Without a format it detects one:
//! 1. a CSV spec was given: `csv`;
//! 2. the file name (less `.gz`/`.zst`), as libCacheSim's `detect_trace_type`
//!    does: `oracleGeneral` anywhere → oracle-general; `.twrNS.` or a
//!    `.twrNS` ending → twr-ns; `.twr.` or a `.twr` ending → twr;
//! 3. the first line: ttlsim's header → ttlsim; a MONITOR line (after an
//!    optional `OK`) → monitor; seven comma fields with numbers where the
//!    Twitter trace has them and a memcached op in field 6 → twitter.
//!
//! When nothing matches, the error names every format tried, why each was
//! refused, and says to pass `--trace-format`.

use super::csv::{CsvReader, CsvSpec};
use super::input::split_fields;
use super::monitor::{parse_line, MonitorReader};
use super::oracle_general::OracleGeneralReader;
use super::record::{Format, Pos, RecBatch, TraceError, TraceRecord, TraceSource};
use super::ttlsim::{TtlsimSource, HEADER};
use super::twitter::{parse_op, TwitterReader};
use super::twr::TwrReader;
use anyhow::{bail, Context, Result};
use std::fs::File;
use std::io::{self, BufRead, BufReader, Cursor, Read};
use std::path::Path;

/// The compression a file uses, told by its magic bytes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Compression {
    /// Plain bytes.
    None,
    /// gzip (`1f 8b`).
    Gzip,
    /// Zstandard (`28 b5 2f fd`).
    Zstd,
}

impl Compression {
    /// The compression whose magic `head` starts with.
    pub fn detect(head: &[u8]) -> Compression {
        if head.starts_with(&[0x1f, 0x8b]) {
            Compression::Gzip
        } else if head.starts_with(&[0x28, 0xb5, 0x2f, 0xfd]) {
            Compression::Zstd
        } else {
            Compression::None
        }
    }
}

/// Reads every zstd frame of a stream in turn (libzstd skips skippable
/// frames), naming zstd in its errors. libzstd decodes at about 1 GB/s
/// here, against 0.13 GB/s for the pure-Rust `ruzstd` used before, and
/// public traces come as `.zst`; its default window limit (128 MiB) bounds
/// the memory a frame may ask for.
struct ZstdFrames<R: BufRead>(zstd::stream::read::Decoder<'static, R>);

impl<R: BufRead> Read for ZstdFrames<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        self.0.read(buf).map_err(|e| {
            let hint = if e.to_string().contains("too much memory") {
                " (its window is larger than the 128 MiB ttlsim allows a frame: recompress it without --long, or with --long=27 or less)"
            } else {
                ""
            };
            io::Error::new(e.kind(), format!("zstd: {e}{hint}"))
        })
    }
}

/// The decompressed stream of `path`, and its compression.
pub fn open_stream(path: &Path) -> Result<(Box<dyn Read + Send>, Compression)> {
    let f = File::open(path).with_context(|| format!("cannot open trace `{}`", path.display()))?;
    let mut raw = BufReader::with_capacity(256 * 1024, f);
    let head = raw
        .fill_buf()
        .with_context(|| format!("cannot read trace `{}`", path.display()))?;
    let c = Compression::detect(head);
    let r: Box<dyn Read + Send> = match c {
        Compression::None => Box::new(raw),
        Compression::Gzip => Box::new(flate2::bufread::MultiGzDecoder::new(raw)),
        Compression::Zstd => Box::new(ZstdFrames(
            zstd::stream::read::Decoder::with_buffer(raw)
                .with_context(|| format!("cannot start reading `{}`", path.display()))?,
        )),
    };
    Ok((r, c))
}

/// The file name, lower-cased, less a compression suffix.
fn inner_name(path: &Path) -> String {
    let name = path
        .file_name()
        .map(|n| n.to_string_lossy().to_ascii_lowercase())
        .unwrap_or_default();
    for suffix in [".gz", ".zst", ".zstd"] {
        if let Some(n) = name.strip_suffix(suffix) {
            return n.to_string();
        }
    }
    name
}

/// The format the file name says, as libCacheSim reads names.
fn format_by_name(name: &str) -> Option<Format> {
    if name.contains("oraclegeneral") {
        Some(Format::OracleGeneral)
    } else if name.contains(".twrns.") || name.ends_with(".twrns") {
        Some(Format::TwrNs)
    } else if name.contains(".twr.") || name.ends_with(".twr") {
        Some(Format::Twr)
    } else {
        None
    }
}

/// Why `line` is not a Twitter trace line, or `None` when it is one.
fn not_twitter(line: &[u8]) -> Option<String> {
    let mut f = Vec::new();
    if split_fields(line, b',', false, &mut f).is_err() || f.len() != 7 {
        return Some(format!(
            "the first line has {} comma-separated fields, not 7",
            f.len()
        ));
    }
    let field = |i: usize| &line[f[i].0..f[i].1];
    let numeric = |s: &[u8]| !s.is_empty() && s.iter().all(|c| c.is_ascii_digit() || *c == b'.');
    for (i, name) in [
        (0, "timestamp"),
        (2, "key size"),
        (3, "value size"),
        (6, "TTL"),
    ] {
        if !numeric(field(i)) {
            return Some(format!("field {} ({name}) is not a number", i + 1));
        }
    }
    if parse_op(field(5)).is_none() {
        return Some(format!(
            "field 6 `{}` is not a memcached operation",
            super::input::show(field(5))
        ));
    }
    None
}

/// Detects the format from the name and the first bytes of the stream; the
/// error lists every format and why it was refused.
fn detect(name: &str, prefix: &[u8], shown: &str, c: Compression) -> Result<Format> {
    if let Some(f) = format_by_name(name) {
        return Ok(f);
    }
    let mut lines = prefix
        .split(|&b| b == b'\n')
        .map(|l| l.strip_suffix(b"\r").unwrap_or(l));
    let mut first = lines.next().unwrap_or(&[]);
    let binary = prefix.iter().take(4096).any(|&b| b == 0);
    if first == HEADER.as_bytes() {
        return Ok(Format::Ttlsim);
    }
    let mut monitor_line = first;
    if first == b"OK" || first == b"+OK" {
        monitor_line = lines.next().unwrap_or(&[]);
    }
    let monitor_err = match parse_line(monitor_line, &mut Vec::new()) {
        Ok(_) => return Ok(Format::Monitor),
        Err(e) => e,
    };
    let twitter_err = match not_twitter(first) {
        None => return Ok(Format::Twitter),
        Some(e) => e,
    };
    if binary {
        first = b"";
    }
    let what = if binary {
        "binary data".to_string()
    } else if prefix.is_empty() {
        "an empty file".to_string()
    } else {
        format!("`{}`", super::input::show(first))
    };
    let comp = match c {
        Compression::None => "",
        Compression::Gzip => " (gzip-compressed)",
        Compression::Zstd => " (zstd-compressed)",
    };
    let names: Vec<&str> = Format::ALL.iter().map(|f| f.name()).collect();
    bail!(
        "cannot tell the format of trace `{shown}`{comp}, which starts with {what}; tried:\n\
         \x20 ttlsim: the first line is not the header `{HEADER}`\n\
         \x20 monitor: the first line is not a MONITOR line ({monitor_err})\n\
         \x20 oracle-general: the file name does not contain `oracleGeneral`\n\
         \x20 twr-ns: the file name does not contain `.twrNS.` or end in `.twrNS`\n\
         \x20 twr: the file name does not contain `.twr.` or end in `.twr`\n\
         \x20 twitter: {twitter_err}\n\
         \x20 csv: needs a column spec (--columns)\n\
         pass --trace-format (one of: {})",
        names.join(", ")
    )
}

/// Opens a trace: decompresses `.gz`/`.zst` by magic, detects the format
/// when `format` is `None` (see the module docs), and returns its reader.
/// `csv_spec` is required for [`Format::Csv`] (and selects it when
/// `format` is `None`). Errors name the path as given.
pub fn open(
    path: &Path,
    format: Option<Format>,
    csv_spec: Option<&CsvSpec>,
) -> Result<Box<dyn TraceSource>> {
    let shown = path.display().to_string();
    let (mut stream, c) = open_stream(path)?;
    let format = match (format, csv_spec) {
        (Some(f), _) => f,
        (None, Some(_)) => Format::Csv,
        (None, None) => {
            let name = inner_name(path);
            let by_name = format_by_name(&name);
            if let Some(f) = by_name {
                f
            } else {
                let mut prefix = Vec::new();
                (&mut stream)
                    .take(64 * 1024)
                    .read_to_end(&mut prefix)
                    .with_context(|| format!("cannot read trace `{shown}`"))?;
                let f = detect(&name, &prefix, &shown, c)?;
                stream = Box::new(Cursor::new(prefix).chain(stream));
                f
            }
        }
    };
    let buffered = |s| BufReader::with_capacity(1 << 20, s);
    Ok(match format {
        Format::Ttlsim => Box::new(TtlsimSource::new(buffered(stream), &shown)?),
        Format::Monitor => Box::new(MonitorReader::new(buffered(stream), &shown)),
        Format::OracleGeneral => Box::new(OracleGeneralReader::new(stream, &shown)),
        Format::Twr => Box::new(TwrReader::new(stream, &shown, false)),
        Format::TwrNs => Box::new(TwrReader::new(stream, &shown, true)),
        Format::Twitter => Box::new(TwitterReader::new(buffered(stream), &shown)),
        Format::Csv => match csv_spec {
            Some(spec) => Box::new(CsvReader::new(buffered(stream), &shown, spec)),
            None => bail!(
                "trace `{shown}`: the csv format needs a column spec (--columns, e.g. `--columns time=1,key=2,size=3`)"
            ),
        },
    })
}

/// Largest backward step in time that is clamped rather than refused: 1 s,
/// enough for clocks of concurrent clients or hosts a little out of step
/// (MONITOR stamps each command when it is fed, not when it arrived).
pub const BACKWARD_TOLERANCE_US: u64 = 1_000_000;

/// Largest forward jump between consecutive records: a year (365 days).
/// Anything larger is a wrong time unit or a corrupt record, not a pause.
pub const MAX_GAP_US: u64 = 365 * 24 * 3600 * 1_000_000;

/// Longest a trace may span from its first record: the longest run
/// ([`MAX_DURATION`](crate::limits::MAX_DURATION), 36,500 days).
pub const MAX_SPAN_US: u64 = crate::limits::MAX_DURATION.0;

/// Re-bases a source's time to its first record (so absolute Unix
/// timestamps start at 0) and keeps it monotone: a step back of at most
/// [`BACKWARD_TOLERANCE_US`] is clamped to the previous record's time; a
/// larger one, a jump forward of more than [`MAX_GAP_US`], or a time more
/// than [`MAX_SPAN_US`] after the first record, is an error at the record's
/// position. Blocks of the inner source are re-based in place, and end
/// before a record to clamp or refuse (see [`TraceSource::next_batch`]).
pub struct Rebased<S> {
    inner: S,
    line: TimeLine,
    /// Records of the inner block not yet returned: from one that is
    /// clamped or refused on (see [`TraceSource::next_batch`]).
    held: RecBatch,
    /// Block reading only: the position of the last record returned (the
    /// inner reader may have read past it), or of the error.
    at: Option<Pos>,
}

/// [`Rebased`]'s view of time so far.
struct TimeLine {
    file: String,
    base: Option<u64>,
    last: u64,
    clamped: u64,
    relative_below: u64,
}

impl<S: TraceSource> Rebased<S> {
    /// Wraps `inner`.
    pub fn new(inner: S) -> Self {
        Rebased {
            line: TimeLine {
                file: inner.file().to_string(),
                base: None,
                last: 0,
                clamped: 0,
                relative_below: 0,
            },
            inner,
            held: RecBatch::default(),
            at: None,
        }
    }

    /// Keeps the times as they are when the first record's time is below
    /// `us`: for a format whose times count from the start of the run
    /// (ttlsim's own, as `ttlsim record` writes it), where a first request
    /// at 3 ms must stay at 3 ms; a larger first time is an absolute
    /// timestamp and is re-based as usual.
    pub fn relative_below(mut self, us: u64) -> Self {
        self.line.relative_below = us;
        self
    }

    /// The first record's original time, once one was read.
    pub fn base_us(&self) -> Option<u64> {
        self.line.base
    }

    /// The wrapped source.
    pub fn into_inner(self) -> S {
        self.inner
    }
}

impl TimeLine {
    /// `time_us` re-based, when that needs no clamp or error and it is not
    /// the first record: the common case, decided in one step.
    #[inline]
    fn rebase_plain(&mut self, time_us: u64) -> Option<u64> {
        let rel = self.base.and_then(|b| time_us.checked_sub(b))?;
        let plain = rel >= self.last && rel - self.last <= MAX_GAP_US && rel <= MAX_SPAN_US;
        plain.then(|| {
            self.last = rel;
            rel
        })
    }

    /// A record's time `time_us` re-based and kept monotone; an error at
    /// `pos` for a step back or a jump too large.
    #[inline]
    fn rebase(&mut self, time_us: u64, pos: impl FnOnce() -> Pos) -> Result<u64, TraceError> {
        // The common case: on or after the last time, by less than the gap.
        if let Some(t) = self.rebase_plain(time_us) {
            return Ok(t);
        }
        let first = if time_us < self.relative_below {
            0
        } else {
            time_us
        };
        let base = *self.base.get_or_insert(first);
        let rel = i128::from(time_us) - i128::from(base);
        let last = i128::from(self.last);
        let t = if rel < last {
            let back = u64::try_from(last - rel).unwrap_or(u64::MAX);
            if back > BACKWARD_TOLERANCE_US {
                return Err(TraceError::new(
                    &self.file,
                    pos(),
                    format!(
                        "time goes back {} (from {} to {} after the first record); at most {} is tolerated",
                        secs(back as i128),
                        secs(last),
                        secs(rel),
                        secs(BACKWARD_TOLERANCE_US as i128)
                    ),
                ));
            }
            self.clamped += 1;
            self.last
        } else {
            let gap = u64::try_from(rel - last).unwrap_or(u64::MAX);
            if gap > MAX_GAP_US {
                return Err(TraceError::new(
                    &self.file,
                    pos(),
                    format!(
                        "time jumps forward {} (from {} to {} after the first record), more than a year: a wrong time unit?",
                        secs(gap as i128),
                        secs(last),
                        secs(rel)
                    ),
                ));
            }
            if rel > i128::from(MAX_SPAN_US) {
                return Err(TraceError::new(
                    &self.file,
                    pos(),
                    format!(
                        "the trace spans more than {} days (this record is {} after the first): a wrong time unit?",
                        MAX_SPAN_US / 86_400_000_000,
                        secs(rel)
                    ),
                ));
            }
            u64::try_from(rel).unwrap_or(u64::MAX)
        };
        self.last = t;
        Ok(t)
    }
}

/// `us` as seconds with six decimals, signed.
fn secs(us: i128) -> String {
    let sign = if us < 0 { "-" } else { "" };
    let a = us.unsigned_abs();
    format!("{sign}{}.{:06} s", a / 1_000_000, a % 1_000_000)
}

impl<S: TraceSource> TraceSource for Rebased<S> {
    fn format(&self) -> Format {
        self.inner.format()
    }

    fn file(&self) -> &str {
        self.inner.file()
    }

    fn next_record(&mut self) -> Result<Option<TraceRecord<'_>>, TraceError> {
        self.at = None;
        let mut r = match self.inner.next_record()? {
            Some(r) => r,
            None => return Ok(None),
        };
        let pos = r.pos;
        r.time_us = self.line.rebase(r.time_us, || pos)?;
        Ok(Some(r))
    }

    fn clamped(&self) -> u64 {
        self.line.clamped
    }

    fn next_batch(&mut self, out: &mut RecBatch) -> Result<bool, TraceError> {
        let from = out.len();
        self.at = None;
        if self.held.is_empty() {
            if !self.inner.next_batch(out)? {
                return Ok(false);
            }
        } else {
            self.held.move_tail(0, out);
        }
        for i in from..out.len() {
            let time = out.recs[i].time_us;
            if let Some(t) = self.line.rebase_plain(time) {
                out.recs[i].time_us = t;
                continue;
            }
            if i > from {
                // A record to clamp or refuse starts the next block: it is
                // counted, or refused, once the records before it were
                // taken, as reading record by record would.
                out.move_tail(i, &mut self.held);
                break;
            }
            let pos = out.pos_of(i);
            match self.line.rebase(time, || pos) {
                Ok(t) => out.recs[i].time_us = t,
                Err(e) => {
                    out.truncate(from);
                    self.at = Some(e.pos);
                    return Err(e);
                }
            }
        }
        self.at = (out.len() > from).then(|| out.pos_of(out.len() - 1));
        Ok(true)
    }

    fn position(&self) -> Pos {
        self.at.unwrap_or_else(|| self.inner.position())
    }

    fn skipped(&self) -> Vec<(String, u64)> {
        self.inner.skipped()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::trace::piped::Piped;
    use crate::workload::trace::{
        fixture, DecodedSource, DecodedTrace, KeyRef, OracleGeneralRequest, Rec, TraceOp,
    };

    /// Every record of a source, owned, for comparisons.
    fn dump(s: &mut dyn TraceSource) -> Vec<String> {
        let mut v = Vec::new();
        while let Some(r) = s.next_record().unwrap() {
            let key = match r.key {
                KeyRef::Id(i) => format!("#{i}"),
                KeyRef::Name(n) => String::from_utf8_lossy(n).into_owned(),
            };
            v.push(format!(
                "{} {:?} {key} {} {} {} {} {:?} {:?}",
                r.time_us, r.op, r.key_len, r.size, r.ttl_ms, r.fill, r.next_access, r.argv
            ));
        }
        v
    }

    #[test]
    fn detects_each_format() {
        let spec = CsvSpec::parse("key=1,size=2,delim=space").unwrap();
        for (name, want, spec) in [
            ("small.ttlsim.csv", Format::Ttlsim, None),
            ("small.monitor", Format::Monitor, None),
            ("unterminated.monitor", Format::Monitor, None),
            ("small.oracleGeneral.bin", Format::OracleGeneral, None),
            ("small.twr", Format::Twr, None),
            ("small.twrNS", Format::TwrNs, None),
            ("small.twitter.csv", Format::Twitter, None),
            ("small_keys.csv", Format::Csv, Some(&spec)),
            ("small.monitor.gz", Format::Monitor, None),
            ("small.oracleGeneral.bin.zst", Format::OracleGeneral, None),
        ] {
            let mut s = open(&fixture(name), None, spec).unwrap();
            assert_eq!(s.format(), want, "{name}");
            assert!(s.next_record().unwrap().is_some(), "{name}");
        }
    }

    #[test]
    fn compressed_copies_read_identically() {
        for (plain, copies) in [
            ("small.monitor", ["small.monitor.gz", "small.monitor.zst"]),
            (
                "small.oracleGeneral.bin",
                ["small.oracleGeneral.bin.gz", "small.oracleGeneral.bin.zst"],
            ),
        ] {
            let mut p = open(&fixture(plain), None, None).unwrap();
            let want = dump(&mut *p);
            assert!(want.len() >= 24);
            for c in copies {
                let mut s = open(&fixture(c), None, None).unwrap();
                assert_eq!(dump(&mut *s), want, "{c}");
                assert_eq!(s.skipped(), p.skipped(), "{c}");
            }
        }
        let (_, c) = open_stream(&fixture("small.monitor.zst")).unwrap();
        assert_eq!(c, Compression::Zstd);
        let (_, c) = open_stream(&fixture("small.monitor.gz")).unwrap();
        assert_eq!(c, Compression::Gzip);
    }

    #[test]
    fn concatenated_zstd_frames_and_gzip_members_are_read_in_turn() {
        let dir = tempfile::tempdir().unwrap();
        let single = dump(&mut *open(&fixture("small.oracleGeneral.bin"), None, None).unwrap());
        for ext in ["zst", "gz"] {
            let one = std::fs::read(fixture(&format!("small.oracleGeneral.bin.{ext}"))).unwrap();
            let p = dir.path().join(format!("twice.oracleGeneral.bin.{ext}"));
            std::fs::write(&p, [&one[..], &one[..]].concat()).unwrap();
            let double = dump(&mut *open(&p, None, None).unwrap());
            assert_eq!(double.len(), 2 * single.len(), "{ext}");
            assert_eq!(double[single.len()..], single[..], "{ext}");
        }
    }

    #[test]
    fn a_random_file_is_refused_with_every_reason() {
        let e = open(&fixture("random.bin"), None, None)
            .err()
            .unwrap()
            .to_string();
        let shown = fixture("random.bin").display().to_string();
        assert_eq!(
            e,
            format!(
                "cannot tell the format of trace `{shown}`, which starts with binary data; tried:\n  \
                 ttlsim: the first line is not the header `time_ms,op,key,size,ttl_ms`\n  \
                 monitor: the first line is not a MONITOR line (bad timestamp `{}`: expected Unix seconds.microseconds)\n  \
                 oracle-general: the file name does not contain `oracleGeneral`\n  \
                 twr-ns: the file name does not contain `.twrNS.` or end in `.twrNS`\n  \
                 twr: the file name does not contain `.twr.` or end in `.twr`\n  \
                 twitter: the first line has 1 comma-separated fields, not 7\n  \
                 csv: needs a column spec (--columns)\n\
                 pass --trace-format (one of: ttlsim, monitor, oracle-general, twr-ns, twr, twitter, csv)",
                random_first_word()
            )
        );
        // A text file that is almost a Twitter trace says which field is off.
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("x.csv");
        std::fs::write(&p, "0,k,1,2,3,fetch,0\n").unwrap();
        let e = open(&p, None, None).err().unwrap().to_string();
        assert!(
            e.contains("which starts with `0,k,1,2,3,fetch,0`; tried:"),
            "{e}"
        );
        assert!(
            e.contains("  twitter: field 6 `fetch` is not a memcached operation\n"),
            "{e}"
        );
        // The csv format without a spec.
        let e = open(&p, Some(Format::Csv), None).err().unwrap().to_string();
        assert!(
            e.ends_with(
                "the csv format needs a column spec (--columns, e.g. `--columns time=1,key=2,size=3`)"
            ),
            "{e}"
        );
    }

    /// What the monitor check quotes of random.bin: its bytes up to the first space.
    fn random_first_word() -> String {
        let d = std::fs::read(fixture("random.bin")).unwrap();
        let first_line = d.split(|&b| b == b'\n').next().unwrap();
        let first_line = first_line.strip_suffix(b"\r").unwrap_or(first_line);
        let w = first_line.split(|&b| b == b' ').next().unwrap();
        super::super::input::show(w)
    }

    #[test]
    fn an_explicit_format_wins_over_the_name() {
        // small.twr read as oracle-general: 240 bytes = 10 records of 24.
        let mut s = open(&fixture("small.twr"), Some(Format::OracleGeneral), None).unwrap();
        assert_eq!(s.format(), Format::OracleGeneral);
        let n = dump(&mut *s).len() as u64 + s.skipped().iter().map(|x| x.1).sum::<u64>();
        assert_eq!(n, 10);
    }

    /// A source over fixed times, for Rebased.
    struct Times(Vec<u64>, usize);
    impl TraceSource for Times {
        fn format(&self) -> Format {
            Format::Csv
        }
        fn file(&self) -> &str {
            "times.csv"
        }
        fn next_record(&mut self) -> Result<Option<TraceRecord<'_>>, TraceError> {
            let Some(&t) = self.0.get(self.1) else {
                return Ok(None);
            };
            self.1 += 1;
            Ok(Some(TraceRecord {
                time_us: t,
                op: TraceOp::Get,
                key: KeyRef::Id(1),
                key_len: 0,
                size: 0,
                ttl_ms: 0,
                fill: false,
                next_access: None,
                argv: &[],
                client: 0,
                pos: Pos::Line(self.1 as u64),
            }))
        }
        fn position(&self) -> Pos {
            Pos::Line(self.1 as u64)
        }
    }

    fn rebase(times: &[u64]) -> Result<Vec<u64>, String> {
        let mut r = Rebased::new(Times(times.to_vec(), 0));
        let mut v = Vec::new();
        while let Some(x) = r.next_record().map_err(|e| e.to_string())? {
            v.push(x.time_us);
        }
        Ok(v)
    }

    #[test]
    fn rebased_starts_at_zero_and_clamps_small_steps_back() {
        let t0 = 1_764_620_000_000_000;
        assert_eq!(
            rebase(&[
                t0,
                t0 + 5,
                t0 + 2_000_000,
                t0 + 1_500_000,
                t0 + 1_000_000,
                t0 + 3_000_000
            ]),
            Ok(vec![0, 5, 2_000_000, 2_000_000, 2_000_000, 3_000_000])
        );
        // Just below the first record, within the tolerance.
        assert_eq!(rebase(&[t0, t0 - 400_000, t0 + 1]), Ok(vec![0, 0, 1]));
        let mut r = Rebased::new(Times(vec![t0, t0 - 1, t0 + 7], 0));
        while r.next_record().unwrap().is_some() {}
        assert_eq!((r.base_us(), r.clamped()), (Some(t0), 1));
    }

    #[test]
    fn rebased_refuses_time_going_back_or_a_year_jump() {
        let t0 = 1_764_620_000_000_000;
        assert_eq!(
            rebase(&[t0, t0 + 5_000_000, t0 + 3_999_999]).unwrap_err(),
            "times.csv:3: time goes back 1.000001 s (from 5.000000 s to 3.999999 s after the first record); at most 1.000000 s is tolerated"
        );
        assert_eq!(
            rebase(&[t0, t0 - 2_000_000]).unwrap_err(),
            "times.csv:2: time goes back 2.000000 s (from 0.000000 s to -2.000000 s after the first record); at most 1.000000 s is tolerated"
        );
        let year = 365 * 24 * 3600 * 1_000_000u64;
        assert_eq!(rebase(&[0, 10, 10 + year]), Ok(vec![0, 10, 10 + year]));
        assert_eq!(
            rebase(&[0, 10, 11 + year]).unwrap_err(),
            "times.csv:3: time jumps forward 31536000.000001 s (from 0.000010 s to 31536000.000011 s after the first record), more than a year: a wrong time unit?"
        );
        // Yearly steps up to 36,500 days, and one microsecond more.
        let mut times: Vec<u64> = (0..100).map(|y| y * year).collect();
        times.push(MAX_SPAN_US);
        assert_eq!(rebase(&times), Ok(times.clone()));
        times.push(MAX_SPAN_US + 1);
        assert_eq!(
            rebase(&times).unwrap_err(),
            "times.csv:102: the trace spans more than 36500 days (this record is 3153600000.000001 s after the first): a wrong time unit?"
        );
    }

    #[test]
    fn rebased_errors_name_real_positions() {
        // A twitter trace whose third line jumps back 2 s.
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("back.csv");
        std::fs::write(&p, "10,a,1,1,1,get,0\n12,a,1,1,1,get,0\n10,a,1,1,1,get,0\n").unwrap();
        let mut r = Rebased::new(open(&p, Some(Format::Twitter), None).unwrap());
        r.next_record().unwrap();
        r.next_record().unwrap();
        assert_eq!(
            r.next_record().unwrap_err().to_string(),
            format!("{}:3: time goes back 2.000000 s (from 2.000000 s to 0.000000 s after the first record); at most 1.000000 s is tolerated", p.display())
        );
        // The bundled binary trace, rebased: starts at 0, spans 2 hours.
        let mut r = Rebased::new(
            open(
                &Path::new(env!("CARGO_MANIFEST_DIR"))
                    .join("../shared/data/cloudPhysicsIO.oracleGeneral.bin"),
                None,
                None,
            )
            .unwrap(),
        );
        let mut last = None;
        let mut first = None;
        while let Some(x) = r.next_record().unwrap() {
            first.get_or_insert(x.time_us);
            last = Some(x.time_us);
        }
        assert_eq!((first, last), (Some(0), Some(7_200_000_000)));
        assert!(matches!(
            r.position(),
            Pos::Byte {
                offset: 2_732_928,
                ..
            }
        ));
    }

    /// Every record of `s` read one by one, as compact records with their
    /// positions and the skip and clamp counts after each, then how it
    /// ended and the position and counts after it.
    fn by_record<S: TraceSource + ?Sized>(s: &mut S) -> Vec<String> {
        let mut out = Vec::new();
        loop {
            let line = match s.next_record() {
                Ok(Some(r)) => format!("{:?} {:?}", Rec::of(&r), r.pos),
                Ok(None) => "end".into(),
                Err(e) => e.to_string(),
            };
            let done = !line.starts_with("Some");
            out.push(format!("{line} | {:?} {}", s.skipped(), s.clamped()));
            if done {
                break;
            }
        }
        out.push(format!("{:?}", s.position()));
        out
    }

    /// The same through [`TraceSource::next_batch`], with the counts after
    /// each block's last record only.
    fn by_batch<S: TraceSource + ?Sized>(s: &mut S) -> Vec<String> {
        let mut out = Vec::new();
        let mut b = RecBatch::default();
        loop {
            b.clear();
            let end = match s.next_batch(&mut b) {
                Ok(true) if b.is_empty() => Some("end".to_string()),
                Ok(true) => {
                    assert!(b.len() <= crate::workload::trace::BATCH_LEN);
                    for i in 0..b.len() {
                        out.push(format!("{:?} {:?}", Some(b.recs[i]), b.pos_of(i)));
                    }
                    None
                }
                Ok(false) => panic!("{}: no compact form", s.file()),
                Err(e) => Some(e.to_string()),
            };
            let counts = format!(" | {:?} {}", s.skipped(), s.clamped());
            match end {
                Some(e) => {
                    out.push(e + &counts);
                    break;
                }
                None => *out.last_mut().unwrap() += &counts,
            }
        }
        out.push(format!("{:?}", s.position()));
        out
    }

    /// Asserts that block reading (`got`) says what record reading
    /// (`want`) says, counts compared where a block ended; shows the first
    /// difference only.
    fn same(got: &[String], want: &[String], what: &str) {
        let agrees = |g: &String, w: &String| {
            g == w || (!g.contains(" | ") && w.split(" | ").next() == Some(g.as_str()))
        };
        let at = got.iter().zip(want).position(|(g, w)| !agrees(g, w));
        assert!(
            at.is_none() && got.len() == want.len(),
            "{what}: {} against {} lines, first difference at {at:?}: {:?} / {:?}",
            got.len(),
            want.len(),
            at.map(|i| &got[i]),
            at.map(|i| &want[i])
        );
    }

    #[test]
    fn batches_hold_what_records_hold_up_to_the_same_error() {
        let dir = tempfile::tempdir().unwrap();
        // 10,000 records (several batches), sizes 0 skipped here and
        // there, two records 1 s back (clamped), and the time going back
        // 94 s at record 9,000 (refused).
        let mut reqs = Vec::new();
        for i in 0..10_000u32 {
            let time_s = match i {
                9_000 => 100,
                // One second back: clamped.
                6_001 | 6_002 => 100 + i / 100 + 4,
                _ => 100 + i / 100 + 5,
            };
            reqs.push(OracleGeneralRequest {
                time_s,
                obj_id: u64::from(i % 777),
                obj_size: if i % 1_000 == 7 { 0 } else { 100 + i },
            });
        }
        let back = dir.path().join("back.oracleGeneral.bin");
        let mut f = std::fs::File::create(&back).unwrap();
        crate::workload::trace::write_oracle_general(&mut f, &reqs).unwrap();
        drop(f);
        // A twr trace of 9,000 records with nops, and an unknown op at
        // record 6,000.
        let mut twr = Vec::new();
        for i in 0..9_000u32 {
            let op = match i {
                6_000 => 99,
                _ if i % 700 == 3 => 0,
                _ => 1 + (i % 11) as u8,
            };
            twr.extend(crate::workload::trace::twr::encode_twr(
                i / 10,
                u64::from(i % 555),
                10,
                50 + i,
                op,
                i % 3,
                None,
            ));
        }
        let bad_op = dir.path().join("bad_op.twr");
        std::fs::write(&bad_op, twr).unwrap();
        let cloud = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/data/cloudPhysicsIO.oracleGeneral.bin");
        for f in [
            fixture("small.twr"),
            fixture("small.twrNS"),
            fixture("truncated.twr"),
            fixture("truncated.twrNS"),
            bad_op.clone(),
            fixture("small.oracleGeneral.bin"),
            fixture("small.oracleGeneral.bin.zst"),
            fixture("truncated.oracleGeneral.bin"),
            fixture("truncated.oracleGeneral.bin.gz"),
            back.clone(),
            cloud.clone(),
        ] {
            let want = by_record(&mut Rebased::new(open(&f, None, None).unwrap()));
            let got = by_batch(&mut Rebased::new(open(&f, None, None).unwrap()));
            same(&got, &want, &f.display().to_string());
            // Re-based and decoded on a helper thread, as a single run
            // reads it: the clamp counts cross the thread with the blocks.
            let rebased = Box::new(Rebased::new(open(&f, None, None).unwrap()));
            let got = by_batch(&mut Piped::new(rebased));
            same(&got, &want, &format!("{} piped", f.display()));
            // A shared decoding, where the file decodes.
            if let Some(d) = DecodedTrace::decode(&mut *open(&f, None, None).unwrap(), 1 << 30) {
                let mut shared = Rebased::new(DecodedSource::new(std::sync::Arc::new(d)));
                same(
                    &by_batch(&mut shared),
                    &want,
                    &format!("{} shared", f.display()),
                );
            }
        }
        let errs = by_record(&mut Rebased::new(open(&back, None, None).unwrap()));
        assert!(errs[errs.len() - 2].contains("time goes back"));
        assert!(
            errs[errs.len() - 2].ends_with(r#"| [("size 0", 9)] 2"#),
            "{}",
            errs[errs.len() - 2]
        );
        assert_eq!(errs.len(), 9_000 - 9 + 2);
        let errs = by_record(&mut Rebased::new(open(&bad_op, None, None).unwrap()));
        assert!(errs[errs.len() - 2].contains("unknown op 99"));
        // Text formats have no compact form; piped, the helper hands the
        // reader back unread and it is read record by record.
        for name in ["small.ttlsim.csv", "small.monitor.gz"] {
            let f = fixture(name);
            let mut b = RecBatch::default();
            let mut t = Rebased::new(open(&f, None, None).unwrap());
            assert!(!t.next_batch(&mut b).unwrap() && b.is_empty());
            let want = by_record(&mut Rebased::new(open(&f, None, None).unwrap()));
            let mut p = Piped::new(Box::new(Rebased::new(open(&f, None, None).unwrap())));
            assert!(!p.next_batch(&mut b).unwrap() && b.is_empty());
            assert_eq!(by_record(&mut p), want, "{name} piped");
        }
        // A replay that stops early drops its source while the helper is
        // blocked ahead of it: the helper ends, nothing hangs.
        let mut p = Piped::new(open(&cloud, None, None).unwrap());
        assert!(p.next_batch(&mut RecBatch::default()).unwrap());
        drop(p);
    }

    #[test]
    fn a_zstd_frame_with_a_window_over_128_mib_is_refused_with_the_reason() {
        let dir = tempfile::tempdir().unwrap();
        let f = dir.path().join("long.oracleGeneral.bin.zst");
        let mut enc = zstd::stream::Encoder::new(std::fs::File::create(&f).unwrap(), 3).unwrap();
        enc.window_log(28).unwrap();
        enc.long_distance_matching(true).unwrap();
        enc.include_contentsize(false).unwrap();
        let reqs = [OracleGeneralRequest {
            time_s: 1,
            obj_id: 7,
            obj_size: 100,
        }];
        crate::workload::trace::write_oracle_general(&mut enc, &reqs).unwrap();
        enc.finish().unwrap();
        let err = match open(&f, None, None) {
            Ok(mut s) => s.next_record().map(|_| ()).unwrap_err().to_string(),
            Err(e) => format!("{e:#}"),
        };
        assert!(
            err.contains("too much memory") && err.contains("larger than the 128 MiB"),
            "{err}"
        );
    }

    #[test]
    fn a_truncated_compressed_stream_is_an_error_not_a_short_trace() {
        for ext in ["gz", "zst"] {
            let name = format!("truncated.oracleGeneral.bin.{ext}");
            let mut s = open(&fixture(&name), None, None).unwrap();
            let mut n = 0;
            let e = loop {
                match s.next_record() {
                    Ok(Some(_)) => n += 1,
                    Ok(None) => panic!("{name}: read {n} records and a clean end"),
                    Err(e) => break e,
                }
            };
            assert!(n < 30, "{name}");
            // The decoder's own words follow; the position is the record
            // being read when the stream broke.
            assert!(e.message.starts_with("cannot read: "), "{name}: {e}");
            assert!(
                matches!(e.pos, Pos::Byte { offset, .. } if offset == 24 * n),
                "{name}: {e}"
            );
        }
    }
}
