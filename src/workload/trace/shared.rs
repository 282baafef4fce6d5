//! A binary trace decoded once into fixed-size records and shared, so a
//! sweep of N runs over one trace parses it once, not N times.
//!
//! [`DecodedTrace::decode`] reads an oracle-general, twr or twr-ns source
//! into 40-byte [`Rec`]s (within a memory budget; `None` past it, or for any
//! other format, or when the file has an error, so the caller streams the
//! file per run as before and reports the error the same way). Every run
//! then reads it through its own [`DecodedSource`], which returns what the
//! file's reader would have: the same records, positions and skip counts at
//! every point.

use std::sync::Arc;

use super::record::{Format, Pos, Rec, RecBatch, TraceError, TraceRecord, TraceSource, BATCH_LEN};

/// Where the records stop following one another at the format's record
/// length: the position of record `at` and the skip counts as of it.
#[derive(Clone, Debug)]
struct Mark {
    at: usize,
    offset: u64,
    record: u64,
    skipped: Vec<(String, u64)>,
}

/// A whole binary trace in memory, read once.
#[derive(Debug)]
pub struct DecodedTrace {
    file: String,
    format: Format,
    len: u64,
    recs: Vec<Rec>,
    marks: Vec<Mark>,
    end: Pos,
    end_skipped: Vec<(String, u64)>,
}

/// Bytes one record of `format` takes in its file, for the formats that can
/// be decoded.
fn record_len(format: Format) -> Option<u64> {
    match format {
        Format::OracleGeneral => Some(24),
        Format::Twr => Some(20),
        Format::TwrNs => Some(22),
        _ => None,
    }
}

/// Bytes of memory decoded traces may take: a quarter of the memory
/// available (`MemAvailable`), at most 8 GiB (1 GiB when it cannot be read).
pub fn memory_budget() -> u64 {
    let avail = std::fs::read_to_string("/proc/meminfo").ok().and_then(|m| {
        m.lines()
            .find(|l| l.starts_with("MemAvailable:"))
            .and_then(|l| l.split_whitespace().nth(1)?.parse::<u64>().ok())
            .map(|kib| kib * 1024)
    });
    avail.map_or(1 << 30, |a| (a / 4).min(8 << 30))
}

impl DecodedTrace {
    /// Reads `source` to its end into memory, keeping at most `max_bytes`
    /// of records. `None`: the format is not a binary one, the trace is
    /// larger, or reading it failed (stream it instead, which reports the
    /// failure where it occurs).
    pub fn decode(source: &mut dyn TraceSource, max_bytes: u64) -> Option<DecodedTrace> {
        let format = source.format();
        let len = record_len(format)?;
        let max = (max_bytes / std::mem::size_of::<Rec>() as u64) as usize;
        let mut recs = Vec::new();
        let mut marks: Vec<Mark> = Vec::new();
        let mut next_expected = (0u64, 1u64);
        loop {
            let r = match source.next_record() {
                Ok(Some(r)) => r,
                Ok(None) => break,
                Err(_) => return None,
            };
            if recs.len() >= max {
                return None;
            }
            let rec = Rec::of(&r)?;
            let Pos::Byte { offset, record } = r.pos else {
                return None;
            };
            let at = recs.len();
            recs.push(rec);
            if (offset, record) != next_expected {
                marks.push(Mark {
                    at,
                    offset,
                    record,
                    skipped: source.skipped(),
                });
            }
            next_expected = (offset + len, record + 1);
        }
        recs.shrink_to_fit();
        Some(DecodedTrace {
            file: source.file().to_string(),
            format,
            len,
            recs,
            marks,
            end: source.position(),
            end_skipped: source.skipped(),
        })
    }

    /// Requests held.
    pub fn len(&self) -> usize {
        self.recs.len()
    }

    /// True when the trace holds no request.
    pub fn is_empty(&self) -> bool {
        self.recs.is_empty()
    }

    /// Bytes the records take.
    pub fn bytes(&self) -> u64 {
        (self.recs.len() * std::mem::size_of::<Rec>()) as u64
    }
}

/// One run's cursor over a shared [`DecodedTrace`].
pub struct DecodedSource {
    trace: Arc<DecodedTrace>,
    /// Index of the next record.
    next: usize,
    /// Marks passed (the last one applies).
    marks: usize,
    last: Pos,
    done: bool,
}

impl DecodedSource {
    /// A cursor at the start of `trace`.
    pub fn new(trace: Arc<DecodedTrace>) -> Self {
        DecodedSource {
            trace,
            next: 0,
            marks: 0,
            last: Pos::Byte {
                offset: 0,
                record: 0,
            },
            done: false,
        }
    }
}

impl DecodedSource {
    /// The byte offset and record number of record `i`, at or after the
    /// last one placed (passes the marks up to it).
    #[inline]
    fn place(&mut self, i: usize) -> (u64, u64) {
        let t = &*self.trace;
        while t.marks.get(self.marks).is_some_and(|m| m.at <= i) {
            self.marks += 1;
        }
        match self.marks.checked_sub(1).map(|m| &t.marks[m]) {
            Some(m) => {
                let d = (i - m.at) as u64;
                (m.offset + d * t.len, m.record + d)
            }
            None => (i as u64 * t.len, i as u64 + 1),
        }
    }
}

impl TraceSource for DecodedSource {
    fn format(&self) -> Format {
        self.trace.format
    }

    fn file(&self) -> &str {
        &self.trace.file
    }

    #[inline]
    fn next_record(&mut self) -> Result<Option<TraceRecord<'_>>, TraceError> {
        let i = self.next;
        let Some(&r) = self.trace.recs.get(i) else {
            self.done = true;
            self.last = self.trace.end;
            return Ok(None);
        };
        self.next += 1;
        let (offset, record) = self.place(i);
        self.last = Pos::Byte { offset, record };
        Ok(Some(r.record(self.last)))
    }

    fn next_batch(&mut self, out: &mut RecBatch) -> Result<bool, TraceError> {
        let from = self.next;
        let room = BATCH_LEN.saturating_sub(out.len()).max(1);
        let mut to = (from + room).min(self.trace.recs.len());
        // A block ends before the next mark after its first record, so the
        // skips a mark stands for count when that record is taken.
        if from < to {
            self.place(from);
            if let Some(m) = self.trace.marks.get(self.marks) {
                to = to.min(m.at);
            }
        }
        if from == to {
            self.done = true;
            self.last = self.trace.end;
            return Ok(true);
        }
        out.recs.extend_from_slice(&self.trace.recs[from..to]);
        for i in from..to {
            let (offset, record) = self.place(i);
            out.pos.push((offset, record));
        }
        self.next = to;
        self.last = out.pos_of(out.len() - 1);
        Ok(true)
    }

    fn position(&self) -> Pos {
        self.last
    }

    fn skipped(&self) -> Vec<(String, u64)> {
        if self.done {
            return self.trace.end_skipped.clone();
        }
        match self.marks.checked_sub(1) {
            Some(m) => self.trace.marks[m].skipped.clone(),
            None => Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::workload::trace::{fixture, open};
    use std::path::{Path, PathBuf};

    /// Every record, position and skip count, as a reader returns them.
    fn dump(s: &mut dyn TraceSource) -> Vec<String> {
        let mut out = vec![format!("{:?} {:?}", s.position(), s.skipped())];
        while let Some(r) = s.next_record().unwrap() {
            out.push(format!("{r:?}"));
            out.push(format!("{:?} {:?}", s.position(), s.skipped()));
        }
        out.push(format!("end {:?} {:?}", s.position(), s.skipped()));
        out
    }

    /// Writes a twr file with nops and gets of size 0 (both skipped)
    /// between ordinary requests, including before the first and at the end.
    fn twr_with_skips(dir: &Path) -> PathBuf {
        let mut b = Vec::new();
        let rec = |b: &mut Vec<u8>, t: u32, id: u64, size: u32, op: u32, ttl: u32| {
            b.extend_from_slice(&t.to_le_bytes());
            b.extend_from_slice(&id.to_le_bytes());
            b.extend_from_slice(&((10 << 22) | size).to_le_bytes());
            b.extend_from_slice(&((op << 24) | ttl).to_le_bytes());
        };
        rec(&mut b, 5, 1, 10, 0, 0); // nop
        for i in 0..40u32 {
            rec(&mut b, 5 + i, u64::from(i % 7), 100 + i, 1 + i % 11, i % 3);
            if i % 9 == 4 {
                rec(&mut b, 5 + i, 3, 0, 1, 0); // get of size 0
                rec(&mut b, 5 + i, 3, 0, 0, 0); // nop
            }
        }
        rec(&mut b, 60, 1, 10, 0, 0); // trailing nop
        let p = dir.join("skips.twr");
        std::fs::write(&p, b).unwrap();
        p
    }

    #[test]
    fn shared_source_returns_what_the_file_reader_returns() {
        let dir = tempfile::tempdir().unwrap();
        let cloud = Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../shared/data/cloudPhysicsIO.oracleGeneral.bin");
        let files = vec![
            fixture("small.oracleGeneral.bin"),
            fixture("small.oracleGeneral.bin.zst"),
            fixture("small.twr"),
            fixture("small.twrNS"),
            twr_with_skips(dir.path()),
            cloud,
        ];
        for f in files {
            let mut file = open(&f, None, None).unwrap();
            let want = dump(&mut file);
            let decoded = DecodedTrace::decode(&mut *open(&f, None, None).unwrap(), 1 << 30)
                .unwrap_or_else(|| panic!("{} not decoded", f.display()));
            assert_eq!(decoded.len(), (want.len() - 2) / 2, "{}", f.display());
            let mut shared = DecodedSource::new(Arc::new(decoded));
            let got = dump(&mut shared);
            assert_eq!(got, want, "{}", f.display());
            assert_eq!(shared.format(), file.format());
        }
    }

    #[test]
    fn skips_show_where_the_reader_shows_them() {
        let dir = tempfile::tempdir().unwrap();
        let f = twr_with_skips(dir.path());
        let d = DecodedTrace::decode(&mut *open(&f, None, None).unwrap(), 1 << 30).unwrap();
        let mut s = DecodedSource::new(Arc::new(d));
        s.next_record().unwrap();
        assert_eq!(s.skipped(), vec![("op nop".to_string(), 1)]);
        while s.next_record().unwrap().is_some() {}
        let total: u64 = s.skipped().iter().map(|x| x.1).sum();
        assert_eq!(total, 1 + 2 * 4 + 1);
    }

    #[test]
    fn text_formats_truncated_files_and_traces_over_budget_are_not_decoded() {
        for (name, budget) in [
            ("small.ttlsim.csv", 1 << 30),
            ("small.monitor", 1 << 30),
            ("truncated.oracleGeneral.bin", 1 << 30),
            ("small.oracleGeneral.bin", 40 * 10),
        ] {
            let mut src = open(&fixture(name), None, None).unwrap();
            assert!(DecodedTrace::decode(&mut *src, budget).is_none(), "{name}");
        }
    }
}
